//! The signing ceremony, from the signer's side (`/api/v1/signing/{token}/…`): the capability
//! link, the one-time code, signing and declining; and the platform's side of it — links and
//! messages for the signers whose turn comes, and completion.
//!
//! A link is a 256-bit random token, stored only as its SHA-256, valid `link_days`. A code is
//! six digits, stored as a keyed hash (a pepper under `DATA/keys/`), valid five minutes, five
//! wrong tries, at most five codes per fifteen minutes per signer, compared in constant time,
//! usable once; codes never reach a log.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use signet_domain::contract::{Contract, FieldKind, RecipientRole, Status};
use signet_domain::event::{ContractEvent, EventKind};
use signet_store::{OtpCode, OutboxMessage, SigningLink};

use super::api::{AppState, Client, contract_json_public, record_evidence};
use super::session::LinkRef;
use super::error::{ApiError, ApiResult};
use super::{App, new_id, new_secret, now_ms, secret_hash};

/// A code is valid this long.
pub const CODE_TTL_MS: u64 = 5 * 60 * 1000;
/// Wrong tries per code.
pub const CODE_ATTEMPTS: u64 = 5;
/// Codes per signer per window.
pub const CODE_SENDS: u64 = 5;
/// The send window.
pub const CODE_WINDOW_MS: u64 = 15 * 60 * 1000;
/// How long a verified code allows signing.
pub const SIGN_WINDOW_MS: u64 = 15 * 60 * 1000;

/// Compares secrets (code hashes, CSRF tokens) in time that does not depend on where they differ.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn code_hash(app: &App, contract: &str, recipient: &str, code: &str) -> String {
    let mut data = app.pepper.clone();
    data.extend_from_slice(format!("\0{contract}\0{recipient}\0{code}").as_bytes());
    hex::encode(signet_pki::alg::sha256(&data))
}

fn new_code() -> anyhow::Result<String> {
    // Rejection sampling: a uniform number below 1,000,000.
    loop {
        let mut b = [0u8; 4];
        signet_pki::Rng::fill(&mut signet_pki::SystemRng, &mut b)?;
        let n = u32::from_be_bytes(b) & 0x00ff_ffff;
        if n < 16_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

fn masked(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => {
            let n = address.chars().count();
            address.chars().enumerate().map(|(i, c)| if i + 4 < n && i > 2 { '*' } else { c }).collect()
        }
    }
}

/// Keeps a message in the outbox (and, when SMTP or an SMS gateway is configured, sends it).
pub async fn deliver(app: &App, org: &str, channel: &str, address: &str, subject: &str, body: &str) -> anyhow::Result<()> {
    deliver_html(app, org, channel, address, subject, body, None).await
}

/// As [`deliver`], with an HTML alternative for mail.
pub async fn deliver_html(app: &App, org: &str, channel: &str, address: &str, subject: &str, body: &str, html: Option<&str>) -> anyhow::Result<()> {
    deliver_as(app, &new_id("msg"), org, channel, address, subject, body, html).await
}

/// As [`deliver_html`], kept in the outbox under `id`: a message already kept under that id
/// (an earlier attempt of the same job) is not kept twice, but is sent again.
#[allow(clippy::too_many_arguments)]
async fn deliver_as(app: &App, id: &str, org: &str, channel: &str, address: &str, subject: &str, body: &str, html: Option<&str>) -> anyhow::Result<()> {
    let m = OutboxMessage { id: id.to_owned(), channel: channel.into(), address: address.into(), subject: subject.into(), body: body.into(), created_at: now_ms() };
    app.store.put_outbox(org, &m).await?;
    match channel {
        "email" => super::mail::send(app, address, subject, body, html).await?,
        "sms" => super::mail::send_sms(app, address, body).await?,
        _ => {}
    }
    Ok(())
}

/// The language of a recipient's messages: the one the sender chose, else Chinese when their
/// name is written in Chinese characters, English otherwise.
pub fn lang_of(r: &signet_domain::contract::Recipient) -> signet_notify::Lang {
    match r.lang.as_deref() {
        Some("zh") => signet_notify::Lang::Zh,
        Some("en") => signet_notify::Lang::En,
        _ => lang_for(&r.name),
    }
}

/// The language a name is written in: Chinese for Chinese characters, else English.
pub fn lang_for(name: &str) -> signet_notify::Lang {
    let cjk = name.chars().any(|c| matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F));
    if cjk { signet_notify::Lang::Zh } else { signet_notify::Lang::En }
}

/// Mails a templated message (or, without email, sends `sms` by SMS).
/// The message is kept in the outbox as `id`.
async fn tell_email(app: &App, id: &str, c: &Contract, r: &signet_domain::contract::Recipient, email: signet_notify::Email, sms: &str) -> anyhow::Result<()> {
    match (&r.email, &r.phone) {
        (Some(address), _) => deliver_as(app, id, &c.org, "email", address, &email.subject, &email.text, Some(&email.html)).await,
        (None, Some(phone)) => deliver_as(app, id, &c.org, "sms", phone, "", &format!("【Signet】{sms}"), None).await,
        (None, None) => Ok(()),
    }
}

/// A fresh link for a recipient: the token is returned once and stored only hashed.
async fn new_link(app: &App, c: &Contract, recipient: &str) -> anyhow::Result<String> {
    let token = new_secret()?;
    let now = now_ms();
    let link = SigningLink { org: c.org.clone(), contract: c.id.clone(), recipient: recipient.to_owned(), expires_at: now + app.cfg.link_days * 86_400_000 };
    app.store.put_link(&secret_hash(&token), &link, now).await?;
    Ok(format!("{}/s/{token}", app.cfg.public_url))
}

/// Whether an event of this kind calls for messages ([`issue_links`]); a committed change
/// with such an event gets a `notify` job in its transaction.
pub fn announces(kind: EventKind) -> bool {
    matches!(kind, EventKind::Notified | EventKind::Reminded | EventKind::Completed | EventKind::Declined | EventKind::Voided)
}

/// The messages the events call for: a link to the signers whose turn came (and to those
/// reminded); on completion, a download link to everyone; on decline or void, word to the
/// signers already asked. Run by a `notify` job: `sent` skips the messages an earlier attempt
/// delivered and records each one delivered now; a link or reminder for a signer who has
/// signed or declined meanwhile is not sent.
pub async fn issue_links(app: &App, c: &Contract, events: &[ContractEvent], sent: &mut super::jobs::Deliveries<'_>) -> anyhow::Result<()> {
    let org_name = app.store.org(&c.org).await?.map(|(n, _)| n).unwrap_or_default();
    let (title, number) = (&c.title, &c.number);
    for e in events {
        match e.kind {
            EventKind::Notified | EventKind::Reminded => {
                let Some(r) = e.recipient.as_deref().and_then(|id| c.recipients.iter().find(|r| r.id == id)) else { continue };
                if !r.signs() {
                    continue; // copies hear at completion
                }
                let Some(id) = sent.due() else { continue };
                if matches!(r.status, signet_domain::contract::RecipientStatus::Signed | signet_domain::contract::RecipientStatus::Declined) {
                    continue; // acted already: the link would come too late
                }
                let url = new_link(app, c, &r.id).await?;
                let deadline = c.deadline.and_then(|ms| time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok());
                let request = signet_notify::SigningRequest { org: &org_name, sender: &org_name, title, recipient: &r.name, link: &url, deadline };
                let lang = lang_of(r);
                let email = if e.kind == EventKind::Reminded { signet_notify::reminder(lang, &request) } else { signet_notify::signing_request(lang, &request) };
                let sms = format!("{org_name}邀请您签署《{title}》：{url} / Please sign \"{title}\": {url}");
                tell_email(app, &id, c, r, email, &sms).await?;
                sent.delivered().await?;
            }
            EventKind::Completed => {
                for r in &c.recipients {
                    let Some(id) = sent.due() else { continue };
                    // A fresh link: its token downloads the signed PDF and the evidence report.
                    let url = new_link(app, c, &r.id).await?;
                    let token = url.rsplit('/').next().unwrap_or_default();
                    let signed_pdf = format!("{}/api/v1/signing/{token}/document", app.cfg.public_url);
                    let evidence_report = format!("{}/api/v1/signing/{token}/evidence", app.cfg.public_url);
                    let email = signet_notify::completed(lang_of(r), &signet_notify::Completed { title, recipient: &r.name, signed_pdf: &signed_pdf, evidence_report: &evidence_report });
                    let sms = format!("《{title}》（{number}）已完成，下载：{url} / \"{title}\" is complete: {url}");
                    tell_email(app, &id, c, r, email, &sms).await?;
                    sent.delivered().await?;
                }
            }
            EventKind::Declined | EventKind::Voided => {
                let reason = e.data.get("reason").cloned().filter(|r| !r.trim().is_empty());
                let who = e.recipient.as_deref().and_then(|id| c.recipients.iter().find(|r| r.id == id)).map(|r| r.name.clone()).unwrap_or_default();
                let (zh, en) = if e.kind == EventKind::Declined { ("已被拒签", "was declined") } else { ("已被撤销", "was voided") };
                for r in c.recipients.iter().filter(|r| r.signs() && r.status != signet_domain::contract::RecipientStatus::Waiting) {
                    if e.recipient.as_deref() == Some(r.id.as_str()) {
                        continue;
                    }
                    let Some(id) = sent.due() else { continue };
                    let lang = lang_of(r);
                    let email = if e.kind == EventKind::Declined {
                        signet_notify::declined(lang, &signet_notify::Declined { title, recipient: &r.name, who: &who, reason: reason.as_deref() })
                    } else {
                        signet_notify::voided(lang, &signet_notify::Voided { title, recipient: &r.name, org: &org_name, reason: reason.as_deref() })
                    };
                    let sms = format!("《{title}》（{number}）{zh} / \"{title}\" {en}");
                    tell_email(app, &id, c, r, email, &sms).await?;
                    sent.delivered().await?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Resolves a link token to its contract and recipient; expired and unknown links are errors.
async fn open_link(app: &App, token_hash: &str) -> ApiResult<(SigningLink, Contract, u64)> {
    let link = app.store.link(token_hash).await?.ok_or_else(ApiError::not_found)?;
    if now_ms() >= link.expires_at {
        return Err(ApiError::new(StatusCode::CONFLICT, "link_expired", "this signing link has expired; ask the sender to send the contract again or to remind you"));
    }
    let (c, version) = app.store.contract(&link.org, &link.contract).await?.ok_or_else(ApiError::not_found)?;
    Ok((link, c, version))
}


/// `GET /api/v1/signing/{token}`: what the signer sees. Records `opened`.
pub async fn view(State(app): State<AppState>, link_ref: LinkRef, Extension(from): Extension<Client>) -> ApiResult<Json<Value>> {
    let (link, mut c, version) = open_link(&app, &link_ref.hash).await?;
    if let Ok(event) = c.open(&link.recipient, now_ms(), &from.ip, &from.user_agent) {
        // The view is answered even when another request changed the contract meanwhile.
        match app.store.update_contract(&c, version, std::slice::from_ref(&event), now_ms()).await {
            Ok(seqs) => record_evidence(&app, &c, &seqs, std::slice::from_ref(&event)).await,
            Err(signet_store::StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let r = c.recipient(&link.recipient)?.clone();
    let your_turn = c.check_can_act(&r.id, "signed").is_ok();
    let org_name = app.store.org(&c.org).await?.map(|(n, _)| n).unwrap_or_default();
    let channels: Vec<&str> = [r.email.as_ref().map(|_| "email"), r.phone.as_ref().map(|_| "sms")].into_iter().flatten().collect();
    let mut out = json!({
        "organisation": org_name,
        "contract": contract_json_public(&c),
        "recipient": {
            "id": r.id, "name": r.name, "role": match r.role { RecipientRole::Copy => "cc", RecipientRole::Approver => "approver", _ => "signer" },
            "email": r.email.as_deref().map(masked), "phone": r.phone.as_deref().map(masked),
            "status": format!("{:?}", r.status).to_lowercase(),
        },
        "can_sign": your_turn,
        "code_channels": channels,
        "fields": c.fields.iter().filter(|f| f.recipient == r.id).map(|f| json!({"id": f.id, "type": f.kind.as_str(), "document": f.document + 1, "page": f.page, "rect": f.rect, "value": f.value})).collect::<Vec<_>>(),
    });
    // Through a signer session, the page needs the token it sends back on its requests.
    if let Some(csrf) = link_ref.csrf {
        out["csrf_token"] = Value::String(csrf);
    }
    Ok(Json(out))
}

#[derive(Deserialize)]
pub struct DocQuery {
    document: Option<usize>,
}

/// `GET /api/v1/signing/{token}/document`: the current PDF (signed so far).
pub async fn document(State(app): State<AppState>, link_ref: LinkRef, Query(q): Query<DocQuery>) -> ApiResult<Response> {
    let (_, c, _) = open_link(&app, &link_ref.hash).await?;
    if matches!(c.status, Status::Voided) {
        return Err(ApiError::new(StatusCode::CONFLICT, "wrong_state", "the sender voided this contract"));
    }
    super::api::document_response(&app, &c, q.document.unwrap_or(1)).await
}

/// `GET /api/v1/signing/{token}/pages/{document}/{page}.png?width=` (and the signer
/// session's `/api/v1/signer/pages/…`): a page of the current PDF as a picture.
pub async fn page_image(
    State(app): State<AppState>,
    link_ref: LinkRef,
    Path(params): Path<HashMap<String, String>>,
    Query(q): Query<super::render::WidthQuery>,
) -> ApiResult<Response> {
    let (_, c, _) = open_link(&app, &link_ref.hash).await?;
    if matches!(c.status, Status::Voided) {
        return Err(ApiError::new(StatusCode::CONFLICT, "wrong_state", "the sender voided this contract"));
    }
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    super::render::page_png(&app, &c, param("document"), param("page"), q.width()?).await
}

/// `GET /api/v1/signing/{token}/evidence`: the evidence report, once the contract is complete.
pub async fn evidence(State(app): State<AppState>, link_ref: LinkRef) -> ApiResult<Response> {
    let (_, c, _) = open_link(&app, &link_ref.hash).await?;
    if c.status != Status::Completed {
        return Err(ApiError::new(StatusCode::CONFLICT, "wrong_state", "the evidence report exists once everyone has signed"));
    }
    let events = app.store.events(&c.org, &c.id).await?;
    let pdf = super::evidence::report_pdf(&app, &c, &events).await.map_err(ApiError::internal)?;
    let disposition = format!("attachment; filename=\"{}-evidence.pdf\"", c.number);
    Ok(([(axum::http::header::CONTENT_TYPE, "application/pdf".to_owned()), (axum::http::header::CONTENT_DISPOSITION, disposition)], pdf).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    channel: String,
}

/// `POST /api/v1/signing/{token}/code`: sends a one-time code.
pub async fn send_code(State(app): State<AppState>, link_ref: LinkRef, Json(body): Json<CodeBody>) -> ApiResult<Json<Value>> {
    let (link, c, version) = open_link(&app, &link_ref.hash).await?;
    let r = c.check_can_act(&link.recipient, "signed")?.clone();
    let address = match body.channel.as_str() {
        "email" => r.email.clone().ok_or_else(|| ApiError::invalid("channel: this recipient has no email address; use sms"))?,
        "sms" => r.phone.clone().ok_or_else(|| ApiError::invalid("channel: this recipient has no phone number; use email"))?,
        other => return Err(ApiError::invalid(format!("channel: {other:?} is not email or sms"))),
    };
    let now = now_ms();
    let previous = app.store.otp(&c.id, &r.id).await?;
    let (window_start, sends) = match &previous {
        Some(p) if now < p.window_start + CODE_WINDOW_MS => (p.window_start, p.sends_in_window),
        _ => (now, 0),
    };
    if sends >= CODE_SENDS {
        return Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many codes were requested; wait 15 minutes and try again"));
    }
    let code = new_code().map_err(ApiError::internal)?;
    let otp = OtpCode { code_hash: code_hash(&app, &c.id, &r.id, &code), channel: body.channel.clone(), expires_at: now + CODE_TTL_MS, attempts: 0, window_start, sends_in_window: sends + 1 };
    app.store.put_otp(&c.id, &r.id, &otp).await?;
    let lang = lang_of(&r);
    let otp_code = signet_notify::OneTimeCode::parse(&code).map_err(ApiError::internal)?;
    let minutes = u32::try_from(CODE_TTL_MS / 60_000).unwrap_or(5);
    let sent = if body.channel == "email" {
        let email = signet_notify::one_time_code(lang, &otp_code, minutes);
        deliver_html(&app, &c.org, "email", &address, &email.subject, &email.text, Some(&email.html)).await
    } else {
        deliver(&app, &c.org, "sms", &address, "", &signet_notify::code_sms(lang, &otp_code, minutes)).await
    };
    sent.map_err(ApiError::internal)?;
    let event = ContractEvent { kind: EventKind::CodeSent, at: now, actor: r.id.clone(), recipient: Some(r.id.clone()), data: BTreeMap::from([("channel".to_owned(), body.channel.clone())]) };
    if let Ok(seqs) = app.store.update_contract(&c, version, std::slice::from_ref(&event), now).await {
        record_evidence(&app, &c, &seqs, std::slice::from_ref(&event)).await;
    }
    Ok(Json(json!({ "sent_to": masked(&address), "channel": body.channel, "expires_in": CODE_TTL_MS / 1000 })))
}

/// Checks a code; counts failures; uses it up on success.
async fn check_code(app: &App, c: &Contract, recipient: &str, code: &str) -> ApiResult<String> {
    let otp = app.store.otp(&c.id, recipient).await?.filter(|o| !o.code_hash.is_empty());
    let Some(otp) = otp else {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "wrong_code", "no code is pending: request a code first"));
    };
    if otp.attempts >= CODE_ATTEMPTS {
        return Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many wrong codes: request a new code"));
    }
    if now_ms() >= otp.expires_at {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "code_expired", "the code has expired: request a new one"));
    }
    let code = code.trim();
    let well_formed = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
    let given = code_hash(app, &c.id, recipient, code);
    if !well_formed || !ct_eq(given.as_bytes(), otp.code_hash.as_bytes()) {
        let n = app.store.otp_failed(&c.id, recipient).await?;
        let event = ContractEvent { kind: EventKind::CodeFailed, at: now_ms(), actor: recipient.to_owned(), recipient: Some(recipient.to_owned()), data: BTreeMap::new() };
        if let Ok(Some((fresh, v))) = app.store.contract(&c.org, &c.id).await
            && let Ok(seqs) = app.store.update_contract(&fresh, v, std::slice::from_ref(&event), now_ms()).await
        {
            record_evidence(app, &fresh, &seqs, std::slice::from_ref(&event)).await;
        }
        let left = CODE_ATTEMPTS.saturating_sub(n);
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "wrong_code", format!("the code is wrong; {left} tries left")).with("tries_left", left));
    }
    if !app.store.consume_otp(&c.id, recipient, &otp.code_hash).await? {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "wrong_code", "the code was already used: request a new one"));
    }
    Ok(otp.channel)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureBody {
    image_png_base64: Option<String>,
    typed_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignBody {
    code: String,
    #[serde(default)]
    fields: BTreeMap<String, Value>,
    /// Required from signers; approvers sign nothing into the PDF.
    signature: Option<SignatureBody>,
}

/// `POST /api/v1/signing/{token}/sign`.
pub async fn sign(
    State(app): State<AppState>,
    link_ref: LinkRef,
    Extension(from): Extension<Client>,
    Json(body): Json<SignBody>,
) -> ApiResult<Json<Value>> {
    use base64::Engine as _;
    let (link, mut c, version) = open_link(&app, &link_ref.hash).await?;
    let r = c.check_can_act(&link.recipient, "signed")?.clone();
    let none = SignatureBody { image_png_base64: None, typed_name: None };
    let sig = body.signature.as_ref().unwrap_or(&none);
    let mark = match (&sig.image_png_base64, &sig.typed_name) {
        _ if !r.signs_pdf() => super::signing::Mark::Typed(r.name.clone()),
        (Some(b64), None) => {
            let png = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| ApiError::invalid("signature.image_png_base64 is not base64"))?;
            super::signing::Mark::Drawn(signet_pdf::decode_png(&png).map_err(|e| ApiError::invalid(format!("signature.image_png_base64: {e}")))?)
        }
        (None, Some(name)) if !name.trim().is_empty() && name.chars().count() <= 50 => super::signing::Mark::Typed(name.trim().to_owned()),
        _ => return Err(ApiError::invalid("signature: give either image_png_base64 (a PNG) or typed_name (1 to 50 characters)")),
    };
    let values: BTreeMap<String, String> = body
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), match v { Value::String(s) => s.clone(), other => other.to_string() }))
        .collect();
    let channel = check_code(&app, &c, &r.id, &body.code).await?;
    let now = now_ms();
    let mut events = vec![c.code_verified(&r.id, &channel, now)?];
    events.extend(c.sign(&r.id, &values, now, SIGN_WINDOW_MS)?);
    // The PDFs: one signature per document where this signer has a signature or seal field.
    let key = app.store.org_key(&c.org).await.map_err(ApiError::internal)?;
    let company = match &r.role {
        RecipientRole::CompanySigner { company } => Some(company.clone()),
        _ => None,
    };
    let completed = c.status == Status::Completed;
    let mut new_blobs = Vec::new();
    let mut serials = Vec::new();
    for (i, doc) in c.documents.iter().enumerate() {
        let on_doc: Vec<_> = c.fields.iter().filter(|f| f.document == i).cloned().collect();
        let mine: Vec<_> = on_doc.iter().filter(|f| f.recipient == r.id).cloned().collect();
        let field = mine.iter().find(|f| r.signs_pdf() && matches!(f.kind, FieldKind::Signature | FieldKind::Seal));
        if mine.is_empty() && !completed {
            continue;
        }
        let current = current_pdf(&app, &key, &c, &doc.id).await.map_err(ApiError::internal)?;
        let ca = app.ca.clone();
        let signer_name = r.name.clone();
        let email = r.email.clone();
        let phone = r.phone.clone();
        let company = company.clone();
        let field = field.cloned();
        let mark_ref = &mark;
        let (signed, serial) = tokio::task::block_in_place(|| -> anyhow::Result<(Vec<u8>, Option<String>)> {
            let t = std::time::SystemTime::now();
            let mut pdf = super::signing::prepare_fields(current, &on_doc)?;
            pdf = super::signing::fill_fields(pdf, &mine, t)?;
            let mut serial = None;
            if let Some(field) = &field {
                let signer = super::signing::Signer { name: &signer_name, email: email.as_deref(), phone: phone.as_deref(), company: company.as_deref() };
                let (signed, s) = super::signing::sign_pdf(&ca, &pdf, &signer, field, mark_ref, t)?;
                pdf = signed;
                serial = Some(s);
            }
            if completed {
                pdf = super::signing::seal_document(&ca, &pdf, t)?;
            }
            Ok((pdf, serial))
        })
        .map_err(|e| ApiError::internal(format!("signing {}: {e:#}", doc.id)))?;
        if let Some(serial) = serial {
            // Any server's OCSP responder must know it: recorded before the signing commits.
            // With SQLite there is one server, whose `issued/` directory already knows it (and
            // one commit less per signing is a disk flush less).
            if app.store.backend() == signet_store::Backend::Postgres {
                let pem = app.ca.issued_pem(&serial).map_err(|e| ApiError::internal(format!("{e:#}")))?;
                let normal = crate::ca::normalize_serial(&serial).map_err(|e| ApiError::internal(format!("{e:#}")))?;
                app.store.record_cert(&normal, &pem, now_ms()).await?;
            }
            serials.push(serial);
        }
        new_blobs.push((doc.id.clone(), signed));
    }
    // The signing's facts go into its evidence event.
    if let Some(ev) = events.iter_mut().find(|e| matches!(e.kind, EventKind::Signed | EventKind::Approved)) {
        ev.data.insert("ip".into(), from.ip.clone());
        ev.data.insert("user_agent".into(), from.user_agent.clone());
        if !serials.is_empty() {
            ev.data.insert("certificate_serial".into(), serials.join(","));
        }
    }
    // New versions are written under new names first; the database then points at them, so a
    // failed or conflicting update leaves the previous version current.
    let mut written: Vec<String> = Vec::new();
    for (doc_id, bytes) in &new_blobs {
        let name = format!("{doc_id}.{}.pdf", new_id("signed"));
        if let Err(e) = app.blobs.put(&key, &c.org, &c.id, &name, bytes).await {
            for n in &written {
                app.blobs.remove(&c.org, &c.id, n).await;
            }
            return Err(ApiError::internal(e));
        }
        written.push(name.clone());
        if let Some(d) = c.documents.iter_mut().find(|d| &d.id == doc_id) {
            d.signed_blob = Some(name);
        }
    }
    let now = now_ms();
    let jobs: Vec<_> = super::jobs::notify_job(&c, &events, now).into_iter().collect();
    let seqs = match app.store.update_contract_with_jobs(&c, version, &events, now, &jobs).await {
        Ok(s) => s,
        Err(e) => {
            // Refused (e.g. a conflicting change): the new versions are orphans; the previous
            // ones stay current. Out of reach: the commit may have happened with its answer
            // lost, so the new versions stay (an orphan costs space, a missing one the document).
            if !e.is_unavailable() {
                for n in &written {
                    app.blobs.remove(&c.org, &c.id, n).await;
                }
            }
            return Err(e.into());
        }
    };
    if !jobs.is_empty() {
        super::jobs::wake();
    }
    record_evidence(&app, &c, &seqs, &events).await;
    app.metrics.signatures.fetch_add(1, Ordering::Relaxed);
    Ok(Json(json!({ "status": c.status.as_str(), "contract": contract_json_public(&c) })))
}

/// The newest PDF of a document: the latest signed version, else the original.
pub async fn current_pdf(app: &App, key: &signet_vault::OrgKey, c: &Contract, doc_id: &str) -> anyhow::Result<Vec<u8>> {
    let doc = c.documents.iter().find(|d| d.id == doc_id).ok_or_else(|| anyhow::anyhow!("no document {doc_id}"))?;
    let name = doc.signed_blob.clone().unwrap_or_else(|| format!("{doc_id}.pdf"));
    app.blobs.get(key, &c.org, &c.id, &name).await?.ok_or_else(|| anyhow::anyhow!("the stored document {name} is missing"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclineBody {
    reason: String,
}

/// `POST /api/v1/signing/{token}/decline`.
pub async fn decline(State(app): State<AppState>, link_ref: LinkRef, Json(body): Json<DeclineBody>) -> ApiResult<Json<Value>> {
    let (link, mut c, version) = open_link(&app, &link_ref.hash).await?;
    let event = c.decline(&link.recipient, &body.reason, now_ms())?;
    let now = now_ms();
    let events = std::slice::from_ref(&event);
    let jobs: Vec<_> = super::jobs::notify_job(&c, events, now).into_iter().collect();
    let seqs = app.store.update_contract_with_jobs(&c, version, events, now, &jobs).await?;
    if !jobs.is_empty() {
        super::jobs::wake();
    }
    record_evidence(&app, &c, &seqs, events).await;
    Ok(Json(json!({ "status": c.status.as_str() })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_speak_the_language_the_name_is_written_in() {
        assert_eq!(lang_for("张三"), signet_notify::Lang::Zh);
        assert_eq!(lang_for("Zhang 三"), signet_notify::Lang::Zh);
        assert_eq!(lang_for("Li Si"), signet_notify::Lang::En);
        assert_eq!(lang_for("José"), signet_notify::Lang::En);
    }

    #[test]
    fn addresses_are_masked_and_codes_are_six_uniform_digits() {
        assert_eq!(masked("zhang@example.com"), "z***@example.com");
        assert_eq!(masked("+8613800138000"), "+86*******8000");
        for _ in 0..200 {
            let c = new_code().unwrap();
            assert!(c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()), "{c}");
        }
        assert!(ct_eq(b"abc", b"abc") && !ct_eq(b"abc", b"abd") && !ct_eq(b"abc", b"ab"));
    }
}
