import { test, expect, hydrated, createOrder, OPEN_IN_APP } from "./fixtures";
import { spawn, ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/** `?transport=ws`: the payment page's WebSocket (`/api/pay/:id/ws`), with polling as its safety
 *  net, as for the event stream (live.spec.ts). */
const WS = /\/api\/pay\/[\w-]+\/ws$/;
const EVENTS = /\/api\/pay\/[\w-]+\/events/;
const RECONNECTING = "网络不稳定,正在重新连接…";

test("?transport=ws: paid is pushed (shown in under a second), then the server closes with 1000", async ({ page, request, baseURL }) => {
  // Every close the page's sockets see, with its code and reason.
  const closes: string[] = [];
  await page.exposeFunction("__socketClosed", (code: number, reason: string) => closes.push(`${code} ${reason}`));
  await page.addInitScript(() => {
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        this.addEventListener("close", (e) => (window as any).__socketClosed(e.code, e.reason));
      }
    };
  });
  const streams: string[] = [];
  page.on("request", (r) => {
    if (EVENTS.test(r.url())) streams.push(r.url());
  });
  const received: string[] = [];
  page.on("websocket", (ws) => {
    if (WS.test(ws.url())) ws.on("framereceived", (f) => received.push(JSON.parse(String(f.payload)).status));
  });
  const orderId = await createOrder(request, baseURL!, 31);
  await page.goto(`/orders/${orderId}/pay?transport=ws`);
  await hydrated(page);
  // The status on connect (the page's Content-Security-Policy let the socket through).
  await expect.poll(() => received).toEqual(["pending"]);
  // While the socket is connected, polling slows to every 10 s: only the push can be this fast.
  await page.waitForTimeout(1_000);
  const link = await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");
  expect((await request.post(`${link}/approve`)).status()).toBe(200);
  const at = Date.now();
  await expect(page.getByText("✅ 支付成功")).toBeVisible({ timeout: 5_000 });
  expect(Date.now() - at, "paid → shown").toBeLessThan(1_000);
  // The payment ended: the server closes normally, saying why, and the page does not reconnect.
  await expect.poll(() => closes, { timeout: 1_500 }).toEqual(["1000 paid"]);
  expect(received).toEqual(["pending", "paid"]);
  expect(streams).toEqual([]);
});

test("a socket that drops is opened again after a pause, and then pushes paid", async ({ page, request, baseURL }) => {
  // The first socket is closed before it opens (as a proxy that refuses the upgrade would); the
  // next one goes through to the server.
  const attempts: number[] = [];
  await page.routeWebSocket(WS, (ws) => {
    attempts.push(Date.now());
    if (attempts.length === 1) {
      ws.close({ code: 4000, reason: "refused" });
    } else {
      ws.connectToServer();
    }
  });
  const orderId = await createOrder(request, baseURL!, 32);
  await page.goto(`/orders/${orderId}/pay?transport=ws`);
  await hydrated(page);
  await expect.poll(() => attempts.length, { timeout: 5_000 }).toBe(2);
  expect(attempts[1] - attempts[0], "the reconnect waits").toBeGreaterThanOrEqual(900);
  await page.waitForTimeout(1_000);
  await expect(page.getByText(RECONNECTING)).toBeHidden();
  const link = await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");
  expect((await request.post(`${link}/approve`)).status()).toBe(200);
  const at = Date.now();
  await expect(page.getByText("✅ 支付成功")).toBeVisible({ timeout: 5_000 });
  expect(Date.now() - at, "paid → shown").toBeLessThan(1_000);
  expect(attempts).toHaveLength(2);
});

/** A server of its own whose stream cap is one per client: the test holds that one, so the
 *  page's socket is refused before the upgrade (503 `streams_full`). */
test.describe("with every stream slot taken", () => {
  test.use({ expectedFailure: /\/api\/pay\/[\w-]+\/ws/ });
  let server: ChildProcess | undefined;
  let base = "";

  test.beforeAll(async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const root = path.resolve(__dirname, "..", "..");
    const data = mkdtempSync(path.join(tmpdir(), "scanpay-e2e-ws-"));
    server = spawn(path.join(root, "target/release/server"), [], {
      cwd: root,
      stdio: "ignore",
      env: {
        ...process.env,
        LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
        LEPTOS_SITE_ROOT: path.join(root, "target/site"),
        LEPTOS_ENV: "PROD",
        DATABASE_URL: `sqlite://${data}/ws.db`,
        SCANPAY_AUTOPAY: "off",
        SCANPAY_STREAMS_PER_CLIENT: "1",
        RUST_LOG: "warn",
      },
    });
    base = `http://127.0.0.1:${port}`;
    await expect
      .poll(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status, { timeout: 30_000 })
      .toBe(200);
  });

  test.afterAll(() => {
    server?.kill();
  });

  test("the page stays on polling, shows no error, and still reaches paid", async ({ page, request }) => {
    const orderId = await createOrder(request, base, 33);
    const payment = await request.post(`${base}/api/pay/create`, { data: { orderId } });
    const paymentId = (await payment.json()).data.paymentId as string;
    // This client's one stream slot, held by an event stream.
    const holder = new AbortController();
    const held = await fetch(`${base}/api/pay/${paymentId}/events`, { signal: holder.signal });
    expect(held.status).toBe(200);
    try {
      const refused = await fetch(`${base}/api/pay/${paymentId}/ws`);
      expect(refused.status).toBe(503);
      expect((await refused.json()).code).toBe("streams_full");
      const sockets: number[] = [];
      page.on("websocket", (ws) => {
        if (WS.test(ws.url())) sockets.push(Date.now());
      });
      const polls: number[] = [];
      page.on("request", (r) => {
        if (/get_payment_status/.test(r.url())) polls.push(Date.now());
      });
      await page.goto(`${base}/orders/${orderId}/pay?transport=ws`);
      await hydrated(page);
      // Refused again and again, at growing intervals (1 s, 2 s, 4 s …), while polling every 2 s
      // carries the page, without a word about the connection.
      await page.waitForTimeout(7_500);
      expect(sockets.length, "tries again").toBeGreaterThanOrEqual(2);
      expect(sockets.length, "backs off").toBeLessThanOrEqual(5);
      expect(polls.length, "polls every 2 s").toBeGreaterThanOrEqual(3);
      await expect(page.getByText(RECONNECTING)).toBeHidden();
      await expect(page.getByRole("alert")).toHaveCount(0);
      const link = await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");
      expect((await request.post(`${link}/approve`)).status()).toBe(200);
      await expect(page.getByText("✅ 支付成功")).toBeVisible({ timeout: 5_000 });
      await expect(page.getByText(RECONNECTING)).toBeHidden();
    } finally {
      holder.abort();
    }
  });
});
