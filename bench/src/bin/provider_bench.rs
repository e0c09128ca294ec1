//! The real protocols' cost: create_payment end to end through the WeChat Pay and Alipay adapters
//! and the sandbox over loopback HTTP (signed both ways), callback intake (verify + decrypt +
//! transition), and the parts that explain the totals. Prints tables; asserts nothing.
//!
//! `provider_bench [--seconds=5] [--concurrency=64] [--notifications=8000] [--no-dev]`
//!
//! Needs `target/release/server` and `target/release/scanpay-sandbox` beside this binary
//! (`cargo build --release -p server -p sandbox`). Each setup gets fresh SQLite files:
//! - production: the server configured with real provider settings, pointed at a standalone
//!   `scanpay-sandbox` process (its own store and port, as WeChat Pay and Alipay are other
//!   systems) — three processes, so each one's CPU time is counted apart;
//! - development (skipped with `--no-dev`): no provider configured, the server's own mounted
//!   sandbox, called over loopback HTTP by the same adapters.
//!
//! Callback intake: N payments are created pending, then N genuine notifications (signed with
//! the sandbox's own provider keys, read from its store, the resource encrypted with the APIv3
//! key — the sandbox's exact format), prepared before the clock starts, are POSTed once each,
//! then all again (duplicates); every payment must end paid with exactly one provider event.
use futures::stream::{self, StreamExt};
use sandbox::keys::{self, RsaKey, StoredKey};
use sandbox::wechatpay::auth::{answer_message, request_message};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    seconds: u64,
    concurrency: usize,
    notifications: usize,
    dev: bool,
}

impl Args {
    fn parse() -> Self {
        let mut args = Args {
            seconds: 5,
            concurrency: 64,
            notifications: 8000,
            dev: true,
        };
        for arg in std::env::args().skip(1) {
            let (key, value) = arg.split_once('=').unwrap_or((&arg, ""));
            match key {
                "--seconds" => args.seconds = value.parse().expect("--seconds=N"),
                "--concurrency" => args.concurrency = value.parse().expect("--concurrency=N"),
                "--notifications" => args.notifications = value.parse().expect("--notifications=N"),
                "--no-dev" => args.dev = false,
                _ => panic!(
                    "usage: provider_bench [--seconds=5] [--concurrency=64] \
                     [--notifications=8000] [--no-dev]"
                ),
            }
        }
        args
    }
}

// ---- processes ----

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// CPU time (user + system, ms) of a process, from `/proc/<pid>/stat`.
fn cpu_ms(pid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: u64 = fields
        .get(11..13)
        .map_or(0, |f| f.iter().filter_map(|t| t.parse::<u64>().ok()).sum());
    ticks * 10 // 100 ticks per second on Linux
}

struct Process {
    child: Child,
}

impl Process {
    fn spawn(binary: &Path, env: &[(String, String)], log: &Path) -> Self {
        let log = std::fs::File::create(log).expect("log file");
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let child = Command::new(binary)
            .current_dir(root)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        Self { child }
    }

    fn cpu_ms(&self) -> u64 {
        cpu_ms(&self.child.id().to_string())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("this binary's path");
    let path = exe.parent().expect("its directory").join(name);
    assert!(
        path.exists(),
        "{} is missing: cargo build --release -p server -p sandbox",
        path.display()
    );
    path
}

async fn wait_ok(client: &reqwest::Client, url: &str, log: &Path) {
    for _ in 0..600 {
        if let Ok(r) = client.get(url).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{url} never answered:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// The merchants a sandbox keeps in its SQLite store, as stored (JSON): the providers' keys.
async fn stored_merchants(url: &str) -> Value {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::SqliteConnection::connect(url)
        .await
        .expect("the sandbox's SQLite store");
    let body: String = sqlx::query("SELECT body FROM merchants WHERE id = 1")
        .fetch_one(&mut conn)
        .await
        .expect("the sandbox's merchants")
        .get(0);
    serde_json::from_str(&body).expect("stored merchants")
}

fn stored_key(stored: &Value) -> RsaKey {
    RsaKey::load(StoredKey {
        private_pem: stored["private_pem"].as_str().expect("private_pem").into(),
        public_pem: stored["public_pem"].as_str().expect("public_pem").into(),
    })
    .expect("a stored sandbox key")
}

fn text(v: &Value) -> String {
    v.as_str().expect("a string").to_string()
}

/// What WeChat Pay and Alipay hold: the keys notifications are signed with.
struct ProviderKeys {
    mchid: String,
    appid: String,
    public_key_id: String,
    api_v3_key: String,
    platform: RsaKey,
    app_id: String,
    seller_id: String,
    alipay: RsaKey,
}

impl ProviderKeys {
    fn of(stored: &Value) -> Self {
        let (w, a) = (&stored["wechatpay"], &stored["alipay"]);
        Self {
            mchid: text(&w["mchid"]),
            appid: text(&w["appid"]),
            public_key_id: text(&w["public_key_id"]),
            api_v3_key: text(&w["api_v3_key"]),
            platform: stored_key(&w["platform_key"]),
            app_id: text(&a["app_id"]),
            seller_id: text(&a["seller_id"]),
            alipay: stored_key(&a["alipay_key"]),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Setup {
    Production,
    Development,
}

impl Setup {
    fn name(self) -> &'static str {
        match self {
            Setup::Production => "production config + standalone sandbox",
            Setup::Development => "development (mounted sandbox)",
        }
    }
}

/// The server (and, in production configuration, the standalone sandbox) on fresh SQLite files.
struct Stack {
    server: Process,
    sandbox: Option<Process>,
    base: String,
    sandbox_base: String,
    sandbox_store: String,
    dir: tempfile::TempDir,
}

impl Stack {
    async fn start(setup: Setup, client: &reqwest::Client) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut env: Vec<(String, String)> = [
            ("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}")),
            ("LEPTOS_SITE_ROOT", "target/site".to_string()),
            (
                "DATABASE_URL",
                format!("sqlite://{}/scanpay.db", dir.path().display()),
            ),
            ("SCANPAY_AUTOPAY", "off".to_string()),
            ("SCANPAY_PAYMENT_TTL_SECS", "3600".to_string()),
            // Reconciliation pushed out: it must not query during a benchmark.
            ("SCANPAY_RECONCILE_SECS", "3000".to_string()),
            // The load generator is one client: the per-client rate limit is lifted.
            ("SCANPAY_RATE_LIMIT", "off".to_string()),
            ("RUST_LOG", "warn".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let (sandbox, sandbox_base, sandbox_store) = match setup {
            Setup::Development => (
                None,
                base.clone(),
                format!("sqlite://{}/scanpay-sandbox.db", dir.path().display()),
            ),
            Setup::Production => {
                let sandbox_port = free_port();
                let sandbox_base = format!("http://127.0.0.1:{sandbox_port}");
                let store = format!("sqlite://{}/sandbox.db", dir.path().display());
                let log = dir.path().join("sandbox.log");
                let process = Process::spawn(
                    &binary("scanpay-sandbox"),
                    &[
                        (
                            "SCANPAY_SANDBOX_ADDR".to_string(),
                            format!("127.0.0.1:{sandbox_port}"),
                        ),
                        ("SCANPAY_SANDBOX_DATABASE_URL".to_string(), store.clone()),
                        ("SCANPAY_AUTOPAY".to_string(), "off".to_string()),
                        ("RUST_LOG".to_string(), "warn".to_string()),
                    ],
                    &log,
                );
                wait_ok(client, &format!("{sandbox_base}/sandbox/credentials"), &log).await;
                env.extend(provider_env(client, &sandbox_base, dir.path(), &base).await);
                (Some(process), sandbox_base, store)
            }
        };
        let log = dir.path().join("server.log");
        let server = Process::spawn(&binary("server"), &env, &log);
        wait_ok(client, &format!("{base}/healthz"), &log).await;
        Stack {
            server,
            sandbox,
            base,
            sandbox_base,
            sandbox_store,
            dir,
        }
    }

    async fn credentials(&self, client: &reqwest::Client) -> Value {
        get_json(
            client,
            &format!("{}/sandbox/credentials", self.sandbox_base),
        )
        .await
    }

    async fn provider_keys(&self) -> ProviderKeys {
        ProviderKeys::of(&stored_merchants(&self.sandbox_store).await)
    }

    /// Payments in the server's store, read from its SQLite file.
    async fn stored_payments(&self) -> usize {
        use sqlx::{Connection, Row};
        let url = format!("sqlite://{}/scanpay.db", self.dir.path().display());
        let mut conn = sqlx::SqliteConnection::connect(&url)
            .await
            .expect("the server's SQLite store");
        let count: i64 = sqlx::query("SELECT COUNT(*) FROM payments")
            .fetch_one(&mut conn)
            .await
            .expect("a count")
            .get(0);
        let _ = conn.close().await;
        count as usize
    }

    /// CPU ms so far: (server, standalone sandbox, this process).
    fn cpu(&self) -> (u64, u64, u64) {
        (
            self.server.cpu_ms(),
            self.sandbox.as_ref().map_or(0, Process::cpu_ms),
            cpu_ms("self"),
        )
    }
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    client
        .get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

/// The real providers' variables for the sandbox's merchants, as a merchant would set them.
async fn provider_env(
    client: &reqwest::Client,
    sandbox_base: &str,
    dir: &Path,
    own_url: &str,
) -> Vec<(String, String)> {
    let c = get_json(client, &format!("{sandbox_base}/sandbox/credentials")).await;
    let (w, a) = (&c["wechatpay"], &c["alipay"]);
    let file = |name: &str, v: &Value| {
        let path = dir.join(name);
        std::fs::write(&path, text(v)).expect("key file");
        path.display().to_string()
    };
    [
        ("SCANPAY_PUBLIC_URL", own_url.to_string()),
        ("SCANPAY_WECHATPAY_MCHID", text(&w["mchid"])),
        ("SCANPAY_WECHATPAY_APPID", text(&w["appid"])),
        (
            "SCANPAY_WECHATPAY_MERCHANT_SERIAL_NO",
            text(&w["merchantSerialNo"]),
        ),
        (
            "SCANPAY_WECHATPAY_PRIVATE_KEY_FILE",
            file("apiclient_key.pem", &w["merchantPrivateKeyPem"]),
        ),
        ("SCANPAY_WECHATPAY_APIV3_KEY", text(&w["apiV3Key"])),
        ("SCANPAY_WECHATPAY_PUBLIC_KEY_ID", text(&w["publicKeyId"])),
        (
            "SCANPAY_WECHATPAY_PUBLIC_KEY_FILE",
            file("pub_key.pem", &w["publicKeyPem"]),
        ),
        ("SCANPAY_WECHATPAY_BASE_URL", text(&w["baseUrl"])),
        ("SCANPAY_ALIPAY_APP_ID", text(&a["appId"])),
        (
            "SCANPAY_ALIPAY_APP_PRIVATE_KEY_FILE",
            file("app_private_key.pem", &a["appPrivateKeyPem"]),
        ),
        (
            "SCANPAY_ALIPAY_PUBLIC_KEY_FILE",
            file("alipay_public_key.pem", &a["alipayPublicKeyPem"]),
        ),
        ("SCANPAY_ALIPAY_GATEWAY", text(&a["gateway"])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

// ---- load ----

/// One request of a load: answered well (`true`) or not.
#[derive(Default)]
struct LoadResult {
    ok: usize,
    errors: usize,
    elapsed: Duration,
    latencies_us: Vec<u64>,
    first_error: Option<String>,
}

impl LoadResult {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_us.len() as f64 * p) as usize).min(self.latencies_us.len() - 1);
        self.latencies_us[i] as f64 / 1000.0
    }
}

/// Runs `request(i)` for i = 0, 1, … from `concurrency` workers, until `count` requests were
/// started or `limit` has passed.
async fn load<F, Fut>(concurrency: usize, count: usize, limit: Duration, request: F) -> LoadResult
where
    F: Fn(usize) -> Fut + Sync,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let deadline = started + limit;
    let workers = (0..concurrency).map(|_| async {
        let mut result = LoadResult::default();
        loop {
            if Instant::now() >= deadline {
                break;
            }
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= count {
                break;
            }
            let t = Instant::now();
            match request(i).await {
                Ok(()) => {
                    result.ok += 1;
                    result.latencies_us.push(t.elapsed().as_micros() as u64);
                }
                Err(e) => {
                    result.errors += 1;
                    result.first_error.get_or_insert(e);
                }
            }
        }
        result
    });
    let results = futures::future::join_all(workers).await;
    let mut total = LoadResult {
        elapsed: started.elapsed(),
        ..LoadResult::default()
    };
    for r in results {
        total.ok += r.ok;
        total.errors += r.errors;
        total.latencies_us.extend(r.latencies_us);
        if total.first_error.is_none() {
            total.first_error = r.first_error;
        }
    }
    total.latencies_us.sort_unstable();
    total
}

async fn post_json(client: &reqwest::Client, url: &str, body: Value) -> Result<Value, String> {
    let r = client
        .post(url)
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let body: Value = r.json().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status} {body}"));
    }
    Ok(body)
}

/// `count` orders through the REST API (bench/src/bin/fixtures.rs's way): their ids.
async fn orders(client: &reqwest::Client, base: &str, count: usize) -> Vec<String> {
    stream::iter(0..count)
        .map(|i| async move {
            let order = post_json(
                client,
                &format!("{base}/api/orders"),
                json!({ "totalAmount": (i % 500) + 1 }),
            )
            .await
            .expect("an order");
            text(&order["data"]["id"])
        })
        .buffer_unordered(64)
        .collect()
        .await
}

struct Row {
    cells: Vec<String>,
}

fn print_table(header: &[&str], rows: &[Row]) {
    println!("| {} |", header.join(" | "));
    println!("|{}", "---|".repeat(header.len()));
    for row in rows {
        println!("| {} |", row.cells.join(" | "));
    }
}

/// CPU µs per operation of each process, from the ms deltas.
fn per_op(before: (u64, u64, u64), after: (u64, u64, u64), ops: usize) -> [String; 3] {
    let per = |a: u64, b: u64| {
        if ops == 0 {
            "—".to_string()
        } else {
            format!("{:.0}", (b - a) as f64 * 1000.0 / ops as f64)
        }
    };
    [
        per(before.0, after.0),
        per(before.1, after.1),
        per(before.2, after.2),
    ]
}

// ---- 1. the parts ----

/// Operations per second of `op`, run for about `limit` on one thread.
fn ops_per_sec(limit: Duration, mut op: impl FnMut()) -> (f64, f64) {
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < limit {
        for _ in 0..16 {
            op();
        }
        n += 16;
    }
    let secs = started.elapsed().as_secs_f64();
    (n as f64 / secs, secs * 1e6 / n as f64)
}

async fn sqlite_commits(dir: &Path, synchronous: &str, rows_per_tx: usize) -> (f64, f64) {
    use sqlx::{Connection, Executor};
    let url = format!(
        "sqlite://{}/commits-{synchronous}-{rows_per_tx}.db?mode=rwc",
        dir.display()
    );
    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("SQLite");
    conn.execute("PRAGMA journal_mode = WAL").await.unwrap();
    conn.execute(format!("PRAGMA synchronous = {synchronous}").as_str())
        .await
        .unwrap();
    conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
        .await
        .unwrap();
    let body = "x".repeat(300);
    let started = Instant::now();
    let mut commits = 0usize;
    while started.elapsed() < Duration::from_secs(2) {
        let mut tx = conn.begin().await.unwrap();
        for _ in 0..rows_per_tx {
            sqlx::query("INSERT INTO t (id, body) VALUES (?, ?)")
                .bind(keys::random_alphanumeric(24))
                .bind(&body)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        commits += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    (commits as f64 / secs, secs * 1e6 / commits as f64)
}

async fn parts(merchant_key: &RsaKey, api_v3_key: &str) {
    println!("\n## The parts, one thread each (2 s per row)\n");
    let mut rows = Vec::new();
    let message = request_message(
        "POST",
        "/v3/pay/transactions/native",
        "1700000000",
        "593BEC0C930BF1AFEB40B4A08C8FB242",
        &[b'x'; 330],
    );
    let (rate, us) = ops_per_sec(Duration::from_secs(2), || {
        std::hint::black_box(merchant_key.sign(&message));
    });
    rows.push(Row {
        cells: vec![
            "RSA-2048 sign, SHA256withRSA (ring)".into(),
            format!("{rate:.0}"),
            format!("{us:.1}"),
        ],
    });
    let signature = merchant_key.sign(&message);
    let public = merchant_key.public_pkcs1().to_vec();
    let (rate, us) = ops_per_sec(Duration::from_secs(2), || {
        assert!(keys::verify_pkcs1(&public, &message, &signature));
    });
    rows.push(Row {
        cells: vec![
            "RSA-2048 verify (ring)".into(),
            format!("{rate:.0}"),
            format!("{us:.1}"),
        ],
    });
    let plaintext = json!({
        "appid": "wx8888888888888888", "mchid": "1900000001",
        "out_trade_no": "pay_0123456789abcdef0123456789", "transaction_id": "4200000000000000000000000001",
        "trade_type": "NATIVE", "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
        "bank_type": "OTHERS", "success_time": "2026-01-02T10:34:57+08:00",
        "payer": { "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" },
        "amount": { "total": 1880, "payer_total": 1880, "currency": "CNY", "payer_currency": "CNY" },
    })
    .to_string();
    let sealed = keys::aes_gcm_encrypt(
        api_v3_key,
        "abcdefghijkl",
        "transaction",
        plaintext.as_bytes(),
    )
    .expect("AES-GCM");
    let (rate, us) = ops_per_sec(Duration::from_secs(2), || {
        std::hint::black_box(
            keys::aes_gcm_decrypt(api_v3_key, "abcdefghijkl", "transaction", &sealed).unwrap(),
        );
    });
    rows.push(Row {
        cells: vec![
            format!(
                "AEAD_AES_256_GCM decrypt of a notification's resource ({} bytes, base64 included)",
                sealed.len()
            ),
            format!("{rate:.0}"),
            format!("{us:.1}"),
        ],
    });
    let dir = tempfile::tempdir().expect("temp dir");
    for (synchronous, rows_per_tx) in [("NORMAL", 1), ("FULL", 1), ("NORMAL", 64), ("FULL", 64)] {
        let (rate, us) = sqlite_commits(dir.path(), synchronous, rows_per_tx).await;
        rows.push(Row {
            cells: vec![
                format!(
                    "SQLite commit, WAL, synchronous = {synchronous}, {rows_per_tx} row(s) of 300 B"
                ),
                format!("{rate:.0}"),
                format!("{us:.1}"),
            ],
        });
    }
    print_table(&["operation", "per second", "µs each"], &rows);
}

// ---- 2. the sandbox alone ----

/// WeChat Pay Native creates signed by this process, straight to the sandbox's front door, each
/// answer's signature verified: the provider's share of a create.
async fn sandbox_alone(
    client: &reqwest::Client,
    stack: &Stack,
    args: &Args,
    run: &str,
) -> (LoadResult, [String; 3]) {
    let c = stack.credentials(client).await;
    let w = &c["wechatpay"];
    let key = RsaKey::load(StoredKey {
        private_pem: text(&w["merchantPrivateKeyPem"]),
        public_pem: String::new(),
    })
    .expect("the merchant key");
    let platform = keys::pkcs1_from_spki_pem(&text(&w["publicKeyPem"])).expect("platform key");
    let base_url = text(&w["baseUrl"]);
    let path = format!(
        "{}/v3/pay/transactions/native",
        base_url.trim_start_matches(&stack.sandbox_base)
    );
    let url = format!("{base_url}/v3/pay/transactions/native");
    let (mchid, appid, serial, key_id) = (
        text(&w["mchid"]),
        text(&w["appid"]),
        text(&w["merchantSerialNo"]),
        text(&w["publicKeyId"]),
    );
    let notify_url = format!("{}/api/pay/notify/wechatpay", stack.base);
    let before = stack.cpu();
    let result = load(
        args.concurrency,
        usize::MAX,
        Duration::from_secs(args.seconds),
        |i| {
            let body = json!({
                "appid": appid, "mchid": mchid, "description": "bench",
                "out_trade_no": format!("bench{run}{i:09}"),
                "time_expire": sandbox::clock::rfc3339(sandbox::clock::now_ms() + 600_000),
                "notify_url": notify_url,
                "amount": { "total": (i % 500 + 1) * 100, "currency": "CNY" },
            })
            .to_string();
            let timestamp = (sandbox::clock::now_ms() / 1000).to_string();
            let nonce = keys::random_alphanumeric(32);
            let signature = key.sign(&request_message(
                "POST",
                &path,
                &timestamp,
                &nonce,
                body.as_bytes(),
            ));
            let authorization = format!(
                "WECHATPAY2-SHA256-RSA2048 mchid=\"{mchid}\",nonce_str=\"{nonce}\",\
                 signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{serial}\""
            );
            let request = client
                .post(&url)
                .header("accept", "application/json")
                .header("content-type", "application/json")
                .header("authorization", authorization)
                .header("wechatpay-serial", &key_id)
                .body(body);
            let platform = &platform;
            async move {
                let r = request.send().await.map_err(|e| e.to_string())?;
                let status = r.status();
                let header = |name: &str| {
                    r.headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string()
                };
                let (ts, nonce, sig) = (
                    header("wechatpay-timestamp"),
                    header("wechatpay-nonce"),
                    header("wechatpay-signature"),
                );
                let bytes = r.bytes().await.map_err(|e| e.to_string())?;
                if !status.is_success() {
                    return Err(format!("{status} {}", String::from_utf8_lossy(&bytes)));
                }
                if !keys::verify_pkcs1(platform, &answer_message(&ts, &nonce, &bytes), &sig) {
                    return Err("answer signature does not verify".into());
                }
                Ok(())
            }
        },
    )
    .await;
    let after = stack.cpu();
    let cpu = per_op(before, after, result.ok + result.errors);
    (result, cpu)
}

// ---- 3. create_payment end to end ----

async fn create_payments(
    client: &reqwest::Client,
    stack: &Stack,
    args: &Args,
    method: &str,
) -> (LoadResult, usize, [String; 3]) {
    // More than the load can use: every create is a new order's first payment.
    let pool = orders(client, &stack.base, 4000 * args.seconds as usize).await;
    let before_count = stack.stored_payments().await;
    let url = format!("{}/api/pay/create", stack.base);
    let before = stack.cpu();
    let result = load(
        args.concurrency,
        pool.len(),
        Duration::from_secs(args.seconds),
        |i| {
            let body = json!({ "orderId": pool[i], "method": method });
            let url = &url;
            async move {
                let answer = post_json(client, url, body).await?;
                if answer["data"]["method"] != method || answer["data"]["codeUrl"].is_null() {
                    return Err(format!("unexpected answer {answer}"));
                }
                Ok(())
            }
        },
    )
    .await;
    let after = stack.cpu();
    let stored = stack.stored_payments().await;
    let cpu = per_op(before, after, result.ok + result.errors);
    (result, stored - before_count, cpu)
}

// ---- 4. callback intake ----

/// A genuine notification: its headers and body.
struct Notification {
    headers: Vec<(&'static str, String)>,
    body: String,
    content_type: &'static str,
}

fn fen_of(yuan: &str) -> i64 {
    let (whole, frac) = yuan.split_once('.').unwrap_or((yuan, "0"));
    let frac = format!("{frac:0<2}");
    whole.parse::<i64>().expect("yuan") * 100 + frac[..2].parse::<i64>().expect("fen")
}

fn wechat_notification(keys: &ProviderKeys, payment_id: &str, amount_fen: i64) -> Notification {
    let now = sandbox::clock::now_ms();
    let transaction = json!({
        "appid": keys.appid,
        "mchid": keys.mchid,
        "out_trade_no": payment_id,
        "transaction_id": format!("42000000002026{}", keys::random_digits(14)),
        "trade_type": "NATIVE",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "attach": "",
        "success_time": sandbox::clock::rfc3339(now),
        "payer": { "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" },
        "amount": { "total": amount_fen, "payer_total": amount_fen, "currency": "CNY", "payer_currency": "CNY" },
    });
    let nonce = keys::random_alphanumeric(12);
    let ciphertext = keys::aes_gcm_encrypt(
        &keys.api_v3_key,
        &nonce,
        "transaction",
        transaction.to_string().as_bytes(),
    )
    .expect("AES-256-GCM");
    let body = json!({
        "id": format!("{:032x}", rand_u128()),
        "create_time": sandbox::clock::rfc3339(now),
        "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS",
        "summary": "支付成功",
        "resource": {
            "original_type": "transaction",
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": ciphertext,
            "associated_data": "transaction",
            "nonce": nonce,
        }
    })
    .to_string();
    let timestamp = (now / 1000).to_string();
    let header_nonce = keys::random_upper_hex(32);
    let signature = keys
        .platform
        .sign(&answer_message(&timestamp, &header_nonce, body.as_bytes()));
    Notification {
        headers: vec![
            ("wechatpay-timestamp", timestamp),
            ("wechatpay-nonce", header_nonce),
            ("wechatpay-signature", signature),
            ("wechatpay-serial", keys.public_key_id.clone()),
            (
                "wechatpay-signature-type",
                "WECHATPAY2-SHA256-RSA2048".into(),
            ),
        ],
        body,
        content_type: "application/json",
    }
}

fn rand_u128() -> u128 {
    let hex = keys::random_upper_hex(32);
    u128::from_str_radix(&hex, 16).expect("hex")
}

fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn alipay_notification(keys: &ProviderKeys, payment_id: &str, amount_fen: i64) -> Notification {
    let now = sandbox::clock::now_ms();
    let yuan = format!("{}.{:02}", amount_fen / 100, amount_fen % 100);
    let mut fields: BTreeMap<String, String> = [
        ("notify_time", sandbox::clock::alipay_time(now)),
        ("notify_type", "trade_status_sync".into()),
        ("notify_id", keys::random_alphanumeric(34)),
        ("app_id", keys.app_id.clone()),
        ("auth_app_id", keys.app_id.clone()),
        ("charset", "utf-8".into()),
        ("version", "1.0".into()),
        ("sign_type", "RSA2".into()),
        ("trade_no", format!("2026{}", keys::random_digits(24))),
        ("out_trade_no", payment_id.into()),
        ("buyer_id", "2088102177846875".into()),
        ("seller_id", keys.seller_id.clone()),
        ("trade_status", "TRADE_SUCCESS".into()),
        ("total_amount", yuan.clone()),
        ("receipt_amount", yuan.clone()),
        ("buyer_pay_amount", yuan),
        ("subject", "scanpay".into()),
        ("gmt_create", sandbox::clock::alipay_time(now - 5000)),
        ("gmt_payment", sandbox::clock::alipay_time(now)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let content = fields
        .iter()
        .filter(|(k, v)| !v.is_empty() && *k != "sign" && *k != "sign_type")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    fields.insert("sign".into(), keys.alipay.sign(content.as_bytes()));
    let body = fields
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    Notification {
        headers: Vec::new(),
        body,
        content_type: "application/x-www-form-urlencoded; charset=utf-8",
    }
}

struct Intake {
    first: LoadResult,
    first_cpu: [String; 3],
    again: LoadResult,
    again_cpu: [String; 3],
    paid_once: usize,
    wrong: Vec<String>,
}

async fn callback_intake(
    client: &reqwest::Client,
    stack: &Stack,
    args: &Args,
    method: &'static str,
    keys: &Arc<ProviderKeys>,
) -> Intake {
    let n = args.notifications;
    let pool = orders(client, &stack.base, n).await;
    let create_url = format!("{}/api/pay/create", stack.base);
    // Pending payments: (order, payment, amount in fen).
    let payments: Vec<(String, String, i64)> = stream::iter(pool)
        .map(|order| {
            let url = &create_url;
            async move {
                let answer = post_json(client, url, json!({ "orderId": order, "method": method }))
                    .await
                    .expect("a pending payment");
                let data = &answer["data"];
                (
                    order,
                    text(&data["paymentId"]),
                    fen_of(&data["amount"].to_string()),
                )
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    // Signed before the clock starts: the provider's work, not the merchant's.
    let notifications: Vec<Notification> = {
        let jobs: Vec<_> = payments
            .chunks(payments.len().div_ceil(2).max(1))
            .map(|chunk| {
                let chunk: Vec<(String, i64)> =
                    chunk.iter().map(|(_, p, a)| (p.clone(), *a)).collect();
                let keys = keys.clone();
                tokio::task::spawn_blocking(move || {
                    chunk
                        .iter()
                        .map(|(p, a)| match method {
                            "wechatpay" => wechat_notification(&keys, p, *a),
                            _ => alipay_notification(&keys, p, *a),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = Vec::new();
        for job in jobs {
            all.extend(job.await.expect("signing"));
        }
        all
    };
    let url = format!("{}/api/pay/notify/{method}", stack.base);
    let send = |i: usize| {
        let notification = &notifications[i];
        let mut request = client
            .post(&url)
            .header("content-type", notification.content_type)
            .body(notification.body.clone());
        for (name, value) in &notification.headers {
            request = request.header(*name, value);
        }
        async move {
            let r = request.send().await.map_err(|e| e.to_string())?;
            let status = r.status();
            let body = r.text().await.map_err(|e| e.to_string())?;
            let acknowledged = match method {
                "wechatpay" => status.as_u16() == 204 || status.as_u16() == 200,
                _ => status.as_u16() == 200 && body == "success",
            };
            if acknowledged {
                Ok(())
            } else {
                Err(format!("{status} {body}"))
            }
        }
    };
    let limit = Duration::from_secs(120);
    eprintln!(
        "provider_bench: {method} notifications start (server pid {})",
        stack.server.child.id()
    );
    let before = stack.cpu();
    let first = load(args.concurrency, n, limit, send).await;
    let middle = stack.cpu();
    let again = load(args.concurrency, n, limit, send).await;
    let after = stack.cpu();
    // Each payment: paid, with exactly one provider event after its creation.
    let checks: Vec<Result<(), String>> = stream::iter(&payments)
        .map(|(order, payment, _)| async move {
            let o = get_json(client, &format!("{}/api/orders/{order}", stack.base)).await;
            let p = o["data"]["payments"]
                .as_array()
                .and_then(|ps| ps.iter().find(|p| p["paymentId"] == payment.as_str()))
                .cloned()
                .unwrap_or(Value::Null);
            // Its transitions (events that changed the status): created, then paid once.
            let transitions: Vec<(String, String)> = p["events"]
                .as_array()
                .map(|es| {
                    es.iter()
                        .filter(|e| !e["newStatus"].is_null())
                        .map(|e| {
                            (
                                e["source"].as_str().unwrap_or("?").to_string(),
                                e["newStatus"].as_str().unwrap_or("?").to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let expected = [("api", "pending"), ("provider", "paid")];
            let once = transitions.len() == 2
                && transitions
                    .iter()
                    .zip(expected)
                    .all(|((s, st), (es, est))| s == es && st == est);
            if p["status"] == "paid" && once {
                Ok(())
            } else {
                Err(format!("{payment}: {} {transitions:?}", p["status"]))
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let wrong: Vec<String> = checks.into_iter().filter_map(Result::err).collect();
    Intake {
        first_cpu: per_op(before, middle, first.ok + first.errors),
        again_cpu: per_op(middle, after, again.ok + again.errors),
        first,
        again,
        paid_once: payments.len() - wrong.len(),
        wrong,
    }
}

fn load_cells(r: &LoadResult) -> Vec<String> {
    vec![
        format!("{:.0}", r.rate()),
        r.ok.to_string(),
        format!("{:.1}", r.percentile_ms(0.5)),
        format!("{:.1}", r.percentile_ms(0.99)),
        r.errors.to_string(),
    ]
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()
        .expect("HTTP client");
    let run = keys::random_digits(6);
    println!(
        "provider_bench: {} s per load, {} concurrent requests, {} notifications per protocol",
        args.seconds, args.concurrency, args.notifications
    );

    let stack = Stack::start(Setup::Production, &client).await;
    {
        let c = stack.credentials(&client).await;
        let w = &c["wechatpay"];
        let merchant = RsaKey::load(StoredKey {
            private_pem: text(&w["merchantPrivateKeyPem"]),
            public_pem: String::new(),
        })
        .expect("the merchant key");
        parts(&merchant, &text(&w["apiV3Key"])).await;
    }

    println!(
        "\n## create_payment ({} s at {} concurrent requests)\n",
        args.seconds, args.concurrency
    );
    let header = [
        "setup",
        "path",
        "per second",
        "answered",
        "p50 ms",
        "p99 ms",
        "errors",
        "stored",
        "server CPU µs/req",
        "standalone sandbox CPU µs/req",
        "bench CPU µs/req",
    ];
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let (alone, cpu) = sandbox_alone(&client, &stack, &args, &run).await;
    let mut cells = vec![
        Setup::Production.name().to_string(),
        "WeChat create straight to the sandbox, signed and verified by the bench".to_string(),
    ];
    cells.extend(load_cells(&alone));
    cells.push("—".into());
    cells.extend(cpu);
    rows.push(Row { cells });
    errors.extend(alone.first_error.clone());
    let mut setups = vec![(Setup::Production, stack)];
    if args.dev {
        setups.push((
            Setup::Development,
            Stack::start(Setup::Development, &client).await,
        ));
    }
    for (setup, stack) in &setups {
        for method in ["wechatpay", "alipay"] {
            let (result, stored, cpu) = create_payments(&client, stack, &args, method).await;
            let mut cells = vec![
                setup.name().to_string(),
                format!("POST /api/pay/create, {method}"),
            ];
            cells.extend(load_cells(&result));
            cells.push(stored.to_string());
            cells.extend(cpu);
            rows.push(Row { cells });
            errors.extend(result.first_error.clone());
        }
    }
    print_table(&header, &rows);

    println!(
        "\n## Callback intake ({} notifications per protocol, each sent once, then again)\n",
        args.notifications
    );
    let (_, stack) = &setups[0];
    let keys = Arc::new(stack.provider_keys().await);
    let mut rows = Vec::new();
    let mut wrong_all = Vec::new();
    for method in ["wechatpay", "alipay"] {
        let intake = callback_intake(&client, stack, &args, method, &keys).await;
        for (label, result, cpu) in [
            ("first delivery", &intake.first, &intake.first_cpu),
            ("duplicate", &intake.again, &intake.again_cpu),
        ] {
            let mut cells = vec![format!("POST /api/pay/notify/{method}, {label}")];
            cells.extend(load_cells(result));
            cells.push(format!("{}/{}", intake.paid_once, args.notifications));
            cells.extend(cpu.iter().cloned());
            rows.push(Row { cells });
            errors.extend(result.first_error.clone());
        }
        wrong_all.extend(intake.wrong.into_iter().take(3));
    }
    print_table(
        &[
            "notifications",
            "per second",
            "acknowledged",
            "p50 ms",
            "p99 ms",
            "errors",
            "paid exactly once",
            "server CPU µs/req",
            "standalone sandbox CPU µs/req",
            "bench CPU µs/req",
        ],
        &rows,
    );
    for e in errors.iter().take(5) {
        println!("- first error: {e}");
    }
    for w in wrong_all {
        println!("- not paid exactly once: {w}");
    }
}
