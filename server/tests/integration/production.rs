//! A server in production configuration — real provider settings, no sandbox merchants —
//! pointed at a standalone sandbox (its own store and port, as WeChat Pay and Alipay are other
//! systems), and servers refusing to start on a provider configured by halves.
use crate::harness::{transitions, Options, TestServer, METHODS, OWN_URL};
use reqwest::StatusCode;
use sandbox::{Faults, Sandbox, SandboxConfig};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// A sandbox served from this test process, like `scanpay-sandbox` on its own.
pub struct Standalone {
    pub base: String,
    pub sandbox: Arc<Sandbox>,
    store_url: String,
    dir: tempfile::TempDir,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Standalone {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

pub async fn standalone_sandbox() -> Standalone {
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port for the sandbox");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let store_url = format!("sqlite://{}/sandbox.db", dir.path().display());
    let sandbox = Sandbox::open(SandboxConfig {
        database_url: store_url.clone(),
        public_url: base.clone(),
        merchant_name: sandbox::DEFAULT_MERCHANT_NAME.to_string(),
        autopay_secs: None,
        notify_retry: Some(vec![
            Duration::from_millis(200),
            Duration::from_millis(500),
            Duration::from_secs(1),
        ]),
        faults: Faults::default(),
        fault_endpoint: false,
        tick: Duration::from_millis(100),
    })
    .await
    .expect("the standalone sandbox");
    let app: axum::Router = sandbox.router();
    let serve = tokio::spawn(async move {
        axum::serve(listener, app)
            .await
            .expect("the sandbox serves");
    });
    let workers = tokio::spawn(sandbox.clone().run_workers());
    Standalone {
        base,
        sandbox,
        store_url,
        dir,
        tasks: vec![serve, workers],
    }
}

impl Standalone {
    /// `GET /sandbox/credentials`, as a merchant's integrator would read it.
    async fn credentials(&self) -> Value {
        let r = reqwest::get(format!("{}/sandbox/credentials", self.base))
            .await
            .expect("GET /sandbox/credentials");
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.expect("credentials JSON")
    }

    /// Writes `text` to a file of the sandbox's temp dir; its path.
    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("key file");
        path.display().to_string()
    }

    /// The real providers' variables for the sandbox's merchants (as a merchant would set them
    /// from the two platforms), notifications to the server's own URL.
    pub async fn provider_env(&self) -> Vec<(String, String)> {
        let c = self.credentials().await;
        let (w, a) = (&c["wechatpay"], &c["alipay"]);
        let s = |v: &Value| v.as_str().expect("a credential").to_string();
        assert_eq!(s(&w["baseUrl"]), format!("{}/sandbox/wechatpay", self.base));
        assert_eq!(
            s(&a["gateway"]),
            format!("{}/sandbox/alipay/gateway.do", self.base)
        );
        [
            ("SCANPAY_PUBLIC_URL", OWN_URL.to_string()),
            ("SCANPAY_WECHATPAY_MCHID", s(&w["mchid"])),
            ("SCANPAY_WECHATPAY_APPID", s(&w["appid"])),
            (
                "SCANPAY_WECHATPAY_MERCHANT_SERIAL_NO",
                s(&w["merchantSerialNo"]),
            ),
            (
                "SCANPAY_WECHATPAY_PRIVATE_KEY_FILE",
                self.file("apiclient_key.pem", &s(&w["merchantPrivateKeyPem"])),
            ),
            ("SCANPAY_WECHATPAY_APIV3_KEY", s(&w["apiV3Key"])),
            ("SCANPAY_WECHATPAY_PUBLIC_KEY_ID", s(&w["publicKeyId"])),
            (
                "SCANPAY_WECHATPAY_PUBLIC_KEY_FILE",
                self.file("pub_key.pem", &s(&w["publicKeyPem"])),
            ),
            ("SCANPAY_WECHATPAY_BASE_URL", s(&w["baseUrl"])),
            ("SCANPAY_ALIPAY_APP_ID", s(&a["appId"])),
            (
                "SCANPAY_ALIPAY_APP_PRIVATE_KEY_FILE",
                self.file("app_private_key.pem", &s(&a["appPrivateKeyPem"])),
            ),
            (
                "SCANPAY_ALIPAY_PUBLIC_KEY_FILE",
                self.file("alipay_public_key.pem", &s(&a["alipayPublicKeyPem"])),
            ),
            ("SCANPAY_ALIPAY_GATEWAY", s(&a["gateway"])),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

async fn production_server(env: Vec<(String, String)>) -> TestServer {
    TestServer::start_with(Options {
        extra_env: env,
        ..Options::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_production_configured_server_is_paid_through_a_standalone_sandbox() {
    let standalone = standalone_sandbox().await;
    let server = production_server(standalone.provider_env().await).await;
    for method in METHODS {
        let order = server.create_order(json!(18.8)).await;
        let p = server.create_payment_with(&order, method).await;
        let id = p["paymentId"].as_str().unwrap().to_string();
        // The QR is the standalone sandbox's wallet page, not the server's own sandbox.
        assert_eq!(
            p["codeUrl"],
            format!("{}/sandbox/pay/{method}/{id}", standalone.base),
            "{method}"
        );
        assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
        server
            .wait_status(&id, "paid", Duration::from_secs(5))
            .await;
        let events = server.events(&order, &id).await;
        assert_eq!(
            transitions(&events),
            [
                ("api".into(), "pending".into()),
                ("provider".into(), "paid".into())
            ],
            "{method}: paid by the sandbox's notification: {events:?}"
        );
        assert_eq!(server.order(&order).await["status"], "paid");
    }
    // The standalone sandbox's faults reach this server too: a forged answer fails the create
    // and nothing is written.
    standalone.sandbox.set_faults(Faults {
        forged_answers: true,
        ..Faults::default()
    });
    let order = server.create_order(json!(3)).await;
    let (status, body) = server
        .post(
            "/api/pay/create",
            json!({ "orderId": order, "method": "alipay" }),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(server.order(&order).await["payments"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alipays_slot_holding_the_apps_own_public_key_fails_create_and_writes_nothing() {
    let standalone = standalone_sandbox().await;
    let mut env = standalone.provider_env().await;
    // The classic mix-up: the application's own public key (应用公钥) where Alipay's belongs.
    let stored = crate::provider_side::stored_merchants(&standalone.store_url).await;
    let app_public = stored["alipay"]["app_key"]["public_pem"]
        .as_str()
        .expect("the app's public key")
        .to_string();
    let path = standalone.file("app_public_key.pem", &app_public);
    for (key, value) in env.iter_mut() {
        if key == "SCANPAY_ALIPAY_PUBLIC_KEY_FILE" {
            *value = path.clone();
        }
    }
    let server = production_server(env).await;
    let order = server.create_order(json!(5)).await;
    let (status, body) = server
        .post(
            "/api/pay/create",
            json!({ "orderId": order, "method": "alipay" }),
        )
        .await;
    assert!(
        status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::BAD_GATEWAY,
        "{status}: {body}"
    );
    assert!(
        ["provider_unavailable", "provider_rejected"]
            .contains(&body["code"].as_str().unwrap_or("")),
        "{body}"
    );
    assert!(!body["message"].as_str().unwrap_or("").is_empty(), "{body}");
    assert_eq!(server.order(&order).await["payments"], json!([]));
    // WeChat Pay, configured right, still takes the order.
    let p = server.create_payment_with(&order, "wechatpay").await;
    assert!(p["paymentId"].is_string());
}

/// Every line the server printed that names `var`.
fn lines_naming<'a>(stderr: &'a str, var: &str) -> Vec<&'a str> {
    stderr
        .lines()
        .filter(|l| l.contains(&format!("{var}=")) || l.contains(&format!("{var}:")))
        .collect()
}

#[tokio::test]
async fn a_half_configured_provider_stops_the_server_with_one_line_per_problem() {
    let env = [
        ("SCANPAY_WECHATPAY_MCHID", "1900000001"),
        (
            "SCANPAY_WECHATPAY_PRIVATE_KEY_FILE",
            "/nonexistent/apiclient_key.pem",
        ),
        ("SCANPAY_ALIPAY_APP_ID", "2021000000000001"),
    ];
    let (status, stderr) = TestServer::fails_to_start(Options {
        extra_env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Options::default()
    })
    .await;
    assert!(!status.success(), "{status}: {stderr}");
    let missing = [
        "SCANPAY_WECHATPAY_APPID",
        "SCANPAY_WECHATPAY_MERCHANT_SERIAL_NO",
        "SCANPAY_WECHATPAY_PRIVATE_KEY_FILE",
        "SCANPAY_WECHATPAY_APIV3_KEY_FILE",
        "SCANPAY_WECHATPAY_PUBLIC_KEY_ID",
        "SCANPAY_ALIPAY_APP_PRIVATE_KEY_FILE",
        "SCANPAY_ALIPAY_PUBLIC_KEY_FILE",
    ];
    for var in missing {
        assert_eq!(
            lines_naming(&stderr, var).len(),
            1,
            "one line about {var}:\n{stderr}"
        );
    }
    assert!(
        stderr.contains("/nonexistent/apiclient_key.pem"),
        "the missing file is named:\n{stderr}"
    );
    let problems = stderr
        .lines()
        .filter(|l| l.starts_with("scanpay: configuration:"))
        .count();
    assert_eq!(problems, missing.len(), "one line per problem:\n{stderr}");
}

#[tokio::test]
async fn a_provider_key_that_cannot_work_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let env = vec![
        ("SCANPAY_WECHATPAY_MCHID", "1900000001".to_string()),
        ("SCANPAY_WECHATPAY_APPID", "wxd678efh567hg6787".to_string()),
        (
            "SCANPAY_WECHATPAY_MERCHANT_SERIAL_NO",
            "5157F09EFDC096DE15EBE81A47057A7232F1B8E1".to_string(),
        ),
        (
            "SCANPAY_WECHATPAY_PRIVATE_KEY_FILE",
            file("apiclient_key.pem", include_str!("fixtures/forger.key.pem")),
        ),
        // 31 bytes: not an APIv3 key.
        (
            "SCANPAY_WECHATPAY_APIV3_KEY",
            "0123456789abcdef0123456789abcde".to_string(),
        ),
        (
            "SCANPAY_WECHATPAY_PUBLIC_KEY_ID",
            "PUB_KEY_ID_0114232019292024111300388500000000".to_string(),
        ),
        (
            "SCANPAY_WECHATPAY_PUBLIC_KEY_FILE",
            file("pub_key.pem", include_str!("fixtures/forger.pub.pem")),
        ),
    ];
    let (status, stderr) = TestServer::fails_to_start(Options {
        extra_env: env.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        ..Options::default()
    })
    .await;
    assert!(!status.success(), "{status}: {stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("scanpay:"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("api_v3_key"), "{stderr}");
}
