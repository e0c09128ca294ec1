import { test, expect, artifact, createOrder } from "./fixtures";
import type { Page, Request } from "@playwright/test";
import { servers } from "../playwright.config";

const at = (port: number) => `http://127.0.0.1:${port}`;
const PHONE = { width: 390, height: 844 };

/** Every script or WASM the page asks for. */
function scriptsFetched(page: Page) {
  const fetched: string[] = [];
  page.on("request", (r: Request) => {
    if (/\.(wasm|js)(\?|$)/.test(r.url())) fetched.push(r.url());
  });
  return fetched;
}

test.describe("without JavaScript", () => {
  // A refused form answers 400, which Chromium reports on the console.
  test.use({ javaScriptEnabled: false, expectedFailure: /status of 400 \(Bad Request\) \(http:\/\/\S+\/(\?lang=en)?\)$/ });

  for (const [lang, label, submit, viewport] of [
    ["zh", "金额(元)", "创建订单并支付", undefined],
    ["en", "Amount (CNY)", "Create order and pay", PHONE],
  ] as const) {
    test(`the home form creates an order and the payment page needs no WASM (${lang})`, { tag: "@once" }, async ({ page, request, baseURL }) => {
      if (viewport) await page.setViewportSize(viewport);
      const fetched = scriptsFetched(page);
      await page.goto(`/?lang=${lang}`);
      await expect(page.getByRole("button", { name: submit })).toBeEnabled();
      await page.getByLabel(label).fill(" ￥１，２９９．５ ");
      await page.screenshot({ path: artifact(`home-no-js-${lang}`) });
      await page.getByRole("button", { name: submit }).click();
      await expect(page).toHaveURL(/\/orders\/ord_[\w-]{22}\/pay(\?lang=\w+)?$/);
      await expect(page.locator(".amount")).toHaveText("¥1,299.50");
      await expect(page.getByRole("img", { name: /(支付二维码|QR code)$/ })).toBeVisible();
      // A button that cannot work without JavaScript is not shown.
      await expect(page.getByRole("button", { name: /复制|Copy/ })).toHaveCount(0);
      await page.screenshot({ path: artifact(`pay-no-js-${lang}`) });
      const orderId = page.url().split("/")[4];
      const order = await (await request.get(`${baseURL}/api/orders/${orderId}`)).json();
      expect(order.data.amountFen).toBe(129950);
      expect(fetched, "no script or WASM downloaded").toEqual([]);
    });
  }

  test("a refused amount: the home page again, the error under the field, nothing created", { tag: "@once" }, async ({ page }) => {
    await page.goto("/?lang=en");
    await page.getByLabel("Amount (CNY)").fill("1,29");
    const response = page.waitForResponse((r) => r.request().method() === "POST");
    await page.getByRole("button", { name: "Create order and pay" }).click();
    expect((await response).status()).toBe(400);
    await expect(page).toHaveURL(/\/\?lang=en$/);
    const amount = page.getByLabel("Amount (CNY)");
    await expect(amount).toHaveValue("1,29");
    await expect(amount).toHaveAttribute("aria-invalid", "true");
    await expect(amount).toHaveAttribute("aria-describedby", "amount-error");
    await expect(page.locator("#amount-error")).toHaveText("The amount must be a number");
    await page.screenshot({ path: artifact("home-no-js-refused") });
  });

  test("an expired payment stays expired on reload; 重新支付 posts and shows a new QR", { tag: "@once" }, async ({ page, request }) => {
    const base = at(servers.shortTtl);
    const orderId = await createOrder(request, base, 9);
    await page.goto(`${base}/orders/${orderId}/pay`);
    const firstQr = await page.getByRole("img", { name: /支付二维码/ }).getAttribute("src");
    // The page reloads itself every few seconds: after the deadline it shows the same payment
    // expired, and no reload creates another.
    await expect(page.getByText("⏰ 支付超时")).toBeVisible({ timeout: 15_000 });
    await page.reload();
    await expect(page.getByText("⏰ 支付超时")).toBeVisible();
    const payments = async () => (await (await request.get(`${base}/api/orders/${orderId}`)).json()).data;
    await page.screenshot({ path: artifact("pay-expired-no-js") });
    await page.getByRole("button", { name: "重新支付" }).click();
    const qr = page.getByRole("img", { name: /支付二维码/ });
    await expect(qr).toBeVisible();
    expect(await qr.getAttribute("src")).not.toBe(firstQr);
    await expect(page).toHaveURL(`${base}/orders/${orderId}/pay`);
    expect((await payments()).status).toBe("pending");
  });
});

test.describe("with JavaScript", () => {
  test("a reload of an expired payment shows it expired, not a new QR", { tag: "@once" }, async ({ page, request }) => {
    const base = at(servers.shortTtl);
    const orderId = await createOrder(request, base, 9);
    await page.goto(`${base}/orders/${orderId}/pay`);
    const firstQr = await page.getByRole("img", { name: /支付二维码/ }).getAttribute("src");
    await expect(page.getByText("⏰ 支付超时")).toBeVisible({ timeout: 15_000 });
    await page.reload();
    await expect(page.getByText("⏰ 支付超时")).toBeVisible();
    await expect(page.getByRole("img", { name: /支付二维码/ })).toHaveCount(0);
    await page.getByRole("button", { name: "重新支付" }).click();
    const qr = page.getByRole("img", { name: /支付二维码/ });
    await expect(qr).toBeVisible();
    expect(await qr.getAttribute("src")).not.toBe(firstQr);
  });

  test("the copy button is hidden in the server's page and appears once the page runs", { tag: "@once" }, async ({ page, request, baseURL }) => {
    const orderId = await createOrder(request, baseURL!, 3);
    const html = await (await request.get(`${baseURL}/orders/${orderId}/pay`)).text();
    // In the markup but hidden, so a page without JavaScript never shows a button that cannot work.
    expect(html).toMatch(/<button [^>]*\bhidden\b[^>]*>复制支付链接<\/button>/);
    await page.goto(`/orders/${orderId}/pay`);
    await expect(page.getByRole("button", { name: "复制支付链接" })).toBeVisible();
  });
});

test("paid without JavaScript: the page goes on to the order by itself", { tag: "@once" }, async ({ browser, request, baseURL }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const orderId = await createOrder(request, baseURL!, 4);
  await page.goto(`${baseURL}/orders/${orderId}/pay`);
  const codeUrl = await page.getByRole("link", { name: /在(微信|支付宝)中打开/ }).getAttribute("href");
  expect((await request.post(`${codeUrl}/approve`)).status()).toBe(200);
  await page.reload();
  await expect(page.getByText("✅ 支付成功")).toBeVisible();
  await page.screenshot({ path: artifact("pay-paid-no-js") });
  await expect(page).toHaveURL(`${baseURL}/orders/${orderId}`, { timeout: 5_000 });
  await context.close();
});
