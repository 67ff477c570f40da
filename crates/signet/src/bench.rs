//! `signet bench` (hidden): signing throughput in this process, single-threaded and on several
//! threads, with the CA's in-process TSA. `bench/run.sh` drives it next to pyHanko and records
//! the figures in `docs/benchmarks.md`. Each measurement prints one JSON line.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use clap::Args;
use signet_pades::{Credentials, Level, Services};
use signet_pdf::{SignatureKind, SignatureRequest};
use signet_pki::KeyAlgorithm;

use crate::ca::{CaDir, IssueParams};
use crate::services::LocalTsa;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// The PDF to sign (default: a generated ~100 KB three-page contract).
    #[arg(long)]
    pub pdf: Option<PathBuf>,
    #[arg(long, default_value = "p256", value_parser = ["p256", "rsa2048", "rsa3072"])]
    pub alg: String,
    /// Comma-separated levels among B-B and B-T.
    #[arg(long, default_value = "B-B,B-T")]
    pub levels: String,
    /// Comma-separated thread counts (0 = all cores).
    #[arg(long, default_value = "1,0")]
    pub threads: String,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
}

pub fn run(args: BenchArgs) -> Result<()> {
    let alg = KeyAlgorithm::from_name(&args.alg)?;
    let tmp = tempfile::tempdir()?;
    let ca = CaDir::init(&tmp.path().join("ca"), alg, "http://127.0.0.1:8780", "Signet Bench", SystemTime::now())?;
    let (cert, key) = ca.issue(&IssueParams { name: "Bench Signer", email: None, phone: None, org: None, alg, valid_days: 30 }, SystemTime::now())?;
    let chain = ca.chain();
    let pdf = match &args.pdf {
        Some(p) => std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
        None => signet_pdf::sample_contract("Benchmark Contract", 3, 100 * 1024),
    };
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let request = SignatureRequest {
        kind: SignatureKind::Cades,
        field_name: None,
        placement: None,
        appearance: None,
        contents_capacity: 0,
        signing_time: None,
        name: Some("Bench Signer".into()),
        reason: None,
        location: None,
        contact_info: None,
        certify: None,
        add_fields: Vec::new(),
    };
    for level_name in args.levels.split(',') {
        let level = Level::parse(level_name).with_context(|| format!("unknown level {level_name:?}"))?;
        if level > Level::BT {
            bail!("bench measures B-B and B-T (B-LT/B-LTA add fixed-cost DSS and document time-stamp updates)");
        }
        for t in args.threads.split(',') {
            let threads: usize = t.trim().parse().with_context(|| format!("--threads {t:?}"))?;
            let threads = if threads == 0 { cores } else { threads };
            let count = AtomicU64::new(0);
            let stop = AtomicBool::new(false);
            let tsa = LocalTsa { ca: &ca };
            let creds = Credentials { key: &key, cert: &cert, chain: &chain };
            let start = Instant::now();
            let mut out_len = 0usize;
            std::thread::scope(|s| -> Result<()> {
                let mut handles = Vec::new();
                for _ in 0..threads {
                    handles.push(s.spawn(|| -> Result<usize> {
                        let mut last = 0usize;
                        while !stop.load(Ordering::Relaxed) {
                            let services = Services { tsa: Some(&tsa), validation: None };
                            let out = signet_pades::sign(&pdf, &creds, &request, level, services, SystemTime::now())?;
                            last = out.len();
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(last)
                    }));
                }
                std::thread::sleep(Duration::from_secs_f64(args.seconds));
                stop.store(true, Ordering::Relaxed);
                for h in handles {
                    out_len = h.join().map_err(|_| anyhow::anyhow!("a bench thread panicked"))??;
                }
                Ok(())
            })?;
            let elapsed = start.elapsed().as_secs_f64();
            let n = count.load(Ordering::Relaxed);
            println!(
                "{}",
                serde_json::json!({
                    "tool": "signet", "alg": args.alg, "level": level.name(), "threads": threads,
                    "signatures": n, "seconds": elapsed, "per_second": n as f64 / elapsed,
                    "pdf_bytes": pdf.len(), "update_bytes": out_len,
                })
            );
        }
    }
    Ok(())
}
