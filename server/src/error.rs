//! The one mapping from an error to an HTTP answer. Every interface (REST, live updates, callback
//! intake) answers its errors through [`HttpError`]: the status is the code's
//! (`ErrorCode::http_status`), the message is `Texts`' sentence for the code in the caller's
//! language (`Accept-Language`, Chinese by default), and `code` is there for programs.
use app::i18n::Lang;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use payments::error::{ErrorCode, PaymentError};
use payments::money::AmountError;
use serde::Serialize;

#[derive(Debug)]
pub struct HttpError {
    pub code: ErrorCode,
    detail: Detail,
}

/// What the code alone does not say.
#[derive(Debug)]
enum Detail {
    None,
    /// Technical and untranslated (a field name, a parser's message).
    Text(String),
    /// Worded per language by `Texts`.
    Amount(AmountError),
    /// A required field of the body is absent.
    MissingField(&'static str),
    /// A field of the body must be a string.
    NotAString(&'static str),
}

impl HttpError {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            detail: Detail::None,
        }
    }

    pub fn with_detail(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: Detail::Text(detail.into()),
        }
    }

    /// A required body field is missing (400).
    pub fn missing_field(field: &'static str) -> Self {
        Self {
            code: ErrorCode::FieldMissing,
            detail: Detail::MissingField(field),
        }
    }

    /// A body field must be a string (422).
    pub fn not_a_string(field: &'static str) -> Self {
        Self {
            code: ErrorCode::FieldInvalid,
            detail: Detail::NotAString(field),
        }
    }

    /// A request body that could not be read: over the body limit (413), too slow (408), or
    /// cut off (400).
    pub fn body_unreadable(error: &(dyn std::error::Error + 'static)) -> Self {
        use http_body_util::LengthLimitError;
        use tower_http::timeout::TimeoutError;
        // axum re-boxes what it downcast: the cause may be `T` or `Box<T>`.
        fn is<T: std::error::Error + 'static>(e: &(dyn std::error::Error + 'static)) -> bool {
            e.is::<T>() || e.is::<Box<T>>()
        }
        let mut cause = Some(error);
        while let Some(e) = cause {
            if is::<LengthLimitError>(e) {
                return Self::new(ErrorCode::BodyTooLarge);
            }
            if is::<TimeoutError>(e) {
                return Self::new(ErrorCode::BodyTimeout);
            }
            cause = e.source();
        }
        Self::with_detail(ErrorCode::ParameterInvalid, "the body could not be read")
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The message in `lang`: the code's sentence, then what it does not say.
    pub fn message(&self, lang: Lang) -> String {
        let texts = lang.texts();
        let sentence = texts.error(self.code);
        let separator = match lang {
            Lang::Zh => ":",
            Lang::En => ": ",
        };
        match &self.detail {
            Detail::None => sentence.to_string(),
            Detail::Text(detail) => format!("{sentence}{separator}{detail}"),
            Detail::Amount(e) => format!("{sentence}{separator}{}", texts.amount_error(e)),
            Detail::MissingField(field) => match lang {
                Lang::Zh => format!("缺少 {field}"),
                Lang::En => format!("Missing {field}"),
            },
            Detail::NotAString(field) => match lang {
                Lang::Zh => format!("{field} 必须是字符串"),
                Lang::En => format!("{field} must be a string"),
            },
        }
    }

    /// The REST answer: `{"message", "code"}` with the code's status.
    pub fn in_lang(self, lang: Lang) -> LocalizedError {
        LocalizedError { error: self, lang }
    }
}

impl From<PaymentError> for HttpError {
    fn from(e: PaymentError) -> Self {
        // Ours to fix (storage, provider): logged with everything we know; the caller gets the
        // code only.
        if e.code().is_retryable() {
            tracing::error!("{e:?}");
        }
        let code = e.code();
        let detail = match e {
            PaymentError::InvalidAmount(amount) => Detail::Amount(amount),
            _ => Detail::None,
        };
        Self { code, detail }
    }
}

/// An [`HttpError`] with the language to word it in.
#[derive(Debug)]
pub struct LocalizedError {
    error: HttpError,
    lang: Lang,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    message: String,
    code: &'a str,
}

impl IntoResponse for LocalizedError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            message: self.error.message(self.lang),
            code: self.error.code.as_str(),
        };
        let mut response = (self.error.status(), Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_LANGUAGE,
            header::HeaderValue::from_static(self.lang.code()),
        );
        response
    }
}

/// The caller's language for error messages, from `Accept-Language` (Chinese without one).
#[derive(Debug, Clone, Copy)]
pub struct CallerLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for CallerLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(CallerLang::of(&parts.headers))
    }
}

impl CallerLang {
    /// The language a request's headers ask for.
    pub fn of(headers: &header::HeaderMap) -> Self {
        Self::of_accept_language(headers.get(header::ACCEPT_LANGUAGE))
    }

    /// The language an `Accept-Language` value asks for (Chinese without one).
    pub fn of_accept_language(value: Option<&header::HeaderValue>) -> Self {
        CallerLang(
            value
                .and_then(|v| v.to_str().ok())
                .map_or(Lang::Zh, Lang::from_accept_language),
        )
    }

    /// Words an error of a handler's body in this language.
    pub fn answer<T>(self, result: Result<T, impl Into<HttpError>>) -> Result<T, LocalizedError> {
        result.map_err(|e| e.into().in_lang(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_the_language_and_keep_the_detail() {
        let e = HttpError::with_detail(ErrorCode::FieldInvalid, "description: expected a string");
        assert_eq!(
            e.message(Lang::Zh),
            "请求字段有误:description: expected a string"
        );
        assert_eq!(
            e.message(Lang::En),
            "A field of the request is not valid: description: expected a string"
        );
        let e = HttpError::missing_field("orderId");
        assert_eq!(
            (e.status(), e.message(Lang::Zh)),
            (StatusCode::BAD_REQUEST, "缺少 orderId".into())
        );
        let e = HttpError::from(PaymentError::InvalidAmount(AmountError::TooPrecise));
        assert_eq!(e.code, ErrorCode::AmountInvalid);
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        let english = e.message(Lang::En);
        assert!(
            english.starts_with("The amount is not valid: "),
            "{english}"
        );
        assert!(
            !english.chars().any(|c| c >= '\u{2e80}'),
            "Chinese in {english}"
        );
        assert!(e.message(Lang::Zh).starts_with("金额不正确:"));
        let e = HttpError::from(PaymentError::PaymentNotFound);
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        assert_ne!(
            e.message(Lang::En),
            HttpError::from(PaymentError::OrderNotFound).message(Lang::En)
        );
    }
}
