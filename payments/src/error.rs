//! The error taxonomy. Every error an interface answers has a stable [`ErrorCode`] (for
//! programs), one HTTP status beside it, and a developer-facing English message. The words a
//! shopper reads live in the UI (`app::i18n::Texts`), keyed by the code.
use crate::status::string_enum;

string_enum!(
    /// A stable, machine-readable error code: REST answers it as `code`, server-function
    /// errors carry it, and the UI words it per language.
    ErrorCode {
        OrderNotFound = "order_not_found",
        PaymentNotFound = "payment_not_found",
        OrderIdInvalid = "order_id_invalid",
        PaymentIdInvalid = "payment_id_invalid",
        OrderNotPayable = "order_not_payable",
        AmountInvalid = "amount_invalid",
        DescriptionTooLong = "description_too_long",
        DescriptionInvalid = "description_invalid",
        AmountMismatch = "amount_mismatch",
        ProviderUnavailable = "provider_unavailable",
        ProviderRejected = "provider_rejected",
        MethodUnavailable = "method_unavailable",
        StorageUnavailable = "storage_unavailable",
        // The merchant's webhook deliveries.
        WebhookDeliveryNotFound = "webhook_delivery_not_found",
        // Request shape (REST bodies and queries, server-function arguments).
        BodyEmpty = "body_empty",
        BodyNotJson = "body_not_json",
        FieldMissing = "field_missing",
        FieldInvalid = "field_invalid",
        ParameterInvalid = "parameter_invalid",
        // The server's limits (see server/src/limits): refused before any work is done.
        BodyTooLarge = "body_too_large",
        BodyTimeout = "body_timeout",
        RateLimited = "rate_limited",
        ServerBusy = "server_busy",
        StreamsFull = "streams_full",
        // Provider callbacks.
        SignatureInvalid = "signature_invalid",
        NotificationMalformed = "notification_malformed",
        NotificationNotOurs = "notification_not_ours",
        ProcessingTimeout = "processing_timeout",
        // The merchant API.
        ApiKeyRequired = "api_key_required",
        ApiKeyInvalid = "api_key_invalid",
        ApiKeyRevoked = "api_key_revoked",
        ReferenceInvalid = "reference_invalid",
        ReferenceConflict = "reference_conflict",
        ReturnUrlInvalid = "return_url_invalid",
        IdempotencyKeyInvalid = "idempotency_key_invalid",
        IdempotencyKeyReused = "idempotency_key_reused",
        IdempotencyKeyInFlight = "idempotency_key_in_flight",
        NotInProduction = "not_in_production",
        // A browser request from another site (CSRF defence).
        CrossSiteRequest = "cross_site_request",
        Internal = "internal_error",
        // Only ever made in the browser: the request got no answer.
        Network = "network_error",
    }
);

impl ErrorCode {
    /// The one HTTP status of this code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::OrderNotFound
            | ErrorCode::PaymentNotFound
            | ErrorCode::WebhookDeliveryNotFound => 404,
            ErrorCode::OrderIdInvalid
            | ErrorCode::PaymentIdInvalid
            | ErrorCode::OrderNotPayable
            | ErrorCode::AmountInvalid
            | ErrorCode::DescriptionTooLong
            | ErrorCode::DescriptionInvalid
            | ErrorCode::AmountMismatch
            | ErrorCode::BodyEmpty
            | ErrorCode::BodyNotJson
            | ErrorCode::FieldMissing
            | ErrorCode::ParameterInvalid
            | ErrorCode::MethodUnavailable
            | ErrorCode::NotificationMalformed
            | ErrorCode::NotificationNotOurs
            | ErrorCode::ReferenceInvalid
            | ErrorCode::ReturnUrlInvalid
            | ErrorCode::IdempotencyKeyInvalid => 400,
            ErrorCode::SignatureInvalid | ErrorCode::ApiKeyRequired | ErrorCode::ApiKeyInvalid => {
                401
            }
            ErrorCode::ApiKeyRevoked | ErrorCode::CrossSiteRequest => 403,
            // What development offers and production does not (the demo shop).
            ErrorCode::NotInProduction => 404,
            ErrorCode::BodyTimeout => 408,
            ErrorCode::ReferenceConflict | ErrorCode::IdempotencyKeyInFlight => 409,
            ErrorCode::BodyTooLarge => 413,
            ErrorCode::FieldInvalid | ErrorCode::IdempotencyKeyReused => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal | ErrorCode::Network => 500,
            // The provider refused a call we made: our configuration or our bug, not the caller's.
            ErrorCode::ProviderRejected => 502,
            ErrorCode::ProviderUnavailable
            | ErrorCode::StorageUnavailable
            | ErrorCode::ProcessingTimeout
            | ErrorCode::ServerBusy
            | ErrorCode::StreamsFull => 503,
        }
    }

    /// Whether the caller may succeed by trying the same request again later.
    pub fn is_retryable(self) -> bool {
        matches!(self.http_status(), 500..)
    }
}

#[cfg(feature = "server")]
pub use server::*;

#[cfg(feature = "server")]
mod server {
    use super::ErrorCode;
    use crate::money::AmountError;
    use crate::provider::ProviderError;
    use crate::status::{OrderStatus, PaymentMethod};
    use crate::store::StoreError;

    pub use crate::limits::MAX_DESCRIPTION_CHARS;

    /// Errors at the service boundary. `Display` is for developers and logs (English); shoppers
    /// read `Texts` by [`PaymentError::code`].
    #[derive(Debug, thiserror::Error)]
    pub enum PaymentError {
        #[error("no order with this id")]
        OrderNotFound,
        #[error("no payment with this id")]
        PaymentNotFound,
        #[error("malformed order id: expected ord_ and 22 URL-safe characters")]
        MalformedOrderId,
        #[error("malformed payment id: expected pay_ and 22 URL-safe characters")]
        MalformedPaymentId,
        #[error("the order is {0}: only a pending order can be paid")]
        OrderNotPayable(OrderStatus),
        #[error("invalid amount: {0:?}")]
        InvalidAmount(#[from] AmountError),
        #[error("the description is longer than {MAX_DESCRIPTION_CHARS} characters")]
        DescriptionTooLong,
        #[error("the description has control or text-direction characters")]
        DescriptionInvalid,
        #[error("no webhook delivery with this id")]
        WebhookDeliveryNotFound,
        #[error("the provider's amount differs from the payment's")]
        AmountMismatch,
        #[error("payment method {0} is not enabled on this server")]
        MethodUnavailable(PaymentMethod),
        #[error("a {0} notification about a payment made with another method")]
        NotificationNotOurs(PaymentMethod),
        #[error("an order with this reference exists with a different amount")]
        ReferenceConflict,
        #[error("the payment provider: {0}")]
        Provider(#[from] ProviderError),
        #[error("storage is unavailable: {0}")]
        Store(#[from] StoreError),
    }

    impl From<sqlx::Error> for PaymentError {
        fn from(e: sqlx::Error) -> Self {
            PaymentError::Store(StoreError::Database(e))
        }
    }

    impl PaymentError {
        pub fn code(&self) -> ErrorCode {
            match self {
                PaymentError::OrderNotFound => ErrorCode::OrderNotFound,
                PaymentError::PaymentNotFound => ErrorCode::PaymentNotFound,
                PaymentError::MalformedOrderId => ErrorCode::OrderIdInvalid,
                PaymentError::MalformedPaymentId => ErrorCode::PaymentIdInvalid,
                PaymentError::OrderNotPayable(_) => ErrorCode::OrderNotPayable,
                PaymentError::InvalidAmount(_) => ErrorCode::AmountInvalid,
                PaymentError::DescriptionTooLong => ErrorCode::DescriptionTooLong,
                PaymentError::DescriptionInvalid => ErrorCode::DescriptionInvalid,
                PaymentError::AmountMismatch => ErrorCode::AmountMismatch,
                PaymentError::WebhookDeliveryNotFound => ErrorCode::WebhookDeliveryNotFound,
                PaymentError::MethodUnavailable(_) => ErrorCode::MethodUnavailable,
                PaymentError::NotificationNotOurs(_) => ErrorCode::NotificationNotOurs,
                PaymentError::ReferenceConflict => ErrorCode::ReferenceConflict,
                PaymentError::Provider(ProviderError::Rejected { .. }) => {
                    ErrorCode::ProviderRejected
                }
                PaymentError::Provider(_) => ErrorCode::ProviderUnavailable,
                PaymentError::Store(_) => ErrorCode::StorageUnavailable,
            }
        }

        pub fn http_status(&self) -> u16 {
            self.code().http_status()
        }
    }

    pub type Result<T, E = PaymentError> = std::result::Result<T, E>;
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn codes_are_unique_and_round_trip() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
            let same: Vec<_> = ErrorCode::ALL
                .iter()
                .filter(|c| c.as_str() == code.as_str())
                .collect();
            assert_eq!(same.len(), 1, "{code} is used twice");
        }
    }

    #[test]
    fn unknown_order_and_unknown_payment_are_distinct_404s() {
        assert_ne!(ErrorCode::OrderNotFound, ErrorCode::PaymentNotFound);
        assert_eq!(ErrorCode::OrderNotFound.http_status(), 404);
        assert_eq!(ErrorCode::PaymentNotFound.http_status(), 404);
        assert_eq!(ErrorCode::ProviderUnavailable.http_status(), 503);
    }
}
