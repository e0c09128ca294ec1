// Paid → seen in a real browser: for each transport, opens payment pages in Debian's Chromium
// (Playwright, as end2end/ does), pays each through the sandbox's wallet, and measures from the
// provider's paid time to the moment 支付成功 is on screen. A benchmark, not a test: it prints
// numbers and asserts nothing (the test command does not run it).
//
//   node bench/browser_latency.mjs                         # every transport, 20 payments each
//   node bench/browser_latency.mjs --n=40 --transports=sse,ws
//   BENCH_TRANSPORTS=poll,longpoll node bench/browser_latency.mjs
//   node bench/browser_latency.mjs --base-url=http://127.0.0.1:3000 --sandbox-db=data/scanpay-sandbox.db
//
// Options (each also as an environment variable):
//   --transports=LIST  BENCH_TRANSPORTS  poll,longpoll,sse,ws (default: all four). A transport
//                      the page does not know (its island falls back to SSE) is skipped, saying so.
//   --n=N              BENCH_N           payments per transport (default 20)
//   --open=K           BENCH_OPEN        payment pages open at once (default 5): each batch of K
//                      pages is opened and connected, then paid one by one
//   --port=P           BENCH_PORT        the port of the server it starts (default 4217)
//   --base-url=URL     BENCH_BASE_URL    a running server (development mode, sandbox mounted, demo
//                      auto-pay off) instead of starting target/release/server
//   --sandbox-db=PATH  BENCH_SANDBOX_DB  that server's sandbox SQLite file, for the exact paid time
//   --method=M         BENCH_METHOD      wechatpay (default) or alipay: the app paid with
//   --timeout=MS       BENCH_TIMEOUT_MS  a payment not shown paid within this is missed (default 10000)
//   --json=PATH                          also write every sample as JSON
//
// Paid time: the sandbox's own `trades.paid_at_ms` (its clock read in the wallet's approve, just
// before the transaction that marks the trade paid and queues the notification; read from its
// SQLite file with the sqlite3 CLI). The provider protocols give only whole seconds
// (success_time), so without the file the time the bench sent the approve is used instead
// (earlier, so latencies come out a few ms longer) and the output says so.
//
// Seen: measured in the page, so Playwright's own polling adds nothing. A MutationObserver
// notes when the payment's paid part (支付成功) is shown (its data-status) and the next requestAnimationFrame
// callback when the frame that paints it starts ("on screen"); both in performance.timeOrigin +
// performance.now(), wall-clock ms on the same machine as the node process's Date.now().
import { createRequire } from "node:module";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import os, { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(root, "end2end", "package.json"));
const { chromium } = require("playwright");

// ---------------------------------------------------------------------------------------------
// Options

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(a);
    if (!m) {
      console.error(`unknown argument ${a} (see the comment at the top of ${path.relative(root, fileURLToPath(import.meta.url))})`);
      process.exit(2);
    }
    return [m[1], m[2] ?? "true"];
  }),
);
const opt = (name, env, fallback) => args[name] ?? process.env[env] ?? fallback;
const ALL = ["poll", "longpoll", "sse", "ws"];
const transports = opt("transports", "BENCH_TRANSPORTS", ALL.join(","))
  .split(",")
  .map((t) => t.trim())
  .filter(Boolean);
for (const t of transports) {
  if (!ALL.includes(t)) {
    console.error(`unknown transport ${t}: one of ${ALL.join(", ")}`);
    process.exit(2);
  }
}
const N = Number(opt("n", "BENCH_N", 20));
const OPEN = Math.max(1, Number(opt("open", "BENCH_OPEN", 5)));
const PORT = Number(opt("port", "BENCH_PORT", 4217));
const TIMEOUT_MS = Number(opt("timeout", "BENCH_TIMEOUT_MS", 10_000));
const METHOD = opt("method", "BENCH_METHOD", "wechatpay");
if (!["wechatpay", "alipay"].includes(METHOD)) {
  console.error(`unknown method ${METHOD}: wechatpay or alipay`);
  process.exit(2);
}
let baseUrl = opt("base-url", "BENCH_BASE_URL", null);
let sandboxDb = opt("sandbox-db", "BENCH_SANDBOX_DB", null);
const jsonOut = args.json ?? null;

/** The page's `?transport=` values to try (today SSE is the default, which any unknown value
 *  gets), and the `transport` of the island's start data that proves the page took it. */
const QUERIES = { poll: ["poll"], longpoll: ["longpoll"], sse: ["sse", "events"], ws: ["ws"] };
const QUERY = {};
const PROP = { poll: "poll", longpoll: "longpoll", sse: "events", ws: "ws" };
const PAID_TEXT = "支付成功";

// ---------------------------------------------------------------------------------------------
// The server: the release binary, a fresh SQLite database, the sandbox's providers, no auto-pay

let server = null;
let dataDir = null;

async function startServer() {
  const bin = path.join(root, "target/release/server");
  if (!existsSync(bin)) {
    console.error("build first: bash scripts/build_release.sh");
    process.exit(1);
  }
  dataDir = mkdtempSync(path.join(tmpdir(), "scanpay-browser-bench-"));
  baseUrl = `http://127.0.0.1:${PORT}`;
  sandboxDb = path.join(dataDir, "bench-sandbox.db");
  server = spawn(bin, [], {
    cwd: root,
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      ...process.env,
      LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`,
      LEPTOS_SITE_ROOT: path.join(root, "target/site"),
      LEPTOS_ENV: "PROD",
      DATABASE_URL: `sqlite://${dataDir}/bench.db`,
      SCANPAY_AUTOPAY: "off",
      // Payments stay pending for the whole run, and reconciliation does not query the provider
      // during it: paid arrives by the provider's notification only (as bench/run.sh).
      SCANPAY_PAYMENT_TTL_SECS: "3600",
      SCANPAY_RECONCILE_SECS: "3000",
      // One browser is one client opening many pages (--open can pass the 16 streams per client).
      SCANPAY_RATE_LIMIT: "off",
      SCANPAY_STREAMS_PER_CLIENT: "10000",
      RUST_LOG: "warn",
    },
  });
  let stderr = "";
  server.stderr.on("data", (d) => (stderr += d));
  server.on("exit", (code) => {
    if (server) {
      console.error(`the server exited (${code}):\n${stderr}`);
      process.exit(1);
    }
  });
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) return;
    } catch {}
    await sleep(100);
  }
  console.error(`the server did not start on ${baseUrl}:\n${stderr}`);
  process.exit(1);
}

function stopServer() {
  if (server) {
    const s = server;
    server = null;
    s.kill("SIGTERM");
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function createOrder(i) {
  const r = await fetch(`${baseUrl}/api/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ totalAmount: 1 + (i % 50), description: "机械键盘" }),
  });
  if (r.status !== 200) throw new Error(`POST /api/orders: ${r.status} ${await r.text()}`);
  return (await r.json()).data.id;
}

/** The `transport` of the payment island's start data (its JSON data block) in the
 *  server-rendered page for `?transport=<query>`. */
async function islandTransport(query) {
  const id = await createOrder(0);
  const html = await (await fetch(`${baseUrl}/orders/${id}/pay?transport=${query}&method=${METHOD}`)).text();
  return /"transport":"(\w+)"/.exec(html)?.[1] ?? null;
}

/** Whether `transport` exists in this build: the page keeps it (an unknown value is SSE). Sets
 *  the query value to use in QUERY. */
async function supported(transport) {
  const why = [];
  for (const query of QUERIES[transport]) {
    const prop = await islandTransport(query);
    if (prop === null) return { ok: false, why: "no transport in the payment island's start data" };
    const ok = prop === PROP[transport];
    if (ok) {
      QUERY[transport] = query;
      return { ok, prop };
    }
    why.push(`?transport=${query} gives the island transport ${prop}`);
  }
  const missing = transport === "ws" ? "no WebSocket transport in this build" : `not ${PROP[transport]}`;
  return { ok: false, why: `${why.join(", ")}: ${missing}` };
}

/** The sandbox's paid time of a trade (ms), or null. */
function sandboxPaidAt(outTradeNo) {
  if (!sandboxDb || !/^[\w-]+$/.test(outTradeNo)) return null;
  try {
    const out = execFileSync(
      "sqlite3",
      ["-readonly", sandboxDb, `SELECT paid_at_ms FROM trades WHERE out_trade_no = '${outTradeNo}'`],
      { encoding: "utf8", timeout: 5_000 },
    ).trim();
    return out ? Number(out) : null;
  } catch {
    return null;
  }
}

function percentile(sorted, p) {
  // Nearest rank: the smallest value with at least p % of the samples at or below it.
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

// Installed in every page before its scripts run: notes when a pushed message arrives (SSE or
// WebSocket), for the breakdown only; the measured times do not depend on it.
const PROBE = () => {
  window.__pushes = [];
  const at = () => performance.timeOrigin + performance.now();
  const wrap = (name, events) => {
    const Original = window[name];
    if (!Original) return;
    const Wrapped = function (...a) {
      const source = new Original(...a);
      for (const e of events) source.addEventListener(e, () => window.__pushes.push({ kind: name, at: at() }));
      return source;
    };
    Wrapped.prototype = Original.prototype;
    Object.setPrototypeOf(Wrapped, Original);
    window[name] = Wrapped;
  };
  wrap("EventSource", ["status", "message"]);
  wrap("WebSocket", ["message"]);
};

// Installed once the page is connected: resolves with the times 支付成功 appeared.
const WATCH = (text) => {
  const at = () => performance.timeOrigin + performance.now();
  performance.setResourceTimingBufferSize(100_000);
  // The status reads made (start, response end), for the breakdown.
  const reads = () =>
    performance
      .getEntriesByType("resource")
      .filter((e) => /payment_status/.test(e.name))
      .map((e) => ({ start: performance.timeOrigin + e.startTime, end: performance.timeOrigin + e.responseEnd }));
  // Every state's part is in the page; the payment's data-status shows the one that matches.
  const shown = () => {
    const paid = document.querySelector(".payment .state-paid");
    return !!paid && paid.checkVisibility() && paid.textContent.includes(text);
  };
  window.__seen = new Promise((resolve) => {
    const done = () => {
      const dom = at();
      requestAnimationFrame(() => resolve({ dom, frame: at(), reads: reads(), pushes: window.__pushes ?? [] }));
    };
    if (shown()) return done();
    const observer = new MutationObserver(() => {
      if (shown()) {
        observer.disconnect();
        done();
      }
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
};

// ---------------------------------------------------------------------------------------------
// One transport

/** Opens a payment page for a new order and waits until it is hydrated and listening. */
async function openPayment(context, transport, i) {
  const orderId = await createOrder(i);
  const page = await context.newPage();
  const sockets = [];
  page.on("websocket", (ws) => sockets.push(ws.url()));
  await page.goto(`${baseUrl}/orders/${orderId}/pay?transport=${QUERY[transport]}&method=${METHOD}`);
  await page.locator('[data-hydrated="true"]').waitFor({ state: "attached", timeout: 30_000 });
  const connection = page.locator(".connection");
  let connected = true;
  try {
    if (transport === "poll") {
      // The first read is made at once; waiting for it puts the page in its steady 2-s cycle.
      await page.waitForFunction(() => /已检查 [1-9]/.test(document.querySelector(".connection")?.textContent ?? ""), null, { timeout: 10_000 });
    } else {
      await page.waitForFunction(() => /已连接/.test(document.querySelector(".connection")?.textContent ?? ""), null, { timeout: 10_000 });
    }
  } catch {
    connected = false;
  }
  const href = await page.getByRole("link", { name: /在(微信|支付宝)中打开/ }).getAttribute("href");
  await page.evaluate(WATCH, PAID_TEXT);
  const visibility = await page.evaluate(() => document.visibilityState);
  return { page, href, connected, sockets, visibility, connectionText: await connection.textContent() };
}

async function pay(entry) {
  const outTradeNo = new URL(entry.href).pathname.split("/").pop();
  const sent = Date.now();
  const r = await fetch(`${entry.href}/approve`, { method: "POST", redirect: "manual" });
  const answered = Date.now();
  if (r.status !== 303) throw new Error(`approve ${entry.href}: ${r.status}`);
  await r.arrayBuffer();
  let seen = null;
  try {
    seen = await entry.page.evaluate(
      (ms) => Promise.race([window.__seen, new Promise((r) => setTimeout(() => r(null), ms))]),
      TIMEOUT_MS,
    );
  } catch {}
  const paidAt = sandboxPaidAt(outTradeNo);
  return { outTradeNo, sent, answered, paidAt, seen };
}

async function runTransport(browser, transport) {
  const samples = [];
  const notes = new Set();
  for (let done = 0; done < N; ) {
    const k = Math.min(OPEN, N - done);
    const context = await browser.newContext({ locale: "zh-CN" });
    await context.addInitScript(PROBE);
    const entries = await Promise.all(Array.from({ length: k }, (_, j) => openPayment(context, transport, done + j)));
    for (const e of entries) {
      if (!e.connected) notes.add(`a page did not show itself connected (its line: ${e.connectionText?.trim()})`);
      if (e.visibility !== "visible") notes.add(`a page was ${e.visibility}`);
      if (transport === "ws" && e.sockets.length === 0) notes.add("a ?transport=ws page opened no WebSocket");
    }
    for (const e of entries) {
      // The shopper looks at this page: Chromium paints only the front tab of a window (the
      // others' frames come about once a second, though they count as visible).
      await e.page.bringToFront();
      // A random moment: polling's phase relative to the payment is uniform.
      await sleep(Math.random() * 2_000);
      const s = await pay(e);
      samples.push({ transport, connected: e.connected, ...s });
      process.stdout.write(".");
      await e.page.close();
    }
    await context.close();
    done += k;
  }
  process.stdout.write("\n");
  return { samples, notes: [...notes] };
}

// ---------------------------------------------------------------------------------------------
// Report

function summarize(transport, samples) {
  const paidExact = samples.every((s) => s.paidAt !== null);
  const seen = [];
  const sentToSeen = [];
  const toPush = [];
  const toRead = [];
  const readToScreen = [];
  let missed = 0;
  for (const s of samples) {
    if (!s.seen) {
      missed++;
      continue;
    }
    const from = paidExact ? s.paidAt : s.sent;
    seen.push(s.seen.frame - from);
    sentToSeen.push(s.seen.frame - s.sent);
    // What brought paid: the last push received and the last status read answered before the
    // view changed.
    const before = (t) => t <= s.seen.dom + 0.5;
    const read = s.seen.reads.filter((r) => before(r.end)).at(-1);
    const push = s.seen.pushes.filter((p) => before(p.at) && p.at >= s.sent - 5).at(-1);
    if (push) toPush.push(push.at - from);
    if (read) {
      toRead.push(read.end - from);
      readToScreen.push(s.seen.frame - read.end);
    }
    s.breakdown = { read: read ?? null, push: push ?? null };
  }
  const stats = (a) => {
    const sorted = [...a].sort((x, y) => x - y);
    return { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) };
  };
  return {
    transport,
    n: samples.length,
    missed,
    paidExact,
    seen: stats(seen),
    sentToSeen: stats(sentToSeen),
    toPush: stats(toPush),
    toRead: stats(toRead),
    readToScreen: stats(readToScreen),
  };
}

const NAMES = { poll: "polling 2 s", longpoll: "long-poll", sse: "SSE", ws: "WebSocket" };
const f = (x) => (Number.isFinite(x) ? Math.round(x).toString() : "–");

async function main() {
  if (!Number.isInteger(N) || N < 1) throw new Error("--n must be a positive integer");
  const started = !baseUrl;
  if (started) await startServer();
  baseUrl = baseUrl.replace(/\/$/, "");
  console.log(`server ${baseUrl}${started ? " (started: target/release/server, fresh SQLite, sandbox, auto-pay off)" : ""}`);
  if (!sandboxDb) console.log("paid time: no --sandbox-db, so the moment the approve was sent (overestimates)");
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
  const chromiumVersion = browser.version();
  const loadStart = os.loadavg().map((x) => x.toFixed(2)).join(" ");
  const results = [];
  const all = [];
  try {
    for (const transport of transports) {
      const support = await supported(transport);
      if (!support.ok) {
        console.log(`${transport}: SKIPPED — ${support.why}`);
        continue;
      }
      process.stdout.write(`${transport} (?transport=${QUERY[transport]}, island transport ${support.prop}), ${METHOD}, ${N} payments, ${OPEN} pages at a time `);
      const { samples, notes } = await runTransport(browser, transport);
      for (const note of notes) console.log(`  note: ${note}`);
      const summary = summarize(transport, samples);
      results.push(summary);
      all.push(...samples);
    }
  } finally {
    await browser.close();
    stopServer();
  }
  if (results.length === 0) return;
  const exact = results.every((r) => r.paidExact);
  const load = os.loadavg().map((x) => x.toFixed(2)).join(" ");
  console.log();
  console.log(`load average at the start ${loadStart}, at the end ${load}; ${os.cpus().length} CPUs; Chromium ${chromiumVersion}`);
  console.log(
    `Paid (${exact ? "the sandbox's paid_at_ms" : "the approve request sent"}) → 支付成功 on screen (the animation frame after the paid part was shown), ms; ` +
      `nearest-rank percentiles; missed = not shown within ${TIMEOUT_MS} ms`,
  );
  console.log();
  console.log("| transport | n | p50 ms | p95 ms | max ms | missed | approve sent → seen p50 / p95 ms |");
  console.log("|---|---|---|---|---|---|---|");
  for (const r of results) {
    console.log(
      `| ${NAMES[r.transport]} | ${r.n} | ${f(r.seen.p50)} | ${f(r.seen.p95)} | ${f(r.seen.max)} | ${r.missed} | ${f(r.sentToSeen.p50)} / ${f(r.sentToSeen.p95)} |`,
    );
  }
  console.log();
  console.log("Where the time goes (p50 / p95 ms; a push is an SSE event or WebSocket message, the status read the one whose answer showed paid):");
  console.log();
  console.log("| transport | paid → push received | paid → status read answered | read answered → on screen |");
  console.log("|---|---|---|---|");
  const pair = (s) => (s.n ? `${f(s.p50)} / ${f(s.p95)}` : "–");
  for (const r of results) {
    console.log(`| ${NAMES[r.transport]} | ${pair(r.toPush)} | ${pair(r.toRead)} | ${pair(r.readToScreen)} |`);
  }
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ results, samples: all }, null, 1));
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    stopServer();
    process.exit(130);
  });
}
main().catch((e) => {
  stopServer();
  console.error(e);
  process.exit(1);
});
