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

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        ApiError::Network(value.to_string())
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
