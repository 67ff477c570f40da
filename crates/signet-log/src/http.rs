//! The read-only `tlog-tiles` routes: `GET /checkpoint`, `GET /tile/…` (hash tiles and entry
//! bundles) and `GET /log.vkey`. Mount the router at a log's prefix (the root of
//! `signet log serve`, `/log/` in the platform server).
//!
//! Headers: the checkpoint is `text/plain; charset=utf-8` with `Cache-Control: no-cache`; full
//! tiles and bundles are `application/octet-stream`, `public, max-age=31536000, immutable`;
//! partial ones are short-lived (`public, max-age=60`); a partial one that has been completed
//! is answered with the full object (its first `W` hashes or entries are the same). Only objects covered by the published
//! checkpoint are served, so nothing a reader sees can change under a later checkpoint.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use signet_ledger::note::Note;
use signet_ledger::tile::TilePath;
use signet_ledger::Checkpoint;

use crate::store::TileStore;

#[derive(Clone)]
struct Routes {
    tiles: Arc<dyn TileStore>,
    vkey: Arc<str>,
}

/// The routes of a log whose objects are in `tiles` and whose verifier key is `vkey`.
pub fn router(tiles: Arc<dyn TileStore>, vkey: &str) -> Router {
    Router::new()
        .route("/checkpoint", get(checkpoint))
        .route("/log.vkey", get(vkey_route))
        .route("/tile/{*path}", get(tile))
        .with_state(Routes { tiles, vkey: Arc::from(format!("{vkey}\n")) })
}

fn text(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

async fn checkpoint(State(s): State<Routes>) -> Response {
    match s.tiles.get("checkpoint").await {
        Ok(Some(data)) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")],
            data,
        )
            .into_response(),
        Ok(None) => text(StatusCode::NOT_FOUND, "no checkpoint has been published yet\n".into()),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}

async fn vkey_route(State(s): State<Routes>) -> Response {
    text(StatusCode::OK, s.vkey.to_string())
}

async fn published_size(tiles: &dyn TileStore) -> Option<u64> {
    let data = tiles.get("checkpoint").await.ok()??;
    let note = Note::parse(&data).ok()?;
    Checkpoint::parse(note.text()).ok().map(|c| c.size)
}

async fn tile(State(s): State<Routes>, Path(rest): Path<String>) -> Response {
    let path = format!("tile/{rest}");
    let Ok(parsed) = TilePath::parse(&path) else {
        return text(StatusCode::NOT_FOUND, "not a tile path\n".into());
    };
    let tile = match parsed {
        TilePath::Hashes(t) => t,
        TilePath::Entries { index, width } => signet_ledger::Tile { level: 0, index, width },
    };
    // The last leaf the tile covers must be inside the published tree.
    let leaves_per_hash = 1u128 << (8 * u32::from(tile.level));
    let end = (u128::from(tile.index) * 256 + u128::from(tile.width)) * leaves_per_hash;
    let covered = published_size(&*s.tiles).await.is_some_and(|size| end <= u128::from(size));
    if !covered {
        return text(StatusCode::NOT_FOUND, "not covered by the published checkpoint\n".into());
    }
    let cache = if tile.is_full() { "public, max-age=31536000, immutable" } else { "public, max-age=60" };
    let mut found = s.tiles.get(&path).await;
    if matches!(found, Ok(None)) && !tile.is_full() {
        // The partial tile has been completed and forgotten: the full one starts with the same
        // hashes (readers accept a full tile in place of a partial one).
        if let Some((full, _)) = path.split_once(".p/") {
            found = s.tiles.get(full).await;
        }
    }
    match found {
        Ok(Some(data)) => ([(header::CONTENT_TYPE, "application/octet-stream"), (header::CACHE_CONTROL, cache)], data).into_response(),
        Ok(None) => text(StatusCode::NOT_FOUND, "no such tile\n".into()),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}
