//! The HTTP/1.1 accept loop. `axum::serve` would do, but it offers no hyper settings, and its
//! HTTP/1 + HTTP/2 detection makes every connection's task larger: with thousands of shoppers
//! holding an event stream or a long-poll open, per-connection memory is what counts. Each
//! connection gets its own service, made for its peer's address (the per-client limits).
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_io_timeout::TimeoutStream;
use tower::{Service, ServiceExt};

/// Largest request head and read chunk. At hyper's minimum the read buffer of an idle
/// connection stays at 8 KB instead of growing to 16 KB after its first request; heads larger
/// than this get `431 Request Header Fields Too Large`.
const READ_BUFFER_BYTES: usize = 8192;
/// On shutdown, open requests (event streams never end by themselves) get this long.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long a connection may keep the server waiting.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionTimeouts {
    /// Each request head (the first, and a kept-alive connection's next) must arrive within it.
    pub header_read: Duration,
    /// A write (answer, stream event) that makes no progress for this long — a client that
    /// stopped reading — drops the connection instead of holding its buffers forever.
    pub write: Duration,
}

/// Serves each connection with `service_for(its peer's address)` until `shutdown` resolves,
/// then lets open connections finish for a moment.
pub async fn serve<S>(
    listener: TcpListener,
    service_for: impl Fn(SocketAddr) -> S,
    timeouts: ConnectionTimeouts,
    shutdown: impl Future<Output = ()>,
) where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let mut http = http1::Builder::new();
    http.max_buf_size(READ_BUFFER_BYTES)
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read);
    // hyper-util's `GracefulShutdown` cannot watch a connection that may be upgraded: the same
    // thing by hand. Each connection holds a receiver; shutdown is a send, then waiting until
    // every receiver is gone.
    let (graceful, _) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or the client gave up: keep serving the others.
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // No read timeout here: an idle kept-alive connection and an open event stream read
        // nothing for long, legitimately (hyper's header-read timeout bounds the idle one).
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(timeouts.write));
        let stream = Box::pin(stream);
        let app =
            service_for(peer).map_request(|request: Request<Incoming>| request.map(Body::new));
        // Upgrades: the payment page's WebSocket (live.rs) takes the connection over (then it
        // is no longer this loop's: shutdown ends it with the process).
        let connection = http
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app))
            .with_upgrades();
        let mut shutting_down = graceful.subscribe();
        tokio::spawn(async move {
            tokio::pin!(connection);
            let served = tokio::select! {
                served = connection.as_mut() => served,
                _ = shutting_down.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = served {
                tracing::debug!("connection: {e}");
            }
        });
    }
    drop(listener);
    let _ = graceful.send(());
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.closed())
        .await
        .is_err()
    {
        tracing::info!("shutdown: closing connections still open");
    }
}
