import { test, expect, hydrated, artifact } from "./fixtures";

const PHONE = { width: 390, height: 844 };

test("amounts typed the way shoppers type them create the order", { tag: "@once" }, async ({ page, request, baseURL }) => {
  for (const [typed, shown, fen] of [
    ["１２．５", "¥12.50", 1250],
    ["¥1,299", "¥1,299.00", 129900],
    [" 1，299.50 ", "¥1,299.50", 129950],
  ] as const) {
    await page.goto("/");
    await hydrated(page);
    await page.getByLabel("金额(元)").fill(typed);
    await page.getByRole("button", { name: "创建订单并支付" }).click();
    await expect(page).toHaveURL(/\/orders\/ord_[\w-]{22}\/pay$/);
    await expect(page.locator(".amount")).toHaveText(shown);
    const order = await (await request.get(`${baseURL}/api/orders/${page.url().split("/")[4]}`)).json();
    expect(order.data.amountFen, typed).toBe(fen);
  }
});

for (const [lang, label, submit, error, viewport] of [
  ["zh", "金额(元)", "创建订单并支付", "金额必须是数字", undefined],
  ["en", "Amount (CNY)", "Create order and pay", "The amount must be a number", PHONE],
] as const) {
  test(`a typo in the amount is shown under the field, which is marked, and nothing moves (${lang})`, { tag: "@once" }, async ({ page }) => {
    if (viewport) await page.setViewportSize(viewport);
    await page.goto(`/?lang=${lang}`);
    await hydrated(page);
    const amount = page.getByLabel(label);
    const button = page.getByRole("button", { name: submit });
    await expect(amount).not.toHaveAttribute("aria-invalid", /.*/);
    const before = await button.boundingBox();
    await amount.fill("1,29");
    await button.click();
    await expect(page.locator("#amount-error")).toHaveText(error);
    await expect(amount).toHaveAttribute("aria-invalid", "true");
    await expect(amount).toHaveAttribute("aria-describedby", "amount-error");
    // The error's line was there before it: the button did not move.
    expect(await button.boundingBox()).toEqual(before);
    await page.screenshot({ path: artifact(`home-amount-error-${lang}`) });
    await amount.fill("12");
    await button.click();
    await expect(page).toHaveURL(/\/pay$/);
  });
}
