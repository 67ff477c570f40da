//! The mailer against a real SMTP server run by the test (`support`): what arrives is parsed
//! back with an independent MIME parser.

mod support;

use std::time::{Duration, Instant};

use mail_parser::{MessageParser, MimeHeaders};
use signet_notify::{
    Completed, Lang, Mailbox, Mailer, Message, NotifyError, OneTimeCode, SigningRequest, SmtpConfig, TlsMode,
    completed, one_time_code, signing_link, signing_request,
};
use support::{Options, SmtpServer};
use time::macros::datetime;

const LINK_TOKEN: &str = "Zt3_kQ-9xY.wA~b";

fn mailer(url: &str) -> Mailer {
    Mailer::new(&SmtpConfig::parse(url).unwrap()).unwrap()
}

fn request<'a>(title: &'a str, link: &'a str) -> SigningRequest<'a> {
    SigningRequest {
        org: "Acme 科技有限公司",
        sender: "张三",
        title,
        recipient: "李四",
        link,
        deadline: Some(datetime!(2026-12-01 18:00 +08:00)),
    }
}

/// The header block of a raw message.
fn headers(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    s.split("\r\n\r\n").next().unwrap_or_default().to_owned()
}

fn six_digit_runs(s: &str) -> Vec<String> {
    let mut runs = Vec::new();
    let mut cur = String::new();
    for c in s.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            cur.push(c);
        } else {
            if cur.len() == 6 {
                runs.push(cur.clone());
            }
            cur.clear();
        }
    }
    runs
}

#[tokio::test]
async fn signing_requests_in_zh_and_en_arrive_intact_and_escaped() {
    let server = SmtpServer::start(Options::default()).await;
    let mailer = mailer(&server.url(""));
    let link = signing_link("https://contracts.example/", LINK_TOKEN);
    assert_eq!(link, format!("https://contracts.example/s/{LINK_TOKEN}"));
    let title = "<script>alert('pwn')</script> 房屋租赁合同 & more";
    for lang in [Lang::Zh, Lang::En] {
        let email = signing_request(lang, &request(title, &link));
        let to = Mailbox::new(Some("李四".into()), "lisi@example.com".parse().unwrap());
        mailer.send(&email.clone().to(to)).await.unwrap();

        let got = server.messages().pop().unwrap();
        assert_eq!(got.mail_from, "signet@example.com");
        assert_eq!(got.rcpt_to, vec!["lisi@example.com".to_owned()]);
        assert!(got.auth.is_none());
        assert!(got.data.is_ascii(), "{lang:?}: the message must be 7-bit clean on the wire");
        let raw_headers = headers(&got.data);
        assert!(
            raw_headers.contains("=?utf-8?"),
            "{lang:?}: non-ASCII subject/name not RFC 2047 encoded:\n{raw_headers}"
        );

        let parsed = MessageParser::default().parse(&got.data).unwrap();
        assert_eq!(parsed.subject().unwrap(), email.subject, "{lang:?}: subject round trip");
        assert!(email.subject.contains("房屋租赁合同"));
        let to = parsed.to().unwrap().first().unwrap();
        assert_eq!(to.address().unwrap(), "lisi@example.com");
        assert_eq!(to.name().unwrap(), "李四");
        let from = parsed.from().unwrap().first().unwrap();
        assert_eq!((from.name().unwrap(), from.address().unwrap()), ("Signet", "signet@example.com"));

        let text = parsed.body_text(0).unwrap();
        assert!(text.lines().any(|l| l.trim_end() == link), "{lang:?}: link not verbatim in\n{text}");
        assert!(text.contains(title), "{lang:?}: the plain text keeps the title as written");
        let html = parsed.body_html(0).unwrap();
        assert!(!html.contains("<script>"), "{lang:?}: unescaped title in HTML:\n{html}");
        assert!(html.contains("&lt;script&gt;alert(&#39;pwn&#39;)&lt;/script&gt; 房屋租赁合同 &amp; more"), "{html}");
        assert!(html.contains(&format!("<a href=\"{link}\"")), "{html}");
        match lang {
            Lang::Zh => assert!(text.contains("请在 2026年12月1日 18:00（UTC+08:00） 前完成签署。"), "{text}"),
            Lang::En => assert!(text.contains("Please sign by 1 December 2026, 18:00 (UTC+08:00)."), "{text}"),
        }
    }
    assert_eq!(server.messages().len(), 2);
}

#[tokio::test]
async fn the_code_mail_has_the_six_digits_in_its_body_and_nowhere_in_its_headers() {
    let server = SmtpServer::start(Options::default()).await;
    let mailer = mailer(&server.url(""));
    let code = OneTimeCode::parse("804271").unwrap();
    for lang in [Lang::Zh, Lang::En] {
        let email = one_time_code(lang, &code, 5);
        mailer.send(&email.to("signer@example.com".parse().unwrap())).await.unwrap();
        let got = server.messages().pop().unwrap();
        assert!(!headers(&got.data).contains("804271"), "{lang:?}: the code leaked into a header");
        let parsed = MessageParser::default().parse(&got.data).unwrap();
        let subject = parsed.subject().unwrap();
        assert!(!subject.chars().any(|c| c.is_ascii_digit()), "{lang:?}: digits in the subject {subject:?}");
        let text = parsed.body_text(0).unwrap();
        assert_eq!(six_digit_runs(&text), vec!["804271".to_owned()], "{lang:?}: {text}");
        assert!(text.lines().any(|l| l.trim() == "804271"), "the code stands on its own line");
        let html = parsed.body_html(0).unwrap();
        assert_eq!(six_digit_runs(&html), vec!["804271".to_owned()], "{lang:?}");
    }
}

#[tokio::test]
async fn auth_is_used_with_credentials_and_only_then() {
    let (user, password) = ("mailer@example.com", "p@ss:wörd/%");
    let server = SmtpServer::start(Options {
        credentials: Some((user.into(), password.into())),
        require_auth: true,
        ..Options::default()
    })
    .await;
    let url = server.url("mailer%40example.com:p%40ss%3Aw%C3%B6rd%2F%25@");
    let config = SmtpConfig::parse(&url).unwrap();
    assert_eq!(config.user(), Some(user));
    let m = Mailer::new(&config).unwrap();
    m.send(&one_time_code(Lang::En, &OneTimeCode::parse("111111").unwrap(), 5).to("a@example.com".parse().unwrap()))
        .await
        .unwrap();
    let got = server.messages().pop().unwrap();
    let auth = got.auth.expect("the session logged in");
    assert_eq!((auth.user.as_str(), auth.password.as_str()), (user, password));
    assert!(matches!(auth.mechanism.as_str(), "PLAIN" | "LOGIN"));
    assert!(server.auth_attempts().iter().all(|a| a.accepted));
    m.check().await.unwrap();

    // The same kind of server (offering AUTH) but no credentials in the URL: no AUTH command.
    let open =
        SmtpServer::start(Options { credentials: Some((user.into(), password.into())), ..Options::default() }).await;
    mailer(&open.url(""))
        .send(&Message {
            to: "a@example.com".parse().unwrap(),
            subject: "hello".into(),
            text: "plain only".into(),
            html: None,
            attachments: vec![],
        })
        .await
        .unwrap();
    assert!(open.verbs().contains(&"EHLO".to_owned()));
    assert!(!open.verbs().contains(&"AUTH".to_owned()), "{:?}", open.verbs());
    assert!(open.auth_attempts().is_empty());
    assert!(open.messages()[0].auth.is_none());
}

#[tokio::test]
async fn wrong_or_missing_credentials_are_typed_errors_without_the_password() {
    let server = SmtpServer::start(Options {
        credentials: Some(("u".into(), "right".into())),
        require_auth: true,
        ..Options::default()
    })
    .await;
    let msg = one_time_code(Lang::Zh, &OneTimeCode::parse("222222").unwrap(), 5).to("a@example.com".parse().unwrap());

    let err = mailer(&server.url("u:wr0ng-secret@")).send(&msg).await.unwrap_err();
    assert!(matches!(err, NotifyError::SmtpAuth { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains("535") && shown.contains("user and password"), "{shown}");
    assert!(!shown.contains("wr0ng-secret") && !shown.contains("222222"), "{shown}");
    assert_eq!(server.auth_attempts().len(), 1);
    assert!(!server.auth_attempts()[0].accepted);

    let err = mailer(&server.url("")).send(&msg).await.unwrap_err();
    assert!(matches!(err, NotifyError::SmtpAuthRequired { .. }), "{err:?}");
    assert!(err.to_string().contains("add user:password@"), "{err}");
    assert!(server.messages().is_empty());

    // A server that offers no AUTH while the URL has credentials.
    let plain = SmtpServer::start(Options::default()).await;
    let err = mailer(&plain.url("u:right@")).send(&msg).await.unwrap_err();
    assert!(matches!(err, NotifyError::SmtpAuth { .. }), "{err:?}");
    assert!(err.to_string().contains("no AUTH mechanism"), "{err}");
}

#[tokio::test]
async fn a_closed_port_is_a_prompt_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let m = mailer(&format!("smtp://{addr}?from=a%40example.com"));
    let msg = Message {
        to: "b@example.com".parse().unwrap(),
        subject: "s".into(),
        text: "the body 333333".into(),
        html: None,
        attachments: vec![],
    };
    let started = Instant::now();
    let err = m.send(&msg).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(matches!(err, NotifyError::SmtpConnect { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains(&addr.to_string()) && shown.contains("check the host and port"), "{shown}");
    assert!(!shown.contains("333333"));
    assert!(matches!(m.check().await.unwrap_err(), NotifyError::SmtpConnect { .. }));
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s); // accept, never greet
        }
    });
    let config = SmtpConfig::parse(&format!("smtp://{addr}?from=a%40example.com"))
        .unwrap()
        .with_timeout(Duration::from_millis(700));
    let started = Instant::now();
    let err = Mailer::new(&config)
        .unwrap()
        .send(&Message {
            to: "b@example.com".parse().unwrap(),
            subject: "s".into(),
            text: "t".into(),
            html: None,
            attachments: vec![],
        })
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(matches!(err, NotifyError::SmtpTimeout { .. }), "{err:?}");
    hold.abort();
}

#[tokio::test]
async fn tls_modes_never_fall_back_to_plain_text() {
    let server = SmtpServer::start(Options::default()).await;
    let msg = Message {
        to: "b@example.com".parse().unwrap(),
        subject: "s".into(),
        text: "t".into(),
        html: None,
        attachments: vec![],
    };
    let config = SmtpConfig::parse(&format!("smtp://{}?tls=starttls&from=a%40example.com", server.addr)).unwrap();
    assert_eq!(config.tls(), TlsMode::StartTls);
    let err = Mailer::new(&config).unwrap().send(&msg).await.unwrap_err();
    assert!(matches!(err, NotifyError::SmtpTls { mode: TlsMode::StartTls, .. }), "{err:?}");
    assert!(err.to_string().contains("check the TLS mode"), "{err}");

    let config = SmtpConfig::parse(&format!("smtps://{}?from=a%40example.com", server.addr))
        .unwrap()
        .with_timeout(Duration::from_secs(3));
    let err = Mailer::new(&config).unwrap().send(&msg).await.unwrap_err();
    assert!(
        matches!(err, NotifyError::SmtpTls { mode: TlsMode::Implicit, .. } | NotifyError::SmtpTimeout { .. }),
        "{err:?}"
    );
    assert!(server.messages().is_empty(), "nothing may be sent in the clear");
}

#[tokio::test]
async fn refusals_are_typed_and_quote_no_body() {
    let server = SmtpServer::start(Options { reject_domain: Some("gone.example".into()), ..Options::default() }).await;
    let code = OneTimeCode::parse("444444").unwrap();
    let err = mailer(&server.url(""))
        .send(&one_time_code(Lang::En, &code, 5).to("x@gone.example".parse().unwrap()))
        .await
        .unwrap_err();
    assert!(matches!(err, NotifyError::SmtpRejected { .. }), "{err:?}");
    assert!(err.to_string().contains("550"), "{err}");

    let server = SmtpServer::start(Options { reject_data: true, ..Options::default() }).await;
    let err = mailer(&server.url(""))
        .send(&one_time_code(Lang::En, &code, 5).to("x@example.com".parse().unwrap()))
        .await
        .unwrap_err();
    assert!(matches!(err, NotifyError::SmtpRejected { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("554") && !shown.contains("444444") && !shown.contains("verification"), "{shown}");
}

#[tokio::test]
async fn completion_mail_with_attachments_and_dot_lines_round_trips() {
    let server = SmtpServer::start(Options::default()).await;
    let m = mailer(&server.url(""));
    let email = completed(
        Lang::Zh,
        &Completed {
            title: "采购合同",
            recipient: "张三",
            signed_pdf: "https://contracts.example/d/ct_1/signed.pdf",
            evidence_report: "https://contracts.example/d/ct_1/evidence.pdf",
        },
    );
    let pdf: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 256) as u8).collect();
    let mut msg = email
        .clone()
        .to("zhang@example.com".parse().unwrap())
        .with_attachment("采购合同（已签署）.pdf", "application/pdf", pdf.clone())
        .with_attachment("evidence.pdf", "application/pdf", b"%PDF-1.7\n.\n..\n".to_vec());
    msg.text.push_str(".\n.. a line that starts with dots\n.\n");
    m.send(&msg).await.unwrap();

    let got = server.messages().pop().unwrap();
    let parsed = MessageParser::default().parse(&got.data).unwrap();
    assert_eq!(parsed.subject().unwrap(), "已完成签署：《采购合同》");
    let text = parsed.body_text(0).unwrap();
    for link in ["https://contracts.example/d/ct_1/signed.pdf", "https://contracts.example/d/ct_1/evidence.pdf"] {
        assert!(text.lines().any(|l| l.trim_end() == link), "{text}");
    }
    assert!(
        text.contains(".\n.. a line that starts with dots\n.\n")
            || text.contains(".\r\n.. a line that starts with dots\r\n.\r\n"),
        "{text:?}"
    );
    let attachments: Vec<_> = parsed.attachments().collect();
    assert_eq!(attachments.len(), 2);
    assert_eq!(attachments[0].attachment_name(), Some("采购合同（已签署）.pdf"));
    assert_eq!(attachments[0].contents(), &pdf[..]);
    assert_eq!(attachments[1].attachment_name(), Some("evidence.pdf"));
    assert_eq!(attachments[1].contents(), b"%PDF-1.7\n.\n..\n");

    let bad = email.to("zhang@example.com".parse().unwrap()).with_attachment("x", "not a type", vec![1]);
    assert!(matches!(m.send(&bad).await.unwrap_err(), NotifyError::Attachment { .. }));
}
