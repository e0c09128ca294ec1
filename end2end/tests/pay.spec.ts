import { test, expect, hydrated, artifact, createOrder, wallet, OPEN_IN_APP } from "./fixtures";
import { servers } from "../playwright.config";

const at = (port: number) => `http://127.0.0.1:${port}`;

test("pending → approve in the wallet → paid → redirect → the order shows paid", async ({ page, request, baseURL }) => {
  const orderId = await createOrder(request, baseURL!, 1299);
  await page.goto(`/orders/${orderId}/pay`);
  await hydrated(page);
  await expect(page.locator(".amount")).toHaveText("¥1,299.00");
  // What is paid and to whom, as the wallets' cashier pages say it.
  await expect(page.locator(".purchase .merchant")).toHaveText("scanpay demo shop");
  await expect(page.locator(".purchase .item")).toHaveText("机械键盘");
  await expect(page.getByRole("img", { name: /支付二维码/ })).toBeVisible();
  await expect(page.locator(".countdown")).toHaveText(/剩余支付时间 [45]:\d\d/);
  await expect(page.locator(".connection")).toHaveText("已连接,等待支付结果");
  await page.screenshot({ path: artifact("pay-pending") });

  const codeUrl = await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");
  // The link is behind "open in app" and "copy"; its text is not printed on the page.
  expect(await page.locator("main").innerText()).not.toContain(codeUrl!);
  await wallet(page, codeUrl!, "确认支付");
  await expect(page.getByText("✅ 支付成功")).toBeVisible({ timeout: 5_000 });
  await expect(page.getByTestId("announce")).toHaveText(/支付成功/);
  await expect(page.getByRole("link", { name: "查看订单" })).toHaveAttribute("href", `/orders/${orderId}`);
  await page.screenshot({ path: artifact("pay-paid") });
  await expect(page).toHaveURL(new RegExp(`/orders/${orderId}$`), { timeout: 5_000 });
  await expect(page.locator(".order-status")).toHaveText("✅ 已支付");
  await expect(page.getByRole("link", { name: "再下一单" })).toHaveAttribute("href", "/");
  await page.screenshot({ path: artifact("order-paid") });
});

test("the order page shows the order in the page's language, without payments or their history", async ({ page, request, baseURL }) => {
  const orderId = await createOrder(request, baseURL!, 42);
  await page.goto(`/orders/${orderId}`);
  await expect(page.locator(".order-status")).toHaveText("待支付");
  await expect(page.getByRole("link", { name: "去支付" })).toHaveAttribute("href", `/orders/${orderId}/pay`);
  await page.goto(`/orders/${orderId}/pay`);
  await hydrated(page);
  const link = await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");
  await wallet(page, link!, "确认支付");
  await expect(page).toHaveURL(new RegExp(`/orders/${orderId}$`), { timeout: 8_000 });
  const facts = page.locator(".facts");
  await expect(facts).toContainText("scanpay demo shop");
  await expect(facts).toContainText("机械键盘");
  await expect(facts).toContainText("¥42.00");
  await expect(facts).toContainText(/支付时间\s*\d{4}-\d\d-\d\d \d\d:\d\d/);
  const text = await page.locator("main").innerText();
  const merchantView = (await (await request.get(`${baseURL}/api/orders/${orderId}`)).json()).data;
  // The merchant's history stays in the merchant API; none of it is on the shopper's page.
  expect(merchantView.payments.length).toBeGreaterThan(0);
  for (const p of merchantView.payments) {
    expect(text).not.toContain(p.paymentId);
    if (p.providerTransactionId) expect(text).not.toContain(p.providerTransactionId);
  }
  expect(merchantView.payments.some((p: { providerTransactionId?: string }) => p.providerTransactionId)).toBe(true);
  expect(text).not.toMatch(/\b(pending|paid|expired|closed|failed)\b/);
  expect(text).not.toMatch(/pay_|→|\[(reconcile|notify|sweeper)/);
  await expect(page.getByRole("link", { name: "去支付" })).toHaveCount(0);
});

test("an order with the shop's return URL: paid goes back to the shop, and so does its order page", async ({ page, request, baseURL }) => {
  const returnUrl = `${baseURL}/?from=shop`;
  const r = await request.post(`${baseURL}/api/orders`, { data: { totalAmount: 7, description: "机械键盘", returnUrl } });
  expect(r.status()).toBe(200);
  const orderId = (await r.json()).data.id as string;
  await page.goto(`/orders/${orderId}/pay`);
  await hydrated(page);
  const link = await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");
  await expect(page.locator("nav.methods")).toBeVisible();
  expect((await request.post(`${link}/approve`)).status()).toBe(200);
  await expect(page.getByRole("link", { name: "返回商户" })).toHaveAttribute("href", returnUrl);
  // Paid while the page was open: the choice of app goes too (at once, before the page moves on
  // to the shop after 2 s).
  await expect(page.locator("nav.methods")).toBeHidden({ timeout: 1_000 });
  await expect(page).toHaveURL(/\/orders\/.*\/pay/);
  await expect(page).toHaveURL(returnUrl, { timeout: 5_000 });
  await page.goto(`/orders/${orderId}`);
  await expect(page.locator(".order-status")).toHaveText("✅ 已支付");
  await expect(page.getByRole("link", { name: "返回商户" })).toHaveAttribute("href", returnUrl);
  await expect(page.getByRole("link", { name: "再下一单" })).toHaveAttribute("href", "/");
  await page.screenshot({ path: artifact("order-paid-return-url") });
  // The payment page of a paid order offers no other app to pay with, only the way on.
  await page.goto(`/orders/${orderId}/pay`);
  await expect(page.getByText("✅ 支付成功")).toBeVisible();
  await expect(page.locator("nav.methods")).toHaveCount(0);
  await expect(page).toHaveURL(returnUrl, { timeout: 5_000 });
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
  // The shopper's words, not the provider's "用户拒绝支付".
  await expect(page.getByText("你已在钱包中拒绝了这笔付款")).toBeVisible();
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

test("a short deadline: warned in words, the QR never covered, expired, 重新支付 gives a new QR", { tag: "@once" }, async ({ page, request }) => {
  const base = at(servers.shortTtl);
  const orderId = await createOrder(request, base, 9);
  await page.goto(`${base}/orders/${orderId}/pay`);
  await hydrated(page);
  const countdown = page.locator(".countdown");
  await expect(countdown).toHaveClass(/warning/);
  await expect(page.locator(".expiry-warning")).toHaveText("即将过期,请尽快支付");
  // Under 30 s the frame turns red; what is on top at the QR's centre is the QR itself.
  const qr = page.getByRole("img", { name: /支付二维码/ });
  await expect(page.locator(".qr")).toHaveClass(/urgent/);
  const onTop = await qr.evaluate((img) => {
    const r = img.getBoundingClientRect();
    return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === img;
  });
  expect(onTop, "nothing drawn over the QR").toBe(true);
  await page.screenshot({ path: artifact("pay-expiring") });
  await expect(page.getByText("⏰ 支付超时")).toBeVisible({ timeout: 12_000 });
  await expect(page.getByText("二维码已过期,重新支付将生成新的二维码")).toBeVisible();
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
