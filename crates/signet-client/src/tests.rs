//! The client against a canned HTTP server on 127.0.0.1: what goes on the wire (paths, query,
//! headers, bodies, which calls carry the API key) and what comes back (decoded answers, the
//! error envelope, replays). The real server is driven by `crates/signet/tests/platform.rs`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use super::*;

/// A request as the canned server received it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

type Reply = (u16, Vec<(&'static str, String)>, Vec<u8>);

/// Serves every request with `reply`, recording them.
struct Canned {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Canned {
    fn start(reply: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Canned {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let reply = Arc::new(reply);
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (log, reply) = (log.clone(), reply.clone());
                std::thread::spawn(move || {
                    let mut w = stream.try_clone().unwrap();
                    let mut r = BufReader::new(stream);
                    // One connection may carry several requests (keep-alive).
                    loop {
                        let mut line = String::new();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let mut it = line.split_whitespace();
                        let (method, target) = (it.next().unwrap_or("").to_owned(), it.next().unwrap_or("").to_owned());
                        let mut headers = Vec::new();
                        loop {
                            let mut h = String::new();
                            r.read_line(&mut h).unwrap();
                            let h = h.trim_end();
                            if h.is_empty() {
                                break;
                            }
                            let (k, v) = h.split_once(':').unwrap();
                            headers.push((k.trim().to_owned(), v.trim().to_owned()));
                        }
                        let len: usize = headers
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                            .map(|(_, v)| v.parse().unwrap())
                            .unwrap_or(0);
                        let mut body = vec![0; len];
                        r.read_exact(&mut body).unwrap();
                        let seen = Seen { method, target, headers, body };
                        let (status, extra, body) = reply(&seen);
                        log.lock().unwrap().push(seen);
                        let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len());
                        for (k, v) in extra {
                            head.push_str(&format!("{k}: {v}\r\n"));
                        }
                        head.push_str("\r\n");
                        if w.write_all(head.as_bytes()).and_then(|_| w.write_all(&body)).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Canned { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn json(status: u16, v: serde_json::Value) -> Reply {
    (status, vec![("Content-Type", "application/json".into())], v.to_string().into_bytes())
}

fn contract_json(id: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id, "number": "HT-000001", "title": "t", "status": "draft", "created_at": 1,
        "sent_at": null, "finished_at": null, "deadline": null,
        "documents": [], "recipients": [], "fields": [],
    })
}

#[test]
fn links_give_their_token() {
    assert_eq!(token_from_link("https://sign.example.com/s/AbC-_12"), Some("AbC-_12"));
    assert_eq!(token_from_link("http://127.0.0.1:8700/base/s/tok?x=1#f"), Some("tok"));
    assert_eq!(token_from_link("https://sign.example.com/s/"), None);
    assert_eq!(token_from_link("https://sign.example.com/x/tok"), None);
    assert_eq!(token_from_link("https://sign.example.com/s/a/b"), None);
}

#[test]
fn components_are_percent_encoded() {
    assert_eq!(encode_component("ct_0a-Z.~"), "ct_0a-Z.~");
    assert_eq!(encode_component("a/b?c d&e=f"), "a%2Fb%3Fc%20d%26e%3Df");
    assert_eq!(encode_component("张"), "%E5%BC%A0");
    assert_eq!(encode_component("../x"), "..%2Fx");
}

#[test]
fn organisation_calls_carry_the_key_and_signer_calls_never_do() {
    let server = Canned::start(|s| match (s.method.as_str(), s.target.as_str()) {
        ("GET", t) if t.starts_with("/api/v1/contracts?") => json(200, serde_json::json!({"items": [contract_json("ct_1")], "next_cursor": "c2"})),
        ("GET", "/api/v1/signing/tok%2Fx") => json(
            200,
            serde_json::json!({
                "organisation": "Org", "can_sign": true, "code_channels": ["email"], "fields": [],
                "contract": {"id": "ct_1", "number": "HT-000001", "title": "t", "status": "sent", "deadline": null, "documents": [], "signers": []},
                "recipient": {"id": "rcp_1", "name": "n", "role": "signer", "email": "a***@example.com", "phone": null, "status": "notified"},
            }),
        ),
        ("POST", "/api/v1/signing/tok/code") => json(200, serde_json::json!({"sent_to": "a***@example.com", "channel": "email", "expires_in": 300})),
        ("GET", "/healthz") => json(200, serde_json::json!({"status": "ok"})),
        _ => json(404, serde_json::json!({"error": {"code": "not_found", "message": "no such resource"}})),
    });
    let client = Client::new(format!("{}/", server.url), Some("sk_secret".into()));
    let page = client.list_contracts(Some(Status::InProgress), Some("张 三&x"), Some("c1"), Some(5)).unwrap();
    assert_eq!((page.items.len(), page.next_cursor.as_deref()), (1, Some("c2")));
    let view = client.signing("tok/x").unwrap();
    assert!(view.can_sign);
    assert_eq!(view.code_channels, vec![Channel::Email]);
    let sent = client.request_code("tok", Channel::Email).unwrap();
    assert_eq!(sent.expires_in, 300);
    client.health().unwrap();

    let seen = server.seen();
    assert_eq!(seen[0].target, "/api/v1/contracts?status=in_progress&text=%E5%BC%A0%20%E4%B8%89%26x&cursor=c1&limit=5");
    assert_eq!(seen[0].header("authorization"), Some("Bearer sk_secret"));
    assert_eq!(seen[1].header("authorization"), None, "the signer's view goes without the key");
    assert_eq!(seen[2].header("authorization"), None, "code requests go without the key");
    assert_eq!(seen[2].header("content-type"), Some("application/json"));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&seen[2].body).unwrap(), serde_json::json!({"channel": "email"}));
    assert_eq!(seen[3].header("authorization"), None);
}

#[test]
fn a_create_is_one_multipart_post_and_replays_are_reported() {
    let server = Canned::start(|s| {
        let mut reply = json(201, contract_json("ct_9"));
        if s.header("idempotency-key") == Some("k-2") {
            reply.0 = 200;
            reply.1.push(("idempotent-replayed", "true".into()));
        }
        reply
    });
    let client = Client::new(server.url.clone(), Some("sk_k".into()));
    let mut meta = ContractMetadata::new("Lease");
    meta.recipients.push(NewRecipient::signer("张三", "z@example.com", 1));
    let docs: [(&str, &[u8]); 2] = [("a.pdf", b"%PDF-1.7 a"), ("b.pdf", b"%PDF-1.7 b")];
    let plain = client.create_contract(&docs, &meta).unwrap();
    assert_eq!(plain.id, "ct_9");
    let first = client.create_contract_idempotent(&docs, &meta, "k-1").unwrap();
    assert!(!first.replayed);
    let again = client.create_contract_idempotent(&docs, &meta, "k-2").unwrap();
    assert!(again.replayed);

    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    let s = &seen[0];
    assert_eq!((s.method.as_str(), s.target.as_str()), ("POST", "/api/v1/contracts"));
    assert_eq!(s.header("idempotency-key"), None);
    assert_eq!(seen[1].header("idempotency-key"), Some("k-1"));
    assert_eq!(s.header("authorization"), Some("Bearer sk_k"));
    let ct = s.header("content-type").unwrap();
    let boundary = ct.strip_prefix("multipart/form-data; boundary=").expect(ct);
    let body = String::from_utf8_lossy(&s.body);
    assert_eq!(body.matches(&format!("--{boundary}\r\n")).count(), 3, "two documents and the metadata");
    assert!(body.contains("name=\"document\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7 a\r\n"));
    assert!(body.contains("name=\"document\"; filename=\"b.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7 b\r\n"));
    let meta_at = body.find("name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n").expect("metadata part");
    assert!(meta_at > body.find("filename=\"b.pdf\"").unwrap(), "the documents come first, in order");
    assert!(body.ends_with(&format!("--{boundary}--\r\n")));
}

#[test]
fn refusals_become_api_errors_and_secrets_stay_out_of_errors() {
    let server = Canned::start(|s| match s.target.as_str() {
        "/api/v1/signing/sekrit/sign" => {
            json(422, serde_json::json!({"error": {"code": "wrong_code", "message": "the code is wrong; 4 tries left"}}))
        }
        "/api/v1/contracts/ct_1/evidence" => (404, vec![], Vec::new()),
        "/api/v1/contracts/ct_1" => json(200, serde_json::json!({"id": 5})),
        "/api/v1/contracts/ct_1/document?document=2" => (200, vec![("Content-Type", "application/pdf".into())], b"%PDF-1.7 signed".to_vec()),
        _ => json(401, serde_json::json!({"error": {"code": "unauthorized", "message": "send a valid API key"}})),
    });
    let client = Client::new(server.url.clone(), Some("sk_x".into()));
    let e = client.sign("sekrit", &SignRequest::typed("000000", "n")).unwrap_err();
    assert!(e.is(422, "wrong_code"), "{e:?}");
    assert_eq!(e.to_string(), "the API answered 422 wrong_code: the code is wrong; 4 tries left");
    let e = client.evidence("ct_1").unwrap_err();
    assert!(e.is(404, "http_404"), "an unknown route's empty 404 is still an API error: {e:?}");
    assert_eq!(client.evidence("ct_9").unwrap_err().status(), Some(401));
    assert!(client.evidence_bundle("ct_2").unwrap_err().is(401, "unauthorized"));
    assert!(matches!(client.contract("ct_1").unwrap_err(), ClientError::Decode { .. }));
    assert_eq!(client.document("ct_1", 2).unwrap(), b"%PDF-1.7 signed");

    // Nothing listens: a transport error naming the route, not the token.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let e = Client::new(dead, None).with_timeout(std::time::Duration::from_secs(5)).decline("sekrit", "no").unwrap_err();
    assert!(matches!(e, ClientError::Transport { .. }), "{e:?}");
    let text = format!("{e} {e:?}");
    assert!(text.contains("POST /api/v1/signing/{token}/decline") && !text.contains("sekrit"), "{text}");
    assert!(!format!("{client:?}").contains("sk_x"), "Debug redacts the key");
}
