//! Outgoing mail and SMS. Mail: over SMTP when `SIGNET_SMTP_URL` is set (through `signet-notify`); without
//! it, messages stay in the outbox only (the embedded default). Bodies, codes and links never
//! reach a log: a failure is reported with the address and the SMTP error only.

use anyhow::Context as _;
use signet_notify::{Mailbox, Mailer, Message, SmtpConfig};

use super::App;
use super::config::Config;

/// The mailer of a configuration, if SMTP is configured.
pub fn mailer(cfg: &Config) -> anyhow::Result<Option<Mailer>> {
    let Some(url) = &cfg.smtp_url else { return Ok(None) };
    let mut smtp = SmtpConfig::parse(url).context("SIGNET_SMTP_URL")?;
    if smtp.from().is_none() {
        let from: Mailbox = cfg.mail_from.parse().with_context(|| format!("SIGNET_MAIL_FROM {:?} is not a mail address", cfg.mail_from))?;
        smtp = smtp.with_from(from);
    }
    Ok(Some(Mailer::new(&smtp).context("SIGNET_SMTP_URL")?))
}

/// Mails `body` (and its HTML alternative) to `to` when SMTP is configured.
pub async fn send(app: &App, to: &str, subject: &str, body: &str, html: Option<&str>) -> anyhow::Result<()> {
    let Some(mailer) = &app.mailer else { return Ok(()) };
    let to: Mailbox = to.parse().with_context(|| format!("{to:?} is not a mail address"))?;
    let message = Message { to, subject: subject.to_owned(), text: body.to_owned(), html: html.map(str::to_owned), attachments: Vec::new() };
    mailer.send(&message).await.context("sending mail")?;
    Ok(())
}

/// The SMS gateway of a configuration, if one is configured.
pub fn sms(cfg: &Config) -> anyhow::Result<Option<Box<dyn signet_notify::SmsProvider>>> {
    let Some(url) = &cfg.sms_url else { return Ok(None) };
    let mut http = signet_notify::HttpSmsConfig::new(url.clone());
    http.bearer_token = cfg.sms_token.clone();
    http.body_template = cfg.sms_body_template.clone();
    Ok(Some(Box::new(signet_notify::HttpSms::new(http).context("SIGNET_SMS_URL")?)))
}

/// Sends an SMS through the gateway when one is configured.
pub async fn send_sms(app: &App, to: &str, text: &str) -> anyhow::Result<()> {
    let Some(gateway) = &app.sms else { return Ok(()) };
    gateway.send(to, text).await.context("sending the SMS")?;
    Ok(())
}
