//! Request bodies of the REST API: read within the limits (`crate::limits`), then deserialized
//! straight into their type — no JSON tree is built of them.
use crate::error::HttpError;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use payments::error::ErrorCode;
use serde::de::DeserializeOwned;
use serde_json::error::Category;
use serde_json::value::RawValue;

/// A body as the handler got it (axum's own rejections are plain text: worded here instead).
pub type Body = Result<Bytes, BytesRejection>;

/// Parses a JSON body into its type: 400 if it is not JSON, 422 if a field is missing or
/// mistyped; 413 or 408 if it was not read within the limits.
pub fn parse_body<T: DeserializeOwned>(body: &Body) -> Result<T, HttpError> {
    let body = body.as_ref().map_err(|e| HttpError::body_unreadable(e))?;
    if body.is_empty() {
        return Err(HttpError::new(ErrorCode::BodyEmpty));
    }
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        Category::Data => HttpError::with_detail(ErrorCode::FieldInvalid, e.to_string()),
        Category::Syntax | Category::Eof | Category::Io => {
            HttpError::with_detail(ErrorCode::BodyNotJson, e.to_string())
        }
    })
}

/// A string field kept as raw JSON text: absent or null is `None`; another type is refused (422).
pub fn text_field(
    raw: Option<Box<RawValue>>,
    name: &'static str,
) -> Result<Option<String>, HttpError> {
    raw.map(|raw| serde_json::from_str(raw.get()).map_err(|_| HttpError::not_a_string(name)))
        .transpose()
}
