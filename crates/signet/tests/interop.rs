//! Interoperability: PDFs signed by `signet` must be accepted by third-party
//! validators, and `signet verify` must accept what a third party signed.
//!
//! Validators: poppler's `pdfsig` (NSS trust store), pyHanko (CLI `validate` /
//! `adesverify` and its Python API through `tests/interop/pyhanko_check.py`),
//! `qpdf --check`, and OpenSSL (`cms -verify` on every extracted CMS, `ts -verify`
//! on every time-stamp token). These tools are installed by `.ci/run`; a missing
//! tool is a test failure, never a skip.
//!
//! Everything is generated at test time under a temporary directory (set
//! `SIGNET_INTEROP_KEEP=1` to keep it): two Signet CAs (P-256, RSA-2048) each
//! served by `signet ca serve` (CRL, OCSP, TSA) on a free loopback port, the
//! fixtures (a) `signet sample-pdf`, (b) (a) rewritten by qpdf with object
//! streams, (c) (a) signed by pyHanko under an openssl-made CA.
//!
//! Each test collects every failure, named by its case
//! (`fixture/alg/level/visibility`), and asserts once at the end. The tests
//! share one lock so validators never run in parallel (2-core CI machine).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Serialises the tests of this binary: one validator at a time.
static SERIAL: Mutex<()> = Mutex::new(());

const SIGNET: &str = env!("CARGO_BIN_EXE_signet");
const CJK_FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
const LEVELS: [&str; 4] = ["B-B", "B-T", "B-LT", "B-LTA"];
const ALGS: [&str; 2] = ["p256", "rsa2048"];
const SIGN_TIMEOUT: Duration = Duration::from_secs(120);
const TOOL_TIMEOUT: Duration = Duration::from_secs(120);

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop")
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

/// {P-256, RSA-2048} × {B-B, B-T, B-LT, B-LTA} × {visible seal + CJK text, invisible}
/// on each fixture, every output checked by every validator.
#[test]
fn signed_pdfs_pass_third_party_validators() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut t = Run::new("matrix");
    let env = Env::new(&mut t, &ALGS);
    let fixtures = t.fixtures(&env);
    let seal = t.seal();

    let mut cases = Vec::new();
    for fx in &fixtures {
        for alg in ALGS {
            let ca = &env.cas[alg];
            for level in LEVELS {
                for visible in [true, false] {
                    let name = format!(
                        "{}/{alg}/{level}/{}",
                        fx.name,
                        if visible { "visible" } else { "invisible" }
                    );
                    let out = t.dir.join(format!("{}.pdf", name.replace('/', "_")));
                    let mut args = sign_args(&fx.path, &out, &ca.signer1, level);
                    if level != "B-B" {
                        args.extend(["--tsa".into(), ca.tsa_url().into()]);
                    }
                    if visible {
                        args.extend(visible_args(&seal, 1, "300,60,520,160"));
                        args.extend(["--reason".into(), "同意签署本合同".into()]);
                        args.extend(["--location".into(), "杭州".into()]);
                    }
                    if t.sign(&name, &args, &out) {
                        let mut sigs = fx.prior_sigs.clone();
                        sigs.push(SigExpect::new(level));
                        cases.push(t.case(&name, &out, ca, &fx.extra_trust, sigs));
                    }
                }
            }
        }
    }
    t.check_all(&env, &cases);
    t.finish();
}

/// Two signers, certification with pre-created fields, refusal on a P=1 document,
/// and `--tsa-dir` (local time-stamping) instead of the TSA URL.
#[test]
fn workflows_pass_third_party_validators() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut t = Run::new("workflows");
    let env = Env::new(&mut t, &ALGS);
    let fixtures = t.fixtures(&env);
    let seal = t.seal();
    let ca = &env.cas["p256"];
    let mut cases = Vec::new();

    for fx in fixtures.iter().filter(|f| f.prior_sigs.is_empty()) {
        // Two signers: the second signs the first's output.
        let name1 = format!("{}/p256/two-signers/first", fx.name);
        let out1 = t.out(&name1);
        let mut args = sign_args(&fx.path, &out1, &ca.signer1, "B-T");
        args.extend(["--tsa".into(), ca.tsa_url().into()]);
        args.extend(visible_args(&seal, 1, "60,60,280,160"));
        if t.sign(&name1, &args, &out1) {
            cases.push(t.case(&name1, &out1, ca, &[], vec![SigExpect::new("B-T")]));
            let name2 = format!("{}/p256/two-signers/second", fx.name);
            let out2 = t.out(&name2);
            let mut args = sign_args(&out1, &out2, &ca.signer2, "B-LTA");
            args.extend(["--tsa".into(), ca.tsa_url().into()]);
            args.extend(visible_args(&seal, 1, "320,60,540,160"));
            if t.sign(&name2, &args, &out2) {
                let sigs = vec![SigExpect::new("B-T"), SigExpect::new("B-LTA")];
                cases.push(t.case(&name2, &out2, ca, &[], sigs));
            }
        }

        // Certification (P=2) creating the second signer's field; the second signer fills it.
        let name1 = format!("{}/p256/certified/certifier", fx.name);
        let out1 = t.out(&name1);
        let mut args = sign_args(&fx.path, &out1, &ca.signer1, "B-T");
        args.extend(["--tsa".into(), ca.tsa_url().into()]);
        args.extend([
            "--field".into(),
            "Signer1".into(),
            "--certify".into(),
            "2".into(),
        ]);
        args.extend(["--add-field".into(), "Signer2,1,320,200,540,300".into()]);
        args.extend(visible_args(&seal, 1, "60,200,280,300"));
        if t.sign(&name1, &args, &out1) {
            let certified = SigExpect {
                level: "B-T",
                certify: Some(2),
                foreign: false,
            };
            cases.push(t.case(&name1, &out1, ca, &[], vec![certified.clone()]));
            let name2 = format!("{}/p256/certified/second", fx.name);
            let out2 = t.out(&name2);
            let mut args = sign_args(&out1, &out2, &ca.signer2, "B-LT");
            args.extend(["--tsa".into(), ca.tsa_url().into()]);
            args.extend(["--field".into(), "Signer2".into()]);
            if t.sign(&name2, &args, &out2) {
                let sigs = vec![certified, SigExpect::new("B-LT")];
                cases.push(t.case(&name2, &out2, ca, &[], sigs));
            }
        }

        // Certification P=1: valid on its own, and `signet sign` must refuse to add to it.
        let name1 = format!("{}/p256/certify-p1/certifier", fx.name);
        let out1 = t.out(&name1);
        let mut args = sign_args(&fx.path, &out1, &ca.signer1, "B-T");
        args.extend(["--tsa".into(), ca.tsa_url().into()]);
        args.extend(["--certify".into(), "1".into()]);
        if t.sign(&name1, &args, &out1) {
            let sigs = vec![SigExpect {
                level: "B-T",
                certify: Some(1),
                foreign: false,
            }];
            cases.push(t.case(&name1, &out1, ca, &[], sigs));
            let name2 = format!("{}/p256/certify-p1/refused", fx.name);
            let out2 = t.out(&name2);
            let mut args = sign_args(&out1, &out2, &ca.signer2, "B-B");
            args.extend(visible_args(&seal, 1, "320,60,540,160"));
            t.expect_refusal(&name2, &args, &out2);
        }
    }

    // --tsa-dir: time-stamps made locally from the CA directory's TSA key.
    for fx in &fixtures {
        for (alg, level) in [("p256", "B-T"), ("p256", "B-LTA"), ("rsa2048", "B-LT")] {
            let ca = &env.cas[alg];
            let name = format!("{}/{alg}/{level}/tsa-dir", fx.name);
            let out = t.out(&name);
            let mut args = sign_args(&fx.path, &out, &ca.signer1, level);
            args.extend(["--tsa-dir".into(), ca.dir.clone().into()]);
            if t.sign(&name, &args, &out) {
                let mut sigs = fx.prior_sigs.clone();
                sigs.push(SigExpect::new(level));
                cases.push(t.case(&name, &out, ca, &fx.extra_trust, sigs));
            }
        }
    }

    // RSASSA-PSS signatures (RSA key, --rsa-pss) through every validator.
    for fx in &fixtures {
        let ca = &env.cas["rsa2048"];
        for level in ["B-B", "B-LTA"] {
            let name = format!("{}/rsa2048-pss/{level}", fx.name);
            let out = t.out(&name);
            let mut args = sign_args(&fx.path, &out, &ca.signer1, level);
            args.push("--rsa-pss".into());
            if level != "B-B" {
                args.extend(["--tsa".into(), ca.tsa_url().into()]);
            }
            if t.sign(&name, &args, &out) {
                let mut sigs = fx.prior_sigs.clone();
                sigs.push(SigExpect::new(level));
                cases.push(t.case(&name, &out, ca, &fx.extra_trust, sigs));
            }
        }
    }

    t.check_all(&env, &cases);
    t.finish();
}

/// Reverse direction: `signet verify` on a PDF that pyHanko signed under an openssl CA.
#[test]
fn signet_verify_accepts_third_party_signatures() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut t = Run::new("reverse");
    let Some(a) = t.sample_pdf() else {
        return t.finish();
    };
    let Some((c, openssl_root)) = t.openssl_fixture(&a) else {
        return t.finish();
    };

    let verify = |t: &mut Run, what: &str, file: &Path, want: i32| {
        let mut cmd = Command::new(SIGNET);
        cmd.arg("verify")
            .arg(file)
            .arg("--trust")
            .arg(&openssl_root);
        match t.run(&mut cmd, TOOL_TIMEOUT) {
            Ok(o) if o.code == Some(want) => {}
            Ok(o) => t.fail(
                what,
                format!(
                    "signet verify: exit {:?}, want {want}\n{}",
                    o.code,
                    o.text()
                ),
            ),
            Err(e) => t.fail(what, e),
        }
    };

    verify(&mut t, "reverse/pyhanko-openssl-ca", &c, 0);

    let bytes = fs::read(&c).expect("read fixture (c)");
    match flip_signed_byte(&bytes) {
        Ok(flipped) => {
            let f = t.dir.join("c-flipped.pdf");
            fs::write(&f, flipped).expect("write flipped copy");
            verify(&mut t, "reverse/byte-flipped-in-signed-range", &f, 1);
        }
        Err(e) => t.fail("reverse/byte-flipped-in-signed-range", e),
    }

    let not_pdf = t.dir.join("not-a-pdf.pdf");
    fs::write(&not_pdf, "This is a plain text file, not a PDF.\n").expect("write non-PDF");
    verify(&mut t, "reverse/not-a-pdf", &not_pdf, 2);
    t.finish();
}

/// The checkers must reject broken files (a checker that passes everything proves
/// nothing): `tests/interop/selftest.py` feeds them pyHanko-signed good and bad files.
#[test]
fn interop_checkers_reject_broken_files() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut t = Run::new("selftest");
    let mut cmd = Command::new(&t.tools.python);
    cmd.arg(interop_dir().join("selftest.py"))
        .arg(t.dir.join("selftest"));
    match t.run(&mut cmd, Duration::from_secs(300)) {
        Ok(o) if o.code == Some(0) => {}
        Ok(o) => t.fail(
            "checker-selftest",
            format!("exit {:?}\n{}", o.code, o.text()),
        ),
        Err(e) => t.fail("checker-selftest", e),
    }
    t.finish();
}

// ---------------------------------------------------------------------------------------
// Cases and expectations
// ---------------------------------------------------------------------------------------

/// What one regular signature of a file must be (oldest first).
#[derive(Clone, Debug)]
struct SigExpect {
    level: &'static str,
    certify: Option<u8>,
    /// Made by a third party (fixture (c)), not by Signet.
    foreign: bool,
}

impl SigExpect {
    fn new(level: &'static str) -> Self {
        Self {
            level,
            certify: None,
            foreign: false,
        }
    }
}

/// One output file and what every validator must say about it.
struct Case {
    name: String,
    file: PathBuf,
    /// Root certificates the file's signatures chain to.
    trust: Vec<PathBuf>,
    /// TSA certificate plus its issuer, for `openssl ts -verify -untrusted`.
    tsa_untrusted: PathBuf,
    sigs: Vec<SigExpect>,
}

struct Fixture {
    name: &'static str,
    path: PathBuf,
    /// Signatures already in the fixture (fixture (c) carries pyHanko's).
    prior_sigs: Vec<SigExpect>,
    /// Roots beyond the Signet CA's needed to trust those signatures.
    extra_trust: Vec<PathBuf>,
}

fn sign_args(input: &Path, out: &Path, p12: &P12, level: &str) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "sign".into(),
        input.into(),
        "-o".into(),
        out.into(),
        "--p12".into(),
        p12.path.clone().into(),
        "--level".into(),
        level.into(),
    ];
    if let Some(pw) = &p12.password_file {
        args.extend(["--password-file".into(), pw.into()]);
    }
    args
}

fn visible_args(seal: &Path, page: u32, rect: &str) -> Vec<OsString> {
    vec![
        "--page".into(),
        page.to_string().into(),
        "--rect".into(),
        rect.into(),
        "--image".into(),
        seal.into(),
        "--text".into(),
        "张三".into(),
        "--text".into(),
        "杭州某某科技有限公司".into(),
        "--font".into(),
        CJK_FONT.into(),
    ]
}

// ---------------------------------------------------------------------------------------
// Environment: tools, CAs, servers
// ---------------------------------------------------------------------------------------

struct Tools {
    python: PathBuf,
    pyhanko: PathBuf,
}

impl Tools {
    /// Finds every tool; returns the missing ones as messages.
    fn find() -> (Self, Vec<String>) {
        let venv = std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".cache/signet-venv/bin"))
            .unwrap_or_default();
        let from_env = |var: &str, default: PathBuf| {
            std::env::var_os(var).map(PathBuf::from).unwrap_or(default)
        };
        let tools = Tools {
            python: from_env("SIGNET_PYTHON", venv.join("python")),
            pyhanko: from_env("SIGNET_PYHANKO", venv.join("pyhanko")),
        };
        let mut missing = Vec::new();
        for bin in ["pdfsig", "qpdf", "certutil", "openssl"] {
            if !on_path(bin) {
                missing.push(format!("`{bin}` not on PATH"));
            }
        }
        for (var, p) in [
            ("SIGNET_PYTHON", &tools.python),
            ("SIGNET_PYHANKO", &tools.pyhanko),
        ] {
            if !p.is_file() {
                missing.push(format!("{var}: {} does not exist", p.display()));
            }
        }
        if !Path::new(CJK_FONT).is_file() {
            missing.push(format!("font {CJK_FONT} missing (fonts-noto-cjk)"));
        }
        (tools, missing)
    }
}

fn on_path(bin: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
        .unwrap_or(false)
}

struct P12 {
    path: PathBuf,
    password_file: Option<PathBuf>,
}

struct Ca {
    alg: &'static str,
    dir: PathBuf,
    root: PathBuf,
    tsa_untrusted: PathBuf,
    port: u16,
    signer1: P12,
    signer2: P12,
}

impl Ca {
    fn tsa_url(&self) -> String {
        format!("http://127.0.0.1:{}/tsa", self.port)
    }
}

struct Env {
    cas: BTreeMap<&'static str, Ca>,
    /// `signet ca serve` children; killed on drop.
    _servers: Vec<ServerGuard>,
    nss_db: PathBuf,
}

impl Env {
    /// Makes one CA per algorithm, starts its server, issues two signers and builds an
    /// NSS trust store for pdfsig. Panics (with the command's output) if that fails:
    /// nothing can be checked without it.
    fn new(t: &mut Run, algs: &[&'static str]) -> Env {
        let mut cas = BTreeMap::new();
        let mut servers = Vec::new();
        for &alg in algs {
            let dir = t.dir.join(format!("ca-{alg}"));
            let port = free_port();
            let base = format!("http://127.0.0.1:{port}");
            t.must(
                &format!("ca init {alg}"),
                Command::new(SIGNET)
                    .args(["ca", "init", "--dir"])
                    .arg(&dir)
                    .args(["--alg", alg, "--base-url", &base]),
            );
            for f in ["root.pem", "issuing.pem", "tsa.pem", "ocsp.pem"] {
                assert!(
                    dir.join(f).is_file(),
                    "signet ca init --alg {alg} did not write {f}"
                );
            }
            let log = t.dir.join(format!("ca-serve-{alg}.log"));
            let child = Command::new(SIGNET)
                .args(["ca", "serve", "--dir"])
                .arg(&dir)
                .args(["--addr", &format!("127.0.0.1:{port}")])
                .stdin(Stdio::null())
                .stdout(File::create(&log).expect("create server log"))
                .stderr(File::create(&log).expect("create server log"))
                .spawn()
                .expect("spawn signet ca serve");
            let mut guard = ServerGuard { child, log };
            guard.wait_ready(port);
            servers.push(guard);

            let pw = t.dir.join(format!("signer2-{alg}.pw"));
            fs::write(&pw, "correct horse 电池").expect("write password file");
            let signer1 = P12 {
                path: t.dir.join(format!("signer1-{alg}.p12")),
                password_file: None,
            };
            let signer2 = P12 {
                path: t.dir.join(format!("signer2-{alg}.p12")),
                password_file: Some(pw),
            };
            t.must(
                &format!("ca issue {alg} signer1"),
                Command::new(SIGNET)
                    .args(["ca", "issue", "--dir"])
                    .arg(&dir)
                    .args(["--name", "张三", "--email", "zhangsan@example.com"])
                    .args(["--org", "杭州某某科技有限公司", "--alg", alg, "--out"])
                    .arg(&signer1.path),
            );
            t.must(
                &format!("ca issue {alg} signer2"),
                Command::new(SIGNET)
                    .args(["ca", "issue", "--dir"])
                    .arg(&dir)
                    .args([
                        "--name",
                        "李四",
                        "--email",
                        "lisi@example.com",
                        "--alg",
                        alg,
                    ])
                    .arg("--out")
                    .arg(&signer2.path)
                    .arg("--password-file")
                    .arg(signer2.password_file.as_ref().expect("set above")),
            );
            let tsa_untrusted = dir.join("tsa-untrusted.pem");
            let chain = [
                fs::read(dir.join("tsa.pem")),
                fs::read(dir.join("issuing.pem")),
            ];
            let chain: Vec<u8> = chain
                .into_iter()
                .flat_map(|r| r.expect("read CA file"))
                .collect();
            fs::write(&tsa_untrusted, chain).expect("write TSA chain");
            cas.insert(
                alg,
                Ca {
                    alg,
                    root: dir.join("root.pem"),
                    dir,
                    tsa_untrusted,
                    port,
                    signer1,
                    signer2,
                },
            );
        }

        // pdfsig trusts what is in this NSS database (both Signet roots, plus the openssl root
        // of fixture (c), added by `Run::openssl_fixture`).
        let nss_db = t.dir.join("nssdb");
        fs::create_dir_all(&nss_db).expect("mkdir nssdb");
        let db = format!("sql:{}", nss_db.display());
        t.must(
            "certutil -N",
            Command::new("certutil").args(["-N", "-d", &db, "--empty-password"]),
        );
        let env = Env {
            cas,
            _servers: servers,
            nss_db,
        };
        for ca in env.cas.values() {
            env.trust_in_nss(t, &format!("signet-root-{}", ca.alg), &ca.root);
        }
        env
    }

    fn trust_in_nss(&self, t: &mut Run, nick: &str, pem: &Path) {
        let db = format!("sql:{}", self.nss_db.display());
        t.must(
            &format!("certutil -A {nick}"),
            Command::new("certutil")
                .args(["-A", "-d", &db, "-n", nick, "-t", "CT,C,C", "-i"])
                .arg(pem),
        );
    }
}

/// Kills the server it holds when dropped, whatever the test outcome.
struct ServerGuard {
    child: Child,
    log: PathBuf,
}

impl ServerGuard {
    fn wait_ready(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "signet ca serve exited early ({status}):\n{}",
                    fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "signet ca serve did not listen on 127.0.0.1:{port} within 30 s:\n{}",
            fs::read_to_string(&self.log).unwrap_or_default()
        );
    }
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

// ---------------------------------------------------------------------------------------
// A test run: temp dir, command running, failure collection
// ---------------------------------------------------------------------------------------

struct Run {
    label: &'static str,
    dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    tools: Tools,
    failures: Vec<String>,
    jobs: usize,
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    fn text(&self) -> String {
        let mut s = String::new();
        for (what, t) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            let t = t.trim();
            if !t.is_empty() {
                s.push_str(&format!("--- {what}:\n{}\n", tail(t, 4000)));
            }
        }
        s
    }
}

fn tail(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut i = s.len() - max;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

static LOG_SEQ: AtomicUsize = AtomicUsize::new(0);

impl Run {
    fn new(label: &'static str) -> Run {
        let (tools, missing) = Tools::find();
        assert!(
            missing.is_empty(),
            "interop validators are missing — run `bash .ci/run` (it installs poppler-utils, qpdf, \
             libnss3-tools, fonts-noto-cjk, openssl and the pyHanko venv, and exports \
             SIGNET_PYTHON/SIGNET_PYHANKO):\n  {}",
            missing.join("\n  ")
        );
        let tmp = tempfile::Builder::new()
            .prefix(&format!("signet-interop-{label}-"))
            .tempdir()
            .expect("create temp dir");
        let dir = tmp.path().to_path_buf();
        let keep = std::env::var_os("SIGNET_INTEROP_KEEP").is_some_and(|v| v != "0");
        eprintln!(
            "interop {label}: working in {}{}",
            dir.display(),
            if keep { " (kept)" } else { "" }
        );
        let tmp = if keep {
            let _ = tmp.keep();
            None
        } else {
            Some(tmp)
        };
        fs::create_dir_all(dir.join("logs")).expect("mkdir logs");
        Run {
            label,
            dir,
            _tmp: tmp,
            tools,
            failures: Vec::new(),
            jobs: 0,
        }
    }

    fn fail(&mut self, case: &str, msg: impl Into<String>) {
        let msg = msg.into();
        eprintln!("FAIL [{case}] {}", msg.lines().next().unwrap_or(""));
        self.failures.push(format!("[{case}] {}", msg.trim_end()));
    }

    fn finish(self) {
        assert!(
            self.failures.is_empty(),
            "{} interop failure(s) in {}:\n\n{}\n",
            self.failures.len(),
            self.label,
            self.failures.join("\n\n")
        );
    }

    fn out(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{}.pdf", name.replace('/', "_")))
    }

    /// Runs a command with its output in files (no pipe deadlocks) and a time limit.
    fn run(&mut self, cmd: &mut Command, timeout: Duration) -> Result<Out, String> {
        let n = LOG_SEQ.fetch_add(1, Ordering::Relaxed);
        let (o, e) = (
            self.dir.join(format!("logs/{n}.out")),
            self.dir.join(format!("logs/{n}.err")),
        );
        let desc = format!("{cmd:?}");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(File::create(&o).map_err(|e| e.to_string())?)
            .stderr(File::create(&e).map_err(|e| e.to_string())?)
            .spawn()
            .map_err(|err| format!("cannot run {desc}: {err}"))?;
        let deadline = Instant::now() + timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("timed out after {timeout:?}: {desc}"));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(err) => return Err(format!("waiting for {desc}: {err}")),
            }
        };
        let read = |p: &Path| {
            let mut s = Vec::new();
            File::open(p)
                .and_then(|mut f| f.read_to_end(&mut s))
                .map(|_| String::from_utf8_lossy(&s).into_owned())
        };
        Ok(Out {
            code: status.code(),
            stdout: read(&o).unwrap_or_default(),
            stderr: read(&e).unwrap_or_default(),
        })
    }

    /// Runs a setup command that must succeed; panics with its output otherwise.
    fn must(&mut self, what: &str, cmd: &mut Command) -> Out {
        match self.run(cmd, SIGN_TIMEOUT) {
            Ok(o) if o.code == Some(0) => o,
            Ok(o) => panic!(
                "setup step `{what}` failed (exit {:?}):\n{}",
                o.code,
                o.text()
            ),
            Err(e) => panic!("setup step `{what}` failed: {e}"),
        }
    }

    /// `signet sign`; records a failure and returns false unless it succeeded and wrote `out`.
    fn sign(&mut self, case: &str, args: &[OsString], out: &Path) -> bool {
        let res = self.run(Command::new(SIGNET).args(args), SIGN_TIMEOUT);
        match res {
            Ok(o) if o.code == Some(0) && out.is_file() => true,
            Ok(o) if o.code == Some(0) => {
                self.fail(
                    case,
                    format!("signet sign exited 0 but wrote no {}", out.display()),
                );
                false
            }
            Ok(o) => {
                self.fail(case, format!("signet sign exit {:?}\n{}", o.code, o.text()));
                false
            }
            Err(e) => {
                self.fail(case, e);
                false
            }
        }
    }

    fn expect_refusal(&mut self, case: &str, args: &[OsString], out: &Path) {
        match self.run(Command::new(SIGNET).args(args), SIGN_TIMEOUT) {
            Ok(o) if o.code == Some(0) => self.fail(
                case,
                "signet sign accepted a document certified with P=1 (must refuse)",
            ),
            Ok(o) if o.code.is_none() => {
                self.fail(case, format!("signet sign was killed\n{}", o.text()))
            }
            Ok(_) if out.exists() => self.fail(
                case,
                format!("refused, but left an output file {}", out.display()),
            ),
            Ok(_) => {}
            Err(e) => self.fail(case, e),
        }
    }

    fn case(
        &mut self,
        name: &str,
        file: &Path,
        ca: &Ca,
        extra: &[PathBuf],
        sigs: Vec<SigExpect>,
    ) -> Case {
        let mut trust = vec![ca.root.clone()];
        trust.extend(extra.iter().cloned());
        Case {
            name: name.to_owned(),
            file: file.to_owned(),
            trust,
            tsa_untrusted: ca.tsa_untrusted.clone(),
            sigs,
        }
    }

    fn seal(&mut self) -> PathBuf {
        let seal = self.dir.join("seal.png");
        self.must(
            "sample-seal",
            Command::new(SIGNET).args(["sample-seal", "-o"]).arg(&seal),
        );
        assert!(
            fs::read(&seal).is_ok_and(|b| b.starts_with(b"\x89PNG")),
            "sample-seal wrote no PNG"
        );
        seal
    }

    fn sample_pdf(&mut self) -> Option<PathBuf> {
        let a = self.dir.join("fixture-a.pdf");
        let r = self.run(
            Command::new(SIGNET)
                .args(["sample-pdf", "--pages", "3", "-o"])
                .arg(&a),
            SIGN_TIMEOUT,
        );
        match r {
            Ok(o) if o.code == Some(0) && a.is_file() => Some(a),
            Ok(o) => {
                self.fail(
                    "fixture-a",
                    format!("signet sample-pdf exit {:?}\n{}", o.code, o.text()),
                );
                None
            }
            Err(e) => {
                self.fail("fixture-a", e);
                None
            }
        }
    }

    /// Fixture (c): `a` signed by pyHanko under an openssl CA. Returns (pdf, openssl root).
    fn openssl_fixture(&mut self, a: &Path) -> Option<(PathBuf, PathBuf)> {
        let c = self.dir.join("fixture-c.pdf");
        let work = self.dir.join("openssl-ca");
        let mut cmd = Command::new("bash");
        cmd.arg(interop_dir().join("make_openssl_fixture.sh"))
            .arg(&self.tools.pyhanko)
            .arg(a)
            .arg(&c)
            .arg(&work);
        match self.run(&mut cmd, TOOL_TIMEOUT) {
            Ok(o) if o.code == Some(0) && c.is_file() => Some((c, work.join("openssl-root.pem"))),
            Ok(o) => {
                self.fail(
                    "fixture-c",
                    format!("make_openssl_fixture.sh exit {:?}\n{}", o.code, o.text()),
                );
                None
            }
            Err(e) => {
                self.fail("fixture-c", e);
                None
            }
        }
    }

    /// The three fixtures; panics if (a) cannot be made (nothing else can run).
    fn fixtures(&mut self, env: &Env) -> Vec<Fixture> {
        let a = self
            .sample_pdf()
            .unwrap_or_else(|| panic!("{}", self.failures.join("\n")));
        let bytes = fs::read(&a).expect("read fixture (a)");
        assert!(bytes.starts_with(b"%PDF-"), "fixture (a) is not a PDF");
        assert!(
            bytes.windows(5).any(|w| w == b"\nxref") && bytes.windows(7).any(|w| w == b"trailer"),
            "fixture (a) should have a classic xref table"
        );
        let mut out = vec![Fixture {
            name: "fixture-a-classic",
            path: a.clone(),
            prior_sigs: vec![],
            extra_trust: vec![],
        }];

        let b = self.dir.join("fixture-b.pdf");
        let r = self.run(
            Command::new("qpdf")
                .arg("--object-streams=generate")
                .arg(&a)
                .arg(&b),
            TOOL_TIMEOUT,
        );
        match r {
            // qpdf exits 3 for warnings: those are failures here too.
            Ok(o) if o.code == Some(0) => {
                let bb = fs::read(&b).expect("read fixture (b)");
                if !bb.windows(7).any(|w| w == b"/ObjStm") {
                    self.fail("fixture-b-objstm", "qpdf output has no object streams");
                }
                out.push(Fixture {
                    name: "fixture-b-objstm",
                    path: b,
                    prior_sigs: vec![],
                    extra_trust: vec![],
                });
            }
            Ok(o) => self.fail(
                "fixture-b-objstm",
                format!("qpdf exit {:?}\n{}", o.code, o.text()),
            ),
            Err(e) => self.fail("fixture-b-objstm", e),
        }

        if let Some((c, root)) = self.openssl_fixture(&a) {
            env.trust_in_nss(self, "openssl-root", &root);
            out.push(Fixture {
                name: "fixture-c-pyhanko",
                path: c,
                prior_sigs: vec![SigExpect {
                    level: "B-B",
                    certify: None,
                    foreign: true,
                }],
                extra_trust: vec![root],
            });
        }
        out
    }

    // -----------------------------------------------------------------------------------
    // Checks
    // -----------------------------------------------------------------------------------

    /// Runs every validator on every case: one pyHanko batch, then per file the CLIs.
    fn check_all(&mut self, env: &Env, cases: &[Case]) {
        let started = Instant::now();
        let batch = self.pyhanko_batch(cases);
        for case in cases {
            let sigs = batch.get(&case.name).cloned().unwrap_or_default();
            self.check_qpdf(case);
            self.check_pdfsig(env, case, &sigs);
            self.check_pyhanko_cli(case, &sigs);
            self.check_openssl(case, &sigs);
        }
        eprintln!(
            "interop {}: checked {} files in {:.1?}",
            self.label,
            cases.len(),
            started.elapsed()
        );
    }

    /// pyHanko's Python API over the whole batch (`pyhanko_check.py`). Returns, per case,
    /// the signatures it extracted (kind, field, CMS/content/token paths).
    fn pyhanko_batch(&mut self, cases: &[Case]) -> BTreeMap<String, Vec<Value>> {
        self.jobs += 1;
        let jobs: Vec<Value> = cases
            .iter()
            .enumerate()
            .map(|(i, c)| {
                json!({
                    "name": c.name,
                    "file": c.file,
                    "trust": c.trust,
                    "extract_dir": self.dir.join(format!("extract/{}-{i}", self.jobs)),
                    "signatures": c.sigs.iter().map(|s| json!({"level": s.level, "certify": s.certify})).collect::<Vec<_>>(),
                })
            })
            .collect();
        let jobs_file = self.dir.join(format!("pyhanko-jobs-{}.json", self.jobs));
        let results_file = self.dir.join(format!("pyhanko-results-{}.json", self.jobs));
        fs::write(
            &jobs_file,
            serde_json::to_vec_pretty(&json!({ "jobs": jobs })).expect("json"),
        )
        .expect("write jobs");
        let mut cmd = Command::new(&self.tools.python);
        cmd.arg(interop_dir().join("pyhanko_check.py"))
            .arg(&jobs_file)
            .arg(&results_file);
        let timeout = Duration::from_secs(60 + 20 * cases.len() as u64);
        let mut map = BTreeMap::new();
        match self.run(&mut cmd, timeout) {
            Ok(o) if o.code == Some(0) => {
                let parsed: Result<Value, String> = fs::read(&results_file)
                    .map_err(|e| e.to_string())
                    .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()));
                let results = match parsed {
                    Ok(v) => v["results"].as_array().cloned().unwrap_or_default(),
                    Err(e) => {
                        self.fail(
                            "pyhanko-api",
                            format!("unreadable results: {e}\n{}", o.text()),
                        );
                        return map;
                    }
                };
                for r in results {
                    let name = r["name"].as_str().unwrap_or("?").to_owned();
                    for f in r["failures"].as_array().into_iter().flatten() {
                        self.fail(&name, format!("pyHanko API: {}", f.as_str().unwrap_or("?")));
                    }
                    map.insert(
                        name,
                        r["signatures"].as_array().cloned().unwrap_or_default(),
                    );
                }
            }
            Ok(o) => self.fail(
                "pyhanko-api",
                format!("pyhanko_check.py exit {:?}\n{}", o.code, o.text()),
            ),
            Err(e) => self.fail("pyhanko-api", e),
        }
        map
    }

    fn check_qpdf(&mut self, case: &Case) {
        match self.run(
            Command::new("qpdf").arg("--check").arg(&case.file),
            TOOL_TIMEOUT,
        ) {
            Ok(o)
                if o.code == Some(0)
                    && !o.stdout.contains("WARNING")
                    && !o.stderr.contains("WARNING") => {}
            Ok(o) => self.fail(
                &case.name,
                format!("qpdf --check exit {:?}\n{}", o.code, o.text()),
            ),
            Err(e) => self.fail(&case.name, e),
        }
    }

    /// pdfsig exits 0 whatever it finds: parse its per-signature blocks. Document
    /// time-stamps (which it cannot validate) are skipped, as identified by pyHanko's
    /// extraction, or by pdfsig's own type when that is unavailable.
    fn check_pdfsig(&mut self, env: &Env, case: &Case, sigs: &[Value]) {
        let doc_ts: Vec<&str> = sigs
            .iter()
            .filter(|s| s["kind"] == "doc-timestamp")
            .filter_map(|s| s["field"].as_str())
            .collect();
        let db = format!("sql:{}", env.nss_db.display());
        let o = match self.run(
            Command::new("pdfsig")
                .args(["-nssdir", &db])
                .arg(&case.file),
            TOOL_TIMEOUT,
        ) {
            Ok(o) => o,
            Err(e) => return self.fail(&case.name, e),
        };
        let mut blocks: Vec<Vec<&str>> = Vec::new();
        for line in o.stdout.lines() {
            if line.starts_with("Signature #") {
                blocks.push(Vec::new());
            } else if let Some(b) = blocks.last_mut() {
                b.push(line.trim_start_matches([' ', '-']).trim());
            }
        }
        let field_of = |b: &[&str]| {
            b.iter()
                .find_map(|l| l.strip_prefix("Signature Field Name:"))
                .map(str::trim)
                .unwrap_or("?")
                .to_owned()
        };
        let mut regular = 0;
        for b in &blocks {
            let field = field_of(b);
            let ty = b
                .iter()
                .find_map(|l| l.strip_prefix("Signature Type:"))
                .map(str::trim)
                .unwrap_or("");
            let is_doc_ts = if sigs.is_empty() {
                ty == "ETSI.RFC3161" || ty == "unknown"
            } else {
                doc_ts.contains(&field.as_str())
            };
            if is_doc_ts || b.contains(&"The signature form field is not signed.") {
                continue; // document time-stamp, or an empty field made for a later signer
            }
            regular += 1;
            let valid = b.contains(&"Signature Validation: Signature is Valid.");
            let trusted = b.contains(&"Certificate Validation: Certificate is Trusted.");
            if !(valid && trusted) {
                let said: Vec<&str> = b
                    .iter()
                    .copied()
                    .filter(|l| l.contains("Validation"))
                    .collect();
                self.fail(
                    &case.name,
                    format!("pdfsig on field {field:?}: {}", said.join("; ")),
                );
            }
        }
        if regular != case.sigs.len() {
            self.fail(
                &case.name,
                format!(
                    "pdfsig lists {regular} signatures, expected {}\n{}",
                    case.sigs.len(),
                    o.text()
                ),
            );
        }
    }

    fn trust_args(case: &Case) -> Vec<OsString> {
        let mut v: Vec<OsString> = Vec::new();
        for r in &case.trust {
            v.push("--trust".into());
            v.push(r.into());
        }
        v.push("--trust-replace".into());
        v
    }

    /// `pyhanko sign validate` (all fields; exit 1 if any fails), and for B-LTA files
    /// `pyhanko sign adesverify`, whose verdict is read per field: it demands revocation
    /// info for every certificate, which the third-party B-B signature of fixture (c)
    /// does not have, so only Signet's signatures must pass it there.
    fn check_pyhanko_cli(&mut self, case: &Case, sigs: &[Value]) {
        let mut cmd = Command::new(&self.tools.pyhanko);
        cmd.args(["sign", "validate"])
            .args(Self::trust_args(case))
            .arg(&case.file);
        match self.run(&mut cmd, TOOL_TIMEOUT) {
            Ok(o) if o.code == Some(0) => {}
            Ok(o) => self.fail(
                &case.name,
                format!("pyhanko sign validate: exit {:?}\n{}", o.code, o.text()),
            ),
            Err(e) => self.fail(&case.name, e),
        }
        if case.sigs.last().is_none_or(|s| s.level != "B-LTA") {
            return;
        }
        let mut cmd = Command::new(&self.tools.pyhanko);
        cmd.args(["sign", "adesverify"])
            .args(Self::trust_args(case))
            .arg(&case.file);
        let o = match self.run(&mut cmd, TOOL_TIMEOUT) {
            Ok(o) => o,
            Err(e) => return self.fail(&case.name, e),
        };
        let fields: Vec<&str> = sigs
            .iter()
            .filter(|s| s["kind"] == "signature")
            .filter_map(|s| s["field"].as_str())
            .collect();
        if fields.len() != case.sigs.len() {
            // No field names from pyHanko's API (already reported): judge by the exit code.
            if o.code != Some(0) {
                self.fail(
                    &case.name,
                    format!("pyhanko sign adesverify: exit {:?}\n{}", o.code, o.text()),
                );
            }
            return;
        }
        for (field, exp) in fields.iter().zip(&case.sigs).filter(|(_, e)| !e.foreign) {
            let prefix = format!("{field}:");
            let verdict = o
                .stdout
                .lines()
                .find_map(|l| l.strip_prefix(&prefix))
                .and_then(|l| l.split_once(':'));
            let ok = verdict.is_some_and(|(_, v)| {
                v.starts_with("INTACT:TRUSTED")
                    && !v.contains("UNTRUSTED")
                    && !v.contains("INVALID")
                    && !v.contains("ILLEGAL")
            });
            if !ok {
                self.fail(
                    &case.name,
                    format!(
                        "pyhanko sign adesverify on {field:?} ({}): exit {:?}\n{}",
                        exp.level,
                        o.code,
                        o.text()
                    ),
                );
            }
        }
    }

    /// `openssl cms -verify` on every regular signature's CMS over its byte range, and
    /// `openssl ts -verify` on every time-stamp token (signature or document time-stamp).
    fn check_openssl(&mut self, case: &Case, sigs: &[Value]) {
        let roots = self.dir.join(format!(
            "logs/roots-{}.pem",
            LOG_SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let bundle: Vec<u8> = case
            .trust
            .iter()
            .flat_map(|p| fs::read(p).unwrap_or_default())
            .collect();
        fs::write(&roots, bundle).expect("write root bundle");
        for s in sigs {
            let field = s["field"].as_str().unwrap_or("?").to_owned();
            let path = |k: &str| s[k].as_str().map(PathBuf::from);
            if s["kind"] == "signature" {
                let (Some(p7s), Some(content)) = (path("p7s"), path("content")) else {
                    continue; // extraction failure is already reported by pyhanko_check.py
                };
                let mut cmd = Command::new("openssl");
                cmd.args([
                    "cms", "-verify", "-inform", "DER", "-binary", "-purpose", "any", "-in",
                ])
                .arg(&p7s)
                .arg("-content")
                .arg(&content)
                .arg("-CAfile")
                .arg(&roots)
                .args(["-out", "/dev/null"]);
                match self.run(&mut cmd, TOOL_TIMEOUT) {
                    Ok(o) if o.code == Some(0) => {}
                    Ok(o) => self.fail(
                        &case.name,
                        format!(
                            "openssl cms -verify on {field:?}: exit {:?}\n{}",
                            o.code,
                            o.text()
                        ),
                    ),
                    Err(e) => self.fail(&case.name, e),
                }
            }
            let (Some(tst), Some(digest)) = (path("tst"), s["tst_digest_hex"].as_str()) else {
                continue;
            };
            let mut cmd = Command::new("openssl");
            cmd.args(["ts", "-verify", "-token_in", "-in"])
                .arg(&tst)
                .args(["-digest", digest, "-CAfile"])
                .arg(&roots)
                .arg("-untrusted")
                .arg(&case.tsa_untrusted);
            match self.run(&mut cmd, TOOL_TIMEOUT) {
                Ok(o) if o.code == Some(0) && o.stdout.contains("Verification: OK") => {}
                Ok(o) => self.fail(
                    &case.name,
                    format!(
                        "openssl ts -verify on the time-stamp of {field:?}: exit {:?}\n{}",
                        o.code,
                        o.text()
                    ),
                ),
                Err(e) => self.fail(&case.name, e),
            }
        }
        // Every signature from B-T up must have carried a token.
        let with_tst = sigs
            .iter()
            .filter(|s| s["kind"] == "signature" && s["tst"].is_string())
            .count();
        let want = case.sigs.iter().filter(|s| s.level != "B-B").count();
        if !sigs.is_empty() && with_tst < want {
            self.fail(
                &case.name,
                format!("{with_tst} signature time-stamp tokens found, expected {want}"),
            );
        }
    }
}

/// Flips one byte inside the first signed range, outside `/Contents`, where the file
/// still parses: in the binary comment on the header's second line, or failing that
/// just before the first `/ByteRange`.
fn flip_signed_byte(pdf: &[u8]) -> Result<Vec<u8>, String> {
    let text = String::from_utf8_lossy(pdf);
    let br = text
        .find("/ByteRange")
        .ok_or("no /ByteRange in fixture (c)")?;
    let nums: Vec<usize> = text[br + 10..]
        .trim_start()
        .trim_start_matches('[')
        .split(']')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    let first_len = *nums.get(1).ok_or("unreadable /ByteRange")?;
    let line2 = pdf
        .iter()
        .position(|&b| b == b'\n')
        .ok_or("no newline in PDF")?
        + 1;
    let pos = if pdf.get(line2) == Some(&b'%') && pdf.get(line2 + 1).is_some_and(|b| *b >= 0x80) {
        line2 + 1
    } else {
        // A space in the page tree or catalog: turn it into a newline (still valid syntax).
        pdf[..first_len.min(pdf.len())]
            .iter()
            .rposition(|&b| b == b' ')
            .ok_or("no byte to flip")?
    };
    if pos >= first_len {
        return Err("flip position outside the signed range".into());
    }
    let mut out = pdf.to_vec();
    out[pos] = if out[pos] == b' ' {
        b'\n'
    } else {
        out[pos] ^ 0x01
    };
    Ok(out)
}
