//! The SMS providers: the generic HTTP gateway against an in-test HTTP server, the sandbox
//! gateway's rules, and the admin-readable outbox.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use signet_notify::{
    HttpSms, HttpSmsConfig, Lang, MemoryOutboxStore, NotifyError, OneTimeCode, OutboxSms, SandboxSms, SmsProvider,
    code_sms,
};

#[derive(Clone, Debug)]
struct Seen {
    authorization: Option<String>,
    content_type: Option<String>,
    body: String,
}

type Log = Arc<Mutex<Vec<Seen>>>;

fn record(log: &Log, headers: &HeaderMap, body: String) {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    log.lock().unwrap().push(Seen { authorization: h("authorization"), content_type: h("content-type"), body });
}

/// A gateway: `/ok` answers 200 with an id, `/plain` 202 with no JSON, `/fail` 500 echoing the
/// request (as some gateways do), `/slow` answers after 3 s.
async fn gateway() -> (String, Log) {
    let log: Log = Arc::default();
    let app = Router::new()
        .route(
            "/ok",
            post(|State(log): State<Log>, headers: HeaderMap, body: String| async move {
                record(&log, &headers, body);
                (StatusCode::OK, r#"{"id":"gw-0001","status":"queued"}"#)
            }),
        )
        .route(
            "/plain",
            post(|State(log): State<Log>, headers: HeaderMap, body: String| async move {
                record(&log, &headers, body);
                (StatusCode::ACCEPTED, "accepted")
            }),
        )
        .route(
            "/fail",
            post(|State(log): State<Log>, headers: HeaderMap, body: String| async move {
                record(&log, &headers, body.clone());
                (StatusCode::INTERNAL_SERVER_ERROR, format!("could not send {body}"))
            }),
        )
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                StatusCode::OK
            }),
        )
        .with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (base, log)
}

fn code() -> OneTimeCode {
    OneTimeCode::parse("123456").unwrap()
}

#[tokio::test]
async fn http_sms_posts_json_with_the_token_and_returns_the_gateway_id() {
    let (base, log) = gateway().await;
    let sms =
        HttpSms::new(HttpSmsConfig { bearer_token: Some("t0ken".into()), ..HttpSmsConfig::new(format!("{base}/ok")) })
            .unwrap();
    let text = code_sms(Lang::Zh, &code(), 5);
    assert_eq!(text, "【Signet】验证码 123456，5 分钟内有效。请勿告诉他人。");
    let receipt = sms.send("+8613800138000", &text).await.unwrap();
    assert_eq!(receipt.provider, "http");
    assert_eq!(receipt.id.as_deref(), Some("gw-0001"));
    let seen = log.lock().unwrap().pop().unwrap();
    assert_eq!(seen.authorization.as_deref(), Some("Bearer t0ken"));
    assert_eq!(seen.content_type.as_deref(), Some("application/json"));
    let body: serde_json::Value = serde_json::from_str(&seen.body).unwrap();
    assert_eq!(body, serde_json::json!({"to": "+8613800138000", "text": text}));

    // No token: no Authorization header. A 2xx without JSON is sent, without an id.
    let sms = HttpSms::new(HttpSmsConfig::new(format!("{base}/plain"))).unwrap();
    let receipt = sms.send("+14155550123", "hello").await.unwrap();
    assert_eq!(receipt.id, None);
    assert_eq!(log.lock().unwrap().pop().unwrap().authorization, None);
}

#[tokio::test]
async fn http_sms_fills_a_body_template_with_escaped_values() {
    let (base, log) = gateway().await;
    let sms = HttpSms::new(HttpSmsConfig {
        body_template: Some(r#"{"mobile": "{to}", "content": "{text}", "sign": "Signet", "n": 1}"#.into()),
        ..HttpSmsConfig::new(format!("{base}/ok"))
    })
    .unwrap();
    let text = "line \"one\"\nline {to} two";
    sms.send("+8613800138000", text).await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&log.lock().unwrap().pop().unwrap().body).unwrap();
    assert_eq!(body, serde_json::json!({"mobile": "+8613800138000", "content": text, "sign": "Signet", "n": 1}));
}

#[tokio::test]
async fn http_sms_errors_carry_the_status_and_never_the_text() {
    let (base, log) = gateway().await;
    let sms = HttpSms::new(HttpSmsConfig::new(format!("{base}/fail"))).unwrap();
    let text = code_sms(Lang::En, &code(), 5);
    let err = sms.send("+8613800138000", &text).await.unwrap_err();
    assert!(matches!(err, NotifyError::SmsGateway { status: 500 }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("500") && !shown.contains("123456"), "{shown}");
    assert_eq!(log.lock().unwrap().len(), 1, "the gateway was reached");

    let sms = HttpSms::new(HttpSmsConfig {
        timeout: Duration::from_millis(500),
        ..HttpSmsConfig::new(format!("{base}/slow"))
    })
    .unwrap();
    let started = Instant::now();
    let err = sms.send("+8613800138000", &text).await.unwrap_err();
    assert!(matches!(err, NotifyError::SmsUnreachable(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let sms = HttpSms::new(HttpSmsConfig::new(format!("http://{addr}/send?key=s3cret"))).unwrap();
    let err = sms.send("+8613800138000", &text).await.unwrap_err();
    assert!(matches!(err, NotifyError::SmsUnreachable(_)), "{err:?}");
    assert!(!err.to_string().contains("s3cret"), "{err}");

    let err =
        HttpSms::new(HttpSmsConfig::new(format!("{base}/ok"))).unwrap().send("+8613800138000", "").await.unwrap_err();
    assert!(matches!(err, NotifyError::SmsText(_)), "{err:?}");
}

#[tokio::test]
async fn sandbox_checks_numbers_rate_limits_and_gives_ids() {
    let sandbox = SandboxSms::new();
    let text = code_sms(Lang::En, &code(), 5);
    for bad in ["13800138000", "+86 138 0013 8000", "+0123456789", "+1234567890123456", "", "+86138abc8000"] {
        let err = sandbox.send(bad, &text).await.unwrap_err();
        assert!(matches!(err, NotifyError::InvalidPhoneNumber), "{bad}: {err:?}");
    }
    let mut ids = Vec::new();
    for _ in 0..5 {
        let r = sandbox.send("+8613800138000", &text).await.unwrap();
        assert_eq!(r.provider, "sandbox");
        ids.push(r.id.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 5, "ids are distinct: {ids:?}");
    match sandbox.send("+8613800138000", &text).await.unwrap_err() {
        NotifyError::SmsRateLimited { retry_after } => {
            assert!(
                retry_after > Duration::from_secs(590) && retry_after <= Duration::from_secs(600),
                "{retry_after:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    sandbox.send("+14155550123", &text).await.expect("another number has its own budget");
    assert_eq!(sandbox.sent().len(), 6);
    assert_eq!(sandbox.last_text_to("+8613800138000").unwrap(), text);
    assert!(sandbox.last_text_to("+4930123456").is_none());
    assert!(matches!(sandbox.send("+4930123456", " ").await.unwrap_err(), NotifyError::SmsText(_)));
    assert!(matches!(sandbox.send("+4930123456", &"x".repeat(1001)).await.unwrap_err(), NotifyError::SmsText(_)));
}

#[tokio::test]
async fn sandbox_window_slides() {
    let sandbox = SandboxSms::with_limit(2, Duration::from_millis(300));
    sandbox.send("+4930123456", "a").await.unwrap();
    sandbox.send("+4930123456", "b").await.unwrap();
    assert!(matches!(sandbox.send("+4930123456", "c").await.unwrap_err(), NotifyError::SmsRateLimited { .. }));
    tokio::time::sleep(Duration::from_millis(350)).await;
    sandbox.send("+4930123456", "d").await.expect("the window has passed");
}

#[tokio::test]
async fn outbox_keeps_messages_and_lists_newest_first() {
    let outbox = OutboxSms::in_memory();
    let texts: Vec<String> =
        ["111111", "222222", "333333"].iter().map(|c| code_sms(Lang::Zh, &OneTimeCode::parse(c).unwrap(), 5)).collect();
    let mut ids = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        let to = if i == 1 { "13800138000" } else { "+8613800138000" };
        let r = outbox.send(to, t).await.unwrap();
        assert_eq!(r.provider, "outbox");
        ids.push(r.id.unwrap());
    }
    let mut distinct = ids.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "{ids:?}");
    let listed = outbox.list(2).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].text, texts[2]);
    assert_eq!(listed[1].text, texts[1]);
    assert_eq!(listed[1].to, "13800138000");
    assert_eq!(listed[0].id, ids[2]);
    assert!(listed[0].at > 1_700_000_000, "a Unix time");
    assert!(!format!("{listed:?}").contains("333333"), "Debug hides texts");
    assert_eq!(outbox.list(10).await.unwrap().len(), 3);
    assert!(outbox.list(0).await.unwrap().is_empty());

    assert!(matches!(outbox.send("call me", "x").await.unwrap_err(), NotifyError::InvalidPhoneNumber));
    assert!(matches!(outbox.send("+8613800138000", "").await.unwrap_err(), NotifyError::SmsText(_)));
    assert_eq!(outbox.list(10).await.unwrap().len(), 3, "refused messages are not kept");

    let small = OutboxSms::new(Arc::new(MemoryOutboxStore::with_capacity(2)));
    for t in ["a", "b", "c"] {
        small.send("+4930123456", t).await.unwrap();
    }
    let kept: Vec<String> = small.list(10).await.unwrap().into_iter().map(|m| m.text).collect();
    assert_eq!(kept, ["c", "b"]);
}

#[tokio::test]
async fn providers_are_interchangeable_behind_the_trait() {
    let (base, _log) = gateway().await;
    let providers: Vec<Arc<dyn SmsProvider>> = vec![
        Arc::new(OutboxSms::in_memory()),
        Arc::new(SandboxSms::new()),
        Arc::new(HttpSms::new(HttpSmsConfig::new(format!("{base}/ok"))).unwrap()),
    ];
    for p in providers {
        let r = p.send("+8613800138000", &code_sms(Lang::En, &code(), 5)).await.unwrap();
        assert!(r.id.is_some(), "{r:?}");
    }
}
