import { test, expect, hydrated, createOrder, OPEN_IN_APP } from "./fixtures";

// The violations these tests provoke on purpose (an injected script; frames, whose loads the
// browser then reports as blocked); any other console error or failed request still fails them.
test.use({
  expectedFailure:
    /^(Executing inline script violates the following Content Security Policy directive|Framing '\S+' violates the following Content Security Policy directive: "frame-ancestors 'none'"|GET \S+ net::ERR_BLOCKED_BY_RESPONSE$)/,
});

test("the payment page hydrates under its Content-Security-Policy, and a script without the render's nonce does not run", async ({ page, request, baseURL }) => {
  const orderId = await createOrder(request, baseURL!, 7);
  const response = await page.goto(`/orders/${orderId}/pay`);
  const csp = response!.headers()["content-security-policy"];
  expect(csp).toMatch(/script-src 'self' 'nonce-[\w-]{22}' 'wasm-unsafe-eval';/);
  expect(csp).not.toContain("unsafe-inline");
  await hydrated(page);
  const qr = page.getByRole("img", { name: /支付二维码/ });
  await expect(qr).toBeVisible();
  expect(await qr.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);

  const ran = await page.evaluate(async () => {
    const script = document.createElement("script");
    script.textContent = "window.__injected = true";
    document.head.appendChild(script);
    await new Promise((resolve) => setTimeout(resolve, 100));
    return (window as unknown as { __injected?: boolean }).__injected === true;
  });
  expect(ran, "an injected inline script ran").toBe(false);
});

test("no page can be framed, the wallet's approve button included", async ({ page, request, baseURL }) => {
  const orderId = await createOrder(request, baseURL!, 7);
  await page.goto(`/orders/${orderId}/pay`);
  const codeUrl = await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");
  for (const url of [page.url(), codeUrl!]) {
    const framer = await page.context().newPage();
    const refused = framer.waitForEvent("console", (m) => m.text().includes("\"frame-ancestors 'none'\""));
    await framer.setContent(`<iframe src="${url}"></iframe>`);
    await refused;
    await expect(framer.frameLocator("iframe").getByRole("button")).toHaveCount(0);
    await framer.close();
  }
});
