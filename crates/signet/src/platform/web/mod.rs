//! The web app's pages, served by `signet serve` itself: the page shell (`page.rs`), the
//! languages and message catalog (`i18n.rs`), the static files (`assets.rs`), and the pages.
//! The public verification page `GET /verify`, whose script posts the chosen PDF to the Open
//! API's `POST /api/v1/verify` and shows the report in plain words; the sender's and
//! administrator's pages behind the login (`sender.rs`: `/`, `/login`, `/app…`); `GET /sign`,
//! the signer's page (`sign.rs`).
//!
//! Every answer of this router carries the security headers ([`SECURITY_HEADERS`]); pages are
//! never cached, assets for an hour. Pages hold no secret and take none in their URLs.
//!
//! This module does not verify anything itself (the API does, through `signet-verify`), and it
//! does not authenticate: `sender.rs` only asks the sessions (`platform::session`) who is
//! signed in.

pub mod assets;
pub mod i18n;
pub mod page;
pub mod sender;
pub mod sign;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;

use super::api::AppState;
use i18n::t;
use page::{Page, escape};

/// The content security policy of every page and asset: scripts, styles and everything else
/// only from this server, no inline code, no plugins, no framing, forms only to this server.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// The headers on every answer of the web router.
pub const SECURITY_HEADERS: [(&str, &str); 3] =
    [("content-security-policy", CSP), ("x-content-type-options", "nosniff"), ("referrer-policy", "no-referrer")];

/// The web pages and their assets, for `api::router` to merge after its API-only layers (so
/// the API's idempotency and upload layers do not wrap pages). It is a `Router<AppState>`:
/// the pages behind the login take `State<AppState>` to look the session up.
pub fn router(_app: AppState) -> Router<AppState> {
    Router::new()
        .route("/verify", get(verify_page))
        .route("/", get(sender::root))
        .route("/login", get(sender::login_page))
        .route("/app", get(sender::dashboard))
        .route("/app/contracts/new", get(sender::new_contract))
        .route("/app/contracts/{id}", get(sender::contract_page))
        .route("/app/admin", get(sender::admin_page))
        .route("/app/account", get(sender::account_page))
        .route("/sign", get(sign::page))
        .route("/assets/{name}", get(assets::serve))
        .layer(axum::middleware::from_fn(security_headers))
}

/// Adds [`SECURITY_HEADERS`] to an answer.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        h.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    res
}

/// `GET /verify`: the form (a labelled file input and a button) and the empty places the
/// script fills: a status line, an alert for errors, and the report.
async fn verify_page(uri: Uri, headers: HeaderMap) -> Response {
    let choice = i18n::choose(uri.query(), &headers);
    let l = choice.lang;
    let main = format!(
        r#"<h1>{heading}</h1>
<p class="lead">{intro}</p>
<form id="verify-form" class="card" action="/api/v1/verify" method="post" enctype="multipart/form-data">
<label for="file">{label}</label>
<input id="file" name="file" type="file" accept="application/pdf,.pdf" required>
<button type="submit" id="verify-submit">{submit}</button>
</form>
<noscript><p class="notice">{noscript}</p></noscript>
<p id="status" class="status" role="status" aria-live="polite"></p>
<div id="error" class="alert" role="alert" hidden></div>
<section id="report" class="report" aria-labelledby="verdict" hidden></section>
"#,
        heading = escape(t(l, "verify.heading")),
        intro = escape(t(l, "verify.intro")),
        label = escape(t(l, "verify.file_label")),
        submit = escape(t(l, "verify.submit")),
        noscript = escape(t(l, "noscript")),
    );
    Page { choice, title: "verify.page_title", main, scripts: &["verify.js"] }.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_forbids_inline_code_and_framing() {
        for part in ["default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"] {
            assert!(CSP.contains(part), "{part}");
        }
        assert!(!CSP.contains("unsafe"));
        for (name, value) in SECURITY_HEADERS {
            assert!(HeaderName::from_bytes(name.as_bytes()).is_ok() && HeaderValue::from_str(value).is_ok(), "{name}");
        }
    }
}
