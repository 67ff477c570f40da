//! The `signet` command's behaviour at its edges: bad input gets a clear error, a non-zero exit
//! and no output file; the CA commands write what they promise; `verify` keeps its exit codes
//! and JSON shape; the demo runs. (Third-party validators are in `interop.rs`.)

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SIGNET: &str = env!("CARGO_BIN_EXE_signet");

fn signet<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    // Messages for people are asserted in English, whatever the machine's locale.
    Command::new(SIGNET).args(args).env("SIGNET_LANG", "en").stdin(Stdio::null()).output().expect("run signet")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "signet failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A CA, a signer with a password, a sample PDF and a seal in a temp dir.
struct Setup {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    ca: PathBuf,
    p12: PathBuf,
    pw: PathBuf,
    pdf: PathBuf,
    seal: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let ca = dir.join("ca");
        ok(&signet(["ca".as_ref(), "init".as_ref(), "--dir".as_ref(), ca.as_os_str()] as [&std::ffi::OsStr; 4]));
        let pw = dir.join("pw.txt");
        std::fs::write(&pw, "s3cret 密码\n").unwrap();
        let p12 = dir.join("signer.p12");
        ok(&signet([
            "ca".as_ref(),
            "issue".as_ref(),
            "--dir".as_ref(),
            ca.as_os_str(),
            "--name".as_ref(),
            "张三".as_ref(),
            "--org".as_ref(),
            "杭州某某科技有限公司".as_ref(),
            "--email".as_ref(),
            "zhangsan@example.com".as_ref(),
            "--out".as_ref(),
            p12.as_os_str(),
            "--password-file".as_ref(),
            pw.as_os_str(),
        ] as [&std::ffi::OsStr; 14]));
        let pdf = dir.join("contract.pdf");
        ok(&signet(["sample-pdf".as_ref(), "-o".as_ref(), pdf.as_os_str(), "--pages".as_ref(), "2".as_ref()] as [&std::ffi::OsStr; 5]));
        let seal = dir.join("seal.png");
        ok(&signet(["sample-seal".as_ref(), "-o".as_ref(), seal.as_os_str()] as [&std::ffi::OsStr; 3]));
        Setup { _tmp: tmp, dir, ca, p12, pw, pdf, seal }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `signet sign IN -o OUT --p12 P12 --password-file PW` + extra arguments.
    fn sign(&self, input: &Path, out: &Path, extra: &[&str]) -> Output {
        let mut args: Vec<std::ffi::OsString> = vec![
            "sign".into(),
            input.into(),
            "-o".into(),
            out.into(),
            "--p12".into(),
            self.p12.clone().into(),
            "--password-file".into(),
            self.pw.clone().into(),
        ];
        args.extend(extra.iter().map(Into::into));
        signet(args)
    }

    fn tsa_dir(&self) -> String {
        self.ca.display().to_string()
    }
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

/// `signet ca serve` or `signet tsa serve` (`what`) for `dir` on 127.0.0.1:`port`, answering
/// once this returns; stopped when the guard drops.
fn serve(what: &str, dir: &Path, port: u16) -> Server {
    let child = Command::new(SIGNET)
        .args([what, "serve", "--dir"])
        .arg(dir)
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let guard = Server(child);
    wait_for_port(port);
    guard
}

fn wait_for_port(port: u16) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(20), "server on port {port} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An HTTP server that answers every request with 200 and `body`, for `n` requests.
fn garbage_server(body: &'static [u8], n: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 8192];
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(body);
        }
    });
    port
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn bad_input_gets_a_clear_error_and_no_output_file() {
    let s = Setup::new();
    let not_pdf = s.path("notes.txt");
    std::fs::write(&not_pdf, "this is a text file, not a contract").unwrap();
    let truncated = s.path("truncated.pdf");
    let full = std::fs::read(&s.pdf).unwrap();
    std::fs::write(&truncated, &full[..full.len() / 2]).unwrap();
    let broken_xref = s.path("broken-xref.pdf");
    let text = String::from_utf8_lossy(&full).into_owned();
    let pos = text.rfind("startxref").unwrap();
    let mut bad = full[..pos].to_vec();
    bad.extend_from_slice(b"startxref\n123\n%%EOF\n");
    std::fs::write(&broken_xref, bad).unwrap();
    let encrypted = s.path("encrypted.pdf");
    let q = Command::new("qpdf")
        .args(["--encrypt", "user", "owner", "256", "--"])
        .arg(&s.pdf)
        .arg(&encrypted)
        .status()
        .expect("qpdf is needed (run bash .ci/run to install it)");
    assert!(q.success());
    let wrong_pw = s.path("wrong-pw.txt");
    std::fs::write(&wrong_pw, "not the password\n").unwrap();
    let garbage_port = garbage_server(b"this is not DER at all", 4);
    let unreachable = format!("http://127.0.0.1:{}/tsa", free_port());
    let garbage = format!("http://127.0.0.1:{garbage_port}/tsa");

    let cases: Vec<(&str, PathBuf, Vec<String>, &str)> = vec![
        ("not a PDF", not_pdf.clone(), vec!["--level".into(), "B-B".into()], "not a PDF"),
        ("truncated", truncated.clone(), vec!["--level".into(), "B-B".into()], "cross-reference"),
        ("broken startxref", broken_xref.clone(), vec!["--level".into(), "B-B".into()], "cross-reference"),
        ("encrypted", encrypted.clone(), vec!["--level".into(), "B-B".into()], "encrypted"),
        ("page out of range", s.pdf.clone(), vec!["--level".into(), "B-B".into(), "--page".into(), "9".into(), "--rect".into(), "10,10,100,100".into()], "page 9 does not exist"),
        ("rect out of range", s.pdf.clone(), vec!["--level".into(), "B-B".into(), "--page".into(), "1".into(), "--rect".into(), "10,10,9000,100".into()], "rectangle"),
        ("empty rect", s.pdf.clone(), vec!["--level".into(), "B-B".into(), "--page".into(), "1".into(), "--rect".into(), "100,100,50,200".into()], "rectangle"),
        ("malformed rect", s.pdf.clone(), vec!["--level".into(), "B-B".into(), "--page".into(), "1".into(), "--rect".into(), "1,2,three,4".into()], "--rect"),
        ("TSA unreachable", s.pdf.clone(), vec!["--level".into(), "B-T".into(), "--tsa".into(), unreachable], "cannot reach"),
        ("TSA answers garbage", s.pdf.clone(), vec!["--level".into(), "B-T".into(), "--tsa".into(), garbage], "not a valid time-stamp"),
        ("B-T without a TSA", s.pdf.clone(), vec!["--level".into(), "B-T".into()], "time-stamp authority"),
        ("image is not a PNG", s.pdf.clone(), vec!["--level".into(), "B-B".into(), "--page".into(), "1".into(), "--rect".into(), "10,10,100,100".into(), "--image".into(), not_pdf.display().to_string()], "PNG"),
    ];
    let mut failures = Vec::new();
    for (name, input, extra, expect) in &cases {
        let out = s.path(&format!("out-{}.pdf", name.replace(' ', "-")));
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let o = s.sign(input, &out, &extra);
        let err = stderr(&o);
        if o.status.success() {
            failures.push(format!("{name}: signing succeeded"));
        } else if !err.contains(expect) {
            failures.push(format!("{name}: error does not mention {expect:?}: {err}"));
        }
        if out.exists() {
            failures.push(format!("{name}: an output file was written"));
        }
    }

    // Wrong PKCS#12 password.
    let out = s.path("out-wrong-pw.pdf");
    let o = signet([
        "sign".as_ref(), s.pdf.as_os_str(), "-o".as_ref(), out.as_os_str(), "--p12".as_ref(), s.p12.as_os_str(),
        "--password-file".as_ref(), wrong_pw.as_os_str(), "--level".as_ref(), "B-B".as_ref(),
    ] as [&std::ffi::OsStr; 10]);
    if o.status.success() || !stderr(&o).contains("wrong password") || out.exists() {
        failures.push(format!("wrong password: {}", stderr(&o)));
    }

    // A failed signing leaves an existing output file untouched.
    let existing = s.path("existing.pdf");
    std::fs::write(&existing, b"previous content").unwrap();
    let o = s.sign(&not_pdf, &existing, &["--level", "B-B"]);
    assert!(!o.status.success());
    assert_eq!(std::fs::read(&existing).unwrap(), b"previous content", "a failed signing changed the output file");

    assert!(failures.is_empty(), "{} problem(s):\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn expired_and_revoked_certificates_are_refused() {
    let s = Setup::new();
    // A certificate valid for zero days has expired by the time it signs.
    let expired = s.path("expired.p12");
    ok(&signet([
        "ca".as_ref(), "issue".as_ref(), "--dir".as_ref(), s.ca.as_os_str(), "--name".as_ref(), "Old".as_ref(),
        "--days".as_ref(), "0".as_ref(), "--out".as_ref(), expired.as_os_str(),
    ] as [&std::ffi::OsStr; 10]));
    std::thread::sleep(Duration::from_millis(1100));
    let out = s.path("expired-out.pdf");
    let o = signet([
        "sign".as_ref(), s.pdf.as_os_str(), "-o".as_ref(), out.as_os_str(), "--p12".as_ref(), expired.as_os_str(),
        "--level".as_ref(), "B-B".as_ref(),
    ] as [&std::ffi::OsStr; 8]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("expired"), "{}", stderr(&o));
    assert!(!out.exists());

    // Revocation: the CRL lists the serial, and B-LT signing with the CA's data refuses.
    let serial = cert_serial(&s.p12, &s.pw);
    ok(&signet(["ca".as_ref(), "revoke".as_ref(), "--dir".as_ref(), s.ca.as_os_str(), "--serial".as_ref(), serial.to_lowercase().as_ref()] as [&std::ffi::OsStr; 6]));
    let again = signet(["ca".as_ref(), "revoke".as_ref(), "--dir".as_ref(), s.ca.as_os_str(), "--serial".as_ref(), serial.as_ref()] as [&std::ffi::OsStr; 6]);
    assert!(!again.status.success() && stderr(&again).contains("already revoked"));
    let unknown = signet(["ca".as_ref(), "revoke".as_ref(), "--dir".as_ref(), s.ca.as_os_str(), "--serial".as_ref(), "0BADC0DE".as_ref()] as [&std::ffi::OsStr; 6]);
    assert!(!unknown.status.success() && stderr(&unknown).contains("no certificate with serial"));
    let crl = s.path("issuing.crl");
    ok(&signet(["ca".as_ref(), "crl".as_ref(), "--dir".as_ref(), s.ca.as_os_str(), "--out".as_ref(), crl.as_os_str()] as [&std::ffi::OsStr; 6]));
    let text = Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-text", "-in"])
        .arg(&crl)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(&serial), "CRL does not list {serial}:\n{text}");
    let verify = Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-in"])
        .arg(&crl)
        .arg("-CAfile")
        .arg(s.ca.join("issuing.pem"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&verify.stderr).contains("verify OK"), "{}", String::from_utf8_lossy(&verify.stderr));
    let out = s.path("revoked-out.pdf");
    let o = s.sign(&s.pdf, &out, &["--level", "B-LT", "--tsa-dir", &s.tsa_dir()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("revoked"), "{}", stderr(&o));
    assert!(!out.exists());
}

/// The leaf certificate of a PKCS#12 file as PEM, read by OpenSSL.
fn leaf_pem(p12: &Path, pw: &Path) -> Vec<u8> {
    let pem = Command::new("openssl")
        .args(["pkcs12", "-nokeys", "-clcerts", "-in"])
        .arg(p12)
        .arg("-passin")
        .arg(format!("file:{}", pw.display()))
        .output()
        .unwrap();
    assert!(pem.status.success(), "{}", String::from_utf8_lossy(&pem.stderr));
    pem.stdout
}

/// `openssl x509 ARGS` on the leaf certificate of a PKCS#12 file; its standard output.
fn leaf_x509(p12: &Path, pw: &Path, args: &[&str]) -> String {
    let mut child = Command::new("openssl")
        .arg("x509")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&leaf_pem(p12, pw)).unwrap();
    String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout).into_owned()
}

fn cert_serial(p12: &Path, pw: &Path) -> String {
    leaf_x509(p12, pw, &["-noout", "-serial"]).trim().trim_start_matches("serial=").to_string()
}

#[test]
fn ca_files_names_and_pkcs12_chain() {
    let s = Setup::new();
    for f in ["root.pem", "issuing.pem", "tsa.pem", "ocsp.pem", "ca.json"] {
        assert!(s.ca.join(f).is_file(), "{f} missing");
    }
    use std::os::unix::fs::PermissionsExt;
    for k in ["root", "issuing", "tsa", "ocsp"] {
        let mode = std::fs::metadata(s.ca.join("private").join(format!("{k}.key"))).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{k}.key is not 0600");
    }
    assert_eq!(std::fs::metadata(&s.p12).unwrap().permissions().mode() & 0o777, 0o600);
    // The PKCS#12 holds key, leaf and the chain, readable by OpenSSL; the Chinese name survives.
    let info = Command::new("openssl")
        .args(["pkcs12", "-nokeys", "-in"])
        .arg(&s.p12)
        .arg("-passin")
        .arg(format!("file:{}", s.pw.display()))
        .output()
        .unwrap();
    assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));
    let text = String::from_utf8_lossy(&info.stdout);
    assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 3, "{text}");
    let subject = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-nameopt", "utf8,sep_comma_plus", "-in"])
        .arg(s.ca.join("tsa.pem"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&subject.stdout).contains("Time-Stamping"));
    let leaf = cert_text(&s.p12, &s.pw);
    assert!(leaf.contains("张三") && leaf.contains("杭州某某科技有限公司"), "{leaf}");
    assert!(leaf.contains("Digital Signature, Non Repudiation"), "{leaf}");
    // The TSA certificate's EKU is critical.
    let tsa = Command::new("openssl").args(["x509", "-noout", "-text", "-in"]).arg(s.ca.join("tsa.pem")).output().unwrap();
    let tsa = String::from_utf8_lossy(&tsa.stdout);
    assert!(tsa.contains("X509v3 Extended Key Usage: critical") && tsa.contains("Time Stamping"), "{tsa}");
    // A second init into the same directory is refused; RSA-3072 works.
    let again = signet(["ca".as_ref(), "init".as_ref(), "--dir".as_ref(), s.ca.as_os_str()] as [&std::ffi::OsStr; 4]);
    assert!(!again.status.success() && stderr(&again).contains("already holds"));
    let rsa = s.path("ca-rsa");
    ok(&signet(["ca".as_ref(), "init".as_ref(), "--dir".as_ref(), rsa.as_os_str(), "--alg".as_ref(), "rsa3072".as_ref(), "--base-url".as_ref(), "http://127.0.0.1:9999".as_ref()] as [&std::ffi::OsStr; 8]));
    let root = Command::new("openssl").args(["x509", "-noout", "-text", "-in"]).arg(rsa.join("issuing.pem")).output().unwrap();
    let root = String::from_utf8_lossy(&root.stdout);
    assert!(root.contains("3072 bit") && root.contains("http://127.0.0.1:9999/crl/root.crl"), "{root}");
    let bad_url = signet(["ca".as_ref(), "init".as_ref(), "--dir".as_ref(), s.path("x").as_os_str(), "--base-url".as_ref(), "ftp://x".as_ref()] as [&std::ffi::OsStr; 6]);
    assert!(!bad_url.status.success());
}

fn cert_text(p12: &Path, pw: &Path) -> String {
    leaf_x509(p12, pw, &["-noout", "-text", "-nameopt", "utf8,sep_comma_plus"])
}

#[test]
fn verify_exit_codes_and_json_report() {
    let s = Setup::new();
    let signed = s.path("signed.pdf");
    ok(&s.sign(&s.pdf, &signed, &["--level", "B-T", "--tsa-dir", &s.tsa_dir(), "--page", "2", "--rect", "300,100,450,250", "--image", &s.seal.display().to_string(), "--reason", "同意"]));
    // The input is an exact prefix of the output.
    let input = std::fs::read(&s.pdf).unwrap();
    let output = std::fs::read(&signed).unwrap();
    assert!(output.starts_with(&input));

    let root = s.ca.join("root.pem");
    let v = signet(["verify".as_ref(), "--trust".as_ref(), root.as_os_str(), "--json".as_ref(), signed.as_os_str()] as [&std::ffi::OsStr; 5]);
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
    let json: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(json["schema"], "signet.verify/v1");
    assert_eq!(json["verdict"], "VALID");
    let sig = &json["signatures"][0];
    assert_eq!(sig["kind"], "signature");
    assert_eq!(sig["indication"], "TOTAL_PASSED");
    assert_eq!(sig["integrity"], "intact");
    assert_eq!(sig["trusted"], true);
    assert_eq!(sig["level"], "B-T");
    assert_eq!(sig["signing_time"]["source"], "timestamp");
    assert_eq!(sig["covers_whole_file"], true);
    assert!(sig["signer"]["subject"].as_str().unwrap().contains("张三"));
    assert_eq!(sig["signer"]["key"], "EC 256");
    assert_eq!(sig["signer"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(sig["revocation"]["status"], "not_checked");
    assert_eq!(json["document"]["modification"]["verdict"], "NONE");
    assert_eq!(sig["modification_after"], "NONE");
    assert_eq!(json["document"]["revisions"], 2);

    // Same file without the trust anchor: signature intact, chain not trusted → 1.
    let v = signet(["verify".as_ref(), signed.as_os_str()] as [&std::ffi::OsStr; 2]);
    assert_eq!(v.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&v.stdout).contains("NO_CERTIFICATE_CHAIN_FOUND"));

    // One flipped byte inside the signed range → integrity broken, 1 (text and JSON alike).
    let mut tampered = output.clone();
    let at = input.len() / 2;
    tampered[at] ^= 0x01;
    let tampered_path = s.path("tampered.pdf");
    std::fs::write(&tampered_path, &tampered).unwrap();
    for json_flag in [false, true] {
        let mut args: Vec<std::ffi::OsString> = vec!["verify".into(), "--trust".into(), root.clone().into()];
        if json_flag {
            args.push("--json".into());
        }
        args.push(tampered_path.clone().into());
        let v = signet(args);
        assert_eq!(v.status.code(), Some(1), "json={json_flag}");
        if json_flag {
            let j: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
            assert_eq!(j["verdict"], "INVALID");
            assert_eq!(j["signatures"][0]["integrity"], "broken");
            assert_eq!(j["signatures"][0]["sub_indication"], "HASH_FAILURE");
        }
    }
    // An unsigned PDF fails (1); a non-PDF, a missing file and bad usage are 2.
    let v = signet(["verify".as_ref(), "--trust".as_ref(), root.as_os_str(), s.pdf.as_os_str()] as [&std::ffi::OsStr; 4]);
    assert_eq!(v.status.code(), Some(1));
    let txt = s.path("x.txt");
    std::fs::write(&txt, "hello").unwrap();
    assert_eq!(signet(["verify".as_ref(), txt.as_os_str()] as [&std::ffi::OsStr; 2]).status.code(), Some(2));
    assert_eq!(signet(["verify".as_ref(), s.path("missing.pdf").as_os_str()] as [&std::ffi::OsStr; 2]).status.code(), Some(2));
    assert_eq!(signet(["verify"]).status.code(), Some(2));
    assert_eq!(signet(["verify", "--bogus-flag", "x.pdf"]).status.code(), Some(2));
    // Several files: one bad one makes the whole run fail.
    let v = signet(["verify".as_ref(), "--trust".as_ref(), root.as_os_str(), signed.as_os_str(), tampered_path.as_os_str()] as [&std::ffi::OsStr; 5]);
    assert_eq!(v.status.code(), Some(1));
}

#[test]
fn tsa_serve_answers_rfc3161_over_http() {
    let s = Setup::new();
    // The operator's own policy OID from ca.json goes into every token; a malformed one is refused.
    let settings_path = s.ca.join("ca.json");
    let mut settings: serde_json::Value = serde_json::from_slice(&std::fs::read(&settings_path).unwrap()).unwrap();
    settings["tsa_policy"] = "not-an-oid".into();
    std::fs::write(&settings_path, serde_json::to_vec(&settings).unwrap()).unwrap();
    let bad = signet(["tsa".as_ref(), "serve".as_ref(), "--dir".as_ref(), s.ca.as_os_str(), "--addr".as_ref(), "127.0.0.1:1".as_ref()] as [&std::ffi::OsStr; 6]);
    assert!(!bad.status.success() && stderr(&bad).contains("tsa_policy"), "{}", stderr(&bad));
    settings["tsa_policy"] = "1.2.3.4.5".into();
    std::fs::write(&settings_path, serde_json::to_vec(&settings).unwrap()).unwrap();
    let port = free_port();
    let _guard = serve("tsa", &s.ca, port);
    let signed = s.path("tsa-signed.pdf");
    ok(&s.sign(&s.pdf, &signed, &["--level", "B-T", "--tsa", &format!("http://127.0.0.1:{port}/tsa")]));
    let v = signet(["verify".as_ref(), "--trust".as_ref(), s.ca.join("root.pem").as_os_str(), signed.as_os_str()] as [&std::ffi::OsStr; 4]);
    assert_eq!(v.status.code(), Some(0), "{}", String::from_utf8_lossy(&v.stdout));

    // openssl's own query, answered by the server, verifies with openssl.
    let data = s.path("data.bin");
    std::fs::write(&data, b"contract bytes").unwrap();
    let query = s.path("q.tsq");
    assert!(Command::new("openssl").args(["ts", "-query", "-sha256", "-cert", "-data"]).arg(&data).arg("-out").arg(&query).status().unwrap().success());
    let reply = http_post(port, "/tsa", "application/timestamp-query", &std::fs::read(&query).unwrap());
    let reply_path = s.path("r.tsr");
    std::fs::write(&reply_path, reply).unwrap();
    let chain = s.path("chain.pem");
    let mut pem = std::fs::read(s.ca.join("issuing.pem")).unwrap();
    pem.extend(std::fs::read(s.ca.join("tsa.pem")).unwrap());
    std::fs::write(&chain, pem).unwrap();
    let v = Command::new("openssl")
        .args(["ts", "-verify", "-queryfile"])
        .arg(&query)
        .arg("-in")
        .arg(&reply_path)
        .arg("-CAfile")
        .arg(s.ca.join("root.pem"))
        .arg("-untrusted")
        .arg(&chain)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&v.stdout).contains("Verification: OK"), "{}{}", String::from_utf8_lossy(&v.stdout), String::from_utf8_lossy(&v.stderr));
    let text = Command::new("openssl").args(["ts", "-reply", "-text", "-in"]).arg(&reply_path).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Policy OID: 1.2.3.4.5"), "{text}");
    assert!(text.contains("Accuracy:"), "{text}");
    // Garbage in → an RFC 3161 rejection, not a crash.
    let bad = http_post(port, "/tsa", "application/timestamp-query", b"garbage");
    assert!(!bad.is_empty());
}

/// A minimal HTTP/1.1 POST returning the body.
fn http_post(port: u16, path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").expect("HTTP response") + 4;
    let headers = String::from_utf8_lossy(&resp[..split]).to_string();
    assert!(headers.starts_with("HTTP/1.1 200"), "{headers}");
    resp[split..].to_vec()
}

#[test]
fn demo_runs_and_can_run_again() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("signet-data");
    for _ in 0..2 {
        let o = signet(["demo".as_ref(), "--dir".as_ref(), dir.as_os_str()] as [&std::ffi::OsStr; 3]);
        let out = ok(&o);
        assert!(out.contains("VALID"), "{out}");
        assert!(out.contains("pdfsig"), "{out}");
    }
    assert!(dir.join("contract-signed.pdf").is_file());
    assert!(dir.join("ca/root.pem").is_file());
}

/// A minimal HTTP/1.1 GET returning (status line, body).
fn http_get(port: u16, path: &str) -> (String, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").expect("HTTP response") + 4;
    let status = String::from_utf8_lossy(&resp[..split]).lines().next().unwrap_or_default().to_string();
    (status, resp[split..].to_vec())
}

fn openssl_ocsp_status(s: &Setup, leaf: &Path, port: u16) -> String {
    let o = Command::new("openssl")
        .args(["ocsp", "-no_nonce", "-issuer"])
        .arg(s.ca.join("issuing.pem"))
        .arg("-cert")
        .arg(leaf)
        .arg("-url")
        .arg(format!("http://127.0.0.1:{port}/ocsp"))
        .arg("-CAfile")
        .arg(s.ca.join("root.pem"))
        .output()
        .unwrap();
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn ca_serve_answers_crl_and_ocsp_and_sees_revocations() {
    let s = Setup::new();
    let port = free_port();
    let _guard = serve("ca", &s.ca, port);

    // CRLs verify under their issuers.
    for (name, issuer) in [("root.crl", "root.pem"), ("issuing.crl", "issuing.pem")] {
        let (status, body) = http_get(port, &format!("/crl/{name}"));
        assert!(status.contains("200"), "{name}: {status}");
        let path = s.path(name);
        std::fs::write(&path, body).unwrap();
        let v = Command::new("openssl")
            .args(["crl", "-inform", "DER", "-noout", "-in"])
            .arg(&path)
            .arg("-CAfile")
            .arg(s.ca.join(issuer))
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&v.stderr).contains("verify OK"), "{name}");
    }
    let (status, _) = http_get(port, "/crl/other.crl");
    assert!(status.contains("404"), "{status}");

    // OCSP over POST (openssl's client): good, then revoked once `ca revoke` has run.
    let leaf = s.path("leaf.pem");
    std::fs::write(&leaf, leaf_pem(&s.p12, &s.pw)).unwrap();
    let answer = openssl_ocsp_status(&s, &leaf, port);
    assert!(answer.contains("Response verify OK") && answer.contains(": good"), "{answer}");
    let serial = cert_serial(&s.p12, &s.pw);
    ok(&signet(["ca".as_ref(), "revoke".as_ref(), "--dir".as_ref(), s.ca.as_os_str(), "--serial".as_ref(), serial.as_ref()] as [&std::ffi::OsStr; 6]));
    let answer = openssl_ocsp_status(&s, &leaf, port);
    assert!(answer.contains("Response verify OK") && answer.contains(": revoked"), "{answer}");

    // OCSP over GET (RFC 6960 appendix A: base64 of the DER request in the path).
    let req = s.path("req.der");
    let made = Command::new("openssl")
        .args(["ocsp", "-no_nonce", "-issuer"])
        .arg(s.ca.join("issuing.pem"))
        .arg("-cert")
        .arg(&leaf)
        .arg("-reqout")
        .arg(&req)
        .output()
        .unwrap();
    assert!(made.status.success());
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&req).unwrap());
    let encoded = b64.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D");
    let (status, body) = http_get(port, &format!("/ocsp/{encoded}"));
    assert!(status.contains("200"), "{status}");
    let resp = s.path("resp.der");
    std::fs::write(&resp, body).unwrap();
    let v = Command::new("openssl")
        .args(["ocsp", "-respin"])
        .arg(&resp)
        .arg("-issuer")
        .arg(s.ca.join("issuing.pem"))
        .arg("-cert")
        .arg(&leaf)
        .arg("-CAfile")
        .arg(s.ca.join("root.pem"))
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&v.stdout), String::from_utf8_lossy(&v.stderr));
    assert!(text.contains("Response verify OK") && text.contains(": revoked"), "{text}");
}

/// `verify --online` asks the signer's OCSP service (a real `ca serve`): good, then revoked;
/// a B-T signature revoked after its trusted time-stamp stays valid, a B-B one fails. Without
/// `--online`, revocation is reported as not checked.
#[test]
fn verify_online_revocation() {
    let s = Setup::new();
    let port = free_port();
    let ca = s.path("ca-online");
    let base = format!("http://127.0.0.1:{port}");
    ok(&signet(["ca".as_ref(), "init".as_ref(), "--dir".as_ref(), ca.as_os_str(), "--base-url".as_ref(), base.as_ref()] as [&std::ffi::OsStr; 6]));
    let p12 = s.path("online.p12");
    ok(&signet([
        "ca".as_ref(), "issue".as_ref(), "--dir".as_ref(), ca.as_os_str(), "--name".as_ref(), "李四".as_ref(),
        "--out".as_ref(), p12.as_os_str(), "--password-file".as_ref(), s.pw.as_os_str(),
    ] as [&std::ffi::OsStr; 10]));
    let sign = |level: &str, out: &Path| {
        let mut args: Vec<std::ffi::OsString> = vec!["sign".into(), s.pdf.clone().into(), "-o".into(), out.into(), "--p12".into(), p12.clone().into(), "--password-file".into(), s.pw.clone().into(), "--level".into(), level.into()];
        if level == "B-T" {
            args.extend(["--tsa-dir".into(), ca.clone().into()]);
        }
        ok(&signet(args));
    };
    let (bb, bt) = (s.path("bb.pdf"), s.path("bt.pdf"));
    sign("B-B", &bb);
    sign("B-T", &bt);
    let root = ca.join("root.pem");
    let verify = |file: &Path, online: bool| -> (Option<i32>, serde_json::Value) {
        let mut args: Vec<std::ffi::OsString> = vec!["verify".into(), "--json".into(), "--trust".into(), root.clone().into()];
        if online {
            args.push("--online".into());
        }
        args.push(file.into());
        let out = signet(args);
        (out.status.code(), serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null))
    };

    // Offline: passes, and says revocation was not checked.
    let (code, j) = verify(&bb, false);
    assert_eq!(code, Some(0), "{j}");
    assert_eq!(j["signatures"][0]["revocation"]["status"], "not_checked", "{j}");

    // Online with the service down: the status is unknown, with a reason; it does not hang.
    let (_, j) = verify(&bb, true);
    assert_eq!(j["signatures"][0]["revocation"]["status"], "unknown", "{j}");
    assert!(j["signatures"][0]["notes"].to_string().contains("could not be fetched"), "{j}");

    let _guard = serve("ca", &ca, port);
    let (code, j) = verify(&bb, true);
    assert_eq!(code, Some(0), "{j}");
    assert_eq!(j["signatures"][0]["revocation"]["status"], "good", "{j}");
    assert_eq!(j["signatures"][0]["revocation"]["source"], "online", "{j}");

    let serial = cert_serial(&p12, &s.pw);
    // Revocation times have one-second resolution: revoke clearly after the time-stamp.
    std::thread::sleep(Duration::from_millis(2100));
    ok(&signet(["ca".as_ref(), "revoke".as_ref(), "--dir".as_ref(), ca.as_os_str(), "--serial".as_ref(), serial.as_ref()] as [&std::ffi::OsStr; 6]));
    let (code, j) = verify(&bb, true);
    assert_eq!(code, Some(1), "{j}");
    assert_eq!(j["signatures"][0]["sub_indication"], "REVOKED", "{j}");
    assert_eq!(j["signatures"][0]["revocation"]["status"], "revoked", "{j}");
    // The B-T signature's trusted time-stamp proves it was made before the revocation.
    let (code, j) = verify(&bt, true);
    assert_eq!(code, Some(0), "{j}");
    assert_eq!(j["signatures"][0]["revocation"]["status"], "revoked", "{j}");
    assert!(j["signatures"][0]["notes"].to_string().contains("after the time-stamp"), "{j}");
}
