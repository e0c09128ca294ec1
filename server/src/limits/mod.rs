//! Limits against a hostile internet, around the whole router (settings: `config::limits`).
//! Every request is first counted against its client's rate (429 + `Retry-After`), except the
//! providers' notifications and the sandbox; then, by what it is:
//! - provider notifications: body ≤ the callback limit, in-flight cap, timeouts;
//! - live updates (event streams, WebSockets, long-polls): a stream slot per client and in total
//!   (503 when full, before a WebSocket's upgrade), body ≤ the API limit; not in the in-flight
//!   cap nor the response timeout, which would hold or cut them for minutes (they end by
//!   themselves: a long-poll's wait, a payment's TTL);
//! - the providers' sandbox (development only): none of them. It stands in for a separate
//!   system, whose front doors this very process calls over loopback while answering a shopper:
//!   the shop's limits are not its own (counting them would shed the shop's own provider calls);
//! - everything else: body ≤ the API limit, in-flight cap with load shedding (503 +
//!   `Retry-After` instead of a queue), body-read and response timeouts.
//!
//! The body limits refuse a `Content-Length` over the limit before reading anything and cut a
//! chunked body off at the limit (tower-http's `RequestBodyLimit`). Refusals are the REST API's
//! JSON errors, in the caller's language.
mod client;
mod rate;
mod streams;

use crate::config::LimitSettings;
use crate::error::{CallerLang, HttpError};
use app::api::WaitPaymentStatus;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::BoxError;
pub use client::ClientAddr;
use client::TrustedProxies;
use futures::future::Either;
use futures::StreamExt;
use leptos::server_fn::ServerFn;
use payments::error::ErrorCode;
use pin_project_lite::pin_project;
use rate::PerClientRate;
use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;
pub use streams::HeldSlot;
use streams::{Full, StreamSlots};
use tokio::sync::Semaphore;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::error::Overloaded;
use tower::load_shed::LoadShedLayer;
use tower::timeout::error::Elapsed;
use tower::timeout::TimeoutLayer;
use tower::util::{BoxCloneSyncService, Oneshot};
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// How soon a shed request may be tried again.
const RETRY_WHEN_BUSY: Duration = Duration::from_secs(1);
/// How soon a refused stream may be tried again (the page polls meanwhile).
const RETRY_WHEN_STREAMS_FULL: Duration = Duration::from_secs(10);
/// The providers' notification routes, `/api/pay/notify/{wechatpay,alipay}`.
const NOTIFY_PREFIX: &str = "/api/pay/notify/";
/// The providers' sandbox (development).
const SANDBOX_PREFIX: &str = "/sandbox/";

/// `app` with every limit of `limits` around it: a service per connection (`for_peer`), so
/// that the client's address comes with the connection rather than in each request.
#[derive(Clone)]
pub struct Limits {
    stacks: Arc<Stacks>,
    per_client: Arc<PerClient>,
    peer: IpAddr,
}

/// A request's body under the stream stack's body limit.
type LimitedBody = tower_http::body::Limited<Body>;
/// A request's body under the other stacks' body-read timeout and body limit.
type TimedLimitedBody = tower_http::body::Limited<tower_http::timeout::TimeoutBody<Body>>;

/// What the limits go around: the app (axum's Router, or a service in front of it), taking
/// requests with any body.
pub trait App<B>: Service<Request<B>, Response = Response, Error = Infallible> {}

impl<B, S: Service<Request<B>, Response = Response, Error = Infallible>> App<B> for S {}

impl Limits {
    pub fn new<A>(app: A, limits: &LimitSettings) -> Self
    where
        A: App<Body> + App<LimitedBody> + App<TimedLimitedBody> + Clone + Send + Sync + 'static,
        <A as Service<Request>>::Future: Send + 'static,
        <A as Service<Request<LimitedBody>>>::Future: Send + 'static,
        <A as Service<Request<TimedLimitedBody>>>::Future: Send + 'static,
    {
        let in_flight = Arc::new(Semaphore::new(limits.max_in_flight));
        let stacks = Stacks {
            callbacks: bounded(app.clone(), limits, &in_flight, limits.callback_body_bytes),
            streams: live_updates(app.clone(), limits),
            sandbox: BoxCloneSyncService::new(ServiceExt::<Request>::map_err(
                app.clone(),
                BoxError::from,
            )),
            normal: bounded(app, limits, &in_flight, limits.api_body_bytes),
        };
        let per_client = PerClient {
            proxies: TrustedProxies::new(limits.trusted_proxies.clone()),
            rate: limits.rate.map(PerClientRate::new),
        };
        Self {
            stacks: Arc::new(stacks),
            per_client: Arc::new(per_client),
            peer: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        }
    }

    /// The limits for the requests of a connection from `peer`.
    pub fn for_peer(&self, peer: IpAddr) -> Self {
        Self {
            peer,
            ..self.clone()
        }
    }
}

impl Service<Request> for Limits {
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, Worded>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Each request's stack is made ready on its own (`oneshot`).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let kind = RequestKind::of(&request);
        let client = match self.per_client.admit(self.peer, &request, kind) {
            Ok(client) => client,
            Err(wait) => {
                let lang = CallerLang::of(request.headers());
                let refused = refusal(ErrorCode::RateLimited, lang, Some(wait));
                return Either::Left(ready(Ok(refused)));
            }
        };
        // Cheap to keep (a shared buffer), read only to word a refusal.
        let accept_language = request.headers().get(header::ACCEPT_LANGUAGE).cloned();
        if kind == RequestKind::LiveUpdate {
            // Only the stream slots need to know who the client is: an extension costs every
            // other request an allocation.
            request.extensions_mut().insert(client);
        }
        let stack = self.stacks.for_kind(kind).clone();
        Either::Right(Worded {
            answer: stack.oneshot(request),
            accept_language,
        })
    }
}

pin_project! {
    /// A request's answer through its stack, with the stacks' refusals worded as the API's JSON
    /// errors in the caller's language: the limits' own (errors), and the body limit's
    /// plain-text 413.
    pub struct Worded {
        #[pin]
        answer: Oneshot<Stack, Request>,
        accept_language: Option<HeaderValue>,
    }
}

impl Future for Worded {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let lang = || CallerLang::of_accept_language(this.accept_language.as_ref());
        let response = match ready!(this.answer.poll(cx)) {
            Ok(response) => response,
            Err(error) => {
                let (code, retry_after) = refusal_for(&error);
                return Poll::Ready(Ok(refusal(code, lang(), retry_after)));
            }
        };
        let is_json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
        if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
            return Poll::Ready(Ok(refusal(ErrorCode::BodyTooLarge, lang(), None)));
        }
        Poll::Ready(Ok(response))
    }
}

/// A stack's errors are its limits' refusals.
type Stack = BoxCloneSyncService<Request, Response, BoxError>;

struct Stacks {
    callbacks: Stack,
    streams: Stack,
    sandbox: Stack,
    normal: Stack,
}

/// Which limits a request gets (see the module's doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequestKind {
    Callback,
    Sandbox,
    LiveUpdate,
    Other,
}

impl RequestKind {
    fn of(request: &Request) -> Self {
        let path = request.uri().path();
        if is_callback(path) {
            Self::Callback
        } else if is_sandbox(path) {
            Self::Sandbox
        } else if is_live_update(request) {
            Self::LiveUpdate
        } else {
            Self::Other
        }
    }
}

impl Stacks {
    fn for_kind(&self, kind: RequestKind) -> &Stack {
        match kind {
            RequestKind::Callback => &self.callbacks,
            RequestKind::Sandbox => &self.sandbox,
            RequestKind::LiveUpdate => &self.streams,
            RequestKind::Other => &self.normal,
        }
    }
}

fn is_callback(path: &str) -> bool {
    path.starts_with(NOTIFY_PREFIX)
}

fn is_sandbox(path: &str) -> bool {
    path.starts_with(SANDBOX_PREFIX)
}

fn is_live_update(request: &Request) -> bool {
    let path = request.uri().path();
    // An event stream or a WebSocket.
    let push =
        path.starts_with("/api/pay/") && (path.ends_with("/events") || path.ends_with("/ws"));
    let rest_long_poll = path.starts_with("/api/pay/")
        && path.ends_with("/status")
        && request.uri().query().is_some_and(|query| {
            query.split('&').any(|pair| {
                pair.strip_prefix("wait=")
                    .is_some_and(|w| !w.is_empty() && w != "0")
            })
        });
    push || rest_long_poll || path == WaitPaymentStatus::PATH
}

/// Short requests: body limit, body-read timeout, response timeout, in-flight cap (shared by
/// every stack built on `in_flight`) with shedding.
fn bounded<A>(
    app: A,
    limits: &LimitSettings,
    in_flight: &Arc<Semaphore>,
    body_bytes: usize,
) -> Stack
where
    A: App<TimedLimitedBody> + Clone + Send + Sync + 'static,
    A::Future: Send + 'static,
{
    let stack = ServiceBuilder::new()
        .map_response(IntoResponse::into_response)
        .layer(LoadShedLayer::new())
        .layer(GlobalConcurrencyLimitLayer::with_semaphore(
            in_flight.clone(),
        ))
        .layer(TimeoutLayer::new(limits.response_timeout))
        .layer(RequestBodyTimeoutLayer::new(limits.body_read_timeout))
        .layer(RequestBodyLimitLayer::new(body_bytes))
        .service(app);
    BoxCloneSyncService::new(stack)
}

/// Event streams and long-polls: a slot each, body limit.
fn live_updates<A>(app: A, limits: &LimitSettings) -> Stack
where
    A: App<LimitedBody> + Clone + Send + Sync + 'static,
    A::Future: Send + 'static,
{
    let slots = StreamSlots::new(limits.streams_per_client, limits.streams_total);
    let stack = ServiceBuilder::new()
        .map_response(IntoResponse::into_response)
        .layer(from_fn_with_state(slots, hold_stream_slot))
        .layer(RequestBodyLimitLayer::new(limits.api_body_bytes))
        .service(app);
    BoxCloneSyncService::new(stack.map_err(BoxError::from))
}

/// What a limit's error (the in-flight cap's shedding, the response timeout) answers.
fn refusal_for(error: &BoxError) -> (ErrorCode, Option<Duration>) {
    if error.is::<Overloaded>() {
        (ErrorCode::ServerBusy, Some(RETRY_WHEN_BUSY))
    } else if error.is::<Elapsed>() {
        (ErrorCode::ProcessingTimeout, None)
    } else {
        tracing::error!("request limits: {error}");
        (ErrorCode::Internal, None)
    }
}

/// A refusal in the REST API's error shape, with `Retry-After` when trying later may work.
fn refusal(code: ErrorCode, lang: CallerLang, retry_after: Option<Duration>) -> Response {
    let mut response = HttpError::new(code).in_lang(lang.0).into_response();
    if let Some(wait) = retry_after {
        // Whole seconds, rounded up: `Retry-After: 0` would invite an immediate retry.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
    response
}

struct PerClient {
    proxies: TrustedProxies,
    /// `None`: `SCANPAY_RATE_LIMIT=off`.
    rate: Option<PerClientRate>,
}

impl PerClient {
    /// Counts the request against its client's rate: the client it is from, or, beyond its rate,
    /// how long it must wait (429).
    fn admit(
        &self,
        peer: IpAddr,
        request: &Request,
        kind: RequestKind,
    ) -> Result<ClientAddr, Duration> {
        let client = self.proxies.client_of(peer, request.headers());
        // Provider notifications come from a few addresses and are resent until acknowledged: a
        // per-address limit would drop genuine ones at a busy moment. They are bounded by the
        // in-flight cap and verified before any work instead. The sandbox is not the shop's.
        let exempt = matches!(kind, RequestKind::Callback | RequestKind::Sandbox);
        if let (Some(rate), false) = (&self.rate, exempt) {
            rate.check(client)?;
        }
        Ok(client)
    }
}

/// Holds a stream slot while the request waits (long-poll) or its body streams (event stream);
/// a WebSocket's handler takes the request's [`HeldSlot`] into the socket's task.
async fn hold_stream_slot(
    State(slots): State<StreamSlots>,
    mut request: Request,
    next: Next,
) -> Response {
    // Set by `Limits` for this stack.
    let client = request
        .extensions()
        .get::<ClientAddr>()
        .copied()
        .unwrap_or(ClientAddr(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
    let slot = match slots.take(client) {
        Ok(slot) => HeldSlot::new(slot),
        Err(full) => {
            let lang = CallerLang::of(request.headers());
            if full == Full::Server {
                tracing::warn!("live updates: every stream slot is taken");
            }
            return refusal(ErrorCode::StreamsFull, lang, Some(RETRY_WHEN_STREAMS_FULL));
        }
    };
    request.extensions_mut().insert(slot.clone());
    let response = next.run(request).await;
    let is_event_stream = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
    if !is_event_stream {
        return response;
    }
    // The slot goes with the stream: given back when the shopper leaves or the stream ends.
    response.map(|body| {
        Body::from_stream(body.into_data_stream().map(move |chunk| {
            let _held = &slot;
            chunk
        }))
    })
}
