//! Notifications: the mails and text messages Signet sends to people.
//!
//! - [`smtp`] — [`SmtpConfig`] (parsed from `SIGNET_SMTP_URL`) and [`Mailer`], which sends a
//!   [`Message`] (text, optional HTML, attachments) over SMTP with lettre: plain, STARTTLS or
//!   implicit TLS (rustls, the system's trust store), with AUTH when the URL carries
//!   credentials;
//! - [`catalog`] — every subject, paragraph and SMS text, in Chinese and English, as data;
//! - [`template`] — renders the catalog into an [`Email`] (subject, plain text, escaped HTML):
//!   signing requests, reminders, one-time codes, completion, declines, voids; and the code
//!   SMS text;
//! - [`sms`] — the [`SmsProvider`] trait and its providers: [`OutboxSms`] (the embedded
//!   default, messages kept for an admin to read through an [`SmsOutboxStore`]), [`HttpSms`]
//!   (a generic HTTP gateway) and [`SandboxSms`] (a gateway double for tests and demos).
//!
//! Configuration: `SIGNET_SMTP_URL` is `smtp://HOST[:PORT]` (no TLS, port 25),
//! `smtp://HOST[:PORT]?tls=starttls` (required STARTTLS, port 587) or `smtps://HOST[:PORT]`
//! (implicit TLS, port 465), with optional percent-encoded `USER:PASSWORD@` for AUTH and
//! `from=ADDRESS` for the sender (or [`SmtpConfig::with_from`]); details in [`smtp`]. Sends
//! need a Tokio runtime with the time driver (timeouts).
//!
//! What does not live here: deciding who is told what and when (the signing ceremony), making
//! codes and tokens, and storing anything beyond the SMS outbox seam.
//!
//! **Invariant:** no message body, one-time code, signing token, password or SMS text ever
//! appears in a log line or in an error of this crate. Errors name the server, the mode and
//! the status so an operator knows what to check; SMTP server replies are quoted (bounded)
//! because a server does not echo a message body; an SMS gateway's reply body is never quoted,
//! since it may echo the text. [`OneTimeCode`], [`Message`] and the credentials redact
//! themselves in `Debug`.

pub mod catalog;
pub mod sms;
pub mod smtp;
pub mod template;

pub use lettre::Address;
pub use lettre::message::Mailbox;
pub use sms::{
    HttpSms, HttpSmsConfig, MemoryOutboxStore, OutboxMessage, OutboxSms, SandboxSms, SentSms, SmsOutboxStore,
    SmsProvider, SmsReceipt, is_e164,
};
pub use smtp::{Attachment, Mailer, Message, SmtpConfig, TlsMode};
pub use template::{
    Completed, Declined, Email, OneTimeCode, SigningRequest, Voided, code_sms, completed, declined, one_time_code,
    reminder, signing_link, signing_request, voided,
};

use std::time::Duration;

/// The language a recipient reads; the caller chooses it per recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Simplified Chinese.
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 tag (`zh-CN`, `en`), as used in the HTML `lang` attribute.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// Everything that can go wrong in this crate. No variant carries a message body, a code, a
/// token, a password or an SMS text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// `SIGNET_SMTP_URL` is not one of the accepted forms.
    #[error("SIGNET_SMTP_URL: {0}")]
    SmtpUrl(String),
    /// No sender address was configured.
    #[error(
        "no sender address for mail: add from=ADDRESS to SIGNET_SMTP_URL (for example \
         smtp://mail.example.com:25?from=signet%40example.com) or set it in the configuration"
    )]
    NoSender,
    /// A mail address or mailbox could not be used.
    #[error("{what} is not a valid mail address: {reason}")]
    Address {
        /// Which address (`from`, `to`).
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// An attachment could not be used.
    #[error("attachment {name:?}: {reason}")]
    Attachment {
        /// The attachment's file name.
        name: String,
        /// Why.
        reason: String,
    },
    /// The mail could not be assembled.
    #[error("the mail could not be built: {0}")]
    Build(String),
    /// The SMTP server could not be reached.
    #[error(
        "cannot connect to the SMTP server {server}: {detail}; check the host and port in \
         SIGNET_SMTP_URL and that the server accepts connections from here"
    )]
    SmtpConnect {
        /// `host:port`.
        server: String,
        /// The network error.
        detail: String,
    },
    /// The SMTP server did not answer in time.
    #[error(
        "the SMTP server {server} did not finish answering within {after:?}; check the host and \
         port, any firewall, and the TLS mode (an smtps:// port answers nothing to a plain client)"
    )]
    SmtpTimeout {
        /// `host:port`.
        server: String,
        /// The configured timeout.
        after: Duration,
    },
    /// TLS with the SMTP server failed.
    #[error(
        "TLS with the SMTP server {server} ({mode}) failed: {detail}; check the TLS mode \
         (smtps:// for implicit TLS, usually port 465; smtp://…?tls=starttls for STARTTLS, \
         usually 587; smtp:// for none) and that the server's certificate is trusted here"
    )]
    SmtpTls {
        /// `host:port`.
        server: String,
        /// The configured mode.
        mode: TlsMode,
        /// The TLS error.
        detail: String,
    },
    /// The SMTP server refused the credentials or offers no usable AUTH mechanism.
    #[error(
        "the SMTP server {server} refused the login: {detail}; check the user and password in \
         SIGNET_SMTP_URL (percent-encode @ : / as %40 %3A %2F) and that AUTH PLAIN or LOGIN is \
         offered in this TLS mode"
    )]
    SmtpAuth {
        /// `host:port`.
        server: String,
        /// The server's reply or the client's reason.
        detail: String,
    },
    /// The SMTP server requires AUTH and no credentials were configured.
    #[error(
        "the SMTP server {server} requires a login: {detail}; add user:password@ to \
         SIGNET_SMTP_URL"
    )]
    SmtpAuthRequired {
        /// `host:port`.
        server: String,
        /// The server's reply.
        detail: String,
    },
    /// The SMTP server refused the mail for good (5xx).
    #[error("the SMTP server {server} refused the mail: {detail}; check the sender and recipient addresses")]
    SmtpRejected {
        /// `host:port`.
        server: String,
        /// The reply code and text.
        detail: String,
    },
    /// The SMTP server refused the mail for now (4xx); trying again later may work.
    #[error("the SMTP server {server} deferred the mail: {detail}; try again later")]
    SmtpTransient {
        /// `host:port`.
        server: String,
        /// The reply code and text.
        detail: String,
    },
    /// Any other SMTP protocol failure.
    #[error("SMTP with {server} failed: {detail}")]
    Smtp {
        /// `host:port`.
        server: String,
        /// What happened.
        detail: String,
    },
    /// A one-time code that is not six ASCII digits.
    #[error("a one-time code is exactly six ASCII digits")]
    InvalidCode,
    /// A phone number that is not in E.164 form.
    #[error("the phone number is not in E.164 form (+, a country code and the number: at most 15 digits)")]
    InvalidPhoneNumber,
    /// An SMS text that cannot be sent.
    #[error("the SMS text {0}")]
    SmsText(&'static str),
    /// Too many messages to one number in the window.
    #[error("too many text messages to this number; try again in {} s", retry_after.as_secs().max(1))]
    SmsRateLimited {
        /// When the next message would be accepted.
        retry_after: Duration,
    },
    /// The SMS gateway answered with a status other than 2xx.
    #[error("the SMS gateway answered HTTP {status}; check its URL, token and body template")]
    SmsGateway {
        /// The HTTP status.
        status: u16,
    },
    /// The SMS gateway could not be reached or did not answer in time.
    #[error("the SMS gateway is unreachable: {0}; check its URL and that it answers from here")]
    SmsUnreachable(String),
    /// The HTTP SMS provider's configuration is wrong.
    #[error("SMS gateway configuration: {0}")]
    SmsConfig(String),
    /// The SMS outbox store failed.
    #[error("SMS outbox: {0}")]
    Outbox(String),
}

/// The crate's result type.
pub type Result<T, E = NotifyError> = std::result::Result<T, E>;

/// Shortens a remote party's words for an error: one line, no control characters, bounded.
pub(crate) fn bounded(s: &str) -> String {
    const MAX: usize = 200;
    let mut out: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.chars().count() > MAX {
        out = out.chars().take(MAX).collect::<String>() + "…";
    }
    out
}
