//! The error a server function returns to the page: the kind decides how the page reacts, the
//! message is written for the shopper.
use leptos::prelude::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::codec::JsonEncoding;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// The server answered but cannot serve now (storage or provider down).
    #[error("{0}")]
    Unavailable(String),
    /// The request never got a proper answer (network down, server unreachable).
    #[error("网络连接失败,请检查网络后重试")]
    Network(String),
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
            return ApiError::BadRequest(format!("请求参数不正确:{detail}"));
        }
        ApiError::Network(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl ApiError {
    /// The HTTP status of a server function's error answer (server_fn itself sends 500 for
    /// every error; the page's client reads any 4xx or 5xx as the error it carries).
    pub fn status(&self) -> http::StatusCode {
        match self {
            ApiError::NotFound(_) => http::StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => http::StatusCode::BAD_REQUEST,
            ApiError::Unavailable(_) => http::StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Network(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<payments::service::PaymentError> for ApiError {
    fn from(e: payments::service::PaymentError) -> Self {
        use payments::service::ErrorKind;
        match e.kind() {
            ErrorKind::NotFound => ApiError::NotFound(e.to_string()),
            ErrorKind::BadRequest => ApiError::BadRequest(e.to_string()),
            ErrorKind::Unavailable => {
                tracing::error!("server function: {e:?}");
                ApiError::Unavailable(e.to_string())
            }
        }
    }
}
