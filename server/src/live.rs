//! Push transports for the payment page: long-poll (`GET /api/pay/:id/status?wait=…`, whose
//! query [`LongPoll`] parses here; the status read's route serves it) and Server-Sent Events
//! (`GET /api/pay/:id/events`). Both only shorten the wait: the status read stays the source of
//! truth. Open event streams are counted (`scanpay_live_streams_open`; long-polls are counted
//! where they wait, in the payment service).
use crate::error::{CallerLang, HttpError, LocalizedError};
use crate::security_headers;
use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures::stream::Stream;
use payments::error::ErrorCode;
use payments::limits::MAX_LONG_POLL_SECS;
use payments::metrics::{LiveTransport, OpenStream};
use payments::service::PaymentService;
use payments::status::PaymentStatus;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;

/// Proxies drop idle streams: a comment line this often keeps them open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Tells EventSource how soon to reconnect after a dropped stream.
const RETRY: Duration = Duration::from_secs(2);
/// Reads the status this long after the deadline, so it reads expired.
const DEADLINE_SLACK: Duration = Duration::from_millis(50);

/// `?wait=<seconds ≤ MAX_LONG_POLL_SECS>&status=<known>` on the status read.
#[derive(Deserialize)]
pub struct LongPollQuery {
    wait: Option<String>,
    status: Option<String>,
}

/// A long-poll: answer as soon as the status differs from `known` (or from the status when the
/// request arrived), or when `wait` ends. No `wait`: a plain read.
pub struct LongPoll {
    pub known: Option<PaymentStatus>,
    pub wait: Duration,
}

impl LongPoll {
    pub fn parse(query: &LongPollQuery) -> Result<Self, HttpError> {
        let wait = match query.wait.as_deref() {
            None => Duration::ZERO,
            Some(text) => text
                .parse::<u64>()
                .ok()
                .filter(|secs| *secs <= MAX_LONG_POLL_SECS)
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    HttpError::with_detail(
                        ErrorCode::ParameterInvalid,
                        format!("wait must be whole seconds from 0 to {MAX_LONG_POLL_SECS}"),
                    )
                })?,
        };
        let known = match query.status.as_deref() {
            None => None,
            Some(text) => Some(PaymentStatus::parse(text).ok_or_else(|| {
                HttpError::with_detail(
                    ErrorCode::ParameterInvalid,
                    "status must be pending, paid, failed, expired or closed",
                )
            })?),
        };
        Ok(Self { known, wait })
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/pay/{payment_id}/events", get(events))
}

/// Streams the payment's status: now, then at every change; ends after a terminal state.
async fn events(
    lang: CallerLang,
    State(state): State<AppState>,
    Path(payment_id): Path<String>,
) -> Result<Response, LocalizedError> {
    // An unknown payment is a 404 (EventSource then gives up), not a stream that hangs.
    lang.answer(state.payments.payment_status(&payment_id).await)?;
    let open = OpenStream::open(LiveTransport::EventStream);
    let stream = status_stream(state.payments.clone(), payment_id, open);
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response();
    let headers = response.headers_mut();
    // Proxies pass the events on at once (nginx buffers otherwise).
    headers.insert("x-accel-buffering", "no".parse().expect("valid header"));
    // Instead of axum's `no-cache` for event streams: like every answer about a payment.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(security_headers::NOT_STORED),
    );
    Ok(response)
}

/// `open` counts the stream while it lives: until it ends, or the shopper goes away.
fn status_stream(
    payments: PaymentService,
    payment_id: String,
    open: OpenStream,
) -> impl Stream<Item = Result<Event, Infallible>> {
    async_stream::stream! {
        let _open = open;
        let mut changes = payments.watch(&payment_id);
        let mut last = None;
        let mut sequence = 0u64;
        loop {
            changes.mark_unchanged();
            // Boxed: the read's future is large and needed only for a moment, while the stream
            // lives as long as the shopper waits (its size is memory per open stream).
            let view = match Box::pin(payments.payment_status(&payment_id)).await {
                Ok(view) => view,
                Err(e) => {
                    tracing::warn!(payment_id, "event stream: {e}");
                    break;
                }
            };
            // Taken out of the view, which is dropped before the stream waits (it is memory
            // per open stream).
            let status = view.status;
            let until_deadline = view.until_deadline() + DEADLINE_SLACK;
            let changed = (last != Some(status))
                .then(|| serde_json::to_string(&view).expect("a status view serializes"));
            drop(view);
            if let Some(data) = changed {
                sequence += 1;
                last = Some(status);
                let mut event = Event::default().id(sequence.to_string()).event("status").data(data);
                if sequence == 1 {
                    event = event.retry(RETRY);
                }
                yield Ok(event);
                if status.is_terminal() {
                    break;
                }
            }
            // Wake at the next change, or just after the deadline (expiry announces itself to
            // no one).
            let _ = tokio::time::timeout(until_deadline, changes.changed()).await;
        }
    }
}
