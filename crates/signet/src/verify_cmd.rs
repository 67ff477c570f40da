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
use crate::messages::{Msg, t, tf, yes_no};

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
                eprintln!("{}: --trust {}: no certificate in the file", crate::messages::t(Msg::Error), t.display());
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("{}: --trust {}: {e}", crate::messages::t(Msg::Error), t.display());
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
                eprintln!("{}: {shown}: {e}", t(Msg::Error));
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

fn verdict_text(report: &Report) -> &'static str {
    match verdict(report) {
        "VALID" => t(Msg::Valid),
        "INDETERMINATE" => t(Msg::Indeterminate),
        _ => t(Msg::Invalid),
    }
}

fn print_text(file: &str, report: &Report) {
    println!(
        "{file}: {} ({} {}, {} {})",
        verdict_text(report),
        report.revisions,
        t(Msg::Revisions),
        report.signatures.len(),
        t(Msg::Signatures)
    );
    for p in &report.problems {
        println!("  {}: {p}", t(Msg::Problem));
    }
    for (i, s) in report.signatures.iter().enumerate() {
        let kind = match s.kind {
            signet_verify::Kind::Signature => t(Msg::Signature),
            signet_verify::Kind::DocumentTimestamp => t(Msg::DocumentTimestamp),
        };
        println!(
            "  [{}] {kind} {} {:?}: {}{}",
            i + 1,
            t(Msg::InField),
            s.field,
            indication_name(s.indication),
            s.sub_indication.map(|x| format!(" / {x}")).unwrap_or_default()
        );
        let label = |m: Msg| crate::messages::label(m, 13);
        if let Some(c) = &s.signer {
            println!(
                "      {} {}  ({})",
                label(Msg::Signer),
                c.subject,
                tf(Msg::SerialIssuedBy, &[("serial", &c.serial), ("issuer", &c.issuer)])
            );
        }
        println!(
            "      {} {}; {}: {}; {}: {}",
            label(Msg::Integrity),
            match s.integrity {
                signet_verify::Integrity::Intact => t(Msg::Intact),
                signet_verify::Integrity::Broken => t(Msg::Broken),
                signet_verify::Integrity::Unknown => t(Msg::Unknown),
            },
            t(Msg::SignatureValueValid),
            yes_no(s.crypto_valid),
            t(Msg::ChainTrusted),
            yes_no(s.trusted)
        );
        if let Some(st) = &s.signing_time {
            let source = if st.source == "timestamp" { t(Msg::FromTimestamp) } else { t(Msg::Claimed) };
            println!("      {} {} ({source})", label(Msg::Time), st.time);
        }
        if let Some(ts) = &s.timestamp {
            println!(
                "      {} {} {} {} ({}: {}, {}: {})",
                label(Msg::Timestamp),
                ts.time,
                t(Msg::TimestampBy),
                ts.tsa,
                t(Msg::SignatureValueValid),
                yes_no(ts.valid),
                t(Msg::ChainTrusted),
                yes_no(ts.trusted)
            );
        }
        if let Some(l) = &s.level {
            println!("      {} {l}", label(Msg::Level));
        }
        if let Some(p) = s.certify {
            println!("      {} DocMDP P={p}", label(Msg::Certifies));
        }
        let rev = tf(
            Msg::RevisionOf,
            &[
                ("n", &s.covered_revision.map(|r| r.to_string()).unwrap_or_else(|| "?".into())),
                ("total", &report.revisions.to_string()),
            ],
        );
        let whole = if s.covers_whole_file { format!(" ({})", t(Msg::WholeFile)) } else { String::new() };
        println!("      {} {rev}{whole}", label(Msg::Covers));
        for n in &s.notes {
            println!("      {} {n}", label(Msg::Note));
        }
    }
}

/// ETSI names, as in the JSON.
pub fn indication_name(i: Indication) -> &'static str {
    match i {
        Indication::TotalPassed => "TOTAL_PASSED",
        Indication::TotalFailed => "TOTAL_FAILED",
        Indication::Indeterminate => "INDETERMINATE",
    }
}
