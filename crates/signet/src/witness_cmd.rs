//! `signet witness`: a C2SP tlog-witness that cosigns checkpoints of one log.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub enum WitnessCommand {
    /// Create a witness in DIR (its Ed25519 cosigning key) and print its verifier key.
    Init(InitArgs),
    /// Print the witness's verifier key again.
    Key(DirArgs),
    /// Serve `POST /add-checkpoint` (c2sp.org/tlog-witness) for the log whose key is given.
    Serve(ServeArgs),
}

#[derive(Args)]
pub struct InitArgs {
    #[arg(long)]
    pub dir: PathBuf,
    /// The witness's name (the key name in its cosignature lines), e.g. `witness.example.org/w1`.
    #[arg(long)]
    pub name: String,
}

#[derive(Args)]
pub struct DirArgs {
    #[arg(long)]
    pub dir: PathBuf,
}

#[derive(Args)]
pub struct ServeArgs {
    #[arg(long)]
    pub dir: PathBuf,
    #[arg(long, default_value = "127.0.0.1:8790")]
    pub addr: String,
    /// The log's verifier key, as text or a file holding it.
    #[arg(long, value_name = "VKEY|FILE")]
    pub log_key: String,
}

pub fn run(cmd: WitnessCommand) -> anyhow::Result<()> {
    match cmd {
        WitnessCommand::Init(_) | WitnessCommand::Key(_) | WitnessCommand::Serve(_) => {
            anyhow::bail!("not built yet")
        }
    }
}
