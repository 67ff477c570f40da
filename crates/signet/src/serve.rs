//! HTTP endpoints of a Signet CA: CRLs, an OCSP responder (RFC 6960) and the TSA (RFC 3161).
//!
//! `signet ca serve` mounts all of them, `signet tsa serve` only the TSA. Handlers are thin:
//! they take the bytes, ask the CA directory and the PKI core, and return bytes with the
//! right media type. Revocations made with `signet ca revoke` take effect at once (the list
//! is read per request).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use signet_pki::cert;

use crate::ca::CaDir;

#[derive(Clone)]
struct AppState {
    ca: Arc<CaDir>,
    issued: Option<IssuedLookup>,
}

/// Asks elsewhere (the platform's database) whether the CA issued a serial (upper-case hex,
/// as [`crate::ca::normalize_serial`] spells it) that its own `issued/` directory does not
/// hold: with several servers, each issues certificates, and any of them answers OCSP.
pub type IssuedLookup = Arc<dyn Fn(String) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>> + Send + Sync>;

/// Which endpoints to mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mount {
    /// CRLs, OCSP, certificates and TSA.
    Ca,
    /// Only the TSA (`POST /tsa`).
    TsaOnly,
}

pub fn router(ca: Arc<CaDir>, mount: Mount) -> Router {
    router_with(ca, mount, None)
}

/// [`router`], with OCSP also asking `issued` about serials it does not know.
pub fn router_with(ca: Arc<CaDir>, mount: Mount, issued: Option<IssuedLookup>) -> Router {
    let state = AppState { ca, issued };
    let mut r = Router::new().route("/tsa", post(tsa)).route("/", get(index));
    if mount == Mount::Ca {
        r = r
            .route("/crl/{name}", get(crl))
            .route("/certs/{name}", get(certificate))
            .route("/ocsp", post(ocsp_post))
            .route("/ocsp/{*req}", get(ocsp_get));
    }
    r.with_state(state)
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn run(ca: CaDir, addr: &str, mount: Mount) -> Result<()> {
    let addr: SocketAddr = addr.parse().with_context(|| format!("--addr must be HOST:PORT, got {addr:?}"))?;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let what = match mount {
        Mount::Ca => "CA (CRL, OCSP, TSA)",
        Mount::TsaOnly => "TSA",
    };
    println!("signet {what} listening on http://{local}  (TSA: POST http://{local}/tsa)");
    let app = router(Arc::new(ca), mount);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM: the graceful-shutdown trigger of every server.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(t) => t,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn index(State(st): State<AppState>) -> impl IntoResponse {
    format!(
        "Signet CA: {}\nPOST /tsa (application/timestamp-query)\nPOST /ocsp (application/ocsp-request)\nGET /crl/root.crl, /crl/issuing.crl\nGET /certs/root.cer, /certs/issuing.cer\n",
        cert::subject_string(&st.ca.root)
    )
}

fn der_response(content_type: &'static str, body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, msg.into()).into_response()
}

async fn tsa(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !ct.is_empty() && !ct.starts_with("application/timestamp-query") {
        return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "send an RFC 3161 request as application/timestamp-query");
    }
    let serial = match crate::tsa_serial() {
        Ok(s) => s,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let reply = st.ca.tsa().respond(&body, SystemTime::now(), &serial);
    der_response("application/timestamp-reply", reply)
}

async fn crl(State(st): State<AppState>, Path(name): Path<String>) -> Response {
    let now = SystemTime::now();
    let res = match name.as_str() {
        "root.crl" => st.ca.root_crl(now),
        "issuing.crl" => st.ca.issuing_crl(now),
        _ => return error(StatusCode::NOT_FOUND, "known CRLs: root.crl, issuing.crl"),
    };
    match res {
        Ok(der) => der_response("application/pkix-crl", der),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    }
}

async fn certificate(State(st): State<AppState>, Path(name): Path<String>) -> Response {
    let c = match name.as_str() {
        "root.cer" => &st.ca.root,
        "issuing.cer" => &st.ca.issuing,
        _ => return error(StatusCode::NOT_FOUND, "known certificates: root.cer, issuing.cer"),
    };
    der_response("application/pkix-cert", cert::cert_der(c))
}

async fn answer_ocsp(st: &AppState, req: &[u8]) -> Response {
    let revoked = match st.ca.revoked() {
        Ok(r) => r,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    };
    let ca = &st.ca;
    // Serials issued by another server of the deployment: known to the lookup only.
    let mut elsewhere = std::collections::HashSet::new();
    if let (Some(lookup), Ok(parsed)) = (&st.issued, signet_pki::ocsp::parse_request(req)) {
        for id in parsed.ids {
            if ca.status(&id.serial, &revoked) == signet_pki::ocsp::CertStatus::Unknown && lookup(hex::encode_upper(&id.serial)).await {
                elsewhere.insert(id.serial);
            }
        }
    }
    let status = |serial: &[u8]| match ca.status(serial, &revoked) {
        signet_pki::ocsp::CertStatus::Unknown if elsewhere.contains(serial) => signet_pki::ocsp::CertStatus::Good,
        s => s,
    };
    let resp = ca.ocsp_responder().respond(req, &status, SystemTime::now(), crate::ca::REVOCATION_VALIDITY);
    der_response("application/ocsp-response", resp)
}

async fn ocsp_post(State(st): State<AppState>, body: Bytes) -> Response {
    answer_ocsp(&st, &body).await
}

async fn ocsp_get(State(st): State<AppState>, Path(req): Path<String>) -> Response {
    use base64::Engine as _;
    let decoded = percent_decode(&req);
    match base64::engine::general_purpose::STANDARD.decode(decoded.trim_start_matches('/')) {
        Ok(der) => answer_ocsp(&st, &der).await,
        Err(_) => error(StatusCode::BAD_REQUEST, "GET /ocsp/ expects a base64 DER OCSP request"),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
