import { test as base, expect, Page, APIRequestContext } from "@playwright/test";
import path from "node:path";

/** Every test fails on a console error, an uncaught exception or a failed request, unless
 *  the test declares the pattern it provokes on purpose (`expectedFailure`). */
export const test = base.extend<{ expectedFailure: RegExp | undefined; guard: void }>({
  expectedFailure: [undefined, { option: true }],
  guard: [
    async ({ page, expectedFailure }, use) => {
      const problems: string[] = [];
      const expected = (text: string) => expectedFailure?.test(text) ?? false;
      page.on("console", (msg) => {
        if (msg.type() === "error" && !expected(msg.text())) problems.push(`console: ${msg.text()}`);
      });
      page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
      page.on("requestfailed", (req) => {
        const failure = req.failure()?.errorText ?? "";
        // A navigation cancels requests still in flight; that is not a failure.
        if (failure === "net::ERR_ABORTED") return;
        const text = `${req.method()} ${req.url()} ${failure}`;
        if (!expected(text)) problems.push(`request failed: ${text}`);
      });
      await use();
      expect(problems, "console errors or failed requests").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

export const artifact = (name: string) => path.join(__dirname, "..", "artifacts", `${name}.png`);

export async function hydrated(page: Page) {
  await expect(page.locator('[data-hydrated="true"]')).toBeAttached();
}

export async function createOrder(request: APIRequestContext, baseURL: string, totalAmount: number) {
  const r = await request.post(`${baseURL}/api/orders`, { data: { totalAmount, description: "机械键盘" } });
  expect(r.status()).toBe(200);
  return (await r.json()).data.id as string;
}

/** Presses a wallet button the way a shopper's phone would (a separate page). */
export async function wallet(page: Page, codeUrl: string, button: "确认支付" | "拒绝") {
  const phone = await page.context().newPage();
  await phone.goto(codeUrl);
  await phone.getByRole("button", { name: button }).click();
  await expect(phone.locator("[data-trade-state]")).not.toHaveAttribute("data-trade-state", "NOTPAY");
  await phone.close();
}
