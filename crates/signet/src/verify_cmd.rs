//! `signet verify`: runs `signet-verify` on each file and prints a report for people (text) or
//! machines (`--json`, schema `signet.verify/v1`, one object per line).
//!
//! Exit codes, the same with and without `--json`: 0 when every file's signatures and document
//! time-stamps pass and nothing forbidden changed after signing; 1 when anything fails (also a
//! file with no signature, or one whose structure cannot be read); 2 for usage errors and
//! inputs that are not PDFs or cannot be read.
//!
//! Many files are verified on all cores; results are printed in the order given. With one file
//! the text report is the full one; with several, one line per file unless `--full`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::SystemTime;

use clap::Args;
use serde_json::json;
use signet_pki::cert::Certificate;
use signet_verify::{FileVerdict, Indication, Options, Report, Verdict, VerifyError};

use crate::files::FileSource;
use crate::messages::{Msg, change_text, lang, refusal_text, t, tf, yes_no};

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// PDF files to verify.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Trusted root certificates: a PEM or DER file, or a directory of them (repeatable).
    #[arg(long = "trust")]
    pub trust: Vec<PathBuf>,
    /// Print JSON (one object per file and line, schema signet.verify/v1).
    #[arg(long)]
    pub json: bool,
    /// The full text report for every file, also when there are several.
    #[arg(long)]
    pub full: bool,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Ask the signer's CRL/OCSP services for revocation data the document does not carry
    /// (off by default; each request times out after 20 s).
    #[arg(long)]
    pub online: bool,
}

pub fn run(args: VerifyArgs) -> ExitCode {
    let anchors = match load_trust(&args.trust) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{}: {e}", t(Msg::Error));
            return ExitCode::from(2);
        }
    };
    let online: Option<std::sync::Arc<dyn signet_verify::RevocationFetcher>> =
        args.online.then(|| std::sync::Arc::new(crate::services::OnlineRevocation) as _);
    let opts = Options { trust_anchors: anchors, now: SystemTime::now(), online };
    let full = args.full || args.files.len() == 1;
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, args.files.len().max(1));

    // Workers take the next file; the main thread prints results in the order given.
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, Result<Report, VerifyError>)>();
    let mut worst = 0u8;
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, files, opts) = (&next, &args.files, &opts);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    if tx.send((i, verify_file(path, opts))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut want = 0usize;
        for (i, result) in rx {
            pending.insert(i, result);
            while let Some(result) = pending.remove(&want) {
                let shown = args.files[want].display().to_string();
                worst = worst.max(print_result(&shown, result, args.json, full));
                want += 1;
            }
        }
    });
    ExitCode::from(worst)
}

fn verify_file(path: &Path, opts: &Options) -> Result<Report, VerifyError> {
    let src = FileSource::open(path).map_err(|e| VerifyError::Unreadable(format!("{e:#}")))?;
    signet_verify::verify(&src, opts)
}

/// Prints one file's result and returns its exit code.
fn print_result(shown: &str, result: Result<Report, VerifyError>, json_out: bool, full: bool) -> u8 {
    match result {
        Ok(report) => {
            if json_out {
                println!("{}", to_json(shown, &report));
            } else if full {
                print_text(shown, &report);
            } else {
                print_line(shown, &report);
            }
            u8::from(report.verdict() != FileVerdict::Valid)
        }
        Err(e) => {
            if json_out {
                println!("{}", json!({"schema": signet_verify::SCHEMA_V1, "file": shown, "error": e.to_string()}));
            }
            eprintln!("{}: {shown}: {e}", t(Msg::Error));
            2
        }
    }
}

/// The certificates of every `--trust` file, and of every file in a `--trust` directory.
fn load_trust(paths: &[PathBuf]) -> Result<Vec<Certificate>, String> {
    let mut anchors = Vec::new();
    for p in paths {
        let files: Vec<PathBuf> = if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("--trust {}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file())
                .collect();
            v.sort();
            v
        } else {
            vec![p.clone()]
        };
        let mut found = 0;
        for f in &files {
            let loaded = std::fs::read(f)
                .map_err(|e| e.to_string())
                .and_then(|b| signet_pki::pem::certs_from_pem_or_der(&b).map_err(|e| e.to_string()));
            match loaded {
                Ok(mut v) => {
                    found += v.len();
                    anchors.append(&mut v);
                }
                // In a directory, files that are not certificates are skipped; a named file must be one.
                Err(_) if p.is_dir() => {}
                Err(e) => return Err(format!("--trust {}: {e}", f.display())),
            }
        }
        if found == 0 {
            return Err(format!("--trust {}: no certificate found", p.display()));
        }
    }
    Ok(anchors)
}

pub fn verdict(report: &Report) -> &'static str {
    report.verdict().as_str()
}

pub fn to_json(file: &str, report: &Report) -> serde_json::Value {
    serde_json::to_value(report.v1(file)).unwrap_or_else(|e| json!({"schema": signet_verify::SCHEMA_V1, "file": file, "error": e.to_string()}))
}

fn verdict_text(report: &Report) -> &'static str {
    match report.verdict() {
        FileVerdict::Valid => t(Msg::Valid),
        FileVerdict::Indeterminate => t(Msg::Indeterminate),
        FileVerdict::Invalid => t(Msg::Invalid),
    }
}

fn modification_text(v: Verdict) -> &'static str {
    match v {
        Verdict::None => t(Msg::ModNone),
        Verdict::Permitted => t(Msg::ModPermitted),
        Verdict::NotPermitted => t(Msg::ModNotPermitted),
    }
}

/// One line for a file in a batch.
fn print_line(file: &str, report: &Report) {
    let mut line = format!(
        "{file}: {}",
        tf(
            Msg::Summary,
            &[
                ("verdict", verdict_text(report)),
                ("sigs", &report.signatures.len().to_string()),
                ("mods", modification_text(report.modification.verdict)),
            ]
        )
    );
    let firsts: Vec<String> = report
        .signatures
        .iter()
        .filter(|s| s.indication != Indication::TotalPassed)
        .map(|s| format!("{} {}", s.field, s.sub_indication.unwrap_or(indication_name(s.indication))))
        .chain(report.problems.iter().cloned())
        .take(3)
        .collect();
    if !firsts.is_empty() {
        line.push_str(&format!(" — {}", firsts.join("; ")));
    }
    println!("{line}");
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
            let source = match (st.source, st.trusted) {
                ("timestamp", true) => t(Msg::FromTimestamp),
                ("timestamp", false) => t(Msg::FromUntrustedTimestamp),
                _ => t(Msg::Claimed),
            };
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
        if !s.covers_whole_file && s.covered_revision.is_some() {
            println!("      {} {}", label(Msg::Modifications), modification_text(s.modification_after));
        }
        for n in &s.notes {
            println!("      {} {n}", label(Msg::Note));
        }
    }
    let m = &report.modification;
    println!("  {}: {}", t(Msg::Modifications), modification_text(m.verdict));
    for c in &m.changes {
        let mut text = change_text(c.kind, lang()).to_string();
        let page = c.page.map(|p| p.to_string()).unwrap_or_else(|| "?".into());
        let object = c.object.map(|o| o.to_string()).unwrap_or_else(|| "?".into());
        for (k, v) in [
            ("field", c.field.as_deref().map(|f| format!("{f:?}")).unwrap_or_default()),
            ("page", page),
            ("subtype", c.subtype.clone().unwrap_or_default()),
            ("key", c.key.clone().unwrap_or_default()),
            ("object", object),
        ] {
            text = text.replace(&format!("{{{k}}}"), &v);
        }
        let verdict = if c.permitted { t(Msg::Permitted).to_string() } else { t(Msg::NotPermitted).to_string() };
        let why = c.refusal.map(|r| format!(": {}", refusal_text(r, lang()))).unwrap_or_default();
        println!("    - {}: {text} [{verdict}{why}]", tf(Msg::Revision, &[("n", &c.revision.to_string())]));
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
