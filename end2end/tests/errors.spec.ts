import { test, expect, artifact } from "./fixtures";

const PHONE = { width: 390, height: 844 };

test.describe("errors and dead ends", () => {
  // These pages answer 404 and 400, which Chromium reports on the console.
  test.use({ expectedFailure: /status of 40[04] \((Not Found|Bad Request)\) \(http:\/\/\S+\/orders\/(ord_A{22}|nope)(\/pay)?(\?lang=\w+)?\)$/ });

  for (const [lang, viewport] of [["zh", undefined], ["en", PHONE]] as const) {
    test(`unknown and malformed orders: their status, the page, one alignment, no useless retry (${lang})`, { tag: "@once" }, async ({ page }) => {
      if (viewport) await page.setViewportSize(viewport);
      for (const [path, status, name] of [
        ["/orders/ord_AAAAAAAAAAAAAAAAAAAAAA/pay", 404, "pay-unknown"],
        ["/orders/ord_AAAAAAAAAAAAAAAAAAAAAA", 404, "order-unknown"],
        ["/orders/nope/pay", 400, "pay-malformed"],
        ["/orders/nope", 400, "order-malformed"],
      ] as const) {
        const response = await page.goto(`${path}?lang=${lang}`);
        expect(response!.status(), path).toBe(status);
        const error = page.locator(".state-error");
        await expect(error).toBeVisible();
        expect(await error.evaluate((el) => getComputedStyle(el).textAlign), path).toBe("center");
        // Retrying cannot fix these: no retry, a way home.
        await expect(error.getByRole("link", { name: /重试|Try again/ })).toHaveCount(0);
        await expect(error.getByRole("link", { name: /返回首页|Back to home|home/i })).toBeVisible();
        await page.screenshot({ path: artifact(`${name}-${lang}`) });
      }
    });
  }
});

test("the icon browsers ask for is there", { tag: "@once" }, async ({ request }) => {
  const r = await request.get("/favicon.ico");
  expect(r.status()).toBe(200);
  expect(r.url()).toMatch(/\/favicon\.svg$/);
  expect(r.headers()["content-type"]).toContain("image/svg+xml");
});
