//! `signet demo`: the whole signing story in one command, on local files only.
//!
//! Creates (or reuses) a CA under `./signet-demo/ca`, issues two signers (a company and a
//! person), writes a two-page sample contract, has the company certify it (DocMDP P=2) with a
//! red seal and create the second signer's field, has the person sign that field, both at
//! B-LTA with the CA's in-process TSA, verifies the result and prints how to check it with
//! third-party tools.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result};
use clap::Args;

use crate::ca::{self, CaDir};
use crate::sign_cmd::{self, SignArgs};

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where to put the demo CA and files.
    #[arg(long, default_value = "signet-demo")]
    pub dir: PathBuf,
}

pub fn run(args: DemoArgs) -> Result<()> {
    let dir = &args.dir;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let ca_dir = dir.join("ca");
    let now = SystemTime::now();
    let ca = if ca_dir.join("ca.json").exists() {
        println!("using the demo CA in {}", ca_dir.display());
        CaDir::load(&ca_dir)?
    } else {
        println!("creating a demo CA in {}", ca_dir.display());
        CaDir::init(&ca_dir, signet_pki::KeyAlgorithm::P256, "http://127.0.0.1:8780", "Signet Demo", now)?
    };

    let password_file = dir.join("demo-password.txt");
    ca::write_secret(&password_file, b"demo\n")?;
    let company_p12 = dir.join("company.p12");
    let person_p12 = dir.join("zhangsan.p12");
    issue(&ca, "杭州某某科技有限公司", Some("legal@example.com"), Some("杭州某某科技有限公司"), &company_p12, now)?;
    issue(&ca, "张三", Some("zhangsan@example.com"), None, &person_p12, now)?;

    let contract = dir.join("contract.pdf");
    ca::write_atomic(&contract, &signet_pdf::sample_contract("Service Agreement", 2, 0))?;
    let red_seal = dir.join("seal-company.png");
    ca::write_atomic(&red_seal, &crate::seal::company_seal_png(400, [0xd7, 0x19, 0x1c])?)?;
    let blue_seal = dir.join("seal-person.png");
    ca::write_atomic(&blue_seal, &crate::seal::company_seal_png(400, [0x1f, 0x4e, 0xb4])?)?;

    let font_ok = crate::files::find_font(None, None).is_ok();
    if !font_ok {
        println!("note: no CJK font found (Debian: apt-get install fonts-noto-cjk); the seals are drawn without text lines");
    }
    let date = date_utc(now);
    let text = |lines: &[&str]| -> Vec<String> { if font_ok { lines.iter().map(|s| s.to_string()).collect() } else { Vec::new() } };

    let step1 = dir.join("contract-signed-1.pdf");
    let signed = dir.join("contract-signed.pdf");
    let base = SignArgs {
        input: contract.clone(),
        out: step1.clone(),
        p12: company_p12.clone(),
        password_file: Some(password_file.clone()),
        level: "B-LTA".into(),
        tsa: None,
        tsa_dir: Some(ca_dir.clone()),
        page: Some(2),
        rect: Some("80,120,230,270".into()),
        image: Some(red_seal),
        text: text(&["杭州某某科技有限公司", &date]),
        font: None,
        font_index: None,
        field: Some("CompanySeal".into()),
        certify: Some(2),
        add_field: vec!["Signer2,2,350,120,500,270".into()],
        reason: Some("Company seal / 公司盖章".into()),
        location: Some("杭州".into()),
        contact: None,
        rsa_pss: false,
    };
    println!("{}", sign_cmd::sign_file(&base, SystemTime::now())?);
    let second = SignArgs {
        input: step1.clone(),
        out: signed.clone(),
        p12: person_p12,
        page: None,
        rect: None,
        image: Some(blue_seal),
        text: text(&["张三", &date]),
        field: Some("Signer2".into()),
        certify: None,
        add_field: Vec::new(),
        reason: Some("I agree / 本人同意".into()),
        ..base.clone()
    };
    println!("{}", sign_cmd::sign_file(&second, SystemTime::now())?);

    println!();
    let report = {
        let src = crate::files::FileSource::open(&signed)?;
        let opts = signet_verify::Options { trust_anchors: vec![ca.root.clone()], now: SystemTime::now(), online: None };
        signet_verify::verify(&src, &opts)?
    };
    println!(
        "{}",
        crate::messages::tf(
            crate::messages::Msg::DemoVerification,
            &[("file", &signed.display().to_string()), ("verdict", crate::verify_cmd::verdict(&report))],
        )
    );
    for s in &report.signatures {
        println!(
            "  {:<12} {}  {}  level {}",
            s.field,
            crate::verify_cmd::indication_name(s.indication),
            s.signer.as_ref().map(|c| c.subject.as_str()).unwrap_or("-"),
            s.level.as_deref().unwrap_or("-")
        );
    }
    print_next_steps(dir, &ca_dir, &signed);
    if !report.all_passed() {
        anyhow::bail!("the demo contract did not verify; see the report above");
    }
    Ok(())
}

fn issue(ca: &CaDir, name: &str, email: Option<&str>, org: Option<&str>, out: &Path, now: SystemTime) -> Result<()> {
    let (cert, key) = ca.issue(
        &ca::IssueParams { name, email, phone: None, org, alg: signet_pki::KeyAlgorithm::P256, valid_days: 730 },
        now,
    )?;
    let p12 = signet_pki::pkcs12::write_pkcs12(&key.to_pkcs8_der()?, &cert, &ca.chain(), "demo", Some(name), &mut signet_pki::SystemRng)?;
    ca::write_secret(out, &p12)?;
    println!("issued a certificate to {name} -> {}", out.display());
    Ok(())
}

/// `YYYY-MM-DD` in UTC.
pub fn date_utc(now: SystemTime) -> String {
    let secs = now.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    time::OffsetDateTime::from_unix_timestamp(secs as i64)
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_default()
}

fn print_next_steps(dir: &Path, ca_dir: &Path, signed: &Path) {
    let d = dir.display();
    let ca = ca_dir.display();
    let s = signed.display();
    println!(
        "
Files:
  {d}/contract.pdf            the unsigned sample contract
  {d}/contract-signed-1.pdf   after the company's certifying seal (B-LTA)
  {s}     after the second signer (B-LTA): the result
  {ca}/root.pem   the demo root certificate (trust anchor)

Check it with third-party tools:
  # keep the demo CA's CRL/OCSP/TSA service running (pdfsig asks the OCSP responder):
  cargo run --release -- ca serve --dir {ca} --addr 127.0.0.1:8780 &
  mkdir -p {d}/nssdb && certutil -N -d sql:{d}/nssdb --empty-password
  certutil -A -d sql:{d}/nssdb -n signet-demo-root -t CT,C,C -i {ca}/root.pem
  pdfsig -nssdir sql:{d}/nssdb {s}
  pyhanko sign validate --trust {ca}/root.pem --trust-replace --pretty-print {s}
  qpdf --check {s}
  cargo run --release -- verify --trust {ca}/root.pem {s}"
    );
}
