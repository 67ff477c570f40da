//! Background work as jobs in the database queue (`signet-store`'s `jobs` table), so that any
//! server of a deployment may run it and a server that dies loses none of it.
//!
//! - `notify`: the messages a committed contract change calls for (links to the signers whose
//!   turn came, reminders, completion, decline and void notices). It is enqueued in the same
//!   transaction as the change (see `api::commit`), so a committed change always has its
//!   messages queued. Its payload names the contract and the events to announce; the worker
//!   builds the messages with `ceremony::issue_links` from the contract as stored.
//! - `sweep.expiry`, `sweep.reminders`, `sweep.evidence`, `sweep.jobs`: the periodic sweeps.
//!   Every server enqueues them once a period under a dedupe key naming the period, so one
//!   server runs each period's sweep. A sweep has one attempt (the next period's run is its
//!   retry), a contract that fails in it does not stop it (`api::Unswept`), and only its kind's
//!   newest outcome is kept ([`forget_older_runs`]).
//! - `witness`: sends the evidence log's newest checkpoint to the witnesses configured
//!   (`SIGNET_LOG_WITNESSES`) that have not cosigned it, stores their cosignatures (the
//!   sequencer publishes them), and fails — to be retried with backoff — while one of them
//!   does not cosign. Every server's worker enqueues one per checkpoint lacking
//!   cosignatures (deduplicated by its size, at most every [`WITNESS_EVERY`]); a job for a
//!   checkpoint older than the newest ends at once.
//!
//! One worker per server ([`run_worker`]) claims due jobs with a lease of [`LEASE_MS`],
//! renewed every [`RENEW_EVERY`] while they run, so a dead server's jobs are claimed again by
//! another within [`LEASE_MS`] plus one poll. Mail is at least once: a job that ran but could
//! not record it runs again, and a retried `notify` job skips the messages an earlier attempt
//! recorded as delivered, so a duplicate is possible only for the one message in flight.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use signet_domain::contract::Contract;
use signet_domain::event::{ContractEvent, EventKind};
use signet_store::{Backoff, Job, JobState, NewJob};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::{App, new_id, now_ms};

/// The messages of a committed contract change.
pub const NOTIFY: &str = "notify";
/// Expires open contracts past their deadline.
pub const SWEEP_EXPIRY: &str = "sweep.expiry";
/// Reminds signers of idle open contracts.
pub const SWEEP_REMINDERS: &str = "sweep.reminders";
/// Appends committed events a crash left out of the evidence log.
pub const SWEEP_EVIDENCE: &str = "sweep.evidence";
/// The hourly clean-up ([`clean_up`]): done jobs, expired sessions, old idempotency answers.
pub const SWEEP_JOBS: &str = "sweep.jobs";
/// Sends the log's newest checkpoint to its witnesses.
pub const WITNESS: &str = "witness";
/// How often a worker looks for a checkpoint the witnesses have not all cosigned.
pub const WITNESS_EVERY: Duration = Duration::from_secs(5);

/// How long a claim holds a job without renewal.
pub const LEASE_MS: u64 = 20_000;
/// How often a worker renews the leases of the jobs it runs.
pub const RENEW_EVERY: Duration = Duration::from_secs(5);
/// How often a worker looks for due jobs when nothing wakes it.
pub const POLL: Duration = Duration::from_secs(1);
/// Jobs a worker runs at once.
pub const CONCURRENCY: usize = 4;
/// The longest an attempt may take before it counts as failed.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(300);
/// Retries: after 2 s, doubling up to 10 minutes; failed after the 12th attempt (about an
/// hour of trying).
pub const BACKOFF: Backoff = Backoff { base_ms: 2_000, cap_ms: 600_000, max_attempts: 12 };
/// A periodic sweep has one attempt: the next period's job is its retry.
const ONE_ATTEMPT: Backoff = Backoff { base_ms: 0, cap_ms: 0, max_attempts: 1 };
/// Done jobs are kept this long for administrators to see.
pub const KEEP_DONE_MS: u64 = 86_400_000;
/// The period of the job-pruning sweep.
const PRUNE_PERIOD_SECS: u64 = 3600;

/// Wakes this process's worker at once (a job was just enqueued here).
static WAKE: Notify = Notify::const_new();

/// Tells this server's worker that a job is waiting, so it does not wait for its next poll.
pub fn wake() {
    WAKE.notify_one();
}

/// One event a `notify` job announces: what the message-building code reads of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// The event's kind (`notified`, `reminded`, `completed`, `declined`, `voided`).
    pub kind: String,
    /// Its recipient, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// A decline's or void's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The payload of a `notify` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyPayload {
    /// The contract.
    pub contract: String,
    /// The events to announce, in order.
    pub events: Vec<Announcement>,
    /// How many of the job's messages earlier attempts delivered (skipped by a retry).
    #[serde(default)]
    pub delivered: u64,
}

/// The `notify` job for a change of `c` that produced `events`, or `None` when none of them
/// calls for a message.
pub fn notify_job(c: &Contract, events: &[ContractEvent], now: u64) -> Option<NewJob> {
    let events: Vec<Announcement> = events
        .iter()
        .filter(|e| super::ceremony::announces(e.kind))
        .map(|e| Announcement { kind: e.kind.as_str().to_owned(), recipient: e.recipient.clone(), reason: e.data.get("reason").cloned() })
        .collect();
    if events.is_empty() {
        return None;
    }
    let payload = NotifyPayload { contract: c.id.clone(), events, delivered: 0 };
    Some(NewJob {
        id: new_id("job"),
        kind: NOTIFY.to_owned(),
        org_id: Some(c.org.clone()),
        // A payload of strings always serialises.
        payload: serde_json::to_string(&payload).unwrap_or_default(),
        dedupe_key: None,
        run_at: now,
    })
}

/// The messages of one `notify` attempt, counted in the order `issue_links` builds them: the
/// ones an earlier attempt delivered are skipped, and each one delivered now is recorded
/// before the next is built.
pub struct Deliveries<'a> {
    app: &'a App,
    job: &'a str,
    worker: &'a str,
    payload: NotifyPayload,
    next: u64,
}

impl Deliveries<'_> {
    /// Whether the next message is still owed; its outbox id if so (one per job and message,
    /// so a retry does not store it twice).
    pub fn due(&mut self) -> Option<String> {
        let n = self.next;
        self.next += 1;
        (n >= self.payload.delivered).then(|| format!("msg_{}_{n}", self.job.trim_start_matches("job_")))
    }

    /// Records that the message [`Deliveries::due`] last allowed was delivered.
    pub async fn delivered(&mut self) -> anyhow::Result<()> {
        self.payload.delivered = self.next;
        let payload = serde_json::to_string(&self.payload).context("the job's progress")?;
        if !self.app.store.set_job_payload(self.job, self.worker, &payload).await? {
            anyhow::bail!("the job's lease was lost to another worker; it finishes the job");
        }
        Ok(())
    }
}

/// Runs a `notify` job: the contract as stored now, the events of the payload.
async fn notify(app: &App, worker: &str, job: &Job) -> anyhow::Result<()> {
    let payload: NotifyPayload = serde_json::from_str(&job.payload).context("the job's payload is not a notify payload")?;
    let org = job.org_id.as_deref().context("a notify job without an organisation")?;
    let Some((c, _)) = app.store.contract(org, &payload.contract).await? else {
        // Nothing to announce about a contract that is not there.
        return Ok(());
    };
    let mut events = Vec::new();
    for a in &payload.events {
        let kind = EventKind::parse(&a.kind).with_context(|| format!("unknown event kind {:?} in the payload", a.kind))?;
        let data = a.reason.iter().map(|r| ("reason".to_owned(), r.clone())).collect::<BTreeMap<_, _>>();
        events.push(ContractEvent { kind, at: job.created_at, actor: String::new(), recipient: a.recipient.clone(), data });
    }
    let mut deliveries = Deliveries { app, job: &job.id, worker, payload, next: 0 };
    super::ceremony::issue_links(app, &c, &events, &mut deliveries).await
}

/// The payload of a `witness` job: the size of the checkpoint it was enqueued for.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct WitnessPayload {
    /// The checkpoint's tree size.
    pub size: u64,
}

/// Runs a `witness` job (see the module documentation).
async fn witness(app: &App, job: &Job) -> anyhow::Result<()> {
    let payload: WitnessPayload = serde_json::from_str(&job.payload).context("the job's payload is not a witness payload")?;
    let newest = app.log.checkpoint().await?.map_or(0, |c| c.size);
    if newest > payload.size {
        // Superseded: the newest checkpoint's own job sends that one.
        return Ok(());
    }
    match app.log.witness().await? {
        Some(report) if !report.failed.is_empty() => anyhow::bail!(
            "{} of {} log witness(es) cosigned checkpoint {}; {}",
            report.cosigned,
            app.cfg.log_witnesses.len(),
            report.size,
            report.failed.join("; ")
        ),
        _ => Ok(()),
    }
}

/// A `witness` job for the log's newest checkpoint, if the witnesses have not all cosigned it.
async fn witness_job(app: &App, now: u64) -> anyhow::Result<Option<NewJob>> {
    let Some(size) = app.log.uncosigned_checkpoint().await? else { return Ok(None) };
    Ok(Some(NewJob {
        id: new_id("job"),
        kind: WITNESS.to_owned(),
        org_id: None,
        payload: serde_json::to_string(&WitnessPayload { size })?,
        dedupe_key: Some(format!("{WITNESS}:{size}")),
        run_at: now,
    }))
}

/// The hourly clean-up (`sweep.jobs`): forgets done jobs after [`KEEP_DONE_MS`], expired
/// sessions, `Idempotency-Key` answers past [`signet_store::IDEMPOTENCY_KEEP_MS`] and sign-in
/// failure counts whose window has closed, so none of these tables grows without end.
async fn clean_up(app: &App) -> anyhow::Result<()> {
    let now = now_ms();
    app.store.prune_jobs(now.saturating_sub(KEEP_DONE_MS)).await?;
    app.store.delete_expired_sessions(now).await?;
    app.store.forget_idempotency_keys(now).await?;
    app.store.forget_closed_throttles(now, super::session::LIMIT_WINDOW_MS).await?;
    Ok(())
}

/// Runs one attempt of a job.
async fn run_job(app: &App, worker: &str, job: &Job) -> anyhow::Result<()> {
    match job.kind.as_str() {
        NOTIFY => notify(app, worker, job).await,
        SWEEP_EXPIRY => super::api::expire_due(app).await.map(drop),
        SWEEP_REMINDERS => super::api::remind_idle(app).await.map(drop),
        SWEEP_EVIDENCE => super::api::reconcile_evidence(app).await.map(drop),
        SWEEP_JOBS => clean_up(app).await,
        WITNESS => witness(app, job).await,
        other => anyhow::bail!("unknown job kind {other:?}"),
    }
}

/// The periodic jobs of the period that contains `now`: each with a dedupe key naming its
/// period, so whichever server enqueues first enqueues the one of that period.
pub fn periodic_jobs(app: &App, now: u64) -> Vec<NewJob> {
    let secs = now / 1000;
    let period = secs / app.cfg.sweep_secs.max(1);
    let mut kinds = vec![SWEEP_EXPIRY, SWEEP_EVIDENCE];
    if app.cfg.remind_days > 0 {
        kinds.push(SWEEP_REMINDERS);
    }
    let mut jobs: Vec<NewJob> = kinds
        .into_iter()
        .map(|kind| NewJob {
            id: new_id("job"),
            kind: kind.to_owned(),
            org_id: None,
            payload: "{}".to_owned(),
            dedupe_key: Some(format!("{kind}:{}:{period}", app.cfg.sweep_secs)),
            run_at: now,
        })
        .collect();
    jobs.push(NewJob {
        id: new_id("job"),
        kind: SWEEP_JOBS.to_owned(),
        org_id: None,
        payload: "{}".to_owned(),
        dedupe_key: Some(format!("{SWEEP_JOBS}:{}", secs / PRUNE_PERIOD_SECS)),
        run_at: now,
    });
    jobs
}

/// Reports a store error once per outage: the database being away is said when it starts
/// and when it ends, other errors each time.
struct Reporter {
    away: bool,
}

impl Reporter {
    fn error(&mut self, what: &str, e: &signet_store::StoreError) {
        if e.is_unavailable() {
            if !self.away {
                eprintln!("jobs: the database is out of reach ({what}: {e}); retrying");
            }
            self.away = true;
        } else {
            eprintln!("jobs: {what}: {e}");
        }
    }

    fn ok(&mut self) {
        if self.away {
            eprintln!("jobs: the database answers again");
        }
        self.away = false;
    }
}

/// Runs one attempt and records its outcome (done, or failed with backoff). Recording is
/// retried while the database is away, for as long as the lease lasts.
async fn execute(app: Arc<App>, worker: Arc<str>, job: Job) {
    let outcome = match tokio::time::timeout(ATTEMPT_TIMEOUT, run_job(&app, &worker, &job)).await {
        Ok(r) => r,
        Err(_) => Err(anyhow::anyhow!("the attempt took longer than {} s", ATTEMPT_TIMEOUT.as_secs())),
    };
    if let Err(e) = &outcome {
        eprintln!("jobs: {} {} attempt {} failed: {e:#}", job.kind, job.id, job.attempts);
    }
    let backoff = if is_periodic(&job.kind) { &ONE_ATTEMPT } else { &BACKOFF };
    let started = Instant::now();
    loop {
        let now = now_ms();
        let recorded = match &outcome {
            Ok(()) => app.store.complete_job(&job.id, &worker, now).await.map(|held| held.then_some(JobState::Done)),
            Err(e) => app.store.fail_job(&job.id, &worker, &format!("{e:#}"), now, backoff).await,
        };
        match recorded {
            Ok(state) => {
                if let Some(state) = state {
                    forget_older_runs(&app, &job, state).await;
                }
                return;
            }
            Err(e) if e.is_unavailable() && started.elapsed() < Duration::from_millis(LEASE_MS) => {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => {
                eprintln!("jobs: the outcome of {} {} was not stored ({e}); it runs again when its lease runs out", job.kind, job.id);
                return;
            }
        }
    }
}

/// Whether jobs of `kind` are enqueued once a period ([`periodic_jobs`]).
fn is_periodic(kind: &str) -> bool {
    matches!(kind, SWEEP_EXPIRY | SWEEP_REMINDERS | SWEEP_EVIDENCE | SWEEP_JOBS)
}

/// After `job` ended in `state`, forgets the earlier runs of kinds that repeat, so that
/// administrators see each one's newest outcome rather than a row per run: of a periodic
/// sweep the newest one done or failed (a failure is left until a later run ends: the next
/// period's run is its retry); of the witness jobs (one per checkpoint) the newest done one,
/// failing ones staying until a newer one succeeds.
async fn forget_older_runs(app: &App, job: &Job, state: JobState) {
    let states: &[JobState] = match job.kind.as_str() {
        kind if is_periodic(kind) && matches!(state, JobState::Done | JobState::Failed) => &[JobState::Done, JobState::Failed],
        WITNESS if state == JobState::Done => &[JobState::Done, JobState::Failed],
        _ => return,
    };
    if let Err(e) = app.store.forget_older_jobs_of_kind(&job.kind, states, &job.id).await {
        eprintln!("jobs: the runs of {} before {} were not forgotten ({e}); the next run tries again", job.kind, job.id);
    }
}

/// The server's worker: enqueues the periodic jobs, claims due jobs (at most [`CONCURRENCY`]
/// at once), runs them, renews their leases, until `stop` turns true (or its sender is
/// dropped). Errors never end it; while the database is away it keeps trying. On the way out
/// it lets running jobs finish for a few seconds, then gives back what it still holds.
pub async fn run_worker(app: Arc<App>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let worker: Arc<str> = Arc::from(new_id("wrk"));
    let mut running: JoinSet<()> = JoinSet::new();
    let mut last_renew = Instant::now();
    let mut enqueued_period: Option<u64> = None;
    let mut last_witness_look: Option<Instant> = None;
    let mut report = Reporter { away: false };
    loop {
        if *stop.borrow() {
            break;
        }
        let now = now_ms();
        let period = now / 1000 / app.cfg.sweep_secs.max(1);
        if enqueued_period != Some(period) {
            let mut ok = true;
            for job in periodic_jobs(&app, now) {
                match app.store.enqueue_job(&job, now).await {
                    Ok(true) => wake(),
                    Ok(false) => {}
                    Err(e) => {
                        report.error("enqueueing the periodic jobs", &e);
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                enqueued_period = Some(period);
            }
        }
        if last_witness_look.is_none_or(|t| t.elapsed() >= WITNESS_EVERY) {
            last_witness_look = Some(Instant::now());
            match witness_job(&app, now).await {
                Ok(Some(job)) => match app.store.enqueue_job(&job, now).await {
                    Ok(true) => wake(),
                    Ok(false) => {}
                    Err(e) => report.error("enqueueing a witness job", &e),
                },
                Ok(None) => {}
                Err(e) => eprintln!("jobs: looking at the log's checkpoint: {e:#}"),
            }
        }
        if !running.is_empty() && last_renew.elapsed() >= RENEW_EVERY {
            match app.store.renew_job_leases(&worker, now + LEASE_MS).await {
                Ok(_) => {
                    report.ok();
                    last_renew = Instant::now();
                }
                Err(e) => report.error("renewing leases", &e),
            }
        }
        let free = CONCURRENCY.saturating_sub(running.len());
        if free > 0 {
            match app.store.claim_jobs(&worker, u32::try_from(free).unwrap_or(1), LEASE_MS, now).await {
                Ok(jobs) => {
                    report.ok();
                    if running.is_empty() {
                        last_renew = Instant::now();
                    }
                    for job in jobs {
                        running.spawn(execute(app.clone(), worker.clone(), job));
                    }
                }
                Err(e) => report.error("claiming jobs", &e),
            }
        }
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            _ = WAKE.notified() => {}
            Some(_) = running.join_next(), if !running.is_empty() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), async { while running.join_next().await.is_some() {} }).await;
    running.abort_all();
    while running.join_next().await.is_some() {}
    match app.store.release_jobs(&worker).await {
        Ok(0) => {}
        Ok(n) => eprintln!("jobs: {n} unfinished job(s) given back for another server"),
        Err(e) => eprintln!("jobs: unfinished jobs not given back ({e}); they run again when their leases run out"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notify_payload_round_trips_and_defaults_its_progress() {
        let p: NotifyPayload = serde_json::from_str(r#"{"contract":"ct_1","events":[{"kind":"declined","recipient":"rcp_1","reason":"no"}]}"#).unwrap();
        assert_eq!(p.delivered, 0);
        assert_eq!(p.events[0].reason.as_deref(), Some("no"));
        let again: NotifyPayload = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(again, p);
        assert!(serde_json::from_str::<NotifyPayload>(r#"{"events":[]}"#).is_err(), "a payload without its contract is refused");
    }

    #[test]
    fn the_backoff_grows_and_is_capped() {
        assert_eq!(BACKOFF.delay(1), 2_000);
        assert_eq!(BACKOFF.delay(2), 4_000);
        assert_eq!(BACKOFF.delay(30), 600_000);
    }
}
