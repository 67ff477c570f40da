//! The platform end to end: the real `signet serve` in a child process, driven only through
//! `signet-client` (the SDK), as an integrator and as signers would use it.
//!
//! - the whole ceremony with two signers in order, on SQLite and on PostgreSQL, and with the
//!   mails read from a real SMTP server, ending in a PDF that `signet verify` and pyHanko both
//!   accept, and evidence events that are all in the log;
//! - what the API must refuse: uploads, metadata, the ceremony's order and limits, unknown
//!   links, reuse of an `Idempotency-Key`;
//! - tenant isolation: another organisation's key sees nothing, and "not yours" is the same
//!   404 as "does not exist";
//! - background jobs: mail that cannot be sent is retried with backoff, visible to
//!   administrators in `GET /api/v1/jobs` with its error, and arrives once SMTP is up.
//!
//! Every server has its own data directory and port and is killed when its test ends.

#[path = "platform/smtp.rs"]
mod smtp;
#[path = "platform/support.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use signet_client::{
    Channel, Client, ClientError, Contract, ContractMetadata, NewField, NewRecipient, RecipientStatus, SignRequest, Status,
    token_from_link,
};
use support::{Mailbox, Outbox, Server};

/// Where the first signer signs (page 1) and the second (page 2), in points on an A4 page.
const RECT_1: [f64; 4] = [60.0, 60.0, 260.0, 120.0];
const RECT_2: [f64; 4] = [320.0, 60.0, 520.0, 120.0];

/// A contract of one document with two signers in order, each with a signature field.
fn two_signers(title: &str, first: (&str, &str), second: (&str, &str), send: bool) -> ContractMetadata {
    let mut m = ContractMetadata::new(title);
    m.recipients.push(NewRecipient::signer(first.0, first.1, 1));
    m.recipients.push(NewRecipient::signer(second.0, second.1, 2));
    m.fields.push(NewField::signature(first.1, 1, RECT_1));
    m.fields.push(NewField::signature(second.1, 2, RECT_2));
    m.send = send;
    m
}

/// Asserts `result` is the API error `status`/`code`.
#[track_caller]
fn refused<T: std::fmt::Debug>(result: Result<T, ClientError>, status: u16, code: &str) -> ClientError {
    match result {
        Err(e) if e.is(status, code) => e,
        other => panic!("expected {status} {code}, got {other:?}"),
    }
}

/// Asserts `result` is an API error with `status` (whatever the code).
#[track_caller]
fn refused_status<T: std::fmt::Debug>(result: Result<T, ClientError>, status: u16) -> ClientError {
    match result {
        Err(e) if e.status() == Some(status) => e,
        other => panic!("expected HTTP {status}, got {other:?}"),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(signet_pki::alg::sha256(bytes))
}

// --- 1. the whole flow ----------------------------------------------------------------------------

/// The ceremony from upload to a completed, verifiable PDF; `mailbox` is where the links and
/// codes arrive.
fn whole_flow(server: &Server, mailbox: &dyn Mailbox) {
    let client = server.client();
    let public = server.client_with(None);
    let url = server.url.as_str();
    let pdf = support::sample_pdf(2);
    let (a, b) = ("zhang.san@example.com", "li.si@example.com");
    let meta = two_signers("房屋租赁合同 Lease", ("张三", a), ("Li Si", b), true);

    // Create and send: the first signer's link arrives, the second's does not yet.
    let before = support::mark(mailbox);
    let c = client.create_contract(&[("租赁合同.pdf", &pdf)], &meta).expect("create the contract");
    assert_eq!(c.status, Status::Sent);
    assert!(c.id.starts_with("ct_") && c.number.starts_with("HT-"), "{} {}", c.id, c.number);
    assert_eq!(c.documents.len(), 1);
    assert_eq!((c.documents[0].name.as_str(), c.documents[0].pages), ("租赁合同.pdf", 2), "the UTF-8 file name survives the upload");
    assert_eq!(c.documents[0].sha256, sha256_hex(&pdf));
    assert_eq!(c.recipient_by_email(a).map(|r| (r.name.as_str(), r.status)), Some(("张三", RecipientStatus::Notified)));
    assert_eq!(c.recipient_by_email(b).map(|r| r.status), Some(RecipientStatus::Waiting));
    assert_eq!(c.fields.len(), 2);
    let link_a = support::wait_link(mailbox, &before, a, url);
    assert!(!support::any_new(mailbox, &before, b), "the second signer is told nothing before their turn");
    let token_a = token_from_link(&link_a).expect("a token in the link");

    // The first signer opens the link.
    let view = public.signing(token_a).expect("the signer's view");
    assert!(view.can_sign);
    assert_eq!(view.recipient.name, "张三");
    assert_eq!(view.recipient.status, RecipientStatus::Notified);
    let masked = view.recipient.email.clone().unwrap_or_default();
    assert!(masked.ends_with("@example.com") && masked != a, "the address is masked: {masked}");
    assert_eq!(view.code_channels, vec![Channel::Email]);
    assert_eq!(view.fields.len(), 1, "a signer sees only their own fields");
    assert_eq!((view.fields[0].page, view.fields[0].rect), (1, RECT_1));
    assert_eq!(view.contract.id, c.id);
    assert_eq!(view.contract.signers.iter().map(|s| (s.name.as_str(), s.signed)).collect::<Vec<_>>(), [("张三", false), ("Li Si", false)]);
    assert_eq!(public.signing_document(token_a, 1).expect("the document through the link"), pdf);

    // A code by email; a wrong one is refused, the right one signs with a typed name.
    let before_code = support::mark(mailbox);
    let sent = public.request_code(token_a, Channel::Email).expect("request a code");
    assert_eq!((sent.channel, sent.expires_in), (Channel::Email, 300));
    assert_eq!(sent.sent_to, masked);
    let code = support::wait_code(mailbox, &before_code, a, url);
    let wrong = refused(public.sign(token_a, &SignRequest::typed(support::wrong_code(&code), "张三")), 422, "wrong_code");
    assert!(wrong.to_string().contains("4 tries left"), "{wrong}");
    let before_b = support::mark(mailbox);
    let signed = public.sign(token_a, &SignRequest::typed(code, "张三")).expect("sign with the right code");
    assert_eq!(signed.status, Status::InProgress);
    assert_eq!(signed.contract.signers.iter().map(|s| s.signed).collect::<Vec<_>>(), [true, false]);
    let after_a = public.signing(token_a).expect("the first signer's view after signing");
    assert!(!after_a.can_sign);
    assert_eq!(after_a.recipient.status, RecipientStatus::Signed);

    // Now the second signer's link arrives; they see the document signed once.
    let link_b = support::wait_link(mailbox, &before_b, b, url);
    let token_b = token_from_link(&link_b).expect("a token in the second link");
    assert_ne!(token_a, token_b);
    let view_b = public.signing(token_b).expect("the second signer's view");
    assert!(view_b.can_sign);
    assert_eq!(view_b.recipient.name, "Li Si");
    let once = public.signing_document(token_b, 1).expect("the document signed once");
    assert!(once.len() > pdf.len() && once.starts_with(&pdf), "signing appends an incremental update to the upload");
    let report = client.verify(&once).expect("POST /api/v1/verify");
    assert_eq!(report["verdict"], "VALID", "{report:#}");
    assert_eq!(report["signatures"].as_array().map(Vec::len), Some(1), "{report:#}");

    // The evidence report exists only once everyone has signed.
    refused(public.signing_evidence(token_b), 409, "wrong_state");

    // They sign with a drawn signature; that completes the contract.
    let before_code = support::mark(mailbox);
    public.request_code(token_b, Channel::Email).expect("request the second code");
    let code_b = support::wait_code(mailbox, &before_code, b, url);
    let done = public.sign(token_b, &SignRequest::drawn(code_b, support::signature_png())).expect("sign with a drawn signature");
    assert_eq!(done.status, Status::Completed);
    let c = client.contract(&c.id).expect("the contract");
    assert_eq!(c.status, Status::Completed);
    assert!(c.finished_at.is_some());
    assert!(c.recipients.iter().all(|r| r.status == RecipientStatus::Signed && r.done_at.is_some()), "{:?}", c.recipients);
    let completed = client.list_contracts(Some(Status::Completed), None, None, None).expect("list completed");
    assert!(completed.items.iter().any(|x| x.id == c.id));

    // The signed PDF: `signet verify` and pyHanko accept it against the instance's root.
    let signed_pdf = client.document(&c.id, 1).expect("the signed document");
    assert!(signed_pdf.starts_with(&once), "completion appends to what the signers signed");
    let root_pem = client.root_pem().expect("GET /api/v1/ca/root.pem");
    assert_eq!(root_pem.as_bytes(), std::fs::read(server.root_pem()).expect("root.pem on disk"));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("signed.pdf");
    std::fs::write(&file, &signed_pdf).expect("write the signed PDF");
    let root = server.root_pem();
    let out = server.signet([
        "verify".as_ref(),
        "--json".as_ref(),
        "--trust".as_ref(),
        root.as_os_str(),
        file.as_os_str(),
    ] as [&std::ffi::OsStr; 5]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "signet verify: {text}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_str(&text).expect("signet.verify/v1 JSON");
    assert_eq!(report["verdict"], "VALID", "{report:#}");
    let sigs = report["signatures"].as_array().expect("signatures");
    let kinds: Vec<&str> = sigs.iter().filter_map(|s| s["kind"].as_str()).collect();
    assert_eq!(kinds, ["signature", "signature", "document_timestamp"], "{report:#}");
    for s in sigs {
        assert_eq!((s["integrity"].as_str(), s["trusted"].as_bool()), (Some("intact"), Some(true)), "{s:#}");
    }
    let subjects: Vec<&str> = sigs.iter().filter_map(|s| s["signer"]["subject"].as_str()).collect();
    assert!(subjects.first().is_some_and(|s| s.contains("张三")) && subjects.get(1).is_some_and(|s| s.contains("Li Si")), "{subjects:?}");
    let fields: Vec<String> = sigs.iter().filter_map(|s| s["field"].as_str()).map(str::to_owned).collect();
    if let Some(pyhanko) = support::pyhanko() {
        support::pyhanko_validate(&pyhanko, &root, &file, &fields[..2.min(fields.len())]);
        support::pyhanko_lta_offline(&pyhanko, &root, &file, 2);
    }

    // Everyone is mailed links to both files, which work without an API key.
    let download_prefix = format!("{url}/api/v1/signing/");
    let done_mail = mailbox
        .messages()
        .into_iter()
        .filter(|(_, to, text)| to.eq_ignore_ascii_case(a) && text.contains(&download_prefix) && text.contains("/evidence"))
        .map(|(_, _, text)| text)
        .next_back()
        .expect("a completion mail with download links to the first signer");
    let at = done_mail.find(&download_prefix).expect("a link");
    let token: String = done_mail[at + download_prefix.len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    assert_eq!(public.signing_document(&token, 1).expect("the signed PDF through the mailed link"), signed_pdf);
    assert!(public.signing_evidence(&token).expect("the evidence report through the mailed link").starts_with(b"%PDF-"));

    // The evidence report and the offline bundle.
    assert!(client.evidence(&c.id).expect("the evidence report").starts_with(b"%PDF-"));
    let bundle = client.evidence_bundle(&c.id).expect("the evidence bundle");
    assert!(bundle.starts_with(b"PK\x03\x04"), "a zip");
    let checked = support::check_bundle_offline(&bundle, &file.with_extension("bundle"));
    assert!(checked >= 13, "only {checked} events in the bundle");

    // The evidence: every step, for the right recipient, each a leaf of the log.
    let events = client.events(&c.id).expect("the events");
    // Where each step came from is evidence: the TCP peer (no proxy is trusted by default).
    for kind in ["sent", "opened", "signed"] {
        let e = events.iter().find(|e| e.kind == kind).unwrap_or_else(|| panic!("a {kind} event"));
        assert_eq!(e.data.get("ip").and_then(|v| v.as_str()), Some("127.0.0.1"), "{kind}: {:?}", e.data);
    }
    let got: Vec<(&str, Option<&str>)> = events.iter().map(|e| (e.kind.as_str(), e.recipient_email.as_deref())).collect();
    assert_eq!(
        got,
        [
            ("created", None),
            ("sent", None),
            ("notified", Some(a)),
            ("opened", Some(a)),
            ("code_sent", Some(a)),
            ("code_failed", Some(a)),
            ("code_verified", Some(a)),
            ("signed", Some(a)),
            ("notified", Some(b)),
            ("opened", Some(a)),
            ("opened", Some(b)),
            ("code_sent", Some(b)),
            ("code_verified", Some(b)),
            ("signed", Some(b)),
            ("completed", None),
        ]
    );
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq), "events come in order");
    let indices: Vec<u64> = events.iter().map(|e| e.log_index.unwrap_or_else(|| panic!("event {} has no log_index", e.kind))).collect();
    let distinct: std::collections::BTreeSet<u64> = indices.iter().copied().collect();
    assert_eq!(distinct.len(), indices.len(), "one leaf per event: {indices:?}");
    let highest = *distinct.last().expect("events");
    let started = Instant::now();
    loop {
        let size = checkpoint_size(url);
        if size > highest {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(3), "the checkpoint (size {size}) does not cover leaf {highest} after 3 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The tree size of `/log/checkpoint` (C2SP tlog-checkpoint: origin, size, root, signatures).
fn checkpoint_size(url: &str) -> u64 {
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(10))).build().into();
    let text = agent.get(&format!("{url}/log/checkpoint")).call().expect("GET /log/checkpoint").body_mut().read_to_string().expect("checkpoint text");
    text.lines().nth(1).and_then(|l| l.parse().ok()).unwrap_or_else(|| panic!("not a checkpoint: {text}"))
}

#[test]
fn whole_flow_on_sqlite() {
    let server = Server::start(&[]);
    whole_flow(&server, &Outbox(server.client()));
}

#[test]
fn whole_flow_on_postgres() {
    // The schema outlives the server (declared first, dropped last).
    let Some(pg) = support::PgSchema::create() else { return };
    let server = Server::start(&[("SIGNET_DATABASE_URL", &pg.url)]);
    whole_flow(&server, &Outbox(server.client()));
    let o = server.create_org("Second on PostgreSQL", "pg-admin@example.com");
    assert!(o.org_id.starts_with("org_") && o.api_key.starts_with("sk_"), "{o:?}");
    assert!(server.client_with(Some(o.api_key)).list_contracts(None, None, None, None).expect("list").items.is_empty());
}

/// The scale-out storage: PostgreSQL and an S3-compatible bucket. The documents are objects
/// in the bucket, sealed (no PDF in the clear), and nothing is kept under DATA/blobs.
#[test]
fn whole_flow_on_postgres_and_s3() {
    let Some(pg) = support::PgSchema::create() else { return };
    let Some(bucket) = support::S3Bucket::create("platform") else { return };
    let [(k1, v1), (k2, v2)] = support::S3Bucket::CREDENTIALS;
    let server = Server::start(&[("SIGNET_DATABASE_URL", &pg.url), ("SIGNET_BLOB_URL", &bucket.url), (k1, v1), (k2, v2)]);
    whole_flow(&server, &Outbox(server.client()));
    let objects = bucket.objects();
    let keys: Vec<&str> = objects.iter().map(|(k, _)| k.as_str()).collect();
    let documents: Vec<_> = objects.iter().filter(|(k, _)| k.starts_with("org_")).collect();
    assert!(documents.len() >= 2, "the original and the signed document: {keys:?}");
    for (key, bytes) in &documents {
        assert!(!bytes.windows(5).any(|w| w == b"%PDF-"), "{key} holds a PDF in the clear");
    }
    // The evidence log's tiles and checkpoint are beside them, and nothing else.
    assert!(keys.contains(&"log/checkpoint"), "{keys:?}");
    assert!(keys.iter().all(|k| k.starts_with("org_") || k.starts_with("log/")), "{keys:?}");
    assert!(!server.data.join("blobs").exists(), "documents went to the bucket, not to DATA/blobs");

    // A bucket that does not exist stops a server at start, saying what to fix.
    let missing = bucket.url.replacen("s3://", "s3://no-such-bucket-", 1);
    let data = tempfile::tempdir().expect("temp dir");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_signet"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .env("SIGNET_DATABASE_URL", &pg.url)
        .env("SIGNET_BLOB_URL", &missing)
        .envs([(k1, v1), (k2, v2)]);
    let out = support::run(cmd, std::time::Duration::from_secs(60));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && said.contains("SIGNET_BLOB_URL"), "{}: {said}", out.status);
}

/// The same flow with the links and codes read from mails a real SMTP server received.
#[test]
fn whole_flow_with_mail_over_smtp() {
    let mail = smtp::SmtpServer::start();
    let server = Server::start(&[("SIGNET_SMTP_URL", &mail.url()), ("SIGNET_MAIL_FROM", "Signet <signet@example.com>")]);
    whole_flow(&server, &mail);
    let received = mail.messages();
    let to = |who: &str| received.iter().filter(|m| m.rcpt_to.iter().any(|r| r == who)).count();
    assert!(to("zhang.san@example.com") >= 2 && to("li.si@example.com") >= 2, "a link and a code each, got {}", received.len());
    assert!(received.iter().all(|m| m.rcpt_to.len() == 1), "one recipient per mail");
    assert!(received.iter().all(|m| m.mail_from == "signet@example.com"), "the configured sender");
}

// --- 2. what the API refuses ------------------------------------------------------------------------

#[test]
fn uploads_metadata_and_idempotency_keys_are_checked() {
    let small = std::thread::spawn(|| Server::start(&[("SIGNET_MAX_UPLOAD_MB", "1")]));
    let server = Server::start(&[]);
    let client = server.client();
    let pdf = support::sample_pdf(2);
    let one = |email: &str| {
        let mut m = ContractMetadata::new("Upload checks");
        m.recipients.push(NewRecipient::signer("Wang Wu", email, 1));
        m.fields.push(NewField::signature(email, 1, RECT_1));
        m
    };

    // Not a PDF, a broken PDF, a field off the document, a field for nobody.
    refused(client.create_contract(&[("notes.pdf", b"hello, this is text")], &one("u@example.com")), 415, "unsupported_media_type");
    let mut broken = b"%PDF-1.7\n".to_vec();
    broken.extend((0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    refused(client.create_contract(&[("broken.pdf", &broken)], &one("u@example.com")), 422, "invalid_pdf");
    let mut page3 = one("u@example.com");
    page3.fields[0].page = Some(3);
    let e = refused(client.create_contract(&[("a.pdf", &pdf)], &page3), 422, "invalid_input");
    assert!(e.to_string().contains("page"), "{e}");
    let mut stranger = one("u@example.com");
    stranger.fields.push(NewField::signature("nobody@example.com", 1, RECT_2));
    let e = refused(client.create_contract(&[("a.pdf", &pdf)], &stranger), 422, "invalid_input");
    assert!(e.to_string().contains("nobody@example.com"), "{e}");
    let mut second_doc = one("u@example.com");
    second_doc.fields[0].document = 2;
    refused(client.create_contract(&[("a.pdf", &pdf)], &second_doc), 422, "invalid_input");
    assert!(client.list_contracts(None, None, None, None).expect("list").items.is_empty(), "refused uploads create nothing");

    // Idempotency-Key: the same request twice is one contract; the key with another body is refused.
    let meta = one("idem@example.com");
    let first = client.create_contract_idempotent(&[("a.pdf", &pdf)], &meta, "create-0001").expect("first create");
    assert!(!first.replayed);
    let again = client.create_contract_idempotent(&[("a.pdf", &pdf)], &meta, "create-0001").expect("the retry");
    assert!(again.replayed, "the retry is answered from the stored first answer (idempotent-replayed: true)");
    assert_eq!(again.contract.id, first.contract.id);
    let mut other = meta.clone();
    other.title = "Another title".into();
    refused(client.create_contract_idempotent(&[("a.pdf", &pdf)], &other, "create-0001"), 422, "invalid_input");
    let fresh = client.create_contract_idempotent(&[("a.pdf", &pdf)], &other, "create-0002").expect("a new key");
    assert_ne!(fresh.contract.id, first.contract.id);
    let listed = client.list_contracts(None, None, None, None).expect("list");
    assert_eq!(listed.items.len(), 2, "the replay created nothing: {:?}", listed.items.iter().map(|c| &c.title).collect::<Vec<_>>());

    // Over the upload limit: 413, with or without an Idempotency-Key; under it, fine. Read as
    // curl reads it, while still sending (the test below reads as ureq does, after sending).
    let small = small.join().expect("the 1 MiB server");
    let big = big_pdf(&small);
    let meta_json = serde_json::to_string(&one("big@example.com")).expect("metadata JSON");
    for key in [None, Some("big-1")] {
        let (status, body) = support::raw_upload(&small.url, &small.creds.api_key, key, &big, &meta_json);
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert_eq!((status, &body["error"]["code"]), (413, &Value::from("payload_too_large")), "key {key:?}: {body}");
    }
    let small_client = small.client();
    small_client.create_contract(&[("a.pdf", &pdf)], &one("big@example.com")).expect("a small upload on the 1 MiB server");
    assert_eq!(small_client.list_contracts(None, None, None, None).expect("list").items.len(), 1, "the big uploads created nothing");
    // A wrong key over the limit is still told it is wrong.
    for _ in 0..3 {
        refused(small.client_with(Some("sk_wrong".into())).create_contract(&[("big.pdf", &big)], &one("big@example.com")), 401, "unauthorized");
    }
}

/// A sample PDF of a bit more than 2 MiB.
fn big_pdf(server: &Server) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("big.pdf");
    let out = server.signet(["sample-pdf".as_ref(), "-o".as_ref(), file.as_os_str(), "--pages".as_ref(), "2".as_ref(), "--pad-kb".as_ref(), "2200".as_ref()] as [&std::ffi::OsStr; 7]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let big = std::fs::read(&file).expect("big.pdf");
    assert!(big.len() > 2 * 1024 * 1024);
    big
}

/// Through the client, which sends the whole body before it reads: the server reads and drops
/// the rest of a refused upload, so the client sees the 413 and not a reset connection.
#[test]
fn an_upload_over_the_limit_is_refused_through_the_client() {
    let small = Server::start(&[("SIGNET_MAX_UPLOAD_MB", "1")]);
    let big = big_pdf(&small);
    let mut meta = ContractMetadata::new("Too big");
    meta.recipients.push(NewRecipient::signer("A", "big@example.com", 1));
    for i in 0..10 {
        match small.client().create_contract(&[("big.pdf", &big)], &meta) {
            Err(e) if e.is(413, "payload_too_large") => {}
            other => panic!("attempt {}: expected 413 payload_too_large, got {other:?}", i + 1),
        }
    }
}

/// The same create, framed with two different multipart boundaries (as two runs of curl or a
/// browser frame it), under one `Idempotency-Key`: the second is the same request and should
/// be answered from the first. Raw requests, since the client always frames alike.
#[test]
fn an_idempotent_retry_framed_with_another_boundary_is_replayed() {
    let server = Server::start(&[]);
    let pdf = support::sample_pdf(1);
    let meta = serde_json::json!({"title": "Framing", "recipients": [{"name": "A", "email": "frame@example.com"}]}).to_string();
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(60))).http_status_as_error(false).build().into();
    let post = |boundary: &str| {
        let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"document\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").into_bytes();
        body.extend_from_slice(&pdf);
        body.extend_from_slice(format!("\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n{meta}\r\n--{boundary}--\r\n").as_bytes());
        let mut r = agent
            .post(&format!("{}/api/v1/contracts", server.url))
            .header("Authorization", &format!("Bearer {}", server.creds.api_key))
            .header("Idempotency-Key", "framing-1")
            .header("Content-Type", &format!("multipart/form-data; boundary={boundary}"))
            .send(&body[..])
            .expect("POST /api/v1/contracts");
        let replayed = r.headers().get("idempotent-replayed").is_some();
        let json: Value = serde_json::from_slice(&r.body_mut().read_to_vec().expect("body")).expect("JSON");
        (r.status().as_u16(), replayed, json)
    };
    let (status, _, first) = post("first-boundary-1111");
    assert_eq!(status, 201, "{first}");
    let (status, replayed, again) = post("other-boundary-2222");
    assert!(status < 300 && replayed, "a retry framed differently: {status} {again}");
    assert_eq!(again["id"], first["id"]);
}

/// Creates and sends a two-signer contract; returns it and the first signer's token.
fn sent_contract(client: &Client, mailbox: &dyn Mailbox, url: &str, pdf: &[u8], tag: &str) -> (Contract, String, String, String) {
    let (a, b) = (format!("{tag}-a@example.com"), format!("{tag}-b@example.com"));
    let before = support::mark(mailbox);
    let c = client.create_contract(&[("c.pdf", pdf)], &two_signers(tag, ("First", &a), ("Second", &b), true)).expect("create");
    let link = support::wait_link(mailbox, &before, &a, url);
    let token = token_from_link(&link).expect("token").to_owned();
    (c, token, a, b)
}

#[test]
fn the_ceremony_refuses_what_it_must() {
    let server = Server::start(&[]);
    let client = server.client();
    let public = server.client_with(None);
    let mailbox = Outbox(server.client());
    let url = server.url.as_str();
    let pdf = support::sample_pdf(2);

    // Codes: five per fifteen minutes; the sixth request is refused.
    let (c1, t1, a1, _) = sent_contract(&client, &mailbox, url, &pdf, "limit");
    for i in 0..5 {
        public.request_code(&t1, Channel::Email).unwrap_or_else(|e| panic!("code request {}: {e}", i + 1));
    }
    refused(public.request_code(&t1, Channel::Email), 429, "rate_limited");
    refused(public.request_code(&t1, Channel::Sms), 422, "invalid_input");

    // After a void nothing can be done through the link.
    let before = support::mark(&mailbox);
    client.remind(&c1.id).expect("remind");
    let reminder = support::wait_link(&mailbox, &before, &a1, url);
    assert_ne!(token_from_link(&reminder), Some(t1.as_str()), "a reminder carries a fresh link");
    let voided = client.void(&c1.id, "wrong tenant").expect("void");
    assert_eq!(voided.status, Status::Voided);
    refused(public.sign(&t1, &SignRequest::typed("000000", "First")), 409, "wrong_state");
    refused(public.request_code(&t1, Channel::Email), 409, "wrong_state");
    refused(public.decline(&t1, "too late"), 409, "wrong_state");
    refused(public.signing_document(&t1, 1), 409, "wrong_state");
    let view = public.signing(&t1).expect("the view still answers");
    assert!(!view.can_sign);
    assert_eq!(view.contract.status, Status::Voided);
    refused(client.void(&c1.id, "again"), 409, "wrong_state");
    refused(client.send(&c1.id), 409, "wrong_state");

    // Five wrong codes kill the code: the right one is then refused too.
    let (c2, t2, a2, b2) = sent_contract(&client, &mailbox, url, &pdf, "tries");
    let before = support::mark(&mailbox);
    public.request_code(&t2, Channel::Email).expect("a code");
    let code = support::wait_code(&mailbox, &before, &a2, url);
    let wrong = support::wrong_code(&code);
    for left in (0..5).rev() {
        let e = refused(public.sign(&t2, &SignRequest::typed(wrong.clone(), "First")), 422, "wrong_code");
        assert!(e.to_string().contains(&format!("{left} tries left")), "{e}");
    }
    refused(public.sign(&t2, &SignRequest::typed(code, "First")), 429, "rate_limited");
    // A fresh code works, once.
    let before = support::mark(&mailbox);
    public.request_code(&t2, Channel::Email).expect("a second code");
    let code = support::wait_code(&mailbox, &before, &a2, url);
    let before_b = support::mark(&mailbox);
    public.sign(&t2, &SignRequest::typed(code.clone(), "First")).expect("sign with the fresh code");
    refused(public.sign(&t2, &SignRequest::typed(code, "First")), 409, "already_done");
    refused(public.request_code(&t2, Channel::Email), 409, "already_done");
    refused(public.decline(&t2, "changed my mind"), 409, "already_done");

    // The second signer declines: that ends the contract.
    let t2b = token_from_link(&support::wait_link(&mailbox, &before_b, &b2, url)).expect("token").to_owned();
    assert_eq!(public.decline(&t2b, "the rent is wrong").expect("decline"), Status::Declined);
    let c2 = client.contract(&c2.id).expect("the contract");
    assert_eq!(c2.status, Status::Declined);
    assert!(c2.finished_at.is_some());
    assert_eq!(c2.recipient_by_email(&b2).map(|r| r.status), Some(RecipientStatus::Declined));
    refused(public.sign(&t2b, &SignRequest::typed("000000", "Second")), 409, "wrong_state");
    let kinds: Vec<String> = client.events(&c2.id).expect("events").into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.last().map(String::as_str), Some("declined"), "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| *k == "code_failed").count(), 5, "{kinds:?}");

    // Unknown and garbled links are 404, whatever the call.
    let mut flipped = t2b.clone().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).expect("ASCII token");
    for token in [flipped.as_str(), "not-a-token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "..%2F..%2Fhealthz", "%00"] {
        refused(public.signing(token), 404, "not_found");
        refused(public.signing_document(token, 1), 404, "not_found");
        refused(public.request_code(token, Channel::Email), 404, "not_found");
        refused(public.sign(token, &SignRequest::typed("123456", "x")), 404, "not_found");
        refused(public.decline(token, "x"), 404, "not_found");
    }
}

// --- 3. tenant isolation ------------------------------------------------------------------------------

#[test]
fn another_organisation_sees_nothing_and_bad_keys_are_refused() {
    let server = Server::start(&[]);
    let mine = server.client();
    let mailbox = Outbox(server.client());
    let pdf = support::sample_pdf(2);
    let (sent, _, _, _) = sent_contract(&mine, &mailbox, &server.url, &pdf, "isolation");
    let draft = mine
        .create_contract(&[("d.pdf", &pdf)], &two_signers("isolation draft", ("A", "d-a@example.com"), ("B", "d-b@example.com"), false))
        .expect("a draft");
    assert_eq!(draft.status, Status::Draft);
    assert!(!mine.outbox(Some(Channel::Email), None).expect("my outbox").is_empty());

    let other = server.create_org("Other", "other@example.com");
    assert_ne!(other.org_id, server.creds.org_id);
    assert_eq!(other.admin_email, "other@example.com");
    let theirs = server.client_with(Some(other.api_key.clone()));
    assert!(theirs.list_contracts(None, None, None, None).expect("their list").items.is_empty());
    assert!(theirs.list_contracts(None, Some("isolation"), None, None).expect("their search").items.is_empty());
    assert!(theirs.outbox(None, None).expect("their outbox").is_empty(), "no message of the first organisation");

    // Every contract endpoint: the other organisation's key gets the same 404 as for an id
    // that does not exist, so existence does not leak.
    type Call<'a> = Box<dyn Fn(&Client, &str) -> Result<(), ClientError> + 'a>;
    let calls: Vec<(&str, Call)> = vec![
        ("get", Box::new(|c, id| c.contract(id).map(|_| ()))),
        ("send", Box::new(|c, id| c.send(id).map(|_| ()))),
        ("void", Box::new(|c, id| c.void(id, "x").map(|_| ()))),
        ("remind", Box::new(|c, id| c.remind(id).map(|_| ()))),
        ("events", Box::new(|c, id| c.events(id).map(|_| ()))),
        ("document", Box::new(|c, id| c.document(id, 1).map(|_| ()))),
        ("evidence", Box::new(|c, id| c.evidence(id).map(|_| ()))),
        ("evidence-bundle", Box::new(|c, id| c.evidence_bundle(id).map(|_| ()))),
    ];
    for (name, call) in &calls {
        for id in [sent.id.as_str(), draft.id.as_str()] {
            let e = refused_status(call(&theirs, id), 404);
            let absent = refused_status(call(&theirs, "ct_0000000000000000000a"), 404);
            assert_eq!((e.code(), e.to_string()), (absent.code(), absent.to_string()), "{name}: not yours looks like absent");
        }
    }
    // Control: with the right key the same calls find the contracts (those the server has).
    mine.contract(&sent.id).expect("mine");
    mine.events(&sent.id).expect("my events");
    mine.document(&sent.id, 1).expect("my document");
    assert!(mine.evidence(&sent.id).expect("my evidence report").starts_with(b"%PDF-"));
    assert!(mine.evidence_bundle(&sent.id).expect("my evidence bundle").starts_with(b"PK\x03\x04"));
    assert_eq!(mine.contract(&draft.id).expect("my draft").status, Status::Draft, "the other key changed nothing");
    assert_eq!(mine.contract(&sent.id).expect("mine").status, Status::Sent, "the other key changed nothing");

    // A garbage key and no key: 401 on every authenticated endpoint.
    let garbage = server.client_with(Some("sk_not-a-key".into()));
    let nobody = server.client_with(None);
    for client in [&garbage, &nobody] {
        refused(client.list_contracts(None, None, None, None), 401, "unauthorized");
        refused(client.outbox(None, None), 401, "unauthorized");
        refused(client.create_contract(&[("a.pdf", &pdf)], &two_signers("x", ("A", "x-a@example.com"), ("B", "x-b@example.com"), false)), 401, "unauthorized");
        for (name, call) in &calls {
            match call(client, &sent.id) {
                Err(e) if e.is(401, "unauthorized") => {}
                other => panic!("{name} without a valid key: expected 401 unauthorized, got {other:?}"),
            }
        }
    }
    refused(
        garbage.create_contract_idempotent(&[("a.pdf", &pdf)], &two_signers("x", ("A", "y-a@example.com"), ("B", "y-b@example.com"), false), "k-1"),
        401,
        "unauthorized",
    );
    // The admin endpoints too (their other-organisation cases are in their own tests).
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    for auth in [Some("Bearer sk_not-a-key"), None] {
        for (method, path) in [
            ("GET", "/api/v1/members"),
            ("POST", "/api/v1/members"),
            ("POST", "/api/v1/members/usr_0000000000000000000a/role"),
            ("POST", "/api/v1/members/usr_0000000000000000000a/remove"),
            ("GET", "/api/v1/api-keys"),
            ("POST", "/api/v1/api-keys"),
            ("POST", "/api/v1/api-keys/key_0000000000000000000a/revoke"),
            ("GET", "/api/v1/outbox"),
        ] {
            let url = format!("{}{path}", server.url);
            let mut r = match (method, auth) {
                ("GET", Some(a)) => agent.get(&url).header("Authorization", a).call(),
                ("GET", None) => agent.get(&url).call(),
                (_, Some(a)) => agent.post(&url).header("Authorization", a).header("Content-Type", "application/json").send("{\"email\":\"x@example.com\",\"name\":\"x\",\"role\":\"member\"}"),
                (_, None) => agent.post(&url).header("Content-Type", "application/json").send("{\"email\":\"x@example.com\",\"name\":\"x\",\"role\":\"member\"}"),
            }
            .expect("request");
            let body = r.body_mut().read_to_string().unwrap_or_default();
            assert_eq!(r.status().as_u16(), 401, "{method} {path} with {auth:?}: {body}");
        }
    }
}

/// A contract whose deadline passes while signers could still act is expired by the sweep:
/// its status, an `expired` event in the log, and links that no longer sign.
#[test]
fn deadlines_expire_contracts() {
    let server = Server::start(&[("SIGNET_SWEEP_SECS", "1")]);
    let client = server.client();
    let outbox = Outbox(server.client());
    let pdf = support::sample_pdf(2);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as u64;
    let mut meta = two_signers("Expires soon", ("First", "exp-a@example.com"), ("Second", "exp-b@example.com"), true);
    meta.deadline = Some(signet_client::Deadline::Millis(now + 1500));
    let before = support::mark(&outbox);
    let c = client.create_contract(&[("c.pdf", &pdf)], &meta).expect("create");
    let link = support::wait_link(&outbox, &before, "exp-a@example.com", &server.url);
    let token = token_from_link(&link).expect("token").to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if client.contract(&c.id).expect("the contract").status == Status::Expired {
            break;
        }
        assert!(Instant::now() < deadline, "the contract did not expire");
        std::thread::sleep(Duration::from_millis(200));
    }
    // The event is committed with the status; its log index is recorded once the evidence
    // log has taken it (right after the commit).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let events = client.events(&c.id).expect("events");
        let expired = events.iter().find(|e| e.kind == "expired").expect("an expired event, committed with the status");
        if expired.log_index.is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "the expiry is evidence too: no log index within 10 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    refused(client.send(&c.id), 409, "wrong_state");
    let public = server.client_with(None);
    let view = public.signing(&token).expect("the view still opens");
    assert!(!view.can_sign, "an expired contract cannot be signed");
    refused(public.request_code(&token, Channel::Email), 409, "wrong_state");
}

/// A contract that does not open (its record changed in the database, as a disk fault or a
/// tampered database would leave it) does not hold up the sweeps: a contract due after it
/// still expires; the contract list names it in `unreadable` rather than failing. The sweep's run fails with a count that names no contract (every
/// organisation's administrators see it), and only the newest run of the sweep is kept.
#[test]
fn a_broken_contract_does_not_hold_up_the_sweeps() {
    let server = Server::start(&[("SIGNET_SWEEP_SECS", "1")]);
    let client = server.client();
    let pdf = support::sample_pdf(2);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as u64;
    let due = |title: &str, at: u64| {
        let mut meta = two_signers(title, ("First", "sweep-a@example.com"), ("Second", "sweep-b@example.com"), true);
        meta.deadline = Some(signet_client::Deadline::Millis(at));
        client.create_contract(&[("c.pdf", &pdf)], &meta).expect("create and send")
    };
    // The broken one is due first, so every sweep meets it before the other.
    let broken = due("Broken", now + 10_000);
    let sound = due("Sound", now + 10_500);
    assert_eq!(client.contract(&broken.id).expect("the contract").status, Status::Sent, "the test was too slow: the contract expired before it was damaged");
    support::damage_contract_record(&server.data.join("signet.db"), &broken.id);

    let deadline = Instant::now() + Duration::from_secs(30);
    while client.contract(&sound.id).expect("the sound contract").status != Status::Expired {
        assert!(Instant::now() < deadline, "the contract due after the broken one did not expire\nserver: {}", server.stderr());
        std::thread::sleep(Duration::from_millis(200));
    }
    // The list names the broken contract instead of failing.
    let page = client.list_contracts(None, None, None, None).expect("the list still answers");
    assert!(page.items.iter().any(|c| c.id == sound.id) && page.items.iter().all(|c| c.id != broken.id), "{page:?}");
    assert_eq!(page.unreadable, [broken.id.as_str()]);
    // Read on its own, it is an error that says retrying will not help, naming nothing stored.
    let e = refused_status(client.contract(&broken.id), 500);
    assert!(e.is(500, "record_unreadable") && e.to_string().contains("signet admin check") && !e.to_string().contains(&broken.id), "{e}");
    let key = server.creds.api_key.clone();
    let sweeps = |answer: &Value| -> Vec<Value> {
        answer["items"].as_array().map(|items| items.iter().filter(|j| j["kind"] == "sweep.expiry").cloned().collect()).unwrap_or_default()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let failed = loop {
        let (status, answer) = jobs_of(&server, &key, "?state=failed&limit=100");
        assert_eq!(status, 200, "{answer}");
        if let Some(job) = sweeps(&answer).into_iter().next() {
            break job;
        }
        assert!(Instant::now() < deadline, "no failed expiry sweep listed: {answer}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let error = failed["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("1 of ") && error.contains("left for the next sweep"), "{failed}");
    assert!(!error.contains(&broken.id) && !error.contains(&server.creds.org_id), "the error names no contract or organisation: {error}");
    assert_eq!(failed["attempts"], 1, "one attempt: the next period's run is the retry: {failed}");
    assert!(server.stderr().contains(&broken.id), "the server's log names the contract: {}", server.stderr());
    // Sweeps go on every second; of the finished ones only the newest is kept (a second one
    // for the moment between a run's end and its forgetting the one before).
    std::thread::sleep(Duration::from_secs(4));
    let (_, answer) = jobs_of(&server, &key, "?limit=100");
    let finished = sweeps(&answer).into_iter().filter(|j| j["state"] == "done" || j["state"] == "failed").count();
    assert!((1..=2).contains(&finished), "{finished} finished expiry sweeps listed: {answer}");
    // The hourly clean-up (jobs, sessions, idempotency answers, sign-in counts) ran at start.
    let cleaned = answer["items"].as_array().and_then(|items| items.iter().find(|j| j["kind"] == "sweep.jobs").cloned());
    assert_eq!(cleaned.as_ref().map(|j| j["state"].clone()), Some(Value::from("done")), "{answer}");
}

/// The address recorded as evidence: `X-Forwarded-For` only behind a trusted proxy
/// (`SIGNET_TRUST_PROXY`); otherwise a forged header changes nothing.
#[test]
fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    for (trust, want) in [("false", "127.0.0.1"), ("true", "203.0.113.9")] {
        let server = Server::start(&[("SIGNET_TRUST_PROXY", trust)]);
        let client = server.client();
        let outbox = Outbox(server.client());
        let (c, token, _, _) = sent_contract(&client, &outbox, &server.url, &support::sample_pdf(2), &format!("proxy-{trust}"));
        let answer = ureq::get(&format!("{}/api/v1/signing/{token}", server.url)).header("X-Forwarded-For", "203.0.113.9, 10.0.0.1").call();
        assert!(answer.is_ok(), "{answer:?}");
        let events = client.events(&c.id).expect("events");
        let opened = events.iter().find(|e| e.kind == "opened").expect("an opened event");
        assert_eq!(opened.data.get("ip").and_then(|v| v.as_str()), Some(want), "trust_proxy={trust}");
    }
}

/// API keys: created with their secret shown once, listed without it, scoped to their role
/// and organisation, and dead once revoked.
#[test]
fn api_keys_are_created_listed_and_revoked() {
    let server = Server::start(&[]);
    let admin_key = server.creds.api_key.clone();
    let post = |key: &str, path: &str, body: serde_json::Value| -> (u16, Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut r = agent
            .post(&format!("{}{path}", server.url))
            .header("Authorization", &format!("Bearer {key}"))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .expect("request");
        let text = r.body_mut().read_to_string().unwrap_or_default();
        (r.status().as_u16(), serde_json::from_str(&text).unwrap_or(Value::Null))
    };
    let (status, created) = post(&admin_key, "/api/v1/api-keys", serde_json::json!({"name": "ci", "role": "sender"}));
    assert_eq!(status, 201, "{created}");
    let secret = created["key"].as_str().expect("the secret, once").to_owned();
    let id = created["id"].as_str().expect("an id").to_owned();
    // The new key works, with a sender's view: its own contracts only.
    let sender = server.client_with(Some(secret.clone()));
    assert!(sender.list_contracts(None, None, None, None).expect("a sender lists").items.is_empty());
    // Listed without secrets.
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let text = agent
        .get(&format!("{}/api/v1/api-keys", server.url))
        .header("Authorization", &format!("Bearer {admin_key}"))
        .call()
        .expect("list")
        .body_mut()
        .read_to_string()
        .expect("text");
    assert!(text.contains(&id) && !text.contains(&secret), "{text}");
    // A sender may not make keys; an admin may not make an owner's key.
    assert_eq!(post(&secret, "/api/v1/api-keys", serde_json::json!({"name": "x"})).0, 403);
    assert_eq!(post(&admin_key, "/api/v1/api-keys", serde_json::json!({"name": "x", "role": "owner"})).0, 403);
    assert_eq!(post(&admin_key, "/api/v1/api-keys", serde_json::json!({"name": " "})).0, 422);
    // Another organisation cannot revoke it (404, as if it did not exist).
    let other_key = server.create_org("Other", "keys@example.com").api_key;
    assert_eq!(post(&other_key, &format!("/api/v1/api-keys/{id}/revoke"), Value::Null).0, 404);
    assert!(sender.list_contracts(None, None, None, None).is_ok(), "still alive");
    // Revoked by its own organisation: dead at once.
    assert_eq!(post(&admin_key, &format!("/api/v1/api-keys/{id}/revoke"), Value::Null).0, 200);
    refused(sender.list_contracts(None, None, None, None), 401, "unauthorized");
    assert_eq!(post(&admin_key, &format!("/api/v1/api-keys/{id}/revoke"), Value::Null).0, 404, "revoked once");
}

/// Members: added (a new user's first password shown once), listed, their role changed and
/// removed, within the caller's rank and organisation; an organisation keeps an owner.
#[test]
fn members_are_added_changed_and_removed() {
    let server = Server::start(&[]);
    let admin_key = server.creds.api_key.clone();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let call = |key: &str, path: &str, body: Option<Value>| -> (u16, Value) {
        let url = format!("{}{path}", server.url);
        let auth = format!("Bearer {key}");
        let mut r = match body {
            Some(b) => agent.post(&url).header("Authorization", &auth).header("Content-Type", "application/json").send(b.to_string()),
            None => agent.get(&url).header("Authorization", &auth).call(),
        }
        .expect("request");
        let text = r.body_mut().read_to_string().unwrap_or_default();
        (r.status().as_u16(), serde_json::from_str(&text).unwrap_or(Value::Null))
    };
    let (status, list) = call(&admin_key, "/api/v1/members", None);
    assert_eq!(status, 200, "{list}");
    let owner_id = list["items"][0]["user_id"].as_str().expect("the demo admin").to_owned();
    assert_eq!((list["items"].as_array().map(Vec::len), list["items"][0]["role"].as_str()), (Some(1), Some("owner")), "{list}");
    assert!(!list.to_string().contains("password"), "no password hashes: {list}");

    // Added: a new user gets a first password once; the address is normalised.
    let (status, wang) = call(&admin_key, "/api/v1/members", Some(serde_json::json!({"email": " Wang.Wu@Example.com ", "name": "王五", "role": "sender"})));
    assert_eq!(status, 201, "{wang}");
    assert_eq!((wang["email"].as_str(), wang["name"].as_str(), wang["role"].as_str()), (Some("wang.wu@example.com"), Some("王五"), Some("sender")));
    assert!(wang["initial_password"].as_str().is_some_and(|p| p.len() >= 32), "{wang}");
    let wang_id = wang["user_id"].as_str().expect("user id").to_owned();
    let (status, again) = call(&admin_key, "/api/v1/members", Some(serde_json::json!({"email": "wang.wu@example.com"})));
    assert_eq!((status, again["error"]["code"].as_str()), (409, Some("already_member")), "{again}");
    for bad in [serde_json::json!({"email": "not-an-address"}), serde_json::json!({"email": "a@b.c", "role": "root"}), serde_json::json!({"email": "a@b.c", "name": "x".repeat(101)})] {
        let (status, e) = call(&admin_key, "/api/v1/members", Some(bad.clone()));
        assert_eq!((status, e["error"]["code"].as_str()), (422, Some("invalid_input")), "{bad}: {e}");
    }

    // The same person in a second organisation: the user is shared, so no new password.
    let other = server.create_org("Other Org", "other-owner@example.com");
    let (status, shared) = call(&other.api_key, "/api/v1/members", Some(serde_json::json!({"email": "wang.wu@example.com", "role": "member"})));
    assert_eq!(status, 201, "{shared}");
    assert_eq!(shared["user_id"].as_str(), Some(wang_id.as_str()));
    assert!(shared.get("initial_password").is_none(), "an existing user keeps their password: {shared}");

    // Roles change within rank: the demo key is an admin's, so owners are out of its reach
    // (that the last owner stays an owner is the domain's rule, tested there).
    let (status, changed) = call(&admin_key, &format!("/api/v1/members/{wang_id}/role"), Some(serde_json::json!({"role": "admin"})));
    assert_eq!((status, changed["role"].as_str()), (200, Some("admin")), "{changed}");
    let (status, e) = call(&admin_key, &format!("/api/v1/members/{owner_id}/role"), Some(serde_json::json!({"role": "admin"})));
    assert_eq!((status, e["error"]["code"].as_str()), (403, Some("forbidden")), "an admin does not unmake owners: {e}");
    let (status, e) = call(&admin_key, &format!("/api/v1/members/{wang_id}/role"), Some(serde_json::json!({"role": "owner"})));
    assert_eq!((status, e["error"]["code"].as_str()), (403, Some("forbidden")), "nor makes them: {e}");
    let (status, _) = call(&admin_key, &format!("/api/v1/members/{owner_id}/remove"), Some(Value::Null));
    assert_eq!(status, 403, "nor removes them");

    // Another organisation's key: the member does not exist there; in its own, a change is its own.
    let (status, _) = call(&other.api_key, &format!("/api/v1/members/{owner_id}/role"), Some(serde_json::json!({"role": "member"})));
    assert_eq!(status, 404);
    let (status, list) = call(&other.api_key, "/api/v1/members", None);
    assert!(status == 200 && !list.to_string().contains(&owner_id), "{list}");
    let (_, mine) = call(&admin_key, "/api/v1/members", None);
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(2), "{mine}");
    let wang_there = mine["items"].as_array().and_then(|a| a.iter().find(|m| m["user_id"] == wang_id.as_str())).expect("wang");
    assert_eq!(wang_there["role"], "admin", "the other organisation's change did not leak here");

    // A sender key may not manage members.
    let (status, key) = call(&admin_key, "/api/v1/api-keys", Some(serde_json::json!({"name": "sender", "role": "sender"})));
    assert_eq!(status, 201);
    let sender_key = key["key"].as_str().expect("secret").to_owned();
    assert_eq!(call(&sender_key, "/api/v1/members", None).0, 403);
    assert_eq!(call(&sender_key, "/api/v1/members", Some(serde_json::json!({"email": "x@example.com"}))).0, 403);
    assert_eq!(call(&sender_key, &format!("/api/v1/members/{wang_id}/remove"), Some(Value::Null)).0, 403);

    // Removed: gone from this organisation, still a member of the other.
    let (status, removed) = call(&admin_key, &format!("/api/v1/members/{wang_id}/remove"), Some(Value::Null));
    assert_eq!((status, removed["removed"].as_bool()), (200, Some(true)), "{removed}");
    assert_eq!(call(&admin_key, &format!("/api/v1/members/{wang_id}/remove"), Some(Value::Null)).0, 404, "removed once");
    let (_, list) = call(&other.api_key, "/api/v1/members", None);
    assert!(list.to_string().contains(&wang_id), "{list}");
}

/// The verify endpoint takes a browser form upload (multipart, part `file`) as well as a raw
/// PDF body; a form without the part, or an empty body, is refused with a clear code.
#[test]
fn verify_takes_a_form_upload() {
    let server = Server::start(&[]);
    let pdf = support::sample_pdf(1);
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let post = |content_type: &str, body: &[u8]| -> (u16, Value) {
        let mut r = agent.post(&format!("{}/api/v1/verify", server.url)).header("Content-Type", content_type).send(body).expect("POST /api/v1/verify");
        let text = r.body_mut().read_to_string().unwrap_or_default();
        (r.status().as_u16(), serde_json::from_str(&text).unwrap_or(Value::Null))
    };
    let form = |part: &str| {
        let mut b = format!("--XyZ\r\nContent-Disposition: form-data; name=\"{part}\"; filename=\"合同.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").into_bytes();
        b.extend_from_slice(&pdf);
        b.extend_from_slice(b"\r\n--XyZ--\r\n");
        b
    };
    let (status, by_form) = post("multipart/form-data; boundary=XyZ", &form("file"));
    assert_eq!(status, 200, "{by_form}");
    let (status, raw) = post("application/pdf", &pdf);
    assert_eq!(status, 200, "{raw}");
    assert_eq!(by_form["verdict"], raw["verdict"], "the same verdict either way: {by_form} {raw}");
    assert!(by_form.to_string().contains("合同.pdf"), "the report names the uploaded file: {by_form}");
    let (status, e) = post("multipart/form-data; boundary=XyZ", &form("other"));
    assert_eq!((status, e["error"]["code"].as_str()), (400, Some("bad_request")), "{e}");
    let (status, e) = post("application/pdf", b"");
    assert_eq!((status, e["error"]["code"].as_str()), (422, Some("invalid_input")), "{e}");
    let (status, e) = post("text/plain", b"hello");
    assert_eq!((status, e["error"]["code"].as_str()), (415, Some("unsupported_media_type")), "{e}");
}

/// Text, date and check-box fields end up in the signed PDF as filled form fields, created
/// before the first signature so that later signers only fill them (permitted after a
/// signature: pyHanko and `signet verify` keep every signature valid); fields can be placed by
/// a keyword of the document's text, and a keyword that is not there is a clear 422.
#[test]
fn fields_are_filled_into_the_pdf_and_placed_by_keyword() {
    use signet_client::FieldKind;
    let server = Server::start(&[]);
    let client = server.client();
    let public = server.client_with(None);
    let mailbox = Outbox(server.client());
    let url = server.url.as_str();
    let pdf = support::sample_pdf(2);
    let (a, b) = ("fill-a@example.com", "fill-b@example.com");
    let mut meta = ContractMetadata::new("Fields 字段");
    meta.recipients.push(NewRecipient::signer("张三", a, 1));
    meta.recipients.push(NewRecipient::signer("Li Si", b, 2));
    meta.fields.push(NewField::at_keyword(FieldKind::Signature, a, "Page 1 of 2"));
    meta.fields.push(NewField::new(FieldKind::Text, a, 1, [72.0, 300.0, 300.0, 322.0]));
    meta.fields.push(NewField::new(FieldKind::Checkbox, a, 1, [72.0, 270.0, 86.0, 284.0]));
    meta.fields.push(NewField::new(FieldKind::Date, a, 1, [100.0, 270.0, 210.0, 290.0]));
    meta.fields.push(NewField::signature(b, 2, RECT_2));
    let mut b_text = NewField::at_keyword(FieldKind::Text, b, "Page 2 of 2");
    b_text.size = Some([120.0, 18.0]);
    meta.fields.push(b_text);
    meta.send = true;

    // Refusals first: a keyword not in the text, on the wrong page, both rect and keyword.
    let mut missing = meta.clone();
    missing.fields[0].keyword = Some("签章处 (not in this file)".into());
    let e = refused(client.create_contract(&[("c.pdf", &pdf)], &missing), 422, "keyword_not_found");
    assert!(e.to_string().contains("fields[0].keyword"), "{e}");
    let mut wrong_page = meta.clone();
    wrong_page.fields[0].page = Some(2);
    refused(client.create_contract(&[("c.pdf", &pdf)], &wrong_page), 422, "keyword_not_found");
    let mut both = meta.clone();
    both.fields[0].rect = Some(RECT_1);
    refused(client.create_contract(&[("c.pdf", &pdf)], &both), 422, "invalid_input");
    let mut third = meta.clone();
    third.fields[0].occurrence = Some(2);
    refused(client.create_contract(&[("c.pdf", &pdf)], &third), 422, "keyword_not_found");

    let before = support::mark(&mailbox);
    let c = client.create_contract(&[("c.pdf", &pdf)], &meta).expect("create");
    // Placed by keyword: right of "Page 1 of 2" (drawn at x = 280, y = 40 in 9 pt Helvetica).
    let sig_a = &c.fields[0];
    assert_eq!(sig_a.page, 1);
    let [x1, y1, x2, y2] = sig_a.rect;
    assert!((320.0..340.0).contains(&x1) && (x2 - x1 - 150.0).abs() < 1e-6, "{:?}", sig_a.rect);
    assert!((y1 - (43.0 - 25.0)).abs() < 3.0 && (y2 - y1 - 50.0).abs() < 1e-6, "{:?}", sig_a.rect);
    let text_b = &c.fields[5];
    assert_eq!((text_b.page, text_b.rect[2] - text_b.rect[0], text_b.rect[3] - text_b.rect[1]), (2, 120.0, 18.0), "{:?}", text_b.rect);
    let (text_a, check_a, date_a) = (c.fields[1].id.clone(), c.fields[2].id.clone(), c.fields[3].id.clone());

    // Signer A fills text and check box; B fills their text.
    let token_a = token_from_link(&support::wait_link(&mailbox, &before, a, url)).expect("token").to_owned();
    let mark = support::mark(&mailbox);
    public.request_code(&token_a, Channel::Email).expect("code");
    let code = support::wait_code(&mailbox, &mark, a, url);
    let mut req = SignRequest::typed(code, "张三");
    req.fields.insert(text_a.clone(), "同意 Agreed 12,000".into());
    req.fields.insert(check_a.clone(), "true".into());
    let before_b = support::mark(&mailbox);
    public.sign(&token_a, &req).expect("A signs");
    let token_b = token_from_link(&support::wait_link(&mailbox, &before_b, b, url)).expect("token").to_owned();
    let mark = support::mark(&mailbox);
    public.request_code(&token_b, Channel::Email).expect("code");
    let code = support::wait_code(&mailbox, &mark, b, url);
    let mut req = SignRequest::drawn(code, support::signature_png());
    req.fields.insert(text_b.id.clone(), "Li Si, Beijing".into());
    assert_eq!(public.sign(&token_b, &req).expect("B signs").status, Status::Completed);

    // The signed PDF: every field is a form field with its value; signatures all valid.
    let signed = client.document(&c.id, 1).expect("the signed PDF");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("filled.pdf");
    std::fs::write(&file, &signed).expect("write");
    let out = std::process::Command::new("qpdf").args(["--json", "--json-key=acroform"]).arg(&file).output().expect("qpdf --json (qpdf is installed by .ci/run)");
    let json: Value = serde_json::from_slice(&out.stdout).expect("qpdf JSON");
    let fields = json["acroform"]["fields"].as_array().expect("fields");
    let value_of = |name: &str| -> Value {
        fields.iter().find(|f| f["fullname"] == name).map(|f| f["value"].clone()).unwrap_or_else(|| panic!("no field {name} in {json:#}"))
    };
    assert_eq!(value_of(&format!("Text-{text_a}")), "u:同意 Agreed 12,000");
    assert_eq!(value_of(&format!("Check-{check_a}")), "/Yes");
    let date = value_of(&format!("Text-{date_a}"));
    assert!(date.as_str().is_some_and(|d| d.starts_with("u:20") && d.len() == "u:2026-11-28".len()), "the signing date: {date}");
    assert_eq!(value_of(&format!("Text-{}", text_b.id)), "u:Li Si, Beijing");
    let check = std::process::Command::new("qpdf").arg("--check").arg(&file).output().expect("qpdf --check");
    assert_eq!(check.status.code(), Some(0), "{}", String::from_utf8_lossy(&check.stdout));
    let root = server.root_pem();
    let out = server.signet(["verify".as_ref(), "--json".as_ref(), "--trust".as_ref(), root.as_os_str(), file.as_os_str()] as [&std::ffi::OsStr; 5]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("signet.verify/v1 JSON");
    assert_eq!((out.status.code(), &report["verdict"]), (Some(0), &Value::from("VALID")), "{report:#}");
    if let Some(pyhanko) = support::pyhanko() {
        let o = std::process::Command::new(&pyhanko)
            .args(["sign", "validate", "--trust"])
            .arg(&root)
            .args(["--trust-replace", "--pretty-print"])
            .arg(&file)
            .output()
            .expect("pyhanko");
        let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert_eq!(o.status.code(), Some(0), "{text}");
        assert!(text.contains("form filling"), "the first signature sees only signing and form filling after it:\n{text}");
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() { todo.push(p) } else { out.push(p) }
        }
    }
    out
}

/// No private key is stored in the clear: the CA's, TSA's, OCSP responder's and log's keys
/// are sealed by the master key, also when the server finds plain key files (a CA and a log
/// made by the standalone tools, or by an older version), which it seals and removes.
#[test]
fn private_keys_are_sealed_at_rest() {
    let server = Server::start_prepared(&[], |data| {
        let run = |args: &[&std::ffi::OsStr]| {
            let o = std::process::Command::new(env!("CARGO_BIN_EXE_signet")).args(args).output().expect("signet");
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8_lossy(&o.stdout).trim().to_owned()
        };
        std::fs::create_dir_all(data).expect("mkdir");
        let (ca, log) = (data.join("ca"), data.join("log"));
        run(&["ca".as_ref(), "init".as_ref(), "--dir".as_ref(), ca.as_os_str(), "--org".as_ref(), "Made Before".as_ref()]);
        run(&["log".as_ref(), "init".as_ref(), "--dir".as_ref(), log.as_os_str(), "--origin".as_ref(), "before.example/log".as_ref()]);
        assert!(ca.join("private/root.key").is_file() && log.join("log.key").is_file(), "plain keys to begin with");
    });
    let data = server.data.clone();
    for name in ["root", "issuing", "tsa", "ocsp"] {
        assert!(data.join(format!("ca/private/{name}.key.sealed")).is_file(), "{name} sealed");
        assert!(!data.join(format!("ca/private/{name}.key")).exists(), "{name}: the plain file is gone");
    }
    assert!(data.join("log/log.key.sealed").is_file() && !data.join("log/log.key").exists());
    // The server uses the CA and the log it found: the same root, a log that signs.
    let root = server.client().root_pem().expect("root");
    assert_eq!(root.as_bytes(), std::fs::read(data.join("ca/root.pem")).expect("root.pem"));
    assert!(root.len() > 100);
    let c = server.client().create_contract(&[("a.pdf", &support::sample_pdf(1))], &{
        let mut m = ContractMetadata::new("Sealed keys");
        m.recipients.push(NewRecipient::signer("A", "sealed@example.com", 1));
        m
    });
    assert!(c.is_ok(), "{c:?}");
    let started = Instant::now();
    while checkpoint_size(&server.url) == 0 {
        assert!(started.elapsed() < Duration::from_secs(5), "the log signs no checkpoint with its sealed key");
        std::thread::sleep(Duration::from_millis(100));
    }
    let log_dir = data.join("log").to_string_lossy().into_owned();
    let vkey = server.signet(["log", "key", "--dir", log_dir.as_str()]);
    assert!(vkey.status.success() && String::from_utf8_lossy(&vkey.stdout).starts_with("before.example/log+"), "the verifier key is still readable: {vkey:?}");
    // The standalone tools refuse the sealed keys with a clear message.
    let entries = data.join("entries.txt");
    std::fs::write(&entries, "one entry\n").expect("write");
    let out = server.signet(["log", "append", "--dir", log_dir.as_str(), &entries.to_string_lossy()]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success() && (err.contains("sealed") || err.contains("server")), "{err}");
    // Nowhere under the data directory is a private key in the clear.
    for server_data in [data.clone(), Server::start(&[]).data.clone()] {
        let files = files_under(&server_data);
        assert!(files.len() > 10, "{files:?}");
        for f in files {
            let bytes = std::fs::read(&f).expect("read");
            for needle in [&b"PRIVATE KEY"[..], &b"PRIVATE+KEY+"[..]] {
                assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{} holds a private key in the clear", f.display());
            }
        }
    }
}

// --- web sessions ----------------------------------------------------------------------------------

/// A tiny browser: one cookie jar, no redirects followed, answers as (status, headers, JSON).
struct Browser<'a> {
    base: &'a str,
    agent: ureq::Agent,
    cookies: std::cell::RefCell<BTreeMap<String, String>>,
}

struct Answer {
    status: u16,
    set_cookies: Vec<String>,
    location: Option<String>,
    json: Value,
}

impl<'a> Browser<'a> {
    fn new(base: &'a str) -> Self {
        let agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
        Browser { base, agent, cookies: Default::default() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.borrow().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Answer {
        let url = format!("{}{path}", self.base);
        let cookie = self.cookie_header();
        let mut r = if method == "GET" {
            let mut req = self.agent.get(&url);
            if !cookie.is_empty() {
                req = req.header("Cookie", &cookie);
            }
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            req.call()
        } else {
            let mut req = self.agent.post(&url).header("Content-Type", "application/json");
            if !cookie.is_empty() {
                req = req.header("Cookie", &cookie);
            }
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            req.send(body.unwrap_or(Value::Null).to_string())
        }
        .expect("request");
        let set_cookies: Vec<String> = r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect();
        for c in &set_cookies {
            let Some((name, rest)) = c.split_once('=') else { continue };
            let value = rest.split(';').next().unwrap_or("").to_owned();
            if value.is_empty() || c.contains("Max-Age=0") {
                self.cookies.borrow_mut().remove(name);
            } else {
                self.cookies.borrow_mut().insert(name.to_owned(), value);
            }
        }
        let location = r.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        Answer { status, set_cookies, location, json: serde_json::from_str(&text).unwrap_or(Value::Null) }
    }
}

/// Members sign in with their password (and TOTP once turned on) into an HttpOnly cookie
/// session; state changes need the session's CSRF token; failed sign-ins are limited; a
/// removed member's session stops working; signing out ends it.
#[test]
fn members_sign_in_to_cookie_sessions() {
    let server = Server::start(&[]);
    let admin = Browser::new(&server.url);
    let creds = &server.creds;

    // Wrong password, unknown account: the same answer.
    let wrong = admin.call("POST", "/api/v1/session", Some(serde_json::json!({"email": creds.admin_email, "password": "not it"})), &[]);
    let unknown = admin.call("POST", "/api/v1/session", Some(serde_json::json!({"email": "nobody@example.com", "password": "not it"})), &[]);
    assert_eq!((wrong.status, &wrong.json["error"]["code"]), (401, &Value::from("invalid_credentials")));
    assert_eq!((unknown.status, &unknown.json["error"]), (401, &wrong.json["error"]), "no hint whether the account exists");
    assert!(admin.cookies.borrow().is_empty());

    let signed_in = admin.call("POST", "/api/v1/session", Some(serde_json::json!({"email": creds.admin_email.to_uppercase(), "password": creds.admin_password})), &[]);
    assert_eq!(signed_in.status, 201, "{}", signed_in.json);
    let cookie = signed_in.set_cookies.iter().find(|c| c.starts_with("signet_session=")).expect("the session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"), "{cookie} (no TLS here, so not Secure)");
    assert_eq!(signed_in.json["org_id"], creds.org_id.as_str());
    let csrf = signed_in.json["csrf_token"].as_str().expect("a CSRF token").to_owned();
    assert!(!signed_in.to_string_lossy().contains(&creds.admin_password));

    // The session reads and, with the CSRF token, writes.
    assert_eq!(admin.call("GET", "/api/v1/session", None, &[]).json["csrf_token"], csrf.as_str());
    assert_eq!(admin.call("GET", "/api/v1/contracts", None, &[]).status, 200);
    let no_csrf = admin.call("POST", "/api/v1/api-keys", Some(serde_json::json!({"name": "web"})), &[]);
    assert_eq!((no_csrf.status, &no_csrf.json["error"]["code"]), (403, &Value::from("csrf")));
    let other_site = admin.call("POST", "/api/v1/api-keys", Some(serde_json::json!({"name": "web"})), &[("X-CSRF-Token", &csrf), ("Origin", "https://evil.example")]);
    assert_eq!(other_site.status, 403, "another site's page cannot use the session");
    let made = admin.call("POST", "/api/v1/api-keys", Some(serde_json::json!({"name": "web"})), &[("X-CSRF-Token", &csrf), ("Origin", &server.url)]);
    assert_eq!(made.status, 201, "{}", made.json);
    // The same server reached by another name (localhost for 127.0.0.1): its own pages work.
    let port = server.url.rsplit(':').next().expect("port");
    let by_name = admin.call("POST", "/api/v1/api-keys", Some(serde_json::json!({"name": "web2"})), &[("X-CSRF-Token", &csrf), ("Origin", &format!("http://localhost:{port}")), ("Host", &format!("localhost:{port}"))]);
    assert_eq!(by_name.status, 201, "{}", by_name.json);
    let spoofed = admin.call("POST", "/api/v1/api-keys", Some(serde_json::json!({"name": "web3"})), &[("X-CSRF-Token", &csrf), ("Origin", "http://localhost:1")]);
    assert_eq!(spoofed.status, 403, "an origin that is neither the public URL nor the host asked for");

    // A member added by the admin signs in with their first password, changes it, and loses
    // access when removed.
    let added = admin.call("POST", "/api/v1/members", Some(serde_json::json!({"email": "web.member@example.com", "role": "member"})), &[("X-CSRF-Token", &csrf)]);
    assert_eq!(added.status, 201, "{}", added.json);
    let first_password = added.json["initial_password"].as_str().expect("first password").to_owned();
    let member = Browser::new(&server.url);
    let m = member.call("POST", "/api/v1/session", Some(serde_json::json!({"email": "web.member@example.com", "password": first_password})), &[]);
    assert_eq!((m.status, &m.json["role"]), (201, &Value::from("member")), "{}", m.json);
    let m_csrf = m.json["csrf_token"].as_str().expect("csrf").to_owned();
    assert_eq!(member.call("GET", "/api/v1/api-keys", None, &[]).status, 403, "a member's role holds in the web too");
    let short = member.call("POST", "/api/v1/session/password", Some(serde_json::json!({"current_password": first_password, "new_password": "short"})), &[("X-CSRF-Token", &m_csrf)]);
    assert_eq!(short.status, 422);
    let changed = member.call("POST", "/api/v1/session/password", Some(serde_json::json!({"current_password": first_password, "new_password": "a much longer password"})), &[("X-CSRF-Token", &m_csrf)]);
    assert_eq!(changed.status, 200, "{}", changed.json);
    let again = Browser::new(&server.url);
    assert_eq!(again.call("POST", "/api/v1/session", Some(serde_json::json!({"email": "web.member@example.com", "password": first_password})), &[]).status, 401, "the old password is gone");
    assert_eq!(again.call("POST", "/api/v1/session", Some(serde_json::json!({"email": "web.member@example.com", "password": "a much longer password"})), &[]).status, 201);
    let member_id = added.json["user_id"].as_str().expect("user id").to_owned();
    assert_eq!(admin.call("POST", &format!("/api/v1/members/{member_id}/remove"), None, &[("X-CSRF-Token", &csrf)]).status, 200);
    assert_eq!(member.call("GET", "/api/v1/contracts", None, &[]).status, 401, "a removed member's session stops working");

    // The second factor: set up, confirmed with a code, then required at sign-in.
    let setup = admin.call("POST", "/api/v1/session/totp/setup", None, &[("X-CSRF-Token", &csrf)]);
    assert_eq!(setup.status, 200, "{}", setup.json);
    let b32 = setup.json["secret"].as_str().expect("secret").to_owned();
    assert!(setup.json["otpauth_uri"].as_str().is_some_and(|u| u.starts_with("otpauth://totp/Signet:") && u.contains(&b32)));
    let secret = base32_decode(&b32);
    let totp = totp_rs::Builder::new().with_secret(secret).build().expect("totp");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let wrong_code = admin.call("POST", "/api/v1/session/totp/confirm", Some(serde_json::json!({"code": "000000"})), &[("X-CSRF-Token", &csrf)]);
    assert_eq!(wrong_code.status, 422);
    let confirmed = admin.call("POST", "/api/v1/session/totp/confirm", Some(serde_json::json!({"code": totp.generate(now).to_string()})), &[("X-CSRF-Token", &csrf)]);
    assert_eq!(confirmed.status, 200, "{}", confirmed.json);
    let later = Browser::new(&server.url);
    let password_only = later.call("POST", "/api/v1/session", Some(serde_json::json!({"email": creds.admin_email, "password": creds.admin_password})), &[]);
    assert_eq!((password_only.status, &password_only.json["error"]["code"]), (401, &Value::from("second_factor_required")));
    assert!(later.cookies.borrow().is_empty(), "no session without the second factor");
    let replayed = later.call("POST", "/api/v1/session", Some(serde_json::json!({"email": creds.admin_email, "password": creds.admin_password, "totp_code": totp.generate(now).to_string()})), &[]);
    assert_eq!(replayed.status, 401, "a code is good once");
    let with_code = later.call("POST", "/api/v1/session", Some(serde_json::json!({"email": creds.admin_email, "password": creds.admin_password, "totp_code": totp.generate(now + 30).to_string()})), &[]);
    assert_eq!(with_code.status, 201, "{}", with_code.json);
    assert_eq!(with_code.json["user"]["totp"], true);

    // Signing out ends the session.
    let later_csrf = with_code.json["csrf_token"].as_str().expect("csrf").to_owned();
    let old_cookie = later.cookie_header();
    let out = later.call("POST", "/api/v1/session/logout", None, &[("X-CSRF-Token", &later_csrf)]);
    assert_eq!(out.status, 200);
    assert!(later.cookies.borrow().is_empty(), "the cookie is cleared");
    let stale = Browser::new(&server.url);
    stale.cookies.borrow_mut().insert("signet_session".into(), old_cookie.trim_start_matches("signet_session=").to_owned());
    assert_eq!(stale.call("GET", "/api/v1/contracts", None, &[]).status, 401, "the old cookie is dead");

    // Too many failures for one account: 429, even with the right password.
    let hammer = Browser::new(&server.url);
    for _ in 0..10 {
        assert_eq!(hammer.call("POST", "/api/v1/session", Some(serde_json::json!({"email": "target@example.com", "password": "guess"})), &[]).status, 401);
    }
    assert_eq!(hammer.call("POST", "/api/v1/session", Some(serde_json::json!({"email": "target@example.com", "password": "guess"})), &[]).status, 429);
}

fn base32_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {s}"),
        };
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

impl Answer {
    fn to_string_lossy(&self) -> String {
        format!("{} {:?} {}", self.status, self.set_cookies, self.json)
    }
}

/// A signer's link becomes a signer session at once (the token leaves the address bar); the
/// session reads the view and signs with its CSRF token; dead links clear the session.
#[test]
fn signer_links_become_sessions() {
    let server = Server::start(&[]);
    let client = server.client();
    let mailbox = Outbox(server.client());
    let pdf = support::sample_pdf(2);
    let (c, token, a, _) = sent_contract(&client, &mailbox, &server.url, &pdf, "session");
    let signer = Browser::new(&server.url);
    let opened = signer.call("GET", &format!("/s/{token}"), None, &[]);
    assert_eq!((opened.status, opened.location.as_deref()), (303, Some("/sign")));
    let cookie = opened.set_cookies.iter().find(|c| c.starts_with("signet_signer=")).expect("a signer cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains(&token), "the cookie is not the token");

    let view = signer.call("GET", "/api/v1/signer", None, &[]);
    assert_eq!(view.status, 200, "{}", view.json);
    assert_eq!(view.json["contract"]["id"], c.id.as_str());
    let csrf = view.json["csrf_token"].as_str().expect("the page's CSRF token").to_owned();
    assert_eq!(signer.call("GET", "/api/v1/signer/document", None, &[]).status, 200);
    assert_eq!(signer.call("POST", "/api/v1/signer/code", Some(serde_json::json!({"channel": "email"})), &[]).status, 403, "no CSRF token");
    let mark = support::mark(&mailbox);
    let sent = signer.call("POST", "/api/v1/signer/code", Some(serde_json::json!({"channel": "email"})), &[("X-CSRF-Token", &csrf)]);
    assert_eq!(sent.status, 200, "{}", sent.json);
    let code = support::wait_code(&mailbox, &mark, &a, &server.url);
    let signed = signer.call("POST", "/api/v1/signer/sign", Some(serde_json::json!({"code": code, "signature": {"typed_name": "First"}})), &[("X-CSRF-Token", &csrf)]);
    assert_eq!((signed.status, &signed.json["status"]), (200, &Value::from("in_progress")), "{}", signed.json);
    assert_eq!(signer.call("GET", "/api/v1/signer/evidence", None, &[]).status, 409, "not complete yet");

    // Without a session, or with a dead link: no access, and the old session is cleared.
    let stranger = Browser::new(&server.url);
    assert_eq!(stranger.call("GET", "/api/v1/signer", None, &[]).status, 401);
    let dead = signer.call("GET", "/s/not-a-real-token-at-all-0000000000", None, &[]);
    assert_eq!((dead.status, dead.location.as_deref()), (303, Some("/sign")));
    assert!(dead.set_cookies.iter().any(|c| c.starts_with("signet_signer=;") && c.contains("Max-Age=0")), "{:?}", dead.set_cookies);
    assert_eq!(signer.call("GET", "/api/v1/signer", None, &[]).status, 401);
}

/// GET `path` with `headers`: (status, content type, cache control, body bytes).
fn get_bytes(base: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String, String, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let mut req = agent.get(&format!("{base}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut r = req.call().expect("request");
    let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let (ct, cc) = (header("content-type"), header("cache-control"));
    let body = r.body_mut().with_config().limit(64 << 20).read_to_vec().expect("body");
    (r.status().as_u16(), ct, cc, body)
}

/// Width and height of a PNG, from its IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 24 && &png[12..16] == b"IHDR", "not a PNG");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&png[16..20]), be(&png[20..24]))
}

/// Pages drawn as PNG: for the members who may see the contract (API key or session) and for
/// its signer (link session or token); the width as asked and the height by the page's shape;
/// clear errors for page 0, a page past the end, a width out of range; 404 for another
/// organisation, 401 without credentials.
#[test]
fn pages_are_drawn_as_pictures_for_members_and_signers() {
    let server = Server::start(&[]);
    let client = server.client();
    let mailbox = Outbox(server.client());
    let pdf = support::sample_pdf(2);
    let (c, token, _, _) = sent_contract(&client, &mailbox, &server.url, &pdf, "pictures");
    let key = format!("Bearer {}", server.creds.api_key);
    let auth = [("Authorization", key.as_str())];
    let base = server.url.as_str();
    let member = |path: &str| get_bytes(base, &format!("/api/v1/contracts/{}/documents/{path}", c.id), &auth);

    // The signer's view tells each page's size, which the picture's shape follows.
    let signer = Browser::new(base);
    assert_eq!(signer.call("GET", &format!("/s/{token}"), None, &[]).status, 303);
    let view = signer.call("GET", "/api/v1/signer", None, &[]);
    let size = &view.json["contract"]["documents"][0]["page_sizes"][0];
    let (w, h) = (size[0].as_f64().expect("page width"), size[1].as_f64().expect("page height"));
    assert!(w > 100.0 && h > 100.0, "{}", view.json);
    let tall = |width: u32| (f64::from(width) * h / w).round() as u32;

    for width in [200u32, 375, 1000] {
        let (status, ct, cc, png) = member(&format!("1/pages/1.png?width={width}"));
        assert_eq!((status, ct.as_str()), (200, "image/png"), "{}", String::from_utf8_lossy(&png));
        assert!(cc.starts_with("private"), "{cc}");
        assert_eq!(png_size(&png), (width, tall(width)));
    }
    let (status, _, _, png) = member("1/pages/2.png");
    assert_eq!((status, png_size(&png).0), (200, 800), "the default width");

    // Clear refusals, in the error envelope.
    for (path, status, code, says) in [
        ("1/pages/0.png", 422, "invalid_input", "count from 1"),
        ("1/pages/99.png", 404, "not_found", "2 page(s)"),
        ("2/pages/1.png", 404, "not_found", "1 document(s)"),
        ("0/pages/1.png", 422, "invalid_input", "count from 1"),
        ("1/pages/1.png?width=100", 422, "invalid_input", "between 200 and 2000"),
        ("1/pages/1.png?width=2001", 422, "invalid_input", "between 200 and 2000"),
        ("1/pages/1.png?width=wide", 422, "invalid_input", "width"),
        ("1/pages/one.png", 404, "not_found", "counted from 1"),
    ] {
        let (got, ct, _, body) = member(path);
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert_eq!((got, ct.as_str(), &json["error"]["code"]), (status, "application/json", &Value::from(code)), "{path}: {json}");
        assert!(json["error"]["message"].as_str().unwrap_or("").contains(says), "{path}: {json}");
    }

    // No credentials: 401. Another organisation: the same 404 as a contract that does not exist.
    let path = format!("/api/v1/contracts/{}/documents/1/pages/1.png", c.id);
    assert_eq!(get_bytes(base, &path, &[]).0, 401);
    let other = format!("Bearer {}", server.create_org("Pictures Other", "pictures-other@example.com").api_key);
    let (status, _, _, body) = get_bytes(base, &path, &[("Authorization", &other)]);
    let missing = get_bytes(base, "/api/v1/contracts/ct_missing/documents/1/pages/1.png", &[("Authorization", &other)]);
    assert_eq!((status, &body), (404, &missing.3), "another organisation's contract is just not found");

    // The signer, through the link's session and through the token.
    let cookie = signer.cookie_header();
    let (status, ct, cc, png) = get_bytes(base, "/api/v1/signer/pages/1/2.png?width=375&v=sent-0", &[("Cookie", &cookie)]);
    assert_eq!((status, ct.as_str()), (200, "image/png"));
    assert!(cc.starts_with("private"), "{cc}");
    assert_eq!(png_size(&png), (375, tall(375)));
    let (status, _, _, png) = get_bytes(base, &format!("/api/v1/signing/{token}/pages/1/1.png?width=400"), &[]);
    assert_eq!((status, png_size(&png)), (200, (400, tall(400))));
    assert_eq!(get_bytes(base, "/api/v1/signer/pages/1/3.png", &[("Cookie", &cookie)]).0, 404);
    assert_eq!(get_bytes(base, "/api/v1/signer/pages/1/1.png", &[]).0, 401, "no session");
    assert_eq!(get_bytes(base, "/api/v1/signing/not-a-real-token-at-all-0000/pages/1/1.png", &[]).0, 404, "unknown link");
}

/// `POST /api/v1/contracts/{id}/fields` replaces a draft's fields (by rect or keyword, checked
/// as at creation); a sent contract keeps its fields (409), another organisation's is not found
/// (404), a rect off the page is 422; once a signer has a signature field, the draft is sent.
#[test]
fn a_drafts_fields_are_replaced_then_it_is_sent() {
    let server = Server::start(&[]);
    let client = server.client();
    let (a, b) = ("place-a@example.com", "place-b@example.com");
    let mut meta = ContractMetadata::new("Placed on the page 页面放置");
    meta.recipients.push(NewRecipient::signer("张三", a, 1));
    meta.recipients.push(NewRecipient::signer("Li Si", b, 2));
    let draft = client.create_contract(&[("placed.pdf", &support::sample_pdf(2))], &meta).expect("a draft without fields");
    assert_eq!(draft.status, Status::Draft);
    refused(client.send(&draft.id), 422, "invalid_input");

    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let post_to = |what: &str, key: &str, id: &str, body: &Value| -> (u16, Value) {
        let mut r = agent
            .post(&format!("{}/api/v1/contracts/{id}/{what}", server.url))
            .header("Authorization", &format!("Bearer {key}"))
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes())
            .expect("POST …/fields or …/draft");
        let text = r.body_mut().read_to_string().unwrap_or_default();
        (r.status().as_u16(), serde_json::from_str(&text).unwrap_or(Value::Null))
    };
    let post = |key: &str, id: &str, body: &Value| post_to("fields", key, id, body);
    let key = server.creds.api_key.clone();

    // Contract JSON lists each page's size, for pages that place fields over page pictures.
    let (status, c) = post(&key, &draft.id, &serde_json::json!({"fields": []}));
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["documents"][0]["page_sizes"].as_array().map(Vec::len), Some(2), "{c}");
    let [w, h] = [c["documents"][0]["page_sizes"][0][0].as_f64().unwrap_or(0.0), c["documents"][0]["page_sizes"][0][1].as_f64().unwrap_or(0.0)];
    assert!(w > 500.0 && h > 800.0, "an A4 page: {w}×{h}");

    // A rect off the page, a recipient who is not there, a seal for a plain signer: 422, nothing changed.
    for (bad, says) in [
        (serde_json::json!({"recipient": a, "type": "signature", "page": 1, "rect": [500.0, 100.0, 700.0, 160.0]}), "fields[0].rect"),
        (serde_json::json!({"recipient": "nobody@example.com", "type": "signature", "page": 1, "rect": RECT_1}), "fields[0].recipient"),
        (serde_json::json!({"recipient": a, "type": "seal", "page": 1, "rect": RECT_1}), "fields[0].type"),
        (serde_json::json!({"recipient": a, "type": "signature", "page": 3, "rect": RECT_1}), "fields[0].page"),
    ] {
        let (status, e) = post(&key, &draft.id, &serde_json::json!({"fields": [bad]}));
        assert_eq!((status, e["error"]["code"].as_str()), (422, Some("invalid_input")), "{e}");
        assert!(e["error"]["message"].as_str().unwrap_or("").contains(says), "{says}: {e}");
    }
    let (status, e) = post(&key, &draft.id, &serde_json::json!({"fields": [{"recipient": a, "type": "signature", "keyword": "no such words"}]}));
    assert_eq!((status, e["error"]["code"].as_str()), (422, Some("keyword_not_found")), "{e}");

    // Placed by rect and by keyword (read from the stored document); placing again replaces.
    let fields = serde_json::json!({"fields": [
        {"recipient": a, "type": "text", "page": 1, "rect": [60.0, 140.0, 260.0, 160.0]},
        {"recipient": b, "type": "signature", "page": 2, "rect": RECT_2},
    ]});
    let (status, c) = post(&key, &draft.id, &fields);
    assert_eq!((status, c["fields"].as_array().map(Vec::len)), (200, Some(2)), "{c}");
    let fields = serde_json::json!({"fields": [
        {"recipient": a, "type": "signature", "keyword": "Page 1 of 2"},
        {"recipient": a, "type": "date", "document": 1, "page": 1, "rect": [300.0, 60.0, 410.0, 80.0]},
        {"recipient": b, "type": "signature", "page": 2, "rect": RECT_2},
    ]});
    let (status, c) = post(&key, &draft.id, &fields);
    assert_eq!(status, 200, "{c}");
    let placed: Vec<(&str, &str, u64)> = c["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| (f["recipient"].as_str().unwrap_or(""), f["type"].as_str().unwrap_or(""), f["page"].as_u64().unwrap_or(0)))
        .collect();
    assert_eq!(placed, [(a, "signature", 1), (a, "date", 1), (b, "signature", 2)]);
    assert_eq!(c["fields"][2]["rect"], serde_json::json!(RECT_2));

    // Another organisation: not found, like an id that does not exist.
    let other = server.create_org("Placing Other", "placing-other@example.com");
    let (status, theirs) = post(&other.api_key, &draft.id, &fields);
    let (_, missing) = post(&other.api_key, "ct_missing", &fields);
    assert_eq!((status, &theirs), (404, &missing), "{theirs}");

    // The draft is edited (POST …/draft): b keeps their id and fields under a new address, a
    // approver joins, the title changes and the deadline goes. An id of nobody in this draft,
    // one id twice, or no signer left: 422 and nothing changed. Another organisation: 404.
    let ids: Vec<String> = c["recipients"].as_array().expect("recipients").iter().map(|r| r["id"].as_str().unwrap_or("").to_owned()).collect();
    let b2 = "place-b2@example.com";
    let edit = serde_json::json!({"title": "Placed, edited 已修改", "recipients": [
        {"id": ids[0], "name": "张三", "email": a, "order": 1},
        {"id": ids[1], "name": "Li Si", "email": b2, "order": 2},
        {"name": "Wang Wu", "email": "place-c@example.com", "role": "approver", "order": 3},
    ]});
    for (bad, says) in [
        (serde_json::json!({"title": "x", "recipients": [{"id": "rcp_nobody", "name": "N", "email": a}]}), "recipients[0].id"),
        (serde_json::json!({"title": "x", "recipients": [{"id": ids[0], "name": "N", "email": a}, {"id": ids[0], "name": "M", "email": b}]}), "recipients[1].id"),
        (serde_json::json!({"title": "x", "recipients": [{"name": "N", "email": a, "role": "cc"}]}), "recipients"),
        (serde_json::json!({"title": "x", "recipients": [{"name": "N", "email": a}], "deadline": "2001-01-01T00:00:00Z"}), "deadline"),
    ] {
        let (status, e) = post_to("draft", &key, &draft.id, &bad);
        assert_eq!((status, e["error"]["code"].as_str()), (422, Some("invalid_input")), "{e}");
        assert!(e["error"]["message"].as_str().unwrap_or("").contains(says), "{says}: {e}");
    }
    let (status, theirs) = post_to("draft", &other.api_key, &draft.id, &edit);
    assert_eq!(status, 404, "{theirs}");
    let (status, c) = post_to("draft", &key, &draft.id, &edit);
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["title"], "Placed, edited 已修改");
    let emails: Vec<&str> = c["recipients"].as_array().expect("recipients").iter().map(|r| r["email"].as_str().unwrap_or("")).collect();
    assert_eq!(emails, [a, b2, "place-c@example.com"]);
    assert_eq!(c["recipients"][1]["id"].as_str(), Some(ids[1].as_str()));
    let placed: Vec<(&str, &str)> = c["fields"].as_array().expect("fields").iter().map(|f| (f["recipient"].as_str().unwrap_or(""), f["type"].as_str().unwrap_or(""))).collect();
    assert_eq!(placed, [(a, "signature"), (a, "date"), (b2, "signature")], "b's field follows b to the new address");
    let listed = client.list_contracts(None, Some("edited"), None, None).expect("search");
    assert_eq!(listed.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), [draft.id.as_str()], "the new title is searched");

    // Sent: the fields and the recipients stay as they are.
    let sent = client.send(&draft.id).expect("send once every signer has a signature field");
    assert_eq!(sent.status, Status::Sent);
    let (status, e) = post(&key, &draft.id, &fields);
    assert_eq!((status, e["error"]["code"].as_str()), (409, Some("wrong_state")), "{e}");
    let (status, e) = post_to("draft", &key, &draft.id, &edit);
    assert_eq!((status, e["error"]["code"].as_str()), (409, Some("wrong_state")), "{e}");
    let kinds: Vec<String> = client.events(&draft.id).expect("events").iter().map(|e| e.kind.clone()).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "draft_edited").count(), 1, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| *k == "fields_set").count(), 3, "{kinds:?}");
    assert!(kinds.iter().position(|k| k == "fields_set") < kinds.iter().position(|k| k == "sent"), "{kinds:?}");
}

/// Expired signing links and encrypted uploads: both refused with their own codes. The link is
/// aged in the database (links live at least a day), so this runs on PostgreSQL.
#[test]
fn expired_links_and_encrypted_pdfs_are_refused() {
    let Some(pg) = support::PgSchema::create() else { return };
    let server = Server::start(&[("SIGNET_DATABASE_URL", &pg.url)]);
    let client = server.client();
    let mailbox = Outbox(server.client());
    let pdf = support::sample_pdf(2);

    // An encrypted PDF (qpdf, installed by .ci/run): 422 encrypted_pdf, nothing created.
    let dir = tempfile::tempdir().expect("temp dir");
    let (plain, locked) = (dir.path().join("plain.pdf"), dir.path().join("locked.pdf"));
    std::fs::write(&plain, &pdf).expect("write");
    let out = std::process::Command::new("qpdf").args(["--encrypt", "user-pw", "owner-pw", "256", "--"]).arg(&plain).arg(&locked).output().expect("qpdf");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let encrypted = std::fs::read(&locked).expect("read");
    let e = refused(client.create_contract(&[("locked.pdf", &encrypted)], &two_signers("Locked", ("A", "lock-a@example.com"), ("B", "lock-b@example.com"), true)), 422, "encrypted_pdf");
    assert!(e.to_string().contains("locked.pdf"), "{e}");
    assert!(client.list_contracts(None, None, None, None).expect("list").items.is_empty());

    // A link past its expiry: the API says so (409 link_expired), the code and the signature
    // are refused, and opening it in a browser clears any signer session.
    let (_, token, _, _) = sent_contract(&client, &mailbox, &server.url, &pdf, "expiry");
    let public = server.client_with(None);
    public.signing(&token).expect("a fresh link opens");
    pg.execute("UPDATE signing_links SET expires_at = 1");
    refused(public.signing(&token), 409, "link_expired");
    refused(public.request_code(&token, Channel::Email), 409, "link_expired");
    refused(public.sign(&token, &SignRequest::typed("123456", "First")), 409, "link_expired");
    let browser = Browser::new(&server.url);
    let opened = browser.call("GET", &format!("/s/{token}"), None, &[]);
    assert_eq!((opened.status, opened.location.as_deref()), (303, Some("/sign")));
    assert!(opened.set_cookies.iter().any(|c| c.starts_with("signet_signer=;") && c.contains("Max-Age=0")), "{:?}", opened.set_cookies);
    assert_eq!(browser.call("GET", "/api/v1/signer", None, &[]).status, 401);
}

/// Copies a directory tree (a server's data directory, for a restart on it).
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").filter_map(Result::ok) {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type().expect("file type").is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).expect("copy");
        }
    }
}

/// Signs a one-signer contract through the API; answers it (completed).
fn sign_one(server: &Server, title: &str, email: &str) -> Contract {
    let client = server.client();
    let mailbox = Outbox(server.client());
    let mut meta = ContractMetadata::new(title);
    meta.recipients.push(NewRecipient::signer("Zhao", email, 1));
    meta.fields.push(NewField::signature(email, 1, RECT_1));
    meta.send = true;
    let before = support::mark(&mailbox);
    let c = client.create_contract(&[("hsm.pdf", &support::sample_pdf(1))], &meta).expect("create");
    let token = token_from_link(&support::wait_link(&mailbox, &before, email, &server.url)).expect("a token").to_owned();
    let public = server.client_with(None);
    let before = support::mark(&mailbox);
    public.request_code(&token, Channel::Email).expect("a code");
    let code = support::wait_code(&mailbox, &before, email, &server.url);
    assert_eq!(public.sign(&token, &SignRequest::typed(code, "Zhao")).expect("sign").status, Status::Completed);
    client.contract(&c.id).expect("the contract")
}

/// Keys in a PKCS#11 token (SoftHSM2). A deployment made with a master key file moves to the
/// token: its organisation keys are re-wrapped by the token's master key, its documents are
/// not re-encrypted and still open. A deployment made on the token keeps the master key and
/// the CA's and TSA's keys there — sensitive, never extractable, used inside the token — and
/// writes no private key anywhere else; what it signs validates.
#[test]
fn keys_in_a_pkcs11_token() {
    let Some(hsm) = support::SoftHsm::create("signet-keys") else { return };
    let env: Vec<(&str, &str)> = hsm.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

    // 1. Made with a master key file; one contract signed.
    let mut before = Server::start(&[]);
    let old = sign_one(&before, "Before the token", "hsm-before@example.com");
    let old_pdf = before.client().document(&old.id, 1).expect("the signed PDF");
    let blobs_before: Vec<(std::path::PathBuf, Vec<u8>)> = files_under(&before.data.join("blobs")).into_iter().map(|f| { let b = std::fs::read(&f).expect("read"); (f.strip_prefix(&before.data).expect("under data").to_path_buf(), b) }).collect();
    let old_data = before.data.clone();
    before.kill();
    // Restarted on the same data with the token: the organisation key moves to the token's
    // master key; the documents stay byte for byte and still open.
    let mut after = Server::start_prepared(&env, |data| copy_tree(&old_data, data));
    drop(before);
    assert_eq!(after.client().document(&old.id, 1).expect("the old document, after the move"), old_pdf);
    for (rel, bytes) in &blobs_before {
        assert_eq!(&std::fs::read(after.data.join(rel)).expect("the blob is still there"), bytes, "{} was not re-encrypted", rel.display());
    }
    let again = sign_one(&after, "After the move", "hsm-after@example.com");
    assert_eq!(again.status, Status::Completed);
    // `admin reseal` moves what the old key still sealed (the CA's and log's keys, the pepper)
    // to the token's key; then the old key file can go, and everything still opens and signs.
    let moved_data = after.data.clone();
    after.kill();
    let out = after.signet(["admin".as_ref(), "reseal".as_ref(), "--data".as_ref(), moved_data.as_os_str(), "--json".as_ref()] as [&std::ffi::OsStr; 5]);
    assert_eq!(out.status.code(), Some(0), "admin reseal: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("the reseal report");
    assert_eq!(report["master_key"], "signet-master", "{report}");
    assert!(report["deployment_files"].as_u64() >= Some(6), "four CA keys, the log key, the pepper and the key id: {report}");
    assert_eq!(report["retirable"].as_array().map(Vec::len), Some(1), "{report}");
    let out = after.signet(["admin".as_ref(), "reseal".as_ref(), "--data".as_ref(), moved_data.as_os_str(), "--json".as_ref()] as [&std::ffi::OsStr; 5]);
    let again_report: Value = serde_json::from_slice(&out.stdout).expect("the second reseal report");
    assert_eq!((again_report["deployment_files"].as_u64(), again_report["organisation_keys"].as_u64()), (Some(0), Some(0)), "nothing left: {again_report}");
    std::fs::remove_file(moved_data.join("keys/master.key")).expect("remove the old master key file");
    let retired = Server::start_prepared(&env, |data| copy_tree(&moved_data, data));
    drop(after);
    assert_eq!(retired.client().document(&old.id, 1).expect("the old document, the old key gone"), old_pdf);
    let third = sign_one(&retired, "Old key retired", "hsm-retired@example.com");
    assert_eq!(third.status, Status::Completed);
    drop(retired);

    // 2. A deployment made on the token.
    let server = Server::start(&env);
    let c = sign_one(&server, "Keys in the token 令牌中的密钥", "hsm-new@example.com");
    let pdf = server.client().document(&c.id, 1).expect("the signed PDF");
    let private: Vec<_> = std::fs::read_dir(server.data.join("ca/private")).map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect()).unwrap_or_default();
    assert!(private.is_empty(), "no CA key files: {private:?}");
    assert!(!server.data.join("keys/master.key").exists(), "no master key file");
    assert!(!server.data.join("log/log.key.sealed").exists() && !server.data.join("log/log.key").exists(), "no log key file");
    // The log signs checkpoints with its key in the token; they verify with its verifier key.
    let started = Instant::now();
    while checkpoint_size(&server.url) == 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "the log signs no checkpoint with its key in the token");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, _, _, vkey) = get_bytes(&server.url, "/log/log.vkey", &[]);
    let vkey = String::from_utf8_lossy(&vkey).trim().to_owned();
    let state = tempfile::tempdir().expect("temp dir");
    let state = state.path().join("audit.state");
    let log_url = format!("{}/log", server.url);
    let out = server.signet(["log", "audit", log_url.as_str(), "--log-key", vkey.as_str(), "--state", state.to_str().expect("utf-8")]);
    assert!(out.status.success(), "signet log audit: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    for f in files_under(&server.data) {
        let bytes = std::fs::read(&f).expect("read");
        assert!(!bytes.windows(11).any(|w| w == b"PRIVATE KEY"), "{} holds a private key", f.display());
    }
    let objects = hsm.list_objects();
    for label in ["signet-master", "signet-ca-root", "signet-ca-issuing", "signet-ca-tsa", "signet-ca-ocsp", "signet-log"] {
        assert!(objects.contains(&format!("label:      {label}")) || objects.contains(label), "{label} is not in the token:\n{objects}");
    }
    // Every private or secret key object: sensitive and never extractable.
    let mut blocks: Vec<String> = Vec::new();
    for line in objects.lines() {
        if line.contains(" Object;") || blocks.is_empty() {
            blocks.push(String::new());
        }
        if let Some(b) = blocks.last_mut() {
            b.push_str(line);
            b.push('\n');
        }
    }
    let keys: Vec<&String> = blocks.iter().filter(|b| b.starts_with("Private Key Object") || b.starts_with("Secret Key Object")).collect();
    assert!(keys.len() >= 6, "the master key, four CA keys and the log's key:\n{objects}");
    for block in keys {
        assert!(block.contains("Access:     sensitive") && block.contains("never extractable"), "not locked in the token:\n{block}");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("signed.pdf");
    std::fs::write(&file, &pdf).expect("write");
    let out = server.signet(["verify".as_ref(), "--trust".as_ref(), server.root_pem().as_os_str(), file.as_os_str()] as [&std::ffi::OsStr; 4]);
    assert_eq!(out.status.code(), Some(0), "signet verify: {}", String::from_utf8_lossy(&out.stdout));
    if let Some(pyhanko) = support::pyhanko() {
        support::pyhanko_validate(&pyhanko, &server.root_pem(), &file, &[]);
    }

    // 3. `admin check` pointed at another (new) token: refused, and nothing is made in it.
    let Some(other) = support::SoftHsm::create("signet-other") else { return };
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_signet"));
    cmd.args(["admin", "check", "--data"]).arg(&server.data).envs(other.env.iter().map(|(k, v)| (k, v))).env_remove("SIGNET_MASTER_KEY_FILE");
    let out = cmd.output().expect("run signet admin check");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no master key"), "{}", String::from_utf8_lossy(&out.stderr));
    let objects = other.list_objects();
    assert!(!objects.contains("signet-"), "the check made keys in the other token:\n{objects}");
}

// --- background jobs ------------------------------------------------------------------------------

/// `GET /api/v1/jobs{query}` with `key`: the status and the JSON answer.
fn jobs_of(server: &Server, key: &str, query: &str) -> (u16, Value) {
    let (status, _, _, body) = get_bytes(&server.url, &format!("/api/v1/jobs{query}"), &[("Authorization", &format!("Bearer {key}"))]);
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// The `notify` job of a contract in a jobs answer.
fn notify_job_of<'a>(answer: &'a Value, contract: &str) -> Option<&'a Value> {
    answer["items"].as_array()?.iter().find(|j| j["kind"] == "notify" && j["contract"] == contract)
}

/// Mail to an SMTP server that is not there yet: the `notify` job's attempts fail and are
/// retried with backoff, administrators see it queued with its last error, and the mail
/// arrives, once, when the SMTP server comes up. Other roles get 403; another organisation's
/// administrators do not see the job.
#[test]
fn mail_that_cannot_be_sent_is_retried_until_smtp_is_up() {
    // The relay is there but refuses mail (421) until it comes up: the port stays ours, so no
    // other test's listener can take it and leave an attempt waiting for a greeting.
    let mail = smtp::SmtpServer::start_down();
    let smtp_url = mail.url();
    let server = Server::start(&[("SIGNET_SMTP_URL", &smtp_url), ("SIGNET_MAIL_FROM", "Signet <signet@example.com>")]);
    let client = server.client();
    let pdf = support::sample_pdf(2);
    let meta = two_signers("Retried mail", ("First", "retry-a@example.com"), ("Second", "retry-b@example.com"), true);
    let c = client.create_contract(&[("c.pdf", &pdf)], &meta).expect("create and send");
    let key = server.creds.api_key.clone();

    // The first attempts fail: the job is queued again, later, with the SMTP error. (An
    // attempt is bounded by the mailer's 20 s timeout: the waits allow for one.)
    let deadline = Instant::now() + Duration::from_secs(60);
    let failed = loop {
        let (status, answer) = jobs_of(&server, &key, "");
        assert_eq!(status, 200, "{answer}");
        if let Some(job) = notify_job_of(&answer, &c.id).filter(|j| j["attempts"].as_u64() >= Some(1) && j["last_error"].is_string() && j["state"] == "queued") {
            break job.clone();
        }
        assert!(Instant::now() < deadline, "no failed attempt seen: {answer}\nserver: {}", server.stderr());
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(failed["last_error"].as_str().unwrap_or("").contains("mail"), "{failed}");
    assert!(failed["run_at"].as_u64() > failed["created_at"].as_u64(), "retried later, not at once: {failed}");
    assert_eq!(failed["organisation"], server.creds.org_id.as_str());
    let (_, queued) = jobs_of(&server, &key, "?state=queued");
    assert!(notify_job_of(&queued, &c.id).is_some(), "the state filter: {queued}");
    assert!(queued["items"].as_array().is_some_and(|items| items.iter().all(|j| j["state"] == "queued")));
    assert!(queued["counts"]["queued"].as_u64() >= Some(1), "{queued}");
    assert_eq!(jobs_of(&server, &key, "?state=later").0, 422);

    // SMTP comes up: the next attempt delivers the link, once.
    mail.set_up(true);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, answer) = jobs_of(&server, &key, "");
        if notify_job_of(&answer, &c.id).is_some_and(|j| j["state"] == "done") {
            break;
        }
        assert!(Instant::now() < deadline, "the job did not finish: {answer}\nserver: {}", server.stderr());
        std::thread::sleep(Duration::from_millis(200));
    }
    let to_first = |m: &smtp::Received| m.rcpt_to.iter().any(|r| r == "retry-a@example.com");
    let received = mail.messages();
    assert_eq!(received.iter().filter(|m| to_first(m)).count(), 1, "the link arrives once");
    assert!(received.iter().filter(|m| to_first(m)).all(|m| support::link_in(&m.text(), &server.url).is_some()), "with the signing link");
    let (_, answer) = jobs_of(&server, &key, "");
    let done = notify_job_of(&answer, &c.id).expect("the job is still listed");
    assert!(done["attempts"].as_u64() >= Some(2) && done["finished_at"].is_u64(), "{done}");
    let outbox = client.outbox(Some(Channel::Email), Some(500)).expect("the outbox");
    assert_eq!(outbox.iter().filter(|m| m.address == "retry-a@example.com").count(), 1, "kept once in the outbox too");

    // Only administrators and owners see the jobs; another organisation sees none of these.
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut r = agent
        .post(&format!("{}/api/v1/api-keys", server.url))
        .header("Authorization", &format!("Bearer {key}"))
        .header("Content-Type", "application/json")
        .send(serde_json::json!({"name": "a sender", "role": "sender"}).to_string())
        .expect("create a sender key");
    let created: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap_or_default()).unwrap_or(Value::Null);
    let sender_key = created["key"].as_str().expect("the new key's secret").to_owned();
    let (status, answer) = jobs_of(&server, &sender_key, "");
    assert_eq!(status, 403, "{answer}");
    assert!(answer["error"]["code"].is_string(), "the error envelope: {answer}");
    assert_eq!(jobs_of(&server, "sk_not_a_key", "").0, 401);
    let other = server.create_org("Other jobs", "other-jobs@example.com");
    let (status, theirs) = jobs_of(&server, &other.api_key, "?limit=100");
    assert_eq!(status, 200);
    let items = theirs["items"].as_array().expect("items");
    assert!(items.iter().all(|j| j["organisation"].is_null()), "only deployment-wide jobs: {theirs}");
    assert!(notify_job_of(&theirs, &c.id).is_none());
}
