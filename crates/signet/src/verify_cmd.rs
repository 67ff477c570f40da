//! `signet verify`: runs `signet-verify` on each file and prints a report for people (text) or
//! machines (`--json`, schema `signet.verify/v1`).
//!
//! Exit codes, the same with and without `--json`: 0 when every signature of every file is
//! valid and trusted; 1 when any is not (or a file has no signature, or its structure cannot
//! be read); 2 for usage errors and inputs that are not PDFs or cannot be read.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use clap::Args;
use serde_json::json;
use signet_pki::cert::Certificate;
use signet_verify::{Indication, Options, Report, VerifyError};

use crate::files::FileSource;

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// PDF files to verify.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// A trusted root certificate (PEM or DER; repeatable).
    #[arg(long = "trust")]
    pub trust: Vec<PathBuf>,
    /// Print JSON (one object per file, schema signet.verify/v1).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: VerifyArgs) -> ExitCode {
    let mut anchors: Vec<Certificate> = Vec::new();
    for t in &args.trust {
        let loaded = std::fs::read(t)
            .map_err(|e| e.to_string())
            .and_then(|b| signet_pki::pem::certs_from_pem_or_der(&b).map_err(|e| e.to_string()));
        match loaded {
            Ok(mut v) if !v.is_empty() => anchors.append(&mut v),
            Ok(_) => {
                eprintln!("error: --trust {}: no certificate in the file", t.display());
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("error: --trust {}: {e}", t.display());
                return ExitCode::from(2);
            }
        }
    }
    let opts = Options { trust_anchors: anchors, now: SystemTime::now() };
    let mut worst = 0u8;
    for path in &args.files {
        let shown = path.display().to_string();
        let result = FileSource::open(path)
            .map_err(|e| VerifyError::Unreadable(format!("{e:#}")))
            .and_then(|src| signet_verify::verify(&src, &opts));
        match result {
            Ok(report) => {
                let ok = report.all_passed();
                if args.json {
                    println!("{}", to_json(&shown, &report));
                } else {
                    print_text(&shown, &report);
                }
                if !ok {
                    worst = worst.max(1);
                }
            }
            Err(e) => {
                if args.json {
                    println!("{}", json!({"schema": "signet.verify/v1", "file": shown, "error": e.to_string()}));
                }
                eprintln!("error: {shown}: {e}");
                worst = 2;
            }
        }
    }
    ExitCode::from(worst)
}

pub fn verdict(report: &Report) -> &'static str {
    if report.all_passed() {
        "VALID"
    } else if report.problems.is_empty()
        && !report.signatures.is_empty()
        && report.signatures.iter().all(|s| s.indication != Indication::TotalFailed)
    {
        "INDETERMINATE"
    } else {
        "INVALID"
    }
}

pub fn to_json(file: &str, report: &Report) -> serde_json::Value {
    json!({
        "schema": "signet.verify/v1",
        "file": file,
        "verdict": verdict(report),
        "signatures": report.signatures,
        "document": { "revisions": report.revisions },
        "problems": report.problems,
    })
}

fn print_text(file: &str, report: &Report) {
    println!("{file}: {} ({} revision(s), {} signature(s))", verdict(report), report.revisions, report.signatures.len());
    for p in &report.problems {
        println!("  problem: {p}");
    }
    for (i, s) in report.signatures.iter().enumerate() {
        let kind = match s.kind {
            signet_verify::Kind::Signature => "signature",
            signet_verify::Kind::DocumentTimestamp => "document time-stamp",
        };
        println!("  [{}] {kind} in field {:?}: {:?}{}", i + 1, s.field, s.indication, s.sub_indication.map(|x| format!(" / {x}")).unwrap_or_default());
        if let Some(c) = &s.signer {
            println!("      signer:     {}  (serial {}, issued by {})", c.subject, c.serial, c.issuer);
        }
        println!("      integrity:  {:?}; signature value valid: {}; chain trusted: {}", s.integrity, s.crypto_valid, s.trusted);
        if let Some(t) = &s.signing_time {
            println!("      time:       {} ({})", t.time, t.source);
        }
        if let Some(ts) = &s.timestamp {
            println!("      time-stamp: {} by {} (valid: {}, trusted: {})", ts.time, ts.tsa, ts.valid, ts.trusted);
        }
        if let Some(l) = &s.level {
            println!("      level:      {l}");
        }
        if let Some(p) = s.certify {
            println!("      certifies:  DocMDP P={p}");
        }
        println!(
            "      covers:     revision {} of {}{}",
            s.covered_revision.map(|r| r.to_string()).unwrap_or_else(|| "?".into()),
            report.revisions,
            if s.covers_whole_file { " (the whole file)" } else { "" }
        );
        for n in &s.notes {
            println!("      note:       {n}");
        }
    }
}
