//! One log line per request: method, path, status, latency and request id. The path is logged
//! without its query string, which may carry tokens. The request id is the caller's
//! `x-request-id` when that is a short safe token, else a new one; the handlers see it on the
//! request (and in the span of their log lines), and the caller gets it back on the response.
//! An event stream is logged once, when it ends (its latency is then how long it was open).
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// A caller's id longer than this is replaced (it is repeated in every log line).
const MAX_REQUEST_ID_LEN: usize = 64;

/// Letters, digits, `-`, `_` and `.`: nothing that could forge a log line or a header.
fn is_safe_request_id(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn new_request_id() -> HeaderValue {
    let id = format!("{:032x}", rand::random::<u128>());
    HeaderValue::from_str(&id).expect("hex digits are a valid header value")
}

/// The middleware (`axum::middleware::from_fn`), outermost: it sees every answer, 404s too.
pub async fn log_requests(mut request: Request, next: Next) -> Response {
    let id = match request.headers().get(&REQUEST_ID) {
        Some(id) if is_safe_request_id(id.as_bytes()) => id.clone(),
        _ => new_request_id(),
    };
    request.headers_mut().insert(REQUEST_ID, id.clone());
    let mut line = RequestLine {
        method: request.method().clone(),
        path: request.uri().path().to_string(),
        status: StatusCode::OK,
        id: id.clone(),
        started: Instant::now(),
    };
    let span = tracing::info_span!("request", id = line.id_str());
    let mut response = next.run(request).instrument(span).await;
    response.headers_mut().insert(REQUEST_ID, id);
    line.status = response.status();
    let is_event_stream = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
    if !is_event_stream {
        line.log();
        return response;
    }
    response.map(|body| Body::new(LoggedWhenDone { body, line }))
}

struct RequestLine {
    method: Method,
    path: String,
    status: StatusCode,
    id: HeaderValue,
    started: Instant,
}

impl RequestLine {
    fn id_str(&self) -> &str {
        // Only safe ids get here (checked or made above).
        self.id.to_str().unwrap_or_default()
    }

    fn log(&self) {
        tracing::info!(
            target: "scanpay::request",
            method = %self.method,
            path = %self.path,
            status = self.status.as_u16(),
            latency_ms = self.started.elapsed().as_secs_f64() * 1000.0,
            request_id = self.id_str()
        );
    }
}

/// A response body that logs its request when it is dropped: when it has been sent, or when the
/// caller went away.
struct LoggedWhenDone {
    body: Body,
    line: RequestLine,
}

impl HttpBody for LoggedWhenDone {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        // `Body` is `Unpin`, and so is this.
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for LoggedWhenDone {
    fn drop(&mut self) {
        self.line.log();
    }
}

#[cfg(test)]
mod tests {
    use super::{is_safe_request_id, new_request_id};

    #[test]
    fn only_short_plain_tokens_are_taken_from_the_caller() {
        for safe in ["abc", "req-42_x.y", "A1B2C3", &"a".repeat(64)] {
            assert!(is_safe_request_id(safe.as_bytes()), "{safe}");
        }
        for unsafe_id in [
            "",
            &"a".repeat(65),
            "two words",
            "a\"b",
            "line\nbreak",
            "{id}",
            "x=1",
            "路径",
        ] {
            assert!(!is_safe_request_id(unsafe_id.as_bytes()), "{unsafe_id:?}");
        }
        let made = new_request_id();
        assert!(is_safe_request_id(made.as_bytes()));
        assert_ne!(made, new_request_id());
    }
}
