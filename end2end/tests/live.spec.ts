import { test, expect, hydrated, createOrder, OPEN_IN_APP } from "./fixtures";

const EVENTS = /\/api\/pay\/[\w-]+\/events/;

test("with the event stream, a payment approved in the wallet shows as paid in under a second", async ({ page, request, baseURL }) => {
  const orderId = await createOrder(request, baseURL!, 21);
  const streamOpened = page.waitForRequest(EVENTS);
  await page.goto(`/orders/${orderId}/pay`);
  await hydrated(page);
  await streamOpened;
  // While the stream is connected, polling slows to every 10 s: only the push can be this fast.
  await page.waitForTimeout(1_000);
  const link = await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");
  const approved = await request.post(`${link}/approve`, { maxRedirects: 0 });
  expect(approved.status()).toBe(303);
  const at = Date.now();
  await expect(page.getByText("✅ 支付成功")).toBeVisible({ timeout: 5_000 });
  expect(Date.now() - at, "paid → shown").toBeLessThan(1_000);
});

test.describe("with the event stream blocked", () => {
  test.use({ expectedFailure: /\/api\/pay\/[\w-]+\/events/ });

  test("the page still reaches paid through polling", async ({ page, request, baseURL }) => {
    await page.route(EVENTS, (route) => route.abort("blockedbyclient"));
    const orderId = await createOrder(request, baseURL!, 22);
    await page.goto(`/orders/${orderId}/pay`);
    await hydrated(page);
    const link = await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");
    expect((await request.post(`${link}/approve`)).status()).toBe(200);
    await expect(page.getByText("✅ 支付成功")).toBeVisible({ timeout: 5_000 });
  });
});

test("?transport=poll opens no stream", async ({ page, request, baseURL }) => {
  const streams: string[] = [];
  page.on("request", (r) => {
    if (EVENTS.test(r.url())) streams.push(r.url());
  });
  const orderId = await createOrder(request, baseURL!, 23);
  await page.goto(`/orders/${orderId}/pay?transport=poll`);
  await hydrated(page);
  await expect(page.locator(".connection")).toHaveText(/已检查 [2-9]/, { timeout: 6_000 });
  expect(streams).toEqual([]);
});

test("?transport=longpoll waits on the server: one read in flight, paid shown in under a second", async ({ page, request, baseURL }) => {
  const streams: string[] = [];
  const waits: string[] = [];
  page.on("request", (r) => {
    if (EVENTS.test(r.url())) streams.push(r.url());
    if (/wait_payment_status/.test(r.url())) waits.push(r.url());
  });
  const orderId = await createOrder(request, baseURL!, 24);
  const firstWait = page.waitForRequest(/wait_payment_status/);
  await page.goto(`/orders/${orderId}/pay?transport=longpoll`);
  await hydrated(page);
  await firstWait;
  // Polling would have asked again by now; a long-poll is still waiting on the server.
  await page.waitForTimeout(2_500);
  expect(waits).toHaveLength(1);
  const link = await page.getByRole("link", { name: OPEN_IN_APP }).getAttribute("href");
  expect((await request.post(`${link}/approve`)).status()).toBe(200);
  const at = Date.now();
  await expect(page.getByText("✅ 支付成功")).toBeVisible({ timeout: 5_000 });
  expect(Date.now() - at, "paid → shown").toBeLessThan(1_000);
  expect(streams).toEqual([]);
});
