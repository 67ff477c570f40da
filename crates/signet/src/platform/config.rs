//! `signet serve` configuration: defaults, then a TOML file (`--config`), then environment
//! variables `SIGNET_…`, then command-line flags. `docs/signet.example.toml` lists every key.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::Deserialize;

/// The settings of one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where the embedded store, keys, CA, log and blobs live (`SIGNET_DATA`).
    pub data: PathBuf,
    /// Address to listen on (`SIGNET_LISTEN`).
    pub listen: String,
    /// The URL people reach this server at; links in mails start with it (`SIGNET_PUBLIC_URL`).
    pub public_url: String,
    /// `sqlite://…` (default: `DATA/signet.db`) or `postgres://…` (`SIGNET_DATABASE_URL`).
    pub database_url: String,
    /// Where sealed documents are kept (`SIGNET_BLOB_URL`): an S3-compatible bucket,
    /// `s3://BUCKET[/PREFIX]?endpoint=http://HOST:PORT&region=REGION&path_style=true`, shared
    /// by every server of a deployment (credentials from `AWS_ACCESS_KEY_ID` /
    /// `AWS_SECRET_ACCESS_KEY` or the files named by `AWS_ACCESS_KEY_ID_FILE` /
    /// `AWS_SECRET_ACCESS_KEY_FILE`). None: files under `DATA/blobs`. A URL that cannot be used
    /// stops `signet serve` at start.
    pub blob_url: Option<String>,
    /// The master key file (`SIGNET_MASTER_KEY_FILE`): several servers of one deployment
    /// must share one master key (this file, or a PKCS#11 token). Created on first use if
    /// missing (mode 0600). None: `DATA/keys/master.key`.
    pub master_key_file: Option<PathBuf>,
    /// Keys in a PKCS#11 token: the module (`SIGNET_KEYS_PKCS11_MODULE`), the token's label
    /// (`SIGNET_KEYS_PKCS11_TOKEN`) and a file holding its user PIN
    /// (`SIGNET_KEYS_PKCS11_PIN_FILE`, trailing white space ignored). All three or none.
    pub pkcs11: Pkcs11Settings,
    /// Outgoing mail: `smtp://host:port`, `smtps://…`, `?tls=starttls`, `user:pass@`
    /// (`SIGNET_SMTP_URL`). None: mails are kept in the outbox only.
    pub smtp_url: Option<String>,
    /// Sender address of mails (`SIGNET_MAIL_FROM`).
    pub mail_from: String,
    /// Largest upload in MiB (`SIGNET_MAX_UPLOAD_MB`).
    pub max_upload_mb: u64,
    /// How long a signing link lives, in days (`SIGNET_LINK_DAYS`).
    pub link_days: u64,
    /// A generic HTTP SMS gateway (`SIGNET_SMS_URL`): codes are POSTed there as
    /// `{"to","text"}` (or `sms_body_template`). None: SMS stay in the outbox an administrator
    /// reads (the embedded default).
    pub sms_url: Option<String>,
    /// Bearer token for the SMS gateway (`SIGNET_SMS_TOKEN`).
    pub sms_token: Option<String>,
    /// JSON body template with `{to}` and `{text}` (`SIGNET_SMS_BODY_TEMPLATE`).
    pub sms_body_template: Option<String>,
    /// Seconds between two sweeps (expiry, evidence) (`SIGNET_SWEEP_SECS`, default 15).
    pub sweep_secs: u64,
    /// Remind signers automatically when a contract has waited this many days; 0 never
    /// (`SIGNET_REMIND_DAYS`, default 3).
    pub remind_days: u64,
    /// Behind a reverse proxy: take the client's address from `X-Forwarded-For`
    /// (`SIGNET_TRUST_PROXY=true`). Otherwise the TCP peer's address is the evidence.
    pub trust_proxy: bool,
    /// Witnesses of the evidence log: `(URL, verifier key)` pairs (`SIGNET_LOG_WITNESSES`:
    /// `URL KEY` entries separated by commas; TOML `log_witnesses = ["URL KEY", …]`). Every
    /// checkpoint is sent to them by a `witness` job, retried until each has cosigned.
    pub log_witnesses: Vec<(String, String)>,
}

/// The PKCS#11 settings as given (checked, and the PIN read, when the token is opened).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Settings {
    /// The module (shared library).
    pub module: Option<String>,
    /// The token's label.
    pub token: Option<String>,
    /// The file holding the user PIN.
    pub pin_file: Option<String>,
}

impl Pkcs11Settings {
    /// The token's configuration (reading the PIN file), or `None` when nothing is set.
    pub fn hsm_config(&self) -> anyhow::Result<Option<signet_hsm::HsmConfig>> {
        let value = |name: &str| -> Option<std::ffi::OsString> {
            let v = match name {
                signet_hsm::MODULE_VAR => &self.module,
                signet_hsm::TOKEN_VAR => &self.token,
                signet_hsm::PIN_FILE_VAR => &self.pin_file,
                _ => &None,
            };
            v.clone().map(Into::into)
        };
        Ok(signet_hsm::HsmConfig::from_lookup(value)?)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data: Option<PathBuf>,
    listen: Option<String>,
    public_url: Option<String>,
    database_url: Option<String>,
    blob_url: Option<String>,
    master_key_file: Option<PathBuf>,
    keys_pkcs11_module: Option<String>,
    keys_pkcs11_token: Option<String>,
    keys_pkcs11_pin_file: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    max_upload_mb: Option<u64>,
    link_days: Option<u64>,
    remind_days: Option<u64>,
    trust_proxy: Option<bool>,
    sms_url: Option<String>,
    sms_token: Option<String>,
    sms_body_template: Option<String>,
    log_witnesses: Option<Vec<String>>,
}

/// What the command line gave.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--data DIR`.
    pub data: Option<PathBuf>,
    /// `--listen ADDR`.
    pub listen: Option<String>,
}

impl Config {
    /// Builds the configuration from defaults, the file, `env` (name → value) and the flags.
    pub fn load(flags: &Overrides, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Config> {
        let file = match &flags.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading the configuration file {}", path.display()))?;
                toml::from_str::<FileConfig>(&text).with_context(|| format!("{} is not a valid Signet configuration", path.display()))?
            }
            None => FileConfig::default(),
        };
        let pick = |flag: Option<String>, var: &str, from_file: Option<String>| flag.or_else(|| env(var)).or(from_file);
        let number = |var: &str, from_file: Option<u64>, default: u64| -> anyhow::Result<u64> {
            match env(var) {
                Some(v) => v.trim().parse().with_context(|| format!("{var}={v:?} is not a whole number")),
                None => Ok(from_file.unwrap_or(default)),
            }
        };
        let data = flags
            .data
            .clone()
            .or_else(|| env("SIGNET_DATA").map(PathBuf::from))
            .or(file.data)
            .unwrap_or_else(|| PathBuf::from("signet-data"));
        let listen = pick(flags.listen.clone(), "SIGNET_LISTEN", file.listen).unwrap_or_else(|| "127.0.0.1:8700".into());
        let public_url = pick(None, "SIGNET_PUBLIC_URL", file.public_url)
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            bail!("SIGNET_PUBLIC_URL must start with http:// or https://, got {public_url:?}");
        }
        let database_url = match pick(None, "SIGNET_DATABASE_URL", file.database_url) {
            Some(url) => url,
            None => sqlite_url(&data.join("signet.db"))?,
        };
        let max_upload_mb = number("SIGNET_MAX_UPLOAD_MB", file.max_upload_mb, 50)?;
        if max_upload_mb == 0 || max_upload_mb > 1024 {
            bail!("the upload limit must be 1 to 1024 MiB, got {max_upload_mb}");
        }
        let witnesses: Vec<String> = match env("SIGNET_LOG_WITNESSES") {
            Some(v) => v.split(',').map(str::to_owned).collect(),
            None => file.log_witnesses.unwrap_or_default(),
        };
        let mut log_witnesses = Vec::new();
        for entry in witnesses.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
            let mut parts = entry.split_whitespace();
            match (parts.next(), parts.next(), parts.next()) {
                (Some(url), Some(key), None) if url.starts_with("http://") || url.starts_with("https://") => {
                    log_witnesses.push((url.trim_end_matches('/').to_owned(), key.to_owned()));
                }
                _ => bail!("the log witness {entry:?} is not \"URL KEY\" (the witness's http(s) URL, a space, its verifier key)"),
            }
        }
        let link_days = number("SIGNET_LINK_DAYS", file.link_days, 14)?;
        if link_days == 0 || link_days > 365 {
            bail!("signing links live 1 to 365 days, got {link_days}");
        }
        Ok(Config {
            data,
            listen,
            public_url,
            database_url,
            blob_url: pick(None, "SIGNET_BLOB_URL", file.blob_url).filter(|s| !s.trim().is_empty()),
            master_key_file: env("SIGNET_MASTER_KEY_FILE").filter(|s| !s.trim().is_empty()).map(PathBuf::from).or(file.master_key_file),
            pkcs11: Pkcs11Settings {
                module: pick(None, "SIGNET_KEYS_PKCS11_MODULE", file.keys_pkcs11_module),
                token: pick(None, "SIGNET_KEYS_PKCS11_TOKEN", file.keys_pkcs11_token),
                pin_file: pick(None, "SIGNET_KEYS_PKCS11_PIN_FILE", file.keys_pkcs11_pin_file),
            },
            smtp_url: pick(None, "SIGNET_SMTP_URL", file.smtp_url).filter(|s| !s.trim().is_empty()),
            mail_from: pick(None, "SIGNET_MAIL_FROM", file.mail_from).unwrap_or_else(|| "Signet <no-reply@signet.invalid>".into()),
            max_upload_mb,
            link_days,
            sms_url: pick(None, "SIGNET_SMS_URL", file.sms_url).filter(|s| !s.trim().is_empty()),
            sms_token: pick(None, "SIGNET_SMS_TOKEN", file.sms_token).filter(|s| !s.trim().is_empty()),
            sms_body_template: pick(None, "SIGNET_SMS_BODY_TEMPLATE", file.sms_body_template).filter(|s| !s.trim().is_empty()),
            sweep_secs: number("SIGNET_SWEEP_SECS", None, 15)?.clamp(1, 3600),
            remind_days: number("SIGNET_REMIND_DAYS", file.remind_days, 3)?.min(365),
            trust_proxy: match env("SIGNET_TRUST_PROXY") {
                Some(v) => matches!(v.trim(), "1" | "true" | "yes"),
                None => file.trust_proxy.unwrap_or(false),
            },
            log_witnesses,
        })
    }
}

/// The `sqlite://` URL of a database file (created if missing).
pub fn sqlite_url(path: &Path) -> anyhow::Result<String> {
    let abs = std::path::absolute(path).with_context(|| format!("resolving {}", path.display()))?;
    Ok(format!("sqlite://{}?mode=rwc", abs.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn defaults_then_file_then_env_then_flags() {
        let c = Config::load(&Overrides::default(), &env_of(&[])).unwrap();
        assert_eq!(c.listen, "127.0.0.1:8700");
        assert_eq!(c.public_url, "http://127.0.0.1:8700");
        assert_eq!(c.data, PathBuf::from("signet-data"));
        assert!(c.database_url.starts_with("sqlite://") && c.database_url.ends_with("signet-data/signet.db?mode=rwc"));
        assert_eq!((c.max_upload_mb, c.link_days, c.smtp_url.clone()), (50, 14, None));

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("signet.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\npublic_url = \"https://sign.example.com/\"\nsmtp_url = \"smtp://mail:25\"\nmax_upload_mb = 20\n").unwrap();
        let flags = Overrides { config: Some(file.clone()), ..Default::default() };
        let c = Config::load(&flags, &env_of(&[("SIGNET_SMTP_URL", "smtps://u:p@mail.example.com"), ("SIGNET_DATABASE_URL", "postgres://db/x")])).unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.public_url, "https://sign.example.com");
        assert_eq!(c.smtp_url.as_deref(), Some("smtps://u:p@mail.example.com"), "env beats the file");
        assert_eq!(c.database_url, "postgres://db/x");
        assert_eq!(c.max_upload_mb, 20);
        let flags = Overrides { config: Some(file), listen: Some("127.0.0.1:1".into()), data: Some("d".into()) };
        let c = Config::load(&flags, &env_of(&[("SIGNET_LISTEN", "127.0.0.1:2")])).unwrap();
        assert_eq!((c.listen.as_str(), c.data.to_str()), ("127.0.0.1:1", Some("d")), "flags beat everything");
    }

    #[test]
    fn the_documented_example_is_a_valid_configuration() {
        let example: FileConfig = toml::from_str(include_str!("../../../../docs/signet.example.toml")).unwrap();
        assert_eq!(example.public_url.as_deref(), Some("https://sign.example.com"));
        assert_eq!(example.max_upload_mb, Some(50));
    }

    #[test]
    fn bad_settings_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "listne = \"typo\"\n").unwrap();
        let err = Config::load(&Overrides { config: Some(file), ..Default::default() }, &env_of(&[])).unwrap_err();
        assert!(format!("{err:#}").contains("listne"), "{err:#}");
        let err = Config::load(&Overrides::default(), &env_of(&[("SIGNET_PUBLIC_URL", "sign.example.com")])).unwrap_err();
        assert!(err.to_string().contains("http://"));
        assert!(Config::load(&Overrides::default(), &env_of(&[("SIGNET_MAX_UPLOAD_MB", "lots")])).is_err());
        assert!(Config::load(&Overrides::default(), &env_of(&[("SIGNET_LINK_DAYS", "0")])).is_err());
        for bad in ["w.example/key+00+AA", "ftp://w.example w+1+AA", "http://w.example a b"] {
            let err = Config::load(&Overrides::default(), &env_of(Box::leak(Box::new([("SIGNET_LOG_WITNESSES", bad)])))).unwrap_err();
            assert!(err.to_string().contains("URL KEY"), "{bad}: {err}");
        }
        let two = Config::load(&Overrides::default(), &env_of(&[("SIGNET_LOG_WITNESSES", " http://a.example/ w1+01+AA , https://b.example w2+02+BB ")])).unwrap();
        assert_eq!(two.log_witnesses, [("http://a.example".to_owned(), "w1+01+AA".to_owned()), ("https://b.example".to_owned(), "w2+02+BB".to_owned())]);
        assert!(Config::load(&Overrides::default(), &env_of(&[])).unwrap().log_witnesses.is_empty());
    }
}
