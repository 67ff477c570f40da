//! Web sessions: members signing in with their password (and a TOTP second factor once they
//! turn it on), and signers whose capability link is exchanged for a session on first open, so
//! that no secret stays in the address bar.
//!
//! A session is a random 256-bit secret in an `HttpOnly`, `SameSite=Lax` cookie (`Secure` when
//! the public URL is `https`); the database keeps only its SHA-256. Every state-changing request
//! made with a session must carry the session's CSRF token in `X-CSRF-Token` and, when the
//! browser sends one, an `Origin` equal to the public URL's. Failed sign-ins are limited per
//! address and per account. What this module does not do: pages (see `web`), API keys (`api`).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use signet_domain::org::Actor;
use signet_store::Session;

use super::api::{AppState, Client};
use super::error::{ApiError, ApiResult};
use super::ceremony::ct_eq;
use super::{App, new_secret, now_ms, secret_hash};

/// The member's session cookie.
pub const SESSION_COOKIE: &str = "signet_session";
/// The signer's session cookie.
pub const SIGNER_COOKIE: &str = "signet_signer";
/// How long a member's session lasts.
pub const USER_TTL_MS: u64 = 12 * 3600 * 1000;
/// How long a signer's session lasts (never beyond their link).
pub const SIGNER_TTL_MS: u64 = 2 * 3600 * 1000;
/// Failed sign-ins allowed per account, and per client address, in [`LIMIT_WINDOW_MS`].
pub const FAILURES_PER_ACCOUNT: u64 = 10;
/// See [`FAILURES_PER_ACCOUNT`].
pub const FAILURES_PER_ADDRESS: u64 = 30;
/// The window of the sign-in limits.
pub const LIMIT_WINDOW_MS: u64 = 15 * 60 * 1000;
/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

/// The throttle key of an account or an address: a hash, so the table holds no email or IP.
fn throttle_key(kind: &str, value: &str) -> String {
    hex::encode(signet_pki::alg::sha256(format!("signet-throttle/{kind}:{value}").as_bytes()))
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

fn set_cookie(app: &App, name: &str, value: &str, max_age_s: u64) -> HeaderValue {
    let secure = if app.cfg.public_url.starts_with("https://") { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("signet_invalid=1"))
}

/// A new session; returns its cookie's secret.
async fn open_session(app: &App, s: &Session) -> ApiResult<String> {
    let secret = new_secret().map_err(ApiError::internal)?;
    app.store.put_session(&secret_hash(&secret), s).await?;
    Ok(secret)
}

/// The live session behind cookie `name`, with its id hash.
async fn current(app: &App, headers: &HeaderMap, name: &str) -> ApiResult<Option<(String, Session)>> {
    let Some(secret) = cookie(headers, name).filter(|s| !s.is_empty()) else { return Ok(None) };
    let hash = secret_hash(secret);
    Ok(app.store.session(&hash, now_ms()).await?.map(|s| (hash, s)))
}

/// `scheme://host[:port]` of a URL (what browsers send as `Origin`).
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// For a state-changing request made with a session: the CSRF token must match, and the
/// browser's `Origin`, when sent, must be ours.
fn check_csrf(app: &App, method: &Method, headers: &HeaderMap, s: &Session) -> ApiResult<()> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    // The page's origin is ours: the public URL's, or the host the browser asked for (the same
    // server reached as localhost, or by another name).
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_ok = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|o| o == origin_of(&app.cfg.public_url) || (host.is_some() && o.split_once("://").map(|(_, h)| h) == host));
    let token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !origin_ok || !ct_eq(token.as_bytes(), s.csrf.as_bytes()) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "csrf", "this request lacks the page's X-CSRF-Token (or comes from another site); reload the page and try again"));
    }
    Ok(())
}

/// The member acting through a session cookie, if any: `Ok(None)` without the cookie; 401
/// when it is unknown, expired, or its member left the organisation; 403 without the CSRF
/// token on a state-changing request.
pub async fn session_actor(app: &App, method: &Method, headers: &HeaderMap) -> ApiResult<Option<Actor>> {
    if cookie(headers, SESSION_COOKIE).is_none() {
        return Ok(None);
    }
    let (_, s) = current(app, headers, SESSION_COOKIE).await?.ok_or_else(session_expired)?;
    let (Some(user), Some(org)) = (s.user_id.as_deref(), s.org_id.as_deref()) else { return Err(session_expired()) };
    if s.kind != "user" {
        return Err(session_expired());
    }
    check_csrf(app, method, headers, &s)?;
    let role = app.store.role(org, user).await?.ok_or_else(session_expired)?;
    Ok(Some(Actor { org: org.to_owned(), principal: user.to_owned(), role }))
}

fn session_expired() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "your session has ended; sign in again")
}

// --- signing in ---------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    email: String,
    password: String,
    /// The TOTP code, for members who turned the second factor on.
    totp_code: Option<String>,
    /// Which organisation to act in, for members of several (default: the first joined).
    org_id: Option<String>,
}

/// What a session looks like to its pages.
async fn session_json(app: &App, user_id: &str, org_id: &str, csrf: &str, expires_at: u64) -> ApiResult<Value> {
    let user = app.store.user(user_id).await?.ok_or_else(session_expired)?;
    let mut orgs = Vec::new();
    let mut role = None;
    for (org, r) in app.store.memberships(user_id).await? {
        let name = app.store.org(&org).await?.map(|(n, _)| n).unwrap_or_default();
        if org == org_id {
            role = Some(r);
        }
        orgs.push(json!({"org_id": org, "name": name, "role": r.as_str()}));
    }
    let role = role.ok_or_else(session_expired)?;
    let (totp, _) = app.store.totp(user_id).await?;
    Ok(json!({
        "user": {"id": user.id, "email": user.email, "name": user.name, "totp": totp.is_some()},
        "org_id": org_id,
        "role": role.as_str(),
        "organisations": orgs,
        "csrf_token": csrf,
        "expires_at": expires_at,
    }))
}

fn verify_password(hash: &str, password: &str) -> bool {
    use argon2::PasswordVerifier as _;
    argon2::PasswordHash::new(hash).is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash to verify against when the account does not exist, so that the answer takes as long.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| super::init::hash_password("signet-decoy-password").unwrap_or_default())
}

/// `POST /api/v1/session`: signs a member in; the session is in the `signet_session` cookie.
pub async fn sign_in(State(app): State<AppState>, axum::Extension(from): axum::Extension<Client>, Json(body): Json<SignInBody>) -> ApiResult<Response> {
    let now = now_ms();
    let email = body.email.trim().to_lowercase();
    let (by_account, by_address) = (throttle_key("account", &email), throttle_key("address", &from.ip));
    let blocked = app.store.throttle_count(&by_account, now, LIMIT_WINDOW_MS).await? >= FAILURES_PER_ACCOUNT
        || app.store.throttle_count(&by_address, now, LIMIT_WINDOW_MS).await? >= FAILURES_PER_ADDRESS;
    if blocked {
        return Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many failed sign-ins; wait 15 minutes and try again"));
    }
    let user = app.store.user_by_email(&email).await?;
    let hash = user.as_ref().map_or_else(|| decoy_hash().to_owned(), |u| u.password_hash.clone());
    let password = body.password.clone();
    let ok = tokio::task::block_in_place(|| verify_password(&hash, &password));
    let Some(user) = user.filter(|_| ok) else {
        app.store.throttle_fail(&by_account, now, LIMIT_WINDOW_MS).await?;
        app.store.throttle_fail(&by_address, now, LIMIT_WINDOW_MS).await?;
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "the email or the password is wrong"));
    };
    let (totp, _) = app.store.totp(&user.id).await?;
    if let Some(sealed) = totp {
        let Some(code) = body.totp_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) else {
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, "second_factor_required", "enter the 6-digit code from your authenticator app"));
        };
        if !totp_matches(&app, &user.id, &sealed, code, now).await? {
            app.store.throttle_fail(&by_account, now, LIMIT_WINDOW_MS).await?;
            app.store.throttle_fail(&by_address, now, LIMIT_WINDOW_MS).await?;
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, "wrong_code", "the authenticator code is wrong or too old; enter the current one"));
        }
    }
    let memberships = app.store.memberships(&user.id).await?;
    let org = match &body.org_id {
        Some(want) => memberships.iter().find(|(o, _)| o == want).map(|(o, _)| o.clone()).ok_or_else(ApiError::not_found)?,
        None => memberships.first().map(|(o, _)| o.clone()).ok_or_else(|| ApiError::new(StatusCode::FORBIDDEN, "forbidden", "this account belongs to no organisation any more"))?,
    };
    app.store.throttle_clear(&by_account).await?;
    let csrf = new_secret().map_err(ApiError::internal)?;
    let s = Session { kind: "user".into(), user_id: Some(user.id.clone()), org_id: Some(org.clone()), link_hash: None, csrf: csrf.clone(), created_at: now, expires_at: now + USER_TTL_MS };
    let secret = open_session(&app, &s).await?;
    let out = session_json(&app, &user.id, &org, &csrf, s.expires_at).await?;
    let mut r = (StatusCode::CREATED, Json(out)).into_response();
    r.headers_mut().append(header::SET_COOKIE, set_cookie(&app, SESSION_COOKIE, &secret, USER_TTL_MS / 1000));
    Ok(r)
}

/// `GET /api/v1/session`: the signed-in member, their organisation and role, and the CSRF
/// token their pages send back.
pub async fn whoami(State(app): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    let (_, s) = current(&app, &headers, SESSION_COOKIE).await?.filter(|(_, s)| s.kind == "user").ok_or_else(session_expired)?;
    let (Some(user), Some(org)) = (s.user_id.as_deref(), s.org_id.as_deref()) else { return Err(session_expired()) };
    Ok(Json(session_json(&app, user, org, &s.csrf, s.expires_at).await?))
}

/// `POST /api/v1/session/logout`: ends the session and clears the cookie.
pub async fn sign_out(State(app): State<AppState>, method: Method, headers: HeaderMap) -> ApiResult<Response> {
    if let Some((hash, s)) = current(&app, &headers, SESSION_COOKIE).await? {
        check_csrf(&app, &method, &headers, &s)?;
        app.store.delete_session(&hash).await?;
    }
    let mut r = Json(json!({"signed_out": true})).into_response();
    r.headers_mut().append(header::SET_COOKIE, set_cookie(&app, SESSION_COOKIE, "", 0));
    Ok(r)
}

/// The signed-in member behind a state-changing session request (CSRF checked).
async fn member(app: &App, method: &Method, headers: &HeaderMap) -> ApiResult<(String, Session)> {
    let (hash, s) = current(app, headers, SESSION_COOKIE).await?.filter(|(_, s)| s.kind == "user").ok_or_else(session_expired)?;
    check_csrf(app, method, headers, &s)?;
    Ok((hash, s))
}

// --- the second factor ------------------------------------------------------------------------

pub(crate) fn totp_context(user_id: &str) -> Vec<u8> {
    format!("signet-totp/{user_id}").into_bytes()
}

/// RFC 6238 with SHA-1, 6 digits, 30-second steps, one step of skew either way.
fn totp_of(secret: &[u8]) -> ApiResult<totp_rs::Totp> {
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret.to_vec())
        .build()
        .map_err(|e| ApiError::internal(format!("TOTP: {e}")))
}

/// Whether `code` is the member's current TOTP code; each time step is accepted once (on any
/// server: the last accepted step is in the database).
async fn totp_matches(app: &App, user_id: &str, sealed: &[u8], code: &str, now: u64) -> ApiResult<bool> {
    let secret = app.keyring.open_secret(sealed, &totp_context(user_id)).map_err(ApiError::internal)?;
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    let Some(step) = totp_of(&secret)?.check(code, now / 1000) else { return Ok(false) };
    Ok(app.store.use_totp_step(user_id, step).await?)
}

/// RFC 4648 base32 without padding (what authenticator apps read).
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut acc, mut bits) = (0u32, 0);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

/// `POST /api/v1/session/totp/setup`: a new TOTP secret for the member, to confirm with a
/// first code; the answer carries it as base32 and as an `otpauth://` URI (shown once).
pub async fn totp_setup(State(app): State<AppState>, method: Method, headers: HeaderMap) -> ApiResult<Json<Value>> {
    let (_, s) = member(&app, &method, &headers).await?;
    let user_id = s.user_id.clone().unwrap_or_default();
    let user = app.store.user(&user_id).await?.ok_or_else(session_expired)?;
    let mut secret = signet_vault::Zeroizing::new(vec![0u8; 20]);
    signet_pki::Rng::fill(&mut signet_pki::SystemRng, &mut secret).map_err(ApiError::internal)?;
    let sealed = app.keyring.seal_secret(&secret, &totp_context(&user_id)).map_err(ApiError::internal)?;
    let (active, _) = app.store.totp(&user_id).await?;
    app.store.set_totp(&user_id, active.as_deref(), Some(&sealed)).await?;
    let b32 = base32(&secret);
    let label: String = user.email.chars().filter(|c| c.is_ascii_alphanumeric() || "@.-_+".contains(*c)).collect();
    Ok(Json(json!({
        "secret": b32,
        "otpauth_uri": format!("otpauth://totp/Signet:{label}?secret={b32}&issuer=Signet&algorithm=SHA1&digits=6&period=30"),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotpBody {
    code: String,
}

/// `POST /api/v1/session/totp/confirm`: turns the second factor on with a first code.
pub async fn totp_confirm(State(app): State<AppState>, method: Method, headers: HeaderMap, Json(body): Json<TotpBody>) -> ApiResult<Json<Value>> {
    let (hash, s) = member(&app, &method, &headers).await?;
    let user_id = s.user_id.clone().unwrap_or_default();
    let (_, pending) = app.store.totp(&user_id).await?;
    let pending = pending.ok_or_else(|| ApiError::new(StatusCode::CONFLICT, "wrong_state", "start the set-up first (POST /api/v1/session/totp/setup)"))?;
    if !totp_matches(&app, &user_id, &pending, body.code.trim(), now_ms()).await? {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "wrong_code", "the authenticator code is wrong or too old; enter the current one"));
    }
    app.store.set_totp(&user_id, Some(&pending), None).await?;
    // Other sessions were opened without the second factor: they end.
    end_other_sessions(&app, &user_id, &hash, &s).await?;
    Ok(Json(json!({"totp": true})))
}

/// `POST /api/v1/session/totp/disable`: turns the second factor off (needs a current code).
pub async fn totp_disable(State(app): State<AppState>, method: Method, headers: HeaderMap, Json(body): Json<TotpBody>) -> ApiResult<Json<Value>> {
    let (_, s) = member(&app, &method, &headers).await?;
    let user_id = s.user_id.clone().unwrap_or_default();
    let (active, _) = app.store.totp(&user_id).await?;
    let active = active.ok_or_else(|| ApiError::new(StatusCode::CONFLICT, "wrong_state", "the second factor is not on"))?;
    if !totp_matches(&app, &user_id, &active, body.code.trim(), now_ms()).await? {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "wrong_code", "the authenticator code is wrong or too old; enter the current one"));
    }
    app.store.set_totp(&user_id, None, None).await?;
    Ok(Json(json!({"totp": false})))
}

/// Ends a member's sessions but `keep` (which is stored again under the same hash).
async fn end_other_sessions(app: &App, user_id: &str, keep_hash: &str, keep: &Session) -> ApiResult<()> {
    app.store.delete_user_sessions(user_id).await?;
    app.store.put_session(keep_hash, keep).await?;
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// `POST /api/v1/session/password`: changes the member's password; their other sessions end.
pub async fn change_password(State(app): State<AppState>, method: Method, headers: HeaderMap, Json(body): Json<PasswordBody>) -> ApiResult<Json<Value>> {
    let (hash, s) = member(&app, &method, &headers).await?;
    let user_id = s.user_id.clone().unwrap_or_default();
    let user = app.store.user(&user_id).await?.ok_or_else(session_expired)?;
    let current = body.current_password.clone();
    if !tokio::task::block_in_place(|| verify_password(&user.password_hash, &current)) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_credentials", "the current password is wrong"));
    }
    if body.new_password.chars().count() < MIN_PASSWORD || body.new_password.len() > 1024 {
        return Err(ApiError::invalid(format!("new_password: use at least {MIN_PASSWORD} characters")));
    }
    let new_hash = tokio::task::block_in_place(|| super::init::hash_password(&body.new_password)).map_err(ApiError::internal)?;
    app.store.set_password(&user_id, &new_hash).await?;
    end_other_sessions(&app, &user_id, &hash, &s).await?;
    Ok(Json(json!({"changed": true})))
}

// --- signers --------------------------------------------------------------------------------------

/// `GET /s/{token}`: the link from the signer's mail. A live link becomes a signer session
/// (cookie `signet_signer`) and the browser goes on to `/sign`, so the token leaves the address
/// bar at once; a dead link clears any old signer session and goes there too, where the page
/// says what happened.
pub async fn open_signing_link(State(app): State<AppState>, Path(token): Path<String>) -> ApiResult<Response> {
    let now = now_ms();
    let hash = secret_hash(&token);
    let link = app.store.link(&hash).await?.filter(|l| l.expires_at > now);
    let cookie_value = match link {
        Some(l) => {
            let s = Session {
                kind: "signer".into(),
                user_id: None,
                org_id: Some(l.org.clone()),
                link_hash: Some(hash),
                csrf: new_secret().map_err(ApiError::internal)?,
                created_at: now,
                expires_at: (now + SIGNER_TTL_MS).min(l.expires_at),
            };
            let secret = open_session(&app, &s).await?;
            set_cookie(&app, SIGNER_COOKIE, &secret, (s.expires_at - now) / 1000)
        }
        None => set_cookie(&app, SIGNER_COOKIE, "", 0),
    };
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/sign"), (header::CACHE_CONTROL, "no-store")]).into_response();
    r.headers_mut().append(header::SET_COOKIE, cookie_value);
    r.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Ok(r)
}

/// Which signing link a ceremony request acts on: the `{token}` of `/api/v1/signing/{token}/…`,
/// or the signer session of `/api/v1/signer/…` (CSRF checked on state changes). Holds the
/// token's hash, never the token.
pub struct LinkRef {
    /// The link token's hash.
    pub hash: String,
    /// The signer session's CSRF token, when the request came through one.
    pub csrf: Option<String>,
}

impl FromRequestParts<AppState> for LinkRef {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        if let Ok(Path(params)) = Path::<HashMap<String, String>>::from_request_parts(parts, app).await {
            if let Some(token) = params.get("token") {
                return Ok(LinkRef { hash: secret_hash(token), csrf: None });
            }
        }
        let no_session = || ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "no signing session: open the link from your mail again");
        let (_, s) = current(app, &parts.headers, SIGNER_COOKIE).await?.filter(|(_, s)| s.kind == "signer").ok_or_else(no_session)?;
        check_csrf(app, &parts.method, &parts.headers, &s)?;
        let hash = s.link_hash.clone().ok_or_else(no_session)?;
        Ok(LinkRef { hash, csrf: Some(s.csrf) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port() {
        assert_eq!(origin_of("https://sign.example.com/app/"), "https://sign.example.com");
        assert_eq!(origin_of("http://127.0.0.1:8700"), "http://127.0.0.1:8700");
        assert_ne!(origin_of("http://127.0.0.1:87001"), "http://127.0.0.1:8700");
    }

    #[test]
    fn base32_matches_rfc4648() {
        // RFC 4648, section 10 (without padding).
        for (plain, want) in [("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"), ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI")] {
            assert_eq!(base32(plain.as_bytes()), want, "{plain}");
        }
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; signet_session_x=2; signet_session=abc"));
        h.append(header::COOKIE, HeaderValue::from_static("signet_signer=zz"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, SIGNER_COOKIE), Some("zz"));
        assert_eq!(cookie(&h, "b"), None);
    }

    #[test]
    fn totp_codes_follow_rfc6238() {
        // RFC 6238 appendix B, SHA-1, 8 digits at T=59 is 94287082: 6 digits are its last six.
        let t = totp_of(b"12345678901234567890").expect("totp");
        assert_eq!(t.generate(59).to_string(), "287082");
        assert!(t.check("287082", 59).is_some() && t.check("287082", 59 + 30).is_some(), "one step of skew");
        assert!(t.check("287082", 59 + 90).is_none());
    }
}
