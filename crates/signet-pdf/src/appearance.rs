//! Visible signature appearances: PNG decoding, text as vector paths, form XObjects.
//!
//! Text is drawn as filled paths taken from the font's outlines (quadratic curves converted to
//! cubics), so any TrueType/OpenType/collection font works, CJK included, and nothing has to be
//! embedded or subset. Images become an RGB image XObject with the alpha channel as `/SMask`.
//! This module builds objects into an [`Update`]; it does not decide where fields go.

use std::io::Write;

use crate::error::{PdfError, Result};
use crate::filter::deflate;
use crate::object::{Dict, ObjRef, Object, Stream};
use crate::writer::{Update, num};

/// Most pixels accepted in a PNG (16 megapixels, e.g. 4096 x 4096).
pub const MAX_PIXELS: u64 = 16 << 20;

/// An 8-bit RGBA image, rows top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbaImage {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// A font file: TTF, OTF or a collection (TTC) with the face `index`.
#[derive(Debug, Clone, Copy)]
pub struct FontData<'f> {
    pub bytes: &'f [u8],
    pub index: u32,
}

/// What a visible signature shows.
#[derive(Debug, Clone, Default)]
pub struct AppearanceSpec<'f> {
    /// Drawn to fit the rectangle, keeping its aspect ratio, centred.
    pub image: Option<RgbaImage>,
    /// Drawn over the lower part of the rectangle, each line scaled to fit the width.
    pub text_lines: Vec<String>,
    /// Needed when there is text.
    pub font: Option<FontData<'f>>,
}

/// Decode a PNG of any colour type and bit depth to 8-bit RGBA.
pub fn decode_png(bytes: &[u8]) -> Result<RgbaImage> {
    let err = |e: png::DecodingError| PdfError::Image(e.to_string());
    let mut dec = png::Decoder::new_with_limits(
        std::io::Cursor::new(bytes),
        png::Limits { bytes: 128 << 20 },
    );
    dec.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = dec.read_info().map_err(err)?;
    let (w, h) = reader.info().size();
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(PdfError::Image(format!(
            "{w}x{h} pixels is larger than the limit of {MAX_PIXELS} pixels"
        )));
    }
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| PdfError::Image("image too large".into()))?;
    let mut buf = vec![0u8; size];
    let info = reader.next_frame(&mut buf).map_err(err)?;
    let pixels = (info.width as usize) * (info.height as usize);
    let mut rgba = Vec::with_capacity(pixels * 4);
    let rows = buf.chunks(info.line_size.max(1)).take(info.height as usize);
    for row in rows {
        match info.color_type {
            png::ColorType::Rgba => {
                rgba.extend_from_slice(row.get(..info.width as usize * 4).unwrap_or_default())
            }
            png::ColorType::Rgb => row
                .chunks_exact(3)
                .take(info.width as usize)
                .for_each(|p| rgba.extend_from_slice(&[p[0], p[1], p[2], 255])),
            png::ColorType::GrayscaleAlpha => row
                .chunks_exact(2)
                .take(info.width as usize)
                .for_each(|p| rgba.extend_from_slice(&[p[0], p[0], p[0], p[1]])),
            png::ColorType::Grayscale => row
                .iter()
                .take(info.width as usize)
                .for_each(|&g| rgba.extend_from_slice(&[g, g, g, 255])),
            png::ColorType::Indexed => {
                return Err(PdfError::Image("palette image was not expanded".into()));
            }
        }
    }
    if rgba.len() != pixels * 4 {
        return Err(PdfError::Image(
            "decoded image data is shorter than its size says".into(),
        ));
    }
    Ok(RgbaImage {
        width: info.width,
        height: info.height,
        rgba,
    })
}

fn form(bbox: [f64; 4], resources: Dict, content: &[u8]) -> Object {
    let mut d = Dict::new();
    d.set("Type", Object::name(b"XObject"));
    d.set("Subtype", Object::name(b"Form"));
    d.set(
        "BBox",
        Object::Array(bbox.iter().map(|&v| Object::Real(v)).collect()),
    );
    if !resources.is_empty() {
        d.set("Resources", Object::Dict(resources));
    }
    let data = if content.len() > 256 {
        d.set("Filter", Object::name(b"FlateDecode"));
        deflate(content)
    } else {
        content.to_vec()
    };
    Object::Stream(Stream { dict: d, data })
}

/// An empty form XObject with `/BBox [0 0 w h]` (w = h = 0 for invisible signatures).
pub(crate) fn write_empty_form(up: &mut Update, w: f64, h: f64) -> Result<ObjRef> {
    let r = up.alloc()?;
    up.put(r, &form([0.0, 0.0, w, h], Dict::new(), b""));
    Ok(r)
}

/// A thin grey frame: the placeholder look of an empty signature field.
pub(crate) fn write_bordered_form(up: &mut Update, w: f64, h: f64) -> Result<ObjRef> {
    let mut c = b"q 0.6 0.6 0.6 RG 1 w ".to_vec();
    for v in [0.5, 0.5, (w - 1.0).max(0.0), (h - 1.0).max(0.0)] {
        num(&mut c, v);
        c.push(b' ');
    }
    c.extend_from_slice(b"re S Q");
    let r = up.alloc()?;
    up.put(r, &form([0.0, 0.0, w, h], Dict::new(), &c));
    Ok(r)
}

/// Write the appearance of `spec` sized `w` x `h` (image and mask objects included).
pub(crate) fn write_appearance(
    up: &mut Update,
    spec: &AppearanceSpec,
    w: f64,
    h: f64,
) -> Result<ObjRef> {
    let lines: Vec<&str> = spec
        .text_lines
        .iter()
        .map(String::as_str)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let mut content = Vec::new();
    let mut resources = Dict::new();
    if let Some(img) = &spec.image {
        if img.width == 0
            || img.height == 0
            || img.rgba.len() as u64 != u64::from(img.width) * u64::from(img.height) * 4
        {
            return Err(PdfError::Image(
                "RGBA buffer does not match width x height".into(),
            ));
        }
        let im = write_image(up, img)?;
        let mut xo = Dict::new();
        xo.set("Im1", Object::Ref(im));
        resources.set("XObject", Object::Dict(xo));
        let s = (w / f64::from(img.width)).min(h / f64::from(img.height));
        let (dw, dh) = (f64::from(img.width) * s, f64::from(img.height) * s);
        content.extend_from_slice(b"q ");
        for v in [dw, 0.0, 0.0, dh, (w - dw) / 2.0, (h - dh) / 2.0] {
            num(&mut content, v);
            content.push(b' ');
        }
        content.extend_from_slice(b"cm /Im1 Do Q\n");
    }
    if !lines.is_empty() {
        let font = spec.font.ok_or(PdfError::NoFont)?;
        let area = if spec.image.is_some() { h * 0.5 } else { h };
        // Over a seal, the text takes the seal's ink colour; on its own it is black.
        let ink = spec.image.as_ref().and_then(ink_colour).unwrap_or([0, 0, 0]);
        draw_text(&mut content, font, &lines, w, area, ink)?;
    }
    let r = up.alloc()?;
    up.put(r, &form([0.0, 0.0, w, h], resources, &content));
    Ok(r)
}

fn write_image(up: &mut Update, img: &RgbaImage) -> Result<ObjRef> {
    let pixels = img.rgba.len() / 4;
    let mut rgb = Vec::with_capacity(pixels * 3);
    let mut alpha = Vec::with_capacity(pixels);
    for p in img.rgba.chunks_exact(4) {
        rgb.extend_from_slice(&p[..3]);
        alpha.push(p[3]);
    }
    let image_dict = |cs: &[u8]| {
        let mut d = Dict::new();
        d.set("Type", Object::name(b"XObject"));
        d.set("Subtype", Object::name(b"Image"));
        d.set("Width", Object::Integer(i64::from(img.width)));
        d.set("Height", Object::Integer(i64::from(img.height)));
        d.set("ColorSpace", Object::name(cs));
        d.set("BitsPerComponent", Object::Integer(8));
        d.set("Filter", Object::name(b"FlateDecode"));
        d
    };
    let mut d = image_dict(b"DeviceRGB");
    if alpha.iter().any(|&a| a != 255) {
        let mask = up.alloc()?;
        up.put(
            mask,
            &Object::Stream(Stream {
                dict: image_dict(b"DeviceGray"),
                data: deflate(&alpha),
            }),
        );
        d.set("SMask", Object::Ref(mask));
    }
    let r = up.alloc()?;
    up.put(
        r,
        &Object::Stream(Stream {
            dict: d,
            data: deflate(&rgb),
        }),
    );
    Ok(r)
}

/// The mean colour of the image's opaque pixels (its "ink"), if it has any.
fn ink_colour(img: &RgbaImage) -> Option<[u8; 3]> {
    let (mut sum, mut n) = ([0u64; 3], 0u64);
    for p in img.rgba.chunks_exact(4).filter(|p| p[3] >= 128) {
        for (acc, v) in sum.iter_mut().zip(&p[..3]) {
            *acc += u64::from(*v);
        }
        n += 1;
    }
    (n > 0).then(|| sum.map(|v| (v / n) as u8))
}

/// Draw `lines` as filled glyph outlines into the box `[0 0 w area]`, top line first.
fn draw_text(
    out: &mut Vec<u8>,
    font: FontData,
    lines: &[&str],
    w: f64,
    area: f64,
    ink: [u8; 3],
) -> Result<()> {
    let face = parse_face(font)?;
    let upem = f64::from(face.units_per_em().max(1));
    let asc = f64::from(face.ascender());
    let desc = f64::from(face.descender());
    let extent = (asc - desc).max(upem * 0.5);
    let line_h = area / lines.len() as f64;
    fill_colour(out, ink);
    for (i, line) in lines.iter().enumerate() {
        let (glyphs, advance) = layout(&face, line)?;
        if advance <= 0.0 {
            continue;
        }
        let size = (line_h * 0.9 * upem / extent).min(w * 0.94 / advance * upem);
        let s = size / upem;
        let slot_bottom = area - line_h * (i + 1) as f64;
        let base = slot_bottom + (line_h - extent * s) / 2.0 - desc * s;
        let x0 = (w - advance * s) / 2.0;
        draw_glyphs(out, &face, &glyphs, x0, base, s);
    }
    out.extend_from_slice(b"Q\n");
    Ok(())
}

fn parse_face(font: FontData) -> Result<ttf_parser::Face> {
    ttf_parser::Face::parse(font.bytes, font.index).map_err(|e| PdfError::Font(e.to_string()))
}

/// `q r g b rg`: opens a graphics state filled with `ink` (closed by the caller's `Q`).
fn fill_colour(out: &mut Vec<u8>, ink: [u8; 3]) {
    out.extend_from_slice(b"q ");
    for c in ink {
        num(out, f64::from(c) / 255.0);
        out.push(b' ');
    }
    out.extend_from_slice(b"rg\n");
}

/// Glyphs with their pen positions in font units (`None`: whitespace the font has no glyph for).
type Glyphs = Vec<(Option<ttf_parser::GlyphId>, f64)>;

/// The glyphs of `line` with their pen positions, and the total advance, in font units.
/// Whitespace the font has no glyph for advances a third of an em; any other missing glyph
/// is an error.
fn layout(face: &ttf_parser::Face, line: &str) -> Result<(Glyphs, f64)> {
    let upem = f64::from(face.units_per_em().max(1));
    let mut glyphs = Vec::new();
    let mut advance = 0f64;
    for ch in line.chars() {
        let (gid, adv) = match face.glyph_index(ch) {
            Some(g) => (Some(g), f64::from(face.glyph_hor_advance(g).unwrap_or(0))),
            None if ch.is_whitespace() => (None, upem / 3.0),
            None => return Err(PdfError::MissingGlyph(ch)),
        };
        glyphs.push((gid, advance));
        advance += adv;
    }
    Ok((glyphs, advance))
}

/// Fill the outlines of `glyphs` (from [`layout`]) at scale `s`, pen origin `(x0, base)`.
fn draw_glyphs(
    out: &mut Vec<u8>,
    face: &ttf_parser::Face,
    glyphs: &Glyphs,
    x0: f64,
    base: f64,
    s: f64,
) {
    for &(gid, pen) in glyphs {
        let Some(gid) = gid else { continue };
        let mut pb = PathBuilder {
            out,
            x0: x0 + pen * s,
            y0: base,
            s,
            cur: (0.0, 0.0),
            any: false,
        };
        face.outline_glyph(gid, &mut pb);
        if pb.any {
            out.extend_from_slice(b"f\n");
        }
    }
}

/// Padding between a text field's border and its text, in points.
const TEXT_FIELD_PADDING: f64 = 2.0;

/// The appearance of a filled text field sized `w` x `h`: `text` on one line, black,
/// left-aligned with [`TEXT_FIELD_PADDING`], vertically centred, at `h * 0.7` points or
/// smaller so that it fits the width. Control characters are drawn as spaces.
pub(crate) fn write_text_field(
    up: &mut Update,
    font: FontData,
    text: &str,
    w: f64,
    h: f64,
) -> Result<ObjRef> {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut content = Vec::new();
    if !line.trim().is_empty() {
        let face = parse_face(font)?;
        let upem = f64::from(face.units_per_em().max(1));
        let (glyphs, advance) = layout(&face, &line)?;
        let room = w - 2.0 * TEXT_FIELD_PADDING;
        let size = (h * 0.7).min(room / advance.max(1.0) * upem);
        if size > 0.0 && size.is_finite() {
            let s = size / upem;
            // Centre the font's ascender-to-descender box.
            let (asc, desc) = (f64::from(face.ascender()), f64::from(face.descender()));
            let base = h / 2.0 - (asc + desc) * s / 2.0;
            fill_colour(&mut content, [0, 0, 0]);
            draw_glyphs(&mut content, &face, &glyphs, TEXT_FIELD_PADDING, base, s);
            content.extend_from_slice(b"Q\n");
        }
    }
    let r = up.alloc()?;
    up.put(r, &form([0.0, 0.0, w, h], Dict::new(), &content));
    Ok(r)
}

/// The two appearances of a check box sized `w` x `h`: (checked, unchecked). Both show a
/// thin grey square; the checked one adds a check mark stroked as a path, so no font is
/// needed.
pub(crate) fn write_checkbox_forms(up: &mut Update, w: f64, h: f64) -> Result<(ObjRef, ObjRef)> {
    let side = w.min(h).max(0.0);
    let (ox, oy) = ((w - side) / 2.0, (h - side) / 2.0);
    let mut frame = b"q 0.6 0.6 0.6 RG 1 w ".to_vec();
    for v in [
        ox + 0.5,
        oy + 0.5,
        (side - 1.0).max(0.0),
        (side - 1.0).max(0.0),
    ] {
        num(&mut frame, v);
        frame.push(b' ');
    }
    frame.extend_from_slice(b"re S Q\n");
    let mut check = frame.clone();
    check.extend_from_slice(b"q 0 G 1 J 1 j ");
    num(&mut check, side * 0.1);
    check.extend_from_slice(b" w ");
    for (i, (x, y)) in [(0.22, 0.52), (0.42, 0.28), (0.8, 0.76)]
        .into_iter()
        .enumerate()
    {
        num(&mut check, ox + x * side);
        check.push(b' ');
        num(&mut check, oy + y * side);
        check.extend_from_slice(if i == 0 { b" m " } else { b" l " });
    }
    check.extend_from_slice(b"S Q\n");
    let on = up.alloc()?;
    up.put(on, &form([0.0, 0.0, w, h], Dict::new(), &check));
    let off = up.alloc()?;
    up.put(off, &form([0.0, 0.0, w, h], Dict::new(), &frame));
    Ok((on, off))
}

/// Turns font outlines into PDF path operators, scaled and placed.
struct PathBuilder<'o> {
    out: &'o mut Vec<u8>,
    x0: f64,
    y0: f64,
    s: f64,
    /// Current point in font units (for quadratic-to-cubic conversion).
    cur: (f32, f32),
    any: bool,
}

impl PathBuilder<'_> {
    fn pt(&mut self, x: f32, y: f32) {
        num(self.out, self.x0 + f64::from(x) * self.s);
        self.out.push(b' ');
        num(self.out, self.y0 + f64::from(y) * self.s);
        self.out.push(b' ');
    }
}

impl ttf_parser::OutlineBuilder for PathBuilder<'_> {
    fn move_to(&mut self, x: f32, y: f32) {
        self.pt(x, y);
        self.out.extend_from_slice(b"m ");
        self.cur = (x, y);
        self.any = true;
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.pt(x, y);
        self.out.extend_from_slice(b"l ");
        self.cur = (x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (x0, y0) = self.cur;
        let c1 = (x0 + 2.0 / 3.0 * (x1 - x0), y0 + 2.0 / 3.0 * (y1 - y0));
        let c2 = (x + 2.0 / 3.0 * (x1 - x), y + 2.0 / 3.0 * (y1 - y));
        self.curve_to(c1.0, c1.1, c2.0, c2.1, x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        self.pt(x1, y1);
        self.pt(x2, y2);
        self.pt(x, y);
        self.out.extend_from_slice(b"c ");
        self.cur = (x, y);
    }
    fn close(&mut self) {
        let _ = writeln!(self.out, "h");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_png(
        w: u32,
        h: u32,
        color: png::ColorType,
        depth: png::BitDepth,
        data: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(color);
            enc.set_depth(depth);
            let mut wr = enc.write_header().unwrap();
            wr.write_image_data(data).unwrap();
        }
        out
    }

    #[test]
    fn png_colour_types_become_rgba() {
        let rgba = encode_png(
            2,
            1,
            png::ColorType::Rgba,
            png::BitDepth::Eight,
            &[1, 2, 3, 4, 5, 6, 7, 8],
        );
        assert_eq!(
            decode_png(&rgba).unwrap().rgba,
            vec![1, 2, 3, 4, 5, 6, 7, 8]
        );
        let gray = encode_png(
            2,
            1,
            png::ColorType::Grayscale,
            png::BitDepth::Eight,
            &[9, 10],
        );
        assert_eq!(
            decode_png(&gray).unwrap().rgba,
            vec![9, 9, 9, 255, 10, 10, 10, 255]
        );
        let g16 = encode_png(
            1,
            1,
            png::ColorType::GrayscaleAlpha,
            png::BitDepth::Sixteen,
            &[0x80, 0, 0x40, 0],
        );
        assert_eq!(decode_png(&g16).unwrap().rgba, vec![0x80, 0x80, 0x80, 0x40]);
        let g1 = encode_png(
            8,
            1,
            png::ColorType::Grayscale,
            png::BitDepth::One,
            &[0b1000_0000],
        );
        let img = decode_png(&g1).unwrap();
        assert_eq!(img.rgba.len(), 32);
        assert_eq!(&img.rgba[..8], &[255, 255, 255, 255, 0, 0, 0, 255]);
        assert!(matches!(decode_png(b"not a png"), Err(PdfError::Image(_))));
        assert!(decode_png(&rgba[..rgba.len() - 10]).is_err());
    }

    #[test]
    fn quads_become_cubics() {
        let mut out = Vec::new();
        let mut pb = PathBuilder {
            out: &mut out,
            x0: 0.0,
            y0: 0.0,
            s: 1.0,
            cur: (0.0, 0.0),
            any: false,
        };
        use ttf_parser::OutlineBuilder;
        pb.move_to(0.0, 0.0);
        pb.quad_to(3.0, 3.0, 6.0, 0.0);
        pb.close();
        assert_eq!(String::from_utf8(out).unwrap(), "0 0 m 2 2 4 2 6 0 c h\n");
    }
}
