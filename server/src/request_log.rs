//! One log line per request: method, path, status, latency and request id. The path is logged
//! without its query string, which may carry tokens. The request id is the caller's
//! `x-request-id` when that is a short safe token, else a new one; the handlers' log lines carry
//! it (their span's), and the caller gets it back on the response.
//! An event stream is logged once, when it ends (its latency is then how long it was open).
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Instant;
use tower::{Layer, Service};
use tracing::instrument::Instrumented;
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

/// A request id, kept inline: the response's header is made from it once (a `HeaderValue` kept
/// and cloned for the header costs a second allocation per request).
#[derive(Clone, Copy)]
struct RequestId {
    bytes: [u8; MAX_REQUEST_ID_LEN],
    len: usize,
}

impl RequestId {
    /// The caller's id when it is safe, else a new one.
    fn of(request: &Request) -> Self {
        match request.headers().get(&REQUEST_ID) {
            Some(id) if is_safe_request_id(id.as_bytes()) => {
                let mut bytes = [0u8; MAX_REQUEST_ID_LEN];
                bytes[..id.len()].copy_from_slice(id.as_bytes());
                Self {
                    bytes,
                    len: id.len(),
                }
            }
            _ => Self::new(),
        }
    }

    /// 128 random bits in hex.
    fn new() -> Self {
        let mut bytes = [0u8; MAX_REQUEST_ID_LEN];
        hex::encode_to_slice(rand::random::<u128>().to_be_bytes(), &mut bytes[..32])
            .expect("16 bytes are 32 hex digits");
        Self { bytes, len: 32 }
    }

    fn as_str(&self) -> &str {
        // Only safe ids (ASCII) get here.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }

    fn header_value(&self) -> HeaderValue {
        HeaderValue::from_bytes(&self.bytes[..self.len]).expect("a safe id is a valid header value")
    }
}

/// The layer, outermost: it sees every answer, 404s too. A tower layer rather than an axum
/// `from_fn` middleware, which boxes the rest of the stack and its future on every request
/// (BENCHMARKS.md, "With the limits and security layers on").
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestLogLayer;

impl<S> Layer<S> for RequestLogLayer {
    type Service = RequestLog<S>;

    fn layer(&self, inner: S) -> RequestLog<S> {
        RequestLog { inner }
    }
}

#[derive(Debug, Clone)]
pub struct RequestLog<S> {
    inner: S,
}

impl<S> Service<Request> for RequestLog<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Logged<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let id = RequestId::of(&request);
        // Nothing of the line is gathered when it would not be written.
        let line = tracing::enabled!(target: "scanpay::request", tracing::Level::INFO).then(|| {
            RequestLine {
                method: request.method().clone(),
                // A copy: the request's `Uri` shares the connection's read buffer, which a
                // clone would keep alive as long as an event stream or a long-poll lasts.
                path: request.uri().path().into(),
                status: StatusCode::OK,
                id,
                started: Instant::now(),
            }
        });
        let span = tracing::info_span!("request", id = id.as_str());
        Logged {
            answer: self.inner.call(request).instrument(span),
            id,
            line,
        }
    }
}

pin_project! {
    /// The answer of a request: with its id, and logged when it is ready or, for an event
    /// stream, when its body ends.
    pub struct Logged<F> {
        #[pin]
        answer: Instrumented<F>,
        id: RequestId,
        line: Option<RequestLine>,
    }
}

impl<F, E> Future for Logged<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.answer.poll(cx))?;
        response
            .headers_mut()
            .insert(REQUEST_ID, this.id.header_value());
        let Some(mut line) = this.line.take() else {
            return Poll::Ready(Ok(response));
        };
        line.status = response.status();
        let is_event_stream = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
        if !is_event_stream {
            line.log();
            return Poll::Ready(Ok(response));
        }
        Poll::Ready(Ok(
            response.map(|body| Body::new(LoggedWhenDone { body, line }))
        ))
    }
}

pub struct RequestLine {
    method: Method,
    path: Box<str>,
    status: StatusCode,
    id: RequestId,
    started: Instant,
}

impl RequestLine {
    fn log(&self) {
        tracing::info!(
            target: "scanpay::request",
            method = %self.method,
            path = %self.path,
            status = self.status.as_u16(),
            latency_ms = %format_args!("{:.2}", self.started.elapsed().as_secs_f64() * 1e3),
            request_id = %self.id.as_str()
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
    use super::{is_safe_request_id, RequestId};

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
        let made = RequestId::new();
        assert!(is_safe_request_id(made.as_str().as_bytes()));
        assert_ne!(made.as_str(), RequestId::new().as_str());
        assert_eq!(made.header_value(), made.as_str());
    }
}
