//! The crypto against the official SDKs' published vectors (see tests/fixtures/README.md for
//! sources and licenses) and against keys of our own.
use super::*;

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/",
            $path
        ))
    };
}

// wechatpay-java core/src/test/java/com/wechat/pay/java/core/model/TestConfig.java (Apache-2.0).
const WECHATPAY_JAVA_API_V3_KEY: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
// wechatpay-java core/src/test/java/com/wechat/pay/java/core/cipher/RSAVerifierTest.java
// (Apache-2.0): the merchant key's signature of "message".
const WECHATPAY_JAVA_SIGNATURE_OF_MESSAGE: &str = "Rq+5ZpWV6IHTWE1+9gCrYJKguNgbItpMdlIA+PVCPCdUAKNlohZz7CL7Y8xWDIFJjdGnErMj6Z+Q/h9CF5MV+nAVkqDmBR0uP5ppsUEzco4ijvKHsvI2ro4boSW6vSfQs3W8I4QSI9a0/NFIgvj83Fv27LIYZf7deaFWmEwd1fpAeJRCyoKyBeJPdsjVx0//Lqe6Wze2zVdliLcBvaHCfpd8+rAVGS+FQDeWgHqJ7n/Zy09LmV1/ghs7pO1mdjdD16SHKlysAD3K5hNGUJX/SHrEXEcu1yO1AOb/YvOVkjNh8243rcfXNE5L4ph2XS11vS+2aToKYSOcKUagf0LLaw==";

#[test]
fn aead_aes_256_gcm_matches_wechatpay_java_aead_aes_cipher_test() {
    // wechatpay-java cipher/AeadAesCipherTest.java (Apache-2.0).
    let (nonce, aad, ciphertext) = (
        b"uluk4a9R25RW",
        b"associatedData",
        "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=",
    );
    let key = WECHATPAY_JAVA_API_V3_KEY.as_bytes();
    let plaintext = aes_gcm_decrypt(key, nonce, aad, &base64_decode(ciphertext).unwrap()).unwrap();
    assert_eq!(plaintext, b"message");
    assert_eq!(
        base64_encode(&aes_gcm_encrypt(key, nonce, aad, b"message")),
        ciphertext
    );
    // The same test's negative cases: bad AAD, bad nonce, bad ciphertext.
    let sealed = base64_decode(ciphertext).unwrap();
    assert!(aes_gcm_decrypt(key, nonce, b"bad-associatedData", &sealed).is_err());
    assert!(aes_gcm_decrypt(key, b"bad-4a9R25RW", aad, &sealed).is_err());
    assert!(aes_gcm_decrypt(key, nonce, aad, &[0; 128]).is_err());
    assert!(aes_gcm_decrypt(&key[..31], nonce, aad, &sealed).is_err());
}

#[test]
fn the_merchant_certificate_verifies_wechatpay_java_rsa_verifier_test_signature() {
    let certificates =
        Certificate::parse_all(fixture!("wechatpay-java/merchant_certificate.pem")).unwrap();
    assert_eq!(certificates.len(), 1);
    let merchant = &certificates[0];
    assert_eq!(merchant.serial, "5F1C72E2A8931B72A2E13AF8DEE92471EB397115");
    assert!(merchant
        .key
        .verify_base64(b"message", WECHATPAY_JAVA_SIGNATURE_OF_MESSAGE));
    assert!(!merchant
        .key
        .verify_base64(b"message!", WECHATPAY_JAVA_SIGNATURE_OF_MESSAGE));
    // RSAVerifierTest.testPublicKeyVerify: the WeChat Pay public key does not verify it.
    let wechat_pay =
        RsaVerifyingKey::parse(fixture!("wechatpay-java/wechat_pay_public_key.pem")).unwrap();
    assert!(!wechat_pay.verify_base64(b"message", WECHATPAY_JAVA_SIGNATURE_OF_MESSAGE));
    let platform =
        &Certificate::parse_all(fixture!("wechatpay-java/wechat_pay_certificate.pem")).unwrap()[0];
    assert_eq!(platform.serial, "440024045C4A427599D09BB4E3DE0279F2E813FD");
    assert_eq!(
        platform.key, wechat_pay,
        "the certificate holds the published public key"
    );
}

#[test]
fn the_merchant_private_key_signs_what_its_certificate_verifies() {
    // PKCS#1 v1.5 is deterministic: our signature of "message" is byte-identical to the SDK's.
    let key = RsaSigningKey::parse(fixture!("wechatpay-java/merchant_private_key.pem")).unwrap();
    assert_eq!(
        key.sign_base64(b"message"),
        WECHATPAY_JAVA_SIGNATURE_OF_MESSAGE
    );
}

#[test]
fn the_wechatpay_go_notification_signature_verifies_with_its_certificate() {
    let certificate =
        &Certificate::parse_all(fixture!("wechatpay-go/notify_certificate.pem")).unwrap()[0];
    assert_eq!(certificate.serial, "D7CE59D1F522D701");
    let body = fixture!("wechatpay-go/notify_body.json");
    let message = format!("1624523846\nEcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz\n{body}\n");
    let signature = fixture!("wechatpay-go/notify_signature.txt");
    assert!(certificate.key.verify_base64(message.as_bytes(), signature));
    assert!(!certificate
        .key
        .verify_base64(message.replace("签约", "解约").as_bytes(), signature));
}

#[test]
fn the_wechatpay_go_resource_decrypts_with_its_16_byte_key_as_aes_128_gcm() {
    let body: serde_json::Value =
        serde_json::from_str(fixture!("wechatpay-go/notify_body.json")).unwrap();
    let resource = &body["resource"];
    let plaintext = aes_gcm_decrypt(
        b"testMchAPIv3Key0",
        resource["nonce"].as_str().unwrap().as_bytes(),
        resource["associated_data"].as_str().unwrap().as_bytes(),
        &base64_decode(resource["ciphertext"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(plaintext).unwrap(),
        fixture!("wechatpay-go/notify_plaintext.json")
    );
}

#[test]
fn alipay_app_keys_load_in_every_published_form_and_sign_alike() {
    let forms = [
        fixture!("alipay-sdk-nodejs-all/app-private-key.pem"),
        fixture!("alipay-sdk-nodejs-all/app-private-key-pkcs8.pem"),
        fixture!("alipay-sdk-nodejs-all/app-private-key-no-wrapper.pem"),
        fixture!("alipay-sdk-nodejs-all/app-private-key-pkcs8-no-wrapper.pem"),
    ];
    let public =
        RsaVerifyingKey::parse(fixture!("alipay-sdk-nodejs-all/app-public-key.pem")).unwrap();
    let bare_public = RsaVerifyingKey::parse(fixture!(
        "alipay-sdk-nodejs-all/app-public-key-no-wrapper.pem"
    ))
    .unwrap();
    assert_eq!(public, bare_public);
    let signatures: Vec<String> = forms
        .iter()
        .map(|form| RsaSigningKey::parse(form).unwrap().sign_base64(b"a=1&b=2"))
        .collect();
    assert!(signatures.iter().all(|s| s == &signatures[0]));
    assert!(public.verify_base64(b"a=1&b=2", &signatures[0]));
    // The Alipay public key is not the app's: a key in the wrong slot does not verify.
    let alipay =
        RsaVerifyingKey::parse(fixture!("alipay-sdk-nodejs-all/alipay-public-key.pem")).unwrap();
    assert!(!alipay.verify_base64(b"a=1&b=2", &signatures[0]));
}

#[test]
fn own_keys_round_trip_and_refuse_tampering_and_the_wrong_key() {
    let pkcs8 = RsaSigningKey::parse(fixture!("own/alipay_app.key.pem")).unwrap();
    let pkcs1 = RsaSigningKey::parse(fixture!("own/alipay_app.pkcs1.pem")).unwrap();
    let public = RsaVerifyingKey::parse(fixture!("own/alipay_app.pub.pem")).unwrap();
    let other = RsaVerifyingKey::parse(fixture!("own/other.pub.pem")).unwrap();
    let signature = pkcs8.sign_base64("biz_content={\"a\":\"支付\"}".as_bytes());
    assert_eq!(
        signature,
        pkcs1.sign_base64("biz_content={\"a\":\"支付\"}".as_bytes())
    );
    assert!(public.verify_base64("biz_content={\"a\":\"支付\"}".as_bytes(), &signature));
    assert!(!public.verify_base64("biz_content={\"a\":\"支付 \"}".as_bytes(), &signature));
    assert!(!other.verify_base64("biz_content={\"a\":\"支付\"}".as_bytes(), &signature));
    assert!(!public.verify_base64(b"x", "not base64!"));
}

#[test]
fn keys_in_the_wrong_slot_are_refused_with_the_reason() {
    let public_pem = fixture!("own/merchant.pub.pem");
    assert!(matches!(
        RsaSigningKey::parse(public_pem),
        Err(KeyError::WrongLabel { .. })
    ));
    assert!(matches!(
        RsaVerifyingKey::parse(fixture!("own/merchant.key.pem")),
        Err(KeyError::WrongLabel { .. })
    ));
    assert!(matches!(
        RsaSigningKey::parse("not a key"),
        Err(KeyError::Encoding(_))
    ));
    assert!(matches!(
        RsaSigningKey::parse("AAAA"),
        Err(KeyError::PrivateKey(_))
    ));
    assert!(matches!(
        Certificate::parse_all(public_pem),
        Err(KeyError::WrongLabel { .. })
    ));
    let two = format!(
        "{}{}",
        fixture!("own/platform.cert.pem"),
        fixture!("own/other.cert.pem")
    );
    let serials: Vec<String> = Certificate::parse_all(&two)
        .unwrap()
        .into_iter()
        .map(|c| c.serial)
        .collect();
    assert_eq!(serials, ["3A1F00C0FFEE0001", "3A1F00C0FFEE0002"]);
    assert_eq!(normalize_serial("00ab"), "AB");
}
