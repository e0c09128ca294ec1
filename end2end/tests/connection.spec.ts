import { test, expect, hydrated, artifact, createOrder, OPEN_IN_APP } from "./fixtures";

const STATUS = /\/api\/get_payment_status/;
const RECONNECTING = "网络不稳定,正在重新连接…";

test.describe("the network cut for 10 s", () => {
  // Every request made while offline fails: the status reads and the stream's reconnects.
  test.use({ expectedFailure: /ERR_INTERNET_DISCONNECTED/ });

  test("the banner shows while offline and is gone within 2 s of the network coming back", async ({ page, context, request, baseURL }) => {
    const orderId = await createOrder(request, baseURL!, 31);
    await page.goto(`/orders/${orderId}/pay`);
    await hydrated(page);
    const line = page.locator(".connection");
    // With the event stream open the page says so, not a count of checks.
    await expect(line).toHaveText("已连接,等待支付结果");
    const banner = page.getByText(RECONNECTING);

    await context.setOffline(true);
    await expect(banner).toBeVisible({ timeout: 3_000 });
    await page.screenshot({ path: artifact("pay-offline") });
    await page.waitForTimeout(10_000);
    await expect(banner).toBeVisible();

    await context.setOffline(false);
    await expect(banner).toBeHidden({ timeout: 2_000 });
    await expect(line).toHaveText("已连接,等待支付结果", { timeout: 10_000 });
    // The stream is back: an approval shows at once.
    const link = await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");
    expect((await request.post(`${link}/approve`)).status()).toBe(200);
    await expect(page.getByText("✅ 支付成功")).toBeVisible({ timeout: 2_000 });
  });
});

test.describe("reads failing", () => {
  test.use({ expectedFailure: /get_payment_status/ });

  test("reads that cannot reach the server for 10 s: the banner goes within 2 s of them working, no online event needed", async ({ page, request, baseURL }) => {
    const orderId = await createOrder(request, baseURL!, 34);
    // Polling alone, so the only reads are the page's own.
    await page.goto(`/orders/${orderId}/pay?transport=poll`);
    await hydrated(page);
    await page.route(/\/api\//, (route) => route.abort("internetdisconnected"));
    const banner = page.getByText(RECONNECTING);
    await expect(banner).toBeVisible({ timeout: 3_000 });
    await page.waitForTimeout(10_000);
    await expect(banner).toBeVisible();
    // The browser still thinks it is online: only the page's own retries can see the way back.
    await page.unrouteAll();
    await expect(banner).toBeHidden({ timeout: 2_500 });
  });

  test("立即重试 reads at once, and a good read clears the banner", async ({ page, request, baseURL }) => {
    test.setTimeout(90_000);
    const orderId = await createOrder(request, baseURL!, 32);
    await page.goto(`/orders/${orderId}/pay?transport=poll`);
    await hydrated(page);
    let failed = 0;
    // The server refuses (busy): the page backs off.
    await page.route(STATUS, (route) => {
      failed += 1;
      return route.fulfill({ status: 503, json: { code: "server_busy", message: "busy" } });
    });
    // Three failures in a row: the next timed read is 8-24 s away, so only the button is quick.
    await expect.poll(() => failed, { timeout: 40_000 }).toBeGreaterThanOrEqual(3);
    const banner = page.getByText(RECONNECTING);
    await expect(banner).toBeVisible();
    await page.screenshot({ path: artifact("pay-reconnecting-retry") });

    await page.unroute(STATUS);
    const read = page.waitForRequest(STATUS, { timeout: 1_000 });
    await page.getByRole("button", { name: "立即重试" }).click();
    await read;
    await expect(banner).toBeHidden({ timeout: 1_000 });
    await expect(page.locator(".connection")).toHaveText(/已检查 \d+ 次/);
  });
});

test.describe("in English", () => {
  test.use({ locale: "en-US", expectedFailure: /get_payment_status/ });

  test("the banner and its retry are in English", { tag: "@once" }, async ({ page, request, baseURL }) => {
    const orderId = await createOrder(request, baseURL!, 33);
    await page.goto(`/orders/${orderId}/pay?transport=poll`);
    await hydrated(page);
    await page.route(STATUS, (route) => route.abort("internetdisconnected"));
    await expect(page.getByText("Connection unstable, reconnecting…")).toBeVisible({ timeout: 10_000 });
    await expect(page.getByRole("button", { name: "Retry now" })).toBeVisible();
    await page.screenshot({ path: artifact("pay-reconnecting-en") });
    await page.unroute(STATUS);
    await page.getByRole("button", { name: "Retry now" }).click();
    await expect(page.getByText("Connection unstable, reconnecting…")).toBeHidden({ timeout: 1_000 });
  });
});
