//! The ledger's outside checks through the real binary: `signet witness init|key|serve` as a
//! c2sp.org/tlog-witness (statuses, persistence across restarts, one update at a time),
//! `signet log verify-proof` exit codes, and `signet log audit` against a tiled log served
//! over HTTP. Logs are built in the test with `signet-ledger`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use signet_ledger::cosignature::cosign;
use signet_ledger::witness::{AddCheckpointRequest, SIZE_CONTENT_TYPE, parse_conflict_body};
use signet_ledger::{
    Checkpoint, CheckpointVerifier, Hash, MemoryTree, Note, SignatureType, SignerKey, TlogProof,
    VerifierKey, consistency_proof, inclusion_proof,
};

const SIGNET: &str = env!("CARGO_BIN_EXE_signet");
const ORIGIN: &str = "example.org/log";

fn signet<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(SIGNET).args(args).env("SIGNET_LANG", "en").stdin(Stdio::null()).output().expect("run signet")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "signet failed: {}\n{}", stdout(out), String::from_utf8_lossy(&out.stderr));
    stdout(out)
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_port(port: u16) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(20), "server on port {port} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `signet witness serve` for `dir` and the log key in `log_key`, answering once this returns.
fn witness_serve(dir: &Path, log_key: &str, port: u16) -> Server {
    let child = Command::new(SIGNET)
        .args(["witness", "serve", "--dir"])
        .arg(dir)
        .args(["--log-key", log_key, "--addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let guard = Server(child);
    wait_for_port(port);
    guard
}

fn log_signer() -> SignerKey {
    SignerKey::from_seed(ORIGIN, SignatureType::Ed25519, &[1u8; 32]).unwrap()
}

fn tree_of(tag: &str, n: usize) -> MemoryTree {
    let mut t = MemoryTree::new();
    for i in 0..n {
        t.push(format!("{tag} {i}").as_bytes()).unwrap();
    }
    t
}

/// A checkpoint note of `signer`'s log (origin: the key's name) signed by `signer`.
fn checkpoint_note(signer: &SignerKey, size: u64, root: Hash) -> Vec<u8> {
    let mut note = Checkpoint::new(signer.name(), size, root).unwrap().to_note().unwrap();
    note.sign(signer).unwrap();
    note.to_bytes().unwrap()
}

fn signed(tree: &MemoryTree) -> Vec<u8> {
    checkpoint_note(&log_signer(), tree.size(), tree.root())
}

struct Reply {
    status: u16,
    content_type: String,
    body: String,
}

fn add_checkpoint(port: u16, old_size: u64, proof: Vec<Hash>, checkpoint: &[u8]) -> Reply {
    let body = AddCheckpointRequest { old_size, proof, checkpoint: checkpoint.to_vec() }.to_bytes();
    post(port, &body)
}

fn post(port: u16, body: &[u8]) -> Reply {
    try_post(port, body).unwrap()
}

fn try_post(port: u16, body: &[u8]) -> Result<Reply, ureq::Error> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(20)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent.post(&format!("http://127.0.0.1:{port}/add-checkpoint")).send(body)?;
    let content_type =
        resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    Ok(Reply { status: resp.status().as_u16(), content_type, body: resp.body_mut().read_to_string()? })
}

fn assert_conflict(r: &Reply, size: u64) {
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.content_type, SIZE_CONTENT_TYPE);
    assert_eq!(parse_conflict_body(r.body.as_bytes()).unwrap(), size);
}

/// The checkpoint with the witness's answer appended, as c2sp.org/tlog-witness suggests
/// clients read it; opens with the witness as a required cosigner.
fn open_cosigned(checkpoint: &[u8], reply: &Reply, witness: &VerifierKey) -> signet_ledger::OpenedCheckpoint {
    let mut joined = checkpoint.to_vec();
    joined.extend_from_slice(reply.body.as_bytes());
    CheckpointVerifier::with_witnesses(ORIGIN, vec![log_signer().verifier()], vec![witness.clone()], 1)
        .unwrap()
        .open(&joined)
        .unwrap()
}

fn now() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()
}

fn init_witness(dir: &Path) -> VerifierKey {
    let out = signet([OsArg::from("witness"), "init".into(), "--dir".into(), dir.into(), "--name".into(), "witness.example/w1".into()]);
    VerifierKey::parse(ok(&out).trim()).unwrap()
}

/// Owned command-line arguments mixing text and paths.
struct OsArg(std::ffi::OsString);

impl From<&str> for OsArg {
    fn from(s: &str) -> Self {
        OsArg(s.into())
    }
}

impl From<&Path> for OsArg {
    fn from(p: &Path) -> Self {
        OsArg(p.as_os_str().to_owned())
    }
}

impl From<&PathBuf> for OsArg {
    fn from(p: &PathBuf) -> Self {
        OsArg(p.as_os_str().to_owned())
    }
}

impl AsRef<std::ffi::OsStr> for OsArg {
    fn as_ref(&self) -> &std::ffi::OsStr {
        &self.0
    }
}

#[test]
fn witness_init_and_key_print_the_same_vkey() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("w");
    let vkey = init_witness(&dir);
    assert_eq!(vkey.name(), "witness.example/w1");
    assert_eq!(vkey.kind(), SignatureType::CosignatureV1);
    let again = ok(&signet([OsArg::from("witness"), "key".into(), "--dir".into(), (&dir).into()]));
    assert_eq!(again.trim(), vkey.to_string());
    assert_eq!(std::fs::read_to_string(dir.join("witness.vkey")).unwrap().trim(), vkey.to_string());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("witness.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A second init refuses and leaves the key alone.
    let key_before = std::fs::read(dir.join("witness.key")).unwrap();
    let out = signet([OsArg::from("witness"), "init".into(), "--dir".into(), (&dir).into(), "--name".into(), "other".into()]);
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already holds a witness"));
    assert_eq!(std::fs::read(dir.join("witness.key")).unwrap(), key_before);
    // `key` on a directory without a witness says so.
    let out = signet([OsArg::from("witness"), "key".into(), "--dir".into(), tmp.path().into()]);
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("signet witness init"));
    // `serve` refuses a witness key in place of the log's (a swapped configuration).
    let mut child = Command::new(SIGNET)
        .args(["witness", "serve", "--dir"])
        .arg(&dir)
        .args(["--log-key", &vkey.to_string(), "--addr", &format!("127.0.0.1:{}", free_port())])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("witness serve started with a witness key as the log key");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(1));
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(err.contains("not an Ed25519"), "{err}");
    // A name that cannot be a key name.
    let out = signet([OsArg::from("witness"), "init".into(), "--dir".into(), tmp.path().join("x").as_path().into(), "--name".into(), "a b".into()]);
    assert_eq!(code(&out), 1);
    assert!(!tmp.path().join("x").exists());
}

#[test]
fn witness_serves_add_checkpoint_as_the_spec_says() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("w");
    let witness = init_witness(&dir);
    // The log key as a file, the other form of VKEY|FILE.
    let log_key_file = tmp.path().join("log.vkey");
    std::fs::write(&log_key_file, format!("{}\n", log_signer().verifier())).unwrap();
    let log_key_arg = log_key_file.to_str().unwrap().to_owned();
    let port = free_port();
    let server = witness_serve(&dir, &log_key_arg, port);

    let tree = tree_of("entry", 40);
    let at = |n: usize| tree_of("entry", n);

    // First contact: old 0, empty proof.
    let cp10 = signed(&at(10));
    let r = add_checkpoint(port, 0, vec![], &cp10);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.starts_with("\u{2014} witness.example/w1 ") && r.body.ends_with('\n'));
    assert_eq!(r.body.lines().count(), 1);
    let opened = open_cosigned(&cp10, &r, &witness);
    assert_eq!(opened.checkpoint.size, 10);
    let ts = opened.cosignatures[0].timestamp.unwrap();
    assert!(ts.abs_diff(now()) < 120, "cosignature time {ts}");

    // Growth with a correct consistency proof.
    let cp25 = signed(&at(25));
    let proof = consistency_proof(&tree, 10, 25).unwrap();
    let r = add_checkpoint(port, 10, proof.clone(), &cp25);
    assert_eq!(r.status, 200, "{}", r.body);
    open_cosigned(&cp25, &r, &witness);

    // The old size is not the witness's: 409 with its size.
    assert_conflict(&add_checkpoint(port, 10, proof, &cp25), 25);
    assert_conflict(&add_checkpoint(port, 0, vec![], &signed(&at(30))), 25);

    // A consistency proof that does not verify: 422.
    let cp40 = signed(&tree);
    let mut bad = consistency_proof(&tree, 25, 40).unwrap();
    bad[0].0[0] ^= 1;
    assert_eq!(add_checkpoint(port, 25, bad, &cp40).status, 422);
    // Nor does a proof for other sizes, or an empty one.
    assert_eq!(add_checkpoint(port, 25, consistency_proof(&tree, 24, 40).unwrap(), &cp40).status, 422);
    assert_eq!(add_checkpoint(port, 25, vec![], &cp40).status, 422);

    // A fork: another tree of the same size (409, as the spec says for equal sizes with
    // different roots), and a bigger tree that does not extend the cosigned one (422).
    let fork = tree_of("forged", 40);
    let r = add_checkpoint(port, 25, vec![], &signed(&tree_of("forged", 25)));
    assert_conflict(&r, 25);
    assert_eq!(add_checkpoint(port, 25, consistency_proof(&fork, 25, 40).unwrap(), &signed(&fork)).status, 422);

    // Signed by another key for the same origin: 403. Another origin: 404.
    let impostor = SignerKey::from_seed(ORIGIN, SignatureType::Ed25519, &[2u8; 32]).unwrap();
    let proof = consistency_proof(&tree, 25, 40).unwrap();
    assert_eq!(add_checkpoint(port, 25, proof.clone(), &checkpoint_note(&impostor, 40, tree.root())).status, 403);
    let elsewhere = SignerKey::from_seed("example.org/other", SignatureType::Ed25519, &[1u8; 32]).unwrap();
    assert_eq!(add_checkpoint(port, 25, proof.clone(), &checkpoint_note(&elsewhere, 40, tree.root())).status, 404);
    // A valid log signature over a tampered checkpoint text: 403.
    let mut tampered = cp40.clone();
    let at_root = String::from_utf8_lossy(&tampered).find(&tree.root().to_base64()).unwrap();
    tampered[at_root] = if tampered[at_root] == b'A' { b'B' } else { b'A' };
    assert_eq!(add_checkpoint(port, 25, proof.clone(), &tampered).status, 403);
    // Old size above the checkpoint's: 400. Malformed bodies: 400.
    assert_eq!(add_checkpoint(port, 41, vec![], &cp40).status, 400);
    assert_eq!(post(port, b"old 25\n\nnot a checkpoint").status, 400);
    assert_eq!(post(port, b"").status, 400);
    // A body over the limit is refused (413), or the connection dropped before it is read
    // whole; never processed.
    if let Ok(r) = try_post(port, &vec![b'a'; 2 << 20]) {
        assert_eq!(r.status, 413);
    }

    // None of the refusals moved the witness: it is still at 25, and grows from there.
    let r = add_checkpoint(port, 25, proof.clone(), &cp40);
    assert_eq!(r.status, 200, "{}", r.body);
    let cosigned40 = r;
    // The same checkpoint again is fine (same size, same root).
    assert_eq!(add_checkpoint(port, 40, vec![], &cp40).status, 200);

    // Restart: the state is on disk.
    drop(server);
    let server = witness_serve(&dir, &log_key_arg, port);
    assert_conflict(&add_checkpoint(port, 0, vec![], &cp10), 40);
    assert_conflict(&add_checkpoint(port, 40, vec![], &signed(&tree_of("forged", 40))), 40);
    let tree50 = tree_of("entry", 50);
    let r = add_checkpoint(port, 40, consistency_proof(&tree50, 40, 50).unwrap(), &signed(&tree50));
    assert_eq!(r.status, 200, "{}", r.body);
    drop(server);

    // The cosigned checkpoint makes an offline proof that verify-proof accepts with the
    // witness's key as printed by `witness key`.
    let proof_file = tmp.path().join("e7.tlog-proof");
    let mut cosigned = cp40.clone();
    cosigned.extend_from_slice(cosigned40.body.as_bytes());
    let p = TlogProof { extra: None, index: 7, proof: inclusion_proof(&tree, 7, 40).unwrap(), checkpoint: cosigned };
    std::fs::write(&proof_file, p.to_bytes()).unwrap();
    let entry = tmp.path().join("e7");
    std::fs::write(&entry, "entry 7").unwrap();
    let wkey = ok(&signet([OsArg::from("witness"), "key".into(), "--dir".into(), (&dir).into()]));
    let out = verify_proof(&proof_file, &entry, &log_key_arg, &[wkey.trim()], None);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(stdout(&out).contains("witness.example/w1"));
}

#[test]
fn witness_advances_one_request_at_a_time() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("w");
    init_witness(&dir);
    let log_key = log_signer().verifier().to_string();
    let port = free_port();
    let _server = witness_serve(&dir, &log_key, port);
    let tree = tree_of("entry", 60);
    assert_eq!(add_checkpoint(port, 0, vec![], &signed(&tree_of("entry", 10))).status, 200);
    // Twelve clients, each proving a different size from 10: exactly one may win; the others
    // must see the size the winner set.
    let handles: Vec<_> = (0..12u64)
        .map(|i| {
            let size = 20 + i * 3;
            let sub = tree_of("entry", size as usize);
            let proof = consistency_proof(&tree, 10, size).unwrap();
            let cp = signed(&sub);
            std::thread::spawn(move || (size, add_checkpoint(port, 10, proof, &cp)))
        })
        .collect();
    let results: Vec<(u64, Reply)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let winners: Vec<u64> = results.iter().filter(|(_, r)| r.status == 200).map(|(s, _)| *s).collect();
    assert_eq!(winners.len(), 1, "statuses: {:?}", results.iter().map(|(s, r)| (*s, r.status)).collect::<Vec<_>>());
    for (_, r) in results.iter().filter(|(_, r)| r.status != 200) {
        assert_conflict(r, winners[0]);
    }
}

fn verify_proof(file: &Path, entry: &Path, log_key: &str, witnesses: &[&str], quorum: Option<usize>) -> Output {
    let mut args: Vec<OsArg> = vec!["log".into(), "verify-proof".into(), file.into(), "--entry".into(), entry.into()];
    args.extend(["--log-key".into(), log_key.into()]);
    for w in witnesses {
        args.extend(["--witness-key".into(), (*w).into()]);
    }
    if let Some(q) = quorum {
        args.extend(["--quorum".into(), q.to_string().as_str().into()]);
    }
    signet(args)
}

#[test]
fn verify_proof_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let path = |n: &str| tmp.path().join(n);
    let log_key = log_signer().verifier().to_string();
    let w1 = SignerKey::from_seed("witness.example/w1", SignatureType::CosignatureV1, &[5u8; 32]).unwrap();
    let w2 = SignerKey::from_seed("witness.example/w2", SignatureType::CosignatureV1, &[6u8; 32]).unwrap();
    let (w1v, w2v) = (w1.verifier().to_string(), w2.verifier().to_string());
    let tree = tree_of("line", 21);
    let plain = signed(&tree);
    let mut note = Note::parse(&plain).unwrap();
    cosign(&mut note, &w1, 1_700_000_000).unwrap();
    let cosigned = note.to_bytes().unwrap();
    let write_proof = |name: &str, index: u64, proof: Vec<Hash>, checkpoint: &[u8]| {
        let p = TlogProof { extra: None, index, proof, checkpoint: checkpoint.to_vec() };
        std::fs::write(path(name), p.to_bytes()).unwrap();
        path(name)
    };
    let good = write_proof("good.tlog-proof", 7, inclusion_proof(&tree, 7, 21).unwrap(), &cosigned);
    std::fs::write(path("entry"), "line 7").unwrap();
    let entry = path("entry");

    // Valid: exit 0, with what was checked.
    let out = verify_proof(&good, &entry, &log_key, &[&w1v], None);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("index:     7") && text.contains("tree size: 21") && text.contains(ORIGIN), "{text}");
    assert!(text.contains("witness.example/w1") && text.contains("cosigned at"), "{text}");
    assert!(!text.contains("terminator"));
    // Without witnesses, the log's signature is enough.
    assert_eq!(code(&verify_proof(&good, &entry, &log_key, &[], None)), 0);

    // The entry file with a final LF or CRLF: the line the log holds, said so.
    for (name, bytes) in [("lf", "line 7\n"), ("crlf", "line 7\r\n")] {
        std::fs::write(path(name), bytes).unwrap();
        let out = verify_proof(&good, &path(name), &log_key, &[&w1v], None);
        assert_eq!(code(&out), 0, "{name}: {}", stdout(&out));
        assert!(stdout(&out).contains("line terminator"), "{}", stdout(&out));
    }
    // Only one terminator is stripped.
    std::fs::write(path("two"), "line 7\n\n").unwrap();
    assert_eq!(code(&verify_proof(&good, &path("two"), &log_key, &[&w1v], None)), 1);

    // Another entry: 1.
    std::fs::write(path("other"), "line 8").unwrap();
    let out = verify_proof(&good, &path("other"), &log_key, &[&w1v], None);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("INVALID"));
    // A tampered proof hash: 1.
    let mut hashes = inclusion_proof(&tree, 7, 21).unwrap();
    hashes[1].0[31] ^= 0x80;
    let tampered = write_proof("tampered.tlog-proof", 7, hashes, &cosigned);
    assert_eq!(code(&verify_proof(&tampered, &entry, &log_key, &[&w1v], None)), 1);
    // The right proof at the wrong index: 1.
    let moved = write_proof("moved.tlog-proof", 6, inclusion_proof(&tree, 7, 21).unwrap(), &cosigned);
    assert_eq!(code(&verify_proof(&moved, &entry, &log_key, &[&w1v], None)), 1);
    // No cosignature from the required witness: 1.
    let uncosigned = write_proof("plain.tlog-proof", 7, inclusion_proof(&tree, 7, 21).unwrap(), &plain);
    let out = verify_proof(&uncosigned, &entry, &log_key, &[&w1v], Some(1));
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("witness"), "{}", stdout(&out));
    // Two witnesses given, one cosigned: the default quorum (all) fails, quorum 1 passes.
    assert_eq!(code(&verify_proof(&good, &entry, &log_key, &[&w1v, &w2v], None)), 1);
    assert_eq!(code(&verify_proof(&good, &entry, &log_key, &[&w1v, &w2v], Some(1))), 0);
    // Another log key: 1.
    let other_key = SignerKey::from_seed(ORIGIN, SignatureType::Ed25519, &[9u8; 32]).unwrap().verifier().to_string();
    assert_eq!(code(&verify_proof(&good, &entry, &other_key, &[], None)), 1);

    // Cannot check: 2.
    std::fs::write(path("garbage"), "this is not a proof\n").unwrap();
    let out = verify_proof(&path("garbage"), &entry, &log_key, &[], None);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a proof file"));
    assert_eq!(code(&verify_proof(&path("missing"), &entry, &log_key, &[], None)), 2);
    assert_eq!(code(&verify_proof(&good, &path("missing"), &log_key, &[], None)), 2);
    assert_eq!(code(&verify_proof(&good, &entry, "not-a-key", &[], None)), 2);
    // A witness's key given as the log's key.
    assert_eq!(code(&verify_proof(&good, &entry, &w1v, &[], None)), 2);
    assert_eq!(code(&verify_proof(&good, &entry, &log_key, &[&w1v], Some(2))), 2);
}

/// What a tiled log of the first `size` leaves of `tag` publishes: checkpoint, every hash
/// tile and entry bundle (c2sp.org/tlog-tiles).
fn publish(tag: &str, size: usize) -> HashMap<String, Vec<u8>> {
    let entries: Vec<Vec<u8>> = (0..size).map(|i| format!("{tag} {i}").into_bytes()).collect();
    let tree = tree_of(tag, size);
    let mut files: HashMap<String, Vec<u8>> =
        signet_ledger::tile::publish_all(&entries).unwrap().into_iter().collect();
    files.insert("checkpoint".to_owned(), signed(&tree));
    files
}

type Files = Arc<Mutex<HashMap<String, Vec<u8>>>>;

/// A static file server for the log's resources (GET only, one request per connection).
fn static_server(files: Files) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&req).lines().next().unwrap_or_default().to_owned();
            let path = line.split(' ').nth(1).unwrap_or("/").trim_start_matches('/').to_owned();
            let body = files.lock().unwrap().get(&path).cloned();
            let (status, body) = match body {
                Some(b) => ("200 OK", b),
                None => ("404 Not Found", b"not found\n".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    port
}

#[test]
fn audit_follows_a_served_log() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("audit.state");
    let log_key = log_signer().verifier().to_string();
    let files: Files = Arc::new(Mutex::new(publish("entry", 300)));
    let port = static_server(files.clone());
    let url = format!("http://127.0.0.1:{port}/");
    let audit = || {
        signet([OsArg::from("log"), "audit".into(), url.as_str().into(), "--log-key".into(), log_key.as_str().into(), "--state".into(), (&state).into()])
    };

    // First audit: passes and stores the checkpoint.
    let out = audit();
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("tree size: 300"));
    assert_eq!(std::fs::read(&state).unwrap(), files.lock().unwrap()["checkpoint"]);

    // The log grows: passes, state follows.
    *files.lock().unwrap() = publish("entry", 700);
    let out = audit();
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    let grown = files.lock().unwrap()["checkpoint"].clone();
    assert_eq!(std::fs::read(&state).unwrap(), grown);

    // A tampered tile: 1, state untouched.
    files.lock().unwrap().get_mut("tile/0/001").unwrap()[0] ^= 1;
    let out = audit();
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(stdout(&out).contains("tile/0/001"));
    assert_eq!(std::fs::read(&state).unwrap(), grown);

    // The log rewrote its history (a consistent, validly signed, different tree): 1.
    *files.lock().unwrap() = publish("forged", 800);
    let out = audit();
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(stdout(&out).contains("FORK"));
    assert_eq!(std::fs::read(&state).unwrap(), grown);

    // A missing tile or an unreadable state cannot be checked: 2.
    *files.lock().unwrap() = publish("entry", 800);
    files.lock().unwrap().remove("tile/entries/001");
    assert_eq!(code(&audit()), 2);
    std::fs::write(&state, "not a checkpoint").unwrap();
    *files.lock().unwrap() = publish("entry", 800);
    assert_eq!(code(&audit()), 2);
    // Nothing listening: 2.
    std::fs::remove_file(&state).unwrap();
    let dead = format!("http://127.0.0.1:{}/", free_port());
    let out = signet([OsArg::from("log"), "audit".into(), dead.as_str().into(), "--log-key".into(), log_key.as_str().into(), "--state".into(), (&state).into()]);
    assert_eq!(code(&out), 2);
    assert!(!state.exists());
}
