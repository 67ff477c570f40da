//! Backup and restore, as `docs/backup.md` describes them: a deployment on a PostgreSQL
//! database of the test's own, an S3-compatible bucket and a master key file; `pg_dump -Fc`
//! restored into a fresh database, `signet admin copy-objects` into a fresh bucket; then
//! `signet admin check` proves the restore (every document opens and matches, every evidence
//! proof verifies), a server on it serves the same signed PDF, and the check catches a
//! changed object and refuses a wrong master key.

#[path = "platform/support.rs"]
mod support;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use signet_client::{Channel, ContractMetadata, NewField, NewRecipient, SignRequest, Status, token_from_link};
use support::{Outbox, PrivatePg, S3Bucket, Server};

const RECT: [f64; 4] = [60.0, 60.0, 260.0, 120.0];
const TIMEOUT: Duration = Duration::from_secs(120);

/// A PostgreSQL client tool (`pg_dump`, `pg_restore`, `psql`) of the newest installed version.
fn pg_tool(name: &str) -> PathBuf {
    std::fs::read_dir("/usr/lib/postgresql")
        .expect("/usr/lib/postgresql (PrivatePg found it)")
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin").join(name))
        .filter(|p| p.is_file())
        .max()
        .unwrap_or_else(|| panic!("{name} is not installed"))
}

/// Runs a tool and insists that it succeeded.
fn ok(mut cmd: Command, what: &str) -> Output {
    cmd.env_remove("PGPASSWORD");
    let out = support::run(cmd, TIMEOUT);
    assert!(out.status.success(), "{what}: {}\n{}{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

/// `URL` of the private server with another database name.
fn database(base: &str, name: &str) -> String {
    let (server, _) = base.rsplit_once('/').expect("a database URL");
    format!("{server}/{name}")
}

fn create_database(base: &str, name: &str) -> String {
    let mut psql = Command::new(pg_tool("psql"));
    psql.args(["-v", "ON_ERROR_STOP=1", "-d", base, "-c", &format!("CREATE DATABASE {name}")]);
    ok(psql, "psql CREATE DATABASE");
    database(base, name)
}

/// `signet ARGS` with exactly `env` among the `SIGNET_…` and AWS variables.
fn signet(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_signet"));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if (k.starts_with("SIGNET_") && k != "SIGNET_FONT") || k.starts_with("AWS_") {
            cmd.env_remove(&k);
        }
    }
    cmd.args(args).envs(env.iter().copied());
    support::run(cmd, TIMEOUT)
}

fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

fn describe(out: &Output) -> String {
    format!("{}\nstdout:\n{}\nstderr:\n{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The size line of a checkpoint note.
fn checkpoint_size(note: &[u8]) -> u64 {
    String::from_utf8_lossy(note).lines().nth(1).and_then(|l| l.parse().ok()).unwrap_or(0)
}

fn get(url: &str) -> (u16, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(30))).http_status_as_error(false).build().into();
    let mut r = agent.get(url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    (r.status().as_u16(), r.body_mut().with_config().limit(64 << 20).read_to_vec().unwrap_or_default())
}

/// Rewrites one object of `bucket` with one byte flipped.
fn flip_a_byte(bucket: &S3Bucket, key: &str) {
    use object_store::ObjectStoreExt as _;
    let creds = S3Bucket::CREDENTIALS.map(|(_, v)| v.to_owned());
    let (store, _) = signet_objects::connect(&bucket.url, Some((creds[0].clone(), creds[1].clone()))).expect("connect to the bucket");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let path = object_store::path::Path::from(key);
        let mut bytes = store.get(&path).await.expect("the object is there").bytes().await.expect("its bytes").to_vec();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        store.put(&path, bytes.into()).await.expect("rewrite the object");
    });
}

#[test]
fn a_restored_database_and_bucket_check_and_serve_the_same_documents() {
    let Some(pg) = PrivatePg::start() else { return };
    let Some(live_bucket) = S3Bucket::create("backup-live") else { return };
    let restored_bucket = S3Bucket::create("backup-restored").expect("a second bucket on the same S3 server");
    let dir = tempfile::tempdir().expect("temp dir");
    let master = dir.path().join("master.key");
    let master = master.to_str().expect("a UTF-8 path");
    let live_db = create_database(&pg.url, "signet_live");
    let [(k1, v1), (k2, v2)] = S3Bucket::CREDENTIALS;
    let live_env = [("SIGNET_DATABASE_URL", live_db.as_str()), ("SIGNET_BLOB_URL", live_bucket.url.as_str()), ("SIGNET_MASTER_KEY_FILE", master), (k1, v1), (k2, v2)];
    let server = Server::start(&live_env);
    let creds = server.creds.clone();
    let client = server.client();
    let mailbox = Outbox(server.client());

    // Two contracts: one signed to completion, one sent and waiting.
    let pdf = support::sample_pdf(2);
    let contract = |title: &str, signer: &str| {
        let mut meta = ContractMetadata::new(title);
        meta.recipients.push(NewRecipient::signer("Signer 签署人", signer, 1));
        meta.fields.push(NewField::signature(signer, 1, RECT));
        meta.send = true;
        client.create_contract(&[("contract.pdf", &pdf)], &meta).expect("create and send")
    };
    let (x, y) = ("backup-x@example.com", "backup-y@example.com");
    let before = support::mark(&mailbox);
    let done = contract("Completed 已完成", x);
    let token = token_from_link(&support::wait_link(&mailbox, &before, x, &server.url)).expect("X's token").to_owned();
    let before_code = support::mark(&mailbox);
    server.client_with(None).request_code(&token, Channel::Email).expect("a code");
    let code = support::wait_code(&mailbox, &before_code, x, &server.url);
    let signed = server.client_with(None).sign(&token, &SignRequest::typed(code, "X")).expect("X signs");
    assert_eq!(signed.status, Status::Completed);
    let waiting = contract("Sent 已发送", y);
    let signed_pdf = client.document(&done.id, 1).expect("the signed PDF");
    assert!(signed_pdf.starts_with(&pdf) && signed_pdf.len() > pdf.len());

    // Every event in the log and under a checkpoint before the backup is taken.
    let deadline = Instant::now() + Duration::from_secs(60);
    let events = loop {
        let events: Vec<_> = [&done.id, &waiting.id].iter().flat_map(|id| client.events(id).expect("events")).collect();
        let (status, note) = get(&format!("{}/log/checkpoint", server.url));
        let top = events.iter().filter_map(|e| e.log_index).max();
        if events.iter().all(|e| e.log_index.is_some()) && status == 200 && top.is_some_and(|t| t < checkpoint_size(&note)) {
            break events;
        }
        assert!(Instant::now() < deadline, "events not covered by a checkpoint within 60 s: {events:?}\n{}", server.stderr());
        std::thread::sleep(Duration::from_millis(200));
    };

    // The backup: the database first, then the objects.
    let dump = dir.path().join("signet.dump");
    let mut pg_dump = Command::new(pg_tool("pg_dump"));
    pg_dump.args(["-Fc", "-d", &live_db, "-f"]).arg(&dump);
    ok(pg_dump, "pg_dump -Fc");
    let copy_env = [(k1, v1), (k2, v2)];
    let out = signet(&["admin", "copy-objects", "--from", &live_bucket.url, "--to", &restored_bucket.url, "--json"], &copy_env);
    assert_eq!(out.status.code(), Some(0), "copy-objects: {}", describe(&out));
    let copied = json_of(&out);
    let live_objects = live_bucket.objects();
    assert_eq!(copied["objects"], live_objects.len() as u64, "{copied}");
    assert_eq!(copied["copied"], live_objects.len() as u64, "{copied}");
    assert_eq!(copied["skipped"], 0, "{copied}");
    let mut restored_objects = restored_bucket.objects();
    let mut expected = live_objects.clone();
    restored_objects.sort();
    expected.sort();
    assert_eq!(restored_objects, expected, "the destination holds the same objects, byte for byte");
    // Again: nothing to copy.
    let out = signet(&["admin", "copy-objects", "--from", &live_bucket.url, "--to", &restored_bucket.url, "--json"], &copy_env);
    assert_eq!(out.status.code(), Some(0), "copy-objects again: {}", describe(&out));
    let again = json_of(&out);
    assert_eq!((again["copied"].as_u64(), again["skipped"].as_u64()), (Some(0), Some(live_objects.len() as u64)), "{again}");

    // The restore: a fresh database from the dump.
    let restored_db = create_database(&pg.url, "restored");
    let mut pg_restore = Command::new(pg_tool("pg_restore"));
    pg_restore.args(["--no-owner", "-d", &restored_db]).arg(&dump);
    ok(pg_restore, "pg_restore");

    // `signet admin check` on the restored database and bucket, with the same master key and
    // a fresh data directory.
    let check_data = dir.path().join("check-data");
    let check_data = check_data.to_str().expect("a UTF-8 path");
    let restored_env =
        [("SIGNET_DATABASE_URL", restored_db.as_str()), ("SIGNET_BLOB_URL", restored_bucket.url.as_str()), ("SIGNET_MASTER_KEY_FILE", master), (k1, v1), (k2, v2)];
    let out = signet(&["admin", "check", "--data", check_data, "--json"], &restored_env);
    assert_eq!(out.status.code(), Some(0), "check of the restore: {}", describe(&out));
    let report = json_of(&out);
    assert_eq!(report["format"], "signet.admin-check/v1");
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["organisations"], 1, "{report}");
    assert_eq!(report["contracts"], 2, "{report}");
    assert_eq!(report["documents"], 2, "{report}");
    assert_eq!(report["blobs"], 3, "two originals and one signed version: {report}");
    assert_eq!(report["events"], events.len() as u64, "{report}");
    assert_eq!(report["proofs"], events.len() as u64, "every event's proof: {report}");
    assert_eq!(report["events_not_logged"], 0, "{report}");
    assert_eq!(report["problems"], serde_json::json!([]), "{report}");
    let out = signet(&["admin", "check", "--data", check_data], &restored_env);
    assert_eq!(out.status.code(), Some(0), "the text form: {}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("contracts: 2"), "{}", describe(&out));

    // A server on the restore serves the completed contract's signed PDF unchanged.
    let mut restored = Server::start(&restored_env);
    restored.creds = creds.clone();
    assert_eq!(restored.client().document(&done.id, 1).expect("the signed PDF from the restore"), signed_pdf);
    assert_eq!(restored.client().contract(&waiting.id).expect("the waiting contract").status, Status::Sent);
    drop(restored);

    // A changed object: the check names the contract and the document.
    let doc = &done.documents[0];
    let key = format!("{}/{}/{}.pdf", creds.org_id, done.id, doc.id);
    flip_a_byte(&restored_bucket, &key);
    let out = signet(&["admin", "check", "--data", check_data, "--json"], &restored_env);
    assert_eq!(out.status.code(), Some(1), "a changed object is a problem: {}", describe(&out));
    let report = json_of(&out);
    assert_eq!(report["ok"], false);
    let problems = report["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{report}");
    assert_eq!(problems[0]["contract"], done.id.as_str(), "{report}");
    assert_eq!(problems[0]["document"], doc.id.as_str(), "{report}");
    assert!(problems[0]["problem"].as_str().is_some_and(|p| p.contains("does not open")), "{report}");
    assert_eq!(report["proofs"], events.len() as u64, "the proofs are still checked: {report}");
    let out = signet(&["admin", "check", "--data", check_data], &restored_env);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&done.id) && text.contains(&doc.id) && text.contains("1 problem"), "{}", describe(&out));

    // Objects copied long after the dump: the live deployment logged more events since, and
    // their tiles came along. The check says so before a server could trip over them.
    let later = contract("Later 之后", "backup-z@example.com");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let events = client.events(&later.id).expect("events");
        let (_, note) = get(&format!("{}/log/checkpoint", server.url));
        if events.iter().all(|e| e.log_index.is_some_and(|i| i < checkpoint_size(&note))) {
            break;
        }
        assert!(Instant::now() < deadline, "the later events were not logged within 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = signet(&["admin", "copy-objects", "--from", &live_bucket.url, "--to", &restored_bucket.url, "--json"], &copy_env);
    assert_eq!(out.status.code(), Some(0), "copy-objects after more events: {}", describe(&out));
    assert!(json_of(&out)["copied"].as_u64().is_some_and(|n| n > 0), "the new tiles and documents are copied");
    let out = signet(&["admin", "check", "--data", check_data, "--json"], &restored_env);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let report = json_of(&out);
    let problems = report["problems"].as_array().expect("problems");
    assert!(problems.iter().any(|p| p["problem"].as_str().is_some_and(|p| p.contains("entries past"))), "{report}");
    assert!(problems.iter().any(|p| p["document"] == doc.id.as_str()), "the changed object was not copied over (the destination's is newer): {report}");
    drop(server);

    // A wrong master key: the deployment is not opened at all (exit 2), and the message says
    // which key to use.
    let wrong = dir.path().join("wrong.key");
    std::fs::write(&wrong, signet_vault::FileMasterKey::generate().expect("a key").to_file_text()).expect("write the wrong key");
    let wrong = wrong.to_str().expect("a UTF-8 path");
    let fresh = dir.path().join("check-wrong");
    let wrong_env = [("SIGNET_DATABASE_URL", restored_db.as_str()), ("SIGNET_BLOB_URL", restored_bucket.url.as_str()), ("SIGNET_MASTER_KEY_FILE", wrong), (k1, v1), (k2, v2)];
    let out = signet(&["admin", "check", "--data", fresh.to_str().expect("UTF-8"), "--json"], &wrong_env);
    assert_eq!(out.status.code(), Some(2), "a wrong master key: {}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SIGNET_MASTER_KEY_FILE"), "{}", describe(&out));
    assert!(out.stdout.is_empty(), "no report for a deployment that was not opened");
    // No key at all: not made up, refused.
    let missing = dir.path().join("no-such.key");
    let missing_env = [("SIGNET_DATABASE_URL", restored_db.as_str()), ("SIGNET_BLOB_URL", restored_bucket.url.as_str()), ("SIGNET_MASTER_KEY_FILE", missing.to_str().expect("UTF-8")), (k1, v1), (k2, v2)];
    let out = signet(&["admin", "check", "--data", fresh.to_str().expect("UTF-8")], &missing_env);
    assert_eq!(out.status.code(), Some(2), "a missing master key: {}", describe(&out));
    assert!(!missing.exists(), "the check made no master key");
}

#[test]
fn copy_objects_refuses_unusable_urls() {
    let out = signet(&["admin", "copy-objects", "--from", "not-a-url", "--to", "s3://b?endpoint=http://127.0.0.1:9"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--from"), "{}", describe(&out));
    let out = signet(&["admin", "copy-objects", "--from", "s3://same/a", "--to", "s3://same/a/b"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("overlap"), "{}", describe(&out));
    // Nothing answers on port 9: the listing fails, and says where.
    let out = signet(
        &["admin", "copy-objects", "--from", "s3://a?endpoint=http://127.0.0.1:9&path_style=true", "--to", "s3://b?endpoint=http://127.0.0.1:9&path_style=true"],
        &[("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "y")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("listing the destination"), "{}", describe(&out));
}

#[test]
fn check_without_a_deployment_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let out = signet(&["admin", "check", "--data", data.to_str().expect("UTF-8")], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no master key"), "{}", describe(&out));
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "listne = 1\n").expect("write");
    let out = signet(&["admin", "check", "--config", bad.to_str().expect("UTF-8")], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("listne"), "{}", describe(&out));
    // A master key but a database that holds no deployment: nothing is made.
    std::fs::create_dir_all(data.join("keys")).expect("keys/");
    std::fs::write(data.join("keys/master.key"), signet_vault::FileMasterKey::generate().expect("a key").to_file_text()).expect("write the key");
    let out = signet(&["admin", "check", "--data", data.to_str().expect("UTF-8")], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no Signet deployment"), "{}", describe(&out));
    assert!(!data.join("ca").exists() && !data.join("log").exists(), "no CA or log was made");
}

#[test]
fn check_on_the_embedded_default() {
    let mut server = Server::start(&[]);
    let client = server.client();
    let mut meta = ContractMetadata::new("Embedded 内置");
    meta.recipients.push(NewRecipient::signer("Signer", "embedded@example.com", 1));
    meta.fields.push(NewField::signature("embedded@example.com", 1, RECT));
    meta.send = true;
    let c = client.create_contract(&[("contract.pdf", &support::sample_pdf(1))], &meta).expect("create and send");
    let deadline = Instant::now() + Duration::from_secs(60);
    let events = loop {
        let events = client.events(&c.id).expect("events");
        let (_, note) = get(&format!("{}/log/checkpoint", server.url));
        if events.iter().all(|e| e.log_index.is_some_and(|i| i < checkpoint_size(&note))) {
            break events;
        }
        assert!(Instant::now() < deadline, "events not logged within 60 s");
        std::thread::sleep(Duration::from_millis(200));
    };
    // Stopped, as docs/backup.md asks for the embedded default; its data directory is the
    // whole deployment.
    server.kill();
    let data = server.data.to_str().expect("a UTF-8 path").to_owned();
    let out = signet(&["admin", "check", "--data", &data, "--json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let report = json_of(&out);
    assert_eq!((report["contracts"].as_u64(), report["documents"].as_u64(), report["blobs"].as_u64()), (Some(1), Some(1), Some(1)), "{report}");
    assert_eq!(report["proofs"], events.len() as u64, "{report}");
    // The summary for people follows the language (JSON does not).
    let out = signet(&["admin", "check", "--data", &data], &[("SIGNET_LANG", "zh_CN.UTF-8")]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("合同：1") && text.contains("通过："), "{text}");
    let out = signet(&["admin", "check", "--data", &data], &[("SIGNET_LANG", "en")]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("contracts: 1\n"), "{}", describe(&out));

    // A sealed file changed on disk is caught the same way.
    let blob = server.data.join("blobs").join(&server.creds.org_id).join(&c.id).join(format!("{}.pdf", c.documents[0].id));
    let mut bytes = std::fs::read(&blob).unwrap_or_else(|e| panic!("{}: {e}", blob.display()));
    let last = bytes.len() - 1;
    bytes[last] ^= 0x80;
    std::fs::write(&blob, &bytes).expect("rewrite the blob");
    let out = signet(&["admin", "check", "--data", &data], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&c.id), "{}", describe(&out));

    // The database holds the contract sealed: its title and its signer's address are not in
    // the file; a changed record is reported as a problem of that contract.
    let db_file = server.data.join("signet.db");
    let mut disk = std::fs::read(&db_file).expect("the database file");
    disk.extend(std::fs::read(server.data.join("signet.db-wal")).unwrap_or_default());
    for plain in ["Embedded 内置", "embedded@example.com"] {
        assert!(!disk.windows(plain.len()).any(|w| w == plain.as_bytes()), "{plain:?} is in the database file in the clear");
    }
    let body = support::damage_contract_record(&db_file, &c.id);
    assert!(body.starts_with("s1:"), "sealed: {}", &body[..body.len().min(40)]);
    let out = signet(&["admin", "check", "--data", &data, "--json"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let report = json_of(&out);
    let problems = report["problems"].as_array().expect("problems");
    assert!(
        problems.iter().any(|p| p["contract"] == c.id.as_str() && p["problem"].as_str().is_some_and(|t| t.contains("record in the database does not open"))),
        "{report}"
    );
}

#[test]
fn copy_objects_keeps_names_under_prefixes_and_streams_large_objects() {
    use object_store::ObjectStoreExt as _;
    let Some(from) = S3Bucket::create("copy-from") else { return };
    let to = S3Bucket::create("copy-to").expect("a second bucket on the same S3 server");
    let creds = S3Bucket::CREDENTIALS.map(|(_, v)| v.to_owned());
    let (store, _) = signet_objects::connect(&from.url, Some((creds[0].clone(), creds[1].clone()))).expect("connect");
    let big: Vec<u8> = (0..(17u32 << 20)).map(|i| (i % 251) as u8).collect();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        for (key, body) in [("p/small", b"small".to_vec()), ("p/deep/er/big", big.clone()), ("other/x", b"not under p".to_vec())] {
            store.put(&object_store::path::Path::from(key), body.into()).await.expect("put");
        }
    });
    // The source's credentials from a file, the destination's from the environment.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("from.env");
    std::fs::write(&file, format!("AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\n", creds[0], creds[1])).expect("write");
    let with_prefix = |url: &str, prefix: &str| url.replacen('?', &format!("/{prefix}?"), 1);
    let [(k1, v1), (k2, v2)] = S3Bucket::CREDENTIALS;
    let (src, dst) = (with_prefix(&from.url, "p"), with_prefix(&to.url, "q/r"));
    let args = ["admin", "copy-objects", "--from", &src, "--to", &dst, "--from-credentials", file.to_str().expect("UTF-8")];
    let out = signet(&args, &[(k1, v1), (k2, v2)]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("objects: 2") && text.contains("copied: 2"), "{text}");
    let mut copied = to.objects();
    copied.sort();
    assert_eq!(copied, vec![("q/r/deep/er/big".to_owned(), big), ("q/r/small".to_owned(), b"small".to_vec())]);
    // A source object changed since (same size, newer): copied again; the rest skipped.
    std::thread::sleep(Duration::from_millis(1100));
    rt.block_on(async { store.put(&object_store::path::Path::from("p/small"), b"SMALL".to_vec().into()).await.expect("put") });
    let out = signet(&args, &[(k1, v1), (k2, v2)]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("copied: 1") && text.contains("skipped (already there): 1"), "{text}");
    assert!(to.objects().contains(&("q/r/small".to_owned(), b"SMALL".to_vec())));
}
