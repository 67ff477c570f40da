//! The journal in SQL: SQLite (the embedded default, a file in the log's directory) or
//! PostgreSQL (scale-out), through sqlx's `any` driver with one set of statements.
//!
//! Tables (several logs may share a database; rows are keyed by the log's name):
//!
//! - `ledger_meta(log, next_index, integrated, cp_size, cp_signed, cp_cosigned, cp_time_ms)`;
//! - `ledger_batches(log, start_index, count, data)`: one row per group commit, `data` the
//!   entries framed as in an entry bundle. Rows are deleted once tiles hold them;
//! - `log_lease(log, holder, epoch, expires_at)`: the sequencer lease. `expires_at` is in
//!   milliseconds since 1970 by the database's clock (never a process's); `epoch` is the
//!   fencing token, incremented by every new acquisition.
//!
//! The lease is taken and renewed by one atomic upsert (`INSERT … ON CONFLICT … DO UPDATE …
//! WHERE` the holder is the same or the lease expired). Every write only the sequencer may make
//! (`set_integrated`, `save_checkpoint`, `save_cosigned`) runs in a transaction whose first
//! statement touches the lease row `WHERE holder = $me AND epoch = $mine`: if that matches no
//! row the transaction is rolled back and the write refused ([`LogError::LeaseLost`]); if it
//! matches, the row stays locked until commit, so no other process can take the lease between
//! the check and the write.
//!
//! On SQLite the lease is taken unconditionally: SQLite is a single machine's journal, the
//! `flock` of [`Journal::lock_integration`] is what excludes other processes there (and a dead
//! process's `flock` is released by the kernel at once), so the lease only numbers the
//! tenures and fences the writes the same way.
//!
//! An append is one transaction whose first statement bumps `next_index` (taking the write
//! lock at once, so concurrent appenders in other processes queue instead of deadlocking) and
//! whose second inserts the batch: the index range and the entries become durable together.
//! SQLite runs in WAL mode with `synchronous=FULL`, so a commit survives power loss.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::{AnyPool, Row as _};

use crate::store::{Fence, IntegrationGuard, Journal, JournalState, LeaseRecord, StoredCheckpoint};
use crate::{LogError, Result};

pub use signet_sqlpool::Backend;

/// A log's journal in SQL.
pub struct SqlJournal {
    pool: AnyPool,
    backend: Backend,
    log: String,
    /// SQLite: the file whose `flock` serialises integration across processes.
    lock_file: Option<PathBuf>,
}

impl SqlJournal {
    /// Connects to `url` (`sqlite://…` or `postgres://…`), creating the tables and the log's
    /// row if missing. `log` names the log within the database. For SQLite, `lock_file`
    /// serialises integration between processes sharing the database.
    pub async fn open(url: &str, log: &str, lock_file: Option<PathBuf>) -> Result<Self> {
        let settings = signet_sqlpool::PoolSettings {
            max_sqlite: 4,
            max_postgres: 8,
            acquire_timeout: Duration::from_secs(30),
            sqlite_pragmas: &[
                // Only takes effect on a new database (before its first table): lets
                // integration hand the journal's freed pages back.
                "PRAGMA auto_vacuum=INCREMENTAL",
                "PRAGMA journal_mode=WAL",
                "PRAGMA synchronous=FULL",
                "PRAGMA busy_timeout=30000",
            ],
        };
        let (pool, backend) = signet_sqlpool::connect(url, &settings).await.map_err(|e| match e {
            e @ signet_sqlpool::ConnectError::Url(_) => LogError::Inconsistent(e.to_string()),
            signet_sqlpool::ConnectError::Db(e) => LogError::Db(e),
        })?;
        let blob = if backend == Backend::Sqlite { "BLOB" } else { "BYTEA" };
        for ddl in [
            "CREATE TABLE IF NOT EXISTS ledger_meta (
                log TEXT PRIMARY KEY,
                next_index BIGINT NOT NULL,
                integrated BIGINT NOT NULL,
                cp_size BIGINT,
                cp_signed TEXT,
                cp_cosigned TEXT,
                cp_time_ms BIGINT)"
                .to_string(),
            format!(
                "CREATE TABLE IF NOT EXISTS ledger_batches (
                log TEXT NOT NULL,
                start_index BIGINT NOT NULL,
                count BIGINT NOT NULL,
                data {blob} NOT NULL,
                PRIMARY KEY (log, start_index))"
            ),
            "CREATE TABLE IF NOT EXISTS log_lease (
                log TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                epoch BIGINT NOT NULL,
                expires_at BIGINT NOT NULL)"
                .to_string(),
        ] {
            create_table(&pool, &ddl).await?;
        }
        sqlx::query(
            "INSERT INTO ledger_meta (log, next_index, integrated) VALUES ($1, 0, 0) ON CONFLICT (log) DO NOTHING",
        )
        .bind(log)
        .execute(&pool)
        .await?;
        Ok(SqlJournal { pool, backend, log: log.to_owned(), lock_file })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool (waits for connections to finish).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The database's clock in milliseconds since 1970, as an SQL expression.
    fn now_ms_sql(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
            Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        }
    }

    /// Begins a transaction that holds the sequencer lease row locked until it ends, or fails
    /// with [`LogError::LeaseLost`] if `fence` no longer holds the lease.
    async fn begin_fenced(&self, fence: &Fence) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.pool.begin().await?;
        let held = sqlx::query("UPDATE log_lease SET epoch = epoch WHERE log = $1 AND holder = $2 AND epoch = $3")
            .bind(&self.log)
            .bind(&fence.holder)
            .bind(to_i64(fence.epoch)?)
            .execute(&mut *tx)
            .await?;
        if held.rows_affected() != 1 {
            tx.rollback().await?;
            return Err(lease_lost(fence));
        }
        Ok(tx)
    }
}

fn lease_lost(fence: &Fence) -> LogError {
    LogError::LeaseLost { holder: fence.holder.clone(), epoch: fence.epoch }
}

/// `CREATE TABLE IF NOT EXISTS` races between servers starting together on PostgreSQL (a
/// unique violation on the catalog); the loser finds the table made and goes on.
async fn create_table(pool: &AnyPool, ddl: &str) -> Result<()> {
    match sqlx::query(sqlx::AssertSqlSafe(ddl.to_owned())).execute(pool).await {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23505") => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| LogError::Inconsistent(format!("{v} does not fit the database's BIGINT")))
}

fn to_u64(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| LogError::Inconsistent(format!("negative value {v} in the journal")))
}

#[async_trait]
impl Journal for SqlJournal {
    async fn append_batch(&self, count: u64, framed: &[u8]) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("UPDATE ledger_meta SET next_index = next_index + $1 WHERE log = $2 RETURNING next_index")
            .bind(to_i64(count)?)
            .bind(&self.log)
            .fetch_one(&mut *tx)
            .await?;
        let end = to_u64(row.try_get::<i64, _>(0)?)?;
        let start = end - count;
        sqlx::query("INSERT INTO ledger_batches (log, start_index, count, data) VALUES ($1, $2, $3, $4)")
            .bind(&self.log)
            .bind(to_i64(start)?)
            .bind(to_i64(count)?)
            .bind(framed.to_vec())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(start)
    }

    async fn state(&self) -> Result<JournalState> {
        let row = sqlx::query(
            "SELECT next_index, integrated, cp_size, cp_signed, cp_cosigned, cp_time_ms FROM ledger_meta WHERE log = $1",
        )
        .bind(&self.log)
        .fetch_one(&self.pool)
        .await?;
        let cp_size: Option<i64> = row.try_get(2)?;
        let checkpoint = match cp_size {
            Some(size) => Some(StoredCheckpoint {
                size: to_u64(size)?,
                signed: row.try_get::<Option<String>, _>(3)?.unwrap_or_default(),
                cosigned: row.try_get::<Option<String>, _>(4)?.unwrap_or_default(),
                time_ms: to_u64(row.try_get::<Option<i64>, _>(5)?.unwrap_or(0))?,
            }),
            None => None,
        };
        Ok(JournalState {
            next_index: to_u64(row.try_get(0)?)?,
            integrated: to_u64(row.try_get(1)?)?,
            checkpoint,
        })
    }

    async fn read_batches(&self, from: u64, to: u64) -> Result<Vec<(u64, u64, Vec<u8>)>> {
        let rows = sqlx::query(
            "SELECT start_index, count, data FROM ledger_batches
             WHERE log = $1 AND start_index + count > $2 AND start_index < $3 ORDER BY start_index",
        )
        .bind(&self.log)
        .bind(to_i64(from)?)
        .bind(to_i64(to)?)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| Ok((to_u64(r.try_get(0)?)?, to_u64(r.try_get(1)?)?, r.try_get::<Vec<u8>, _>(2)?)))
            .collect()
    }

    async fn set_integrated(&self, size: u64, fence: &Fence) -> Result<()> {
        let mut tx = self.begin_fenced(fence).await?;
        sqlx::query("UPDATE ledger_meta SET integrated = $1 WHERE log = $2 AND integrated <= $1")
            .bind(to_i64(size)?)
            .bind(&self.log)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM ledger_batches WHERE log = $1 AND start_index + count <= $2")
            .bind(&self.log)
            .bind(to_i64(size)?)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if self.backend == Backend::Sqlite {
            // Integrated batches are gone; give their pages back to the file system.
            sqlx::query("PRAGMA incremental_vacuum").execute(&self.pool).await?;
        }
        Ok(())
    }

    async fn save_checkpoint(&self, previous: Option<u64>, cp: &StoredCheckpoint, fence: &Fence) -> Result<()> {
        let previous = previous.map(to_i64).transpose()?.unwrap_or(-1);
        let mut tx = self.begin_fenced(fence).await?;
        let done = sqlx::query(
            "UPDATE ledger_meta SET cp_size = $1, cp_signed = $2, cp_cosigned = $3, cp_time_ms = $4
             WHERE log = $5 AND COALESCE(cp_size, -1) = $6",
        )
        .bind(to_i64(cp.size)?)
        .bind(&cp.signed)
        .bind(&cp.cosigned)
        .bind(to_i64(cp.time_ms)?)
        .bind(&self.log)
        .bind(previous)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Err(LogError::Conflict("another process signed a checkpoint first".into()));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn save_cosigned(&self, size: u64, cosigned: &str, fence: &Fence) -> Result<()> {
        let mut tx = self.begin_fenced(fence).await?;
        sqlx::query("UPDATE ledger_meta SET cp_cosigned = $1 WHERE log = $2 AND cp_size = $3")
            .bind(cosigned)
            .bind(&self.log)
            .bind(to_i64(size)?)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn store_cosignatures(&self, size: u64, signed: &str, cosigned: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE ledger_meta SET cp_cosigned = $1 WHERE log = $2 AND cp_size = $3 AND cp_signed = $4")
            .bind(cosigned)
            .bind(&self.log)
            .bind(to_i64(size)?)
            .bind(signed)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn acquire_lease(&self, holder: &str, duration: Duration) -> Result<Option<u64>> {
        let now = self.now_ms_sql();
        let ms = i64::try_from(duration.as_millis())
            .map_err(|_| LogError::Inconsistent(format!("a lease of {duration:?} is too long")))?;
        // SQLite: taken unconditionally (the caller holds the `flock`; see the module docs).
        let only_if_free = match self.backend {
            Backend::Sqlite => String::new(),
            Backend::Postgres => format!("WHERE log_lease.holder = excluded.holder OR log_lease.expires_at < {now}"),
        };
        let sql = format!(
            "INSERT INTO log_lease (log, holder, epoch, expires_at) VALUES ($1, $2, 1, {now} + $3)
             ON CONFLICT (log) DO UPDATE SET
                epoch = CASE WHEN log_lease.holder = excluded.holder AND log_lease.expires_at >= {now}
                             THEN log_lease.epoch ELSE log_lease.epoch + 1 END,
                holder = excluded.holder,
                expires_at = excluded.expires_at
             {only_if_free}
             RETURNING epoch"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&self.log)
            .bind(holder)
            .bind(ms)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| to_u64(r.try_get::<i64, _>(0)?)).transpose()
    }

    async fn release_lease(&self, fence: &Fence) -> Result<()> {
        sqlx::query("UPDATE log_lease SET expires_at = 0 WHERE log = $1 AND holder = $2 AND epoch = $3")
            .bind(&self.log)
            .bind(&fence.holder)
            .bind(to_i64(fence.epoch)?)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn lease(&self) -> Result<Option<LeaseRecord>> {
        let sql = format!("SELECT holder, epoch, expires_at - {} FROM log_lease WHERE log = $1", self.now_ms_sql());
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&self.log).fetch_optional(&self.pool).await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(LeaseRecord {
                holder: r.try_get(0)?,
                epoch: to_u64(r.try_get(1)?)?,
                remaining_ms: r.try_get(2)?,
            })),
        }
    }

    async fn lock_integration(&self) -> Result<IntegrationGuard> {
        match self.backend {
            Backend::Sqlite => {
                let path = self
                    .lock_file
                    .clone()
                    .ok_or_else(|| LogError::Inconsistent("an SQLite journal needs a lock file".into()))?;
                let file = tokio::task::spawn_blocking(move || crate::files::lock_exclusive(&path))
                    .await
                    .map_err(|e| LogError::Inconsistent(format!("lock task failed: {e}")))??;
                Ok(Box::new(file))
            }
            // No lock that could be held forever by a stalled process: the sequencer lease
            // (which lapses) excludes, and fenced writes refuse a stale holder.
            Backend::Postgres => Ok(Box::new(())),
        }
    }
}
