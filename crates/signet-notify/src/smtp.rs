//! Mail over SMTP: the `SIGNET_SMTP_URL` format and the [`Mailer`].
//!
//! # `SIGNET_SMTP_URL`
//!
//! ```text
//! smtp://HOST[:PORT]                    plain, no TLS (port 25)
//! smtp://HOST[:PORT]?tls=starttls       STARTTLS, required (port 587)
//! smtps://HOST[:PORT]                   implicit TLS (port 465)
//! ```
//!
//! - `USER:PASSWORD@` before the host turns on AUTH (PLAIN or LOGIN, whichever the server
//!   offers); both are percent-decoded, so write `@` `:` `/` `%` in them as `%40` `%3A`
//!   `%2F` `%25`. A user needs a password.
//! - `from=ADDRESS` sets the sender: `from=signet%40example.com` or
//!   `from=Signet%20%3Csignet%40example.com%3E`. It is percent-decoded only (a `+` stays a
//!   `+`). The sender may instead come from the configuration ([`SmtpConfig::with_from`], which
//!   wins); [`Mailer::new`] refuses a configuration with neither.
//! - `tls=starttls` and `from=` are the only parameters, each at most once; anything else —
//!   another scheme, a path, a fragment, `tls=` on `smtps://`, port 0 — is refused with an
//!   error saying what is accepted.
//!
//! With `tls=starttls` the server must offer STARTTLS: there is no silent fallback to plain
//! text. Certificates are checked against the system's trust store. Credentials on a plain
//! `smtp://` connection are sent in the clear (meant for a relay on the same host or network);
//! [`Mailer::new`] warns about it in the log.
//!
//! Connecting has a timeout, 20 s unless [`SmtpConfig::with_timeout`] says otherwise; a whole
//! send has the same timeout plus one second per 100 KiB of content, so a silent or stalling
//! server cannot hold a send for ever.

use std::fmt;
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment as LettreAttachment, Body, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use percent_encoding::percent_decode_str;

use crate::{Mailbox, NotifyError, Result, bounded};

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// No TLS (`smtp://`).
    None,
    /// Plain connect, then a required STARTTLS (`smtp://…?tls=starttls`).
    StartTls,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsMode::None => "no TLS",
            TlsMode::StartTls => "STARTTLS",
            TlsMode::Implicit => "implicit TLS",
        })
    }
}

/// The SMTP server to send through, parsed from `SIGNET_SMTP_URL` (see the module
/// documentation). `Debug` and `Display` hide the password.
#[derive(Clone)]
pub struct SmtpConfig {
    host: String,
    port: u16,
    tls: TlsMode,
    credentials: Option<(String, String)>,
    from: Option<Mailbox>,
    timeout: Duration,
}

const FORMS: &str = "expected smtp://HOST[:PORT], smtp://HOST[:PORT]?tls=starttls or smtps://HOST[:PORT], \
                     optionally with USER:PASSWORD@ before the host and from=ADDRESS";

/// The default timeout (see [`SmtpConfig::with_timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// The slowest upload a send allows for: one more second per this many bytes of content.
const BYTES_PER_SECOND: usize = 100 * 1024;

impl SmtpConfig {
    /// Parses one of the accepted URL forms. Errors never quote the password.
    pub fn parse(url: &str) -> Result<Self> {
        let bad = |why: String| NotifyError::SmtpUrl(why);
        let parsed = url::Url::parse(url.trim()).map_err(|e| bad(format!("not a URL ({e}); {FORMS}")))?;
        let implicit = match parsed.scheme() {
            "smtp" => false,
            "smtps" => true,
            other => return Err(bad(format!("the scheme {other:?} is not supported; {FORMS}"))),
        };
        let host = match parsed.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            _ => return Err(bad(format!("no host; {FORMS}"))),
        };
        if host.contains('%') {
            return Err(bad("the host holds a percent sign; write the host name as it is".into()));
        }
        if !matches!(parsed.path(), "" | "/") {
            return Err(bad(format!("a path is not allowed (found {:?}); {FORMS}", parsed.path())));
        }
        if parsed.fragment().is_some() {
            return Err(bad(format!("a #fragment is not allowed; {FORMS}")));
        }

        let decode = |what: &str, raw: &str| -> Result<String> {
            percent_decode_str(raw)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| bad(format!("the {what} is not UTF-8 once percent-decoded")))
        };
        let user = decode("user", parsed.username())?;
        let password = parsed.password().map(|p| decode("password", p)).transpose()?;
        let credentials = match (user.is_empty(), password) {
            (true, None) => None,
            (false, Some(p)) if !p.is_empty() => Some((user, p)),
            (false, _) => return Err(bad("a user is given without a password; write USER:PASSWORD@HOST".into())),
            (true, Some(_)) => return Err(bad("a password is given without a user; write USER:PASSWORD@HOST".into())),
        };

        let mut starttls = false;
        let mut from = None;
        let mut seen: Vec<String> = Vec::new();
        for pair in parsed.query().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| bad(format!("the parameter {:?} has no value; {FORMS}", bounded(pair))))?;
            let key = decode("parameter name", key)?;
            let value = decode("parameter value", value)?;
            if seen.contains(&key) {
                return Err(bad(format!("the parameter {key:?} is given twice")));
            }
            match key.as_str() {
                "tls" if value.eq_ignore_ascii_case("starttls") => {
                    if implicit {
                        return Err(bad("tls=starttls is for smtp://; smtps:// is TLS from the start already".into()));
                    }
                    starttls = true;
                }
                "tls" => {
                    return Err(bad(format!(
                        "tls={:?} is not supported; the one TLS parameter is tls=starttls (use smtps:// for \
                         implicit TLS, smtp:// without tls= for none)",
                        bounded(&value)
                    )));
                }
                "from" => {
                    let mailbox = value
                        .trim()
                        .parse::<Mailbox>()
                        .map_err(|e| bad(format!("from={:?} is not a mail address ({e})", bounded(&value))))?;
                    from = Some(mailbox);
                }
                other => {
                    return Err(bad(format!(
                        "unknown parameter {:?}; the accepted ones are tls=starttls and from=ADDRESS",
                        bounded(other)
                    )));
                }
            }
            seen.push(key);
        }

        let tls = match (implicit, starttls) {
            (true, _) => TlsMode::Implicit,
            (false, true) => TlsMode::StartTls,
            (false, false) => TlsMode::None,
        };
        let port = match parsed.port() {
            Some(0) => return Err(bad("port 0 is not a port".into())),
            Some(p) => p,
            None => match tls {
                TlsMode::None => 25,
                TlsMode::StartTls => 587,
                TlsMode::Implicit => 465,
            },
        };
        Ok(SmtpConfig { host, port, tls, credentials, from, timeout: DEFAULT_TIMEOUT })
    }

    /// Sets the sender, overriding any `from=` in the URL.
    pub fn with_from(mut self, from: Mailbox) -> Self {
        self.from = Some(from);
        self
    }

    /// Sets the timeout: connecting must succeed within it, and a whole send (or
    /// [`Mailer::check`]) within it plus one second per 100 KiB of content.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The server's host name or address (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The server's port (defaulted by scheme and TLS mode).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The TLS mode.
    pub fn tls(&self) -> TlsMode {
        self.tls
    }

    /// The AUTH user, when credentials are configured.
    pub fn user(&self) -> Option<&str> {
        self.credentials.as_ref().map(|(u, _)| u.as_str())
    }

    /// Whether AUTH will be used.
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// The sender, if configured.
    pub fn from(&self) -> Option<&Mailbox> {
        self.from.as_ref()
    }

    /// The timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn server(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for SmtpConfig {
    /// The URL with the password replaced by `***` (and `from=` left out).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls == TlsMode::Implicit { "smtps" } else { "smtp" };
        write!(f, "{scheme}://")?;
        if let Some((user, _)) = &self.credentials {
            write!(f, "{user}:***@")?;
        }
        write!(f, "{}", self.server())?;
        if self.tls == TlsMode::StartTls {
            f.write_str("?tls=starttls")?;
        }
        Ok(())
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user())
            .field("password", &self.credentials.as_ref().map(|_| "***"))
            .field("from", &self.from.as_ref().map(|m| m.to_string()))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A file attached to a mail.
#[derive(Clone)]
pub struct Attachment {
    /// The file name shown to the recipient.
    pub name: String,
    /// Its MIME type, e.g. `application/pdf`.
    pub content_type: String,
    /// The content.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// One mail to one recipient. `Debug` shows sizes, never the bodies.
#[derive(Clone)]
pub struct Message {
    /// The recipient.
    pub to: Mailbox,
    /// The subject (one line; non-ASCII is encoded per RFC 2047).
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// An HTML alternative of the same content.
    pub html: Option<String>,
    /// Files to attach.
    pub attachments: Vec<Attachment>,
}

impl Message {
    /// Adds an attachment.
    pub fn with_attachment(mut self, name: impl Into<String>, content_type: impl Into<String>, bytes: Vec<u8>) -> Self {
        self.attachments.push(Attachment { name: name.into(), content_type: content_type.into(), bytes });
        self
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("to", &self.to.to_string())
            .field("subject", &self.subject)
            .field("text_len", &self.text.len())
            .field("html_len", &self.html.as_ref().map(String::len))
            .field("attachments", &self.attachments)
            .finish()
    }
}

/// Sends mail through one SMTP server. Each [`Mailer::send`] opens a connection, says EHLO,
/// upgrades with STARTTLS when configured, logs in when configured, sends and quits.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    server: String,
    tls: TlsMode,
    authenticates: bool,
    timeout: Duration,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("tls", &self.tls)
            .field("authenticates", &self.authenticates)
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl Mailer {
    /// A mailer for `config`; fails without a sender or when TLS cannot be set up.
    pub fn new(config: &SmtpConfig) -> Result<Self> {
        let from = config.from.clone().ok_or(NotifyError::NoSender)?;
        let server = config.server();
        let tls_params = || {
            TlsParameters::new(config.host.clone()).map_err(|e| NotifyError::SmtpTls {
                server: server.clone(),
                mode: config.tls,
                detail: bounded(&error_chain(&e)),
            })
        };
        let tls = match config.tls {
            TlsMode::None => Tls::None,
            TlsMode::StartTls => Tls::Required(tls_params()?),
            TlsMode::Implicit => Tls::Wrapper(tls_params()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout));
        if let Some((user, password)) = &config.credentials {
            if config.tls == TlsMode::None {
                tracing::warn!(
                    smtp.server = %server,
                    "SMTP credentials are sent without TLS; use smtps:// or ?tls=starttls unless the relay is local"
                );
            }
            builder = builder
                .credentials(Credentials::new(user.clone(), password.clone()))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
            server,
            tls: config.tls,
            authenticates: config.credentials.is_some(),
            timeout: config.timeout,
        })
    }

    /// The sender every mail carries.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// Connects, greets, upgrades and logs in as a send would, then quits: a start-up check
    /// of the configuration.
    pub async fn check(&self) -> Result<()> {
        let tested =
            tokio::time::timeout(self.timeout, self.transport.test_connection()).await.map_err(|_| self.timed_out())?;
        match tested {
            Ok(true) => Ok(()),
            Ok(false) => {
                Err(NotifyError::Smtp { server: self.server.clone(), detail: "the server did not answer NOOP".into() })
            }
            Err(e) => Err(self.classify(&e)),
        }
    }

    /// Sends `message`. Errors say what to check and never hold the message's content.
    pub async fn send(&self, message: &Message) -> Result<()> {
        let mail = self.build(message)?;
        let size: usize = message.attachments.iter().map(|a| a.bytes.len()).sum::<usize>()
            + message.text.len()
            + message.html.as_ref().map_or(0, String::len);
        // lettre bounds the connect; reads and writes are bounded here, as a whole.
        let limit = self.timeout + Duration::from_secs((size / BYTES_PER_SECOND) as u64);
        tokio::time::timeout(limit, self.transport.send(mail))
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.classify(&e))?;
        tracing::info!(
            smtp.server = %self.server,
            attachments = message.attachments.len(),
            "mail sent"
        );
        Ok(())
    }

    fn build(&self, m: &Message) -> Result<lettre::Message> {
        let subject: String = m.subject.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let builder = lettre::Message::builder().from(self.from.clone()).to(m.to.clone()).subject(subject);
        let text = SinglePart::builder().header(ContentType::TEXT_PLAIN).body(Body::new(m.text.clone()));
        let content = match &m.html {
            Some(html) => Content::Multi(
                MultiPart::alternative()
                    .singlepart(text)
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(Body::new(html.clone()))),
            ),
            None => Content::Single(text),
        };
        let built = if m.attachments.is_empty() {
            match content {
                Content::Multi(mp) => builder.multipart(mp),
                Content::Single(sp) => builder.singlepart(sp),
            }
        } else {
            let mut mixed = match content {
                Content::Multi(mp) => MultiPart::mixed().multipart(mp),
                Content::Single(sp) => MultiPart::mixed().singlepart(sp),
            };
            for a in &m.attachments {
                let name: String = a.name.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
                let content_type = ContentType::parse(&a.content_type).map_err(|e| NotifyError::Attachment {
                    name: name.clone(),
                    reason: format!("{:?} is not a MIME type ({e})", bounded(&a.content_type)),
                })?;
                // Always base64: raw bytes sent as 7bit could carry bare line feeds or a lone dot.
                let body = Body::new_with_encoding(a.bytes.clone(), ContentTransferEncoding::Base64)
                    .map_err(|_| NotifyError::Attachment { name: name.clone(), reason: "cannot be encoded".into() })?;
                mixed = mixed.singlepart(LettreAttachment::new(name).body(body, content_type));
            }
            builder.multipart(mixed)
        };
        built.map_err(|e| NotifyError::Build(bounded(&e.to_string())))
    }

    fn timed_out(&self) -> NotifyError {
        NotifyError::SmtpTimeout { server: self.server.clone(), after: self.timeout }
    }

    fn classify(&self, e: &lettre::transport::smtp::Error) -> NotifyError {
        let server = self.server.clone();
        let detail = bounded(&error_chain(e));
        if let Some(code) = e.status() {
            return match code.to_string().as_str() {
                "530" if !self.authenticates => NotifyError::SmtpAuthRequired { server, detail },
                "530" | "534" | "535" | "538" => NotifyError::SmtpAuth { server, detail },
                _ if e.is_permanent() => NotifyError::SmtpRejected { server, detail },
                _ => NotifyError::SmtpTransient { server, detail },
            };
        }
        if e.is_timeout() {
            return NotifyError::SmtpTimeout { server, after: self.timeout };
        }
        // A TLS handshake failure surfaces as an I/O error of kind InvalidData.
        let handshake = self.tls != TlsMode::None && io_kind(e) == Some(std::io::ErrorKind::InvalidData);
        if e.is_tls() || handshake || detail.contains("STARTTLS") {
            return NotifyError::SmtpTls { server, mode: self.tls, detail };
        }
        if e.is_client() && detail.contains("authentication mechanism") {
            return NotifyError::SmtpAuth {
                server,
                detail: "the server offers no AUTH mechanism this client speaks (PLAIN, LOGIN)".into(),
            };
        }
        if detail.starts_with("Connection error") {
            return NotifyError::SmtpConnect { server, detail };
        }
        NotifyError::Smtp { server, detail }
    }
}

enum Content {
    Multi(MultiPart),
    Single(SinglePart),
}

/// An error and its sources on one line, repeated segments once.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut full = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !full.contains(&s_text) {
            full.push_str(": ");
            full.push_str(&s_text);
        }
        source = s.source();
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in full.split(": ") {
        if parts.last().is_none_or(|last| !last.eq_ignore_ascii_case(part)) {
            parts.push(part);
        }
    }
    parts.join(": ")
}

/// The first I/O error in an error's chain.
fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = s.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_urls() {
        // (url, host, port, tls, user, password, from)
        type Row<'a> = (&'a str, &'a str, u16, TlsMode, Option<&'a str>, Option<&'a str>, Option<&'a str>);
        let table: &[Row<'_>] = &[
            ("smtp://mail.example.com", "mail.example.com", 25, TlsMode::None, None, None, None),
            ("smtp://mail.example.com:2525", "mail.example.com", 2525, TlsMode::None, None, None, None),
            ("smtp://127.0.0.1:1025/", "127.0.0.1", 1025, TlsMode::None, None, None, None),
            ("smtp://[::1]:1025", "::1", 1025, TlsMode::None, None, None, None),
            ("smtps://mail.example.com", "mail.example.com", 465, TlsMode::Implicit, None, None, None),
            ("smtps://mail.example.com:4650", "mail.example.com", 4650, TlsMode::Implicit, None, None, None),
            ("smtp://mail.example.com?tls=starttls", "mail.example.com", 587, TlsMode::StartTls, None, None, None),
            ("smtp://mail.example.com:25?tls=STARTTLS", "mail.example.com", 25, TlsMode::StartTls, None, None, None),
            ("smtp://u:p@mail.example.com", "mail.example.com", 25, TlsMode::None, Some("u"), Some("p"), None),
            (
                "smtps://me%40example.com:p%40ss%3Aw%2Fo%25rd@mail.example.com",
                "mail.example.com",
                465,
                TlsMode::Implicit,
                Some("me@example.com"),
                Some("p@ss:w/o%rd"),
                None,
            ),
            (
                "smtp://%E7%94%A8%E6%88%B7:%E5%AF%86%E7%A0%81@mail.example.com?tls=starttls",
                "mail.example.com",
                587,
                TlsMode::StartTls,
                Some("用户"),
                Some("密码"),
                None,
            ),
            (
                "smtp://mail.example.com?from=signet%40example.com",
                "mail.example.com",
                25,
                TlsMode::None,
                None,
                None,
                Some("signet@example.com"),
            ),
            (
                "smtp://mail.example.com?tls=starttls&from=Signet%20%3Cno-reply+contracts%40example.com%3E",
                "mail.example.com",
                587,
                TlsMode::StartTls,
                None,
                None,
                Some("Signet <no-reply+contracts@example.com>"),
            ),
            (
                "smtp://mail.example.com?from=Signet <signet@example.com>",
                "mail.example.com",
                25,
                TlsMode::None,
                None,
                None,
                Some("Signet <signet@example.com>"),
            ),
        ];
        for (url, host, port, tls, user, password, from) in table {
            let c = SmtpConfig::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(c.host(), *host, "{url}");
            assert_eq!(c.port(), *port, "{url}");
            assert_eq!(c.tls(), *tls, "{url}");
            assert_eq!(c.user(), *user, "{url}");
            assert_eq!(c.credentials.as_ref().map(|(_, p)| p.as_str()), *password, "{url}");
            assert_eq!(c.from().map(|m| m.to_string()), from.map(str::to_owned), "{url}");
            assert_eq!(c.timeout(), DEFAULT_TIMEOUT);
        }
    }

    #[test]
    fn bad_urls_are_refused_with_a_reason() {
        let table: &[(&str, &str)] = &[
            ("", "not a URL"),
            ("mail.example.com:25", "scheme"),
            ("http://mail.example.com", "scheme \"http\""),
            ("smtp+tls://mail.example.com", "scheme"),
            ("smtp://", "no host"),
            ("smtp://:25", "host"),
            ("smtp://mail.example.com:0", "port 0"),
            ("smtp://mail.example.com:99999", "not a URL"),
            ("smtp://mail.example.com/inbox", "path"),
            ("smtp://mail.example.com#x", "fragment"),
            ("smtp://user@mail.example.com", "without a password"),
            ("smtp://user:@mail.example.com", "without a password"),
            ("smtp://:pw@mail.example.com", "without a user"),
            ("smtp://mail.example.com?tls=tls", "tls=\"tls\" is not supported"),
            ("smtp://mail.example.com?tls=none", "not supported"),
            ("smtps://mail.example.com?tls=starttls", "already"),
            ("smtp://mail.example.com?tls=starttls&tls=starttls", "twice"),
            ("smtp://mail.example.com?timeout=5", "unknown parameter \"timeout\""),
            ("smtp://mail.example.com?tls", "no value"),
            ("smtp://mail.example.com?from=nobody", "not a mail address"),
            ("smtp://u:p%FF@mail.example.com", "not UTF-8"),
        ];
        for (url, needle) in table {
            match SmtpConfig::parse(url) {
                Ok(c) => panic!("{url} was accepted as {c:?}"),
                Err(e) => {
                    let msg = e.to_string();
                    assert!(matches!(e, NotifyError::SmtpUrl(_)), "{url}: {e:?}");
                    assert!(msg.contains(needle), "{url}: {msg:?} lacks {needle:?}");
                }
            }
        }
    }

    #[test]
    fn the_password_is_never_shown() {
        let c = SmtpConfig::parse("smtps://alice:s3cr%3At@mail.example.com?from=a%40example.com").unwrap();
        for shown in [format!("{c:?}"), c.to_string()] {
            assert!(!shown.contains("s3cr"), "{shown}");
        }
        assert_eq!(c.to_string(), "smtps://alice:***@mail.example.com:465");
        let e = SmtpConfig::parse("smtp://alice:s3cret@mail.example.com/path").unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let e = SmtpConfig::parse("smtp://alice:s3cret@mail.example.com?bogus=1").unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }

    #[test]
    fn a_mailer_needs_a_sender() {
        let c = SmtpConfig::parse("smtp://127.0.0.1:2525").unwrap();
        assert!(matches!(Mailer::new(&c), Err(NotifyError::NoSender)));
        let c = c.with_from("Signet <signet@example.com>".parse().unwrap());
        assert_eq!(Mailer::new(&c).unwrap().from().to_string(), "Signet <signet@example.com>");
    }

    #[test]
    fn tls_modes_build() {
        for url in
            ["smtps://mail.example.com?from=a%40b.example", "smtp://mail.example.com?tls=starttls&from=a%40b.example"]
        {
            let c = SmtpConfig::parse(url).unwrap();
            Mailer::new(&c).unwrap_or_else(|e| panic!("{url}: {e}"));
        }
    }

    #[test]
    fn message_debug_hides_bodies() {
        let m = Message {
            to: "a@example.com".parse().unwrap(),
            subject: "s".into(),
            text: "code 123456".into(),
            html: Some("<p>123456</p>".into()),
            attachments: vec![],
        }
        .with_attachment("x.pdf", "application/pdf", b"%PDF-secret".to_vec());
        let shown = format!("{m:?}");
        assert!(!shown.contains("123456") && !shown.contains("secret"), "{shown}");
    }
}
