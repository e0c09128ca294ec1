import { defineConfig } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

// Runs against the release build (`cargo leptos build --release`), so a WASM that fails to
// hydrate after wasm-opt fails here. Each server gets a fresh SQLite database.
const root = path.resolve(__dirname, "..");
const dataDir = mkdtempSync(path.join(tmpdir(), "scanpay-e2e-"));

// SCANPAY_E2E_PORT moves the four servers (two checkouts of the project can run side by side).
const base = Number(process.env.SCANPAY_E2E_PORT ?? 3917);
export const servers = {
  main: base,
  autopay: base + 1,
  shortTtl: base + 2,
  alipay: base + 3,
} as const;

function server(name: keyof typeof servers, env: Record<string, string>) {
  const port = servers[name];
  return {
    command: path.join(root, "target/release/server"),
    cwd: root,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    stdout: "ignore" as const,
    stderr: "pipe" as const,
    timeout: 60_000,
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: path.join(root, "target/site"),
      LEPTOS_ENV: "PROD",
      DATABASE_URL: `sqlite://${dataDir}/${name}.db`,
      SCANPAY_AUTOPAY: "off",
      SCANPAY_SWEEP_MS: "250",
      // A decline in WeChat Pay is learned by query (Native notifies only success): ask soon.
      SCANPAY_RECONCILE_SECS: "1,2,3",
      SCANPAY_RECONCILE_EVERY_SECS: "1",
      RUST_LOG: "warn",
      ...env,
    },
  };
}

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: true,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL: `http://127.0.0.1:${servers.main}`,
    // Chinese is the default language; the English pages have their own test.
    locale: "zh-CN",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  // The page suite once per provider: every test with WeChat Pay (the main server's default),
  // and each test that pays through `baseURL` again with Alipay. `@once` tests use fixed servers
  // or no provider; `@wechatpay` ones follow WeChat's own semantics (a decline is learned by
  // query; Alipay's wallet leaves a declined trade waiting).
  projects: [
    { name: "wechatpay" },
    {
      name: "alipay",
      use: { baseURL: `http://127.0.0.1:${servers.alipay}` },
      testMatch: /(pay|live|polling|language)\.spec\.ts$/,
      grepInvert: /@once|@wechatpay/,
    },
  ],
  webServer: [
    server("main", {}),
    server("autopay", { SCANPAY_AUTOPAY: "2..3" }),
    server("shortTtl", { SCANPAY_PAYMENT_TTL_SECS: "8" }),
    server("alipay", { SCANPAY_DEFAULT_METHOD: "alipay" }),
  ],
});
