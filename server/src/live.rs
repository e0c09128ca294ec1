//! Push transports for the payment page: long-poll (`GET /api/pay/:id/status?wait=…`, whose
//! query [`LongPoll`] parses here; the status read's route serves it), Server-Sent Events
//! (`GET /api/pay/:id/events`) and WebSocket (`GET /api/pay/:id/ws`). All only shorten the wait:
//! the status read stays the source of truth. Event streams and sockets send the same thing (the
//! status answer, now and at every change, from [`status_updates`]) and end after a terminal
//! state, so a payment's deadline bounds them. Open ones are counted
//! (`scanpay_live_streams_open`; long-polls are counted where they wait, in the payment service).
use crate::csrf::{self, PublicOrigin};
use crate::error::{CallerLang, HttpError, LocalizedError};
use crate::limits::HeldSlot;
use crate::security_headers;
use app::state::AppState;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{close_code, CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use futures::stream::{Stream, StreamExt};
use payments::error::ErrorCode;
use payments::limits::MAX_LONG_POLL_SECS;
use payments::metrics::{LiveTransport, OpenStream};
use payments::service::PaymentService;
use payments::status::PaymentStatus;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use tokio::time::Instant;

/// Proxies drop idle streams: a comment line this often keeps them open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Tells EventSource how soon to reconnect after a dropped stream.
const RETRY: Duration = Duration::from_secs(2);
/// Reads the status this long after the deadline, so it reads expired.
const DEADLINE_SLACK: Duration = Duration::from_millis(50);
/// A socket whose client answered no ping for this long is gone (its pings go every
/// `KEEP_ALIVE`; browsers answer them by themselves).
const SOCKET_SILENCE: Duration = Duration::from_secs(40);
/// A client sends a socket nothing but pongs (and its close): a small read buffer, and no
/// message larger than this is read at all.
const SOCKET_READ_BUFFER: usize = 512;
const SOCKET_MAX_MESSAGE: usize = 1024;
/// After its close frame, how long the server waits for the client's before it hangs up.
const SOCKET_CLOSE_WAIT: Duration = Duration::from_secs(5);

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
    Router::new()
        .route("/api/pay/{payment_id}/events", get(events))
        .route("/api/pay/{payment_id}/ws", get(socket))
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
    let mut sequence = 0u64;
    status_updates(payments, payment_id).map(move |update| {
        let _open = &open;
        sequence += 1;
        let mut event = Event::default()
            .id(sequence.to_string())
            .event("status")
            .data(update.data);
        if sequence == 1 {
            event = event.retry(RETRY);
        }
        Ok(event)
    })
}

/// One status answer to push.
struct StatusUpdate {
    /// The status answer's JSON (an event's `data`, a socket's text message).
    data: String,
    status: PaymentStatus,
}

/// The payment's status answer now, then at every change; ends after a terminal state (or when
/// the status cannot be read: the client's polling carries on).
fn status_updates(
    payments: PaymentService,
    payment_id: String,
) -> impl Stream<Item = StatusUpdate> {
    async_stream::stream! {
        let mut changes = payments.watch(&payment_id);
        let mut last = None;
        loop {
            changes.mark_unchanged();
            // Boxed: the read's future is large and needed only for a moment, while the stream
            // lives as long as the shopper waits (its size is memory per open stream).
            let view = match Box::pin(payments.payment_status(&payment_id)).await {
                Ok(view) => view,
                Err(e) => {
                    tracing::warn!(payment_id, "live updates: {e}");
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
                last = Some(status);
                yield StatusUpdate { data, status };
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

/// The WebSocket transport. Refused before the upgrade, in the API's error shape: a page of
/// another origin (403, cross-site WebSocket hijacking), a malformed id (400), an unknown
/// payment (404); a full stream cap is refused earlier, by the limits (503 `streams_full`).
async fn socket(
    lang: CallerLang,
    State(state): State<AppState>,
    Path(payment_id): Path<String>,
    headers: HeaderMap,
    slot: Option<Extension<HeldSlot>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, LocalizedError> {
    if csrf::is_foreign_websocket(&headers, &PublicOrigin::of(&state.public_url)) {
        return Err(HttpError::new(ErrorCode::CrossSiteRequest).in_lang(lang.0));
    }
    lang.answer(state.payments.payment_status(&payment_id).await)?;
    // Not a WebSocket handshake (a plain GET): axum's 4xx.
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return Ok(rejection.into_response()),
    };
    let payments = state.payments.clone();
    Ok(upgrade
        .read_buffer_size(SOCKET_READ_BUFFER)
        .max_message_size(SOCKET_MAX_MESSAGE)
        .max_frame_size(SOCKET_MAX_MESSAGE)
        .on_upgrade(move |socket| {
            // The stream slot goes with the socket: given back when it ends.
            serve_socket(socket, payments, payment_id, slot)
        }))
}

/// Sends the status answers as text messages and a ping every `KEEP_ALIVE`; after a terminal
/// state, closes with 1000 and the status as the reason. The client may only answer pings: a
/// data message closes with 1008.
async fn serve_socket(
    mut socket: WebSocket,
    payments: PaymentService,
    payment_id: String,
    slot: Option<Extension<HeldSlot>>,
) {
    let _slot = slot;
    let _open = OpenStream::open(LiveTransport::WebSocket);
    let updates = status_updates(payments, payment_id);
    tokio::pin!(updates);
    let mut pings = tokio::time::interval_at(Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
    pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut heard_at = Instant::now();
    let (code, reason) = loop {
        tokio::select! {
            update = updates.next() => match update {
                Some(StatusUpdate { data, status }) => {
                    if socket.send(Message::Text(data.into())).await.is_err() {
                        return;
                    }
                    if status.is_terminal() {
                        break (close_code::NORMAL, status.as_str());
                    }
                }
                None => break (close_code::ERROR, "status unavailable"),
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Pong(_) | Message::Ping(_))) => heard_at = Instant::now(),
                Some(Ok(Message::Text(_) | Message::Binary(_))) | Some(Err(_)) => {
                    break (close_code::POLICY, "only pongs are read");
                }
                Some(Ok(Message::Close(_))) | None => return,
            },
            _ = pings.tick() => {
                if heard_at.elapsed() > SOCKET_SILENCE {
                    return;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
        }
    };
    let close = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    if socket.send(Message::Close(Some(close))).await.is_ok() {
        // The client answers with its own close; then the connection ends.
        let _ = tokio::time::timeout(SOCKET_CLOSE_WAIT, async {
            while let Some(Ok(_)) = socket.recv().await {}
        })
        .await;
    }
}
