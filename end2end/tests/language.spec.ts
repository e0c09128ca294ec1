import { APIRequestContext, Browser, Page } from "@playwright/test";
import { test, expect, hydrated, artifact, createOrder, wallet, OPEN_IN_APP } from "./fixtures";
import { servers } from "../playwright.config";

const at = (port: number) => `http://127.0.0.1:${port}`;

/** Every piece of text a reader of `page` meets in a language other than Chinese would be CJK:
 *  text nodes, the title and the accessible names in attributes, of visible elements (the
 *  screen-reader-only ones included) in the page's language. The language switch says 中文 on
 *  purpose and carries its own `lang`; `exclude` names other elements to skip. */
async function cjkOnScreen(page: Page, exclude?: string): Promise<string[]> {
  return page.evaluate((exclude) => {
    const cjk = /[\u3400-\u9fff\uff00-\uffef]/;
    const pageLang = document.documentElement.lang;
    const counts = (el: Element) =>
      el.closest("[lang]")?.getAttribute("lang") === pageLang &&
      el.checkVisibility() &&
      !(exclude && el.closest(exclude));
    const found: string[] = [];
    if (cjk.test(document.title)) found.push(`title: ${document.title}`);
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent ?? "";
      if (cjk.test(text) && node.parentElement && counts(node.parentElement)) found.push(text.trim());
    }
    for (const el of document.body.querySelectorAll("[aria-label], [alt], [title], [placeholder]")) {
      for (const name of ["aria-label", "alt", "title", "placeholder"]) {
        const value = el.getAttribute(name) ?? "";
        if (cjk.test(value) && counts(el)) found.push(`${name}: ${value}`);
      }
    }
    return found;
  }, exclude);
}

async function expectEnglish(page: Page, exclude?: string) {
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  expect(await cjkOnScreen(page, exclude), `Chinese on the English page ${page.url()}`).toEqual([]);
}

/** An order the shop describes in English (the shop's words keep its language). */
async function englishOrder(request: APIRequestContext, base: string, totalAmount: number) {
  const r = await request.post(`${base}/api/orders`, { data: { totalAmount, description: "Mechanical keyboard" } });
  expect(r.status()).toBe(200);
  return (await r.json()).data.id as string;
}

/** The merchant's own words on the wallet page (its name, the description): whatever language
 *  the merchant wrote them in. */
const MERCHANT_WORDS = "[data-merchant-words]";

/** A phone (390×844) in `locale` opens the payment page of a new order and its wallet page. */
async function phoneAtTheWallet(browser: Browser, baseURL: string, locale: string) {
  const phone = await browser.newContext({ locale, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  const orderId = await englishOrder(page.request, baseURL, 18);
  await page.goto(`${baseURL}/orders/${orderId}/pay`);
  await hydrated(page);
  const codeUrl = (await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href"))!;
  const walletPage = await phone.newPage();
  await walletPage.goto(codeUrl);
  return { phone, page, walletPage, codeUrl };
}

test.describe("an English-speaking browser", () => {
  test.use({ locale: "en-US" });

  test("gets English pages, and the switch goes to Chinese and stays there", async ({ page, request, baseURL }) => {
    const orderId = await createOrder(request, baseURL!, 1299);
    await page.goto(`/orders/${orderId}/pay`);
    await hydrated(page);
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    await expect(page.getByRole("heading", { name: "Scan to pay" })).toBeVisible();
    await expect(page.locator(".countdown")).toHaveText(/Time left to pay [45]:\d\d/);
    await expect(page.getByRole("img", { name: /^(WeChat Pay|Alipay) QR code$/ })).toBeVisible();
    await expect(page.locator(".connection")).toHaveText("Connected — waiting for the payment");
    await page.screenshot({ path: artifact("pay-pending-en") });

    await page.getByRole("link", { name: "中文" }).click();
    await expect(page.getByRole("heading", { name: "扫码支付" })).toBeVisible();
    await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
    // The check that finds no Chinese on English pages finds it here.
    expect(await cjkOnScreen(page)).toContain("扫码支付");
    // The choice is remembered on the next page.
    await page.goto("/");
    await hydrated(page);
    await expect(page.getByRole("heading", { name: "新建订单" })).toBeVisible();
  });

  test("sees no Chinese from the home page to paid and the order page", async ({ page, request, baseURL }) => {
    await page.goto("/");
    await hydrated(page);
    await expectEnglish(page);
    const orderId = await englishOrder(request, baseURL!, 12);
    await page.goto(`/orders/${orderId}/pay`);
    await hydrated(page);
    await expectEnglish(page);
    await page.goto(`/orders/${orderId}`);
    await expectEnglish(page);
    await page.goto(`/orders/${orderId}/pay`);
    await hydrated(page);
    const codeUrl = await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");
    await wallet(page, codeUrl!, "Confirm payment");
    await expect(page.locator('.payment[data-status="paid"]')).toBeVisible({ timeout: 5_000 });
    await expectEnglish(page);
    await page.screenshot({ path: artifact("pay-paid-en") });
    await expect(page).toHaveURL(new RegExp(`/orders/${orderId}$`), { timeout: 5_000 });
    await expect(page.locator(".order-status")).toHaveText(/^(✅ )?Paid$/);
    await expectEnglish(page);
    await page.screenshot({ path: artifact("order-paid-en") });
  });

  test("an order the shop did not describe is described in English", { tag: "@once" }, async ({ page, request, baseURL }) => {
    const r = await request.post(`${baseURL}/api/orders`, { data: { totalAmount: 7 } });
    expect((await r.json()).data.description).toBeNull();
    const orderId = (await r.json()).data.id;
    await page.goto(`/orders/${orderId}`);
    await expect(page.getByText("Scan-to-pay order")).toBeVisible();
    await expectEnglish(page);
    await page.goto(`/orders/${orderId}?lang=zh-CN`);
    await expect(page.getByText("扫码支付订单")).toBeVisible();
  });

  test("a payment declined in the wallet fails in English words", { tag: "@wechatpay" }, async ({ page, request, baseURL }) => {
    const orderId = await englishOrder(request, baseURL!, 5);
    await page.goto(`/orders/${orderId}/pay`);
    await hydrated(page);
    const codeUrl = await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");
    await wallet(page, codeUrl!, "Decline");
    await expect(page.getByText("❌ Payment failed")).toBeVisible();
    // The provider said 用户拒绝支付: the page says it in the shopper's language.
    await expect(page.getByText("You declined this payment in your wallet")).toBeVisible();
    await expectEnglish(page);
    await page.screenshot({ path: artifact("pay-failed-en") });
  });

  test("a payment replaced by one in the other app reads closed, in English", { tag: "@wechatpay" }, async ({ page, request, baseURL }) => {
    const orderId = await englishOrder(request, baseURL!, 6);
    await page.goto(`/orders/${orderId}/pay`);
    await hydrated(page);
    // The shopper switched apps elsewhere (another tab): this page's payment is closed.
    expect((await request.post(`${baseURL}/api/pay/create`, { data: { orderId, method: "alipay" } })).status()).toBe(200);
    await expect(page.locator('.payment[data-status="closed"]')).toBeVisible({ timeout: 10_000 });
    await expectEnglish(page);
    await page.screenshot({ path: artifact("pay-closed-en") });
  });

  test("an expired payment reads expired, in English", { tag: "@once" }, async ({ page, request }) => {
    const base = at(servers.shortTtl);
    const orderId = await englishOrder(request, base, 9);
    await page.goto(`${base}/orders/${orderId}/pay`);
    await hydrated(page);
    await expect(page.locator('.payment[data-status="expired"]')).toBeVisible({ timeout: 12_000 });
    await expectEnglish(page);
    await page.screenshot({ path: artifact("pay-expired-en") });
  });

  test.describe("errors", () => {
    // These pages answer 404 or 400 on purpose: Chromium reports the document's status.
    test.use({ expectedFailure: /status of 40[04] .*\(http:\/\/127\.0\.0\.1:\d+\/(orders\/|no-such-page)[^)]*\)$/ });

    test("errors read in English: unknown and malformed orders, an unknown page", { tag: "@once" }, async ({ page }) => {
      for (const path of [
        "/orders/ord_AAAAAAAAAAAAAAAAAAAAAA/pay",
        "/orders/ord_AAAAAAAAAAAAAAAAAAAAAA",
        // The server function refuses the id (order_id_invalid): the page words its code.
        "/orders/not-an-order/pay",
        "/orders/not-an-order",
        "/no-such-page",
      ]) {
        await page.goto(path);
        await expect(page.locator("main")).not.toBeEmpty();
        await expectEnglish(page);
      }
      await page.goto("/orders/not-an-order/pay?lang=en");
      await expect(page.getByText("This is not a valid order number").first()).toBeVisible();
    });
  });

  test("is told about a bad amount in English", { tag: "@once" }, async ({ page }) => {
    await page.goto("/");
    await hydrated(page);
    await page.getByLabel("Amount (CNY)").fill("0");
    await page.getByRole("button", { name: "Create order and pay" }).click();
    await expect(page.locator("#amount-error")).toHaveText("The amount must be greater than 0");
  });
});

test.describe("the wallet page on a phone", () => {
  // The phone's browser opens the payment page's link: its language is the phone's.
  for (const { locale, lang, approve, decline, paid, declined } of [
    { locale: "en-US", lang: "en", approve: "Confirm payment", decline: "Decline", paid: "Payment complete", declined: /^You declined this payment/ },
    { locale: "zh-CN", lang: "zh-CN", approve: "确认支付", decline: "拒绝", paid: "支付成功", declined: /^已拒绝/ },
  ] as const) {
    test(`speaks the phone's language (${locale}) before and after approve and decline`, async ({ browser, baseURL }) => {
      const approved = await phoneAtTheWallet(browser, baseURL!, locale);
      const w = approved.walletPage;
      await expect(w.locator("html")).toHaveAttribute("lang", lang);
      await expect(w.getByRole("button", { name: approve })).toBeVisible();
      if (lang === "en") await expectEnglish(w, MERCHANT_WORDS);
      await w.screenshot({ path: artifact(`wallet-${lang}`) });
      await w.getByRole("button", { name: approve }).click();
      await expect(w.getByRole("status")).toHaveText(paid);
      await expect(w.getByRole("button")).toHaveCount(0);
      if (lang === "en") await expectEnglish(w, MERCHANT_WORDS);
      await w.screenshot({ path: artifact(`wallet-approved-${lang}`) });
      await approved.phone.close();

      const refused = await phoneAtTheWallet(browser, baseURL!, locale);
      const r = refused.walletPage;
      await r.getByRole("button", { name: decline }).click();
      // WeChat Pay: the trade failed, nothing is left to press. Alipay: the trade stays
      // payable, and the page says it was declined above its buttons.
      await expect(r.getByText(declined)).toBeVisible();
      await expect(r.locator("html")).toHaveAttribute("lang", lang);
      if (lang === "en") await expectEnglish(r, MERCHANT_WORDS);
      await r.screenshot({ path: artifact(`wallet-declined-${lang}`) });
      await refused.phone.close();
    });
  }

  test("follows ?lang= on its URL over the phone's language", { tag: "@once" }, async ({ browser, baseURL }) => {
    const { phone, walletPage, codeUrl } = await phoneAtTheWallet(browser, baseURL!, "zh-CN");
    await walletPage.goto(`${codeUrl}?lang=en`);
    await expectEnglish(walletPage, MERCHANT_WORDS);
    await walletPage.getByRole("button", { name: "Decline" }).click();
    await expect(walletPage.getByText(/^You declined this payment/)).toBeVisible();
    await phone.close();
  });
});

test("everything works by keyboard: create an order and reach the payment page", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  await page.getByLabel("金额(元)").focus();
  await page.keyboard.press("Control+A");
  await page.keyboard.type("66.6");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/pay$/);
  await expect(page.locator(".amount")).toHaveText("¥66.60");
  // The copy button is there once the page runs.
  await hydrated(page);
  // Tab reaches the open-in-app link and the copy button.
  const wallet = page.getByRole("link", { name: OPEN_IN_APP });
  for (let i = 0; i < 16 && !(await wallet.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press("Tab");
  }
  await expect(wallet).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "复制支付链接" })).toBeFocused();
});
