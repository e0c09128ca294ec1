import { test, expect, hydrated, artifact, createOrder, wallet, OPEN_IN_APP } from "./fixtures";
import { servers } from "../playwright.config";

const at = (port: number) => `http://127.0.0.1:${port}`;

test("pending → approve in the wallet → paid → redirect → the order shows paid", async ({ page, request, baseURL }) => {
  const orderId = await createOrder(request, baseURL!, 1299);
  await page.goto(`/orders/${orderId}/pay`);
  await hydrated(page);
  await expect(page.locator(".amount")).toHaveText("¥1,299.00");
  await expect(page.getByRole("img", { name: /支付二维码/ })).toBeVisible();
  await expect(page.locator(".countdown")).toHaveText(/剩余支付时间 [45]:\d\d/);
  await expect(page.locator(".polling")).toHaveText(/已检查 [1-9]\d* 次/);
  await page.screenshot({ path: artifact("pay-pending") });

  const codeUrl = await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");
  // The payment link is shown as text too, for a shopper who cannot scan.
  await expect(page.locator(".code-url")).toHaveText(codeUrl!);
  await wallet(page, codeUrl!, "确认支付");
  await expect(page.getByText("✅ 支付成功")).toBeVisible({ timeout: 5_000 });
  await expect(page.getByTestId("announce")).toHaveText(/支付成功/);
  await page.screenshot({ path: artifact("pay-paid") });
  await expect(page).toHaveURL(new RegExp(`/orders/${orderId}$`), { timeout: 5_000 });
  await expect(page.locator(".order-status")).toHaveText("已支付");
  await page.screenshot({ path: artifact("order-paid") });
});

test("decline → failed → 重新支付 → a new QR → paid", { tag: "@wechatpay" }, async ({ page, request, baseURL }) => {
  const orderId = await createOrder(request, baseURL!, 5);
  await page.goto(`/orders/${orderId}/pay`);
  await hydrated(page);
  const qr = page.getByRole("img", { name: /支付二维码/ });
  const firstQr = await qr.getAttribute("src");
  const firstLink = await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");
  await wallet(page, firstLink!, "拒绝");
  await expect(page.getByText("❌ 支付失败")).toBeVisible();
  await expect(page.getByText("用户拒绝支付")).toBeVisible();
  await page.screenshot({ path: artifact("pay-failed") });

  await page.getByRole("button", { name: "重新支付" }).click();
  await expect(qr).toBeVisible();
  expect(await qr.getAttribute("src")).not.toBe(firstQr);
  const secondLink = await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");
  await wallet(page, secondLink!, "确认支付");
  await expect(page.getByText("✅ 支付成功")).toBeVisible({ timeout: 5_000 });
});

test("Alipay: the page says to scan with Alipay, and paying in the Alipay wallet shows paid", { tag: "@once" }, async ({ page, request }) => {
  const base = at(servers.alipay);
  const orderId = await createOrder(request, base, 88.8);
  await page.goto(`${base}/orders/${orderId}/pay`);
  await hydrated(page);
  await expect(page.getByRole("img", { name: "支付宝支付二维码" })).toBeVisible();
  await expect(page.getByText("打开支付宝,使用“扫一扫”扫描二维码完成支付")).toBeVisible();
  await expect(page.locator('.methods [aria-current="page"]')).toHaveText("支付宝");
  const link = await page.getByRole("link", { name: "在支付宝中打开" }).getAttribute("href");
  await page.screenshot({ path: artifact("pay-pending-alipay") });
  await wallet(page, link!, "确认支付");
  await expect(page.getByText("✅ 支付成功")).toBeVisible({ timeout: 5_000 });
});

test("switching from 微信支付 to 支付宝 closes the WeChat Pay attempt and pays with Alipay", { tag: "@wechatpay" }, async ({ page, request, baseURL }) => {
  const orderId = await createOrder(request, baseURL!, 12);
  await page.goto(`/orders/${orderId}/pay`);
  await hydrated(page);
  await expect(page.locator('.methods [aria-current="page"]')).toHaveText("微信支付");
  await expect(page.getByText("打开微信,使用“扫一扫”扫描二维码完成支付")).toBeVisible();
  const wechatQr = await page.getByRole("img", { name: "微信支付二维码" }).getAttribute("src");
  await page.locator(".methods").getByRole("link", { name: "支付宝" }).click();
  await hydrated(page);
  await expect(page.locator('.methods [aria-current="page"]')).toHaveText("支付宝");
  const alipayQr = page.getByRole("img", { name: "支付宝支付二维码" });
  await expect(alipayQr).toBeVisible();
  expect(await alipayQr.getAttribute("src")).not.toBe(wechatQr);
  const order = (await (await request.get(`/api/orders/${orderId}`)).json()).data;
  const byMethod = Object.fromEntries(order.payments.map((p: { method: string; status: string }) => [p.method, p.status]));
  expect(byMethod).toEqual({ wechatpay: "closed", alipay: "pending" });
  const link = await page.getByRole("link", { name: "在支付宝中打开" }).getAttribute("href");
  await wallet(page, link!, "确认支付");
  await expect(page.getByText("✅ 支付成功")).toBeVisible({ timeout: 5_000 });
});

test("demo auto-pay pays by itself", { tag: "@once" }, async ({ page, request }) => {
  const orderId = await createOrder(request, at(servers.autopay), 66);
  await page.goto(`${at(servers.autopay)}/orders/${orderId}/pay`);
  await hydrated(page);
  await expect(page.getByText("✅ 支付成功")).toBeVisible({ timeout: 10_000 });
});

test("a short deadline: warning, 即将过期 overlay, expired, 重新支付 gives a new QR", { tag: "@once" }, async ({ page, request }) => {
  const base = at(servers.shortTtl);
  const orderId = await createOrder(request, base, 9);
  await page.goto(`${base}/orders/${orderId}/pay`);
  await hydrated(page);
  const countdown = page.locator(".countdown");
  await expect(countdown).toHaveClass(/warning/);
  await expect(page.getByText("即将过期")).toBeVisible();
  await page.screenshot({ path: artifact("pay-expiring") });
  await expect(page.getByText("⏰ 支付超时")).toBeVisible({ timeout: 12_000 });
  await expect(page.getByText("二维码已过期,请返回重新发起支付")).toBeVisible();
  await expect(page.getByRole("link", { name: "返回订单" })).toHaveAttribute("href", `/orders/${orderId}`);
  await page.screenshot({ path: artifact("pay-expired") });
  await page.getByRole("button", { name: "重新支付" }).click();
  await expect(page.getByRole("img", { name: /支付二维码/ })).toBeVisible();
  await expect(countdown).toHaveText(/剩余支付时间 0:0[5-8]/);
});

test("Alipay, chosen on the page: expired, and 重新支付 gives a new Alipay QR", { tag: "@once" }, async ({ page, request }) => {
  const base = at(servers.shortTtl);
  const orderId = await createOrder(request, base, 9);
  await page.goto(`${base}/orders/${orderId}/pay?method=alipay`);
  await hydrated(page);
  await expect(page.locator('.methods [aria-current="page"]')).toHaveText("支付宝");
  const firstQr = await page.getByRole("img", { name: "支付宝支付二维码" }).getAttribute("src");
  await expect(page.getByText("⏰ 支付超时")).toBeVisible({ timeout: 12_000 });
  await page.getByRole("button", { name: "重新支付" }).click();
  const qr = page.getByRole("img", { name: "支付宝支付二维码" });
  await expect(qr).toBeVisible();
  expect(await qr.getAttribute("src")).not.toBe(firstQr);
  await expect(page.getByRole("link", { name: "在支付宝中打开" })).toBeVisible();
});

test.describe("an unknown order", () => {
  // The page answers 404, which Chromium reports on the console.
  test.use({ expectedFailure: /status of 404 \(Not Found\) \(http:\/\/\S+\/orders\/ord_A{22}\/pay(\?lang=en)?\)$/ });

  test("gets a message a shopper understands, and no retry that cannot help", { tag: "@once" }, async ({ page }) => {
    const response = await page.goto("/orders/ord_AAAAAAAAAAAAAAAAAAAAAA/pay");
    expect(response!.status()).toBe(404);
    await expect(page.getByText("订单不存在").first()).toBeVisible();
    await expect(page.getByRole("link", { name: "返回首页" }).last()).toBeVisible();
    await expect(page.getByRole("link", { name: "重试" })).toHaveCount(0);
    await page.screenshot({ path: artifact("pay-unknown-order") });
  });
});

test.describe("in English", () => {
  test.use({ locale: "en-US", expectedFailure: /status of 404 \(Not Found\) \(http:\/\/\S+\/orders\/ord_A{22}\/pay\?lang=en\)$/ });

  test("the Alipay page says to scan with Alipay, in English", { tag: "@once" }, async ({ page, request, baseURL }) => {
    const orderId = await createOrder(request, baseURL!, 20);
    await page.goto(`/orders/${orderId}/pay?method=alipay`);
    await hydrated(page);
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    await expect(page.locator('.methods [aria-current="page"]')).toHaveText("Alipay");
    await expect(page.getByRole("img", { name: "Alipay QR code" })).toBeVisible();
    await expect(page.getByText("Open Alipay, tap Scan and scan this code to pay")).toBeVisible();
    await expect(page.getByRole("link", { name: "Open in Alipay" })).toBeVisible();
    await page.screenshot({ path: artifact("pay-pending-alipay-en") });
  });

  test("an unknown order and an unknown payment read differently, with no Chinese", { tag: "@once" }, async ({ page, request }) => {
    await page.goto("/orders/ord_AAAAAAAAAAAAAAAAAAAAAA/pay?lang=en");
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    await expect(page.getByText("This order does not exist").first()).toBeVisible();
    const chinese = /[\u4e00-\u9fff]/;
    const text = await page.locator("main").innerText();
    expect(text, "the English page").not.toMatch(chinese);
    // The page words an unknown payment differently from an unknown order.
    const r = await request.get("/api/get_payment_status?payment_id=pay_AAAAAAAAAAAAAAAAAAAAAA");
    expect(r.status()).toBe(404);
    expect((await r.json()).code).toBe("payment_not_found");
  });
});
