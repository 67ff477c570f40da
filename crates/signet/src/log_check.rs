//! `signet log verify-proof` and `signet log audit`: checks anyone can run against a log.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

#[derive(Args)]
pub struct VerifyProofArgs {
    /// The proof file (c2sp.org/tlog-proof@v1).
    pub file: PathBuf,
    /// A file whose bytes are the entry.
    #[arg(long)]
    pub entry: PathBuf,
    #[arg(long, value_name = "VKEY|FILE")]
    pub log_key: String,
    /// A witness's verifier key (repeatable).
    #[arg(long, value_name = "VKEY|FILE")]
    pub witness_key: Vec<String>,
    /// How many of the given witnesses must have cosigned (default: all given).
    #[arg(long)]
    pub quorum: Option<usize>,
}

#[derive(Args)]
pub struct AuditArgs {
    /// The log's base URL (where `checkpoint` and `tile/…` are served).
    pub url: String,
    #[arg(long, value_name = "VKEY|FILE")]
    pub log_key: String,
    /// Where the last audited checkpoint is kept between runs.
    #[arg(long)]
    pub state: PathBuf,
}

pub fn verify_proof(_args: VerifyProofArgs) -> ExitCode {
    eprintln!("not built yet");
    ExitCode::from(2)
}

pub fn audit(_args: AuditArgs) -> ExitCode {
    eprintln!("not built yet");
    ExitCode::from(2)
}
