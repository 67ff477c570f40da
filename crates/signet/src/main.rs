//! `signet`: the command line of the Signet e-contract platform.
//!
//! Subcommands: `serve` (the platform), `org create` and `admin check|copy-objects`; `ca` (a built-in CA with CRL/OCSP/TSA
//! service), `tsa serve`, `sign` (PAdES B-B…B-LTA), `verify`; `log` and `witness` (the
//! evidence ledger); and `demo` (the signing story in one command). This crate is the only
//! place that touches files, sockets, the environment and the clock; the cores it calls are
//! pure.

mod ca;
mod demo;
mod files;
mod messages;
mod seal;
mod serve;
mod services;
mod sign_cmd;
mod verify_cmd;
mod bench;
mod keyarg;
mod log_cmd;
mod log_check;
mod witness_cmd;
mod platform;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "signet", version, about = "Signet: verifiable electronic contracts (platform, PAdES signing, CA, TSA, verification, evidence ledger)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create and run a certificate authority (root, issuing CA, TSA, OCSP responder).
    Ca {
        #[command(subcommand)]
        command: CaCommand,
    },
    /// Run the RFC 3161 time-stamp authority of a CA directory.
    Tsa {
        #[command(subcommand)]
        command: TsaCommand,
    },
    /// Sign a PDF (PAdES baseline B-B, B-T, B-LT or B-LTA) as an incremental update.
    Sign(Box<sign_cmd::SignArgs>),
    /// Verify the signatures of PDF files.
    Verify(verify_cmd::VerifyArgs),
    /// Create a demo CA, a sample contract, sign it by two signers (B-LTA) and verify it.
    Demo(demo::DemoArgs),
    /// Write a sample contract PDF (for tests and benchmarks).
    #[command(hide = true)]
    SamplePdf {
        #[arg(short = 'o', long)]
        out: PathBuf,
        #[arg(long, default_value_t = 3)]
        pages: usize,
        /// Pad the file to about this many KiB.
        #[arg(long, default_value_t = 0)]
        pad_kb: usize,
        #[arg(long, default_value = "Sample Contract")]
        title: String,
    },
    /// Write a red round company-seal PNG with a transparent background.
    #[command(hide = true)]
    SampleSeal {
        #[arg(short = 'o', long)]
        out: PathBuf,
        /// Colour as RRGGBB hex.
        #[arg(long, default_value = "d7191c")]
        color: String,
    },
    /// Measure signing throughput in this process.
    #[command(hide = true)]
    Bench(bench::BenchArgs),
    /// Run the platform: organisations, contracts, signing, evidence, the Open API (embedded
    /// store under ./signet-data by default).
    Serve(platform::ServeArgs),
    /// Manage organisations of a deployment.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Operator tasks beside the servers: check a deployment (after a restore), copy a bucket.
    Admin {
        #[command(subcommand)]
        command: platform::admin::AdminCommand,
    },
    /// The evidence ledger: an append-only, witnessed transparency log (C2SP tlog-tiles).
    Log {
        #[command(subcommand)]
        command: LogCommand,
    },
    /// A transparency-log witness: cosigns checkpoints it has checked for consistency.
    Witness {
        #[command(subcommand)]
        command: witness_cmd::WitnessCommand,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organisation with an administrator and an API key; prints them as JSON.
    Create(platform::OrgCreateArgs),
}

#[derive(Subcommand)]
enum LogCommand {
    /// Create an empty log in DIR and print its verifier key.
    Init(log_cmd::InitArgs),
    /// Print the log's verifier key again.
    Key(log_cmd::DirArgs),
    /// Append entries (one per line, or the whole file with --whole) and print their indices.
    Append(log_cmd::AppendArgs),
    /// Write an offline proof (c2sp.org/tlog-proof) that entry N is in the log.
    Proof(log_cmd::ProofArgs),
    /// Serve the log read-only (tlog-tiles), sequence appends and sign checkpoints.
    Serve(log_cmd::ServeArgs),
    /// Check an offline proof that an exact entry is in the log (exit 0 valid, 1 invalid, 2 unreadable).
    VerifyProof(log_check::VerifyProofArgs),
    /// Fetch a log's checkpoint and all its tiles, recompute the root and check consistency
    /// with the previous run's checkpoint (a monitor anyone can run).
    Audit(log_check::AuditArgs),
    /// Append generated entries through the group-committing sequencer from many tasks at once
    /// (benchmarks, crash tests).
    #[command(hide = true)]
    Load(log_cmd::LoadArgs),
}

#[derive(Subcommand)]
enum CaCommand {
    /// Create a CA in DIR: root CA, issuing CA, TSA and OCSP responder certificates.
    Init {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value = "p256", value_parser = ["p256", "rsa2048", "rsa3072"])]
        alg: String,
        /// Base URL of `signet ca serve`, written into issued certificates (CRL and OCSP).
        #[arg(long, default_value = "http://127.0.0.1:8780")]
        base_url: String,
        /// Organisation name in the CA certificates.
        #[arg(long, default_value = "Signet Demo")]
        org: String,
    },
    /// Serve the CA's CRLs, OCSP responder and TSA over HTTP.
    Serve {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8780")]
        addr: String,
    },
    /// Issue a signer certificate and write it with its key and chain as PKCS#12.
    Issue(IssueArgs),
    /// Revoke a certificate issued by this CA.
    Revoke {
        #[arg(long)]
        dir: PathBuf,
        /// Serial number in hexadecimal (as `openssl x509 -serial` prints it).
        #[arg(long)]
        serial: String,
    },
    /// Write the issuing CA's current CRL.
    Crl {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args)]
struct IssueArgs {
    #[arg(long)]
    dir: PathBuf,
    /// The signer's name (common name); any language.
    #[arg(long)]
    name: String,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    org: Option<String>,
    #[arg(long, value_parser = ["p256", "rsa2048", "rsa3072"])]
    alg: Option<String>,
    #[arg(long)]
    out: PathBuf,
    /// File whose first line is the PKCS#12 password (empty password without it).
    #[arg(long)]
    password_file: Option<PathBuf>,
    #[arg(long, default_value_t = 730)]
    days: u64,
}

#[derive(Subcommand)]
enum TsaCommand {
    /// Serve the TSA of a CA directory (POST /tsa).
    Serve {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8781")]
        addr: String,
    },
}

fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ca { command } => run_ca(command).map(|_| ExitCode::SUCCESS),
        Command::Tsa { command: TsaCommand::Serve { dir, addr } } => {
            ca::CaDir::load(&dir).and_then(|ca| block_on(serve::run(ca, &addr, serve::Mount::TsaOnly))).map(|_| ExitCode::SUCCESS)
        }
        Command::Sign(args) => sign_cmd::run(*args).map(|_| ExitCode::SUCCESS),
        Command::Verify(args) => return verify_cmd::run(args),
        Command::Demo(args) => demo::run(args).map(|_| ExitCode::SUCCESS),
        Command::SamplePdf { out, pages, pad_kb, title } => {
            if pages == 0 {
                Err(anyhow::anyhow!("--pages must be at least 1"))
            } else {
                let pdf = signet_pdf::sample_contract(&title, pages, pad_kb * 1024);
                ca::write_atomic(&out, &pdf).map(|_| ExitCode::SUCCESS)
            }
        }
        Command::SampleSeal { out, color } => seal::parse_color(&color)
            .and_then(|c| ca::write_atomic(&out, &seal::company_seal_png(400, c)?))
            .map(|_| ExitCode::SUCCESS),
        Command::Bench(args) => bench::run(args).map(|_| ExitCode::SUCCESS),
        Command::Log { command } => match command {
            LogCommand::Init(a) => log_cmd::init(a).map(|_| ExitCode::SUCCESS),
            LogCommand::Key(a) => log_cmd::key(a).map(|_| ExitCode::SUCCESS),
            LogCommand::Append(a) => log_cmd::append(a).map(|_| ExitCode::SUCCESS),
            LogCommand::Proof(a) => log_cmd::proof(a).map(|_| ExitCode::SUCCESS),
            LogCommand::Serve(a) => log_cmd::serve(a).map(|_| ExitCode::SUCCESS),
            LogCommand::VerifyProof(a) => return log_check::verify_proof(a),
            LogCommand::Audit(a) => return log_check::audit(a),
            LogCommand::Load(a) => log_cmd::load(a).map(|_| ExitCode::SUCCESS),
        },
        Command::Serve(args) => platform::serve(args).map(|_| ExitCode::SUCCESS),
        Command::Org { command: OrgCommand::Create(args) } => platform::org_create(args).map(|_| ExitCode::SUCCESS),
        Command::Admin { command } => return platform::admin::run(command),
        Command::Witness { command } => witness_cmd::run(command).map(|_| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}: {e:#}", messages::t(messages::Msg::Error));
            ExitCode::from(1)
        }
    }
}

/// Rust ignores SIGPIPE, so `signet verify … | head` would panic on the closed pipe; a command
/// line tool should just stop, like every other Unix filter.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called once at the start of main, before any thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn block_on<F: std::future::Future<Output = anyhow::Result<()>>>(f: F) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(f)
}

fn run_ca(cmd: CaCommand) -> anyhow::Result<()> {
    use std::time::SystemTime;
    match cmd {
        CaCommand::Init { dir, alg, base_url, org } => {
            let alg = signet_pki::KeyAlgorithm::from_name(&alg)?;
            let ca = ca::CaDir::init(&dir, alg, &base_url, &org, SystemTime::now())?;
            println!("CA created in {}", dir.display());
            println!("  root certificate (trust anchor): {}", dir.join("root.pem").display());
            println!("  issuing CA: {}   TSA: {}   OCSP: {}", dir.join("issuing.pem").display(), dir.join("tsa.pem").display(), dir.join("ocsp.pem").display());
            println!("  CRL/OCSP/TSA base URL: {}  (run `signet ca serve --dir {} --addr HOST:PORT`)", ca.settings.base_url, dir.display());
            Ok(())
        }
        CaCommand::Serve { dir, addr } => {
            let ca = ca::CaDir::load(&dir)?;
            block_on(serve::run(ca, &addr, serve::Mount::Ca))
        }
        CaCommand::Issue(a) => {
            let ca = ca::CaDir::load(&a.dir)?;
            let alg = match &a.alg {
                Some(s) => signet_pki::KeyAlgorithm::from_name(s)?,
                None => signet_pki::KeyAlgorithm::from_name(&ca.settings.alg)?,
            };
            let password = files::read_password(a.password_file.as_deref())?;
            let (cert, key) = ca.issue(
                &ca::IssueParams { name: &a.name, email: a.email.as_deref(), phone: None, org: a.org.as_deref(), alg, valid_days: a.days },
                SystemTime::now(),
            )?;
            let p12 = signet_pki::pkcs12::write_pkcs12(
                &key.to_pkcs8_der()?,
                &cert,
                &ca.chain(),
                &password,
                Some(&a.name),
                &mut signet_pki::SystemRng,
            )?;
            ca::write_secret(&a.out, &p12)?;
            println!(
                "issued {} (serial {}) -> {}",
                signet_pki::cert::subject_string(&cert),
                signet_pki::cert::serial_hex(&cert),
                a.out.display()
            );
            Ok(())
        }
        CaCommand::Revoke { dir, serial } => {
            let ca = ca::CaDir::load(&dir)?;
            ca.revoke(&serial, SystemTime::now())?;
            println!("revoked {}", ca::normalize_serial(&serial)?);
            Ok(())
        }
        CaCommand::Crl { dir, out } => {
            let ca = ca::CaDir::load(&dir)?;
            ca::write_atomic(&out, &ca.issuing_crl(SystemTime::now())?)?;
            println!("CRL written to {}", out.display());
            Ok(())
        }
    }
}

/// A unique time-stamp serial: 8 bytes of nanoseconds since 1970, then 8 random bytes.
pub fn tsa_serial() -> Result<Vec<u8>, signet_pki::PkiError> {
    use signet_pki::Rng as _;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut serial = Vec::with_capacity(17);
    serial.push(0x01); // positive, non-zero first byte
    serial.extend_from_slice(&nanos.to_be_bytes());
    let mut rnd = [0u8; 8];
    signet_pki::SystemRng.fill(&mut rnd)?;
    serial.extend_from_slice(&rnd);
    Ok(serial)
}
