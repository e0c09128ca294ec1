//! Spawns the real server binary on a random port with a fresh SQLite database (or the
//! PostgreSQL in `SCANPAY_TEST_DATABASE_URL`), and talks to it over HTTP.
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::future::Future;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The secret tests sign notifications with (the server is started with it).
pub const NOTIFY_SECRET: &str = "test-notify-secret";

pub struct TestServer {
    child: Child,
    pub base: String,
    pub client: reqwest::Client,
    env: Vec<(String, String)>,
    pub database_url: String,
    _dir: tempfile::TempDir,
}

/// Which engine the suite runs on: SQLite unless `SCANPAY_TEST_ENGINE=postgres`, where
/// `SCANPAY_TEST_POSTGRES_URL` names a server on which each test gets a fresh database.
pub fn on_postgres() -> bool {
    std::env::var("SCANPAY_TEST_ENGINE").as_deref() == Ok("postgres")
}

async fn fresh_database_url(dir: &std::path::Path) -> String {
    if !on_postgres() {
        return format!("sqlite://{}/scanpay.db", dir.display());
    }
    use sqlx::{Connection, Executor};
    let admin = std::env::var("SCANPAY_TEST_POSTGRES_URL")
        .expect("SCANPAY_TEST_ENGINE=postgres needs SCANPAY_TEST_POSTGRES_URL");
    let name = format!("scanpay_test_{:016x}", rand_u64());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("PostgreSQL");
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("CREATE DATABASE");
    let (base, _) = admin.rsplit_once('/').expect("a database in the URL");
    format!("{base}/{name}")
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub struct Options {
    pub ttl_secs: u64,
    pub sweep_ms: u64,
    pub autopay: &'static str,
    /// SCANPAY_RECONCILE_SECS: offsets of the provider queries, then the interval.
    pub reconcile: &'static str,
    /// SCANPAY_SIM_FAULTS (JSON).
    pub faults: &'static str,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            ttl_secs: 300,
            sweep_ms: 200,
            autopay: "off",
            reconcile: "10,30,60,60",
            faults: "{}",
        }
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = fresh_database_url(dir.path()).await;
        Self::start_on(database_url, options, dir).await
    }

    /// Another server process on this one's database (PostgreSQL: several instances).
    pub async fn another_instance(&self) -> TestServer {
        let mut env = self.env.clone();
        let port = free_port();
        for (key, value) in env.iter_mut() {
            if key == "LEPTOS_SITE_ADDR" {
                *value = format!("127.0.0.1:{port}");
            }
        }
        let server = Self {
            child: spawn(&env),
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            env,
            database_url: self.database_url.clone(),
            _dir: tempfile::tempdir().expect("temp dir"),
        };
        server.wait_healthy().await;
        server
    }

    async fn start_on(database_url: String, options: Options, dir: tempfile::TempDir) -> Self {
        let port = free_port();
        let env = vec![
            ("LEPTOS_SITE_ADDR".to_string(), format!("127.0.0.1:{port}")),
            ("DATABASE_URL".to_string(), database_url.clone()),
            (
                "SCANPAY_PAYMENT_TTL_SECS".to_string(),
                options.ttl_secs.to_string(),
            ),
            ("SCANPAY_SWEEP_MS".to_string(), options.sweep_ms.to_string()),
            ("SCANPAY_AUTOPAY".to_string(), options.autopay.to_string()),
            (
                "SCANPAY_RECONCILE_SECS".to_string(),
                options.reconcile.to_string(),
            ),
            ("SCANPAY_SIM_FAULTS".to_string(), options.faults.to_string()),
            ("SCANPAY_SIM_FAULT_ENDPOINT".to_string(), "on".to_string()),
            (
                "SCANPAY_NOTIFY_SECRET".to_string(),
                NOTIFY_SECRET.to_string(),
            ),
            (
                "SCANPAY_NOTIFY_RETRY_SECS".to_string(),
                "0.2,0.2,0.5,1,1,1".to_string(),
            ),
            ("RUST_LOG".to_string(), "warn".to_string()),
        ];
        let child = spawn(&env);
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            env,
            database_url,
            _dir: dir,
        };
        server.wait_healthy().await;
        server
    }

    /// `kill -9`, then start again on the same database and port.
    pub async fn crash_and_restart(&mut self) {
        self.kill();
        self.child = spawn(&self.env);
        self.wait_healthy().await;
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL: no graceful shutdown
        let _ = self.child.wait();
    }

    async fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = self.client.get(self.url("/healthz")).send().await {
                if r.status() == StatusCode::OK {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "server did not become healthy");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.client.get(self.url(path)).send().await.expect("GET");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_raw(&self, path: &str, body: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("POST");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.post_raw(path, &body.to_string()).await
    }

    pub async fn health(&self) -> Value {
        self.get("/healthz").await.1
    }

    pub async fn create_order(&self, total_amount: Value) -> String {
        let (status, body) = self
            .post(
                "/api/orders",
                json!({ "totalAmount": total_amount, "description": "测试商品" }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"]["id"].as_str().expect("order id").to_string()
    }

    pub async fn create_payment(&self, order_id: &str) -> Value {
        let (status, body) = self
            .post("/api/pay/create", json!({ "orderId": order_id }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].clone()
    }

    /// A new order of `total_amount` yuan with one pending payment: `(order id, payment id)`.
    pub async fn pending_payment(&self, total_amount: impl Into<Value>) -> (String, String) {
        let order = self.create_order(total_amount.into()).await;
        let payment = self.create_payment(&order).await;
        let id = payment["paymentId"]
            .as_str()
            .expect("payment id")
            .to_string();
        (order, id)
    }

    pub async fn order(&self, order_id: &str) -> Value {
        let (status, body) = self.get(&format!("/api/orders/{order_id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].clone()
    }

    pub async fn payment_status(&self, payment_id: &str) -> Value {
        let (status, body) = self.get(&format!("/api/pay/{payment_id}/status")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].clone()
    }

    /// Presses a button on the simulator's wallet page; returns the final HTTP status.
    pub async fn wallet(&self, payment_id: &str, action: &str) -> StatusCode {
        self.client
            .post(self.url(&format!("/sim/pay/{payment_id}/{action}")))
            .send()
            .await
            .expect("wallet")
            .status()
    }

    /// Opens the payment's Server-Sent Events stream.
    pub async fn open_events(&self, payment_id: &str) -> reqwest::Response {
        self.client
            .get(self.url(&format!("/api/pay/{payment_id}/events")))
            .send()
            .await
            .expect("GET events")
    }

    /// Replaces the simulator's faults (JSON, e.g. `{"dropNotifications": true}`).
    pub async fn set_faults(&self, faults: Value) {
        let r = self
            .client
            .put(self.url("/sim/faults"))
            .json(&faults)
            .send()
            .await
            .expect("PUT /sim/faults");
        assert_eq!(r.status(), StatusCode::OK, "{faults}");
    }

    /// The payment's event log (from the order detail).
    pub async fn events(&self, order_id: &str, payment_id: &str) -> Vec<Value> {
        let order = self.order(order_id).await;
        let payment = order["payments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["paymentId"] == payment_id)
            .cloned()
            .expect("payment of the order");
        payment["events"].as_array().unwrap().clone()
    }

    /// Polls the payment until `want` (or panics after `within`).
    pub async fn wait_status(&self, payment_id: &str, want: &str, within: Duration) -> Value {
        wait_until(within, || async {
            let s = self.payment_status(payment_id).await;
            (s["status"] == want).then_some(s)
        })
        .await
        .unwrap_or_else(|| panic!("payment {payment_id} never became {want}"))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn(env: &[(String, String)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .envs(env.iter().cloned())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn server")
}

/// Calls `probe` until it returns `Some`, at most for `within`.
pub async fn wait_until<T, F, Fut>(within: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = probe().await {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
