//! The evidence log through the real binary, every piece a separate process: `signet log
//! init|key|append|proof|verify-proof` on a log directory, `signet log serve` (the tlog-tiles
//! routes and their headers, appends by another process while it serves, one server per
//! directory), a log with two `signet witness serve` witnesses and a forked log holding the same
//! key that they refuse, `signet log audit` against a served log and its fork, and a
//! `signet log load` killed with SIGKILL mid-load: every acknowledged entry survives and the
//! log's next checkpoint is consistent with the last one published before the crash.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use signet_ledger::tile::{entries_path, parse_entry_bundle};
use signet_ledger::witness::{AddCheckpointRequest, parse_conflict_body};
use signet_ledger::{Checkpoint, CheckpointVerifier, Note, SignatureType, VerifierKey, leaf_hash};

const SIGNET: &str = env!("CARGO_BIN_EXE_signet");
const ORIGIN: &str = "example.org/log";
/// The longest any one command may take before the test gives up on it.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Held by the crash test while it loads both cores, and by the timing check of
/// `log_serve_…`, so that a deadline measured there is not one the other test ate.
static CPU_HEAVY: Mutex<()> = Mutex::new(());

fn cpu_heavy() -> std::sync::MutexGuard<'static, ()> {
    CPU_HEAVY.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---------------------------------------------------------------------------------------------
// Running the binary

/// A temporary path as an argument (temporary directories have UTF-8 names).
fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temporary path")
}

/// Runs `signet ARGS` with `input` on standard input (none if `None`), killing it after
/// `timeout`.
fn run_for(args: &[&str], input: Option<&[u8]>, timeout: Duration) -> Output {
    let mut child = Command::new(SIGNET)
        .args(args)
        .env("SIGNET_LANG", "en")
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start signet");
    if let Some(data) = input {
        let mut stdin = child.stdin.take().unwrap();
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
    }
    let out = drain(child.stdout.take().unwrap());
    let err = drain(child.stderr.take().unwrap());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`signet {}` did not finish within {timeout:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() }
}

fn drain(mut r: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

fn signet(args: &[&str]) -> Output {
    run_for(args, None, COMMAND_TIMEOUT)
}

fn signet_with_input(args: &[&str], input: &[u8]) -> Output {
    run_for(args, Some(input), COMMAND_TIMEOUT)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The command's standard output; fails the test if it did not succeed.
fn ok(out: Output) -> String {
    assert!(out.status.success(), "signet failed ({}): {}\n{}", out.status, stdout(&out), stderr(&out));
    stdout(&out)
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited, not killed")
}

/// A failed command's standard error; fails the test if it succeeded.
fn failed(out: Output) -> String {
    assert!(!out.status.success(), "signet succeeded where it must fail: {}", stdout(&out));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    stderr(&out)
}

/// `signet log init`; returns the verifier key it printed.
fn init_log(dir: &Path) -> String {
    ok(signet(&["log", "init", "--dir", s(dir), "--origin", ORIGIN])).trim().to_owned()
}

/// `signet log append` of the lines of `text` through a file; returns the indices printed.
fn append_lines(dir: &Path, text: &str) -> Vec<u64> {
    let mut input = tempfile::NamedTempFile::new_in(dir.parent().unwrap()).unwrap();
    input.write_all(text.as_bytes()).unwrap();
    let out = ok(signet(&["log", "append", "--dir", s(dir), s(input.path())]));
    out.lines().map(|l| l.parse().unwrap()).collect()
}

fn numbered(tag: &str, range: std::ops::Range<u64>) -> String {
    range.map(|i| format!("{tag} {i}\n")).collect()
}

/// `signet log proof`; returns the proof file.
fn proof(dir: &Path, index: u64, out: &Path) -> String {
    ok(signet(&["log", "proof", "--dir", s(dir), "--index", &index.to_string(), "--out", s(out)]))
}

fn verify_proof(file: &Path, entry: &Path, log_key: &str, witnesses: &[&str], quorum: Option<usize>) -> Output {
    let mut args = vec!["log", "verify-proof", s(file), "--entry", s(entry), "--log-key", log_key];
    for w in witnesses {
        args.extend(["--witness-key", w]);
    }
    let q = quorum.map(|q| q.to_string());
    if let Some(q) = &q {
        args.extend(["--quorum", q]);
    }
    signet(&args)
}

/// A server process (`log serve`, `witness serve`) killed when dropped, with the port it
/// printed it listens on.
struct Server {
    child: Child,
    port: u16,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `signet ARGS` (with `--addr 127.0.0.1:0` or a port of the caller's) and waits for
    /// the line saying where it listens.
    fn start(args: &[&str]) -> Server {
        Self::try_start(args).unwrap_or_else(|why| panic!("`signet {}` did not start: {why}", args.join(" ")))
    }

    fn try_start(args: &[&str]) -> Result<Server, String> {
        let mut child = Command::new(SIGNET)
            .args(args)
            .env("SIGNET_LANG", "en")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start signet");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        {
            let mut pipe = child.stderr.take().unwrap();
            let stderr = stderr.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = pipe.read(&mut buf) {
                    stderr.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let pipe = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let mut server = Server { child, port: 0, stderr };
        let first = rx.recv_timeout(Duration::from_secs(30));
        let port = first.as_deref().ok().and_then(|line| {
            let rest = &line[line.find("http://127.0.0.1:")? + "http://127.0.0.1:".len()..];
            rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
        });
        match port {
            Some(p) => {
                server.port = p;
                Ok(server)
            }
            None => {
                let _ = server.child.kill();
                let _ = server.child.wait();
                Err(format!("{first:?}; stderr: {}", server.stderr_text()))
            }
        }
    }

    fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn log_serve(dir: &Path, addr: &str, witnesses: &[(&Server, &str)]) -> Server {
    let urls: Vec<String> = witnesses.iter().map(|(w, _)| w.url()).collect();
    let mut args = vec!["log", "serve", "--dir", s(dir), "--addr", addr];
    for (url, (_, key)) in urls.iter().zip(witnesses) {
        args.extend(["--witness-url", url, "--witness-key", key]);
    }
    Server::start(&args)
}

/// Polls `f` every 50 ms until it gives a value; fails the test after `timeout`.
fn wait_until<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP and checkpoints

struct Got {
    status: u16,
    content_type: String,
    cache_control: String,
    body: Vec<u8>,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(20)))
        .http_status_as_error(false)
        .build()
        .into()
}

fn get(port: u16, path: &str) -> Got {
    let mut resp = agent().get(&format!("http://127.0.0.1:{port}/{path}")).call().expect("GET");
    let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (content_type, cache_control) = (header("content-type"), header("cache-control"));
    Got { status: resp.status().as_u16(), content_type, cache_control, body: resp.body_mut().read_to_vec().unwrap() }
}

/// POSTs a tlog-witness add-checkpoint request; returns the status and body.
fn add_checkpoint(port: u16, old_size: u64, checkpoint: &[u8]) -> (u16, Vec<u8>) {
    let body = AddCheckpointRequest { old_size, proof: Vec::new(), checkpoint: checkpoint.to_vec() }.to_bytes();
    let mut resp = agent().post(&format!("http://127.0.0.1:{port}/add-checkpoint")).send(&body[..]).expect("POST");
    (resp.status().as_u16(), resp.body_mut().read_to_vec().unwrap())
}

/// A signed checkpoint's tree and how many signature lines it carries (the log's and the
/// witnesses').
fn parse_checkpoint(signed: &[u8]) -> (Checkpoint, usize) {
    let note = Note::parse(signed).expect("a signed note");
    (Checkpoint::parse(note.text()).expect("a checkpoint"), note.signatures().len())
}

/// The served checkpoint, if the server answers with one.
fn served_checkpoint(port: u16) -> Option<(Vec<u8>, Checkpoint, usize)> {
    let got = get(port, "checkpoint");
    if got.status != 200 {
        return None;
    }
    let (cp, sigs) = parse_checkpoint(&got.body);
    Some((got.body, cp, sigs))
}

/// The max-age of a Cache-Control value, if it has one.
fn max_age(cache_control: &str) -> Option<u64> {
    cache_control.split(',').find_map(|d| d.trim().strip_prefix("max-age=")?.parse().ok())
}

fn vkey(text: &str) -> VerifierKey {
    VerifierKey::parse(text.trim()).expect("a verifier key")
}

/// Makes `fork` a second log with the same origin and signing key as `real` but its own
/// journal, so that it can sign any history in the real log's name.
fn fork_of(real: &Path, fork: &Path) {
    init_log(fork);
    for f in ["log.key", "log.vkey"] {
        std::fs::copy(real.join(f), fork.join(f)).unwrap();
    }
    let real_key = ok(signet(&["log", "key", "--dir", s(real)]));
    assert_eq!(ok(signet(&["log", "key", "--dir", s(fork)])), real_key, "the fork must sign with the real log's key");
}

// ---------------------------------------------------------------------------------------------
// 1. The command line

#[test]
fn log_cli_appends_lines_and_whole_files_proves_them_and_refuses_mistakes() {
    let tmp = tempfile::tempdir().unwrap();
    let path = |n: &str| tmp.path().join(n);
    let dir = path("log");

    // init prints the verifier key; `log key` and log.vkey say the same.
    let printed = init_log(&dir);
    let key = vkey(&printed);
    assert_eq!(key.name(), ORIGIN);
    assert_eq!(key.kind(), SignatureType::Ed25519);
    assert_eq!(ok(signet(&["log", "key", "--dir", s(&dir)])), format!("{printed}\n"));
    assert_eq!(std::fs::read_to_string(dir.join("log.vkey")).unwrap().trim(), printed);
    let (cp, _) = parse_checkpoint(&std::fs::read(dir.join("checkpoint")).unwrap());
    assert_eq!(cp.size, 0);

    // Lines from standard input: CRLF and LF stripped, empty lines skipped, no final LF needed.
    let out = signet_with_input(&["log", "append", "--dir", s(&dir), "-"], b"alpha\r\nbeta\n\n\ngamma");
    assert_eq!(ok(out), "0\n1\n2\n");
    // Standard input is the default.
    assert_eq!(ok(signet_with_input(&["log", "append", "--dir", s(&dir)], b"delta\n")), "3\n");
    // A file argument.
    std::fs::write(path("lines.txt"), "epsilon\r\n\r\nzeta\n").unwrap();
    assert_eq!(ok(signet(&["log", "append", "--dir", s(&dir), s(&path("lines.txt"))])), "4\n5\n");
    // --whole: any bytes, NULs and line breaks included, as one entry.
    let binary: Vec<u8> = b"\0binary\nentry\r\n\0\xff\xfe\n\n".to_vec();
    std::fs::write(path("binary"), &binary).unwrap();
    assert_eq!(ok(signet(&["log", "append", "--dir", s(&dir), "--whole", s(&path("binary"))])), "6\n");
    // The largest entry there is: 65,535 bytes.
    let largest = vec![b'L'; 65_535];
    std::fs::write(path("largest"), &largest).unwrap();
    assert_eq!(ok(signet(&["log", "append", "--dir", s(&dir), "--whole", s(&path("largest"))])), "7\n");

    // One byte more is refused, and nothing of the input is appended: not with --whole, not
    // as one line of a file whose other lines are fine, not from standard input.
    std::fs::write(path("too-big"), vec![b'B'; 65_536]).unwrap();
    let err = failed(signet(&["log", "append", "--dir", s(&dir), "--whole", s(&path("too-big"))]));
    assert!(err.contains("65,535") && err.contains("Nothing was appended"), "{err}");
    let mut mixed = b"fine line\n".to_vec();
    mixed.extend(vec![b'B'; 65_536]);
    mixed.extend(b"\nanother fine line\n");
    std::fs::write(path("mixed"), &mixed).unwrap();
    let err = failed(signet(&["log", "append", "--dir", s(&dir), s(&path("mixed"))]));
    assert!(err.contains("65,536 bytes") || err.contains("65536 bytes"), "{err}");
    assert!(err.contains("Nothing was appended"), "{err}");
    let err = failed(signet_with_input(&["log", "append", "--dir", s(&dir), "-"], &mixed));
    assert!(err.contains("Nothing was appended"), "{err}");
    // The next append gets the next index: nothing was appended.
    assert_eq!(ok(signet_with_input(&["log", "append", "--dir", s(&dir)], b"eta\n")), "8\n");

    // Without a server, append integrated and signed: the checkpoint covers all 9 entries and
    // the entry bundle holds exactly what was meant.
    let (cp, sigs) = parse_checkpoint(&std::fs::read(dir.join("checkpoint")).unwrap());
    assert_eq!((cp.size, sigs), (9, 1));
    CheckpointVerifier::new(ORIGIN, key.clone()).unwrap().open(&std::fs::read(dir.join("checkpoint")).unwrap()).unwrap();
    let expected: Vec<&[u8]> =
        vec![b"alpha", b"beta", b"gamma", b"delta", b"epsilon", b"zeta", &binary, &largest, b"eta"];
    let bundle = std::fs::read(dir.join(entries_path(0, 9))).unwrap();
    assert_eq!(parse_entry_bundle(&bundle).unwrap(), expected);

    // A proof of each entry verifies with the entry's bytes (the log key as a vkey or a file);
    // a line entry also with a final LF or CRLF, as an editor saves it.
    let key_file = dir.join("log.vkey");
    for (index, entry) in expected.iter().enumerate() {
        let index = index as u64;
        let proof_file = path(&format!("{index}.tlog-proof"));
        let said = proof(&dir, index, &proof_file);
        assert!(said.contains(&format!("proof of entry {index}")), "{said}");
        let entry_file = path(&format!("{index}.entry"));
        std::fs::write(&entry_file, entry).unwrap();
        let log_key = if index % 2 == 0 { printed.as_str() } else { s(&key_file) };
        let out = verify_proof(&proof_file, &entry_file, log_key, &[], None);
        assert_eq!(code(&out), 0, "entry {index}: {}{}", stdout(&out), stderr(&out));
        assert!(stdout(&out).contains(&format!("index:     {index}")), "{}", stdout(&out));
        assert!(stdout(&out).contains("tree size: 9"), "{}", stdout(&out));
    }
    for terminator in ["\n", "\r\n"] {
        std::fs::write(path("alpha.txt"), format!("alpha{terminator}")).unwrap();
        let out = verify_proof(&path("0.tlog-proof"), &path("alpha.txt"), &printed, &[], None);
        assert_eq!(code(&out), 0, "{terminator:?}: {}", stdout(&out));
    }
    // Another entry is refused (exit 1), also one differing in a single byte, and the binary
    // entry without its final byte (only what was logged counts).
    std::fs::write(path("alphb"), "alphb").unwrap();
    for (proof_file, wrong) in [("0", path("alphb")), ("1", path("0.entry")), ("6", path("alpha.txt"))] {
        let out = verify_proof(&path(&format!("{proof_file}.tlog-proof")), &wrong, &printed, &[], None);
        assert_eq!(code(&out), 1, "{}", stdout(&out));
        assert!(stdout(&out).contains("INVALID"), "{}", stdout(&out));
    }
    std::fs::write(path("binary-cut"), &binary[..binary.len() - 1]).unwrap();
    assert_eq!(code(&verify_proof(&path("6.tlog-proof"), &path("binary-cut"), &printed, &[], None)), 1);

    // A proof of an entry the log does not have fails clearly and writes nothing.
    let err = failed(signet(&["log", "proof", "--dir", s(&dir), "--index", "9", "--out", s(&path("9.tlog-proof"))]));
    assert!(err.contains("9 entries") && err.contains("no entry 9"), "{err}");
    assert!(!path("9.tlog-proof").exists());

    // init on an existing log refuses and leaves the log's key alone.
    let key_before = std::fs::read(dir.join("log.key")).unwrap();
    let err = failed(signet(&["log", "init", "--dir", s(&dir), "--origin", "example.org/other"]));
    assert!(err.contains("already holds a log"), "{err}");
    assert_eq!(std::fs::read(dir.join("log.key")).unwrap(), key_before);
    assert_eq!(ok(signet(&["log", "key", "--dir", s(&dir)])), format!("{printed}\n"));
    assert_eq!(ok(signet_with_input(&["log", "append", "--dir", s(&dir)], b"theta\n")), "9\n");

    // Commands on a directory without a log say how to make one, for an existing empty
    // directory and a missing one alike.
    let empty = path("empty");
    std::fs::create_dir(&empty).unwrap();
    for nolog in [empty.clone(), path("missing")] {
        let d = s(&nolog);
        let attempts = [
            signet(&["log", "key", "--dir", d]),
            signet(&["log", "append", "--dir", d, s(&path("lines.txt"))]),
            signet_with_input(&["log", "append", "--dir", d, "-"], b"x\n"),
            signet(&["log", "proof", "--dir", d, "--index", "0", "--out", s(&path("none.tlog-proof"))]),
            run_for(&["log", "serve", "--dir", d, "--addr", "127.0.0.1:0"], None, Duration::from_secs(20)),
        ];
        for out in attempts {
            let err = failed(out);
            assert!(err.contains("signet log init"), "{err}");
        }
        assert!(!path("none.tlog-proof").exists());
    }
    assert!(!path("missing").exists(), "a command on a missing directory created it");
}

// ---------------------------------------------------------------------------------------------
// 2. Serving

#[test]
fn log_serve_serves_tiles_with_their_headers_and_follows_appends() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let printed = init_log(&dir);
    let key = vkey(&printed);
    assert_eq!(append_lines(&dir, &numbered("entry", 0..300)), (0..300).collect::<Vec<_>>());
    let server = log_serve(&dir, "127.0.0.1:0", &[]);
    let port = server.port;

    // The checkpoint: text, never cached for long, the one in the directory, signed.
    let got = get(port, "checkpoint");
    assert_eq!(got.status, 200);
    assert_eq!(got.content_type, "text/plain; charset=utf-8");
    assert!(got.cache_control == "no-cache" || max_age(&got.cache_control).is_some_and(|a| a <= 60), "{}", got.cache_control);
    assert_eq!(got.body, std::fs::read(dir.join("checkpoint")).unwrap());
    let opened = CheckpointVerifier::new(ORIGIN, key.clone()).unwrap().open(&got.body).unwrap();
    assert_eq!(opened.checkpoint.size, 300);

    // The verifier key.
    let got = get(port, "log.vkey");
    assert_eq!(got.status, 200);
    assert_eq!(String::from_utf8(got.body).unwrap().trim(), printed);

    // Full tiles and bundles: immutable, the bytes of the files under the directory.
    for path in ["tile/0/000", "tile/entries/000"] {
        let got = get(port, path);
        assert_eq!(got.status, 200, "{path}");
        assert_eq!(got.content_type, "application/octet-stream", "{path}");
        assert_eq!(got.cache_control, "public, max-age=31536000, immutable", "{path}");
        assert_eq!(got.body, std::fs::read(dir.join(path)).unwrap(), "{path}");
    }
    // …and they hold the log: the bundle the first 256 entries, the tile their leaf hashes.
    let bundle = get(port, "tile/entries/000").body;
    let entries = parse_entry_bundle(&bundle).unwrap();
    assert_eq!(entries.len(), 256);
    assert!(entries.iter().enumerate().all(|(i, e)| *e == format!("entry {i}").as_bytes()));
    let tile = get(port, "tile/0/000").body;
    assert_eq!(tile.len(), 256 * 32);
    assert_eq!(&tile[..32], leaf_hash(b"entry 0").as_bytes());
    assert_eq!(&tile[255 * 32..], leaf_hash(b"entry 255").as_bytes());

    // Partial tiles and bundles: served, but only briefly cacheable.
    for path in ["tile/0/001.p/44", "tile/entries/001.p/44", "tile/1/000.p/1"] {
        let got = get(port, path);
        assert_eq!(got.status, 200, "{path}");
        assert_eq!(got.content_type, "application/octet-stream", "{path}");
        assert!(!got.cache_control.contains("immutable"), "{path}: {}", got.cache_control);
        assert!(max_age(&got.cache_control).is_some_and(|a| a <= 60), "{path}: {}", got.cache_control);
        assert_eq!(got.body, std::fs::read(dir.join(path)).unwrap(), "{path}");
    }
    // Nothing beyond the checkpoint.
    for path in ["tile/0/001", "tile/0/001.p/45", "tile/0/002", "tile/entries/001", "tile/entries/001.p/45", "tile/1/000", "tile/2/000.p/1"] {
        assert_eq!(get(port, path).status, 404, "{path}");
    }

    // An append by another process while the server runs: the served checkpoint covers it
    // within two seconds of the command returning.
    {
        let _quiet = cpu_heavy();
        let indices = append_lines(&dir, &numbered("more", 0..20));
        let returned = Instant::now();
        assert_eq!(indices, (300..320).collect::<Vec<_>>());
        let (body, cp) = wait_until("the served checkpoint to cover the appended entries", Duration::from_secs(10), || {
            served_checkpoint(port).filter(|(_, cp, _)| cp.size >= 320).map(|(b, cp, _)| (b, cp))
        });
        let took = returned.elapsed();
        assert!(took <= Duration::from_secs(2), "the served checkpoint covered the append only after {took:?}");
        assert_eq!(cp.size, 320);
        CheckpointVerifier::new(ORIGIN, key.clone()).unwrap().open(&body).unwrap();
    }
    let got = get(port, "tile/entries/001.p/64");
    assert_eq!(got.status, 200);
    assert_eq!(parse_entry_bundle(&got.body).unwrap().last().copied(), Some(&b"more 19"[..]));
    assert_eq!(get(port, "tile/0/001.p/64").body, std::fs::read(dir.join("tile/0/001.p/64")).unwrap());

    // A second server on the same directory is refused; the first keeps serving.
    let out = run_for(&["log", "serve", "--dir", s(&dir), "--addr", "127.0.0.1:0"], None, Duration::from_secs(20));
    let err = failed(out);
    assert!(err.contains("already running"), "{err}");
    assert_eq!(get(port, "checkpoint").status, 200);
    drop(server);
}

// ---------------------------------------------------------------------------------------------
// 3. Witnesses

#[test]
fn witnesses_cosign_the_log_and_refuse_a_fork_with_its_key() {
    let tmp = tempfile::tempdir().unwrap();
    let path = |n: &str| tmp.path().join(n);
    let real = path("real");
    let log_key = init_log(&real);
    let witness = |n: u32| {
        let dir = path(&format!("w{n}"));
        let printed = ok(signet(&["witness", "init", "--dir", s(&dir), "--name", &format!("witness.example/w{n}")]));
        (dir, printed.trim().to_owned())
    };
    let ((w1_dir, w1), (w2_dir, w2), (_, w3)) = (witness(1), witness(2), witness(3));
    // The log key given as a vkey to one witness and as a file to the other.
    let ws1 = Server::start(&["witness", "serve", "--dir", s(&w1_dir), "--log-key", &log_key, "--addr", "127.0.0.1:0"]);
    let real_vkey_file = real.join("log.vkey");
    let ws2 = Server::start(&["witness", "serve", "--dir", s(&w2_dir), "--log-key", s(&real_vkey_file), "--addr", "127.0.0.1:0"]);
    // The second witness's key as a file.
    let w2_file = w2_dir.join("witness.vkey");

    // Entries appended before the server starts, then more while it serves.
    append_lines(&real, &numbered("real", 0..40));
    let server = log_serve(&real, "127.0.0.1:0", &[(&ws1, &w1), (&ws2, s(&w2_file))]);
    assert_eq!(append_lines(&real, &numbered("real", 40..50)), (40..50).collect::<Vec<_>>());
    let (cosigned, cp, _) = wait_until("a checkpoint of 50 entries cosigned by both witnesses", Duration::from_secs(20), || {
        served_checkpoint(server.port).filter(|(_, cp, sigs)| cp.size >= 50 && *sigs == 3)
    });
    assert_eq!(cp.size, 50, "stderr: {}", server.stderr_text());
    let both = CheckpointVerifier::with_witnesses(ORIGIN, vec![vkey(&log_key)], vec![vkey(&w1), vkey(&w2)], 2).unwrap();
    let opened = both.open(&cosigned).expect("both cosignatures verify");
    assert_eq!(opened.cosignatures.len(), 2);

    // Offline proofs against the cosigned checkpoint: a quorum of both passes; a third
    // witness that never saw the log makes a quorum of three impossible.
    for index in [3u64, 45] {
        let proof_file = path(&format!("real-{index}.tlog-proof"));
        let said = proof(&real, index, &proof_file);
        assert!(said.contains("2 witness cosignature(s)"), "{said}");
        let entry = path(&format!("real-{index}"));
        std::fs::write(&entry, format!("real {index}")).unwrap();
        let out = verify_proof(&proof_file, &entry, &log_key, &[&w1, s(&w2_file)], Some(2));
        assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
        assert!(stdout(&out).contains("2 of 2 given cosigned"), "{}", stdout(&out));
        let out = verify_proof(&proof_file, &entry, &log_key, &[&w1, &w2, &w3], Some(3));
        assert_eq!(code(&out), 1, "{}{}", stdout(&out), stderr(&out));
        assert!(stdout(&out).contains("INVALID") && stdout(&out).contains("witness"), "{}", stdout(&out));
    }

    // A fork: the same origin and key, another history of the same size.
    let fork = path("fork");
    fork_of(&real, &fork);
    assert_eq!(append_lines(&fork, &numbered("forged", 0..50)).last(), Some(&49));
    let forked = std::fs::read(fork.join("checkpoint")).unwrap();
    let (fork_cp, _) = parse_checkpoint(&forked);
    assert_eq!(fork_cp.size, 50);
    assert_ne!(fork_cp.root, cp.root, "the fork must have another history");
    CheckpointVerifier::new(ORIGIN, vkey(&log_key)).unwrap().open(&forked).expect("the fork is validly signed by the log key");

    // Served with the same witnesses, it gains no cosignature: both refuse it.
    let fork_server = log_serve(&fork, "127.0.0.1:0", &[(&ws1, &w1), (&ws2, &w2)]);
    wait_until("the fork's server to report both witnesses' refusals", Duration::from_secs(20), || {
        let err = fork_server.stderr_text();
        [&ws1, &ws2].iter().all(|ws| err.contains(&format!("witness {}: ", ws.url()))).then_some(())
    });
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        let (_, cp, sigs) = served_checkpoint(fork_server.port).expect("the fork serves its checkpoint");
        assert_eq!(cp.root, fork_cp.root);
        assert_eq!(sigs, 1, "a witness cosigned the fork; stderr: {}", fork_server.stderr_text());
        std::thread::sleep(Duration::from_millis(250));
    }
    // Asked directly, each witness answers 409 with the size it cosigned, for any old size.
    for ws in [&ws1, &ws2] {
        for old in [0, 50] {
            let (status, body) = add_checkpoint(ws.port, old, &forked);
            assert_eq!(status, 409, "{}", String::from_utf8_lossy(&body));
            assert_eq!(parse_conflict_body(&body).unwrap(), 50);
        }
    }
    // A proof from the fork verifies with the log key alone — the key cannot tell the
    // histories apart — but not with a witness quorum.
    let fork_proof = path("fork-45.tlog-proof");
    let said = proof(&fork, 45, &fork_proof);
    assert!(said.contains("0 witness cosignature(s)"), "{said}");
    std::fs::write(path("forged-45"), "forged 45").unwrap();
    let out = verify_proof(&fork_proof, &path("forged-45"), &log_key, &[], None);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let out = verify_proof(&fork_proof, &path("forged-45"), &log_key, &[&w1, &w2], Some(1));
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(stdout(&out).contains("witness"), "{}", stdout(&out));
    drop(fork_server);

    // The real log's proofs still verify, and the witnesses keep cosigning its growth.
    let out = verify_proof(&path("real-45.tlog-proof"), &path("real-45"), &log_key, &[&w1, &w2], Some(2));
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    append_lines(&real, &numbered("real", 50..55));
    let (cosigned, _, _) = wait_until("a checkpoint of 55 entries cosigned by both witnesses", Duration::from_secs(20), || {
        served_checkpoint(server.port).filter(|(_, cp, sigs)| cp.size == 55 && *sigs == 3)
    });
    both.open(&cosigned).expect("both cosignatures verify");
}

// ---------------------------------------------------------------------------------------------
// 4. Audit

#[test]
fn audit_follows_the_served_log_and_catches_a_fork_on_the_same_url() {
    let tmp = tempfile::tempdir().unwrap();
    let path = |n: &str| tmp.path().join(n);
    let real = path("real");
    let log_key = init_log(&real);
    append_lines(&real, &numbered("real", 0..300));
    let server = log_serve(&real, "127.0.0.1:0", &[]);
    let port = server.port;
    let url = server.url();
    let state = path("audit.state");
    let audit = |state: &Path| signet(&["log", "audit", &url, "--log-key", &log_key, "--state", s(state)]);

    let out = audit(&state);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("tree size: 300") && stdout(&out).contains("first audit"), "{}", stdout(&out));
    assert_eq!(std::fs::read(&state).unwrap(), get(port, "checkpoint").body);

    // The log grows: the audit passes and remembers the new checkpoint.
    append_lines(&real, &numbered("real", 300..330));
    let (served, _, _) = wait_until("the checkpoint of 330 entries", Duration::from_secs(10), || {
        served_checkpoint(port).filter(|(_, cp, _)| cp.size == 330)
    });
    let out = audit(&state);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("tree size: 330"), "{}", stdout(&out));
    assert!(stdout(&out).contains("extends the previous audit at size 300"), "{}", stdout(&out));
    let audited = std::fs::read(&state).unwrap();
    assert_eq!(audited, served);

    // The same URL now serves a fork: same key, a longer and different history.
    let fork = path("fork");
    fork_of(&real, &fork);
    append_lines(&fork, &numbered("forged", 0..400));
    drop(server);
    let addr = format!("127.0.0.1:{port}");
    let fork_server = wait_until("the fork to be served on the real log's port", Duration::from_secs(20), || {
        Server::try_start(&["log", "serve", "--dir", s(&fork), "--addr", &addr]).ok()
    });
    assert_eq!(fork_server.port, port);
    let (_, cp, _) = served_checkpoint(port).unwrap();
    assert_eq!(cp.size, 400);

    let out = audit(&state);
    assert_eq!(code(&out), 1, "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("AUDIT FAILED") && stdout(&out).contains("FORK"), "{}", stdout(&out));
    assert_eq!(std::fs::read(&state).unwrap(), audited, "a failed audit changed its state");
    // Without the history the fork looks like a log: only the remembered state catches it.
    let out = audit(&path("fresh.state"));
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
}

// ---------------------------------------------------------------------------------------------
// 5. Crash safety

#[test]
fn acknowledged_entries_and_published_checkpoints_survive_sigkill() {
    let tmp = tempfile::tempdir().unwrap();
    let path = |n: &str| tmp.path().join(n);
    let dir = path("log");
    let log_key = init_log(&dir);
    let checkpoint_file = dir.join("checkpoint");

    let heavy = cpu_heavy();
    let load = Command::new(SIGNET)
        .args(["log", "load", "--dir", s(&dir), "--count", "2000000", "--concurrency", "512", "--acks", "--sign"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut load = Killed(Some(load));
    let acks = Arc::new(Mutex::new(Vec::<u8>::new()));
    let lines = Arc::new(AtomicUsize::new(0));
    let reader = {
        let mut pipe = load.child().stdout.take().unwrap();
        let (acks, lines) = (acks.clone(), lines.clone());
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                acks.lock().unwrap().extend_from_slice(&buf[..n]);
                lines.fetch_add(buf[..n].iter().filter(|&&b| b == b'\n').count(), Ordering::Relaxed);
            }
        })
    };
    let load_err = drain(load.child().stderr.take().unwrap());

    // Watch the published checkpoints while it loads; kill it once a few were published and
    // entries acknowledged, and at least a second in.
    let started = Instant::now();
    let mut published: Vec<Vec<u8>> = vec![std::fs::read(&checkpoint_file).unwrap()];
    loop {
        let now = std::fs::read(&checkpoint_file).unwrap();
        if published.last() != Some(&now) {
            published.push(now);
        }
        let acked = lines.load(Ordering::Relaxed);
        if started.elapsed() >= Duration::from_millis(1000) && published.len() >= 3 && acked >= 1000 {
            break;
        }
        if let Some(status) = load.child().try_wait().unwrap() {
            panic!("the load ended before it was killed ({status}): {}", String::from_utf8_lossy(&load_err.join().unwrap()));
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the load published {} checkpoints and {acked} acknowledgements in 30 s",
            published.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SIGKILL: no destructor, no flush, no final checkpoint.
    load.kill();
    reader.join().unwrap();
    // The last checkpoint published before the crash (it may be newer than the last one seen).
    let before = std::fs::read(&checkpoint_file).unwrap();
    if published.last() != Some(&before) {
        published.push(before.clone());
    }
    let (before_cp, _) = parse_checkpoint(&before);
    assert!(before_cp.size > 0);
    // Every checkpoint seen grew from the one before (the history as the crash left it).
    let sizes: Vec<u64> = published.iter().map(|p| parse_checkpoint(p).0.size).collect();
    assert!(sizes.windows(2).all(|w| w[0] < w[1]), "published sizes {sizes:?}");

    // The acknowledgements: whole lines only (the last may have been cut by the kill).
    let acks = acks.lock().unwrap().clone();
    let complete = &acks[..acks.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1)];
    let acked: Vec<(u64, Vec<u8>)> = complete
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|line| {
            let tab = line.iter().position(|&b| b == b'\t').expect("INDEX<TAB>ENTRY");
            (std::str::from_utf8(&line[..tab]).unwrap().parse().unwrap(), line[tab + 1..].to_vec())
        })
        .collect();
    assert!(acked.len() >= 1000, "only {} acknowledgements", acked.len());
    let max_acked = acked.iter().map(|(i, _)| *i).max().unwrap();
    let distinct: std::collections::HashSet<u64> = acked.iter().map(|(i, _)| *i).collect();
    assert_eq!(distinct.len(), acked.len(), "an index was acknowledged twice");

    // Restart: the log opens, takes more appends, integrates and signs again.
    let out = signet(&["log", "load", "--dir", s(&dir), "--count", "1000", "--concurrency", "64", "--sign"]);
    assert!(out.status.success(), "the log did not restart after the crash: {}", stderr(&out));
    drop(heavy);
    let after = std::fs::read(&checkpoint_file).unwrap();
    let (after_cp, _) = parse_checkpoint(&after);
    CheckpointVerifier::new(ORIGIN, vkey(&log_key)).unwrap().open(&after).unwrap();
    assert!(after_cp.size >= max_acked + 1 + 1000, "size {} after the restart; acknowledged up to {max_acked}", after_cp.size);
    assert!(after_cp.size >= before_cp.size + 1000);

    // (a) Every acknowledged entry is in its entry bundle, at its index.
    let mut bundles: std::collections::HashMap<u64, Vec<Vec<u8>>> = std::collections::HashMap::new();
    for (index, entry) in &acked {
        let tile = index / 256;
        let entries = bundles.entry(tile).or_insert_with(|| {
            let width = (after_cp.size - tile * 256).min(256) as u16;
            let data = std::fs::read(dir.join(entries_path(tile, width))).unwrap();
            parse_entry_bundle(&data).unwrap().into_iter().map(<[u8]>::to_vec).collect()
        });
        assert_eq!(entries.get((index % 256) as usize), Some(entry), "acknowledged entry {index}");
    }
    // …and, for a sample of them including the last acknowledged and the highest index, an
    // offline proof from the log verifies against the entry's bytes.
    let mut sample: Vec<usize> = (0..200).map(|k| k * acked.len() / 200).collect();
    sample.push(acked.len() - 1);
    sample.push(acked.iter().position(|(i, _)| *i == max_acked).unwrap());
    sample.sort_unstable();
    sample.dedup();
    let halves: Vec<Vec<(u64, Vec<u8>)>> =
        [0, 1].iter().map(|h| sample.iter().skip(*h).step_by(2).map(|&k| acked[k].clone()).collect()).collect();
    std::thread::scope(|scope| {
        for (h, half) in halves.iter().enumerate() {
            let (dir, log_key, tmp) = (&dir, &log_key, tmp.path());
            scope.spawn(move || {
                let proof_file = tmp.join(format!("sample-{h}.tlog-proof"));
                let entry_file = tmp.join(format!("sample-{h}.entry"));
                for (index, entry) in half {
                    proof(dir, *index, &proof_file);
                    std::fs::write(&entry_file, entry).unwrap();
                    let out = verify_proof(&proof_file, &entry_file, log_key, &[], None);
                    assert_eq!(code(&out), 0, "acknowledged entry {index}: {}{}", stdout(&out), stderr(&out));
                }
            });
        }
    });

    // (b) The log after the restart is consistent with the last checkpoint published before
    // the crash: an audit that remembers that checkpoint passes.
    let state = path("before-crash.state");
    std::fs::write(&state, &before).unwrap();
    let server = log_serve(&dir, "127.0.0.1:0", &[]);
    let out = signet(&["log", "audit", &server.url(), "--log-key", &log_key, "--state", s(&state)]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains(&format!("extends the previous audit at size {}", before_cp.size)), "{}", stdout(&out));
    assert!(stdout(&out).contains(&format!("tree size: {}", after_cp.size)), "{}", stdout(&out));
}

/// Kills (SIGKILL on Unix) and reaps a child when dropped or asked.
struct Killed(Option<Child>);

impl Killed {
    fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("not yet killed")
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        self.kill();
    }
}
