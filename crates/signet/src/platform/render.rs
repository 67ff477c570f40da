//! Page images: a page of a contract's PDF drawn as a PNG on the server, so that a signer's
//! phone shows the document as pictures (with their fields placed over them) without a PDF
//! viewer or a script that parses PDFs. Drawn by `hayro`, a pure-Rust rasterizer: nothing to
//! install beside the binary, and no C code reading the documents people upload.
//!
//! [`render_page`] is pure (bytes in, PNG out), bounded in width and height, and answers a
//! typed [`RenderError`]; [`page_png`] is its HTTP side, shared by the signer's and the
//! members' routes, drawing on a blocking thread. What this module does not do: decide who may
//! see a contract (the routes' extractors and `load` do), or cache images (the browser does,
//! privately, as `Cache-Control` tells it).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_interpret::util::TransformExt as _;
use hayro::hayro_syntax::{LoadPdfError, Pdf};
use hayro::kurbo::Affine;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::vello_cpu::{Pixmap, RasterizerSettings, RenderContext, Resources, TargetInit};
use hayro::{RenderCache, RenderSettings, render_into};
use serde::Deserialize;
use signet_domain::contract::Contract;

use super::App;
use super::error::{ApiError, ApiResult};

/// The narrowest image drawn, in pixels.
pub const MIN_WIDTH: u32 = 200;
/// The widest image drawn, in pixels.
pub const MAX_WIDTH: u32 = 2000;
/// The tallest image drawn, in pixels (a page far taller than wide is refused at a width that
/// would exceed it).
pub const MAX_HEIGHT: u32 = 8000;
/// The width drawn when the request names none.
pub const DEFAULT_WIDTH: u32 = 800;

/// Why a page could not be drawn.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RenderError {
    /// The width asked for is outside [`MIN_WIDTH`]..=[`MAX_WIDTH`].
    #[error("width: {0} px is not between {MIN_WIDTH} and {MAX_WIDTH}")]
    Width(u32),
    /// Pages count from 1.
    #[error("page: pages count from 1")]
    PageZero,
    /// The document has fewer pages.
    #[error("page: the document has {pages} page(s), not {page}")]
    NoSuchPage {
        /// The page asked for.
        page: usize,
        /// How many the document has.
        pages: usize,
    },
    /// The page is so much taller than wide that the image would exceed [`MAX_HEIGHT`].
    #[error("the page is {height} px tall at {width} px wide, more than {MAX_HEIGHT} px: ask for a narrower image")]
    TooTall {
        /// The width asked for.
        width: u32,
        /// The height it would take.
        height: u64,
    },
    /// The PDF is encrypted.
    #[error("the PDF is encrypted and cannot be drawn")]
    Encrypted,
    /// The PDF cannot be read, or the page has no size.
    #[error("the PDF cannot be read to draw its pages")]
    Unreadable,
    /// The PNG could not be written.
    #[error("the page image could not be encoded: {0}")]
    Encode(String),
}

/// Page `page` (from 1) of `pdf` drawn `width_px` pixels wide on white, as a PNG; the height
/// follows the page's shape (its crop box, turned by its `/Rotate`).
pub fn render_page(pdf: &[u8], page: usize, width_px: u32) -> Result<Vec<u8>, RenderError> {
    if !(MIN_WIDTH..=MAX_WIDTH).contains(&width_px) {
        return Err(RenderError::Width(width_px));
    }
    let index = page.checked_sub(1).ok_or(RenderError::PageZero)?;
    let doc = Pdf::new(pdf.to_vec()).map_err(|e| match e {
        LoadPdfError::Decryption(_) => RenderError::Encrypted,
        LoadPdfError::Invalid => RenderError::Unreadable,
    })?;
    let pages = doc.pages();
    let p = pages.get(index).ok_or(RenderError::NoSuchPage { page, pages: pages.len() })?;
    let (w, h) = p.render_dimensions();
    if !(w.is_finite() && h.is_finite() && w >= 1.0 && h >= 1.0) {
        return Err(RenderError::Unreadable);
    }
    let scale = f64::from(width_px) / f64::from(w);
    let height = (f64::from(h) * scale).round().max(1.0);
    if height > f64::from(MAX_HEIGHT) {
        // `as` saturates a float beyond u64's range; the value is only reported.
        return Err(RenderError::TooTall { width: width_px, height: height as u64 });
    }
    // Both are within 1..=8000 here.
    let (pw, ph) = (u16::try_from(width_px).map_err(|_| RenderError::Width(width_px))?, height as u16);
    let mut ctx = RenderContext::new(pw, ph);
    let transform = Affine::scale(scale) * p.initial_transform(true).to_kurbo();
    let settings = InterpreterSettings::default();
    let cache = RenderCache::new();
    render_into(p, &cache, &settings, &RenderSettings::default(), &mut ctx, transform);
    ctx.flush();
    let mut pixmap = Pixmap::new(pw, ph);
    ctx.render_with(&mut pixmap, &mut Resources::default(), RasterizerSettings { target_init: TargetInit::Clear(WHITE), ..Default::default() });
    pixmap.into_png().map_err(|e| RenderError::Encode(e.to_string()))
}

/// The `?width=` of a page-image request (other parameters, such as a page's cache-busting
/// `v=`, are ignored).
#[derive(Deserialize)]
pub struct WidthQuery {
    /// Pixels; [`DEFAULT_WIDTH`] when absent.
    width: Option<String>,
}

impl WidthQuery {
    /// The width asked for, or the default; text that is no number is 422.
    pub fn width(&self) -> ApiResult<u32> {
        match self.width.as_deref().map(str::trim) {
            None | Some("") => Ok(DEFAULT_WIDTH),
            Some(w) => w.parse().map_err(|_| ApiError::invalid(format!("width: {w:?} is not a number of pixels between {MIN_WIDTH} and {MAX_WIDTH}"))),
        }
    }
}

/// A positive number from a path segment, with an optional `suffix` (`"3.png"` → 3 for
/// `".png"`); 0 is kept, for the caller's own message.
fn parse_number(segment: &str, suffix: &str, what: &str) -> ApiResult<usize> {
    let digits = segment.strip_suffix(suffix).unwrap_or(segment);
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what}: a number counted from 1 is expected, as in …/pages/1/2.png")));
    }
    digits.parse().map_err(|_| ApiError::not_found())
}

/// `GET …/pages/{document}/{page}.png?width=`: page `page` of document `document` (both from
/// 1, as path segments) of `c`'s current version, as a PNG for its own viewers only
/// (`Cache-Control: private`). Page 0, document 0 or a width out of range is 422, a page or
/// document past the end 404.
pub async fn page_png(app: &App, c: &Contract, document: &str, page: &str, width: u32) -> ApiResult<Response> {
    let n = parse_number(document, "", "document")?;
    let page = parse_number(page, ".png", "page")?;
    if !(MIN_WIDTH..=MAX_WIDTH).contains(&width) {
        return Err(render_error(RenderError::Width(width)));
    }
    let doc = match n.checked_sub(1) {
        None => return Err(ApiError::invalid("document: documents count from 1")),
        Some(i) => c.documents.get(i).ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("document: this contract has {} document(s), not {n}", c.documents.len()))
        })?,
    };
    let key = app.store.org_key(&c.org).await.map_err(ApiError::internal)?;
    let bytes = super::ceremony::current_pdf(app, &key, c, &doc.id).await.map_err(ApiError::internal)?;
    let png = tokio::task::spawn_blocking(move || render_page(&bytes, page, width))
        .await
        .map_err(|e| ApiError::internal(format!("drawing a page: {e}")))?
        .map_err(render_error)?;
    let mut res = png.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(res)
}

/// The API's answer to a [`RenderError`].
fn render_error(e: RenderError) -> ApiError {
    match e {
        RenderError::NoSuchPage { .. } => ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
        RenderError::Width(_) | RenderError::PageZero | RenderError::TooTall { .. } => ApiError::invalid(e.to_string()),
        RenderError::Encrypted => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "encrypted_pdf", e.to_string()),
        RenderError::Unreadable => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_pdf", e.to_string()),
        RenderError::Encode(_) => ApiError::internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-page PDF of `w`×`h` points with a black square at the bottom left.
    fn pdf(w: u32, h: u32) -> Vec<u8> {
        let content = b"0 0 0 rg 0 0 100 100 re f\n";
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
            format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w} {h}] /Contents 4 0 R >>"),
            format!("<< /Length {} >>\nstream\n{}endstream", content.len(), String::from_utf8_lossy(content)),
        ];
        let mut out = b"%PDF-1.7\n".to_vec();
        let mut offsets = Vec::new();
        for (i, o) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f\r\n", objects.len() + 1).as_bytes());
        for off in offsets {
            out.extend_from_slice(format!("{off:010} 00000 n\r\n").as_bytes());
        }
        out.extend_from_slice(format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes());
        out
    }

    fn size(png: &[u8]) -> (u32, u32) {
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let reader = decoder.read_info().expect("a PNG");
        (reader.info().width, reader.info().height)
    }

    #[test]
    fn a_page_is_drawn_at_the_width_asked_with_its_shape() {
        let a4 = pdf(595, 842);
        let png = render_page(&a4, 1, 375).expect("drawn");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(size(&png), (375, 531));
        let wide = render_page(&pdf(842, 595), 1, 1000).expect("drawn");
        assert_eq!(size(&wide), (1000, 707));
    }

    #[test]
    fn bad_requests_get_typed_errors() {
        let a4 = pdf(595, 842);
        assert_eq!(render_page(&a4, 1, 199), Err(RenderError::Width(199)));
        assert_eq!(render_page(&a4, 1, 2001), Err(RenderError::Width(2001)));
        assert_eq!(render_page(&a4, 0, 400), Err(RenderError::PageZero));
        assert_eq!(render_page(&a4, 2, 400), Err(RenderError::NoSuchPage { page: 2, pages: 1 }));
        assert_eq!(render_page(b"not a pdf at all", 1, 400), Err(RenderError::Unreadable));
        assert!(matches!(render_page(&pdf(100, 5000), 1, 2000), Err(RenderError::TooTall { width: 2000, height: 100_000 })));
    }

    #[test]
    fn path_numbers_take_an_optional_suffix() {
        assert_eq!(parse_number("3.png", ".png", "page").unwrap(), 3);
        assert_eq!(parse_number("0.png", ".png", "page").unwrap(), 0);
        assert_eq!(parse_number("12", "", "document").unwrap(), 12);
        for bad in ["", ".png", "x.png", "-1.png", "1.5.png", "99999999999.png"] {
            assert_eq!(parse_number(bad, ".png", "page").unwrap_err().status, StatusCode::NOT_FOUND, "{bad}");
        }
    }
}
