import { test, expect, hydrated, artifact, createOrder, wallet } from "./fixtures";

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
  test.use({ expectedFailure: /get_payment_status|Failed to load resource/ });

  test("the page says it is reconnecting, and recovers when the network returns", async ({ page, request, baseURL }) => {
    const orderId = await createOrder(request, baseURL!, 15);
    // Polling alone: with a healthy event stream, polls are 10 s apart.
    await page.goto(`/orders/${orderId}/pay?transport=poll`);
    await hydrated(page);
    await expect(page.locator(".polling")).toHaveText(/已检查 [1-9]/);
    await page.route(STATUS, (route) => route.abort("internetdisconnected"));
    await expect(page.getByText("网络不稳定,正在重新连接…")).toBeVisible({ timeout: 10_000 });
    await page.screenshot({ path: artifact("pay-reconnecting") });
    // The QR and countdown stay usable meanwhile.
    await expect(page.getByRole("img", { name: /支付二维码/ })).toBeVisible();
    const link = await page.getByRole("link", { name: "打开模拟钱包" }).getAttribute("href");
    await wallet(page, link!, "确认支付");
    await page.unroute(STATUS);
    // Back online: the browser's online event polls at once (backoff may be long by now).
    await page.evaluate(() => window.dispatchEvent(new Event("online")));
    await expect(page.getByText("✅ 支付成功")).toBeVisible({ timeout: 10_000 });
    await expect(page.getByText("网络不稳定,正在重新连接…")).toBeHidden();
  });
});

test("navigating away stops polling", async ({ page, request, baseURL }) => {
  const orderId = await createOrder(request, baseURL!, 16);
  await page.goto(`/orders/${orderId}/pay`);
  await hydrated(page);
  await expect(page.locator(".polling")).toHaveText(/已检查 [2-9]/, { timeout: 10_000 });
  await page.getByRole("link", { name: "scanpay" }).click();
  await expect(page.getByRole("heading", { name: "新建订单" })).toBeVisible();
  const polls = countPolls(page);
  await page.waitForTimeout(5_000);
  expect(polls).toEqual([]);
});

test("a hidden page stops polling and a visible one polls at once", async ({ page, request, baseURL }) => {
  const orderId = await createOrder(request, baseURL!, 17);
  await page.goto(`/orders/${orderId}/pay`);
  await hydrated(page);
  await expect(page.locator(".polling")).toHaveText(/已检查 [1-9]/);
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

test("without JavaScript the page shows the QR and reloads itself until paid", async ({ browser, request, baseURL }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const orderId = await createOrder(request, baseURL!, 18);
  await page.goto(`${baseURL}/orders/${orderId}/pay`);
  await expect(page.getByRole("img", { name: /支付二维码/ })).toBeVisible();
  await expect(page.locator(".countdown")).toHaveText(/剩余支付时间 [45]:\d\d/);
  await page.screenshot({ path: artifact("pay-no-js") });
  const link = await page.getByRole("link", { name: "打开模拟钱包" }).getAttribute("href");
  const r = await request.post(`${link}/approve`);
  expect(r.status()).toBe(200);
  await expect(page.getByText("✅ 支付成功")).toBeVisible({ timeout: 12_000 });
  await expect(page.getByRole("link", { name: "查看订单" })).toHaveAttribute("href", `/orders/${orderId}`);
  await context.close();
});

test("an unknown order's detail page says so", async ({ page }) => {
  await page.goto("/orders/ord_AAAAAAAAAAAAAAAAAAAAAA");
  await expect(page.getByText("订单不存在")).toBeVisible();
  await page.goto("/orders/not-an-order");
  await expect(page.getByText("订单号格式不正确")).toBeVisible();
});
