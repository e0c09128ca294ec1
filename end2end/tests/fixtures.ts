import { test as base, expect, Browser, BrowserContext, Page, APIRequestContext } from "@playwright/test";
import path from "node:path";

/** Every test fails on a console error, an uncaught exception or a failed request in any page
 *  of any browser context it opens (the wallet "phone" pages, a no-JS context, a second shopper),
 *  unless the test declares the pattern it provokes on purpose (`expectedFailure`). A console
 *  error is matched with the URL it is about, so a pattern can name the one route it breaks. */
export const test = base.extend<{ expectedFailure: RegExp | undefined; guard: void }>({
  expectedFailure: [undefined, { option: true }],
  guard: [
    async ({ browser, context, expectedFailure }, use) => {
      const problems: string[] = [];
      const expected = (text: string) => expectedFailure?.test(text) ?? false;
      const watched = new WeakSet<Page>();
      const watchPage = (page: Page) => {
        if (watched.has(page)) return;
        watched.add(page);
        page.on("console", (msg) => {
          const text = `${msg.text()} (${msg.location().url})`;
          if (msg.type() === "error" && !expected(text)) problems.push(`console: ${text}`);
        });
        page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
        page.on("requestfailed", (req) => {
          const failure = req.failure()?.errorText ?? "";
          // A navigation cancels requests still in flight; that is not a failure.
          if (failure === "net::ERR_ABORTED") return;
          const text = `${req.method()} ${req.url()} ${failure}`;
          if (!expected(text)) problems.push(`request failed: ${text}`);
        });
      };
      const watchContext = (c: BrowserContext) => {
        c.pages().forEach(watchPage);
        c.on("page", watchPage);
      };
      watchContext(context);
      // Contexts the test opens itself (`browser.newContext()`) are watched too.
      const newContext = browser.newContext;
      browser.newContext = async (...args: Parameters<Browser["newContext"]>) => {
        const c = await newContext.apply(browser, args);
        watchContext(c);
        return c;
      };
      try {
        await use();
      } finally {
        browser.newContext = newContext;
      }
      expect(problems, "console errors or failed requests").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** A screenshot's path; the Alipay run of a test keeps its own (`…-alipay.png`). */
export const artifact = (name: string) => {
  const project = base.info().project.name;
  const suffix = project === "wechatpay" || name.endsWith(`-${project}`) ? "" : `-${project}`;
  return path.join(__dirname, "..", "artifacts", `${name}${suffix}.png`);
};

export async function hydrated(page: Page) {
  await expect(page.locator('[data-hydrated="true"]')).toBeAttached();
}

export async function createOrder(request: APIRequestContext, baseURL: string, totalAmount: number) {
  const r = await request.post(`${baseURL}/api/orders`, { data: { totalAmount, description: "机械键盘" } });
  expect(r.status()).toBe(200);
  return (await r.json()).data.id as string;
}

/** The payment page's link that opens the QR's URL in the chosen provider's app. */
export const OPEN_IN_APP = /^(在(微信|支付宝)中打开|Open in (WeChat|Alipay))$/;

/** Presses a wallet button the way a shopper's phone would (a separate page). */
export async function wallet(page: Page, codeUrl: string, button: "确认支付" | "拒绝") {
  const phone = await page.context().newPage();
  await phone.goto(codeUrl);
  await phone.getByRole("button", { name: button }).click();
  await expect(phone.locator("[data-trade-state]")).not.toHaveAttribute("data-trade-state", "NOTPAY");
  await phone.close();
}
