// The sandbox is faithful enough that the providers' widely used client libraries work against it
// unchanged, pointed at its base URL — each verifying the sandbox's signed answers as it verifies
// WeChat's and Alipay's: Alipay's official Node SDK, and the Node library WeChat Pay's docs list.
// No browser: the main server's mounted sandbox, its credentials from /sandbox/credentials.
import { test, expect } from "@playwright/test";
import { generateKeyPairSync } from "node:crypto";
import { AlipaySdk } from "alipay-sdk";
import { Wechatpay } from "wechatpay-axios-plugin";

// Trades are never paid through scanpay here: their notifications go nowhere.
const NOTIFY_URL = "http://127.0.0.1:9/notify";

async function credentials(baseURL: string) {
  const response = await fetch(`${baseURL}/sandbox/credentials`);
  expect(response.status).toBe(200);
  return response.json();
}

test("Alipay's official SDK: precreate, no trade before the scan, paid after the wallet, a wrong key refused", { tag: "@once" }, async ({ baseURL }) => {
  const { alipay } = await credentials(baseURL!);
  const client = (privateKey: string) =>
    new AlipaySdk({
      appId: alipay.appId,
      privateKey,
      alipayPublicKey: alipay.alipayPublicKeyPem,
      gateway: alipay.gateway,
      keyType: "PKCS8",
    });
  const sdk = client(alipay.appPrivateKeyPem);
  const outTradeNo = `sdk${Date.now()}`;
  const trade = { bizContent: { out_trade_no: outTradeNo } };
  const created = await sdk.exec("alipay.trade.precreate", {
    bizContent: { out_trade_no: outTradeNo, total_amount: "12.34", subject: "SDK", notify_url: NOTIFY_URL },
  });
  expect(created).toMatchObject({ code: "10000", outTradeNo });
  expect(await sdk.exec("alipay.trade.query", trade)).toMatchObject({ code: "40004", subCode: "ACQ.TRADE_NOT_EXIST" });

  // The phone scans (the trade now exists) and approves.
  expect((await fetch(created.qrCode)).status).toBe(200);
  expect((await fetch(`${created.qrCode}/approve`, { method: "POST" })).ok).toBe(true);
  expect(await sdk.exec("alipay.trade.query", trade)).toMatchObject({
    code: "10000", tradeStatus: "TRADE_SUCCESS", totalAmount: "12.34", outTradeNo,
  });
  expect(await sdk.exec("alipay.trade.close", trade)).toMatchObject({ code: "40004", subCode: "ACQ.TRADE_STATUS_ERROR" });

  const otherKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" });
  const forger = client(otherKey.toString());
  expect(await forger.exec("alipay.trade.query", trade)).toMatchObject({ code: "40002", subCode: "isv.invalid-signature" });
});

test("wechatpay-axios-plugin: a Native order, its query and close, an unknown trade", { tag: "@once" }, async ({ baseURL }) => {
  const { wechatpay } = await credentials(baseURL!);
  const wxpay = new Wechatpay({
    mchid: wechatpay.mchid,
    serial: wechatpay.merchantSerialNo,
    privateKey: wechatpay.merchantPrivateKeyPem,
    certs: { [wechatpay.publicKeyId]: wechatpay.publicKeyPem },
    baseURL: `${wechatpay.baseUrl}/`,
  });
  const outTradeNo = `sdkwx${Date.now()}`;
  const created = await wxpay.v3.pay.transactions.native.post({
    mchid: wechatpay.mchid, appid: wechatpay.appid, description: "SDK", out_trade_no: outTradeNo,
    notify_url: NOTIFY_URL, amount: { total: 1234, currency: "CNY" },
  });
  expect(created.status).toBe(200);
  expect(created.data.code_url).toContain(outTradeNo);
  const byNumber = wxpay.v3.pay.transactions.outTradeNo._out_trade_no_;
  const queried = await byNumber.get({ params: { mchid: wechatpay.mchid }, out_trade_no: outTradeNo });
  expect(queried.data).toMatchObject({ out_trade_no: outTradeNo, trade_state: "NOTPAY", amount: { total: 1234 } });
  const closed = await byNumber.close.post({ mchid: wechatpay.mchid }, { out_trade_no: outTradeNo });
  expect(closed.status).toBe(204);
  const unknown = await byNumber
    .get({ params: { mchid: wechatpay.mchid }, out_trade_no: `nope${outTradeNo}` })
    .catch((e: { response: { status: number; data: unknown } }) => e.response);
  expect(unknown.status).toBe(404);
  expect(unknown.data).toMatchObject({ code: "ORDER_NOT_EXIST" });
});
