//! The Open API v1 (`/api/v1/…`), the health and metrics endpoints, and the mounted CA and
//! evidence-log routes. Handlers are thin: authenticate, parse, call the domain, store, record
//! evidence, answer. Every error is an [`ApiError`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Multipart, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use serde::Deserialize;
use serde_json::{Value, json};
use signet_domain::contract::{Contract, Document, FieldKind, NewContract, NewField, NewRecipient, RecipientRole, Status};
use signet_domain::event::ContractEvent;
use signet_domain::org::Actor;
use signet_store::ContractFilter;

use super::error::{ApiError, ApiResult};
use super::{App, new_id, now_ms, secret_hash};

pub type AppState = Arc<App>;

/// Starts the server on `cfg.listen` and serves until Ctrl-C or SIGTERM.
pub async fn run(cfg: super::config::Config) -> anyhow::Result<()> {
    let listen = cfg.listen.clone();
    let data = cfg.data.clone();
    let app = Arc::new(super::init::open_app(cfg).await?);
    let listener = tokio::net::TcpListener::bind(&listen).await.map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let local = listener.local_addr()?;
    println!("Signet is running at http://{local}/ (public URL {})", app.cfg.public_url);
    println!("  demo credentials: {}", data.join("demo-credentials.json").display());
    println!("  API: http://{local}/api/v1/   evidence log: http://{local}/log/checkpoint   root CA: http://{local}/api/v1/ca/root.pem");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let background = {
        let log = app.log.clone();
        tokio::spawn(async move { log.run(async { let _ = stop_rx.await; }, |e| eprintln!("log: {e}")).await })
    };
    // Background work (messages, sweeps) as jobs in the database queue, run by every server.
    let (stop_jobs, jobs_stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(super::jobs::run_worker(app.clone(), jobs_stopped));
    let service = router(app).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let result = axum::serve(listener, service).with_graceful_shutdown(crate::serve::shutdown_signal()).await;
    let _ = stop_jobs.send(true);
    let _ = worker.await;
    let _ = stop_tx.send(());
    let _ = background.await;
    result.map_err(anyhow::Error::from)
}

/// Appends to the evidence log the events a crash left out of it (committed, but the process
/// died before the append). Only events older than a minute, so an append still in flight in
/// a request is never doubled. An event whose contract does not open is left, and the others
/// are appended (see [`Unswept`]).
pub async fn reconcile_evidence(app: &App) -> anyhow::Result<usize> {
    let before = now_ms().saturating_sub(60_000);
    let missing = app.store.events_missing_from_log(before, 500).await?;
    let mut left = Unswept { doing: "appending events missing from the evidence log", items: "event(s)", of: missing.len(), failed: 0 };
    let mut done = 0;
    for (org, contract, e) in missing {
        let c = match app.store.contract(&org, &contract).await {
            Ok(Some((c, _))) => c,
            Ok(None) => continue,
            Err(err) => {
                left.note(&org, &contract, err)?;
                continue;
            }
        };
        let entry = e.event.to_evidence(&org, &contract, super::evidence::subject(&c).as_deref());
        let index = app.log.append_event(&entry).await?;
        app.store.set_log_index(&contract, e.seq, index).await?;
        app.metrics.evidence_events.fetch_add(1, Ordering::Relaxed);
        done += 1;
    }
    left.result(done)
}

/// Reminds the signers of open contracts that have waited `remind_days` since their last
/// change (a reminder is a change, so the next one comes `remind_days` later).
pub async fn remind_idle(app: &App) -> anyhow::Result<usize> {
    if app.cfg.remind_days == 0 {
        return Ok(0);
    }
    let now = now_ms();
    let idle = app.store.idle_open_contracts(now.saturating_sub(app.cfg.remind_days * 86_400_000), 200).await?;
    sweep(app, "reminding signers", idle, |c| c.auto_remind(now)).await
}

/// Expires open contracts whose deadline has passed.
pub async fn expire_due(app: &App) -> anyhow::Result<usize> {
    let now = now_ms();
    let due = app.store.due_for_expiry(now, 200).await?;
    sweep(app, "expiring contracts", due, |c| c.expire_if_due(now).into_iter().collect()).await
}

/// Applies a system change to each of `contracts` (`(org, id)`) and commits the events it
/// gives; a contract changed meanwhile by a request is left for the next sweep, and so is one
/// that fails (see [`Unswept`]). Returns the number of events.
async fn sweep(app: &App, doing: &'static str, contracts: Vec<(String, String)>, change: impl Fn(&mut Contract) -> Vec<ContractEvent>) -> anyhow::Result<usize> {
    let mut left = Unswept { doing, items: "contract(s)", of: contracts.len(), failed: 0 };
    let mut n = 0;
    for (org, id) in contracts {
        let (mut c, version) = match app.store.contract(&org, &id).await {
            Ok(Some(found)) => found,
            Ok(None) => continue,
            Err(e) => {
                left.note(&org, &id, e)?;
                continue;
            }
        };
        let events = change(&mut c);
        if events.is_empty() {
            continue;
        }
        match commit(app, &c, version, &events).await {
            Ok(()) => n += events.len(),
            Err(signet_store::StoreError::Conflict(_)) => {}
            Err(e) => left.note(&org, &id, e)?,
        }
    }
    left.result(n)
}

/// What a sweep could not do. One contract that fails (a record that does not open, an
/// organisation key that does not) must not hold up the others behind it, sweep after sweep:
/// it is left and the sweep goes on. Each is named with its cause in the server's log only;
/// the sweep's job is deployment-wide, seen by every organisation's administrators, so its
/// error counts them without naming any.
struct Unswept {
    doing: &'static str,
    items: &'static str,
    of: usize,
    failed: usize,
}

impl Unswept {
    /// Notes that `org`'s contract `id` failed with `e`, or ends the sweep with `e` when the
    /// database is out of reach (nothing else would work either).
    fn note(&mut self, org: &str, id: &str, e: signet_store::StoreError) -> anyhow::Result<()> {
        if e.is_unavailable() {
            return Err(e.into());
        }
        eprintln!("{}: contract {id} of {org} was left: {e}", self.doing);
        self.failed += 1;
        Ok(())
    }

    /// `done` when nothing failed, otherwise an error counting what did.
    fn result(self, done: usize) -> anyhow::Result<usize> {
        if self.failed == 0 {
            return Ok(done);
        }
        anyhow::bail!(
            "{}: {} of {} {} failed and were left for the next sweep (the others were done); the server's log names each, with its cause",
            self.doing,
            self.failed,
            self.of,
            self.items
        )
    }
}

/// Where a request came from, as evidence records it: the TCP peer, or behind a trusted proxy
/// the first `X-Forwarded-For` address; and the user agent.
#[derive(Clone, Debug)]
pub struct Client {
    /// IP address.
    pub ip: String,
    /// User agent (at most 300 characters).
    pub user_agent: String,
}

async fn client_address(State(app): State<AppState>, mut req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string());
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|s| s.trim().to_owned())
        .filter(|s| s.parse::<std::net::IpAddr>().is_ok());
    let ip = if app.cfg.trust_proxy { forwarded.or(peer) } else { peer }.unwrap_or_else(|| "unknown".into());
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").chars().take(300).collect();
    req.extensions_mut().insert(Client { ip, user_agent });
    next.run(req).await
}

/// `haystack` with every `needle` replaced by `with`.
fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if !needle.is_empty() && haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// Most bytes read and dropped after a refused upload, and for how long.
const DRAIN_MAX: u64 = 256 << 20;
const DRAIN_TIME: Duration = Duration::from_secs(30);

/// Reads and drops what is left of a refused request body (up to [`DRAIN_MAX`] bytes or
/// [`DRAIN_TIME`]). A client that sends its whole request before reading the answer would
/// otherwise get a reset connection instead of our 413 (RFC 9112, section 9.6).
async fn drain(body: axum::body::Body) {
    use http_body_util::BodyExt as _;
    let mut body = body;
    let mut seen = 0u64;
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while seen < DRAIN_MAX {
            match body.frame().await {
                Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len() as u64),
                _ => break,
            }
        }
    })
    .await;
}

/// An answer after which the connection is closed (what was left of the body was drained).
fn closing(mut r: Response) -> Response {
    r.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
    r
}

fn too_large_response(limit_mb: u64) -> Response {
    closing(ApiError::too_large(limit_mb).into_response())
}

/// Reads a body of at most `limit` bytes; over it, drains the rest and gives `None`.
async fn read_limited(body: axum::body::Body, limit: usize) -> Option<axum::body::Bytes> {
    use http_body_util::BodyExt as _;
    let mut body = body;
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return None };
        if let Some(d) = frame.data_ref() {
            if buf.len() + d.len() > limit {
                drain(body).await;
                return None;
            }
            buf.extend_from_slice(d);
        }
    }
    Some(buf.into())
}

/// Bodies up to this size are read before the handler runs.
const SMALL_BODY: u64 = 1 << 20;

/// Uploads over the limit are refused before any handler runs: at once when the declared
/// `Content-Length` is over it, else (a chunked body) once the bytes read go over it. Small
/// bodies are read whole first, so that a handler answering without reading the body (a 401,
/// a 403, an action that takes no body) leaves the connection reusable: a client's next request
/// on it must not meet a closed connection.
async fn upload_limit(State(app): State<AppState>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let limit = app.cfg.max_upload_mb.saturating_mul(1024 * 1024);
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > limit => {
            // A wrong API key is still told so first (401 before 413).
            let (mut parts, body) = req.into_parts();
            let answer = match presented_key(&app, &parts.headers.clone(), &mut parts.extensions).await {
                Err(e) => e.into_response(),
                Ok(_) => ApiError::too_large(app.cfg.max_upload_mb).into_response(),
            };
            drain(body).await;
            closing(answer)
        }
        Some(n) if n > 0 && n <= SMALL_BODY => {
            let (parts, body) = req.into_parts();
            match read_limited(body, usize::try_from(n).unwrap_or(usize::MAX)).await {
                Some(bytes) => next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await,
                None => closing(ApiError::bad_request("the body is longer than its Content-Length").into_response()),
            }
        }
        None if req.headers().contains_key(header::TRANSFER_ENCODING) => {
            let (parts, body) = req.into_parts();
            match read_limited(body, usize::try_from(limit).unwrap_or(usize::MAX)).await {
                Some(bytes) => next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await,
                None => too_large_response(app.cfg.max_upload_mb),
            }
        }
        _ => next.run(req).await,
    }
}

/// `Idempotency-Key` on authenticated POSTs: the first request's answer is stored and
/// replayed for retries with the same key and the same request; the same key with another
/// request is refused; a retry while the first is still running gets 409.
async fn idempotency(State(app): State<AppState>, mut req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if req.method() != axum::http::Method::POST {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned) else {
        return next.run(req).await;
    };
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return ApiError::bad_request("Idempotency-Key must be 1 to 255 visible ASCII characters").into_response();
    }
    let headers = req.headers().clone();
    let org = match presented_key(&app, &headers, req.extensions_mut()).await {
        Ok(Some(k)) => k.org,
        Ok(None) => match super::session::session_actor(&app, req.method(), &headers).await {
            Ok(Some(actor)) => actor.org,
            // Unauthenticated POSTs (the signer's, keyed by their link) are scoped by the path.
            Ok(None) => "public".to_owned(),
            Err(e) => return e.into_response(),
        },
        Err(e) => return e.into_response(),
    };
    let limit = usize::try_from(app.cfg.max_upload_mb * 1024 * 1024).unwrap_or(usize::MAX);
    let (parts, body) = req.into_parts();
    let Some(bytes) = read_limited(body, limit).await else {
        return too_large_response(app.cfg.max_upload_mb);
    };
    // The fingerprint of the request: method, path, media type and body, with a multipart
    // boundary replaced by a fixed token, since clients draw a new boundary per attempt.
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_owned())
        .find(|b| !b.is_empty());
    let mut material = format!("{} {}\n{}\n", parts.method, parts.uri.path(), content_type.split(';').next().unwrap_or("")).into_bytes();
    match &boundary {
        Some(b) => material.extend_from_slice(&replace_all(&bytes, b.as_bytes(), b"\0boundary\0")),
        None => material.extend_from_slice(&bytes),
    }
    let request_hash = hex::encode(signet_pki::alg::sha256(&material));
    let scoped_key = format!("{} {}", parts.uri.path(), key);
    match app.store.claim_idempotency(&org, &scoped_key, &request_hash, now_ms()).await {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Some((hash, 0, _))) if hash == request_hash => {
            ApiError::new(StatusCode::CONFLICT, "idempotency_in_progress", "a request with this Idempotency-Key is still being processed; retry shortly").into_response()
        }
        Ok(Some((hash, status, body))) if hash == request_hash => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            (status, [(header::CONTENT_TYPE, "application/json"), (header::HeaderName::from_static("idempotent-replayed"), "true")], body).into_response()
        }
        Ok(Some(_)) => ApiError::invalid("this Idempotency-Key was used with a different request; use a new key").into_response(),
        Ok(None) => {
            let response = next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await;
            let (rparts, rbody) = response.into_parts();
            let body = axum::body::to_bytes(rbody, usize::MAX).await.unwrap_or_default();
            let status = rparts.status.as_u16();
            let stored = if rparts.status.is_server_error() { 0 } else { status };
            if let Err(e) = app.store.finish_idempotent(&org, &scoped_key, stored, &String::from_utf8_lossy(&body)).await {
                eprintln!("idempotency: the answer for a key was not stored: {e}");
            }
            Response::from_parts(rparts, axum::body::Body::from(body))
        }
    }
}

/// Every route of the server.
pub fn router(app: AppState) -> Router {
    let limit = usize::try_from(app.cfg.max_upload_mb * 1024 * 1024).unwrap_or(usize::MAX);
    let log_routes = signet_log::http::router(app.log.tiles(), &app.log.verifier().to_string());
    // OCSP also knows the certificates other servers of the deployment issued (in the database).
    let store = app.store.clone();
    let issued: crate::serve::IssuedLookup = Arc::new(move |serial: String| {
        let store = store.clone();
        Box::pin(async move { store.cert_issued(&serial).await.unwrap_or(false) })
    });
    let ca_routes = crate::serve::router_with(app.ca.clone(), crate::serve::Mount::Ca, Some(issued));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/ca/root.pem", get(root_pem))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/contracts", post(create_contract).get(list_contracts))
        .route("/api/v1/contracts/{id}", get(get_contract))
        .route("/api/v1/contracts/{id}/send", post(send_contract))
        .route("/api/v1/contracts/{id}/fields", post(set_contract_fields))
        .route("/api/v1/contracts/{id}/draft", post(edit_draft))
        .route("/api/v1/contracts/{id}/void", post(void_contract))
        .route("/api/v1/contracts/{id}/remind", post(remind_contract))
        .route("/api/v1/contracts/{id}/events", get(contract_events))
        .route("/api/v1/contracts/{id}/document", get(contract_document))
        .route("/api/v1/contracts/{id}/documents/{n}/pages/{page}", get(contract_page_image))
        .route("/api/v1/contracts/{id}/evidence", get(contract_evidence))
        .route("/api/v1/contracts/{id}/evidence-bundle", get(contract_bundle))
        .route("/api/v1/verify", post(verify_pdf))
        .route("/api/v1/signing/{token}", get(super::ceremony::view))
        .route("/api/v1/signing/{token}/document", get(super::ceremony::document))
        .route("/api/v1/signing/{token}/code", post(super::ceremony::send_code))
        .route("/api/v1/signing/{token}/sign", post(super::ceremony::sign))
        .route("/api/v1/signing/{token}/decline", post(super::ceremony::decline))
        .route("/api/v1/signing/{token}/evidence", get(super::ceremony::evidence))
        .route("/api/v1/signing/{token}/pages/{document}/{page}", get(super::ceremony::page_image))
        .route("/api/v1/signer", get(super::ceremony::view))
        .route("/api/v1/signer/document", get(super::ceremony::document))
        .route("/api/v1/signer/code", post(super::ceremony::send_code))
        .route("/api/v1/signer/sign", post(super::ceremony::sign))
        .route("/api/v1/signer/decline", post(super::ceremony::decline))
        .route("/api/v1/signer/evidence", get(super::ceremony::evidence))
        .route("/api/v1/signer/pages/{document}/{page}", get(super::ceremony::page_image))
        .route("/api/v1/session", post(super::session::sign_in).get(super::session::whoami))
        .route("/api/v1/session/logout", post(super::session::sign_out))
        .route("/api/v1/session/password", post(super::session::change_password))
        .route("/api/v1/session/totp/setup", post(super::session::totp_setup))
        .route("/api/v1/session/totp/confirm", post(super::session::totp_confirm))
        .route("/api/v1/session/totp/disable", post(super::session::totp_disable))
        .route("/s/{token}", get(super::session::open_signing_link))
        .route("/api/v1/outbox", get(outbox))
        .route("/api/v1/jobs", get(list_jobs))
        .route("/api/v1/members", post(add_member).get(list_members))
        .route("/api/v1/members/{user_id}/role", post(change_member_role))
        .route("/api/v1/members/{user_id}/remove", post(remove_member))
        .route("/api/v1/api-keys", post(create_api_key).get(list_api_keys))
        .route("/api/v1/api-keys/{id}/revoke", post(revoke_api_key))
        .layer(axum::middleware::from_fn_with_state(app.clone(), idempotency))
        .layer(axum::middleware::from_fn_with_state(app.clone(), client_address))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(app.clone(), upload_limit))
        .merge(super::web::router(app.clone()))
        .with_state(app)
        .nest("/log", log_routes)
        .nest("/ca", ca_routes)
}

// --- authentication -------------------------------------------------------------------------

/// The organisation member or API key behind a request.
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        app.metrics.requests.fetch_add(1, Ordering::Relaxed);
        if let Some(key) = presented_key(app, &parts.headers, &mut parts.extensions).await? {
            return Ok(Auth(Actor { org: key.org, principal: key.id, role: key.role }));
        }
        // A member's web session (the CSRF token checked on state changes).
        let actor = super::session::session_actor(app, &parts.method, &parts.headers).await?.ok_or_else(ApiError::unauthorized)?;
        Ok(Auth(actor))
    }
}

/// The outcome of looking up a request's API key, kept in its extensions so that the
/// idempotency layer and the handler's [`Auth`] look it up once between them.
#[derive(Clone)]
struct PresentedKey(Option<signet_store::ApiKey>);

/// The live API key a request presents as `Authorization: Bearer …`: `Ok(None)` without the
/// header, 401 for a key that is unknown or revoked.
async fn presented_key(app: &App, headers: &axum::http::HeaderMap, extensions: &mut axum::http::Extensions) -> ApiResult<Option<signet_store::ApiKey>> {
    if let Some(PresentedKey(key)) = extensions.get::<PresentedKey>() {
        return Ok(key.clone());
    }
    let Some(token) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim) else {
        extensions.insert(PresentedKey(None));
        return Ok(None);
    };
    let key = app.store.api_key_by_hash(&secret_hash(token)).await?.ok_or_else(ApiError::unauthorized)?;
    extensions.insert(PresentedKey(Some(key.clone())));
    Ok(Some(key))
}

// --- small endpoints ----------------------------------------------------------------------------

async fn healthz(State(app): State<AppState>) -> Response {
    match app.store.org("org_healthz_probe").await {
        // Which server sequences the evidence log (one at a time, by a lease in the journal).
        Ok(_) => Json(json!({"status": "ok", "log": {"sequencer": app.log.is_sequencer()}})).into_response(),
        Err(e) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", format!("the database does not answer: {e}")).into_response(),
    }
}

async fn metrics(State(app): State<AppState>) -> Response {
    let m = &app.metrics;
    let size = app.log.checkpoint().await.ok().flatten().map(|c| c.size).unwrap_or(0);
    let body = format!(
        "# HELP signet_api_requests_total Authenticated API requests.\n# TYPE signet_api_requests_total counter\nsignet_api_requests_total {}\n\
         # HELP signet_contracts_created_total Contracts created.\n# TYPE signet_contracts_created_total counter\nsignet_contracts_created_total {}\n\
         # HELP signet_contracts_sent_total Contracts sent.\n# TYPE signet_contracts_sent_total counter\nsignet_contracts_sent_total {}\n\
         # HELP signet_evidence_events_total Evidence events appended to the log.\n# TYPE signet_evidence_events_total counter\nsignet_evidence_events_total {}\n\
         # HELP signet_log_checkpoint_size Size of the evidence log's latest checkpoint.\n# TYPE signet_log_checkpoint_size gauge\nsignet_log_checkpoint_size {size}\n\
         # HELP signet_log_is_sequencer 1 while this server holds the evidence log's sequencer lease.\n# TYPE signet_log_is_sequencer gauge\nsignet_log_is_sequencer {}\n",
        m.requests.load(Ordering::Relaxed),
        m.contracts_created.load(Ordering::Relaxed),
        m.contracts_sent.load(Ordering::Relaxed),
        m.evidence_events.load(Ordering::Relaxed),
        u8::from(app.log.is_sequencer()),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// The OpenAPI 3.1 description of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn root_pem(State(app): State<AppState>) -> Response {
    match std::fs::read(app.cfg.data.join("ca").join("root.pem")) {
        Ok(pem) => ([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

// --- contract JSON ------------------------------------------------------------------------------

fn role_name(r: &RecipientRole) -> &'static str {
    match r {
        RecipientRole::Signer => "signer",
        RecipientRole::CompanySigner { .. } => "signer",
        RecipientRole::Copy => "cc",
        RecipientRole::Approver => "approver",
    }
}

/// A contract as a signer sees it (no other recipients' addresses).
pub fn contract_json_public(c: &Contract) -> Value {
    json!({
        "id": c.id,
        "number": c.number,
        "title": c.title,
        "status": c.status.as_str(),
        "deadline": c.deadline,
        "documents": c.documents.iter().enumerate().map(|(i, d)| json!({
            "document": i + 1, "name": d.name, "sha256": d.sha256, "pages": d.pages.len(),
            // Width and height of each page in points, to place fields over the page images.
            "page_sizes": d.pages.iter().map(|&(w, h)| [w, h]).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "signers": c.recipients.iter().filter(|r| r.signs()).map(|r| json!({"name": r.name, "order": r.order, "signed": r.status == signet_domain::contract::RecipientStatus::Signed})).collect::<Vec<_>>(),
    })
}

/// A contract as the API shows it.
pub fn contract_json(c: &Contract) -> Value {
    let by_id: BTreeMap<&str, &signet_domain::contract::Recipient> = c.recipients.iter().map(|r| (r.id.as_str(), r)).collect();
    json!({
        "id": c.id,
        "number": c.number,
        "title": c.title,
        "status": c.status.as_str(),
        "created_at": c.created_at,
        "sent_at": c.sent_at,
        "finished_at": c.finished_at,
        "deadline": c.deadline,
        "documents": c.documents.iter().map(|d| json!({
            "id": d.id, "name": d.name, "sha256": d.sha256, "pages": d.pages.len(),
            // Width and height of each page in points, to place fields over the page images.
            "page_sizes": d.pages.iter().map(|&(w, h)| [w, h]).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "recipients": c.recipients.iter().map(|r| json!({
            "id": r.id,
            "name": r.name,
            "email": r.email,
            "phone": r.phone,
            "role": role_name(&r.role),
            "company": match &r.role { RecipientRole::CompanySigner { company } => Some(company.as_str()), _ => None },
            "lang": r.lang,
            "order": r.order,
            "status": match r.status {
                signet_domain::contract::RecipientStatus::Waiting => "waiting",
                signet_domain::contract::RecipientStatus::Notified => "notified",
                signet_domain::contract::RecipientStatus::Signed => "signed",
                signet_domain::contract::RecipientStatus::Declined => "declined",
            },
            "done_at": r.done_at,
        })).collect::<Vec<_>>(),
        "fields": c.fields.iter().map(|f| json!({
            "id": f.id,
            "recipient": by_id.get(f.recipient.as_str()).and_then(|r| r.email.clone().or_else(|| r.phone.clone())),
            "recipient_id": f.recipient,
            "type": f.kind.as_str(),
            "document": f.document + 1,
            "page": f.page,
            "rect": f.rect,
            "value": f.value,
        })).collect::<Vec<_>>(),
    })
}

// --- evidence -----------------------------------------------------------------------------------

/// Appends stored events to the evidence log and records their leaf indices. The events are
/// already committed; a failure here leaves them without an index (reported, retried later).
pub async fn record_evidence(app: &App, c: &Contract, seqs: &[u64], events: &[ContractEvent]) {
    let subject = super::evidence::subject(c);
    for (seq, event) in seqs.iter().zip(events) {
        let entry = event.to_evidence(&c.org, &c.id, subject.as_deref());
        match app.log.append_event(&entry).await {
            Ok(index) => {
                app.metrics.evidence_events.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = app.store.set_log_index(&c.id, *seq, index).await {
                    eprintln!("evidence: contract {} event {seq} is leaf {index} but the index was not stored: {e}", c.id);
                }
            }
            Err(e) => eprintln!("evidence: contract {} event {seq} not appended to the log: {e}", c.id),
        }
    }
}

// --- create ---------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MetaRecipient {
    /// An existing recipient's id, when a draft is edited (`POST …/draft`); not at creation.
    #[serde(default)]
    id: Option<String>,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    #[serde(default = "default_role")]
    role: String,
    #[serde(default = "default_order")]
    order: u32,
    company: Option<String>,
    lang: Option<String>,
}

fn default_role() -> String {
    "signer".into()
}

fn default_order() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MetaField {
    recipient: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default = "default_document")]
    document: usize,
    page: Option<u32>,
    rect: Option<[f64; 4]>,
    /// Placement by text: the field goes right of this text (on `page` if given).
    keyword: Option<String>,
    /// Which occurrence of the keyword, from 1 (default 1).
    occurrence: Option<usize>,
    /// `[width, height]` for a field placed by keyword (default: by type).
    size: Option<[f64; 2]>,
    /// `[dx, dy]` moving a field placed by keyword.
    offset: Option<[f64; 2]>,
}

/// Where the `occurrence`-th (from 1) `keyword` is in a PDF (on `page` only, if given):
/// the page and the text's rectangle, or `None`.
fn find_keyword(bytes: &[u8], keyword: &str, page: Option<u32>, occurrence: usize) -> Result<Option<(u32, [f64; 4], [f64; 4])>, signet_pdf::PdfError> {
    let doc = signet_pdf::Document::open(&bytes)?;
    let hits = doc.find_text(page.map(|p| p as usize), keyword)?;
    let Some(hit) = occurrence.checked_sub(1).and_then(|i| hits.get(i)) else {
        return Ok(None);
    };
    let page_box = doc.page_box(hit.page)?;
    Ok(Some((u32::try_from(hit.page).unwrap_or(u32::MAX), hit.rect, page_box)))
}

/// The fields of a request (`metadata.fields`, or the body of `POST …/fields`) as the domain
/// takes them: documents count from 1, and a field placed by keyword is found in the text of
/// `documents` (each document's bytes, in order).
fn resolve_fields(metas: Vec<MetaField>, documents: &[&[u8]]) -> ApiResult<Vec<NewField>> {
    let mut fields = Vec::new();
    for (i, f) in metas.into_iter().enumerate() {
        let kind = FieldKind::parse(&f.kind).map_err(|e| ApiError::invalid(format!("fields[{i}].{e}")))?;
        let document = f.document.checked_sub(1).ok_or_else(|| ApiError::invalid(format!("fields[{i}].document: documents count from 1")))?;
        let (page, rect) = match (f.keyword.as_deref().map(str::trim), f.page, f.rect) {
            (Some(_), _, Some(_)) => return Err(ApiError::invalid(format!("fields[{i}]: give either rect or keyword, not both"))),
            (Some(""), _, None) => return Err(ApiError::invalid(format!("fields[{i}].keyword: the keyword is empty"))),
            (Some(keyword), page, None) => {
                let bytes = documents
                    .get(document)
                    .ok_or_else(|| ApiError::invalid(format!("fields[{i}].document: there are {} document(s)", documents.len())))?;
                let occurrence = f.occurrence.unwrap_or(1);
                if occurrence == 0 {
                    return Err(ApiError::invalid(format!("fields[{i}].occurrence: occurrences count from 1")));
                }
                let found = tokio::task::block_in_place(|| find_keyword(bytes, keyword, page, occurrence))
                    .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_pdf", format!("fields[{i}].keyword: the text of document {} cannot be searched: {e}", f.document)))?;
                let Some((page, anchor, page_box)) = found else {
                    let place = page.map(|p| format!(" on page {p}")).unwrap_or_default();
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "keyword_not_found",
                        format!("fields[{i}].keyword: {keyword:?} (occurrence {occurrence}) is not in the text of document {}{place}; check the spelling, or place the field by page and rect", f.document),
                    ));
                };
                let rect = signet_domain::contract::place_by_keyword(kind, anchor, page_box, f.size, f.offset).map_err(|e| ApiError::invalid(format!("fields[{i}].{e}")))?;
                (page, rect)
            }
            (None, Some(page), Some(rect)) => (page, rect),
            (None, ..) => return Err(ApiError::invalid(format!("fields[{i}]: give page (from 1) and rect [x1,y1,x2,y2] in PDF points, or a keyword to place it by"))),
        };
        fields.push(NewField { id: new_id("fld"), recipient: f.recipient, document, kind, page, rect });
    }
    Ok(fields)
}

fn default_document() -> usize {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    title: String,
    recipients: Vec<MetaRecipient>,
    #[serde(default)]
    fields: Vec<MetaField>,
    deadline: Option<Value>,
    #[serde(default)]
    send: bool,
}

/// A deadline as RFC 3339 text or milliseconds since 1970.
fn parse_deadline(v: &Value) -> ApiResult<u64> {
    match v {
        Value::Number(n) => n.as_u64().ok_or_else(|| ApiError::invalid("deadline: a number of milliseconds since 1970, or RFC 3339 text")),
        Value::String(s) => {
            let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .map_err(|_| ApiError::invalid(format!("deadline: {s:?} is not an RFC 3339 date-time such as 2026-12-31T18:00:00+08:00")))?;
            u64::try_from(t.unix_timestamp_nanos() / 1_000_000).map_err(|_| ApiError::invalid("deadline: before 1970"))
        }
        _ => Err(ApiError::invalid("deadline: a number of milliseconds since 1970, or RFC 3339 text")),
    }
}

/// Reads a PDF's pages, refusing what cannot be signed.
fn inspect_pdf(name: &str, bytes: &[u8]) -> ApiResult<Vec<(f64, f64)>> {
    if !bytes.starts_with(b"%PDF-") && !bytes.get(..1024).unwrap_or(bytes).windows(5).any(|w| w == b"%PDF-") {
        return Err(ApiError::unsupported(format!("{name} is not a PDF (no %PDF- header); upload PDF documents only")));
    }
    let doc = signet_pdf::Document::open(&bytes).map_err(|e| match e {
        signet_pdf::PdfError::Encrypted => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "encrypted_pdf", format!("{name}: {e}")),
        other => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_pdf", format!("{name} cannot be read as a PDF: {other}")),
    })?;
    let count = doc.page_count().map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_pdf", format!("{name}: {e}")))?;
    (1..=count)
        .map(|n| {
            let [x1, y1, x2, y2] = doc.page_box(n).map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_pdf", format!("{name}, page {n}: {e}")))?;
            Ok(((x2 - x1).abs(), (y2 - y1).abs()))
        })
        .collect()
}

fn multipart_error(e: axum::extract::multipart::MultipartError, limit_mb: u64) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(limit_mb)
    } else {
        ApiError::bad_request(format!("the multipart body cannot be read: {e}"))
    }
}

async fn create_contract(
    State(app): State<AppState>,
    Auth(actor): Auth,
    axum::Extension(from): axum::Extension<Client>,
    mut form: Multipart,
) -> ApiResult<Response> {
    let limit = app.cfg.max_upload_mb;
    let mut documents: Vec<(String, Vec<u8>)> = Vec::new();
    let mut metadata: Option<Metadata> = None;
    while let Some(part) = form.next_field().await.map_err(|e| multipart_error(e, limit))? {
        let name = part.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "document" => {
                let file = part.file_name().unwrap_or("document.pdf").to_owned();
                let bytes = part.bytes().await.map_err(|e| multipart_error(e, limit))?;
                documents.push((file, bytes.to_vec()));
            }
            "metadata" => {
                let bytes = part.bytes().await.map_err(|e| multipart_error(e, limit))?;
                let meta = serde_json::from_slice::<Metadata>(&bytes).map_err(|e| ApiError::invalid(format!("metadata: {e}")))?;
                metadata = Some(meta);
            }
            other => return Err(ApiError::bad_request(format!("unexpected part {other:?}: send `document` (PDF, one or more) and `metadata` (JSON)"))),
        }
    }
    let meta = metadata.ok_or_else(|| ApiError::bad_request("the `metadata` part (JSON) is missing"))?;
    if documents.is_empty() {
        return Err(ApiError::bad_request("no `document` part: attach at least one PDF"));
    }
    let contract_id = new_id("ct");
    let mut docs = Vec::new();
    for (name, bytes) in &documents {
        let pages = inspect_pdf(name, bytes)?;
        docs.push(Document { id: new_id("doc"), name: name.clone(), sha256: hex::encode(signet_pki::alg::sha256(bytes)), pages, signed_blob: None });
    }
    let recipients = new_recipients(meta.recipients, &[])?;
    let bytes: Vec<&[u8]> = documents.iter().map(|(_, b)| b.as_slice()).collect();
    let fields = resolve_fields(meta.fields, &bytes)?;
    let deadline = meta.deadline.as_ref().map(parse_deadline).transpose()?;
    let number = app.store.next_contract_number(&actor.org, "HT-").await?;
    let now = now_ms();
    let new = NewContract { id: contract_id.clone(), title: meta.title, number, documents: docs, recipients, fields, deadline };
    let (mut contract, created) = Contract::create(&actor, new, now)?;
    let mut events = vec![created];
    if meta.send {
        events.extend(contract.send(&actor, now)?);
    }
    stamp_origin(&mut events, &from);
    // Documents first, then the rows that name them; a failed commit removes the documents.
    let key = app.store.org_key(&actor.org).await.map_err(ApiError::internal)?;
    for (doc, (_, bytes)) in contract.documents.iter().zip(&documents) {
        if let Err(e) = app.blobs.put(&key, &actor.org, &contract.id, &format!("{}.pdf", doc.id), bytes).await {
            app.blobs.remove_contract(&actor.org, &contract.id).await;
            return Err(ApiError::internal(e));
        }
    }
    let now = now_ms();
    let jobs: Vec<_> = super::jobs::notify_job(&contract, &events, now).into_iter().collect();
    let seqs = match app.store.insert_contract_with_jobs(&contract, &events, &jobs, now).await {
        Ok(s) => s,
        Err(e) => {
            // Refused: the documents are orphans. Out of reach: the commit may have happened
            // (the answer was lost), so the documents stay — an orphan costs space, a missing
            // document would cost the contract.
            if !e.is_unavailable() {
                app.blobs.remove_contract(&actor.org, &contract.id).await;
            }
            return Err(e.into());
        }
    };
    app.metrics.contracts_created.fetch_add(1, Ordering::Relaxed);
    if meta.send {
        app.metrics.contracts_sent.fetch_add(1, Ordering::Relaxed);
    }
    if !jobs.is_empty() {
        super::jobs::wake();
    }
    record_evidence(&app, &contract, &seqs, &events).await;
    Ok((StatusCode::CREATED, Json(contract_json(&contract))).into_response())
}

/// The recipients as the API gives them, each with an id: its own `id` when that names one of
/// `existing` (a draft's recipients, kept with their fields), a new one otherwise.
fn new_recipients(given: Vec<MetaRecipient>, existing: &[signet_domain::contract::Recipient]) -> ApiResult<Vec<NewRecipient>> {
    let mut out: Vec<NewRecipient> = Vec::new();
    for (i, r) in given.into_iter().enumerate() {
        let role = match (r.role.as_str(), r.company) {
            ("signer", Some(company)) if !company.trim().is_empty() => RecipientRole::CompanySigner { company },
            ("signer", _) => RecipientRole::Signer,
            ("cc", _) => RecipientRole::Copy,
            ("approver", _) => RecipientRole::Approver,
            (other, _) => return Err(ApiError::invalid(format!("recipients[{i}].role: {other:?} is not a role; use signer, cc or approver"))),
        };
        let id = match r.id {
            None => new_id("rcp"),
            Some(id) if existing.iter().any(|e| e.id == id) => {
                if out.iter().any(|o| o.id == id) {
                    return Err(ApiError::invalid(format!("recipients[{i}].id: {id:?} is given twice")));
                }
                id
            }
            Some(id) => return Err(ApiError::invalid(format!("recipients[{i}].id: {id:?} is not a recipient of this draft; leave `id` out for a new recipient"))),
        };
        out.push(NewRecipient { id, name: r.name, email: r.email, phone: r.phone, role, order: r.order, lang: r.lang });
    }
    Ok(out)
}

/// Records where the sender acted from on the `created` and `sent` events.
fn stamp_origin(events: &mut [ContractEvent], from: &Client) {
    for e in events.iter_mut().filter(|e| matches!(e.kind, signet_domain::event::EventKind::Created | signet_domain::event::EventKind::FieldsSet | signet_domain::event::EventKind::DraftEdited | signet_domain::event::EventKind::Sent)) {
        e.data.insert("ip".into(), from.ip.clone());
        e.data.insert("user_agent".into(), from.user_agent.clone());
    }
}

// --- read -----------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    text: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

async fn list_contracts(State(app): State<AppState>, Auth(actor): Auth, Query(q): Query<ListQuery>) -> ApiResult<Json<Value>> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| ApiError::invalid(format!("status: {s:?} is not a status (draft, sent, in_progress, completed, declined, voided, expired)")))?),
    };
    let sender = (!actor.role.allows(signet_domain::org::Permission::AllContracts)).then(|| actor.principal.clone());
    let filter = ContractFilter { status, text: q.text.filter(|t| !t.trim().is_empty()), sender };
    let page = app.store.list_contracts(&actor.org, &filter, q.cursor.as_deref(), q.limit.unwrap_or(20)).await?;
    Ok(Json(json!({
        "items": page.items.iter().map(contract_json).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor,
        "unreadable": page.unreadable,
    })))
}

/// Loads a contract the actor may see (404 otherwise, whatever the reason).
async fn load(app: &App, actor: &Actor, id: &str) -> ApiResult<(Contract, u64)> {
    let (c, version) = app.store.contract(&actor.org, id).await?.ok_or_else(ApiError::not_found)?;
    c.check_visible(actor)?;
    Ok((c, version))
}

async fn get_contract(State(app): State<AppState>, Auth(actor): Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let (c, _) = load(&app, &actor, &id).await?;
    Ok(Json(contract_json(&c)))
}

async fn contract_events(State(app): State<AppState>, Auth(actor): Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let (c, _) = load(&app, &actor, &id).await?;
    let events = app.store.events(&actor.org, &id).await?;
    let items: Vec<Value> = events
        .iter()
        .map(|e| {
            let r = e.event.recipient.as_deref().and_then(|rid| c.recipients.iter().find(|r| r.id == rid));
            json!({
                "seq": e.seq,
                "type": e.event.kind.as_str(),
                "at": e.event.at,
                "actor": e.event.actor,
                "recipient": r.map(|r| r.id.clone()),
                "recipient_email": r.and_then(|r| r.email.clone()),
                "data": e.event.data,
                "log_index": e.log_index,
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize)]
struct DocQuery {
    document: Option<usize>,
}

async fn contract_document(State(app): State<AppState>, Auth(actor): Auth, Path(id): Path<String>, Query(q): Query<DocQuery>) -> ApiResult<Response> {
    let (c, _) = load(&app, &actor, &id).await?;
    document_response(&app, &c, q.document.unwrap_or(1)).await
}

/// `GET /api/v1/contracts/{id}/documents/{n}/pages/{page}.png?width=`: a page of the
/// contract's current PDF as a picture, for the members who may see the contract.
async fn contract_page_image(
    State(app): State<AppState>,
    Auth(actor): Auth,
    Path((id, n, page)): Path<(String, String, String)>,
    Query(q): Query<super::render::WidthQuery>,
) -> ApiResult<Response> {
    let (c, _) = load(&app, &actor, &id).await?;
    super::render::page_png(&app, &c, &n, &page, q.width()?).await
}

async fn contract_evidence(State(app): State<AppState>, Auth(actor): Auth, Path(id): Path<String>) -> ApiResult<Response> {
    let (c, _) = load(&app, &actor, &id).await?;
    let events = app.store.events(&actor.org, &id).await?;
    let pdf = super::evidence::report_pdf(&app, &c, &events).await.map_err(ApiError::internal)?;
    let disposition = format!("attachment; filename=\"{}-evidence.pdf\"", c.number);
    Ok(([(header::CONTENT_TYPE, "application/pdf".to_owned()), (header::CONTENT_DISPOSITION, disposition)], pdf).into_response())
}

async fn contract_bundle(State(app): State<AppState>, Auth(actor): Auth, Path(id): Path<String>) -> ApiResult<Response> {
    let (c, _) = load(&app, &actor, &id).await?;
    let events = app.store.events(&actor.org, &id).await?;
    let zip = super::evidence::bundle(&app, &c, &events).await.map_err(ApiError::internal)?;
    let disposition = format!("attachment; filename=\"{}-evidence.zip\"", c.number);
    Ok(([(header::CONTENT_TYPE, "application/zip".to_owned()), (header::CONTENT_DISPOSITION, disposition)], zip).into_response())
}

/// The newest version of document `n` (from 1) of a contract, as a PDF download.
pub async fn document_response(app: &App, c: &Contract, n: usize) -> ApiResult<Response> {
    let doc = n
        .checked_sub(1)
        .and_then(|i| c.documents.get(i))
        .ok_or_else(|| ApiError::invalid(format!("document: this contract has {} document(s), counted from 1", c.documents.len())))?;
    let key = app.store.org_key(&c.org).await.map_err(ApiError::internal)?;
    let bytes = super::ceremony::current_pdf(app, &key, c, &doc.id).await.map_err(ApiError::internal)?;
    let disposition = format!("attachment; filename=\"{}\"", doc.name.replace(['"', '\\', '\r', '\n'], "_"));
    Ok(([(header::CONTENT_TYPE, "application/pdf".to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response())
}

// --- members --------------------------------------------------------------------------------

fn member_json(u: &signet_store::User, role: signet_domain::org::Role) -> Value {
    json!({"user_id": u.id, "email": u.email, "name": u.name, "role": role.as_str()})
}

/// A member of the caller's organisation, or 404 (also for another organisation's users).
async fn member(app: &App, actor: &Actor, user_id: &str) -> ApiResult<(signet_store::User, signet_domain::org::Role, usize)> {
    let members = app.store.members(&actor.org).await?;
    let owners = members.iter().filter(|(_, r)| *r == signet_domain::org::Role::Owner).count();
    let (u, r) = members.into_iter().find(|(u, _)| u.id == user_id).ok_or_else(ApiError::not_found)?;
    Ok((u, r, owners))
}

/// `GET /api/v1/members`: the organisation's members and their roles.
async fn list_members(State(app): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    actor.require(signet_domain::org::Permission::ManageMembers, "managing members")?;
    let members = app.store.members(&actor.org).await?;
    Ok(Json(json!({ "items": members.iter().map(|(u, r)| member_json(u, *r)).collect::<Vec<_>>() })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMemberBody {
    email: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default = "default_member_role")]
    role: String,
}

fn default_member_role() -> String {
    "sender".into()
}

/// `POST /api/v1/members`: adds a member; a new user gets a first password, shown once.
async fn add_member(State(app): State<AppState>, Auth(actor): Auth, Json(body): Json<NewMemberBody>) -> ApiResult<Response> {
    let role = signet_domain::org::Role::parse(&body.role).map_err(ApiError::from)?;
    signet_domain::org::check_new_member(&actor, role)?;
    let email = body.email.trim().to_lowercase();
    let valid_email = email.len() <= 254 && email.split_once('@').is_some_and(|(a, d)| !a.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')) && !email.chars().any(char::is_whitespace);
    if !valid_email {
        return Err(ApiError::invalid("email: give the member's email address, like name@example.com"));
    }
    let name = body.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or(&email).to_owned();
    if name.chars().count() > 100 {
        return Err(ApiError::invalid("name: at most 100 characters"));
    }
    let existing = app.store.user_by_email(&email).await?;
    if let Some(u) = &existing {
        if app.store.role(&actor.org, &u.id).await?.is_some() {
            return Err(ApiError::new(StatusCode::CONFLICT, "already_member", format!("{email} is already a member; change their role instead")));
        }
    }
    let (user, password) = match existing {
        Some(u) => (u, None),
        None => {
            let password = super::new_secret().map_err(ApiError::internal)?;
            let hash = tokio::task::block_in_place(|| super::init::hash_password(&password)).map_err(ApiError::internal)?;
            (signet_store::User { id: new_id("usr"), email: email.clone(), name, password_hash: hash }, Some(password))
        }
    };
    let user_id = app.store.set_member(&actor.org, &user, role, now_ms()).await?;
    let user = signet_store::User { id: user_id, ..user };
    let mut out = member_json(&user, role);
    if let Some(p) = password {
        out["initial_password"] = Value::String(p);
    }
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    role: String,
}

/// `POST /api/v1/members/{user_id}/role`: changes a member's role.
async fn change_member_role(State(app): State<AppState>, Auth(actor): Auth, Path(user_id): Path<String>, Json(body): Json<RoleBody>) -> ApiResult<Json<Value>> {
    actor.require(signet_domain::org::Permission::ManageMembers, "managing members")?;
    let to = signet_domain::org::Role::parse(&body.role).map_err(ApiError::from)?;
    let (user, from, owners) = member(&app, &actor, &user_id).await?;
    signet_domain::org::check_role_change(&actor, &user.id, from, to, owners)?;
    if to < actor.role {
        return Err(ApiError::from(signet_domain::DomainError::Forbidden("giving a member more power than your own")));
    }
    app.store.set_member(&actor.org, &user, to, now_ms()).await?;
    Ok(Json(member_json(&user, to)))
}

/// `POST /api/v1/members/{user_id}/remove`: removes a member from the organisation.
async fn remove_member(State(app): State<AppState>, Auth(actor): Auth, Path(user_id): Path<String>) -> ApiResult<Json<Value>> {
    actor.require(signet_domain::org::Permission::ManageMembers, "managing members")?;
    let (user, role, owners) = member(&app, &actor, &user_id).await?;
    signet_domain::org::check_member_removal(&actor, &user.id, role, owners)?;
    if !app.store.remove_member(&actor.org, &user.id).await? {
        return Err(ApiError::not_found());
    }
    Ok(Json(json!({"user_id": user.id, "removed": true})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKeyBody {
    name: String,
    #[serde(default = "default_key_role")]
    role: String,
}

fn default_key_role() -> String {
    "sender".into()
}

fn api_key_json(k: &signet_store::ApiKey) -> Value {
    json!({"id": k.id, "name": k.name, "role": k.role.as_str(), "created_at": k.created_at, "revoked_at": k.revoked_at})
}

/// `POST /api/v1/api-keys`: a new key of the caller's organisation, its secret shown once.
async fn create_api_key(State(app): State<AppState>, Auth(actor): Auth, Json(body): Json<NewKeyBody>) -> ApiResult<Response> {
    actor.require(signet_domain::org::Permission::ManageApiKeys, "managing API keys")?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("name: give the key a name of 1 to 100 characters"));
    }
    let role = signet_domain::org::Role::parse(&body.role).map_err(ApiError::from)?;
    if role < actor.role {
        return Err(ApiError::from(signet_domain::DomainError::Forbidden("giving a key more power than your own")));
    }
    let secret = format!("sk_{}", super::new_secret().map_err(ApiError::internal)?);
    let key = signet_store::ApiKey { id: new_id("key"), org: actor.org.clone(), name: name.to_owned(), role, created_at: now_ms(), revoked_at: None };
    app.store.create_api_key(&key, &secret_hash(&secret)).await?;
    let mut out = api_key_json(&key);
    out["key"] = Value::String(secret);
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// `GET /api/v1/api-keys`: the organisation's keys (never their secrets).
async fn list_api_keys(State(app): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    actor.require(signet_domain::org::Permission::ManageApiKeys, "managing API keys")?;
    let keys = app.store.api_keys(&actor.org).await?;
    Ok(Json(json!({ "items": keys.iter().map(api_key_json).collect::<Vec<_>>() })))
}

/// `POST /api/v1/api-keys/{id}/revoke`.
async fn revoke_api_key(State(app): State<AppState>, Auth(actor): Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    actor.require(signet_domain::org::Permission::ManageApiKeys, "managing API keys")?;
    if !app.store.revoke_api_key(&actor.org, &id, now_ms()).await? {
        return Err(ApiError::not_found());
    }
    Ok(Json(json!({ "id": id, "revoked": true })))
}

#[derive(Deserialize)]
struct OutboxQuery {
    channel: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/outbox`: messages kept for administrators (the embedded SMS gateway).
async fn outbox(State(app): State<AppState>, Auth(actor): Auth, Query(q): Query<OutboxQuery>) -> ApiResult<Json<Value>> {
    actor.require(signet_domain::org::Permission::ManageApiKeys, "reading the outbox")?;
    let items = app.store.outbox(&actor.org, q.channel.as_deref().filter(|c| !c.is_empty()), q.limit.unwrap_or(50)).await?;
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize)]
struct JobsQuery {
    state: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// A job as the API shows it (not its payload, which only the worker reads; a `notify` job's
/// contract is named).
fn job_json(j: &signet_store::Job) -> Value {
    let contract = if j.kind == super::jobs::NOTIFY {
        serde_json::from_str::<super::jobs::NotifyPayload>(&j.payload).ok().map(|p| p.contract)
    } else {
        None
    };
    json!({
        "id": j.id,
        "kind": j.kind,
        "organisation": j.org_id,
        "contract": contract,
        "state": j.state.as_str(),
        "attempts": j.attempts,
        "run_at": j.run_at,
        "locked_until": j.locked_until,
        "last_error": j.last_error,
        "created_at": j.created_at,
        "finished_at": j.finished_at,
    })
}

/// `GET /api/v1/jobs?state=&cursor=&limit=`: the background jobs of the caller's organisation
/// and the deployment-wide ones, newest first, with the count of each state; administrators
/// and owners only.
async fn list_jobs(State(app): State<AppState>, Auth(actor): Auth, Query(q): Query<JobsQuery>) -> ApiResult<Json<Value>> {
    actor.require(signet_domain::org::Permission::ManageMembers, "reading the background jobs")?;
    let state = match q.state.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(signet_store::JobState::parse(s).ok_or_else(|| ApiError::invalid(format!("state: {s:?} is not queued, running, done or failed")))?),
    };
    let page = app.store.list_jobs(&actor.org, state, q.cursor.as_deref().filter(|c| !c.is_empty()), q.limit.unwrap_or(50)).await?;
    Ok(Json(json!({
        "items": page.items.iter().map(job_json).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor,
        "counts": page.counts,
    })))
}

// --- state changes ----------------------------------------------------------------------------------

async fn save(app: &App, c: &Contract, version: u64, events: &[ContractEvent]) -> ApiResult<()> {
    Ok(commit(app, c, version, events).await?)
}

/// Stores a change of `c` (still at `version`) with its events and, in the same transaction,
/// the `notify` job for the messages they call for (sent by a worker of any server); then
/// appends the events to the evidence log.
async fn commit(app: &App, c: &Contract, version: u64, events: &[ContractEvent]) -> Result<(), signet_store::StoreError> {
    let now = now_ms();
    let jobs: Vec<_> = super::jobs::notify_job(c, events, now).into_iter().collect();
    let seqs = app.store.update_contract_with_jobs(c, version, events, now, &jobs).await?;
    if !jobs.is_empty() {
        super::jobs::wake();
    }
    record_evidence(app, c, &seqs, events).await;
    Ok(())
}

async fn send_contract(
    State(app): State<AppState>,
    Auth(actor): Auth,
    axum::Extension(from): axum::Extension<Client>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (mut c, version) = load(&app, &actor, &id).await?;
    let mut events = c.send(&actor, now_ms())?;
    stamp_origin(&mut events, &from);
    save(&app, &c, version, &events).await?;
    app.metrics.contracts_sent.fetch_add(1, Ordering::Relaxed);
    Ok(Json(contract_json(&c)))
}

/// A JSON request body, or 422 `invalid_input` saying what in it is wrong.
fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("body: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldsBody {
    fields: Vec<MetaField>,
}

/// `POST /api/v1/contracts/{id}/fields`: replaces a draft's fields (the web page's placement).
async fn set_contract_fields(
    State(app): State<AppState>,
    Auth(actor): Auth,
    axum::Extension(from): axum::Extension<Client>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body: FieldsBody = json_body(&body)?;
    let (mut c, version) = load(&app, &actor, &id).await?;
    // Say "wrong state" before reading documents for keywords that could not be used anyway.
    if c.status != Status::Draft {
        c.set_fields(&actor, Vec::new(), now_ms())?;
    }
    let mut stored = Vec::new();
    if body.fields.iter().any(|f| f.keyword.is_some()) {
        let key = app.store.org_key(&actor.org).await.map_err(ApiError::internal)?;
        for d in &c.documents {
            stored.push(super::ceremony::current_pdf(&app, &key, &c, &d.id).await.map_err(ApiError::internal)?);
        }
    }
    let bytes: Vec<&[u8]> = stored.iter().map(Vec::as_slice).collect();
    let fields = resolve_fields(body.fields, &bytes)?;
    let mut event = [c.set_fields(&actor, fields, now_ms())?];
    stamp_origin(&mut event, &from);
    save(&app, &c, version, &event).await?;
    Ok(Json(contract_json(&c)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftBody {
    title: String,
    recipients: Vec<MetaRecipient>,
    deadline: Option<Value>,
}

/// Changes a draft's title, deadline (absent or null: none) and recipients; recipients given
/// with their `id` keep it and their fields.
async fn edit_draft(
    State(app): State<AppState>,
    Auth(actor): Auth,
    axum::Extension(from): axum::Extension<Client>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body: DraftBody = json_body(&body)?;
    let (mut c, version) = load(&app, &actor, &id).await?;
    let recipients = new_recipients(body.recipients, &c.recipients)?;
    let deadline = body.deadline.as_ref().filter(|v| !v.is_null()).map(parse_deadline).transpose()?;
    let edit = signet_domain::contract::DraftEdit { title: body.title, deadline, recipients };
    let mut event = [c.edit_draft(&actor, edit, now_ms())?];
    stamp_origin(&mut event, &from);
    save(&app, &c, version, &event).await?;
    Ok(Json(contract_json(&c)))
}

#[derive(Deserialize, Default)]
struct VoidBody {
    #[serde(default)]
    reason: String,
}

async fn void_contract(State(app): State<AppState>, Auth(actor): Auth, Path(id): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    let body: VoidBody = if body.is_empty() { VoidBody::default() } else { json_body(&body)? };
    let (mut c, version) = load(&app, &actor, &id).await?;
    let event = c.void(&actor, &body.reason, now_ms())?;
    save(&app, &c, version, &[event]).await?;
    Ok(Json(contract_json(&c)))
}

async fn remind_contract(State(app): State<AppState>, Auth(actor): Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let (c, version) = load(&app, &actor, &id).await?;
    let events = c.remind(&actor, now_ms())?;
    save(&app, &c, version, &events).await?;
    Ok(Json(json!({ "reminded": events.iter().filter_map(|e| e.recipient.clone()).collect::<Vec<_>>() })))
}

// --- verification -----------------------------------------------------------------------------------

async fn verify_pdf(State(app): State<AppState>, req: axum::extract::Request) -> ApiResult<Json<Value>> {
    use axum::extract::FromRequest as _;
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let limit_mb = app.cfg.max_upload_mb;
    let limit = usize::try_from(limit_mb * 1024 * 1024).unwrap_or(usize::MAX);
    let (name, bytes) = if ct.starts_with("multipart/form-data") {
        // A browser form: the PDF is the `file` (or `document`) part.
        let mut form = Multipart::from_request(req, &app).await.map_err(|e| ApiError::bad_request(format!("the multipart body cannot be read: {e}")))?;
        let mut found = None;
        while let Some(part) = form.next_field().await.map_err(|e| multipart_error(e, limit_mb))? {
            if matches!(part.name(), Some("file" | "document")) {
                let name = part.file_name().unwrap_or("upload.pdf").to_owned();
                found = Some((name, part.bytes().await.map_err(|e| multipart_error(e, limit_mb))?));
                break;
            }
        }
        found.ok_or_else(|| ApiError::bad_request("no `file` part: attach the PDF to verify as the `file` part"))?
    } else if ct.is_empty() || ct.starts_with("application/pdf") || ct.starts_with("application/octet-stream") {
        let body = axum::body::to_bytes(req.into_body(), limit).await.map_err(|_| ApiError::too_large(limit_mb))?;
        ("upload.pdf".to_owned(), body)
    } else {
        return Err(ApiError::unsupported("send the PDF as the request body with Content-Type: application/pdf, or as the `file` part of multipart/form-data"));
    };
    if bytes.is_empty() {
        return Err(ApiError::invalid("the upload is empty: send a PDF"));
    }
    let root = signet_pki::pem::certs_from_pem_or_der(&std::fs::read(app.cfg.data.join("ca").join("root.pem")).map_err(ApiError::internal)?)
        .map_err(ApiError::internal)?;
    let opts = signet_verify::Options { trust_anchors: root, now: std::time::SystemTime::now(), online: None };
    let bytes = bytes.to_vec();
    let report = tokio::task::spawn_blocking(move || signet_verify::verify(&bytes, &opts)).await.map_err(ApiError::internal)?;
    match report {
        Ok(r) => Ok(Json(serde_json::to_value(r.v1(&name)).map_err(ApiError::internal)?)),
        Err(signet_verify::VerifyError::NotPdf(why)) => Err(ApiError::unsupported(format!("not a PDF: {why}"))),
        Err(e) => Err(ApiError::invalid(format!("the file cannot be verified: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_describes_every_route() {
        let spec: Value = serde_json::from_str(OPENAPI).unwrap();
        assert_eq!(spec["openapi"], "3.1.0");
        let src = include_str!("api.rs");
        let routes: Vec<&str> = src
            .lines()
            .filter_map(|l| l.trim().strip_prefix(".route(\""))
            .filter_map(|l| l.split('"').next())
            .collect();
        assert!(routes.len() >= 15, "{routes:?}");
        for r in routes {
            assert!(spec["paths"].get(r).is_some(), "{r} is not in openapi.json");
        }
    }

    #[test]
    fn deadlines_parse_as_rfc3339_or_milliseconds() {
        assert_eq!(parse_deadline(&json!(1_764_300_000_000u64)).unwrap(), 1_764_300_000_000);
        assert_eq!(parse_deadline(&json!("2025-11-28T03:20:00Z")).unwrap(), 1_764_300_000_000);
        assert_eq!(parse_deadline(&json!("2025-11-28T11:20:00+08:00")).unwrap(), 1_764_300_000_000);
        for bad in [json!("tomorrow"), json!(-1), json!(true)] {
            assert_eq!(parse_deadline(&bad).unwrap_err().code, "invalid_input");
        }
    }
}
