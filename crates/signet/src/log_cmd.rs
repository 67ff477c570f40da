//! `signet log init|key|append|proof|serve`: the evidence ledger on the embedded store.

use std::path::PathBuf;

use clap::Args;

#[derive(Args)]
pub struct InitArgs {
    #[arg(long)]
    pub dir: PathBuf,
    /// The log's origin (its name in checkpoints and its key name), e.g. `example.org/log`.
    #[arg(long)]
    pub origin: String,
}

#[derive(Args)]
pub struct DirArgs {
    #[arg(long)]
    pub dir: PathBuf,
}

#[derive(Args)]
pub struct AppendArgs {
    #[arg(long)]
    pub dir: PathBuf,
    /// Append the whole input (any bytes) as one entry instead of one entry per line.
    #[arg(long)]
    pub whole: bool,
    /// Input file, or `-` (the default) for standard input.
    #[arg(default_value = "-")]
    pub file: String,
}

#[derive(Args)]
pub struct ProofArgs {
    #[arg(long)]
    pub dir: PathBuf,
    #[arg(long)]
    pub index: u64,
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct ServeArgs {
    #[arg(long)]
    pub dir: PathBuf,
    #[arg(long, default_value = "127.0.0.1:8788")]
    pub addr: String,
    /// A witness's base URL (repeatable); checkpoints are sent to URL/add-checkpoint.
    #[arg(long = "witness-url", value_name = "URL")]
    pub witness_url: Vec<String>,
    /// The verifier key of the witness at the same position in --witness-url (repeatable).
    #[arg(long = "witness-key", value_name = "VKEY|FILE")]
    pub witness_key: Vec<String>,
}

pub fn init(_a: InitArgs) -> anyhow::Result<()> { anyhow::bail!("not built yet") }
pub fn key(_a: DirArgs) -> anyhow::Result<()> { anyhow::bail!("not built yet") }
pub fn append(_a: AppendArgs) -> anyhow::Result<()> { anyhow::bail!("not built yet") }
pub fn proof(_a: ProofArgs) -> anyhow::Result<()> { anyhow::bail!("not built yet") }
pub fn serve(_a: ServeArgs) -> anyhow::Result<()> { anyhow::bail!("not built yet") }
