//! `signet admin`: what an operator runs beside the servers.
//!
//! - `check` opens a deployment as a server would (configuration, master key or token,
//!   database, blob storage, evidence log) without serving it, and proves that it is whole:
//!   every document of every contract of every organisation is read from the blob storage and
//!   opened with its organisation's key, each original matches the SHA-256 its contract
//!   records, each signed version still begins with its original (signing only appends), and
//!   every event the database says is in the evidence log has an inclusion proof from the
//!   log's current checkpoint that verifies for that event's exact entry. It writes nothing
//!   but the data directory's cache of the deployment's files. Run it after a restore
//!   (`docs/backup.md`), or now and then on a live deployment.
//! - `copy-objects` copies every object under one `s3://` URL to another (a bucket backup, or
//!   the restore of one), skipping objects the destination already has.
//! - `reseal` seals again, with the current master key, everything an older one sealed: the
//!   organisation keys (re-wrapped), the deployment's sealed files (CA and log keys, the code
//!   pepper), members' TOTP secrets and the signers' stored answers. Afterwards the older key
//!   (the master key file kept beside a new token, say) can be removed.
//!
//! Exit codes: 0 everything checked (or copied), 1 something did not (each problem is listed),
//! 2 the command could not run at all (a setting, the master key, the database or the storage).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use serde::Serialize;
use signet_domain::contract::Contract;

use super::config::{Config, Overrides};
use crate::messages::{Msg, t, tf};

/// Everything checked: exit 0.
const OK: u8 = 0;
/// Something did not check (or copy): exit 1.
const PROBLEMS: u8 = 1;
/// The command could not run: exit 2.
const UNUSABLE: u8 = 2;

/// `signet admin` subcommands.
#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Check that every document opens and matches its contract and every evidence-log proof
    /// verifies (after a restore, or any time). Exit 0 all good, 1 problems found (listed),
    /// 2 the deployment could not be opened.
    Check(DeploymentArgs),
    /// Copy every object from one S3-compatible bucket (or prefix) to another, skipping objects
    /// already there. Exit 0 all copied, 1 some objects failed (listed), 2 unusable URLs or
    /// credentials.
    CopyObjects(CopyArgs),
    /// Seal again, with the current master key, everything an older master key sealed, so
    /// that the older key can be removed. Exit 0 done, 2 the deployment could not be opened
    /// or something did not open.
    Reseal(DeploymentArgs),
}

/// The flags of the commands that open a deployment (`check`, `reseal`).
#[derive(Args, Debug)]
pub struct DeploymentArgs {
    /// A TOML configuration file, as for `signet serve`.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The data directory (a fresh one is fine: the deployment's files come from the database).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Print the result as JSON (`signet.admin-check/v1`, `signet.admin-reseal/v1`) on
    /// standard output.
    #[arg(long)]
    pub json: bool,
}

/// `signet admin copy-objects` flags.
#[derive(Args, Debug)]
pub struct CopyArgs {
    /// The source, `s3://BUCKET[/PREFIX]?endpoint=…&region=…&path_style=true`.
    #[arg(long)]
    pub from: String,
    /// The destination, in the same form (the bucket must exist).
    #[arg(long)]
    pub to: String,
    /// A file of `AWS_ACCESS_KEY_ID=…` and `AWS_SECRET_ACCESS_KEY=…` lines (or their `…_FILE`
    /// forms) for the source; default: the environment, as for `SIGNET_BLOB_URL`.
    #[arg(long)]
    pub from_credentials: Option<PathBuf>,
    /// The same for the destination.
    #[arg(long)]
    pub to_credentials: Option<PathBuf>,
    /// Print the counts as JSON on standard output.
    #[arg(long)]
    pub json: bool,
}

/// Runs an admin command; prints its own errors and returns the exit code.
pub fn run(command: AdminCommand) -> ExitCode {
    let result = match command {
        AdminCommand::Check(args) => check(args),
        AdminCommand::CopyObjects(args) => copy_objects(args),
        AdminCommand::Reseal(args) => reseal(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("{}: {e:#}", t(Msg::Error));
            ExitCode::from(UNUSABLE)
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

// --- reseal --------------------------------------------------------------------------------------

/// What `signet admin reseal` did.
#[derive(Debug, Default, Serialize)]
pub struct ResealReport {
    /// `signet.admin-reseal/v1`.
    pub format: &'static str,
    /// The master key everything is sealed by now.
    pub master_key: String,
    /// Organisation keys re-wrapped.
    pub organisation_keys: usize,
    /// Deployment files sealed again (and the master key id recorded).
    pub deployment_files: usize,
    /// Members' TOTP secrets sealed again.
    pub totp_secrets: usize,
    /// Stored answers of signers' requests sealed again.
    pub stored_answers: u64,
    /// The older master keys nothing needs any more.
    pub retirable: Vec<String>,
}

/// `signet admin reseal`.
fn reseal(args: DeploymentArgs) -> anyhow::Result<u8> {
    let flags = Overrides { config: args.config, data: args.data, listen: None };
    let cfg = Config::load(&flags, &|k| std::env::var(k).ok())?;
    require_master_key(&cfg)?;
    let report = runtime()?.block_on(reseal_deployment(&cfg))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let (orgs, files, totp, answers) = (report.organisation_keys.to_string(), report.deployment_files.to_string(), report.totp_secrets.to_string(), report.stored_answers.to_string());
        println!("{}", tf(Msg::AdminResealed, &[("key", &report.master_key), ("orgs", &orgs), ("files", &files), ("totp", &totp), ("answers", &answers)]));
        if report.retirable.is_empty() {
            println!("{}", t(Msg::AdminNoOlderKey));
        } else {
            println!("{}", tf(Msg::AdminRetirable, &[("keys", &report.retirable.join(", "))]));
        }
    }
    Ok(OK)
}

/// Seals everything of the deployment `cfg` names again with its current master key.
pub async fn reseal_deployment(cfg: &Config) -> anyhow::Result<ResealReport> {
    let (store, keyring, _token) = super::init::open_store_keys_and_token(cfg).await?;
    let organisation_keys = super::init::rewrap_org_keys(&store, &keyring).await?;
    let files = super::deployment::reseal(&cfg.data, &store, &keyring).await?;
    let mut totp_secrets = 0;
    for (user, active, pending) in store.users_with_totp().await.context("reading the members' TOTP secrets")? {
        let context = super::session::totp_context(&user);
        let again = |sealed: &Option<Vec<u8>>| -> anyhow::Result<Option<Vec<u8>>> {
            match sealed {
                Some(s) => Ok(keyring.reseal_secret(s, &context).with_context(|| format!("opening the TOTP secret of member {user}"))?),
                None => Ok(None),
            }
        };
        let (a, p) = (again(&active)?, again(&pending)?);
        if a.is_some() || p.is_some() {
            totp_secrets += usize::from(a.is_some()) + usize::from(p.is_some());
            store.set_totp(&user, a.as_deref().or(active.as_deref()), p.as_deref().or(pending.as_deref())).await?;
        }
    }
    let stored_answers = store.reseal_master_sealed_answers().await.context("sealing the stored answers again")?;
    let current = keyring.current_id().to_owned();
    Ok(ResealReport {
        format: "signet.admin-reseal/v1",
        retirable: keyring.ids().filter(|id| *id != current).map(str::to_owned).collect(),
        master_key: current,
        organisation_keys,
        deployment_files: files.files,
        totp_secrets,
        stored_answers,
    })
}

// --- check ---------------------------------------------------------------------------------------

/// One thing that did not check.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    /// The organisation (empty for a problem of the whole deployment, such as the log's).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub org: String,
    /// The contract, when the problem is one contract's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
    /// The document (`doc_…`), when the problem is one document's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// What is wrong, and where to look.
    pub problem: String,
}

/// What `signet admin check` found (`--json` prints it).
#[derive(Debug, Default, Serialize)]
pub struct CheckReport {
    /// `signet.admin-check/v1`.
    pub format: &'static str,
    /// True when there is no problem.
    pub ok: bool,
    /// Organisations whose key opened.
    pub organisations: u64,
    /// Contracts checked.
    pub contracts: u64,
    /// Documents checked (each contract's documents).
    pub documents: u64,
    /// Stored versions read and opened (originals and newest signed versions).
    pub blobs: u64,
    /// Events stored.
    pub events: u64,
    /// Events whose inclusion proof was checked (those with a log index).
    pub proofs: u64,
    /// Events not appended to the log yet (a running server appends them within a sweep).
    pub events_not_logged: u64,
    /// The size of the log's current checkpoint.
    pub log_size: u64,
    /// Everything that did not check.
    pub problems: Vec<Problem>,
    /// Events past the log's checkpoint, tried again once at the end (a live deployment signs
    /// a newer checkpoint within seconds).
    #[serde(skip)]
    uncovered: Vec<Uncovered>,
}

/// An event whose leaf the log's checkpoint did not cover yet.
#[derive(Debug)]
struct Uncovered {
    org: String,
    contract: String,
    what: String,
    index: u64,
    entry: Vec<u8>,
}

/// `signet admin check`.
fn check(args: DeploymentArgs) -> anyhow::Result<u8> {
    let flags = Overrides { config: args.config, data: args.data, listen: None };
    let cfg = Config::load(&flags, &|k| std::env::var(k).ok())?;
    let report = runtime()?.block_on(check_deployment(cfg))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", summary(&report));
    }
    Ok(if report.ok { OK } else { PROBLEMS })
}

/// The report for people.
fn summary(r: &CheckReport) -> String {
    let n = |v: u64| v.to_string();
    let mut s = tf(
        Msg::AdminCheckCounts,
        &[
            ("orgs", &n(r.organisations)),
            ("contracts", &n(r.contracts)),
            ("documents", &n(r.documents)),
            ("blobs", &n(r.blobs)),
            ("events", &n(r.events)),
            ("proofs", &n(r.proofs)),
            ("unlogged", &n(r.events_not_logged)),
            ("size", &n(r.log_size)),
        ],
    );
    s.push('\n');
    if r.problems.is_empty() {
        s.push_str(t(Msg::AdminCheckOk));
        s.push('\n');
    } else {
        s.push_str(&tf(Msg::AdminProblems, &[("n", &r.problems.len().to_string())]));
        s.push('\n');
        for p in &r.problems {
            let place = [Some(p.org.as_str()), p.contract.as_deref(), p.document.as_deref()].into_iter().flatten().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
            let place = if place.is_empty() { t(Msg::AdminDeployment).to_owned() } else { place };
            s.push_str(&format!("  {place}: {}\n", p.problem));
        }
    }
    s
}

/// The master key must exist: a check never makes one (a new key would open nothing).
fn require_master_key(cfg: &Config) -> anyhow::Result<()> {
    if cfg.pkcs11.module.is_some() || cfg.pkcs11.token.is_some() || cfg.pkcs11.pin_file.is_some() {
        return Ok(());
    }
    let path = cfg.master_key_file.clone().unwrap_or_else(|| cfg.data.join("keys").join("master.key"));
    if !path.is_file() {
        bail!(
            "there is no master key at {}: point SIGNET_MASTER_KEY_FILE (master_key_file) at the deployment's master key file, or set the PKCS#11 settings of its token",
            path.display()
        );
    }
    Ok(())
}

/// Opens the deployment `cfg` names and checks it. An error means it could not be opened.
pub async fn check_deployment(cfg: Config) -> anyhow::Result<CheckReport> {
    require_master_key(&cfg)?;
    let (store, keyring, token) = super::init::open_store_keys_and_token(&cfg).await?;
    // The deployment's files (CA, log key) come from the database; a check makes nothing.
    super::deployment::share(&cfg, &store, &keyring, async || {
        bail!("the database holds no Signet deployment (no deployment files): check SIGNET_DATABASE_URL (database_url), or restore the database first")
    })
    .await?;
    let blobs = super::blobs::Blobs::new(super::init::open_blob_store(&cfg)?);
    let log = super::init::open_log(&cfg, &store, &keyring, token.as_ref()).await.context("opening the evidence log")?;
    let verifier = signet_ledger::CheckpointVerifier::new(log.origin(), log.verifier()).context("the log's verifier key")?;

    let mut r = CheckReport { format: "signet.admin-check/v1", ..Default::default() };
    let checkpoint = log.checkpoint().await.context("reading the log's checkpoint")?;
    r.log_size = checkpoint.as_ref().map_or(0, |c| c.size);
    if let Some(problem) = tiles_ahead(&log).await? {
        r.problems.push(Problem { org: String::new(), contract: None, document: None, problem });
    }

    let started = Instant::now();
    let mut last_progress = Instant::now();
    let orgs = store.org_keys().await.context("listing the organisations")?;
    for (org, _) in &orgs {
        let key = match store.org_key(org).await {
            Ok(k) => k,
            Err(e) if e.is_unavailable() => return Err(anyhow::Error::from(e).context(format!("opening the key of organisation {org}"))),
            Err(e) => {
                r.problems.push(Problem {
                    org: org.clone(),
                    contract: None,
                    document: None,
                    problem: format!("the organisation's key does not open with this master key ({e:#}); none of its contracts was checked"),
                });
                continue;
            }
        };
        r.organisations += 1;
        // One contract at a time, so that one whose record does not open is reported and
        // the others are still checked.
        let mut after: Option<String> = None;
        loop {
            let ids = store.contract_ids(org, after.as_deref(), 500).await.with_context(|| format!("listing the contracts of {org}"))?;
            for id in &ids {
                match store.contract(org, id).await {
                    Ok(Some((c, _))) => check_contract(&mut r, &store, &blobs, &key, &log, &verifier, &c).await?,
                    Ok(None) => {}
                    Err(e) if e.is_unavailable() => return Err(anyhow::Error::from(e).context(format!("reading contract {id}"))),
                    Err(e) => {
                        r.contracts += 1;
                        r.problems.push(Problem {
                            org: org.clone(),
                            contract: Some(id.clone()),
                            document: None,
                            problem: format!("its record in the database does not open: {e} (changed or damaged in the database)"),
                        });
                    }
                }
                if last_progress.elapsed() > Duration::from_secs(5) {
                    let (contracts, proofs, secs) = (r.contracts.to_string(), r.proofs.to_string(), started.elapsed().as_secs().to_string());
                    eprintln!("{}", tf(Msg::AdminCheckProgress, &[("contracts", &contracts), ("proofs", &proofs), ("secs", &secs)]));
                    last_progress = Instant::now();
                }
            }
            match ids.last() {
                Some(last) if ids.len() == 500 => after = Some(last.clone()),
                _ => break,
            }
        }
    }
    recheck_uncovered(&mut r, &log, &verifier).await;
    r.log_size = log.checkpoint().await.context("reading the log's checkpoint")?.map_or(r.log_size, |c| c.size);
    r.ok = r.problems.is_empty();
    Ok(r)
}

/// One contract's documents and events. Errors are for a database that stops answering.
async fn check_contract(
    r: &mut CheckReport,
    store: &signet_store::Store,
    blobs: &super::blobs::Blobs,
    key: &signet_vault::OrgKey,
    log: &signet_log::Log,
    verifier: &signet_ledger::CheckpointVerifier,
    c: &Contract,
) -> anyhow::Result<()> {
    r.contracts += 1;
    let problem = |document: Option<&str>, problem: String| Problem { org: c.org.clone(), contract: Some(c.id.clone()), document: document.map(str::to_owned), problem };
    for d in &c.documents {
        r.documents += 1;
        let original_name = format!("{}.pdf", d.id);
        let original = match blobs.get(key, &c.org, &c.id, &original_name).await {
            Ok(Some(bytes)) => {
                r.blobs += 1;
                Some(bytes)
            }
            Ok(None) => {
                r.problems.push(problem(Some(&d.id), format!("the original of {:?} ({original_name}) is missing from the blob storage", d.name)));
                None
            }
            Err(e) => {
                r.problems.push(problem(Some(&d.id), format!("the original of {:?} ({original_name}) does not open: {e:#} (changed or damaged in storage)", d.name)));
                None
            }
        };
        if let Some(bytes) = &original {
            let sha256 = hex::encode(signet_pki::alg::sha256(bytes));
            if !sha256.eq_ignore_ascii_case(&d.sha256) {
                r.problems.push(problem(Some(&d.id), format!("the original of {:?} has SHA-256 {sha256}, the contract records {}", d.name, d.sha256)));
            }
        }
        let Some(signed_name) = &d.signed_blob else { continue };
        match blobs.get(key, &c.org, &c.id, signed_name).await {
            Ok(Some(signed)) => {
                r.blobs += 1;
                if let Some(original) = &original
                    && !signed.starts_with(original)
                {
                    r.problems.push(problem(Some(&d.id), format!("the signed version {signed_name} of {:?} does not begin with its original", d.name)));
                }
            }
            Ok(None) => r.problems.push(problem(Some(&d.id), format!("the signed version {signed_name} of {:?} is missing from the blob storage", d.name))),
            Err(e) => r.problems.push(problem(Some(&d.id), format!("the signed version {signed_name} of {:?} does not open: {e:#} (changed or damaged in storage)", d.name))),
        }
    }

    let events = match store.events(&c.org, &c.id).await {
        Ok(events) => events,
        Err(e) if e.is_unavailable() => return Err(anyhow::Error::from(e).context(format!("reading the events of {}", c.id))),
        Err(e) => {
            r.problems.push(problem(None, format!("its events in the database do not open: {e} (changed or damaged in the database)")));
            return Ok(());
        }
    };
    let subject = super::evidence::subject(c);
    for e in &events {
        r.events += 1;
        let Some(index) = e.log_index else {
            r.events_not_logged += 1;
            continue;
        };
        let what = format!("event {} ({}), log leaf {index}", e.seq, e.event.kind.as_str());
        let entry = match e.event.to_evidence(&c.org, &c.id, subject.as_deref()).encode() {
            Ok(entry) => entry,
            Err(err) => {
                r.problems.push(problem(None, format!("{what}: its evidence entry cannot be encoded: {err}")));
                continue;
            }
        };
        match log.proof(index).await {
            Ok(proof) => match proof.verify(&entry, verifier) {
                Ok(_) => r.proofs += 1,
                Err(err) => r.problems.push(problem(None, format!("{what}: the inclusion proof does not verify for this event ({err}): the log or the event was changed"))),
            },
            Err(signet_log::LogError::NotYetCovered { .. }) => r.uncovered.push(Uncovered { org: c.org.clone(), contract: c.id.clone(), what, index, entry }),
            Err(err) => r.problems.push(problem(None, format!("{what}: no inclusion proof: {err}"))),
        }
    }
    Ok(())
}

/// Tries the events past the checkpoint again, once, after a pause long enough for a running
/// sequencer to sign a newer checkpoint; those still past it are problems.
async fn recheck_uncovered(r: &mut CheckReport, log: &signet_log::Log, verifier: &signet_ledger::CheckpointVerifier) {
    if r.uncovered.is_empty() {
        return;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    for u in std::mem::take(&mut r.uncovered) {
        let problem = |text: String| Problem { org: u.org.clone(), contract: Some(u.contract.clone()), document: None, problem: text };
        match log.proof(u.index).await {
            Ok(proof) => match proof.verify(&u.entry, verifier) {
                Ok(_) => r.proofs += 1,
                Err(err) => r.problems.push(problem(format!("{}: the inclusion proof does not verify for this event ({err}): the log or the event was changed", u.what))),
            },
            Err(signet_log::LogError::NotYetCovered { size, .. }) => r.problems.push(problem(format!(
                "{}: not covered by the log's checkpoint (size {size}); start a server on this deployment so that it signs a newer checkpoint, then check again",
                u.what
            ))),
            Err(err) => r.problems.push(problem(format!("{}: no inclusion proof: {err}", u.what))),
        }
    }
}

/// Whether the log's stored tiles hold entries past the last one the database knows of: the
/// objects were copied from a deployment that had logged more than the database backup holds.
/// A server on such a restore would log new events at indices whose tiles already exist with
/// other entries, and stop integrating the log.
async fn tiles_ahead(log: &signet_log::Log) -> anyhow::Result<Option<String>> {
    let next = log.next_index().await.context("reading the log's size")?;
    let tiles = log.tiles();
    let tile = next / 256;
    let first_width = (next % 256) as u16 + 1;
    for width in first_width..=256 {
        let path = signet_ledger::tile::entries_path(tile, width);
        if tiles.get(&path).await.with_context(|| format!("reading the log's {path}"))?.is_some() {
            return Ok(Some(format!(
                "the evidence log's storage holds {path}, entries past the {next} the database records: the objects were copied after events the database backup does not hold; \
                 restore the log's tiles (log/… in the bucket, or DATA/log) as they were when the database backup started, and check again before a server runs on this copy (docs/backup.md)"
            )));
        }
    }
    Ok(None)
}

// --- copy-objects --------------------------------------------------------------------------------

/// What `copy-objects` did.
#[derive(Debug, Default, Serialize)]
pub struct CopyReport {
    /// Objects found under the source.
    pub objects: u64,
    /// Objects copied.
    pub copied: u64,
    /// Objects skipped (the destination has them).
    pub skipped: u64,
    /// Objects that failed, with why.
    pub failed: Vec<String>,
    /// Bytes copied.
    pub bytes: u64,
}

/// Objects up to this size are copied in one request; larger ones are streamed in parts.
const SINGLE_PUT_MAX: u64 = 16 << 20;
/// The part size of a streamed copy (memory per object in flight: a few parts).
const PART_SIZE: usize = 8 << 20;
/// Objects copied at once.
const PARALLEL: usize = 4;

/// Credentials for one side: the file's `NAME=value` lines, or the environment.
fn credentials(file: Option<&std::path::Path>, side: &str) -> anyhow::Result<Option<(String, String)>> {
    let Some(path) = file else {
        return signet_objects::credentials_with(&|k| std::env::var(k).ok()).with_context(|| format!("the {side} credentials from the environment"));
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the {side} credentials file {}", path.display()))?;
    let mut vars = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            bail!("{} line {}: expected NAME=value (AWS_ACCESS_KEY_ID=…, AWS_SECRET_ACCESS_KEY=…)", path.display(), n + 1);
        };
        vars.insert(k.trim().trim_start_matches("export ").trim().to_owned(), v.trim().trim_matches('"').to_owned());
    }
    let found = signet_objects::credentials_with(&|k| vars.get(k).cloned()).with_context(|| format!("the {side} credentials file {}", path.display()))?;
    if found.is_none() {
        bail!("{} names no AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", path.display());
    }
    Ok(found)
}

/// `prefix/rest` (or `rest` under an empty prefix).
fn under(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() { rest.to_owned() } else { format!("{prefix}/{rest}") }
}

/// `signet admin copy-objects`.
fn copy_objects(args: CopyArgs) -> anyhow::Result<u8> {
    let (from, from_prefix) = signet_objects::connect(&args.from, credentials(args.from_credentials.as_deref(), "source")?).context("--from")?;
    let (to, to_prefix) = signet_objects::connect(&args.to, credentials(args.to_credentials.as_deref(), "destination")?).context("--to")?;
    let (a, b) = (signet_objects::S3Url::parse(&args.from)?, signet_objects::S3Url::parse(&args.to)?);
    let inside = |x: &str, y: &str| y.is_empty() || x == y || x.starts_with(&format!("{y}/"));
    if a.bucket == b.bucket && a.endpoint == b.endpoint && (inside(&a.prefix, &b.prefix) || inside(&b.prefix, &a.prefix)) {
        bail!("--from and --to overlap (the same bucket, one prefix inside the other); copy into another bucket or a separate prefix");
    }
    let report = runtime()?.block_on(copy_all(from, &from_prefix, to, &to_prefix))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let n = |v: u64| v.to_string();
        println!(
            "{}",
            tf(
                Msg::AdminCopySummary,
                &[("objects", &n(report.objects)), ("copied", &n(report.copied)), ("bytes", &n(report.bytes)), ("skipped", &n(report.skipped)), ("failed", &report.failed.len().to_string())]
            )
        );
        for f in &report.failed {
            println!("  {f}");
        }
    }
    Ok(if report.failed.is_empty() { OK } else { PROBLEMS })
}

/// Copies every object under `from_prefix` to the same name under `to_prefix`. An object the
/// destination has with the same size, written no earlier than the source's, is skipped; one
/// changed at the source since (a partial log tile, the log's published checkpoint) is copied
/// again. Errors are for listings that fail; a failed object is recorded and the rest go on.
pub async fn copy_all(
    from: std::sync::Arc<dyn object_store::ObjectStore>,
    from_prefix: &str,
    to: std::sync::Arc<dyn object_store::ObjectStore>,
    to_prefix: &str,
) -> anyhow::Result<CopyReport> {
    use futures_util::{StreamExt as _, TryStreamExt as _};
    use object_store::path::Path as ObjectPath;

    let prefix_path = |p: &str| (!p.is_empty()).then(|| ObjectPath::from(p));
    // What the destination has: one listing (1000 names a request) rather than a request per
    // object.
    let mut present: HashMap<String, (u64, i64)> = HashMap::new();
    let to_prefix_path = prefix_path(to_prefix);
    let mut listing = to.list(to_prefix_path.as_ref());
    while let Some(meta) = listing.try_next().await.context("listing the destination (--to): is the bucket there, and are the credentials right?")? {
        present.insert(meta.location.to_string(), (meta.size, meta.last_modified.timestamp_millis()));
    }
    let mut report = CopyReport::default();
    let from_prefix_path = prefix_path(from_prefix);
    let started = Instant::now();
    let mut last_progress = Instant::now();
    let mut source = from
        .list(from_prefix_path.as_ref())
        .map(|item| {
            let (from, to, present) = (from.clone(), to.clone(), &present);
            async move {
                let meta = item.context("listing the source (--from): is the bucket there, and are the credentials right?")?;
                let name = meta.location.to_string();
                let rest = match from_prefix {
                    "" => name.as_str(),
                    p => name.strip_prefix(p).and_then(|r| r.strip_prefix('/')).unwrap_or(name.as_str()),
                };
                let target = under(to_prefix, rest);
                if let Some((size, modified)) = present.get(&target)
                    && *size == meta.size
                    && *modified >= meta.last_modified.timestamp_millis()
                {
                    return Ok::<_, anyhow::Error>((name, None));
                }
                let outcome = copy_one(&*from, &meta, &*to, &target).await.map(|()| meta.size).map_err(|e| format!("{name}: {e:#}"));
                Ok((name, Some(outcome)))
            }
        })
        .buffer_unordered(PARALLEL);
    while let Some(done) = source.next().await {
        let (_, outcome) = done?;
        report.objects += 1;
        match outcome {
            None => report.skipped += 1,
            Some(Ok(bytes)) => {
                report.copied += 1;
                report.bytes += bytes;
            }
            Some(Err(why)) => report.failed.push(why),
        }
        if last_progress.elapsed() > Duration::from_secs(5) {
            let n = |v: u64| v.to_string();
            eprintln!(
                "{}",
                tf(
                    Msg::AdminCopyProgress,
                    &[("objects", &n(report.objects)), ("copied", &n(report.copied)), ("skipped", &n(report.skipped)), ("failed", &report.failed.len().to_string()), ("secs", &n(started.elapsed().as_secs()))]
                )
            );
            last_progress = Instant::now();
        }
    }
    Ok(report)
}

/// Copies one object: small ones in one request, large ones streamed in parts (bounded memory).
async fn copy_one(from: &dyn object_store::ObjectStore, meta: &object_store::ObjectMeta, to: &dyn object_store::ObjectStore, target: &str) -> anyhow::Result<()> {
    use futures_util::TryStreamExt as _;
    use object_store::ObjectStoreExt as _;
    let target = object_store::path::Path::parse(target).with_context(|| format!("{target:?} is not a valid object name"))?;
    let got = from.get(&meta.location).await.context("reading")?;
    if meta.size <= SINGLE_PUT_MAX {
        let bytes = got.bytes().await.context("reading")?;
        to.put(&target, bytes.into()).await.context("writing")?;
        return Ok(());
    }
    let mut upload = object_store::WriteMultipart::new_with_chunk_size(to.put_multipart(&target).await.context("starting a multipart upload")?, PART_SIZE);
    let mut stream = got.into_stream();
    let copied: anyhow::Result<()> = async {
        while let Some(chunk) = stream.try_next().await.context("reading")? {
            upload.wait_for_capacity(2).await.context("writing a part")?;
            upload.put(chunk);
        }
        Ok(())
    }
    .await;
    match copied {
        Ok(()) => {
            upload.finish().await.context("completing the multipart upload")?;
            Ok(())
        }
        Err(e) => {
            let _ = upload.abort().await;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_go_under_the_destination_prefix() {
        assert_eq!(under("", "org/ct/doc.pdf"), "org/ct/doc.pdf");
        assert_eq!(under("backup/2026", "org/ct/doc.pdf"), "backup/2026/org/ct/doc.pdf");
    }

    #[test]
    fn credential_files_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.env");
        std::fs::write(&good, "# backup bucket\nexport AWS_ACCESS_KEY_ID=id\nAWS_SECRET_ACCESS_KEY=\"secret\"\n").unwrap();
        assert_eq!(credentials(Some(&good), "source").unwrap(), Some(("id".to_owned(), "secret".to_owned())));
        let half = dir.path().join("half.env");
        std::fs::write(&half, "AWS_ACCESS_KEY_ID=id\n").unwrap();
        assert!(format!("{:#}", credentials(Some(&half), "source").unwrap_err()).contains("AWS_SECRET_ACCESS_KEY"));
        let bad = dir.path().join("bad.env");
        std::fs::write(&bad, "just a secret\n").unwrap();
        assert!(format!("{:#}", credentials(Some(&bad), "source").unwrap_err()).contains("line 1"));
        let empty = dir.path().join("empty.env");
        std::fs::write(&empty, "").unwrap();
        assert!(credentials(Some(&empty), "source").is_err(), "a file that names nothing is a mistake");
        assert!(credentials(Some(&dir.path().join("missing")), "source").is_err());
    }

    #[test]
    fn the_summary_names_each_problem_s_place() {
        let mut r = CheckReport { format: "signet.admin-check/v1", contracts: 2, ..Default::default() };
        assert!(summary(&r).contains("OK"));
        r.problems.push(Problem { org: "org_a".into(), contract: Some("ct_b".into()), document: Some("doc_c".into()), problem: "broken".into() });
        let s = summary(&r);
        assert!(s.contains("1 problem(s)") && s.contains("  org_a ct_b doc_c: broken"), "{s}");
        r.problems.push(Problem { org: String::new(), contract: None, document: None, problem: "the log".into() });
        assert!(summary(&r).contains("  deployment: the log"), "{}", summary(&r));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["problems"][0]["contract"], "ct_b");
        assert!(json["problems"][1].get("org").is_none(), "{json}");
        assert_eq!(json["contracts"], 2);
    }

    #[test]
    fn a_check_never_makes_a_master_key() {
        let dir = tempfile::tempdir().unwrap();
        let flags = Overrides { data: Some(dir.path().to_owned()), ..Default::default() };
        let cfg = Config::load(&flags, &|_| None).unwrap();
        let err = require_master_key(&cfg).unwrap_err();
        assert!(err.to_string().contains("SIGNET_MASTER_KEY_FILE"), "{err}");
        assert!(!dir.path().join("keys").exists());
    }
}
