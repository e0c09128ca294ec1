//! A shop's webhook endpoint for the tests: a tiny axum server on loopback that keeps every
//! request it gets and answers each with the next status of its script (200 once the script is
//! used up). It verifies nothing itself: tests verify what it kept, with a Standard Webhooks
//! library, as a shop would.
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

/// The secret both the server and the receiver are configured with: random per test run, so
/// that it is published nowhere (production refuses published secrets).
pub static SECRET: LazyLock<String> = LazyLock::new(|| {
    use base64::Engine;
    let key: [u8; 32] = rand::random();
    let key = base64::engine::general_purpose::STANDARD.encode(key);
    format!("whsec_{key}")
});

/// One request as the endpoint got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: String,
}

impl Received {
    /// `webhook-id`.
    pub fn id(&self) -> &str {
        self.headers["webhook-id"].to_str().expect("webhook-id")
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// Verified as a shop would, with the Standard Webhooks library; panics if it does not.
    pub fn verified(&self) -> Value {
        standardwebhooks::Webhook::new(&SECRET)
            .expect("the test secret")
            .verify(self.body.as_bytes(), &self.headers)
            .unwrap_or_else(|e| panic!("signature of {self:?}: {e}"));
        assert_eq!(self.headers["content-type"], "application/json");
        self.json()
    }
}

#[derive(Clone, Default)]
struct Inbox {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

async fn receive(State(inbox): State<Inbox>, headers: HeaderMap, body: String) -> StatusCode {
    inbox
        .received
        .lock()
        .unwrap()
        .push(Received { headers, body });
    let next = inbox.script.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(next).expect("a status code")
}

pub struct Receiver {
    pub url: String,
    inbox: Inbox,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Listening on a fresh loopback port, answering `script` first (then 200).
    pub async fn start(script: &[u16]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        Self::serve(listener, script)
    }

    /// Listening on `port` (where nothing listened before: the endpoint comes up).
    pub async fn start_on(port: u16, script: &[u16]) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the endpoint's port");
        Self::serve(listener, script)
    }

    fn serve(listener: tokio::net::TcpListener, script: &[u16]) -> Self {
        let port = listener.local_addr().expect("address").port();
        let inbox = Inbox::default();
        inbox.script.lock().unwrap().extend(script);
        let app = Router::new()
            .route("/hooks", post(receive))
            .with_state(inbox.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the receiver runs");
        });
        Self {
            url: url_on(port),
            inbox,
            task,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.inbox.received.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived (panics after `within`); returns them all.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        crate::harness::wait_until(within, || async {
            let received = self.received();
            (received.len() >= n).then_some(received)
        })
        .await
        .unwrap_or_else(|| panic!("{n} webhook(s) expected, got {:?}", self.received()))
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The endpoint URL on a loopback port.
pub fn url_on(port: u16) -> String {
    format!("http://127.0.0.1:{port}/hooks")
}

/// A loopback port nothing listens on (connections are refused) until a test starts a
/// [`Receiver`] there.
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}
