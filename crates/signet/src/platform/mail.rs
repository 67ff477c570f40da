//! Outgoing mail: over SMTP when `SIGNET_SMTP_URL` is set; otherwise messages stay in the
//! outbox only (the embedded default).

use super::App;

/// Mails `body` to `to` when SMTP is configured.
pub async fn send(app: &App, to: &str, subject: &str, body: &str) -> anyhow::Result<()> {
    let Some(_url) = &app.cfg.smtp_url else { return Ok(()) };
    let _ = (to, subject, body);
    anyhow::bail!("SMTP delivery is not wired yet")
}
