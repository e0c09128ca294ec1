import { test, expect, hydrated, artifact, createOrder, OPEN_IN_APP } from "./fixtures";

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
    await expect(page.locator(".polling")).toHaveText(/\([1-9]\d* checks? so far\)/);
    await page.screenshot({ path: artifact("pay-pending-en") });

    await page.getByRole("link", { name: "中文" }).click();
    await expect(page.getByRole("heading", { name: "扫码支付" })).toBeVisible();
    await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
    // The choice is remembered on the next page.
    await page.goto("/");
    await hydrated(page);
    await expect(page.getByRole("heading", { name: "新建订单" })).toBeVisible();
  });

  test("is told about a bad amount in English", { tag: "@once" }, async ({ page }) => {
    await page.goto("/");
    await hydrated(page);
    await page.getByLabel("Amount (CNY)").fill("0");
    await page.getByRole("button", { name: "Create order and pay" }).click();
    await expect(page.locator("#amount-error")).toHaveText("The amount must be greater than 0");
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
