import { test, expect, hydrated, artifact, createOrder, wallet, OPEN_IN_APP } from "./fixtures";

const STATUS = /\/api\/get_payment_status/;

/** Counts status polls the page makes from now on. */
function countPolls(page: import("@playwright/test").Page) {
  const seen: number[] = [];
  page.on("request", (r) => {
    if (STATUS.test(r.url())) seen.push(Date.now());
  });
  return seen;
}

test.describe("when polls fail", () => {
  test.use({ expectedFailure: /get_payment_status/ });

  test("the page says it is reconnecting, and the online event polls at once", async ({ page, request, baseURL }) => {
    test.setTimeout(120_000);
    const orderId = await createOrder(request, baseURL!, 15);
    // Polling alone: with a healthy event stream, polls are 10 s apart.
    await page.goto(`/orders/${orderId}/pay?transport=poll`);
    await hydrated(page);
    await expect(page.locator(".connection")).toHaveText(/已检查 [1-9]/);
    const banner = page.getByText("网络不稳定,正在重新连接…");
    const qr = page.getByRole("img", { name: /支付二维码/ });
    // Refused until three polls in a row have failed: the next timed poll is then 8-24 s away
    // (16 s ± 50 %), so only the `online` handler can answer within 2 s. (Requests that never
    // reach the server are retried every 2 s instead: connection.spec.ts.)
    const goOffline = async () => {
      let failed = 0;
      await page.route(STATUS, (route) => {
        failed += 1;
        return route.fulfill({ status: 503, json: { code: "server_busy", message: "busy" } });
      });
      await expect.poll(() => failed, { timeout: 40_000 }).toBeGreaterThanOrEqual(3);
      await expect(banner).toBeVisible();
    };
    const goOnline = async () => {
      await page.unroute(STATUS);
      await page.evaluate(() => window.dispatchEvent(new Event("online")));
    };

    await goOffline();
    await page.screenshot({ path: artifact("pay-reconnecting") });
    // Back online while still pending: the banner goes, the QR stays.
    await goOnline();
    await expect(banner).toBeHidden({ timeout: 2_000 });
    await expect(qr).toBeVisible();

    await goOffline();
    // The QR and countdown stay usable meanwhile.
    await expect(qr).toBeVisible();
    const link = await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");
    await wallet(page, link!, "确认支付");
    await goOnline();
    await expect(page.getByText("✅ 支付成功")).toBeVisible({ timeout: 2_000 });
  });
});

test("a payment replaced by 重新支付 is polled no more", async ({ page, request, baseURL }) => {
  const orderId = await createOrder(request, baseURL!, 16);
  await page.goto(`/orders/${orderId}/pay?transport=poll`);
  await hydrated(page);
  const qr = page.getByRole("img", { name: /支付二维码/ });
  const firstId = (await qr.getAttribute("src"))!.split("/")[3];
  // The first payment's answers say it is pending and the server's clock is past its deadline:
  // the page shows it expired while its watcher keeps polling until 重新支付 (a form post: the
  // server sends back the page of the new payment) replaces it.
  await page.route(STATUS, async (route) => {
    if (!route.request().url().includes(firstId)) return route.continue();
    const response = await route.fetch();
    const view = await response.json();
    await route.fulfill({ response, json: { ...view, status: "pending", serverNowMs: view.expiresAtMs + 1_000 } });
  });
  // Meanwhile the shopper switched apps elsewhere: the first payment is closed on the server, so
  // 重新支付 gets a new payment (a pending one of the same method would be answered again).
  const first = (await (await request.get(`${baseURL}/api/pay/${firstId}/status`)).json()).data;
  const other = first.method === "wechatpay" ? "alipay" : "wechatpay";
  expect((await request.post(`${baseURL}/api/pay/create`, { data: { orderId, method: other } })).status()).toBe(200);
  await expect(page.getByText("⏰ 支付超时")).toBeVisible();
  const pollsOf = (id: string) => {
    const seen: number[] = [];
    page.on("request", (r) => {
      if (STATUS.test(r.url()) && r.url().includes(id)) seen.push(Date.now());
    });
    return seen;
  };
  const before = pollsOf(firstId);
  await expect.poll(() => before.length, { timeout: 5_000 }).toBeGreaterThan(0);
  await page.getByRole("button", { name: "重新支付" }).click();
  await expect(qr).toBeVisible();
  const secondId = (await qr.getAttribute("src"))!.split("/")[3];
  expect(secondId).not.toBe(firstId);
  const old = pollsOf(firstId);
  const current = pollsOf(secondId);
  await page.waitForTimeout(5_000);
  expect(old, "polls of the replaced payment").toEqual([]);
  expect(current.length, "the new payment is polled").toBeGreaterThan(0);
});

test("a hidden page stops polling and a visible one polls at once", async ({ page, request, baseURL }) => {
  const orderId = await createOrder(request, baseURL!, 17);
  // Polling alone, every 2 s: a poll leaked while hidden would land in the 5-s window.
  await page.goto(`/orders/${orderId}/pay?transport=poll`);
  await hydrated(page);
  await expect(page.locator(".connection")).toHaveText(/已检查 [1-9]/);
  const setHidden = (hidden: boolean) =>
    page.evaluate((h) => {
      Object.defineProperty(document, "hidden", { configurable: true, get: () => h });
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (h ? "hidden" : "visible") });
      document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
    }, hidden);
  await setHidden(true);
  await page.waitForTimeout(2_500); // let a poll already scheduled or in flight settle
  const polls = countPolls(page);
  await page.waitForTimeout(5_000);
  expect(polls, "no polls while hidden").toEqual([]);
  const shown = Date.now();
  await setHidden(false);
  await expect.poll(() => polls.length, { timeout: 2_000 }).toBeGreaterThan(0);
  expect(polls[0] - shown, "polled at once when visible").toBeLessThan(1_000);
});

test.describe("without JavaScript", () => {
  // Chromium refuses the page's scripts in a context without JavaScript.
  test.use({ expectedFailure: /^GET \S+\/pkg\/\S+\.js csp$/ });

  test("without JavaScript the page shows the QR and reloads itself until paid", async ({ browser, request, baseURL }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const orderId = await createOrder(request, baseURL!, 18);
    await page.goto(`${baseURL}/orders/${orderId}/pay`);
    await expect(page.getByRole("img", { name: /支付二维码/ })).toBeVisible();
    await expect(page.locator(".countdown")).toHaveText(/剩余支付时间 [45]:\d\d/);
    await page.screenshot({ path: artifact("pay-no-js") });
    const link = await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");
    const r = await request.post(`${link}/approve`);
    expect(r.status()).toBe(200);
    await expect(page.getByText("✅ 支付成功")).toBeVisible({ timeout: 12_000 });
    await expect(page.getByRole("link", { name: "查看订单" })).toHaveAttribute("href", `/orders/${orderId}`);
    // And goes on to the order by itself.
    await expect(page).toHaveURL(`${baseURL}/orders/${orderId}`, { timeout: 5_000 });
    await context.close();
});
});

test.describe("an unknown order's detail page", () => {
  test.use({ expectedFailure: /status of 40[04] \((Not Found|Bad Request)\) \(http:\/\/\S+\/orders\/(ord_A{22}|not-an-order)\)$/ });

  test("says so, with the status of what is wrong", { tag: "@once" }, async ({ page }) => {
    expect((await page.goto("/orders/ord_AAAAAAAAAAAAAAAAAAAAAA"))!.status()).toBe(404);
    await expect(page.getByText("订单不存在")).toBeVisible();
    expect((await page.goto("/orders/not-an-order"))!.status()).toBe(400);
    await expect(page.getByText("订单号格式不正确")).toBeVisible();
  });
});
