//! The web pages' static files (`crates/signet/web/`), embedded in the binary and served under
//! `/assets/NAME` with their content type and `Cache-Control: public, max-age=3600`. Pages link
//! them as `/assets/NAME?v=HASH` (the start of the file's SHA-256), so a new release is fetched
//! at once while an unchanged file stays cached.
//!
//! Plain files, no build step: this module does not bundle, minify or transform anything.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

/// Every file under `/assets/`.
const ASSETS: &[Asset] = &[
    Asset { name: "app.css", content_type: "text/css; charset=utf-8", body: include_bytes!("../../../web/app.css") },
    Asset { name: "favicon.svg", content_type: "image/svg+xml", body: include_bytes!("../../../web/favicon.svg") },
    Asset { name: "app.js", content_type: "text/javascript; charset=utf-8", body: include_bytes!("../../../web/app.js") },
    Asset { name: "verify.js", content_type: "text/javascript; charset=utf-8", body: include_bytes!("../../../web/verify.js") },
    Asset { name: "login.js", content_type: "text/javascript; charset=utf-8", body: include_bytes!("../../../web/login.js") },
    Asset { name: "member.js", content_type: "text/javascript; charset=utf-8", body: include_bytes!("../../../web/member.js") },
    Asset { name: "dashboard.js", content_type: "text/javascript; charset=utf-8", body: include_bytes!("../../../web/dashboard.js") },
    Asset { name: "contract.js", content_type: "text/javascript; charset=utf-8", body: include_bytes!("../../../web/contract.js") },
    Asset { name: "admin.js", content_type: "text/javascript; charset=utf-8", body: include_bytes!("../../../web/admin.js") },
    Asset { name: "account.js", content_type: "text/javascript; charset=utf-8", body: include_bytes!("../../../web/account.js") },
    Asset { name: "sign.js", content_type: "text/javascript; charset=utf-8", body: include_bytes!("../../../web/sign.js") },
    Asset { name: "new.js", content_type: "text/javascript; charset=utf-8", body: include_bytes!("../../../web/new.js") },
];

/// `(name, version)` of every asset, the version being 8 bytes of its SHA-256 in hex.
static VERSIONS: LazyLock<Vec<(&'static str, String)>> =
    LazyLock::new(|| ASSETS.iter().map(|a| (a.name, hex::encode(&signet_pki::alg::sha256(a.body)[..8]))).collect());

/// The URL a page links the asset `name` by.
pub fn url(name: &str) -> String {
    match VERSIONS.iter().find(|(n, _)| *n == name) {
        Some((n, v)) => format!("/assets/{n}?v={v}"),
        None => format!("/assets/{name}"),
    }
}

/// `GET /assets/{name}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "not found\n").into_response();
    };
    let mut res = asset.body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_linked_by_a_versioned_url() {
        for a in ASSETS {
            let u = url(a.name);
            assert!(u.starts_with(&format!("/assets/{}?v=", a.name)) && u.len() == "/assets/?v=".len() + a.name.len() + 16, "{u}");
            assert!(!a.body.is_empty());
        }
        assert_eq!(url("missing.js"), "/assets/missing.js");
    }
}
