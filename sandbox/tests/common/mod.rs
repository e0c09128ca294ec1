//! A sandbox on a random loopback port per test, keys generated once per test binary (a seed
//! store is copied), and small WeChat Pay / Alipay clients written from the protocol texts.
#![allow(dead_code)]
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use sandbox::{Credentials, Faults, Sandbox, SandboxConfig};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::mpsc;

/// The seed store as one complete file (see [`seed_dir`]).
const SEED_FILE: &str = "seed-copy.db";

fn seed_dir() -> &'static tempfile::TempDir {
    static SEED: OnceLock<tempfile::TempDir> = OnceLock::new();
    SEED.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/seed.db", dir.path().display());
        let dir_path = dir.path().to_path_buf();
        // Its own runtime and thread: every test's runtime is gone when that test ends.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(async {
                let sandbox = Sandbox::open(config(&url, "http://127.0.0.1:1"))
                    .await
                    .expect("seed");
                sandbox.close().await;
                // A copy of the file alone can miss what is still in its WAL (seen on CI: the
                // WAL outlived the close), and a torn copy never opens. VACUUM INTO writes one
                // complete file, whatever the WAL holds.
                use sqlx::Connection;
                let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("seed");
                let copy = dir_path.join(SEED_FILE);
                sqlx::query(&format!("VACUUM INTO '{}'", copy.display()))
                    .execute(&mut conn)
                    .await
                    .expect("a complete copy of the seed store");
                conn.close().await.expect("seed closed");
            });
        })
        .join()
        .expect("seeding the sandbox store");
        dir
    })
}

fn config(database_url: &str, public_url: &str) -> SandboxConfig {
    SandboxConfig {
        database_url: database_url.to_string(),
        public_url: public_url.to_string(),
        merchant_name: "测试商户".to_string(),
        autopay_secs: None,
        notify_retry: Some(vec![Duration::from_millis(50); 5]),
        faults: Faults::default(),
        fault_endpoint: true,
        tick: Duration::from_millis(20),
    }
}

pub struct TestSandbox {
    pub sandbox: Arc<Sandbox>,
    pub base: String,
    pub credentials: Credentials,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// A sandbox serving on a random port, its workers running.
pub async fn start(faults: Faults) -> TestSandbox {
    start_with(|config| config.faults = faults).await
}

pub async fn start_with(adjust: impl FnOnce(&mut SandboxConfig)) -> TestSandbox {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = match std::env::var("SCANPAY_TEST_ENGINE").as_deref() {
        Ok("postgres") => fresh_postgres_database().await,
        _ => {
            let db = dir.path().join("sandbox.db");
            std::fs::copy(seed_dir().path().join(SEED_FILE), &db).expect("copy the seed store");
            format!("sqlite://{}", db.display())
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = config(&database_url, &base);
    adjust(&mut config);
    let sandbox = Sandbox::open(config).await.expect("open the sandbox");
    if database_url.starts_with("postgres") {
        assert_only_in_its_schema(&database_url).await;
    }
    let app: axum::Router = sandbox.router();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    tokio::spawn(sandbox.clone().run_workers());
    TestSandbox {
        credentials: sandbox.credentials(),
        sandbox,
        base,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        _dir: dir,
    }
}

/// SCANPAY_TEST_ENGINE=postgres: a new database per test on SCANPAY_TEST_POSTGRES_URL's server.
async fn fresh_postgres_database() -> String {
    use sqlx::{Connection, Executor};
    let admin = std::env::var("SCANPAY_TEST_POSTGRES_URL")
        .expect("SCANPAY_TEST_ENGINE=postgres needs SCANPAY_TEST_POSTGRES_URL");
    sqlx::any::install_default_drivers();
    let name = format!("sandbox_test_{}", sandbox::keys::random_digits(12));
    let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let (server, _) = admin.rsplit_once('/').unwrap();
    format!("{server}/{name}")
}

/// The sandbox shares the merchant's database: its tables and migrations stay in its schema.
async fn assert_only_in_its_schema(database_url: &str) {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::AnyConnection::connect(database_url).await.unwrap();
    let count = |schema: &'static str| {
        sqlx::query("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1")
            .bind(schema)
    };
    let public: i64 = count("public").fetch_one(&mut conn).await.unwrap().get(0);
    let own: i64 = count(sandbox::POSTGRES_SCHEMA)
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!((public, own), (0, 4), "sandbox tables outside its schema");
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

pub async fn answer(response: reqwest::Response) -> Answer {
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

mod alipay;
mod wechat;

impl TestSandbox {
    pub async fn faults(&self, faults: &str) {
        let r = self
            .http
            .put(format!("{}/sandbox/faults", self.base))
            .body(faults.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }

    pub async fn wallet(&self, provider: &str, out_trade_no: &str, action: &str) -> Answer {
        let url = format!(
            "{}/sandbox/pay/{provider}/{out_trade_no}{action}",
            self.base
        );
        let request = if action.is_empty() {
            self.http.get(url)
        } else {
            self.http.post(url)
        };
        answer(request.send().await.unwrap()).await
    }
}

/// A merchant's notify endpoint: records every delivery, answers `failures` times with
/// `fail_answer`, then with `ok_answer`.
pub struct Listener {
    pub url: String,
    pub received: mpsc::UnboundedReceiver<(HeaderMap, Bytes)>,
}

pub async fn listener(
    failures: usize,
    fail_answer: (u16, &'static str),
    ok_answer: (u16, &'static str),
) -> Listener {
    let (tx, received) = mpsc::unbounded_channel();
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let handler = move |headers: HeaderMap, body: Bytes| {
        let tx = tx.clone();
        let count = count.clone();
        async move {
            tx.send((headers, body)).unwrap();
            let n = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let (status, text) = if n < failures { fail_answer } else { ok_answer };
            (StatusCode::from_u16(status).unwrap(), text)
        }
    };
    let app = axum::Router::new().route("/notify", axum::routing::post(handler));
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/notify", socket.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(socket, app).await.unwrap() });
    Listener { url, received }
}

impl Listener {
    pub async fn next(&mut self) -> (HeaderMap, Bytes) {
        tokio::time::timeout(Duration::from_secs(5), self.received.recv())
            .await
            .expect("a notification within 5 s")
            .expect("listener open")
    }
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", sandbox::keys::random_digits(16))
}
