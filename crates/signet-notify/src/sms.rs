//! Text messages behind the [`SmsProvider`] trait.
//!
//! - [`OutboxSms`] — the embedded default: nothing leaves the server; messages are kept in an
//!   [`SmsOutboxStore`] for an administrator to read and pass on. [`MemoryOutboxStore`] keeps
//!   them in memory (bounded); the server may back the trait with its database.
//! - [`HttpSms`] — a generic HTTP gateway: a JSON POST (`{"to": …, "text": …}` or a
//!   configured body template), an optional bearer token, a timeout; 2xx is sent.
//! - [`SandboxSms`] — behaves like a real gateway (E.164 numbers only, a per-number rate
//!   limit, message ids) without sending anything; tests and demos read what was "sent".
//!
//! The texts come from [`crate::template::code_sms`]. No provider logs a text or puts it in
//! an error; [`HttpSms`] never quotes the gateway's reply body, which may echo the text.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use crate::{NotifyError, Result, bounded};

/// What a provider reports for an accepted message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmsReceipt {
    /// Which provider took it (`outbox`, `http`, `sandbox`).
    pub provider: &'static str,
    /// The provider's id for the message, when it gives one.
    pub id: Option<String>,
}

/// Sends one text message.
#[async_trait]
pub trait SmsProvider: Send + Sync {
    /// Sends `text` to the phone number `to`. Errors never contain `text`.
    async fn send(&self, to: &str, text: &str) -> Result<SmsReceipt>;
}

/// Whether `s` is an E.164 number: `+`, then 7 to 15 digits, the first not 0.
pub fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else { return false };
    (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

/// Numbers the outbox keeps: E.164, or a national number of 6 to 15 digits.
fn is_plausible_number(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or(s);
    (6..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The most characters one message may have (a few concatenated SMS).
pub const MAX_TEXT_CHARS: usize = 1000;

fn check_text(text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(NotifyError::SmsText("is empty"));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(NotifyError::SmsText("is longer than 1000 characters"));
    }
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind: keep using it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Outbox

/// A message kept in the outbox. `Debug` hides the text.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// The store's id for it.
    pub id: String,
    /// The phone number it is for.
    pub to: String,
    /// The text (for the administrator to pass on).
    pub text: String,
    /// When it was kept, in Unix seconds.
    pub at: u64,
}

impl fmt::Debug for OutboxMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboxMessage")
            .field("id", &self.id)
            .field("to", &self.to)
            .field("text_len", &self.text.len())
            .field("at", &self.at)
            .finish()
    }
}

/// Where the outbox keeps its messages.
#[async_trait]
pub trait SmsOutboxStore: Send + Sync {
    /// Keeps a message; returns its id.
    async fn put(&self, to: &str, text: &str, at: u64) -> Result<String>;
    /// The newest `limit` messages, newest first (in the order they were kept).
    async fn newest(&self, limit: usize) -> Result<Vec<OutboxMessage>>;
}

/// An outbox in memory, holding the newest `capacity` messages.
#[derive(Debug)]
pub struct MemoryOutboxStore {
    capacity: usize,
    inner: Mutex<(u64, VecDeque<OutboxMessage>)>,
}

impl MemoryOutboxStore {
    /// The default capacity.
    pub const DEFAULT_CAPACITY: usize = 1000;

    /// A store keeping the newest [`Self::DEFAULT_CAPACITY`] messages.
    pub fn new() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }

    /// A store keeping the newest `capacity` messages (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        MemoryOutboxStore { capacity: capacity.max(1), inner: Mutex::new((0, VecDeque::new())) }
    }
}

impl Default for MemoryOutboxStore {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl SmsOutboxStore for MemoryOutboxStore {
    async fn put(&self, to: &str, text: &str, at: u64) -> Result<String> {
        let mut guard = lock(&self.inner);
        let (last, messages) = &mut *guard;
        *last += 1;
        let id = format!("sms_{:08}", *last);
        messages.push_back(OutboxMessage { id: id.clone(), to: to.to_owned(), text: text.to_owned(), at });
        while messages.len() > self.capacity {
            messages.pop_front();
        }
        Ok(id)
    }

    async fn newest(&self, limit: usize) -> Result<Vec<OutboxMessage>> {
        Ok(lock(&self.inner).1.iter().rev().take(limit).cloned().collect())
    }
}

/// The embedded default provider: keeps every message for an administrator to read.
#[derive(Clone)]
pub struct OutboxSms {
    store: Arc<dyn SmsOutboxStore>,
}

impl fmt::Debug for OutboxSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OutboxSms")
    }
}

impl OutboxSms {
    /// An outbox over `store`.
    pub fn new(store: Arc<dyn SmsOutboxStore>) -> Self {
        OutboxSms { store }
    }

    /// An outbox in memory.
    pub fn in_memory() -> Self {
        Self::new(Arc::new(MemoryOutboxStore::new()))
    }

    /// The newest `limit` messages, newest first (for the administrator's page).
    pub async fn list(&self, limit: usize) -> Result<Vec<OutboxMessage>> {
        self.store.newest(limit).await
    }
}

#[async_trait]
impl SmsProvider for OutboxSms {
    async fn send(&self, to: &str, text: &str) -> Result<SmsReceipt> {
        if !is_plausible_number(to) {
            return Err(NotifyError::InvalidPhoneNumber);
        }
        check_text(text)?;
        let id = self.store.put(to, text, unix_now()).await?;
        tracing::info!(sms.provider = "outbox", sms.id = %id, "text message kept in the outbox");
        Ok(SmsReceipt { provider: "outbox", id: Some(id) })
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP gateway

/// Where and how [`HttpSms`] posts. `Debug` hides the token.
#[derive(Clone)]
pub struct HttpSmsConfig {
    /// The gateway's `http(s)` URL.
    pub url: String,
    /// Sent as `Authorization: Bearer TOKEN` when set.
    pub bearer_token: Option<String>,
    /// A JSON body with `{to}` and `{text}` placeholders inside JSON strings, e.g.
    /// `{"phone": "{to}", "message": "{text}", "sign": "Signet"}`; the values are JSON-escaped.
    /// `None` posts `{"to": …, "text": …}`.
    pub body_template: Option<String>,
    /// The timeout of the whole request.
    pub timeout: Duration,
}

impl HttpSmsConfig {
    /// Posts `{"to","text"}` to `url`, no token, a 10 s timeout.
    pub fn new(url: impl Into<String>) -> Self {
        HttpSmsConfig { url: url.into(), bearer_token: None, body_template: None, timeout: Duration::from_secs(10) }
    }
}

impl fmt::Debug for HttpSmsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a key in its query: show the origin only.
        let origin = url::Url::parse(&self.url).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
        f.debug_struct("HttpSmsConfig")
            .field("url", &origin)
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "***"))
            .field("body_template", &self.body_template)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A generic HTTP SMS gateway.
#[derive(Clone, Debug)]
pub struct HttpSms {
    config: HttpSmsConfig,
}

/// JSON-escapes `v` for use inside a JSON string (without the quotes).
fn json_inner(v: &str) -> String {
    let quoted = serde_json::Value::String(v.to_owned()).to_string();
    quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or_default().to_owned()
}

impl HttpSms {
    /// Checks the configuration: an `http(s)` URL, a body template that is JSON once filled
    /// and holds both placeholders, a non-zero timeout.
    pub fn new(config: HttpSmsConfig) -> Result<Self> {
        let url = url::Url::parse(&config.url)
            .map_err(|e| NotifyError::SmsConfig(format!("the gateway URL is not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(NotifyError::SmsConfig("the gateway URL must be http:// or https://".into()));
        }
        if let Some(t) = &config.bearer_token
            && (t.is_empty() || t.chars().any(|c| c.is_control() || c == ' '))
        {
            return Err(NotifyError::SmsConfig(
                "the bearer token is empty or holds spaces or control characters".into(),
            ));
        }
        if let Some(template) = &config.body_template {
            if !template.contains("{to}") || !template.contains("{text}") {
                return Err(NotifyError::SmsConfig("the body template must hold {to} and {text}".into()));
            }
            let probe = fill_body(template, "+8613800138000", "a \"quoted\" text\n");
            if serde_json::from_str::<serde_json::Value>(&probe).is_err() {
                return Err(NotifyError::SmsConfig(
                    "the body template is not JSON once filled; put {to} and {text} inside JSON strings".into(),
                ));
            }
        }
        if config.timeout.is_zero() {
            return Err(NotifyError::SmsConfig("the timeout must be above zero".into()));
        }
        Ok(HttpSms { config })
    }

    fn body(&self, to: &str, text: &str) -> String {
        match &self.config.body_template {
            Some(t) => fill_body(t, to, text),
            None => serde_json::json!({ "to": to, "text": text }).to_string(),
        }
    }
}

fn fill_body(template: &str, to: &str, text: &str) -> String {
    // One pass, so a `{text}` inside the number (or the reverse) is not substituted again.
    let mut out = String::with_capacity(template.len() + text.len() + 32);
    let mut rest = template;
    loop {
        let next = [("{to}", to), ("{text}", text)]
            .into_iter()
            .filter_map(|(p, v)| rest.find(p).map(|i| (i, p, v)))
            .min_by_key(|(i, _, _)| *i);
        match next {
            Some((i, p, v)) => {
                out.push_str(rest.get(..i).unwrap_or_default());
                out.push_str(&json_inner(v));
                rest = rest.get(i + p.len()..).unwrap_or_default();
            }
            None => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

/// The gateway's id for the message, if its JSON reply has one.
fn reply_id(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    ["id", "message_id", "messageId", "sid"].iter().find_map(|k| match v.get(k)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(bounded(s)),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// Describes a transport failure without the URL (which may carry a key).
fn describe(e: &ureq::Error, timeout: Duration) -> String {
    match e {
        ureq::Error::Timeout(_) => format!("no answer within {} s", timeout.as_secs_f32()),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::Io(io) => format!("network error ({})", io.kind()),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => "TLS failed".into(),
        ureq::Error::BodyExceedsLimit(_) => "the reply is too large".into(),
        _ => "the request failed".into(),
    }
}

#[async_trait]
impl SmsProvider for HttpSms {
    async fn send(&self, to: &str, text: &str) -> Result<SmsReceipt> {
        if to.is_empty() || to.len() > 32 || to.chars().any(|c| c.is_control()) {
            return Err(NotifyError::InvalidPhoneNumber);
        }
        check_text(text)?;
        let body = self.body(to, text);
        let url = self.config.url.clone();
        let token = self.config.bearer_token.clone();
        let timeout = self.config.timeout;
        let outcome = tokio::task::spawn_blocking(move || -> Result<(u16, Vec<u8>)> {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(timeout))
                .http_status_as_error(false)
                .max_redirects(0)
                .build()
                .into();
            let mut request = agent.post(&url).header("Content-Type", "application/json");
            if let Some(t) = token {
                request = request.header("Authorization", format!("Bearer {t}"));
            }
            let mut resp =
                request.send(body.as_bytes()).map_err(|e| NotifyError::SmsUnreachable(describe(&e, timeout)))?;
            let status = resp.status().as_u16();
            // The body is only searched for an id; a failing gateway's body is not read.
            let data = if (200..300).contains(&status) {
                resp.body_mut().with_config().limit(64 * 1024).read_to_vec().unwrap_or_default()
            } else {
                Vec::new()
            };
            Ok((status, data))
        })
        .await
        .map_err(|e| NotifyError::SmsUnreachable(format!("the sending task failed ({e})")))?;
        let (status, data) = outcome?;
        if !(200..300).contains(&status) {
            tracing::warn!(sms.provider = "http", http.status = status, "the SMS gateway refused a message");
            return Err(NotifyError::SmsGateway { status });
        }
        let id = reply_id(&data);
        tracing::info!(sms.provider = "http", http.status = status, sms.id = id.as_deref(), "text message sent");
        Ok(SmsReceipt { provider: "http", id })
    }
}

// ---------------------------------------------------------------------------------------------
// Sandbox

/// A message the sandbox accepted.
#[derive(Clone, PartialEq, Eq)]
pub struct SentSms {
    /// The id it was given.
    pub id: String,
    /// The number.
    pub to: String,
    /// The text.
    pub text: String,
}

impl fmt::Debug for SentSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentSms")
            .field("id", &self.id)
            .field("to", &self.to)
            .field("text_len", &self.text.len())
            .finish()
    }
}

#[derive(Default)]
struct SandboxState {
    next_id: u64,
    recent: HashMap<String, VecDeque<Instant>>,
    sent: Vec<SentSms>,
}

/// A gateway double: E.164 numbers only, at most `max` messages per number in any `window`
/// (5 in 10 minutes by default), an id per message; it keeps what it accepted.
pub struct SandboxSms {
    max: usize,
    window: Duration,
    state: Mutex<SandboxState>,
}

impl fmt::Debug for SandboxSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxSms").field("max", &self.max).field("window", &self.window).finish()
    }
}

impl Default for SandboxSms {
    fn default() -> Self {
        Self::new()
    }
}

impl SandboxSms {
    /// 5 messages per number per 10 minutes.
    pub fn new() -> Self {
        Self::with_limit(5, Duration::from_secs(600))
    }

    /// `max` messages (at least one) per number in any `window`.
    pub fn with_limit(max: usize, window: Duration) -> Self {
        SandboxSms { max: max.max(1), window, state: Mutex::new(SandboxState::default()) }
    }

    /// Everything accepted so far, oldest first.
    pub fn sent(&self) -> Vec<SentSms> {
        lock(&self.state).sent.clone()
    }

    /// The text most recently accepted for `to`, as the phone would show it.
    pub fn last_text_to(&self, to: &str) -> Option<String> {
        lock(&self.state).sent.iter().rev().find(|s| s.to == to).map(|s| s.text.clone())
    }
}

#[async_trait]
impl SmsProvider for SandboxSms {
    async fn send(&self, to: &str, text: &str) -> Result<SmsReceipt> {
        if !is_e164(to) {
            return Err(NotifyError::InvalidPhoneNumber);
        }
        check_text(text)?;
        let now = Instant::now();
        let mut state = lock(&self.state);
        let recent = state.recent.entry(to.to_owned()).or_default();
        while recent.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            recent.pop_front();
        }
        if recent.len() >= self.max {
            let oldest = recent.front().copied().unwrap_or(now);
            let retry_after = self.window.saturating_sub(now.duration_since(oldest));
            return Err(NotifyError::SmsRateLimited { retry_after });
        }
        recent.push_back(now);
        state.next_id += 1;
        let id = format!("sbx-{:08}", state.next_id);
        state.sent.push(SentSms { id: id.clone(), to: to.to_owned(), text: text.to_owned() });
        drop(state);
        tracing::info!(sms.provider = "sandbox", sms.id = %id, "text message accepted");
        Ok(SmsReceipt { provider: "sandbox", id: Some(id) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164() {
        for good in ["+8613800138000", "+14155550123", "+4930123456", "+1234567", "+123456789012345"] {
            assert!(is_e164(good), "{good}");
        }
        for bad in [
            "13800138000",
            "+",
            "+123456",
            "+1234567890123456",
            "+0123456789",
            "+86 138 0013 8000",
            "+86-13800138000",
            "",
            "+８６１３８００１３８０００",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn body_templates_escape_and_do_not_substitute_twice() {
        let t = r#"{"phone":"{to}","msg":"{text}","sign":"Signet"}"#;
        let body = fill_body(t, "+8613800138000", "say \"{to}\"\n");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["phone"], "+8613800138000");
        assert_eq!(v["msg"], "say \"{to}\"\n");
        assert_eq!(v["sign"], "Signet");
    }

    #[test]
    fn http_config_is_checked() {
        let ok = HttpSms::new(HttpSmsConfig::new("https://sms.example/send")).unwrap();
        assert_eq!(ok.body("+1234567", "hi"), r#"{"text":"hi","to":"+1234567"}"#);
        let cases: Vec<(HttpSmsConfig, &str)> = vec![
            (HttpSmsConfig::new("not a url"), "not a URL"),
            (HttpSmsConfig::new("ftp://sms.example/"), "http://"),
            (
                HttpSmsConfig {
                    body_template: Some(r#"{"to":"{to}"}"#.into()),
                    ..HttpSmsConfig::new("https://a.example")
                },
                "must hold",
            ),
            (
                HttpSmsConfig {
                    body_template: Some(r#"{"to":{to},"text":"{text}"}"#.into()),
                    ..HttpSmsConfig::new("https://a.example")
                },
                "not JSON",
            ),
            (
                HttpSmsConfig { bearer_token: Some("a b".into()), ..HttpSmsConfig::new("https://a.example") },
                "bearer token",
            ),
            (HttpSmsConfig { timeout: Duration::ZERO, ..HttpSmsConfig::new("https://a.example") }, "timeout"),
        ];
        for (config, needle) in cases {
            let e = HttpSms::new(config).unwrap_err();
            assert!(e.to_string().contains(needle), "{e} lacks {needle}");
        }
        let shown = format!(
            "{:?}",
            HttpSmsConfig { bearer_token: Some("tok3n".into()), ..HttpSmsConfig::new("https://a.example/x?key=k3y") }
        );
        assert!(!shown.contains("tok3n") && !shown.contains("k3y"), "{shown}");
    }

    #[test]
    fn reply_ids() {
        assert_eq!(reply_id(br#"{"id":"m-1"}"#).as_deref(), Some("m-1"));
        assert_eq!(reply_id(br#"{"message_id":42}"#).as_deref(), Some("42"));
        assert_eq!(reply_id(b"OK"), None);
        assert_eq!(reply_id(br#"{"ok":true}"#), None);
    }
}
