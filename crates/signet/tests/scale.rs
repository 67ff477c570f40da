//! Several servers, one deployment: `signet serve` processes on one PostgreSQL database and
//! one S3-compatible bucket (the moto server `.ci/run` starts), sharing a master key file.
//! They make the deployment once (also when started together), serve the same root and log,
//! and any request can go to any of them.

#[path = "platform/support.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use signet_client::{Channel, ContractMetadata, NewField, NewRecipient, SignRequest, Status, token_from_link};
use support::{Outbox, PgSchema, S3Bucket, Server};

const RECT_1: [f64; 4] = [60.0, 60.0, 260.0, 120.0];
const RECT_2: [f64; 4] = [320.0, 60.0, 520.0, 120.0];

fn get(url: &str) -> (u16, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(30))).http_status_as_error(false).build().into();
    let mut r = agent.get(url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    (r.status().as_u16(), r.body_mut().with_config().limit(64 << 20).read_to_vec().unwrap_or_default())
}

/// The OCSP status `server` gives for the certificate in `cert_pem` (issued by the
/// deployment's issuing CA, read from `data`).
fn ocsp_status(server: &str, data: &Path, cert_pem: &[u8]) -> signet_pki::ocsp::CertStatus {
    let issuing = signet_pki::pem::certs_from_pem_or_der(&std::fs::read(data.join("ca/issuing.pem")).expect("issuing.pem")).expect("a certificate")[0].clone();
    let cert = signet_pki::pem::certs_from_pem_or_der(cert_pem).expect("a certificate")[0].clone();
    let id = signet_pki::ocsp::cert_id(&cert, &issuing, signet_pki::oid::ID_SHA1).expect("a CertID");
    let req = signet_pki::ocsp::build_request(&[id], None).expect("an OCSP request");
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(30))).build().into();
    let der = agent
        .post(&format!("{server}/ca/ocsp"))
        .header("Content-Type", "application/ocsp-request")
        .send(&req[..])
        .expect("POST /ca/ocsp")
        .body_mut()
        .read_to_vec()
        .expect("the OCSP response");
    let parsed = signet_pki::ocsp::parse_response(&der).expect("an OCSP response");
    parsed.find(&cert, &issuing).expect("a status for the certificate").status
}

#[test]
fn two_servers_share_one_deployment() {
    let Some(pg) = PgSchema::create() else { return };
    let Some(bucket) = S3Bucket::create("scale") else { return };
    let keys = tempfile::tempdir().expect("temp dir");
    let master = keys.path().join("master.key");
    let master = master.to_str().expect("a UTF-8 path");
    let [(k1, v1), (k2, v2)] = S3Bucket::CREDENTIALS;
    let env = [("SIGNET_DATABASE_URL", pg.url.as_str()), ("SIGNET_BLOB_URL", bucket.url.as_str()), ("SIGNET_MASTER_KEY_FILE", master), (k1, v1), (k2, v2)];

    // Started together: the deployment (CA, log key, demo organisation, master key) is made
    // exactly once.
    let (mut a, mut b) = std::thread::scope(|s| {
        let a = s.spawn(|| Server::start(&env));
        let b = s.spawn(|| Server::start(&env));
        (a.join().expect("server A"), b.join().expect("server B"))
    });
    let made: Vec<&Server> = [&a, &b].into_iter().filter(|s| s.data.join("demo-credentials.json").exists()).collect();
    assert_eq!(made.len(), 1, "exactly one server made the demo organisation");
    let creds = made[0].creds.clone();
    a.creds = creds.clone();
    b.creds = creds.clone();
    let orgs = a.client().list_contracts(None, None, None, None).expect("the demo organisation's key works on A");
    assert!(orgs.items.is_empty());
    b.client().list_contracts(None, None, None, None).expect("and on B");

    // One root, one log key, one log.
    let (sa, root_a) = get(&format!("{}/api/v1/ca/root.pem", a.url));
    let (sb, root_b) = get(&format!("{}/api/v1/ca/root.pem", b.url));
    assert_eq!((sa, sb), (200, 200));
    assert_eq!(root_a, root_b, "both serve the deployment's root");
    assert_eq!(get(&format!("{}/log/log.vkey", a.url)), get(&format!("{}/log/log.vkey", b.url)), "one log key");

    // Exactly one of them sequences the evidence log (a lease in PostgreSQL), and says so.
    let sequencers = eventually(Duration::from_secs(15), "one sequencer", || {
        let flags: Vec<bool> = [&a, &b]
            .iter()
            .map(|s| serde_json::from_slice::<serde_json::Value>(&get(&format!("{}/healthz", s.url)).1).ok().and_then(|h| h["log"]["sequencer"].as_bool()).unwrap_or(false))
            .collect();
        if flags.iter().filter(|f| **f).count() == 1 { Ok(flags) } else { Err(flags) }
    });
    let metrics = String::from_utf8_lossy(&get(&format!("{}/metrics", if sequencers[0] { &a.url } else { &b.url })).1).into_owned();
    assert!(metrics.contains("signet_log_is_sequencer 1"), "{metrics}");

    // A contract made on A with an Idempotency-Key; the retry goes to B and gets the same.
    let pdf = support::sample_pdf(2);
    let (x, y) = ("scale-x@example.com", "scale-y@example.com");
    let mut meta = ContractMetadata::new("Two servers 两台服务器");
    meta.recipients.push(NewRecipient::signer("Xu", x, 1));
    meta.recipients.push(NewRecipient::signer("Yang", y, 2));
    meta.fields.push(NewField::signature(x, 1, RECT_1));
    meta.fields.push(NewField::signature(y, 2, RECT_2));
    meta.send = true;
    let mailbox = Outbox(a.client());
    let before = support::mark(&mailbox);
    let first = a.client().create_contract_idempotent(&[("two.pdf", &pdf)], &meta, "scale-create-1").expect("create on A");
    let again = b.client().create_contract_idempotent(&[("two.pdf", &pdf)], &meta, "scale-create-1").expect("the retry on B");
    assert!(!first.replayed && again.replayed, "B answers the retry from the stored first answer");
    assert_eq!(again.contract, first.contract, "the retry on the other server is answered with the first result");
    let c = first.contract;
    assert_eq!(a.client().list_contracts(None, None, None, None).expect("list").items.len(), 1, "one contract, not two");

    // X: link from A's mail, code asked on B, signed on A. Y: everything on B.
    let token_x = token_from_link(&support::wait_link(&mailbox, &before, x, &a.url)).expect("X's token").to_owned();
    let before_code = support::mark(&mailbox);
    b.client_with(None).request_code(&token_x, Channel::Email).expect("a code through B");
    let code = support::wait_code(&mailbox, &before_code, x, &a.url);
    let before_y = support::mark(&mailbox);
    a.client_with(None).sign(&token_x, &SignRequest::typed(code, "Xu")).expect("X signs on A");
    let token_y = token_from_link(&support::wait_link(&mailbox, &before_y, y, &a.url)).expect("Y's token").to_owned();
    let before_code = support::mark(&mailbox);
    b.client_with(None).request_code(&token_y, Channel::Email).expect("Y's code through B");
    let code = support::wait_code(&mailbox, &before_code, y, &a.url);
    let done = b.client_with(None).sign(&token_y, &SignRequest::typed(code, "Yang")).expect("Y signs on B");
    assert_eq!(done.status, Status::Completed);
    let from_a = a.client().document(&c.id, 1).expect("the signed PDF from A");
    let from_b = b.client().document(&c.id, 1).expect("the signed PDF from B");
    assert_eq!(from_a, from_b, "one document, wherever it is read");

    // Each server's OCSP responder knows the certificates the other issued.
    let issued_on = |s: &Server| -> Vec<Vec<u8>> {
        let dir = s.data.join("ca/issued");
        let mut pems: Vec<_> = std::fs::read_dir(&dir).expect("issued/").filter_map(|e| e.ok()).map(|e| e.path()).collect();
        pems.sort();
        pems.iter().map(|p| std::fs::read(p).expect("a certificate")).collect()
    };
    let (only_a, only_b): (Vec<_>, Vec<_>) = (issued_on(&a), issued_on(&b));
    let x_cert = only_a.iter().find(|p| !only_b.contains(p)).expect("X's event certificate, issued on A");
    let y_cert = only_b.iter().find(|p| !only_a.contains(p)).expect("Y's event certificate, issued on B");
    use signet_pki::ocsp::CertStatus;
    assert_eq!(ocsp_status(&b.url, &b.data, x_cert), CertStatus::Good, "B vouches for A's certificate");
    assert_eq!(ocsp_status(&a.url, &a.data, y_cert), CertStatus::Good, "A vouches for B's certificate");

    // The signed PDF validates with pyHanko (fetching revocation data from the deployment).
    let file = keys.path().join("signed.pdf");
    std::fs::write(&file, &from_b).expect("write the signed PDF");
    if let Some(pyhanko) = support::pyhanko() {
        let root = keys.path().join("root.pem");
        std::fs::write(&root, &root_a).expect("write the root");
        support::pyhanko_validate(&pyhanko, &root, &file, &[]);
    }

    // Every event is in the one log, whose checkpoint both servers publish.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let events = a.client().events(&c.id).expect("events");
        let (ca, cb) = (get(&format!("{}/log/checkpoint", a.url)), get(&format!("{}/log/checkpoint", b.url)));
        if events.iter().all(|e| e.log_index.is_some()) && ca.0 == 200 && ca == cb {
            let size: u64 = String::from_utf8_lossy(&ca.1).lines().nth(1).and_then(|l| l.parse().ok()).unwrap_or(0);
            let highest = events.iter().filter_map(|e| e.log_index).max().unwrap_or(0);
            if size > highest {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the events did not all reach one checkpoint both servers serve within 30 s");
        std::thread::sleep(Duration::from_millis(200));
    }

    // A server with another master key is stopped at start, with what to do.
    let other = keys.path().join("other.key");
    let data = tempfile::tempdir().expect("temp dir");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_signet"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .envs(env.iter().filter(|(k, _)| *k != "SIGNET_MASTER_KEY_FILE").copied())
        .env("SIGNET_MASTER_KEY_FILE", &other);
    let out = support::run(cmd, Duration::from_secs(60));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && said.contains("SIGNET_MASTER_KEY_FILE"), "{}: {said}", out.status);
}

/// Calls `f` until it answers `Ok` (at most `within`); panics with the last error.
fn eventually<T, E: std::fmt::Debug>(within: Duration, what: &str, mut f: impl FnMut() -> Result<T, E>) -> T {
    let deadline = Instant::now() + within;
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) if Instant::now() > deadline => panic!("{what} within {within:?}: {e:?}"),
            Err(_) => std::thread::sleep(Duration::from_millis(250)),
        }
    }
}

/// PostgreSQL goes away under two servers and comes back: meanwhile requests fail with 503
/// `unavailable` (and `Retry-After`), no server exits, and both recover by themselves.
#[test]
fn servers_ride_out_a_database_restart() {
    let Some(pg) = support::PrivatePg::start() else { return };
    let Some(bucket) = S3Bucket::create("restart") else { return };
    let keys = tempfile::tempdir().expect("temp dir");
    let master = keys.path().join("master.key");
    let master = master.to_str().expect("a UTF-8 path");
    let [(k1, v1), (k2, v2)] = S3Bucket::CREDENTIALS;
    let env = [("SIGNET_DATABASE_URL", pg.url.as_str()), ("SIGNET_BLOB_URL", bucket.url.as_str()), ("SIGNET_MASTER_KEY_FILE", master), (k1, v1), (k2, v2)];
    let mut a = Server::start(&env);
    let mut b = Server::start(&env);
    b.creds = a.creds.clone();
    let pdf = support::sample_pdf(1);
    let meta = |title: &str| {
        let mut m = ContractMetadata::new(title);
        m.recipients.push(NewRecipient::signer("Xu", "restart-x@example.com", 1));
        m.fields.push(NewField::signature("restart-x@example.com", 1, RECT_1));
        m.send = true;
        m
    };
    a.client().create_contract(&[("before.pdf", &pdf)], &meta("Before the restart")).expect("a contract before");

    pg.down();
    for s in [&a, &b] {
        let e = s.client().list_contracts(None, None, None, None).expect_err("no database, no list");
        assert!(e.is(503, "unavailable"), "{}: {e}", s.url);
        let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(30))).http_status_as_error(false).build().into();
        let r = agent.get(&format!("{}/api/v1/contracts", s.url)).header("Authorization", &format!("Bearer {}", a.creds.api_key)).call().expect("an answer");
        assert_eq!(r.status().as_u16(), 503);
        assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
        assert_eq!(get(&format!("{}/healthz", s.url)).0, 503, "health says so");
    }
    assert!(a.is_running() && b.is_running(), "no server exits while the database is away");

    pg.up();
    for s in [&a, &b] {
        eventually(Duration::from_secs(30), "the server answers again", || s.client().list_contracts(None, None, None, None));
    }
    let after = eventually(Duration::from_secs(30), "a contract after the restart", || b.client().create_contract(&[("after.pdf", &pdf)], &meta("After the restart")));
    assert_eq!(after.status, Status::Sent);
    assert_eq!(a.client().list_contracts(None, None, None, None).expect("list").items.len(), 2);
    // The log goes on: every event of the new contract gets into it.
    eventually(Duration::from_secs(30), "the new contract's events in the log", || {
        let events = a.client().events(&after.id).map_err(|e| e.to_string())?;
        if events.iter().all(|e| e.log_index.is_some()) { Ok(()) } else { Err(format!("{events:?}")) }
    });
    assert!(a.is_running() && b.is_running());
}
