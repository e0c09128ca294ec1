//! What the adapter refuses: answers that do not verify (forged), and configurations that
//! cannot work.
use super::*;

#[tokio::test]
async fn answers_that_do_not_verify_are_forged_and_not_believed() {
    let body = r#"{"code_url":"weixin://forged"}"#;
    let now = now_ms() / 1000;
    let platform = fixture!("own/platform.key.pem");
    let other = fixture!("own/other.key.pem");
    let probe = {
        let mut headers = signed_headers(platform, PUBLIC_KEY_ID, now, body.as_bytes());
        headers[2].1 = format!("WECHATPAY/SIGNTEST/{}", headers[2].1);
        headers
    };
    let cases = [
        (
            "mixed-up key",
            signed_headers(other, PUBLIC_KEY_ID, now, body.as_bytes()),
            body,
        ),
        (
            "unknown serial",
            signed_headers(
                platform,
                "5157F09EFDC096DE15EBE81A47057A72",
                now,
                body.as_bytes(),
            ),
            body,
        ),
        (
            "stale timestamp",
            signed_headers(platform, PUBLIC_KEY_ID, now - 300, body.as_bytes()),
            body,
        ),
        ("probe", probe, body),
        (
            "tampered body",
            signed_headers(platform, PUBLIC_KEY_ID, now, body.as_bytes()),
            r#"{"code_url":"weixin://evil"}"#,
        ),
        ("unsigned", Vec::new(), body),
    ];
    for (case, headers, sent) in cases {
        let fake = FakeServer::start(vec![Reply {
            status: 200,
            headers,
            body: sent.into(),
            ..Reply::default()
        }])
        .await;
        let provider = WechatPay::new(config(&fake.url)).unwrap();
        let result = provider.create(trade()).await;
        assert!(
            matches!(&result, Err(ProviderError::Unavailable(r)) if r.contains("signature")),
            "{case}: {result:?}"
        );
    }
    // The certificate path verifies: the other key under its certificate's serial.
    let headers = signed_headers(other, CERT_SERIAL, now, body.as_bytes());
    let fake = FakeServer::start(vec![Reply {
        status: 200,
        headers,
        body: body.into(),
        ..Reply::default()
    }])
    .await;
    assert_eq!(
        WechatPay::new(config(&fake.url))
            .unwrap()
            .create(trade())
            .await
            .unwrap(),
        "weixin://forged"
    );
}

#[test]
fn configuration_errors_name_the_field() {
    let field = |config: WechatPayConfig| WechatPay::new(config).err().map(|e| e.field);
    let base = || config("https://api.mch.weixin.qq.com");
    assert_eq!(field(base()), None);
    assert_eq!(
        field(WechatPayConfig {
            api_v3_key: Secret::new("short".into()),
            ..base()
        }),
        Some("wechatpay.api_v3_key")
    );
    assert_eq!(
        field(WechatPayConfig {
            base_url: "http://10.0.0.8/wechatpay".into(),
            ..base()
        }),
        Some("wechatpay.base_url")
    );
    assert_eq!(
        field(WechatPayConfig {
            base_url: "http://[::1]:3000/sandbox".into(),
            ..base()
        }),
        None
    );
    assert_eq!(
        field(WechatPayConfig {
            public_key: None,
            platform_certificates_pem: vec![],
            ..base()
        }),
        Some("wechatpay.public_key")
    );
    let public_key_as_private = Secret::new(fixture!("own/merchant.pub.pem").into());
    assert_eq!(
        field(WechatPayConfig {
            merchant_private_key_pem: public_key_as_private,
            ..base()
        }),
        Some("wechatpay.merchant_private_key_pem")
    );
    let message = WechatPay::new(WechatPayConfig {
        api_v3_key: Secret::new("short".into()),
        ..base()
    })
    .err()
    .unwrap();
    assert!(message.to_string().contains("32 bytes"), "{message}");
}
