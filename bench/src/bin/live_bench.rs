//! Compares the payment page's transports — polling (2 s), long-poll (25 s), Server-Sent Events
//! and WebSocket — for N shoppers waiting on N payments at once, on loopback against the release
//! server: requests and bytes per completed payment, paid → client-notified latency (p50/p95/p99;
//! from the moment the wallet's approval is sent), server CPU time and RSS per watcher. Prints a
//! table; asserts nothing.
//!
//! `cargo run --release -p bench --bin live_bench -- [watchers=1000] [transports=poll,longpoll,sse,ws]
//!  [--rate=100] [--paid=2000]`
//!
//! While every watcher waits, `--paid` of the payments are paid at a steady `--rate` per second
//! (how shoppers really pay: a few per second out of thousands waiting); `--rate=0` pays them all
//! at once (200 in flight), which measures the callback pipeline's capacity rather than the push.
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

const POLL_INTERVAL: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Transport {
    Poll,
    LongPoll,
    Sse,
    WebSocket,
}

impl Transport {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "poll" => Some(Self::Poll),
            "longpoll" => Some(Self::LongPoll),
            "sse" => Some(Self::Sse),
            "ws" => Some(Self::WebSocket),
            _ => None,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Self::Poll => "poll 2 s",
            Self::LongPoll => "long-poll 25 s",
            Self::Sse => "SSE",
            Self::WebSocket => "WebSocket",
        }
    }
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    bytes: AtomicU64,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let server = root.join("target/release/server");
        let mut command = match std::env::var("BENCH_WRAP") {
            Ok(wrapper) => {
                let mut c = Command::new(wrapper);
                c.arg(server);
                c
            }
            Err(_) => Command::new(server),
        };
        let child = command
            .current_dir(&root)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", root.join("target/site"))
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/bench.db", dir.path().display()),
            )
            .env("SCANPAY_AUTOPAY", "off")
            // Every watcher is this one client: its per-client limits are lifted, and the
            // server-wide stream cap is raised past any watcher count it is given.
            .env("SCANPAY_RATE_LIMIT", "off")
            .env("SCANPAY_STREAMS_PER_CLIENT", "1000000")
            .env("SCANPAY_STREAMS_TOTAL", "1000000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start target/release/server (run `cargo leptos build --release` first)");
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// Resident memory (KiB) and CPU time (user + system, ms) of the server process.
    fn usage(&self) -> (u64, u64) {
        let pid = self.child.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let rss = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
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
        (rss, ticks * 10) // 100 ticks per second on Linux
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_healthy(client: &reqwest::Client, base: &str) {
    for _ in 0..600 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not start");
}

async fn create_payment(client: &reqwest::Client, base: &str, i: usize) -> String {
    let order: Value = client
        .post(format!("{base}/api/orders"))
        .json(&json!({ "totalAmount": (i % 500) + 1 }))
        .send()
        .await
        .expect("create order")
        .json()
        .await
        .expect("order JSON");
    let order_id = order["data"]["id"].as_str().expect("order id");
    let payment: Value = client
        .post(format!("{base}/api/pay/create"))
        .json(&json!({ "orderId": order_id }))
        .send()
        .await
        .expect("create payment")
        .json()
        .await
        .expect("payment JSON");
    payment["data"]["paymentId"]
        .as_str()
        .expect("payment id")
        .to_string()
}

/// Waits until the payment reads paid; returns when it saw it, in unix ms.
async fn watch(
    client: reqwest::Client,
    base: String,
    id: String,
    transport: Transport,
    counters: Arc<Counters>,
) -> Option<i64> {
    let count = |bytes: usize| {
        counters.requests.fetch_add(1, Ordering::Relaxed);
        counters.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    };
    match transport {
        Transport::Poll | Transport::LongPoll => loop {
            let url = match transport {
                Transport::Poll => format!("{base}/api/pay/{id}/status"),
                _ => format!("{base}/api/pay/{id}/status?wait=25&status=pending"),
            };
            let body = client.get(url).send().await.ok()?.bytes().await.ok()?;
            count(body.len());
            let v: Value = serde_json::from_slice(&body).ok()?;
            if v["data"]["status"] == "paid" {
                return Some(now_ms());
            }
            if transport == Transport::Poll {
                tokio::time::sleep(POLL_INTERVAL).await;
            }
        },
        Transport::Sse => {
            let mut response = client
                .get(format!("{base}/api/pay/{id}/events"))
                .send()
                .await
                .ok()?;
            count(0);
            let mut buffer = String::new();
            while let Ok(Some(chunk)) = response.chunk().await {
                counters
                    .bytes
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                if let Some(data) = buffer
                    .split("\n\n")
                    .filter_map(|event| event.lines().find_map(|l| l.strip_prefix("data:")))
                    .find(|data| data.contains("\"status\":\"paid\""))
                {
                    let v: Value = serde_json::from_str(data.trim()).ok()?;
                    return (v["status"] == "paid").then(now_ms);
                }
            }
            None
        }
        Transport::WebSocket => {
            let url = format!("{}/api/pay/{id}/ws", base.replacen("http://", "ws://", 1));
            // A small read buffer: 10,000 clients in this process (the server's is 512 B).
            let config = WebSocketConfig::default().read_buffer_size(4096);
            let (mut socket, _) =
                tokio_tungstenite::connect_async_with_config(url, Some(config), true)
                    .await
                    .ok()?;
            count(0);
            // Reading answers the server's pings too.
            while let Some(Ok(message)) = socket.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                counters
                    .bytes
                    .fetch_add(text.len() as u64, Ordering::Relaxed);
                let v: Value = serde_json::from_str(&text).ok()?;
                if v["status"] == "paid" {
                    return Some(now_ms());
                }
            }
            None
        }
    }
}

/// Waits (up to 60 s) until the server counts every watcher as open (`/metrics`), so that the
/// memory per watcher is measured with all of them connected. Polling holds nothing open.
async fn wait_connected(
    client: &reqwest::Client,
    base: &str,
    transport: Transport,
    watchers: usize,
) {
    let label = match transport {
        Transport::Poll => return,
        Transport::LongPoll => "long_poll",
        Transport::Sse => "sse",
        Transport::WebSocket => "websocket",
    };
    let series = format!("scanpay_live_streams_open{{transport=\"{label}\"}} ");
    let mut open = 0;
    for _ in 0..600 {
        let text = match client.get(format!("{base}/metrics")).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        open = text
            .lines()
            .find_map(|l| l.strip_prefix(&series)?.trim().parse::<f64>().ok())
            .unwrap_or(0.0) as usize;
        if open >= watchers {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "{}: only {open} of {watchers} watchers connected",
        transport.name()
    );
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// How the benchmark pays: how many of the waiting payments, and how fast.
#[derive(Clone, Copy)]
struct Paying {
    /// Payments per second; 0 = all at once (200 approvals in flight).
    rate: u32,
    /// How many of the watched payments get paid; the others keep waiting.
    count: usize,
}

/// Approves payments through the sandbox's WeChat Pay wallet (the notification path: signed,
/// encrypted, verified and decrypted by the merchant). Returns when each approval was sent
/// (unix ms, in the order of `ids`): the start of paid → seen. (The payment's own `paidAt` is
/// WeChat Pay's `success_time`, in whole seconds: up to 1 s early.)
async fn pay(client: &reqwest::Client, base: &str, ids: &[String], paying: Paying) -> Vec<i64> {
    let approve = |id: &String| {
        let client = client.clone();
        let url = format!("{base}/sandbox/pay/wechatpay/{id}/approve");
        async move {
            let _ = client.post(url).send().await;
        }
    };
    if paying.rate == 0 {
        return stream::iter(ids.iter())
            .map(|id| {
                let approval = approve(id);
                async move {
                    let sent = now_ms();
                    approval.await;
                    sent
                }
            })
            .buffered(200)
            .collect()
            .await;
    }
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(paying.rate)));
    let mut in_flight = Vec::with_capacity(ids.len());
    let mut sent = Vec::with_capacity(ids.len());
    for id in ids {
        tick.tick().await;
        sent.push(now_ms());
        in_flight.push(tokio::spawn(approve(id)));
    }
    for approval in in_flight {
        let _ = approval.await;
    }
    sent
}

async fn run(transport: Transport, watchers: usize, paying: Paying) -> String {
    let server = Server::start();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(watchers + 64)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    wait_healthy(&client, &server.base).await;
    let ids: Vec<String> = stream::iter(0..watchers)
        .map(|i| create_payment(&client, &server.base, i))
        .buffer_unordered(64)
        .collect()
        .await;
    // Each shopper's page load has already read its payment once (the server-rendered page), so
    // the status cache holds it before anyone watches: the baseline includes that, and the
    // difference is what the open watchers themselves cost.
    stream::iter(ids.iter())
        .map(|id| {
            client
                .get(format!("{}/api/pay/{id}/status", server.base))
                .send()
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    let (rss_before, _) = server.usage();
    // Requests and bytes are counted for the watchers whose payment gets paid.
    let paid_count = paying.count.min(watchers);
    let counters = Arc::new(Counters::default());
    let tasks: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let counters = if i < paid_count {
                counters.clone()
            } else {
                Arc::new(Counters::default())
            };
            tokio::spawn(watch(
                client.clone(),
                server.base.clone(),
                id.clone(),
                transport,
                counters,
            ))
        })
        .collect();
    // Let every watcher connect and settle into its steady state.
    tokio::time::sleep(Duration::from_secs(3)).await;
    wait_connected(&client, &server.base, transport, watchers).await;
    let (rss_watching, cpu_before) = server.usage();
    let started = Instant::now();
    let sent = pay(&client, &server.base, &ids[..paid_count], paying).await;
    let mut latencies = Vec::with_capacity(paid_count);
    let mut missed = 0;
    let mut tasks = tasks.into_iter();
    for (task, sent) in tasks.by_ref().take(paid_count).zip(sent) {
        match tokio::time::timeout(Duration::from_secs(60), task).await {
            Ok(Ok(Some(seen))) => latencies.push((seen - sent).max(0)),
            _ => missed += 1,
        }
    }
    let elapsed = started.elapsed();
    let (_, cpu_after) = server.usage();
    tasks.for_each(|unpaid| unpaid.abort());
    latencies.sort_unstable();
    let requests = counters.requests.load(Ordering::Relaxed) as f64;
    let bytes = counters.bytes.load(Ordering::Relaxed) as f64;
    let per_watcher_kib = (rss_watching.saturating_sub(rss_before)) as f64 / watchers as f64;
    let paid = match paying.rate {
        0 => format!("{paid_count} at once"),
        rate => format!("{paid_count} at {rate}/s"),
    };
    format!(
        "| {} | {watchers} | {paid} | {missed} | {:.1} | {:.0} | {} | {} | {} | {:.1} | {} | {:.2} |",
        transport.name(),
        requests / paid_count as f64,
        bytes / paid_count as f64,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99),
        elapsed.as_secs_f64(),
        cpu_after.saturating_sub(cpu_before),
        per_watcher_kib,
    )
}

#[tokio::main]
async fn main() {
    let (options, args): (Vec<String>, Vec<String>) =
        std::env::args().skip(1).partition(|a| a.starts_with("--"));
    let option = |name: &str, default: u64| {
        options
            .iter()
            .find_map(|o| o.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
            .unwrap_or(default)
    };
    let paying = Paying {
        rate: option("--rate", 100) as u32,
        count: option("--paid", 2000) as usize,
    };
    let watchers: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let transports: Vec<Transport> = args
        .get(1)
        .map(|list| list.split(',').filter_map(Transport::parse).collect())
        .unwrap_or_else(|| {
            vec![
                Transport::Poll,
                Transport::LongPoll,
                Transport::Sse,
                Transport::WebSocket,
            ]
        });
    println!(
        "| transport | watchers | paid | missed | requests/payment | bytes/payment | p50 ms | p95 ms | p99 ms | pay-all s | server CPU ms | RSS KiB/watcher |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for transport in transports {
        println!("{}", run(transport, watchers, paying).await);
    }
}
