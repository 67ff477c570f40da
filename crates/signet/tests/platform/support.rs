//! What the platform tests need around the client: the real `signet serve` in a child process
//! (fresh data directory, free port, killed on drop), the CLI beside it, sample PDFs and PNGs,
//! mailboxes to read links and codes from (the outbox or a real SMTP server), a fresh
//! PostgreSQL schema, and the third-party validator.

#![allow(dead_code)]

use std::collections::HashSet;
use std::ffi::OsStr;
use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use signet_client::{Channel, Client};

/// How long a server may take to answer `/healthz` after it was started (first start: master
/// key, CA, log, demo organisation with an Argon2 password hash, all in a debug build).
const BOOT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a mail may take to arrive.
const MAIL_TIMEOUT: Duration = Duration::from_secs(15);
/// Any child command (CLI, validator).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// Any API call.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Server settings the tests own: inherited values would make a run depend on the caller's
/// shell. `SIGNET_FONT` (where to find a CJK font) is the one kept.
fn scrub(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("SIGNET_") && k != "SIGNET_FONT" {
            cmd.env_remove(&k);
        }
    }
}

/// `demo-credentials.json`, and what `signet org create` prints.
#[derive(Debug, Clone, Deserialize)]
pub struct Credentials {
    pub admin_email: String,
    pub admin_password: String,
    pub api_key: String,
    pub org_id: String,
}

/// A running `signet serve`.
pub struct Server {
    /// `http://127.0.0.1:PORT`, also its `SIGNET_PUBLIC_URL`.
    pub url: String,
    /// The data directory.
    pub data: PathBuf,
    /// The demo organisation (empty strings for a server that joined a deployment another
    /// server made).
    pub creds: Credentials,
    env: Vec<(String, String)>,
    child: Child,
    stderr: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local address").port()
}

impl Server {
    /// Starts a server on a fresh data directory with the extra environment `env`.
    pub fn start(env: &[(&str, &str)]) -> Server {
        Self::start_prepared(env, |_| {})
    }

    /// Starts a server on a data directory `prepare` has filled first.
    pub fn start_prepared(env: &[(&str, &str)], prepare: impl FnOnce(&Path)) -> Server {
        let dir = tempfile::Builder::new().prefix("signet-platform-").tempdir().expect("temp dir");
        let data = dir.path().join("data");
        prepare(&data);
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        // Another process may take the port between our probe and the server's bind: retry.
        let mut last = String::new();
        for attempt in 0..3 {
            let port = free_port();
            let url = format!("http://127.0.0.1:{port}");
            let stdout = dir.path().join(format!("serve-{attempt}.out"));
            let stderr = dir.path().join(format!("serve-{attempt}.err"));
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_signet"));
            scrub(&mut cmd);
            cmd.arg("serve")
                .arg("--data")
                .arg(&data)
                .arg("--listen")
                .arg(format!("127.0.0.1:{port}"))
                .env("SIGNET_PUBLIC_URL", &url)
                .envs(env.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(&stdout).expect("stdout file"))
                .stderr(std::fs::File::create(&stderr).expect("stderr file"));
            let mut child = cmd.spawn().expect("start signet serve");
            let probe = Client::new(url.clone(), None).with_timeout(Duration::from_secs(2));
            let started = Instant::now();
            let up = loop {
                if let Ok(Some(status)) = child.try_wait() {
                    last = format!("signet serve exited with {status}:\n{}", read_tail(&stderr));
                    break false;
                }
                if probe.health().is_ok() {
                    break true;
                }
                if started.elapsed() > BOOT_TIMEOUT {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("signet serve did not answer /healthz within {BOOT_TIMEOUT:?}:\n{}", read_tail(&stderr));
                }
                std::thread::sleep(Duration::from_millis(100));
            };
            if !up {
                let _ = child.wait();
                if last.contains("cannot listen") {
                    continue;
                }
                panic!("{last}");
            }
            // A server that joined a deployment another server made has no credentials file.
            let creds_path = data.join("demo-credentials.json");
            let creds: Credentials = match std::fs::read(&creds_path) {
                Ok(bytes) => serde_json::from_slice(&bytes).expect("demo-credentials.json has admin_email, admin_password, api_key, org_id"),
                Err(_) => Credentials { admin_email: String::new(), admin_password: String::new(), api_key: String::new(), org_id: String::new() },
            };
            return Server { url, data, creds, env, child, stderr, _dir: dir };
        }
        panic!("no free port after 3 attempts: {last}");
    }

    /// A client with the demo organisation's API key.
    pub fn client(&self) -> Client {
        self.client_with(Some(self.creds.api_key.clone()))
    }

    /// A client with `key`.
    pub fn client_with(&self, key: Option<String>) -> Client {
        Client::new(self.url.clone(), key).with_timeout(CALL_TIMEOUT)
    }

    /// Whether the server process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Ends the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The end of the server's stderr (for failure messages).
    pub fn stderr(&self) -> String {
        read_tail(&self.stderr)
    }

    /// The instance's root certificate file.
    pub fn root_pem(&self) -> PathBuf {
        self.data.join("ca").join("root.pem")
    }

    /// Runs `signet ARGS` with this server's environment (database, …).
    pub fn signet<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_signet"));
        scrub(&mut cmd);
        cmd.args(args).env("SIGNET_PUBLIC_URL", &self.url).envs(self.env.iter().map(|(k, v)| (k, v)));
        run(cmd, COMMAND_TIMEOUT)
    }

    /// `signet org create` against this deployment, while it runs.
    pub fn create_org(&self, name: &str, admin_email: &str) -> Credentials {
        let out = self.signet([
            OsStr::new("org"),
            OsStr::new("create"),
            OsStr::new("--data"),
            self.data.as_os_str(),
            OsStr::new("--name"),
            OsStr::new(name),
            OsStr::new("--admin-email"),
            OsStr::new(admin_email),
        ]);
        assert!(out.status.success(), "signet org create: {}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("org create printed no credentials ({e}): {}", String::from_utf8_lossy(&out.stdout)))
    }

    /// A sample contract PDF of `pages` pages, made by `signet sample-pdf`.
    pub fn sample_pdf(&self, pages: usize) -> Vec<u8> {
        sample_pdf(pages)
    }
}

/// Damages the stored record of contract `id` in the embedded default's database file `db`
/// (one character of its sealed body changed, as a disk fault or someone writing to the
/// database would); returns the body as it was.
pub fn damage_contract_record(db: &Path, id: &str) -> String {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime").block_on(async {
        use sqlx::Row as _;
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.expect("open the database");
        let body: String = sqlx::query("SELECT body FROM contracts WHERE id = $1").bind(id).fetch_one(&pool).await.expect("the row").get(0);
        let mut changed = body.clone().into_bytes();
        let at = changed.len() / 2;
        changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
        sqlx::query("UPDATE contracts SET body = $1 WHERE id = $2").bind(String::from_utf8(changed).expect("base64")).bind(id).execute(&pool).await.expect("change the row");
        pool.close().await;
        body
    })
}

/// A sample contract PDF of `pages` pages, made by `signet sample-pdf`.
pub fn sample_pdf(pages: usize) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("sample.pdf");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_signet"));
    cmd.arg("sample-pdf").arg("-o").arg(&out).arg("--pages").arg(pages.to_string());
    let o = run(cmd, COMMAND_TIMEOUT);
    assert!(o.status.success(), "signet sample-pdf: {}", String::from_utf8_lossy(&o.stderr));
    std::fs::read(&out).expect("the sample PDF")
}

/// Runs a command with a deadline, killing it when the deadline passes.
pub fn run(mut cmd: Command, timeout: Duration) -> Output {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let mut out_pipe = child.stdout.take().expect("stdout pipe");
    let mut err_pipe = child.stderr.take().expect("stderr pipe");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: out_reader.join().unwrap_or_default(), stderr: err_reader.join().unwrap_or_default() }
}

fn read_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(4000);
    let start = (start..text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
    text[start..].to_owned()
}

/// A small drawn signature: a blue zigzag on a transparent background.
pub fn signature_png() -> Vec<u8> {
    let (w, h) = (120u32, 40u32);
    let mut pixels = vec![0u8; (w * h * 4) as usize];
    for x in 5..w - 5 {
        let y = 20.0 + 12.0 * ((x as f64) / 9.0).sin();
        for dy in -1i32..=1 {
            let yy = (y as i32 + dy).clamp(0, h as i32 - 1) as u32;
            let i = ((yy * w + x) * 4) as usize;
            pixels[i..i + 4].copy_from_slice(&[20, 40, 160, 255]);
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().expect("PNG header");
        writer.write_image_data(&pixels).expect("PNG data");
    }
    out
}

// --- mail ------------------------------------------------------------------------------------------

/// Where the tests read what the platform sent to people.
pub trait Mailbox {
    /// Every message so far as (id, address, text).
    fn messages(&self) -> Vec<(String, String, String)>;
}

/// The outbox (`GET /api/v1/outbox?channel=email`), where the embedded default keeps mails.
pub struct Outbox(pub Client);

impl Mailbox for Outbox {
    fn messages(&self) -> Vec<(String, String, String)> {
        let items = self.0.outbox(Some(Channel::Email), Some(500)).expect("GET /api/v1/outbox");
        items.into_iter().map(|m| (m.id, m.address, format!("{}\n{}", m.subject, m.body))).collect()
    }
}

/// What was in a mailbox at one moment: messages after it are new.
pub struct Mark(HashSet<String>);

pub fn mark(mailbox: &dyn Mailbox) -> Mark {
    Mark(mailbox.messages().into_iter().map(|(id, _, _)| id).collect())
}

/// Waits for a new message to `address` whose text `pick` accepts; returns what `pick` got.
fn wait_new<T>(mailbox: &dyn Mailbox, since: &Mark, address: &str, what: &str, pick: impl Fn(&str) -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        let found = mailbox
            .messages()
            .into_iter()
            .filter(|(id, to, _)| !since.0.contains(id) && to.eq_ignore_ascii_case(address))
            .find_map(|(_, _, text)| pick(&text));
        if let Some(v) = found {
            return v;
        }
        assert!(started.elapsed() < MAIL_TIMEOUT, "no {what} for {address} within {MAIL_TIMEOUT:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The signing link `{public_url}/s/{token}` in a new message to `address`.
pub fn wait_link(mailbox: &dyn Mailbox, since: &Mark, address: &str, public_url: &str) -> String {
    wait_new(mailbox, since, address, "signing link", |text| link_in(text, public_url))
}

/// The one-time code in a new message to `address` (a message without a link).
pub fn wait_code(mailbox: &dyn Mailbox, since: &Mark, address: &str, public_url: &str) -> String {
    wait_new(mailbox, since, address, "one-time code", |text| if link_in(text, public_url).is_some() { None } else { code_in(text) })
}

/// Whether any message to `address` arrived after `since`.
pub fn any_new(mailbox: &dyn Mailbox, since: &Mark, address: &str) -> bool {
    mailbox.messages().into_iter().any(|(id, to, _)| !since.0.contains(&id) && to.eq_ignore_ascii_case(address))
}

/// The first `{public_url}/s/TOKEN` in `text`.
pub fn link_in(text: &str, public_url: &str) -> Option<String> {
    let prefix = format!("{public_url}/s/");
    let at = text.find(&prefix)?;
    let token: String = text[at + prefix.len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    (token.len() >= 20).then(|| format!("{prefix}{token}"))
}

/// The six digits after "验证码" or "code" in `text`.
pub fn code_in(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    for anchor in ["验证码", "code"] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(anchor) {
            let rest = &lower[from + i + anchor.len()..];
            let bytes = rest.as_bytes();
            let mut j = 0;
            while j < bytes.len() && j < 40 {
                if bytes[j].is_ascii_digit() {
                    let run = bytes[j..].iter().take_while(|b| b.is_ascii_digit()).count();
                    if run == 6 {
                        return Some(rest[j..j + 6].to_owned());
                    }
                    j += run;
                } else {
                    j += 1;
                }
            }
            from += i + anchor.len();
        }
    }
    None
}

/// A different six-digit code.
pub fn wrong_code(code: &str) -> String {
    let n: u32 = code.parse().expect("a numeric code");
    format!("{:06}", (n + 1) % 1_000_000)
}

// --- PostgreSQL ------------------------------------------------------------------------------------

/// A fresh schema in the test PostgreSQL server, dropped on drop.
pub struct PgSchema {
    /// The server URL with `search_path` set to the schema.
    pub url: String,
    base: String,
    name: String,
    rt: tokio::runtime::Runtime,
}

impl PgSchema {
    /// Creates the schema; `None` when no PostgreSQL server answers (allowed outside CI only).
    pub fn create() -> Option<PgSchema> {
        let base = std::env::var("SIGNET_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos();
        let name = format!("signet_platform_{}_{nanos}", std::process::id());
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let sql = format!("CREATE SCHEMA {name}");
        let created = rt.block_on(async {
            use sqlx::Connection as _;
            let mut conn = tokio::time::timeout(Duration::from_secs(10), sqlx::PgConnection::connect(&base)).await.map_err(|_| "timed out".to_owned())?.map_err(|e| e.to_string())?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.map_err(|e| e.to_string())?;
            conn.close().await.map_err(|e| e.to_string())
        });
        if let Err(e) = created {
            let msg = format!("PostgreSQL at {base} is not usable ({e}); set SIGNET_TEST_DATABASE_URL or run .ci/run");
            assert!(std::env::var_os("CI").is_none(), "{msg}");
            eprintln!("SKIPPED: {msg}");
            return None;
        }
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{name}");
        Some(PgSchema { url, base, name, rt })
    }

    /// Runs one statement in the schema (for tests that must reach past the API, e.g. to age a
    /// signing link).
    pub fn execute(&self, sql: &str) {
        let url = self.url.clone();
        let sql = sql.to_owned();
        self.rt
            .block_on(async move {
                use sqlx::Connection as _;
                let mut conn = sqlx::PgConnection::connect(&url).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await?;
                conn.close().await
            })
            .expect("run SQL in the test schema");
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        let base = self.base.clone();
        let _ = self.rt.block_on(async {
            use sqlx::Connection as _;
            let mut conn = sqlx::PgConnection::connect(&base).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await?;
            conn.close().await
        });
    }
}

// --- a PostgreSQL server of the test's own ----------------------------------------------------------

/// A PostgreSQL server this test starts, stops and starts again (Debian's binaries, a fresh
/// cluster in a temporary directory, a free port, trust authentication); the shared server
/// on 5432 is left alone. As root the server runs as the `postgres` user.
pub struct PrivatePg {
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub url: String,
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
    _dir: tempfile::TempDir,
}

impl PrivatePg {
    /// Creates and starts the cluster; `None` when PostgreSQL's binaries are missing (allowed
    /// outside CI only).
    pub fn start() -> Option<PrivatePg> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|p| p.join("pg_ctl").is_file()).max());
        let Some(bin) = bin else {
            let msg = "PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) are missing: apt-get install postgresql";
            assert!(std::env::var_os("CI").is_none(), "{msg}");
            eprintln!("SKIPPED: {msg}");
            return None;
        };
        let mut id = Command::new("id");
        id.arg("-u");
        let as_postgres = run(id, COMMAND_TIMEOUT).stdout.starts_with(b"0\n");
        let dir = tempfile::Builder::new().prefix("signet-pg-").tempdir().expect("temp dir");
        let data = dir.path().join("cluster");
        if as_postgres {
            let mut chown = Command::new("chown");
            chown.args(["-R", "postgres:postgres"]).arg(dir.path());
            let o = run(chown, COMMAND_TIMEOUT);
            assert!(o.status.success(), "chown for the postgres user: {}", String::from_utf8_lossy(&o.stderr));
        }
        let port = free_port();
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        let pg = PrivatePg { url, bin, data, port, as_postgres, _dir: dir };
        let o = pg.pg("initdb", &["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "-D"], true);
        assert!(o.status.success(), "initdb: {}", String::from_utf8_lossy(&o.stderr));
        pg.up();
        Some(pg)
    }

    fn pg(&self, tool: &str, args: &[&str], with_data: bool) -> Output {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args);
        if with_data {
            cmd.arg(&self.data);
        }
        run(cmd, COMMAND_TIMEOUT)
    }

    /// Starts the server and waits until it accepts connections.
    pub fn up(&self) {
        let opts = format!("-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off", self.port, self.data.display());
        let log = self.data.join("server.log");
        let log = log.to_str().expect("a UTF-8 path");
        let o = self.pg("pg_ctl", &["-w", "-t", "60", "-l", log, "-o", &opts, "start", "-D"], true);
        assert!(o.status.success(), "pg_ctl start: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    }

    /// Stops the server (fast shutdown: connections are cut).
    pub fn down(&self) {
        let o = self.pg("pg_ctl", &["-w", "-t", "60", "-m", "fast", "stop", "-D"], true);
        assert!(o.status.success(), "pg_ctl stop: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let _ = self.pg("pg_ctl", &["-m", "immediate", "stop", "-D"], true);
    }
}

// --- SoftHSM ---------------------------------------------------------------------------------------

/// A SoftHSM2 token of the test's own (a configuration and token directory in a temporary
/// directory, initialised with `softhsm2-util`), and the environment that points a server at it.
pub struct SoftHsm {
    /// `SOFTHSM2_CONF` and the three `SIGNET_KEYS_PKCS11_…` settings.
    pub env: Vec<(String, String)>,
    /// The token's label.
    pub label: String,
    /// The user PIN.
    pub pin: String,
    _dir: tempfile::TempDir,
}

/// Debian's SoftHSM2 module.
pub const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

impl SoftHsm {
    /// A fresh token labelled `label`; `None` when SoftHSM2 is missing (allowed outside CI only).
    pub fn create(label: &str) -> Option<SoftHsm> {
        if !Path::new(SOFTHSM_MODULE).is_file() {
            let msg = format!("SoftHSM2 is missing ({SOFTHSM_MODULE}): apt-get install softhsm2 (or bash .ci/run)");
            assert!(std::env::var_os("CI").is_none(), "{msg}");
            eprintln!("SKIPPED: {msg}");
            return None;
        }
        let dir = tempfile::Builder::new().prefix("signet-hsm-").tempdir().expect("temp dir");
        let tokens = dir.path().join("tokens");
        std::fs::create_dir_all(&tokens).expect("token directory");
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(&conf, format!("directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n", tokens.display())).expect("softhsm2.conf");
        let pin = "735921".to_owned();
        let mut cmd = Command::new("softhsm2-util");
        cmd.env("SOFTHSM2_CONF", &conf).args(["--init-token", "--free", "--label", label, "--pin", &pin, "--so-pin", "86420135"]);
        let o = run(cmd, COMMAND_TIMEOUT);
        assert!(o.status.success(), "softhsm2-util --init-token: {}", String::from_utf8_lossy(&o.stderr));
        let pin_file = dir.path().join("pin");
        std::fs::write(&pin_file, format!("{pin}\n")).expect("the PIN file");
        let env = vec![
            ("SOFTHSM2_CONF".to_owned(), conf.display().to_string()),
            ("SIGNET_KEYS_PKCS11_MODULE".to_owned(), SOFTHSM_MODULE.to_owned()),
            ("SIGNET_KEYS_PKCS11_TOKEN".to_owned(), label.to_owned()),
            ("SIGNET_KEYS_PKCS11_PIN_FILE".to_owned(), pin_file.display().to_string()),
        ];
        Some(SoftHsm { env, label: label.to_owned(), pin, _dir: dir })
    }

    /// The labels and attributes of the token's objects, as `pkcs11-tool --list-objects`
    /// prints them.
    pub fn list_objects(&self) -> String {
        let mut cmd = Command::new("pkcs11-tool");
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(["--module", SOFTHSM_MODULE, "--token-label", &self.label, "--login", "--pin", &self.pin, "--list-objects"]);
        let o = run(cmd, COMMAND_TIMEOUT);
        assert!(o.status.success(), "pkcs11-tool --list-objects: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

// --- S3 ------------------------------------------------------------------------------------------

/// A fresh bucket on the S3-compatible test server (`SIGNET_TEST_S3_ENDPOINT`, default
/// `http://127.0.0.1:5000`, the moto server `.ci/run` starts), created with a plain `PUT`.
pub struct S3Bucket {
    /// `s3://NAME?endpoint=…&region=us-east-1&path_style=true`, as `SIGNET_BLOB_URL` takes it.
    pub url: String,
}

impl S3Bucket {
    /// The credentials the test server accepts (any), as the environment the server gets.
    pub const CREDENTIALS: [(&'static str, &'static str); 2] = [("AWS_ACCESS_KEY_ID", "signet-test"), ("AWS_SECRET_ACCESS_KEY", "signet-test-secret")];

    /// Creates the bucket; `None` when no S3 server answers (allowed outside CI only).
    pub fn create(tag: &str) -> Option<S3Bucket> {
        let endpoint = std::env::var("SIGNET_TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:5000".into());
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos();
        let name = format!("signet-{tag}-{}-{nanos}", std::process::id());
        let http = format!("{}/{name}", endpoint.trim_end_matches('/'));
        let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(10))).http_status_as_error(false).build().into();
        match agent.put(&http).send_empty() {
            Ok(r) if r.status().is_success() => {}
            other => {
                let msg = format!("the S3 test server at {endpoint} is not usable ({:?}); set SIGNET_TEST_S3_ENDPOINT or run .ci/run", other.map(|r| r.status()));
                assert!(std::env::var_os("CI").is_none(), "{msg}");
                eprintln!("SKIPPED: {msg}");
                return None;
            }
        }
        Some(S3Bucket { url: format!("s3://{name}?endpoint={endpoint}&region=us-east-1&path_style=true") })
    }

    /// Every object: (key, bytes), read with the test credentials.
    pub fn objects(&self) -> Vec<(String, Vec<u8>)> {
        use futures_util::TryStreamExt as _;
        use object_store::ObjectStoreExt as _;
        let creds = Self::CREDENTIALS.map(|(_, v)| v.to_owned());
        let (store, _) = signet_objects::connect(&self.url, Some((creds[0].clone(), creds[1].clone()))).expect("connect to the bucket");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let listed: Vec<object_store::path::Path> = store.list(None).map_ok(|m| m.location).try_collect().await.expect("list the bucket");
            let mut out = Vec::new();
            for location in listed {
                let bytes = store.get(&location).await.expect("get an object").bytes().await.expect("the object");
                out.push((location.to_string(), bytes.to_vec()));
            }
            out
        })
    }
}

// --- pyHanko ---------------------------------------------------------------------------------------

/// The pyHanko CLI: `$SIGNET_PYHANKO`, else the venv `.ci/run` makes. `None` when missing
/// outside CI (the caller skips with a message); missing in CI fails.
pub fn pyhanko() -> Option<PathBuf> {
    let path = std::env::var_os("SIGNET_PYHANKO")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/signet-venv/bin/pyhanko")))?;
    if path.is_file() {
        return Some(path);
    }
    let msg = format!("pyHanko is missing ({} does not exist): run `bash .ci/run` or set SIGNET_PYHANKO", path.display());
    assert!(std::env::var_os("CI").is_none(), "{msg}");
    eprintln!("SKIPPED pyHanko validation: {msg}");
    None
}

/// `pyhanko sign validate --trust ROOT --trust-replace --pretty-print FILE`: exit 0, and every
/// field in `fields` reported.
pub fn pyhanko_validate(pyhanko: &Path, root: &Path, pdf: &Path, fields: &[String]) {
    let mut cmd = Command::new(pyhanko);
    cmd.args(["sign", "validate", "--trust"]).arg(root).args(["--trust-replace", "--pretty-print"]).arg(pdf);
    let o = run(cmd, Duration::from_secs(120));
    let text = format!("{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "pyhanko sign validate failed:\n{text}");
    for f in fields {
        assert!(text.contains(f.as_str()), "pyHanko's report does not name field {f}:\n{text}");
    }
}

/// pyHanko's long-term validation of every signature of `pdf` from its DSS alone — no
/// fetching, so it holds offline — through `tests/interop/pyhanko_check.py` (AdES LTA with the
/// document time-stamp after the signatures).
pub fn pyhanko_lta_offline(pyhanko: &Path, root: &Path, pdf: &Path, signatures: usize) {
    let python = pyhanko.with_file_name("python");
    let dir = pdf.parent().expect("a directory").join("pyhanko-lta");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let jobs = serde_json::json!({"jobs": [{
        "name": "platform",
        "file": pdf,
        "trust": [root],
        "extract_dir": dir.join("extract"),
        "signatures": (0..signatures).map(|_| serde_json::json!({"level": "B-LTA", "certify": false})).collect::<Vec<_>>(),
    }]});
    std::fs::write(dir.join("jobs.json"), serde_json::to_vec(&jobs).expect("json")).expect("write jobs");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/pyhanko_check.py");
    let mut cmd = Command::new(&python);
    cmd.arg(script).arg(dir.join("jobs.json")).arg(dir.join("results.json"));
    let o = run(cmd, Duration::from_secs(180));
    let text = format!("{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    let results = std::fs::read_to_string(dir.join("results.json")).unwrap_or_default();
    assert_eq!(o.status.code(), Some(0), "pyHanko's DSS-only LTA validation failed:\n{text}\n{results}");
}

/// Unpacks the evidence bundle and checks it the way its README says, with nothing else: the
/// signed PDF with `signet verify --trust root.pem`, and every event's entry with
/// `signet log verify-proof`. Returns the number of events checked.
pub fn check_bundle_offline(bundle: &[u8], dir: &Path) -> usize {
    std::fs::create_dir_all(dir).expect("mkdir");
    let zip = dir.join("bundle.zip");
    std::fs::write(&zip, bundle).expect("write the bundle");
    let mut unzip = Command::new("python3");
    unzip.args(["-m", "zipfile", "-e"]).arg(&zip).arg(dir.join("x"));
    assert!(run(unzip, Duration::from_secs(60)).status.success(), "the bundle does not unzip");
    let x = dir.join("x");
    for name in ["signed.pdf", "evidence.pdf", "root.pem", "log.vkey", "README.txt"] {
        assert!(x.join(name).is_file(), "the bundle lacks {name}");
    }
    let mut verify = Command::new(env!("CARGO_BIN_EXE_signet"));
    verify.current_dir(&x).args(["verify", "--trust", "root.pem", "signed.pdf"]);
    let o = run(verify, Duration::from_secs(60));
    assert_eq!(o.status.code(), Some(0), "signet verify in the bundle: {}", String::from_utf8_lossy(&o.stdout));
    let mut checked = 0;
    for entry in std::fs::read_dir(&x).expect("read the bundle").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".entry") else { continue };
        let mut proof = Command::new(env!("CARGO_BIN_EXE_signet"));
        proof.current_dir(&x).args(["log", "verify-proof", &format!("{stem}.tlog-proof"), "--entry", &name, "--log-key", "log.vkey"]);
        let o = run(proof, Duration::from_secs(30));
        assert_eq!(o.status.code(), Some(0), "verify-proof {stem}: {}", String::from_utf8_lossy(&o.stdout));
        // A changed entry must not verify.
        let mut forged = std::fs::read(entry.path()).expect("read the entry");
        forged.push(b' ');
        std::fs::write(x.join("forged.bin"), &forged).expect("write");
        let mut bad = Command::new(env!("CARGO_BIN_EXE_signet"));
        bad.current_dir(&x).args(["log", "verify-proof", &format!("{stem}.tlog-proof"), "--entry", "forged.bin", "--log-key", "log.vkey"]);
        assert_eq!(run(bad, Duration::from_secs(30)).status.code(), Some(1), "a changed entry {stem} verified");
        checked += 1;
    }
    checked
}

// --- raw HTTP --------------------------------------------------------------------------------------

/// `POST /api/v1/contracts` with one document, sent the way curl sends it: the body is written
/// on one thread while the answer is read on another, so an answer the server gives before it
/// has read the whole body (and then closes) is still seen. Returns the status and the body.
pub fn raw_upload(url: &str, api_key: &str, idempotency_key: Option<&str>, pdf: &[u8], metadata: &str) -> (u16, Vec<u8>) {
    use std::io::Write as _;
    let addr = url.strip_prefix("http://").expect("an http:// URL");
    let boundary = "raw-upload-boundary-7f3a";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"document\"; filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").into_bytes();
    body.extend_from_slice(pdf);
    body.extend_from_slice(format!("\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n{metadata}\r\n--{boundary}--\r\n").as_bytes());
    let mut head = format!(
        "POST /api/v1/contracts HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {api_key}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(k) = idempotency_key {
        head.push_str(&format!("Idempotency-Key: {k}\r\n"));
    }
    head.push_str("\r\n");
    let stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("read timeout");
    stream.set_write_timeout(Some(Duration::from_secs(30))).expect("write timeout");
    let mut writer = stream.try_clone().expect("clone the stream");
    let sender = std::thread::spawn(move || {
        // The server may stop reading and close: a failed write is expected then.
        let _ = writer.write_all(head.as_bytes()).and_then(|_| writer.write_all(&body));
    });
    let mut answer = Vec::new();
    let mut reader = stream;
    let mut buf = [0u8; 16 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            // A reset after the answer arrived: keep what was read.
            Err(e) if !answer.is_empty() && e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("reading the answer: {e} (read so far: {:?})", String::from_utf8_lossy(&answer)),
        }
    }
    let _ = sender.join();
    let text_end = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| panic!("no HTTP answer: {:?}", String::from_utf8_lossy(&answer)));
    let head = String::from_utf8_lossy(&answer[..text_end]).into_owned();
    let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status in {head:?}"));
    (status, answer[text_end + 4..].to_vec())
}
