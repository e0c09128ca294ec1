//! A sandbox on a random loopback port per test, keys generated once per test binary (a seed
//! store is copied), and small WeChat Pay / Alipay clients written from the protocol texts.
#![allow(dead_code)]
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use sandbox::{Credentials, Faults, Sandbox, SandboxConfig};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::mpsc;

fn seed_dir() -> &'static tempfile::TempDir {
    static SEED: OnceLock<tempfile::TempDir> = OnceLock::new();
    SEED.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/seed.db", dir.path().display());
        // Its own runtime and thread: every test's runtime is gone when that test ends.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(async {
                let sandbox = Sandbox::open(config(&url, "http://127.0.0.1:1"))
                    .await
                    .expect("seed");
                drop(sandbox);
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
            std::fs::copy(seed_dir().path().join("seed.db"), &db).expect("copy the seed store");
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

async fn answer(response: reqwest::Response) -> Answer {
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

impl TestSandbox {
    /// A WeChat Pay v3 request signed as a merchant signs it (path as sent, exact body).
    pub async fn wechat(&self, method: &str, path_and_query: &str, body: &str) -> Answer {
        self.wechat_signed_with(method, path_and_query, body, None)
            .await
    }

    pub async fn wechat_signed_with(
        &self,
        method: &str,
        path_and_query: &str,
        body: &str,
        signature: Option<&str>,
    ) -> Answer {
        let w = &self.credentials.wechatpay;
        let url = format!("{}{path_and_query}", w.base_url);
        let sent_path = url.trim_start_matches(&self.base);
        let timestamp = (sandbox::clock::now_ms() / 1000).to_string();
        let nonce = "593BEC0C930BF1AFEB40B4A08C8FB242";
        let message = sandbox::wechatpay::auth::request_message(
            method,
            sent_path,
            &timestamp,
            nonce,
            body.as_bytes(),
        );
        let signature = match signature {
            Some(s) => s.to_string(),
            None => sandbox::keys::sign_with_pem(&w.merchant_private_key_pem, &message).unwrap(),
        };
        let authorization = format!(
            r#"WECHATPAY2-SHA256-RSA2048 mchid="{}",nonce_str="{nonce}",signature="{signature}",timestamp="{timestamp}",serial_no="{}""#,
            w.mchid, w.merchant_serial_no
        );
        let request = self
            .http
            .request(method.parse().unwrap(), &url)
            .header("authorization", authorization)
            .header("accept", "application/json")
            .header("content-type", "application/json");
        let request = if body.is_empty() {
            request
        } else {
            request.body(body.to_string())
        };
        answer(request.send().await.unwrap()).await
    }

    /// Verifies Wechatpay-* headers over a body with the credentials' WeChat Pay public key.
    pub fn wechat_signature_ok(&self, headers: &HeaderMap, body: &[u8]) -> bool {
        let w = &self.credentials.wechatpay;
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        if header("wechatpay-serial") != w.public_key_id {
            return false;
        }
        let timestamp: i64 = header("wechatpay-timestamp").parse().unwrap_or(0);
        if (sandbox::clock::now_ms() / 1000 - timestamp).abs() >= 300 {
            return false;
        }
        let message = sandbox::wechatpay::auth::answer_message(
            &timestamp.to_string(),
            &header("wechatpay-nonce"),
            body,
        );
        let public = sandbox::keys::pkcs1_from_spki_pem(&w.public_key_pem).unwrap();
        sandbox::keys::verify_pkcs1(&public, &message, &header("wechatpay-signature"))
    }

    pub fn create_body(&self, out_trade_no: &str, total: i64, notify_url: &str) -> String {
        let w = &self.credentials.wechatpay;
        serde_json::json!({
            "appid": w.appid, "mchid": w.mchid, "description": "测试商品", "out_trade_no": out_trade_no,
            "notify_url": notify_url, "amount": { "total": total, "currency": "CNY" }
        })
        .to_string()
    }

    /// An Alipay gateway call as the official SDK sends it: common parameters in the query
    /// string, biz_content in the form body, RSA2 over all of them.
    pub async fn alipay(
        &self,
        method: &str,
        biz_content: &str,
        notify_url: Option<&str>,
    ) -> Answer {
        let a = &self.credentials.alipay;
        let timestamp = sandbox::alipay::alipay_time(sandbox::clock::now_ms());
        let mut params: BTreeMap<&str, &str> = BTreeMap::from([
            ("app_id", a.app_id.as_str()),
            ("method", method),
            ("format", "JSON"),
            ("charset", "utf-8"),
            ("sign_type", "RSA2"),
            ("timestamp", timestamp.as_str()),
            ("version", "1.0"),
            ("biz_content", biz_content),
        ]);
        if let Some(url) = notify_url {
            params.insert("notify_url", url);
        }
        let content =
            sandbox::alipay::sign::sign_content(params.iter().map(|(k, v)| (*k, *v)), &["sign"]);
        let sign =
            sandbox::keys::sign_with_pem(&a.app_private_key_pem, content.as_bytes()).unwrap();
        let mut query: Vec<(&str, &str)> = params
            .iter()
            .filter(|(k, _)| **k != "biz_content")
            .map(|(k, v)| (*k, *v))
            .collect();
        query.push(("sign", &sign));
        let url = format!(
            "{}?{}",
            a.gateway,
            serde_urlencoded::to_string(&query).unwrap()
        );
        let body = serde_urlencoded::to_string([("biz_content", biz_content)]).unwrap();
        let request = self
            .http
            .post(url)
            .header(
                "content-type",
                "application/x-www-form-urlencoded;charset=utf-8",
            )
            .body(body);
        answer(request.send().await.unwrap()).await
    }

    /// The `…_response` object of an Alipay answer, its signature verified over the raw text.
    pub fn alipay_response(&self, answer: &Answer, key: &str) -> serde_json::Value {
        let (object, verified) = self.alipay_response_unverified(answer, key);
        assert!(verified, "answer signature: {}", answer.body);
        object
    }

    /// The `…_response` object and whether its signature verifies.
    pub fn alipay_response_unverified(
        &self,
        answer: &Answer,
        key: &str,
    ) -> (serde_json::Value, bool) {
        let text = &answer.body;
        let start = text
            .find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("no {key}: {text}"))
            + key.len()
            + 3;
        let object = &text[start..start + matching_brace(&text[start..])];
        let sign = serde_json::from_str::<serde_json::Value>(text).unwrap()["sign"]
            .as_str()
            .unwrap()
            .to_string();
        let public =
            sandbox::keys::pkcs1_from_spki_pem(&self.credentials.alipay.alipay_public_key_pem)
                .unwrap();
        let verified = sandbox::keys::verify_pkcs1(&public, object.as_bytes(), &sign);
        (serde_json::from_str(object).unwrap(), verified)
    }

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

/// The length of the JSON object `text` starts with, through its matching `}`.
fn matching_brace(text: &str) -> usize {
    let (mut depth, mut in_string, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => in_string = false,
            (false, _, '"') => in_string = true,
            (false, _, '{') => depth += 1,
            (false, _, '}') => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced JSON: {text}")
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
