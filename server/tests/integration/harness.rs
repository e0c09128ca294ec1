//! Spawns the real server binary on a random port with a fresh database, and talks to it over
//! HTTP. The engine is SQLite unless `SCANPAY_TEST_ENGINE=postgres`; then each test gets a fresh
//! database on the PostgreSQL server that `SCANPAY_TEST_POSTGRES_URL` names (see [`on_postgres`]).
//!
//! Ports: the harness asks the OS for a free port, never hands the same one out twice in this
//! process, and starts the server on it. If another process takes the port in between, the server
//! exits with "Address already in use" and is spawned again on a fresh port; a server counts as up
//! only once its own process (by pid, from /proc) is listening on the port, so a stranger's
//! `/healthz` is never mistaken for ours.
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Both protocols, for tests that run once per provider.
pub const METHODS: [&str; 2] = ["wechatpay", "alipay"];

pub struct TestServer {
    child: Child,
    pub base: String,
    pub client: reqwest::Client,
    /// The merchant API key the harness's requests carry (`Authorization: Bearer`), if any.
    pub api_key: Option<String>,
    env: Vec<(String, String)>,
    pub database_url: String,
    /// The server's stderr goes here (read when it exits early or never becomes healthy), its
    /// log (stdout) beside it.
    stderr_path: PathBuf,
    _dir: tempfile::TempDir,
}

/// Which engine the suite runs on: SQLite unless `SCANPAY_TEST_ENGINE=postgres`, where
/// `SCANPAY_TEST_POSTGRES_URL` names a server on which each test gets a fresh database.
/// Panics on a selector this harness does not read, rather than silently running SQLite.
pub fn on_postgres() -> bool {
    for unknown in ["SCANPAY_TEST_DATABASE_URL", "SCANPAY_TEST_DB"] {
        assert!(
            std::env::var_os(unknown).is_none(),
            "{unknown} is not read by the integration tests: set SCANPAY_TEST_ENGINE=postgres \
             and SCANPAY_TEST_POSTGRES_URL"
        );
    }
    match std::env::var("SCANPAY_TEST_ENGINE").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(std::env::VarError::NotPresent) => false,
        Ok(other) => panic!("SCANPAY_TEST_ENGINE={other:?}: expected postgres or sqlite"),
        Err(e) => panic!("SCANPAY_TEST_ENGINE: {e}"),
    }
}

/// For tests that need several server processes on one database: PostgreSQL only. They are
/// `#[ignore]`d, so a plain `cargo test` reports them as ignored instead of "ok"; the PostgreSQL
/// pass runs them with `-- --include-ignored`. Run on SQLite anyway, they fail instead of passing.
pub fn require_postgres() {
    assert!(
        on_postgres(),
        "this test needs several server processes on one PostgreSQL: \
         SCANPAY_TEST_ENGINE=postgres SCANPAY_TEST_POSTGRES_URL=... cargo test -p server \
         --test integration -- --include-ignored"
    );
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

/// A port that was free a moment ago and that this process has not handed out before (the OS
/// may offer a just-released port again; two tests must never be given the same one). Another
/// process can still take it before the server binds it: [`TestServer`] then retries.
pub fn free_port() -> u16 {
    static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        if !handed_out.contains(&port) {
            handed_out.push(port);
            return port;
        }
    }
}

/// How many times a server is spawned on a fresh port after losing its port to another process.
const PORT_ATTEMPTS: usize = 5;

/// The inode of the socket listening on 127.0.0.1:`port` (or any address), from /proc/net/tcp.
fn listening_inode(port: u16) -> Option<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (_, local_port) = fields.get(1)?.split_once(':')?;
        let listening = fields.get(3) == Some(&"0A");
        (listening && u16::from_str_radix(local_port, 16).ok()? == port)
            .then(|| fields.get(9).map(|s| s.to_string()))
            .flatten()
    })
}

/// Whether process `pid` owns the socket listening on `port`. `None` without /proc (not Linux):
/// then only the health check and the process being alive say it is ours.
fn owns_listener(pid: u32, port: u16) -> Option<bool> {
    if !Path::new("/proc/net/tcp").exists() {
        return None;
    }
    let Some(inode) = listening_inode(port) else {
        return Some(false);
    };
    let want = format!("socket:[{inode}]");
    // Unreadable once the process has exited: then it is not listening either.
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Some(false);
    };
    Some(fds.flatten().any(|fd| {
        std::fs::read_link(fd.path())
            .map(|target| target.to_string_lossy() == want)
            .unwrap_or(false)
    }))
}

fn port_of(env: &[(String, String)]) -> u16 {
    env.iter()
        .find(|(k, _)| k == "LEPTOS_SITE_ADDR")
        .and_then(|(_, v)| v.rsplit_once(':'))
        .and_then(|(_, p)| p.parse().ok())
        .expect("LEPTOS_SITE_ADDR with a port")
}

/// Value of an [`Options::extra_env`] variable that stands for the server's own base URL
/// (`http://127.0.0.1:<its port>`), e.g. for `SCANPAY_PUBLIC_URL`.
pub const OWN_URL: &str = "{own url}";

fn set_port(env: &mut [(String, String)], port: u16) {
    let old = format!("http://127.0.0.1:{}", port_of(env));
    for (key, value) in env.iter_mut() {
        if key == "LEPTOS_SITE_ADDR" {
            *value = format!("127.0.0.1:{port}");
        } else if key == "SCANPAY_PUBLIC_URL" && *value == old {
            *value = format!("http://127.0.0.1:{port}");
        }
    }
}

/// Why a spawned server did not come up.
enum StartFailure {
    /// Another process bound the port first: try a fresh one.
    PortTaken,
    /// Anything else: the test fails with this.
    Fatal(String),
}

pub struct Options {
    /// The payments' lifetime. WeChat Pay's `time_expire` has whole seconds (cut down), so with
    /// 1 s the deadline the sandbox reads can be a few ms away and a busy machine's create is
    /// refused as already expired: tests that need a payment created reliably use 2 s or more.
    pub ttl_secs: u64,
    pub sweep_ms: u64,
    pub autopay: &'static str,
    /// SCANPAY_RECONCILE_SECS: offsets from creation of the provider queries ...
    pub reconcile: &'static str,
    /// ... SCANPAY_RECONCILE_EVERY_SECS: and then one every this many seconds.
    pub reconcile_every_secs: u64,
    /// SCANPAY_SANDBOX_FAULTS (JSON).
    pub faults: &'static str,
    /// SCANPAY_DEFAULT_METHOD: the protocol payments speak unless a test asks for another.
    pub method: &'static str,
    /// The port to try first (default: a fresh one). For the harness's own tests.
    pub port: Option<u16>,
    /// More variables for the server (after the harness's own, so they win): e.g. real provider
    /// settings pointing at a standalone sandbox.
    pub extra_env: Vec<(String, String)>,
    /// SCANPAY_MODE=production, none of the sandbox's variables, and an API key created with
    /// `server keys create` that the harness's requests carry (providers: `extra_env`).
    pub production: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            ttl_secs: 300,
            sweep_ms: 200,
            autopay: "off",
            reconcile: "10,30,60",
            reconcile_every_secs: 60,
            faults: "{}",
            method: "wechatpay",
            port: None,
            extra_env: Vec::new(),
            production: false,
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
        let dir = tempfile::tempdir().expect("temp dir");
        let mut env = self.env.clone();
        set_port(&mut env, free_port());
        let mut other = Self::launch(env, self.database_url.clone(), dir, "another instance").await;
        other.api_key = self.api_key.clone();
        other
    }

    async fn start_on(database_url: String, options: Options, dir: tempfile::TempDir) -> Self {
        let port = options.port.unwrap_or_else(free_port);
        let mut env = vec![
            ("LEPTOS_SITE_ADDR".to_string(), format!("127.0.0.1:{port}")),
            ("DATABASE_URL".to_string(), database_url.clone()),
            (
                "SCANPAY_PAYMENT_TTL_SECS".to_string(),
                options.ttl_secs.to_string(),
            ),
            ("SCANPAY_SWEEP_MS".to_string(), options.sweep_ms.to_string()),
            (
                "SCANPAY_RECONCILE_SECS".to_string(),
                options.reconcile.to_string(),
            ),
            (
                "SCANPAY_RECONCILE_EVERY_SECS".to_string(),
                options.reconcile_every_secs.to_string(),
            ),
            (
                "SCANPAY_DEFAULT_METHOD".to_string(),
                options.method.to_string(),
            ),
            (
                "SCANPAY_PROVIDER_TIMEOUT_MS".to_string(),
                "1000".to_string(),
            ),
            ("RUST_LOG".to_string(), "warn".to_string()),
        ];
        if options.production {
            env.push(("SCANPAY_MODE".to_string(), "production".to_string()));
            // The operator's endpoints on a listener of their own (any free port).
            env.push((
                "SCANPAY_METRICS_ADDR".to_string(),
                "127.0.0.1:0".to_string(),
            ));
        } else {
            env.extend(
                [
                    ("SCANPAY_AUTOPAY", options.autopay),
                    ("SCANPAY_SANDBOX_FAULTS", options.faults),
                    ("SCANPAY_SANDBOX_FAULT_ENDPOINT", "on"),
                    ("SCANPAY_SANDBOX_NOTIFY_RETRY_SECS", "0.2,0.2,0.5,1,1,1"),
                    // The tests are one client asking as fast as it can; limits.rs turns the
                    // per-client rate limit back on where it is under test.
                    ("SCANPAY_RATE_LIMIT", "off"),
                ]
                .map(|(k, v)| (k.to_string(), v.to_string())),
            );
        }
        env.extend(options.extra_env.into_iter().map(|(k, v)| {
            let v = if v == OWN_URL {
                format!("http://127.0.0.1:{port}")
            } else {
                v
            };
            (k, v)
        }));
        let api_key = options.production.then(|| {
            let (ok, key, stderr) = keys_cli(&env, &["create", "harness"]);
            assert!(ok, "server keys create: {stderr}");
            key.trim().to_string()
        });
        let mut server = Self::launch(env, database_url, dir, "server").await;
        server.api_key = api_key;
        server
    }

    /// Runs `server keys <args>` on this server's database: (success, stdout, stderr).
    pub fn keys(&self, args: &[&str]) -> (bool, String, String) {
        keys_cli(&self.env, args)
    }

    /// Spawns the server with `options` and expects it to refuse to start: returns its exit
    /// status and its stderr.
    pub async fn fails_to_start(options: Options) -> (std::process::ExitStatus, String) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut env = vec![
            ("LEPTOS_SITE_ADDR".to_string(), "127.0.0.1:0".to_string()),
            (
                "DATABASE_URL".to_string(),
                format!("sqlite://{}/scanpay.db", dir.path().display()),
            ),
            ("SCANPAY_AUTOPAY".to_string(), "off".to_string()),
            ("RUST_LOG".to_string(), "warn".to_string()),
        ];
        env.extend(options.extra_env);
        let stderr_path = dir.path().join("server.stderr");
        let mut child = spawn(&env, &stderr_path);
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().expect("child status") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the server did not exit in 30 s:\n{}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        (
            status,
            std::fs::read_to_string(&stderr_path).unwrap_or_default(),
        )
    }

    /// Spawns the server with `env` and waits until it is up, on a fresh port each time another
    /// process turns out to hold the one it was given.
    async fn launch(
        env: Vec<(String, String)>,
        database_url: String,
        dir: tempfile::TempDir,
        what: &str,
    ) -> Self {
        let stderr_path = dir.path().join(format!("{what}.stderr").replace(' ', "-"));
        let port = port_of(&env);
        let mut server = Self {
            child: spawn(&env, &stderr_path),
            base: format!("http://127.0.0.1:{port}"),
            client: test_client(),
            api_key: None,
            env: Vec::new(),
            database_url,
            stderr_path,
            _dir: dir,
        };
        server.come_up(env, what).await;
        server
    }

    /// Waits for the just-spawned child; spawns it again on a fresh port while another process
    /// turns out to hold the one it was given. Keeps `env` (with the port it got).
    async fn come_up(&mut self, mut env: Vec<(String, String)>, what: &str) {
        for attempt in 1..=PORT_ATTEMPTS {
            match self.wait_up(port_of(&env)).await {
                Ok(()) => {
                    self.env = env;
                    return;
                }
                Err(StartFailure::PortTaken) if attempt < PORT_ATTEMPTS => {
                    self.kill();
                    let port = free_port();
                    set_port(&mut env, port);
                    self.base = format!("http://127.0.0.1:{port}");
                    self.child = spawn(&env, &self.stderr_path);
                }
                Err(StartFailure::PortTaken) => {
                    panic!("{what}: port taken by another process {PORT_ATTEMPTS} times")
                }
                Err(StartFailure::Fatal(why)) => panic!("{what}: {why}"),
            }
        }
    }

    /// `kill -9`, then start again on the same database and port (a fresh port only if another
    /// process took it meanwhile).
    pub async fn crash_and_restart(&mut self) {
        self.kill();
        self.child = spawn(&self.env, &self.stderr_path);
        let env = std::mem::take(&mut self.env);
        self.come_up(env, "restarted server").await;
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL: no graceful shutdown
        let _ = self.child.wait();
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// What the server logged so far (its stdout).
    pub fn log(&self) -> String {
        std::fs::read_to_string(stdout_path(&self.stderr_path)).unwrap_or_default()
    }

    /// Waits until this child answers `/healthz` with 200 on `port` and is the process listening
    /// there; tells a port lost to another process from any other failure to start.
    async fn wait_up(&mut self, port: u16) -> Result<(), StartFailure> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(exit) = self.child.try_wait().expect("child status") {
                let stderr = self.stderr();
                // The server prints "listening on <addr>: Address already in use (os error 98)".
                return Err(
                    if stderr.contains("already in use") || stderr.contains("os error 98") {
                        StartFailure::PortTaken
                    } else {
                        StartFailure::Fatal(format!(
                            "exited with {exit} before it was healthy:\n{stderr}"
                        ))
                    },
                );
            }
            // With a timeout: a squatter's socket may accept the connection and never answer.
            let probe = self
                .client
                .get(self.url("/healthz"))
                .timeout(Duration::from_secs(2));
            let healthy = matches!(
                probe.send().await,
                Ok(r) if r.status() == StatusCode::OK
            );
            if healthy {
                match owns_listener(self.child.id(), port) {
                    Some(true) | None => return Ok(()),
                    // Someone else answers on our port: ours will fail to bind (or already has).
                    Some(false) if self.child.try_wait().ok().flatten().is_some() => continue,
                    Some(false) => {}
                }
            }
            if Instant::now() >= deadline {
                return Err(StartFailure::Fatal(format!(
                    "did not become healthy in 30 s:\n{}",
                    self.stderr()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The harness's API key on `request`, if it has one.
    fn with_key(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.api_key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .with_key(self.client.get(self.url(path)))
            .send()
            .await
            .expect("GET");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_raw(&self, path: &str, body: &str) -> (StatusCode, Value) {
        let r = self
            .with_key(self.client.post(self.url(path)))
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

    /// `/healthz` (liveness).
    pub async fn health(&self) -> Value {
        self.get("/healthz").await.1
    }

    /// `/readyz` (readiness, with the database's details; answered again for 10 s).
    pub async fn readiness(&self) -> Value {
        self.get("/readyz").await.1
    }

    /// How many rows `table` has now, read from the database itself.
    pub async fn rows(&self, table: &str) -> i64 {
        use sqlx::{Connection, Row};
        let sql = format!("SELECT COUNT(*) FROM {table}");
        if on_postgres() {
            let mut conn = sqlx::PgConnection::connect(&self.database_url)
                .await
                .expect("PostgreSQL");
            let count = sqlx::query(&sql).fetch_one(&mut conn).await.expect("count");
            let _ = conn.close().await;
            count.get(0)
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.database_url)
                .await
                .expect("SQLite");
            let count = sqlx::query(&sql).fetch_one(&mut conn).await.expect("count");
            let _ = conn.close().await;
            count.get(0)
        }
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

    /// A payment of `method` (`wechatpay` or `alipay`) for the order.
    pub async fn create_payment_with(&self, order_id: &str, method: &str) -> Value {
        let (status, body) = self
            .post(
                "/api/pay/create",
                json!({ "orderId": order_id, "method": method }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["method"], method, "{body}");
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

    /// The payment's code URL (the QR's text: the sandbox's wallet page).
    pub async fn code_url(&self, payment_id: &str) -> String {
        let order_id = self.payment_status(payment_id).await["orderId"]
            .as_str()
            .expect("orderId")
            .to_string();
        let payments = self.order(&order_id).await["payments"].clone();
        payments
            .as_array()
            .expect("payments")
            .iter()
            .find(|p| p["paymentId"] == payment_id)
            .and_then(|p| p["codeUrl"].as_str())
            .expect("the payment's codeUrl")
            .to_string()
    }

    /// Opens the payment's wallet page, as a phone does when it scans the QR (for Alipay, this
    /// is when the trade comes into existence); returns the page's status.
    pub async fn scan(&self, payment_id: &str) -> StatusCode {
        let code_url = self.code_url(payment_id).await;
        let page = self
            .client
            .get(&code_url)
            .send()
            .await
            .expect("wallet page");
        page.status()
    }

    /// Does what a shopper's phone does: opens the payment's code URL (the sandbox's wallet
    /// page: the scan) and presses `action` (`approve` or `decline`); returns the final status.
    pub async fn wallet(&self, payment_id: &str, action: &str) -> StatusCode {
        let code_url = self.code_url(payment_id).await;
        self.press(&code_url, action).await
    }

    /// [`Self::wallet`] on this process's own wallet page for the trade, whichever process made
    /// it: on PostgreSQL the instances share the sandbox's store, so this process's sandbox
    /// settles the trade and delivers its notification.
    pub async fn wallet_here(&self, payment_id: &str, action: &str) -> StatusCode {
        let code_url = self.code_url(payment_id).await;
        let path = code_url
            .find("/sandbox/")
            .map(|at| &code_url[at..])
            .expect("a sandbox wallet URL");
        self.press(&self.url(path), action).await
    }

    async fn press(&self, code_url: &str, action: &str) -> StatusCode {
        let scan = self.client.get(code_url).send().await.expect("wallet page");
        assert!(scan.status().is_success(), "wallet page: {}", scan.status());
        self.client
            .post(format!("{code_url}/{action}"))
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

    /// Replaces the sandbox's faults (JSON, e.g. `{"dropNotifications": true}`).
    pub async fn set_faults(&self, faults: Value) {
        let r = self
            .client
            .put(self.url("/sandbox/faults"))
            .json(&faults)
            .send()
            .await
            .expect("PUT /sandbox/faults");
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

/// `server keys <args>` with `env`: (success, stdout, stderr).
fn keys_cli(env: &[(String, String)], args: &[&str]) -> (bool, String, String) {
    let out = Command::new(server_binary())
        .arg("keys")
        .args(args)
        .envs(env.iter().cloned())
        .output()
        .expect("run server keys");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The harness's HTTP client. It lets an idle connection go after 5 s, before the server closes
/// it (its header-read timeout, 10 s by default): reusing a connection the server is closing at
/// that moment fails the request (`IncompleteMessage`), as a busy test run once found.
fn test_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(5))
        .build()
        .expect("HTTP client")
}

/// The server binary under test: this build's, or the one `SCANPAY_TEST_SERVER_BIN` names (the
/// test command runs the hostile-input suite against the release build that way).
fn server_binary() -> PathBuf {
    std::env::var_os("SCANPAY_TEST_SERVER_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_server")),
        PathBuf::from,
    )
}

fn stdout_path(stderr_path: &Path) -> PathBuf {
    stderr_path.with_extension("stdout")
}

fn spawn(env: &[(String, String)], stderr_path: &Path) -> Child {
    // This run's output only, so an earlier run's "address in use" is not read as this one's.
    let stderr = std::fs::File::create(stderr_path).expect("server stderr file");
    let stdout = std::fs::File::create(stdout_path(stderr_path)).expect("server log file");
    Command::new(server_binary())
        .envs(env.iter().cloned())
        .stdout(stdout)
        .stderr(stderr)
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

/// The status changes in a payment's event log: (source, new status), in order.
pub fn transitions(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| !e["newStatus"].is_null())
        .map(|e| {
            (
                e["source"].as_str().unwrap().to_string(),
                e["newStatus"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
