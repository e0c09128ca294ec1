//! The error a server function returns to the page: a stable code (the page words it per
//! language with `Texts::error`) and a developer-facing English message.
use leptos::prelude::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::codec::JsonEncoding;
pub use payments::error::ErrorCode;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The request never got a proper answer (network down, server unreachable).
    pub fn is_network(&self) -> bool {
        self.code == ErrorCode::Network
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    /// In the browser every such error is the request failing on its way. On the server it is
    /// the request itself: arguments that do not decode are the caller's mistake.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        #[cfg(feature = "ssr")]
        if let ServerFnErrorErr::Args(detail)
        | ServerFnErrorErr::MissingArg(detail)
        | ServerFnErrorErr::Deserialization(detail) = &value
        {
            return ApiError::new(
                ErrorCode::ParameterInvalid,
                format!("bad arguments: {detail}"),
            );
        }
        ApiError::new(ErrorCode::Network, value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl ApiError {
    /// The HTTP status of a server function's error answer (server_fn itself sends 500 for
    /// every error; the page's client reads any 4xx or 5xx as the error it carries).
    pub fn status(&self) -> http::StatusCode {
        http::StatusCode::from_u16(self.code.http_status())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
    }
}

#[cfg(feature = "ssr")]
impl From<payments::error::PaymentError> for ApiError {
    fn from(e: payments::error::PaymentError) -> Self {
        if e.code().is_retryable() {
            tracing::error!("server function: {e:?}");
        }
        ApiError::new(e.code(), e.to_string())
    }
}
