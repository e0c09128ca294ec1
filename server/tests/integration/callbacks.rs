//! The providers' notifications on both protocols: forged, stale, probing, tampered, not ours,
//! unknown, malformed, replayed, duplicated, reordered and refused ones. Anything that cannot be
//! verified changes nothing (status and event log) and at most prompts a query to the provider.
use crate::harness::{transitions, wait_until, Options, TestServer, METHODS};
use crate::provider_side::{
    alipay_fields, alipay_signed, forger, now_secs, post_alipay, post_genuine_paid, post_wechat,
    probe_signature, provider_keys, urlencode, wechat_body, wechat_headers, wechat_transaction,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

const SOON: Duration = Duration::from_secs(5);

type Headers = Vec<(String, String)>;

/// A refused notification case: what was sent, and the status it must get.
struct Case {
    what: &'static str,
    want: StatusCode,
    /// Whether the server could not verify it (and so may ask the provider about the payment).
    unverified: bool,
}

/// What a batch of wrong notifications was: how many were sent (each answered as it must be),
/// and how many of them the server could not verify.
pub struct Refused {
    pub cases: usize,
    pub unverified: usize,
}

/// Sends every wrong WeChat Pay notification about payment `id` (12.00 yuan) and checks each
/// answer.
pub async fn wrong_wechat_notifications(server: &TestServer, id: &str, other: &str) -> Refused {
    let keys = provider_keys(server).await;
    let now = now_secs();
    let genuine = |event: &str, transaction: &Value| {
        let body = wechat_body(&keys, event, transaction);
        let headers = wechat_headers(&keys.platform, &keys.public_key_id, now, &body);
        (headers, body)
    };
    let paid = wechat_transaction(&keys, id, 1200);
    let mut cases: Vec<(Case, Headers, String)> = Vec::new();
    let mut push = |what, want, unverified, (headers, body)| {
        cases.push((
            Case {
                what,
                want,
                unverified,
            },
            headers,
            body,
        ))
    };
    let body = wechat_body(&keys, "EV-forged", &paid);
    push(
        "no signature headers",
        StatusCode::UNAUTHORIZED,
        true,
        (Vec::new(), body.clone()),
    );
    let mut headers = wechat_headers(&forger(), &keys.public_key_id, now, &body);
    push(
        "signed by a key of our own",
        StatusCode::UNAUTHORIZED,
        true,
        (headers.clone(), body.clone()),
    );
    headers.retain(|(k, _)| k != "Wechatpay-Timestamp");
    push(
        "no timestamp",
        StatusCode::UNAUTHORIZED,
        true,
        (headers, body.clone()),
    );
    for (what, at) in [("stale", now - 301), ("from the future", now + 301)] {
        let headers = wechat_headers(&keys.platform, &keys.public_key_id, at, &body);
        push(
            what,
            StatusCode::UNAUTHORIZED,
            true,
            (headers, body.clone()),
        );
    }
    let headers = wechat_headers(
        &keys.platform,
        "PUB_KEY_ID_0199999999999999999999999999999999",
        now,
        &body,
    );
    push(
        "an unknown Wechatpay-Serial",
        StatusCode::UNAUTHORIZED,
        true,
        (headers, body.clone()),
    );
    let mut headers = wechat_headers(&keys.platform, &keys.public_key_id, now, &body);
    for (name, value) in headers.iter_mut() {
        if name == "Wechatpay-Signature" {
            *value = probe_signature();
        }
    }
    push(
        "a signature probe",
        StatusCode::UNAUTHORIZED,
        true,
        (headers, body.clone()),
    );
    let (headers, body) = genuine("EV-tampered", &paid);
    let tampered = body.replace("支付成功", "支付成功 ");
    assert_ne!(tampered, body);
    push(
        "a tampered body",
        StatusCode::UNAUTHORIZED,
        true,
        (headers, tampered),
    );
    let mut theirs = paid.clone();
    theirs["mchid"] = json!("1900000109");
    push(
        "another merchant's (mchid)",
        StatusCode::BAD_REQUEST,
        false,
        genuine("EV-mchid", &theirs),
    );
    let mut theirs = paid.clone();
    theirs["appid"] = json!("wx0000000000000000");
    push(
        "another app's (appid)",
        StatusCode::BAD_REQUEST,
        false,
        genuine("EV-appid", &theirs),
    );
    push(
        "the wrong amount",
        StatusCode::BAD_REQUEST,
        false,
        genuine("EV-amount", &wechat_transaction(&keys, id, 1)),
    );
    push(
        "an Alipay payment's",
        StatusCode::BAD_REQUEST,
        false,
        genuine("EV-other-method", &wechat_transaction(&keys, other, 1200)),
    );
    push(
        "an unknown payment's",
        StatusCode::NOT_FOUND,
        false,
        genuine(
            "EV-unknown",
            &wechat_transaction(&keys, "pay_AAAAAAAAAAAAAAAAAAAAAA", 1200),
        ),
    );
    let nope = "nope".to_string();
    let headers = wechat_headers(&keys.platform, &keys.public_key_id, now, &nope);
    push(
        "a signed body that is not JSON",
        StatusCode::BAD_REQUEST,
        false,
        (headers, nope),
    );
    let garbled = body.replace("\"nonce\":\"abcdefghijkl\"", "\"nonce\":\"lkjihgfedcba\"");
    assert_ne!(garbled, body);
    let headers = wechat_headers(&keys.platform, &keys.public_key_id, now, &garbled);
    push(
        "a signed resource that does not decrypt",
        StatusCode::BAD_REQUEST,
        false,
        (headers, garbled),
    );
    let mut refused = Refused {
        cases: cases.len(),
        unverified: 0,
    };
    for (case, headers, body) in cases {
        let (status, answer) = post_wechat(server, &headers, &body).await;
        assert_eq!(status, case.want, "{}: {answer}", case.what);
        assert_eq!(answer["code"], "FAIL", "{}: {answer}", case.what);
        refused.unverified += usize::from(case.unverified);
    }
    refused
}

/// Sends every wrong Alipay notification about payment `id` (12.00 yuan) and checks each
/// answer.
pub async fn wrong_alipay_notifications(server: &TestServer, id: &str, other: &str) -> Refused {
    let keys = provider_keys(server).await;
    let fields = alipay_fields(&keys, id, "12.00", "notify-forged");
    let genuine = |fields| urlencode(&alipay_signed(&keys.alipay, fields));
    let mut cases: Vec<(Case, String)> = Vec::new();
    let mut push = |what, want, unverified, body| {
        cases.push((
            Case {
                what,
                want,
                unverified,
            },
            body,
        ))
    };
    push(
        "no sign",
        StatusCode::UNAUTHORIZED,
        true,
        urlencode(&fields),
    );
    push(
        "signed by a key of our own",
        StatusCode::UNAUTHORIZED,
        true,
        urlencode(&alipay_signed(&forger(), fields.clone())),
    );
    let mut tampered = alipay_signed(&keys.alipay, fields.clone());
    tampered.insert("buyer_id".into(), "2088000000000001".into());
    push(
        "a tampered field",
        StatusCode::UNAUTHORIZED,
        true,
        urlencode(&tampered),
    );
    let mut theirs = alipay_fields(&keys, id, "12.00", "notify-app");
    theirs.insert("app_id".into(), "2021000000000001".into());
    push(
        "another app's",
        StatusCode::BAD_REQUEST,
        false,
        genuine(theirs),
    );
    push(
        "the wrong amount",
        StatusCode::BAD_REQUEST,
        false,
        genuine(alipay_fields(&keys, id, "0.01", "notify-amount")),
    );
    push(
        "a WeChat Pay payment's",
        StatusCode::BAD_REQUEST,
        false,
        genuine(alipay_fields(&keys, other, "12.00", "notify-method")),
    );
    push(
        "an unknown payment's",
        StatusCode::NOT_FOUND,
        false,
        genuine(alipay_fields(
            &keys,
            "pay_AAAAAAAAAAAAAAAAAAAAAA",
            "12.00",
            "notify-unknown",
        )),
    );
    let mut no_trade = alipay_fields(&keys, id, "12.00", "notify-no-trade");
    no_trade.remove("out_trade_no");
    push(
        "a signed form without out_trade_no",
        StatusCode::BAD_REQUEST,
        false,
        genuine(no_trade),
    );
    let mut odd_amount = alipay_fields(&keys, id, "12.00", "notify-odd-amount");
    odd_amount.insert("total_amount".into(), "12.0000001".into());
    push(
        "a signed form with an inexact amount",
        StatusCode::BAD_REQUEST,
        false,
        genuine(odd_amount),
    );
    let mut refused = Refused {
        cases: cases.len(),
        unverified: 0,
    };
    for (case, body) in cases {
        let (status, answer) = post_alipay(server, &body).await;
        assert_eq!(status, case.want, "{}: {answer}", case.what);
        assert_eq!(answer, "fail", "{}", case.what);
        refused.unverified += usize::from(case.unverified);
    }
    refused
}

/// A pending payment (order, payment id) of the protocol that is not `method`'s, for
/// notifications about the wrong one.
pub async fn payment_of_the_other_protocol(server: &TestServer, method: &str) -> (String, String) {
    let other_method = METHODS.into_iter().find(|m| *m != method).unwrap();
    let order = server.create_order(json!(12)).await;
    let payment = server.create_payment_with(&order, other_method).await["paymentId"]
        .as_str()
        .unwrap()
        .to_string();
    (order, payment)
}

async fn untrusted_or_wrong_callbacks_change_nothing(method: &'static str) {
    let server = TestServer::start_with(Options {
        method,
        ..Options::default()
    })
    .await;
    let (order, id) = server.pending_payment(12).await;
    let (other_order, other) = payment_of_the_other_protocol(&server, method).await;
    let queries_before = provider_queries(&server, method).await;
    let unverified = match method {
        "wechatpay" => wrong_wechat_notifications(&server, &id, &other).await,
        _ => wrong_alipay_notifications(&server, &id, &other).await,
    }
    .unverified;
    assert!(
        unverified > 1,
        "several unverified notifications name the payment"
    );
    // They made the server ask the provider (which says NOTPAY) once, not once each.
    wait_until(SOON, || async {
        (provider_queries(&server, method).await > queries_before).then_some(())
    })
    .await
    .expect("an unverified callback triggers a query");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        provider_queries(&server, method).await - queries_before,
        1.0,
        "one query per payment per interval, for {unverified} unverified notifications"
    );
    for (order, id) in [(&order, &id), (&other_order, &other)] {
        assert_eq!(server.payment_status(id).await["status"], "pending");
        assert_eq!(server.order(order).await["status"], "pending");
        let events = server.events(order, id).await;
        assert_eq!(
            transitions(&events),
            [("api".into(), "pending".into())],
            "{events:?}"
        );
    }
    let events = server.events(&order, &id).await;
    // Besides the creation: the amount mismatch of a verified notification (logged), nothing
    // — the query's NOTPAY changed nothing, so unauthenticated traffic wrote nothing.
    let amount_logged = events
        .iter()
        .filter(|e| e["detail"].as_str().unwrap_or_default().contains("amount"))
        .count();
    assert_eq!(
        amount_logged, 1,
        "the amount mismatch is logged: {events:?}"
    );
    assert_eq!(
        events.len(),
        1 + amount_logged,
        "nothing else is logged: {events:?}"
    );
}

/// Provider queries made so far by `method`'s adapter: the count of its call histogram.
async fn provider_queries(server: &TestServer, method: &str) -> f64 {
    let labels = [format!("method=\"{method}\""), "operation=\"query\"".into()];
    metric_sum(
        server,
        "scanpay_provider_call_duration_seconds_count{",
        &labels,
    )
    .await
}

/// The sum of the `/metrics` samples (served on the main listener in development) whose line
/// starts with `series` and carries every one of `labels`.
async fn metric_sum(server: &TestServer, series: &str, labels: &[String]) -> f64 {
    let text = reqwest::get(server.url("/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("the text");
    text.lines()
        .filter(|l| l.starts_with(series) && labels.iter().all(|label| l.contains(label)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn untrusted_or_wrong_wechatpay_notifications_change_nothing() {
    untrusted_or_wrong_callbacks_change_nothing("wechatpay").await;
}

#[tokio::test]
async fn untrusted_or_wrong_alipay_notifications_change_nothing() {
    untrusted_or_wrong_callbacks_change_nothing("alipay").await;
}

#[tokio::test]
async fn an_unverified_callback_about_a_real_payment_is_confirmed_by_a_query() {
    for method in METHODS {
        let server = TestServer::start_with(Options {
            method,
            ..Options::default()
        })
        .await;
        let keys = provider_keys(&server).await;
        let (order, id) = server.pending_payment(3).await;
        // The provider really has the money, but its notification is lost...
        server
            .set_faults(json!({ "dropNotifications": true }))
            .await;
        assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(server.payment_status(&id).await["status"], "pending");
        // ...and a forged one arrives: refused, but the query it prompts finds the payment.
        let status = match method {
            "wechatpay" => {
                let body = wechat_body(&keys, "EV-forged", &wechat_transaction(&keys, &id, 300));
                let headers = wechat_headers(&forger(), &keys.public_key_id, now_secs(), &body);
                post_wechat(&server, &headers, &body).await.0
            }
            _ => {
                let fields = alipay_fields(&keys, &id, "3.00", "notify-forged");
                post_alipay(&server, &urlencode(&alipay_signed(&forger(), fields)))
                    .await
                    .0
            }
        };
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method}");
        server.wait_status(&id, "paid", SOON).await;
        let events = server.events(&order, &id).await;
        assert_eq!(
            transitions(&events),
            [
                ("api".into(), "pending".into()),
                ("reconcile".into(), "paid".into())
            ],
            "{method}: {events:?}"
        );
    }
}

/// Notifications acknowledged as duplicates of one already processed (they write nothing; the
/// metrics count them).
async fn duplicates_ignored(server: &TestServer, method: &str) -> usize {
    let labels = [
        format!("method=\"{method}\""),
        "outcome=\"duplicate\"".into(),
    ];
    metric_sum(server, "scanpay_callbacks_total{", &labels).await as usize
}

#[tokio::test]
async fn a_genuine_notification_replayed_ten_times_is_one_transition() {
    for method in METHODS {
        let server = TestServer::start_with(Options {
            method,
            ..Options::default()
        })
        .await;
        let keys = provider_keys(&server).await;
        let (order, id) = server.pending_payment(8).await;
        let answers = futures::future::join_all(
            (0..10).map(|_| post_genuine_paid(&server, &keys, method, &id, 800, "EV-replayed")),
        )
        .await;
        assert!(answers.iter().all(|(_, ok)| *ok), "{method}: {answers:?}");
        // Once more, later: a replay of a notification already processed.
        let (_, ok) = post_genuine_paid(&server, &keys, method, &id, 800, "EV-replayed").await;
        assert!(
            ok,
            "{method}: a replay is acknowledged (or it is resent forever)"
        );
        let events = server.events(&order, &id).await;
        assert_eq!(
            transitions(&events),
            [
                ("api".into(), "pending".into()),
                ("provider".into(), "paid".into())
            ],
            "{method}"
        );
        assert_eq!(duplicates_ignored(&server, method).await, 10, "{method}");
        assert_eq!(events.len(), 2, "replays wrote nothing: {events:?}");
    }
}

async fn the_sandbox_duplicating_every_callback_still_pays_once(method: &'static str) {
    let server = TestServer::start_with(Options {
        method,
        ..Options::default()
    })
    .await;
    server
        .set_faults(json!({ "duplicateNotifications": 4 }))
        .await;
    let (order, id) = server.pending_payment(8).await;
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    server.wait_status(&id, "paid", SOON).await;
    // The four extra copies really arrive, and event-id dedup (not the state machine) drops them.
    wait_until(SOON, || async {
        (duplicates_ignored(&server, method).await >= 4).then_some(())
    })
    .await
    .expect("the 4 extra copies arrive and are ignored by event id");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let events = server.events(&order, &id).await;
    assert_eq!(duplicates_ignored(&server, method).await, 4);
    assert_eq!(
        transitions(&events),
        [
            ("api".into(), "pending".into()),
            ("provider".into(), "paid".into())
        ]
    );
}

#[tokio::test]
async fn the_sandbox_duplicating_every_wechatpay_notification_still_pays_once() {
    the_sandbox_duplicating_every_callback_still_pays_once("wechatpay").await;
}

#[tokio::test]
async fn the_sandbox_duplicating_every_alipay_notification_still_pays_once() {
    the_sandbox_duplicating_every_callback_still_pays_once("alipay").await;
}

async fn reordered_and_delayed_callbacks_end_right(method: &'static str) {
    // Declines never notify (WeChat learns PAYERROR by query: reconcile after 1 s; Alipay's
    // trade just stays payable).
    let server = TestServer::start_with(Options {
        method,
        reconcile: "1",
        reconcile_every_secs: 1,
        ..Options::default()
    })
    .await;
    server
        .set_faults(json!({ "reorderNotifications": true, "delayNotificationsMs": 300 }))
        .await;
    let mut payments = Vec::new();
    for i in 0..6 {
        payments.push(server.pending_payment(10 + i).await);
    }
    for (i, (_, id)) in payments.iter().enumerate() {
        let action = if i % 2 == 0 { "approve" } else { "decline" };
        assert_eq!(server.wallet(id, action).await, StatusCode::OK);
    }
    for (i, (order, id)) in payments.iter().enumerate() {
        let want = match (i % 2, method) {
            (0, _) => "paid",
            (_, "wechatpay") => "failed",
            _ => "pending",
        };
        server.wait_status(id, want, SOON).await;
        let order_status = server.order(order).await["status"].clone();
        assert_eq!(order_status, if i % 2 == 0 { "paid" } else { "pending" });
    }
    // Paid ones by their (reordered, delayed) notification or a query, exactly once.
    for (order, id) in payments.iter().step_by(2) {
        let events = server.events(order, id).await;
        let paid = transitions(&events)
            .into_iter()
            .filter(|(_, to)| to == "paid")
            .count();
        assert_eq!(paid, 1, "{events:?}");
    }
}

#[tokio::test]
async fn reordered_and_delayed_wechatpay_notifications_end_right() {
    reordered_and_delayed_callbacks_end_right("wechatpay").await;
}

#[tokio::test]
async fn reordered_and_delayed_alipay_notifications_end_right() {
    reordered_and_delayed_callbacks_end_right("alipay").await;
}

#[tokio::test]
async fn a_notification_arriving_after_the_query_paid_changes_nothing() {
    // Out of order: the query (1 s after creation) learns SUCCESS before the notification
    // (held back 2.5 s) arrives; the notification is acknowledged and changes nothing.
    for method in METHODS {
        let server = TestServer::start_with(Options {
            method,
            reconcile: "1",
            reconcile_every_secs: 1,
            faults: r#"{"delayNotificationsMs":2500}"#,
            ..Options::default()
        })
        .await;
        let (order, id) = server.pending_payment(7).await;
        assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
        server.wait_status(&id, "paid", SOON).await;
        // The late notification lands and is logged (not ignored as unverified, not retried).
        let events = wait_until(SOON, || async {
            let events = server.events(&order, &id).await;
            events
                .iter()
                .any(|e| e["source"] == "provider")
                .then_some(events)
        })
        .await
        .unwrap_or_else(|| panic!("{method}: the late notification was never applied"));
        tokio::time::sleep(Duration::from_millis(500)).await;
        let events_later = server.events(&order, &id).await;
        assert_eq!(
            events_later.len(),
            events.len(),
            "{method}: {events_later:?}"
        );
        assert_eq!(
            transitions(&events),
            [
                ("api".into(), "pending".into()),
                ("reconcile".into(), "paid".into())
            ],
            "{method}: {events:?}"
        );
        let o = server.order(&order).await;
        assert_eq!(o["status"], "paid");
        assert_eq!(o["paidByPayment"], id.as_str());
    }
}

async fn a_callback_that_fails_is_retried_until_acknowledged(method: &'static str) {
    let server = TestServer::start_with(Options {
        method,
        ..Options::default()
    })
    .await;
    server.set_faults(json!({ "failFirstDeliveries": 3 })).await;
    let (order, id) = server.pending_payment(4).await;
    let approved_at = std::time::Instant::now();
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    // Retries after 0.2 s, 0.2 s and 0.5 s (the test schedule); reconciliation is 10 s away.
    server.wait_status(&id, "paid", SOON).await;
    let took = approved_at.elapsed();
    // Paid only by the fourth attempt: three refused deliveries and their waits came first.
    assert!(
        took >= Duration::from_millis(900),
        "paid {took:?} after the approval: the failed deliveries were not retried"
    );
    let events = server.events(&order, &id).await;
    assert_eq!(
        transitions(&events),
        [
            ("api".into(), "pending".into()),
            ("provider".into(), "paid".into())
        ]
    );
}

#[tokio::test]
async fn a_wechatpay_notification_that_fails_is_retried_until_acknowledged() {
    a_callback_that_fails_is_retried_until_acknowledged("wechatpay").await;
}

#[tokio::test]
async fn an_alipay_notification_that_fails_is_retried_until_acknowledged() {
    a_callback_that_fails_is_retried_until_acknowledged("alipay").await;
}

#[tokio::test]
async fn approvals_in_flight_survive_kill_9() {
    // Every delivery waits 3 s (in both processes: the fault is in the environment), so the
    // approvals' callbacks are still in flight at the SIGKILL. A callback the dead process had
    // claimed waits out its delivery lease; one it had not claimed goes out 3 s after the
    // restart. Reconciliation (2 s after creation, then every second) finds each payment first.
    // The first query comes after the kill, so no payment is leased by the dead process's
    // reconciler either. Half the payments speak each protocol.
    let mut server = TestServer::start_with(Options {
        reconcile: "2,3,4,5,6,7,8,9",
        faults: r#"{"delayNotificationsMs":3000}"#,
        ..Default::default()
    })
    .await;
    // The ten that stay unpaid first, so the ten approved are as young as can be at the kill.
    let mut payments = Vec::new();
    for i in 0..20 {
        let order = server.create_order(json!(20 + i)).await;
        let method = METHODS[i % 2];
        let id = server.create_payment_with(&order, method).await["paymentId"]
            .as_str()
            .unwrap()
            .to_string();
        payments.push((order, id));
    }
    payments.rotate_left(10);
    // Approve half, and crash the merchant without waiting for the callbacks.
    let approvals = futures::future::join_all(
        payments
            .iter()
            .take(10)
            .map(|(_, id)| server.wallet(id, "approve")),
    )
    .await;
    assert!(approvals.iter().all(|s| *s == StatusCode::OK));
    let approved_at = std::time::Instant::now();
    server.crash_and_restart().await;
    for (i, (order, id)) in payments.iter().enumerate() {
        if i < 10 {
            server.wait_status(id, "paid", SOON).await;
            assert_eq!(server.order(order).await["status"], "paid");
        } else {
            assert_eq!(server.payment_status(id).await["status"], "pending");
        }
    }
    // No callback had landed: each payment was paid once, by a provider query, not a callback.
    let all_paid_after = approved_at.elapsed();
    for (i, (order, id)) in payments.iter().take(10).enumerate() {
        let events = server.events(order, id).await;
        let paid: Vec<_> = transitions(&events)
            .into_iter()
            .filter(|(_, to)| to == "paid")
            .collect();
        assert_eq!(
            paid,
            [("reconcile".to_string(), "paid".to_string())],
            "payment {i} (all paid {all_paid_after:?} after the approvals): {events:?}"
        );
    }
}
