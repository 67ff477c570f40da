//! The SQL connection pool of the platform's store (`signet-store`) and of the evidence log's
//! journal (`signet-log`): one URL (`sqlite://PATH` for the embedded default, `postgres://…`
//! for a deployment of several servers), sqlx's `any` driver so that one set of statements
//! runs on both, a bounded wait for a connection (a database that is down fails requests in
//! seconds instead of hanging them), and the SQLite pragmas each connection needs.

use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::{AnyPoolOptions, install_default_drivers};

/// Which SQL server a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (embedded).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// The backend of `url`, by its scheme; `None` for any other.
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// How a pool is set up.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Connections at most, on SQLite.
    pub max_sqlite: u32,
    /// Connections at most, on PostgreSQL.
    pub max_postgres: u32,
    /// The longest a caller waits for a connection.
    pub acquire_timeout: Duration,
    /// Statements every new SQLite connection runs first (`PRAGMA …`).
    pub sqlite_pragmas: &'static [&'static str],
}

/// What can go wrong opening a pool.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL is neither `sqlite:` nor `postgres:`; holds it without its user, password and
    /// query (no secret is printed).
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    Url(String),
    /// The database refused or did not answer.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// Opens a pool on `url` as `settings` says.
///
/// # Errors
/// [`ConnectError::Url`] for another scheme; [`ConnectError::Db`] when connecting fails.
pub async fn connect(url: &str, settings: &PoolSettings) -> Result<(AnyPool, Backend), ConnectError> {
    install_default_drivers();
    let backend = Backend::of_url(url).ok_or_else(|| ConnectError::Url(without_secrets(url)))?;
    let pragmas = settings.sqlite_pragmas;
    let pool = AnyPoolOptions::new()
        .max_connections(match backend {
            Backend::Sqlite => settings.max_sqlite,
            Backend::Postgres => settings.max_postgres,
        })
        .acquire_timeout(settings.acquire_timeout)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    for pragma in pragmas {
                        sqlx::query(*pragma).execute(&mut *conn).await?;
                    }
                }
                Ok(())
            })
        })
        .connect(url)
        .await?;
    Ok((pool, backend))
}

/// `url` without its query and with any `user:password@` replaced by `…@`.
fn without_secrets(url: &str) -> String {
    let base = url.split('?').next().unwrap_or_default();
    match (base.split_once("://"), base.rfind('@')) {
        (Some((scheme, _)), Some(at)) => format!("{scheme}://…@{}", &base[at + 1..]),
        _ => base.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_names_the_backend() {
        assert_eq!(Backend::of_url("sqlite:///tmp/x.db?mode=rwc"), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url("postgres://db/x"), Some(Backend::Postgres));
        assert_eq!(Backend::of_url("postgresql://db/x"), Some(Backend::Postgres));
        assert_eq!(Backend::of_url("mysql://db/x"), None);
    }

    #[tokio::test]
    async fn a_sqlite_pool_runs_its_pragmas_and_another_scheme_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display());
        let settings = PoolSettings { max_sqlite: 2, max_postgres: 2, acquire_timeout: Duration::from_secs(5), sqlite_pragmas: &["PRAGMA journal_mode=WAL"] };
        let (pool, backend) = connect(&url, &settings).await.unwrap();
        assert_eq!(backend, Backend::Sqlite);
        let mode: String = sqlx::Row::get(&sqlx::query("PRAGMA journal_mode").fetch_one(&pool).await.unwrap(), 0);
        assert_eq!(mode, "wal");
        let err = connect("mysql://u:secret@db/x?password=secret", &settings).await.unwrap_err();
        assert!(matches!(&err, ConnectError::Url(u) if u == "mysql://…@db/x"), "{err}");
        assert!(!err.to_string().contains("secret"));
        assert_eq!(without_secrets("mysql://db/x?sslmode=require"), "mysql://db/x");
    }
}
