import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { test, expect, hydrated, artifact, createOrder, OPEN_IN_APP } from "./fixtures";
import { servers } from "../playwright.config";

/** WCAG 2.2 AA, contrast included: every state a shopper can see, in both languages, on a
 *  desktop and a phone. Each state is also saved as a screenshot to look at. */
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
const shortTtl = `http://127.0.0.1:${servers.shortTtl}`;
const langs = [
  { lang: "zh", locale: "zh-CN", paid: "✅ 支付成功", failed: "❌ 支付失败", expired: "⏰ 支付超时", orderPaid: "已支付", retryNow: "立即重试" },
  { lang: "en", locale: "en-US", paid: "✅ Payment received", failed: "❌ Payment failed", expired: "⏰ Payment timed out", orderPaid: "Paid", retryNow: "Retry now" },
] as const;
const viewports = [
  { device: "desktop", viewport: { width: 1280, height: 800 } },
  { device: "phone", viewport: { width: 390, height: 844 } },
] as const;

for (const l of langs) {
  for (const v of viewports) {
    test.describe(`${l.lang}, ${v.device}`, () => {
      test.use({
        locale: l.locale,
        viewport: v.viewport,
        // Unknown orders may answer 404 with their page: Chromium logs that status. The status
        // reads are cut on purpose for the "reconnecting" state.
        expectedFailure: /status of 404 .*\/orders\/ord_A{22}|get_payment_status/,
      });

      test("every state meets WCAG 2.2 AA", { tag: "@once" }, async ({ page, request, baseURL }) => {
        test.setTimeout(120_000);
        const check = async (state: string) => {
          const results = await new AxeBuilder({ page }).withTags(TAGS).analyze();
          const found = results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
          expect(found, `${state}: accessibility violations`).toEqual([]);
          await page.screenshot({ path: artifact(`a11y-${state}-${l.lang}-${v.device}`), fullPage: true });
        };
        const codeUrl = (p: Page) => p.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");

        await page.goto("/");
        await hydrated(page);
        await check("home");

        // Pending, then paid (its redirect answered 204, so the page stays), then the order.
        const orderId = await createOrder(request, baseURL!, 1299);
        await page.goto(`/orders/${orderId}`);
        await expect(page.locator(".order-status")).toBeVisible();
        await check("order-pending");
        await page.goto(`/orders/${orderId}/pay`);
        await hydrated(page);
        await check("pending");
        await page.route(`**/orders/${orderId}`, (route) => route.fulfill({ status: 204 }));
        expect((await request.post(`${await codeUrl(page)}/approve`)).status()).toBe(200);
        await expect(page.getByText(l.paid)).toBeVisible();
        await check("paid");
        await page.unrouteAll();
        await page.goto(`/orders/${orderId}`);
        await expect(page.locator(".order-status")).toHaveText(new RegExp(l.orderPaid));
        await check("order-paid");

        // Reads failing: the banner and its button (polling alone, so the first failure shows it).
        const cutId = await createOrder(request, baseURL!, 3);
        await page.goto(`/orders/${cutId}/pay?transport=poll`);
        await hydrated(page);
        await page.route(/\/api\/get_payment_status/, (route) => route.abort("internetdisconnected"));
        await expect(page.getByRole("button", { name: l.retryNow })).toBeVisible();
        await check("reconnecting");
        await page.unrouteAll();

        // Declined in the wallet (WeChat Pay: learned by query within seconds).
        const declinedId = await createOrder(request, baseURL!, 5);
        await page.goto(`/orders/${declinedId}/pay`);
        await hydrated(page);
        expect((await request.post(`${await codeUrl(page)}/decline`)).status()).toBe(200);
        await expect(page.getByText(l.failed)).toBeVisible();
        await check("failed");

        // An 8-s payment: at once under a minute (the warning), then expired.
        const shortId = await createOrder(request, shortTtl, 9);
        await page.goto(`${shortTtl}/orders/${shortId}/pay`);
        await hydrated(page);
        await expect(page.locator(".expiry-warning")).not.toBeEmpty();
        await check("warning");
        await expect(page.getByText(l.expired)).toBeVisible({ timeout: 12_000 });
        await check("expired");

        await page.goto("/orders/ord_AAAAAAAAAAAAAAAAAAAAAA/pay");
        await expect(page.getByRole("alert")).toBeVisible();
        await check("unknown-order");
      });
    });
  }
}
