import { test, expect, hydrated, artifact } from "./fixtures";

test("the home page is server-rendered, hydrates, and creates an order through a server function", async ({ page, request, baseURL }) => {
  // Before any JavaScript: the form is in the HTML and works (it posts to the server).
  const html = await (await request.get("/")).text();
  expect(html).toContain("新建订单");
  expect(html).toMatch(/<form[^>]*method="post"/);
  expect(html).not.toMatch(/<button[^>]*type="submit"[^>]*disabled/);

  await page.goto("/");
  await hydrated(page);
  const submit = page.getByRole("button", { name: "创建订单并支付" });
  await expect(submit).toBeEnabled();
  await page.getByLabel("金额(元)").fill("12.99");
  await page.screenshot({ path: artifact("home") });
  await submit.click();

  await expect(page).toHaveURL(/\/orders\/ord_[\w-]{22}\/pay$/);
  await expect(page.locator(".amount")).toHaveText("¥12.99");
  const orderId = page.url().split("/")[4];
  const order = await (await request.get(`${baseURL}/api/orders/${orderId}`)).json();
  expect(order.data.amountFen).toBe(1299);
  expect(order.data.status).toBe("pending");
});

test("a bad amount is explained and creates nothing", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  const creates: string[] = [];
  page.on("request", (r) => {
    if (/\/api\/create_order/.test(r.url())) creates.push(r.url());
  });
  await page.getByLabel("金额(元)").fill("1.234");
  await page.getByRole("button", { name: "创建订单并支付" }).click();
  await expect(page.locator("#amount-error")).toHaveText("金额最多两位小数");
  await page.waitForTimeout(500);
  expect(creates, "no create_order request").toEqual([]);
  await expect(page).toHaveURL(/\/$/);
});

test("healthz says only ok; readyz reports the database", async ({ request }) => {
  const r = await request.get("/healthz");
  expect(r.status()).toBe(200);
  expect(await r.json()).toEqual({ status: "ok" });
  const ready = await request.get("/readyz");
  expect(ready.status()).toBe(200);
  const body = await ready.json();
  expect(body.database.engine).toBe("sqlite");
  expect(body.database.migrations).toBeGreaterThan(0);
});

test("the page's files have hashed names, go out precompressed with brotli and are cached for a year", async ({ request }) => {
  const html = await (await request.get("/")).text();
  const names = ["js", "wasm", "css"].map((ext) => {
    const found = html.match(new RegExp(`/pkg/scanpay\\.[\\w-]+\\.${ext}\\b`));
    expect(found, `a hashed .${ext} in the page`).not.toBeNull();
    return found![0];
  });
  for (const name of names) {
    const r = await request.get(name, { headers: { "accept-encoding": "gzip, deflate, br" } });
    expect(r.status(), name).toBe(200);
    expect(r.headers()["content-encoding"], name).toBe("br");
    expect(r.headers()["cache-control"], name).toBe("public, max-age=31536000, immutable");
  }
  // Playwright decodes the body: it is the real module.
  const wasm = await request.get(names[1]);
  expect((await wasm.body()).subarray(0, 4)).toEqual(Buffer.from([0x00, 0x61, 0x73, 0x6d]));
});

test("the order form's code is its own WASM file: the home page loads it, the payment page does not", async ({ page, browser }) => {
  const wasmOf = (urls: string[]) => urls.filter((u) => /\/pkg\/[^/]+\.wasm$/.test(u)).map((u) => u.split("/").pop()!);
  const seen: string[] = [];
  page.on("request", (r) => seen.push(r.url()));

  await page.goto("/");
  await hydrated(page);
  const home = wasmOf(seen);
  expect(home.some((n) => n.startsWith("scanpay."))).toBe(true);
  const formChunk = home.find((n) => n.startsWith("split_"));
  expect(formChunk, `the form's lazy WASM among ${home}`).toBeDefined();
  // Cached for a year like the other hashed files, and sent with brotli.
  const r = await page.request.get(`/pkg/${formChunk}`, { headers: { "accept-encoding": "br" } });
  expect(r.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
  expect(r.headers()["content-encoding"]).toBe("br");
  await page.getByRole("button", { name: "创建订单并支付" }).click();
  await expect(page).toHaveURL(/\/orders\/ord_[\w-]{22}\/pay$/);

  // A shopper who opens the payment page directly (empty cache) downloads no lazy WASM.
  const shopper = await browser.newContext();
  const payPage = await shopper.newPage();
  const payRequests: string[] = [];
  payPage.on("request", (r) => payRequests.push(r.url()));
  await payPage.goto(page.url());
  await hydrated(payPage);
  const pay = wasmOf(payRequests);
  expect(pay.some((n) => n.startsWith("scanpay."))).toBe(true);
  expect(pay.filter((n) => n.startsWith("split_")), "the payment page loads no lazy WASM").toEqual([]);
  await shopper.close();
});
