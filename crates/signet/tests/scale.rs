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

/// What the servers of one deployment share: the database, the bucket (with the test
/// server's credentials) and a master key file in `keys` (made by the first server).
struct Shared {
    vars: Vec<(&'static str, String)>,
}

impl Shared {
    fn new(database_url: &str, bucket: &S3Bucket, keys: &Path) -> Shared {
        let master = keys.join("master.key").to_str().expect("a UTF-8 path").to_owned();
        let mut vars = vec![("SIGNET_DATABASE_URL", database_url.to_owned()), ("SIGNET_BLOB_URL", bucket.url.clone()), ("SIGNET_MASTER_KEY_FILE", master)];
        vars.extend(S3Bucket::CREDENTIALS.map(|(k, v)| (k, v.to_owned())));
        Shared { vars }
    }

    /// The environment for `Server::start`.
    fn env(&self) -> Vec<(&str, &str)> {
        self.vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }
}

/// Two servers on `env`, started one after the other, both holding the demo organisation's
/// credentials: `creds`, or those of the first when it made the deployment.
fn start_pair(env: &[(&str, &str)], creds: Option<support::Credentials>) -> (Server, Server) {
    let mut a = Server::start(env);
    let mut b = Server::start(env);
    let creds = creds.unwrap_or_else(|| a.creds.clone());
    a.creds = creds.clone();
    b.creds = creds;
    (a, b)
}

#[test]
fn two_servers_share_one_deployment() {
    let Some(pg) = PgSchema::create() else { return };
    let Some(bucket) = S3Bucket::create("scale") else { return };
    let keys = tempfile::tempdir().expect("temp dir");
    let shared = Shared::new(&pg.url, &bucket, keys.path());
    let env = shared.env();

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
    let shared = Shared::new(&pg.url, &bucket, keys.path());
    let env = shared.env();
    let (mut a, mut b) = start_pair(&env, None);
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

/// One client of the load: calls its server, and after a connection failure (its server was
/// killed) the other one, retrying the call there.
struct Failover {
    urls: [String; 2],
    current: std::sync::atomic::AtomicUsize,
    key: String,
}

impl Failover {
    fn call<T>(&self, public: bool, f: impl Fn(&signet_client::Client) -> Result<T, signet_client::ClientError>) -> Result<T, signet_client::ClientError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let at = self.current.load(std::sync::atomic::Ordering::SeqCst);
            let key = (!public).then(|| self.key.clone());
            let client = signet_client::Client::new(self.urls[at].clone(), key).with_timeout(Duration::from_secs(60));
            match f(&client) {
                // No answer: the server is gone (or going); the other one serves the retry.
                Err(e) if e.status().is_none() && Instant::now() < deadline => {
                    eprintln!("{}: {e}; the other server takes over", self.urls[at]);
                    self.current.store(1 - at, std::sync::atomic::Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(100));
                }
                // The database or a dying server: try again.
                Err(e) if e.status() == Some(503) && Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
                // The first attempt is still running — or its server died with the key claimed,
                // which a retry takes over once the claim is stale (a minute).
                Err(e) if e.is(409, "idempotency_in_progress") && Instant::now() < deadline + Duration::from_secs(90) => {
                    std::thread::sleep(Duration::from_millis(500));
                }
                other => return other,
            }
        }
    }

    /// Waits for a new message to `address` in which `pick` finds something.
    fn wait_message(&self, address: &str, seen: &std::collections::HashSet<String>, what: &str, pick: impl Fn(&signet_client::OutboxMessage) -> Option<String>) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let messages = self.call(false, |c| c.outbox(Some(Channel::Email), Some(500))).expect("the outbox");
            if let Some(found) = messages.iter().filter(|m| m.address == address && !seen.contains(&m.id)).find_map(&pick) {
                return found;
            }
            assert!(Instant::now() < deadline, "no {what} for {address} within 60 s: a message was lost");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn seen(&self, address: &str) -> std::collections::HashSet<String> {
        self.call(false, |c| c.outbox(Some(Channel::Email), Some(500))).expect("the outbox").into_iter().filter(|m| m.address == address).map(|m| m.id).collect()
    }
}

/// The token of the signing link (`…/s/TOKEN`) in a message.
fn link_token(body: &str) -> Option<String> {
    let at = body.find("/s/")? + 3;
    let token: String = body[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    (token.len() >= 20).then_some(token)
}

fn six_digits(text: &str) -> Option<String> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(5))
        .find(|&i| b[i..i + 6].iter().all(u8::is_ascii_digit) && (i == 0 || !b[i - 1].is_ascii_digit()) && b.get(i + 6).is_none_or(|c| !c.is_ascii_digit()))
        .map(|i| text[i..i + 6].to_owned())
}

/// Two servers under a signing load; one is killed with SIGKILL midway. Afterwards every
/// acknowledged signing is complete and its document downloadable, every message the
/// contracts called for arrived (none lost; the dead server's jobs are taken over), nothing
/// happened twice (one `signed` event per signer), and the log is consistent with the last
/// checkpoint from before the kill (`signet log audit`, run before and after).
#[test]
fn a_server_killed_under_load_loses_nothing() {
    let Some(pg) = PgSchema::create() else { return };
    let Some(bucket) = S3Bucket::create("kill") else { return };
    let keys = tempfile::tempdir().expect("temp dir");
    let shared = Shared::new(&pg.url, &bucket, keys.path());
    let env = shared.env();
    let (mut a, b) = start_pair(&env, None);
    let pdf = support::sample_pdf(1);
    let (vkey_status, vkey) = get(&format!("{}/log/log.vkey", b.url));
    assert_eq!(vkey_status, 200);
    let vkey = String::from_utf8_lossy(&vkey).trim().to_owned();
    let state = keys.path().join("audit.state");
    let audit = |server: &Server| {
        let log = format!("{}/log", b.url);
        let out = server.signet(["log", "audit", log.as_str(), "--log-key", vkey.as_str(), "--state", state.to_str().expect("utf-8")]);
        assert!(out.status.success(), "signet log audit: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    };

    const CONTRACTS: usize = 12;
    const CLIENTS: usize = 4;
    let completed = std::sync::atomic::AtomicUsize::new(0);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done: std::sync::Mutex<Vec<(String, [String; 2])>> = std::sync::Mutex::new(Vec::new());
    let run = std::process::id();
    std::thread::scope(|s| {
        for k in 0..CLIENTS {
            let urls = if k % 2 == 0 { [a.url.clone(), b.url.clone()] } else { [b.url.clone(), a.url.clone()] };
            let client = Failover { urls, current: std::sync::atomic::AtomicUsize::new(0), key: a.creds.api_key.clone() };
            let (next, completed, done, pdf) = (&next, &completed, &done, &pdf);
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if i >= CONTRACTS {
                        return;
                    }
                    let signers = [format!("kill-{run}-{i}-x@example.com"), format!("kill-{run}-{i}-y@example.com")];
                    let mut meta = ContractMetadata::new(format!("Under load {i}"));
                    meta.recipients.push(NewRecipient::signer("Xu", signers[0].as_str(), 1));
                    meta.recipients.push(NewRecipient::signer("Yang", signers[1].as_str(), 2));
                    meta.fields.push(NewField::signature(signers[0].as_str(), 1, RECT_1));
                    meta.fields.push(NewField::signature(signers[1].as_str(), 1, RECT_2));
                    meta.send = true;
                    let seen: Vec<_> = signers.iter().map(|s| client.seen(s)).collect();
                    let key = format!("kill-{run}-{i}");
                    let c = client.call(false, |api| api.create_contract_idempotent(&[("load.pdf", pdf)], &meta, &key)).expect("create").contract;
                    for (n, who) in signers.iter().enumerate() {
                        let token = client.wait_message(who, &seen[n], "signing link", |m| link_token(&m.body));
                        for attempt in 1.. {
                            let before = client.seen(who);
                            client.call(true, |p| p.request_code(&token, Channel::Email)).expect("a code");
                            let code = client.wait_message(who, &before, "one-time code", |m| if m.body.contains("/s/") { None } else { six_digits(&m.body) });
                            match client.call(true, |p| p.sign(&token, &SignRequest::typed(code.clone(), if n == 0 { "Xu" } else { "Yang" }))) {
                                Ok(_) => break,
                                // Signed on the dying server, the answer lost: the retry finds it done.
                                Err(e) if e.is(409, "already_done") => break,
                                // The dying server used the code up but did not sign (nothing was
                                // acknowledged): the signer asks for a new code, as on the page.
                                Err(e) if e.is(422, "wrong_code") && attempt < 3 => {}
                                Err(e) => panic!("contract {}: signer {who}: {e}", c.id),
                            }
                        }
                    }
                    completed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    done.lock().expect("lock").push((c.id, signers));
                }
            });
        }
        // A third of the way through: the last checkpoint is audited, then A dies.
        let waiting = Instant::now();
        while completed.load(std::sync::atomic::Ordering::SeqCst) < CONTRACTS / 3 {
            assert!(waiting.elapsed() < Duration::from_secs(180), "the load made no progress (a client failed: see its panic above)");
            std::thread::sleep(Duration::from_millis(50));
        }
        audit(&b);
        a.kill();
    });
    assert!(!a.is_running());

    let done = done.into_inner().expect("lock");
    assert_eq!(done.len(), CONTRACTS, "every contract went through");
    let api = b.client();
    for (id, signers) in &done {
        let c = api.contract(id).expect("the contract");
        assert_eq!(c.status, Status::Completed, "{id}");
        let pdf = api.document(id, 1).expect("the signed PDF, from the surviving server");
        assert!(pdf.starts_with(b"%PDF-"));
        let events = api.events(id).expect("events");
        for who in signers {
            let signed = events.iter().filter(|e| e.kind == "signed" && e.recipient_email.as_deref() == Some(who.as_str())).count();
            assert_eq!(signed, 1, "{id}: {who} signed once, not {signed} times");
        }
        assert_eq!(events.iter().filter(|e| e.kind == "completed").count(), 1, "{id}: completed once");
        // The completion mails (queued as jobs, some on the killed server) all arrive.
        for who in signers {
            eventually(Duration::from_secs(60), "the completion mail", || {
                let n = api.outbox(Some(Channel::Email), Some(500)).map_err(|e| e.to_string())?.iter().filter(|m| &m.address == who && m.body.contains("/document")).count();
                if n >= 1 { Ok(()) } else { Err(format!("{who}: no completion mail for {id}")) }
            });
        }
    }
    // Every event reaches the log, and the log is consistent with the audited checkpoint. An
    // event A committed but did not append before it died is appended by B's evidence sweep,
    // which leaves events alone for their first minute (an append may still be in flight) and
    // runs every 15 s: so up to 75 s after the kill, plus the sweep's own time.
    eventually(Duration::from_secs(120), "every event in the log", || {
        let missing: Vec<String> = done.iter().flat_map(|(id, _)| api.events(id).unwrap_or_default().into_iter().filter(|e| e.log_index.is_none()).map(move |e| format!("{id}:{}", e.kind))).collect();
        if missing.is_empty() { Ok(()) } else { Err(missing) }
    });
    std::thread::sleep(Duration::from_secs(2));
    audit(&b);
}

/// A `signet witness serve` process, killed when dropped.
struct Witness {
    child: std::process::Child,
    url: String,
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Witness {
    /// Serves the witness in `dir` for the log `log_key` on `addr` (`127.0.0.1:0` for any
    /// port), once it says where it listens.
    fn start(dir: &Path, log_key: &str, addr: &str) -> Witness {
        use std::io::BufRead as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_signet"))
            .args(["witness", "serve", "--dir"])
            .arg(dir)
            .args(["--log-key", log_key, "--addr", addr])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start signet witness serve");
        let mut line = String::new();
        let mut out = std::io::BufReader::new(child.stdout.take().expect("its output"));
        out.read_line(&mut line).expect("its banner");
        let at = line.find("http://").unwrap_or_else(|| panic!("no URL in {line:?}"));
        let url = line[at..].split_whitespace().next().unwrap_or_default().to_owned();
        // Keep reading, so that the pipe never fills.
        std::thread::spawn(move || for _ in out.lines() {});
        Witness { child, url }
    }

    fn addr(&self) -> &str {
        self.url.trim_start_matches("http://")
    }
}

/// The log's checkpoint as `server` publishes it: its size and whether it carries a
/// cosignature of `witness_key` that verifies.
fn published_checkpoint(server: &str, witness_key: &str) -> (u64, bool) {
    let (status, body) = get(&format!("{server}/log/checkpoint"));
    if status == 404 {
        return (0, false);
    }
    assert_eq!(status, 200);
    let note = signet_ledger::note::Note::parse(&body).expect("a signed note");
    let size = note.text().lines().nth(1).and_then(|l| l.parse().ok()).expect("a size line");
    let key = signet_ledger::VerifierKey::parse(witness_key).expect("the witness's key").to_cosignature_v1();
    let cosigned = note
        .signatures()
        .iter()
        .any(|s| s.name == key.name() && s.key_id == key.key_id() && key.verify(note.text().as_bytes(), &s.signature).is_ok());
    (size, cosigned)
}

/// Checkpoints go to the log's witness through the job queue: any server may run the
/// `witness` job, the sequencer publishes the cosignature, both servers serve it. While the
/// witness is down the job fails, visibly, and is retried; when it is back, the newest
/// checkpoint is cosigned.
#[test]
fn witnesses_cosign_checkpoints_through_the_job_queue() {
    let Some(pg) = PgSchema::create() else { return };
    let Some(bucket) = S3Bucket::create("witness") else { return };
    let keys = tempfile::tempdir().expect("temp dir");
    let shared = Shared::new(&pg.url, &bucket, keys.path());

    // The deployment is made first: its log key is what the witness is told to follow.
    let first = Server::start(&shared.env());
    let log_key = String::from_utf8_lossy(&get(&format!("{}/log/log.vkey", first.url)).1).trim().to_owned();
    let creds = first.creds.clone();
    drop(first);
    let wdir = tempfile::tempdir().expect("temp dir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(["witness", "init", "--dir"])
        .arg(wdir.path())
        .args(["--name", "witness.example/signet-test"])
        .output()
        .expect("signet witness init");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let witness_key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let witness = Witness::start(wdir.path(), &log_key, "127.0.0.1:0");

    let configured = format!("{} {witness_key}", witness.url);
    let mut env = shared.env();
    env.push(("SIGNET_LOG_WITNESSES", &configured));
    let (a, b) = start_pair(&env, Some(creds));

    // Activity grows the log; the newest checkpoint gets the witness's cosignature, served by
    // both servers.
    let pdf = support::sample_pdf(1);
    let draft = |title: &str| {
        let mut meta = ContractMetadata::new(title);
        meta.recipients.push(NewRecipient::signer("Wu", "witnessed@example.com", 1));
        a.client().create_contract(&[("w.pdf", &pdf)], &meta).expect("create a draft")
    };
    draft("Witnessed 见证");
    let grown = eventually(Duration::from_secs(30), "a checkpoint covering the draft", || {
        let (size, _) = published_checkpoint(&a.url, &witness_key);
        if size > 0 { Ok(size) } else { Err(size) }
    });
    for server in [&a, &b] {
        eventually(Duration::from_secs(30), "the cosigned checkpoint", || {
            let (size, cosigned) = published_checkpoint(&server.url, &witness_key);
            if size >= grown && cosigned { Ok(()) } else { Err((size, cosigned)) }
        });
    }
    let jobs = |server: &Server, query: &str| -> serde_json::Value {
        let key = server.creds.api_key.clone();
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut r = agent.get(&format!("{}/api/v1/jobs{query}", server.url)).header("Authorization", &format!("Bearer {key}")).call().expect("GET jobs");
        serde_json::from_str(&r.body_mut().read_to_string().unwrap_or_default()).unwrap_or_default()
    };
    let witness_jobs = |answer: &serde_json::Value, state: &str| -> usize {
        answer["items"].as_array().map_or(0, |items| items.iter().filter(|j| j["kind"] == "witness" && j["state"] == state).count())
    };
    assert!(witness_jobs(&jobs(&a, "?limit=100"), "done") >= 1, "a witness job ran: {}", jobs(&a, "?limit=100"));

    // The witness goes down: the newest checkpoint's job fails and is queued again with the
    // error; the checkpoint is published without the cosignature meanwhile.
    let addr = witness.addr().to_owned();
    drop(witness);
    draft("While the witness is down");
    eventually(Duration::from_secs(30), "a witness job failing", || {
        let answer = jobs(&b, "?limit=100");
        let failing = answer["items"].as_array().and_then(|items| {
            items.iter().find(|j| j["kind"] == "witness" && j["state"] == "queued" && j["attempts"].as_u64() >= Some(1) && j["last_error"].as_str().is_some_and(|e| e.contains(&addr)))
        });
        failing.map(drop).ok_or(answer)
    });
    let (behind, cosigned) = published_checkpoint(&a.url, &witness_key);
    assert!(behind > grown && !cosigned, "the newer checkpoint is out, not cosigned yet");

    // Back on the same address: a retry cosigns the newest checkpoint.
    let _witness = Witness::start(wdir.path(), &log_key, &addr);
    eventually(Duration::from_secs(60), "the newest checkpoint cosigned after the witness came back", || {
        let (size, cosigned) = published_checkpoint(&b.url, &witness_key);
        if size >= behind && cosigned { Ok(()) } else { Err((size, cosigned)) }
    });
}
