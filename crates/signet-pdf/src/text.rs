//! Text search in the page content: where a given text is drawn, in PDF user space.
//!
//! [`Document::find_text`] runs a small content-stream interpreter over a page: the graphics
//! state (`q`/`Q`/`cm`), the text state and text-showing operators, and form XObjects. Every
//! glyph shown becomes a box (origin, advance width, the font's descent to ascent) transformed
//! through the text and current transformation matrices, and the characters it stands for
//! (from `/ToUnicode`, else from the font's encoding and glyph names). The needle is compared
//! with those characters ignoring all whitespace on both sides, so text that producers split
//! into pieces, spaced oddly or drew glyph by glyph is still found.
//!
//! **Supported:** content as one stream or an array of streams; inline images (skipped);
//! simple fonts (Type1, MMType1, TrueType, Type3 with its `/FontMatrix`) with `/Widths`,
//! built-in widths for the standard Helvetica, Times and Courier families when `/Widths` is
//! absent, `/Encoding` by name (Standard, WinAnsi, MacRoman) or dictionary (`/BaseEncoding` +
//! `/Differences`, glyph names of Latin-1 and `uniXXXX`/`uXXXX`); Type0 fonts with
//! `/Identity-H`, `/Identity-V` or an embedded CMap stream (codespace ranges, `cidchar`,
//! `cidrange`), `/W` and `/DW`; `/ToUnicode` CMaps (`bfchar`, `bfrange` with either form,
//! UTF-16BE with surrogate pairs) always take precedence.
//!
//! **Not supported (approximated):** predefined CJK CMaps other than Identity (codes are read
//! as two bytes, Unicode comes from `/ToUnicode` — or from the code itself for `UCS2`/`UTF16`
//! CMaps — and widths are `/DW`); vertical metrics (`/W2`, `/DW2`: the default vertical advance
//! of one em is used); encodings built into embedded font programs (StandardEncoding is
//! assumed); Type3 glyph procedures are not run; text in a font that the resources do not name
//! is skipped; clipping and marked content (`/ActualText`) are ignored.
//!
//! **Limits:** the content bytes interpreted for one page (page streams plus every form
//! XObject each time it is drawn) are bounded by [`MAX_DECODED`](crate::MAX_DECODED), the
//! operators by [`MAX_OPERATORS`], glyphs by [`MAX_GLYPHS`], `q` nesting by [`MAX_Q_DEPTH`] and
//! forms by [`MAX_FORM_DEPTH`]; a form that draws itself is not entered again.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::OnceLock;

use crate::document::Document;
use crate::error::{PdfError, Result};
use crate::filter::{self, MAX_DECODED};
use crate::object::{Dict, ObjRef, Object};
use crate::parser::{MAX_DEPTH, is_delim, is_ws};

/// Most content-stream operators interpreted for one page (forms included).
pub const MAX_OPERATORS: u64 = 10_000_000;
/// Most glyphs collected on one page.
pub const MAX_GLYPHS: usize = 4 << 20;
/// Deepest `q` nesting accepted.
pub const MAX_Q_DEPTH: usize = 1024;
/// Deepest nesting of form XObjects drawn by form XObjects.
pub const MAX_FORM_DEPTH: usize = 8;
/// Most operands waiting for an operator.
const MAX_OPERANDS: usize = 1 << 16;
/// Most code ranges and single codes in one CMap, and ranges in one `/W` array.
const MAX_MAP_ENTRIES: usize = 1 << 20;
/// Fonts kept parsed across the pages of one search.
const MAX_CACHED_FONTS: usize = 4096;

/// Where a piece of text was found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextMatch {
    /// The page, numbered from 1.
    pub page: usize,
    /// `[x1 y1 x2 y2]` in default user space (what a widget's `/Rect` uses), normalised so that
    /// x1 <= x2 and y1 <= y2.
    pub rect: [f64; 4],
}

impl Document<'_> {
    /// Every occurrence of `needle` on `page` (or on all pages when `None`), in page order then
    /// content order.
    ///
    /// Whitespace is ignored on both sides, the comparison is otherwise exact (case-sensitive).
    /// Occurrences do not overlap. The rectangle is the union of the matched glyphs' boxes. A
    /// needle of only whitespace finds nothing.
    pub fn find_text(&self, page: Option<usize>, needle: &str) -> Result<Vec<TextMatch>> {
        let needle: Vec<char> = needle.chars().filter(|c| !c.is_whitespace()).collect();
        let pages = match page {
            Some(p) => {
                self.page(p)?;
                p..=p
            }
            None => 1..=self.page_count()?,
        };
        let mut out = Vec::new();
        if needle.is_empty() {
            return Ok(out);
        }
        let mut interp = Interp::new(self);
        for p in pages {
            let text = interp.page(p)?;
            for rect in text.find(&needle) {
                out.push(TextMatch { page: p, rect });
            }
        }
        Ok(out)
    }

    /// The text of page `page` in content order, as one string (for tests and diagnostics).
    ///
    /// Spaces and line breaks are inserted where the glyph positions jump (a gap of a fifth of
    /// the font size, or a move off the line), unless the content already has whitespace there.
    pub fn page_text(&self, page: usize) -> Result<String> {
        let text = Interp::new(self).page(page)?;
        Ok(text.chars.iter().map(|&(c, _)| c).collect())
    }
}

// ---------------------------------------------------------------------------------------------
// Collected text

/// Glyph index of a character that no glyph stands for (an inserted separator).
const NO_GLYPH: u32 = u32::MAX;

/// The characters of a page, each with the glyph it came from, and the glyph boxes.
#[derive(Default)]
struct PageText {
    chars: Vec<(char, u32)>,
    boxes: Vec<[f64; 4]>,
    /// The previous glyph: its end point, unit direction and height, in user space.
    last: Option<([f64; 2], [f64; 2], f64)>,
}

impl PageText {
    /// The rectangles of the non-overlapping occurrences of `needle` (no whitespace in it).
    fn find(&self, needle: &[char]) -> Vec<[f64; 4]> {
        let hay: Vec<(char, u32)> = self
            .chars
            .iter()
            .copied()
            .filter(|(c, _)| !c.is_whitespace())
            .collect();
        // Knuth–Morris–Pratt: linear in the page's text whatever the needle.
        let mut fail = vec![0usize; needle.len()];
        let mut k = 0;
        for i in 1..needle.len() {
            while k > 0 && needle[i] != needle[k] {
                k = fail[k - 1];
            }
            if needle[i] == needle[k] {
                k += 1;
            }
            fail[i] = k;
        }
        let mut out = Vec::new();
        let mut k = 0;
        for (i, &(c, _)) in hay.iter().enumerate() {
            while k > 0 && c != needle[k] {
                k = fail[k - 1];
            }
            if c == needle[k] {
                k += 1;
            }
            if k == needle.len() {
                let start = i + 1 - k;
                let mut rect: Option<[f64; 4]> = None;
                for &(_, g) in &hay[start..=i] {
                    if let Some(b) = self.boxes.get(g as usize) {
                        rect = Some(match rect {
                            None => *b,
                            Some(r) => [
                                r[0].min(b[0]),
                                r[1].min(b[1]),
                                r[2].max(b[2]),
                                r[3].max(b[3]),
                            ],
                        });
                    }
                }
                out.extend(rect);
                k = 0;
            }
        }
        out
    }

    /// Add one glyph: its box, origin, end point, height and the characters it stands for.
    fn push(
        &mut self,
        bbox: [f64; 4],
        origin: [f64; 2],
        end: [f64; 2],
        height: f64,
        text: &str,
    ) -> Result<()> {
        if self.boxes.len() >= MAX_GLYPHS {
            return Err(PdfError::LimitExceeded {
                what: "number of glyphs on one page",
                limit: MAX_GLYPHS as u64,
            });
        }
        if let Some((prev_end, dir, h)) = self.last {
            let v = [origin[0] - prev_end[0], origin[1] - prev_end[1]];
            let along = v[0] * dir[0] + v[1] * dir[1];
            let across = (v[0] * dir[1] - v[1] * dir[0]).abs();
            let h = h.max(height);
            let sep = if across > 0.5 * h {
                Some('\n')
            } else if along > 0.2 * h || along < -0.5 * h {
                Some(' ')
            } else {
                None
            };
            let after_space = self.chars.last().is_none_or(|(c, _)| c.is_whitespace());
            let starts_space = text.chars().next().is_some_and(char::is_whitespace);
            if let Some(sep) = sep
                && !after_space
                && !starts_space
            {
                self.chars.push((sep, NO_GLYPH));
            }
        }
        let g = self.boxes.len() as u32;
        self.boxes.push(bbox);
        for c in text.chars() {
            match c {
                '\u{FB00}' => self.chars.extend([('f', g), ('f', g)]),
                '\u{FB01}' => self.chars.extend([('f', g), ('i', g)]),
                '\u{FB02}' => self.chars.extend([('f', g), ('l', g)]),
                '\u{FB03}' => self.chars.extend([('f', g), ('f', g), ('i', g)]),
                '\u{FB04}' => self.chars.extend([('f', g), ('f', g), ('l', g)]),
                c if c.is_control() && !c.is_whitespace() => {}
                c => self.chars.push((c, g)),
            }
        }
        let d = [end[0] - origin[0], end[1] - origin[1]];
        let len = (d[0] * d[0] + d[1] * d[1]).sqrt();
        let dir = if len > 1e-9 && len.is_finite() {
            [d[0] / len, d[1] / len]
        } else {
            self.last.map_or([1.0, 0.0], |l| l.1)
        };
        self.last = Some((end, dir, height));
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Matrices

type Matrix = [f64; 6];
const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// `a × b`: first `a`, then `b` (PDF's row-vector convention).
fn mul(a: &Matrix, b: &Matrix) -> Matrix {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]
}

fn apply(m: &Matrix, x: f64, y: f64) -> [f64; 2] {
    [x * m[0] + y * m[2] + m[4], x * m[1] + y * m[3] + m[5]]
}

/// Length of the image of the unit vertical vector (the font's height scale).
fn trm_len(m: &Matrix) -> f64 {
    (m[2] * m[2] + m[3] * m[3]).sqrt()
}

fn translate(x: f64, y: f64) -> Matrix {
    [1.0, 0.0, 0.0, 1.0, x, y]
}

/// The bounding box of the rectangle `[x1, x2] × [y1, y2]` transformed by `m`.
fn bbox_of(m: &Matrix, x1: f64, y1: f64, x2: f64, y2: f64) -> [f64; 4] {
    let pts = [
        apply(m, x1, y1),
        apply(m, x2, y1),
        apply(m, x1, y2),
        apply(m, x2, y2),
    ];
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for p in pts {
        b[0] = b[0].min(p[0]);
        b[1] = b[1].min(p[1]);
        b[2] = b[2].max(p[0]);
        b[3] = b[3].max(p[1]);
    }
    b
}

// ---------------------------------------------------------------------------------------------
// Lexer for content streams and CMaps

/// An operand of a content-stream operator.
#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Num(f64),
    Name(Vec<u8>),
    Str(Vec<u8>),
    Array(Vec<Operand>),
    /// A dictionary, boolean or null: nothing the interpreter looks at.
    Other,
}

impl Operand {
    fn num(&self) -> Option<f64> {
        match self {
            Operand::Num(n) => Some(*n),
            _ => None,
        }
    }
}

enum Token<'a> {
    Operand(Operand),
    Operator(&'a [u8]),
}

/// Tokens of a content stream (or a CMap, which has the same syntax).
struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
}

fn content_error(pos: usize, what: &str) -> PdfError {
    PdfError::Invalid(format!("malformed content stream at byte {pos}: {what}"))
}

impl<'a> Lexer<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            if is_ws(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Regular characters up to whitespace or a delimiter.
    fn regular(&mut self) -> &'a [u8] {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if is_ws(b) || is_delim(b) {
                break;
            }
            self.pos += 1;
        }
        &self.data[start..self.pos]
    }

    /// The next token; `None` at the end.
    fn next_token(&mut self) -> Result<Option<Token<'a>>> {
        self.skip_ws();
        let Some(b) = self.peek() else {
            return Ok(None);
        };
        let tok = match b {
            b'/' | b'(' | b'<' | b'[' => Token::Operand(self.value(0)?),
            b']' | b')' | b'>' | b'{' | b'}' => {
                // Stray delimiters (and PostScript procedure braces in CMaps) read as operators
                // the interpreter does not know, so they are skipped.
                self.pos += 1;
                Token::Operator(&self.data[self.pos - 1..self.pos])
            }
            _ => {
                let start = self.pos;
                let tok = self.regular();
                match tok {
                    b"true" | b"false" | b"null" => Token::Operand(Operand::Other),
                    _ => match number(tok) {
                        Some(n) => Token::Operand(Operand::Num(n)),
                        None if tok.is_empty() => {
                            return Err(content_error(start, "unexpected byte"));
                        }
                        None => Token::Operator(tok),
                    },
                }
            }
        };
        Ok(Some(tok))
    }

    /// One operand at the cursor (after whitespace).
    fn value(&mut self, depth: usize) -> Result<Operand> {
        if depth > MAX_DEPTH {
            return Err(PdfError::LimitExceeded {
                what: "nesting depth of arrays and dictionaries in a content stream",
                limit: MAX_DEPTH as u64,
            });
        }
        self.skip_ws();
        let start = self.pos;
        let Some(b) = self.peek() else {
            return Err(content_error(start, "unexpected end, expected an operand"));
        };
        match b {
            b'/' => {
                self.pos += 1;
                Ok(Operand::Name(self.name()?))
            }
            b'(' => {
                self.pos += 1;
                Ok(Operand::Str(self.literal()?))
            }
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                loop {
                    self.skip_ws();
                    match self.peek() {
                        None => return Err(content_error(start, "unterminated dictionary")),
                        Some(b'>') => {
                            if self.data.get(self.pos + 1) == Some(&b'>') {
                                self.pos += 2;
                                return Ok(Operand::Other);
                            }
                            return Err(content_error(self.pos, "expected '>>'"));
                        }
                        Some(_) => {
                            self.value(depth + 1)?;
                        }
                    }
                }
            }
            b'<' => {
                self.pos += 1;
                Ok(Operand::Str(self.hex()?))
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        None => return Err(content_error(start, "unterminated array")),
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Operand::Array(items));
                        }
                        Some(_) => items.push(self.value(depth + 1)?),
                    }
                }
            }
            b']' | b')' | b'>' | b'{' | b'}' => {
                self.pos += 1;
                Ok(Operand::Other)
            }
            _ => {
                let tok = self.regular();
                if tok.is_empty() {
                    return Err(content_error(start, "unexpected byte"));
                }
                // A keyword inside an array or dictionary is not an operator; it is ignored.
                Ok(number(tok).map_or(Operand::Other, Operand::Num))
            }
        }
    }

    fn name(&mut self) -> Result<Vec<u8>> {
        let raw = self.regular();
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while let Some(&b) = raw.get(i) {
            if b == b'#'
                && let (Some(h), Some(l)) = (
                    raw.get(i + 1).copied().and_then(crate::parser::hex_val),
                    raw.get(i + 2).copied().and_then(crate::parser::hex_val),
                )
            {
                out.push(h << 4 | l);
                i += 3;
            } else {
                out.push(b);
                i += 1;
            }
        }
        Ok(out)
    }

    /// A literal string after its `(`.
    fn literal(&mut self) -> Result<Vec<u8>> {
        let start = self.pos;
        let mut out = Vec::new();
        let mut depth = 1usize;
        loop {
            let Some(b) = self.peek() else {
                return Err(content_error(start, "unterminated string"));
            };
            self.pos += 1;
            match b {
                b'(' => {
                    depth += 1;
                    out.push(b);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(out);
                    }
                    out.push(b);
                }
                b'\r' => {
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                    out.push(b'\n');
                }
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return Err(content_error(start, "unterminated string"));
                    };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        self.pos += 1;
                                        v = v * 8 + u32::from(d - b'0');
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xff) as u8);
                        }
                        other => out.push(other),
                    }
                }
                other => out.push(other),
            }
        }
    }

    /// A hex string after its `<`.
    fn hex(&mut self) -> Result<Vec<u8>> {
        let start = self.pos;
        let mut out = Vec::new();
        let mut hi: Option<u8> = None;
        loop {
            let Some(b) = self.peek() else {
                return Err(content_error(start, "unterminated hex string"));
            };
            self.pos += 1;
            if let Some(v) = crate::parser::hex_val(b) {
                match hi.take() {
                    Some(h) => out.push(h << 4 | v),
                    None => hi = Some(v),
                }
            } else if b == b'>' {
                if let Some(h) = hi {
                    out.push(h << 4);
                }
                return Ok(out);
            } else if !is_ws(b) {
                return Err(content_error(
                    self.pos - 1,
                    "invalid character in a hex string",
                ));
            }
        }
    }

    /// Skip an inline image after its `BI`: the dictionary up to `ID`, then the data up to `EI`.
    fn skip_inline_image(&mut self) -> Result<()> {
        let start = self.pos;
        let mut entries = Vec::new();
        loop {
            match self.next_token()? {
                None => return Err(content_error(start, "inline image without ID")),
                Some(Token::Operator(b"ID")) => break,
                Some(Token::Operand(o)) => {
                    if entries.len() >= MAX_OPERANDS {
                        return Err(content_error(start, "inline image dictionary too long"));
                    }
                    entries.push(o);
                }
                Some(Token::Operator(_)) => {}
            }
        }
        // One whitespace byte separates ID from the data.
        if self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
        let data_start = self.pos;
        let length = entries.chunks(2).find_map(|kv| match kv {
            [Operand::Name(k), Operand::Num(n)] if (k == b"L" || k == b"Length") && *n >= 0.0 => {
                Some(*n as usize)
            }
            _ => None,
        });
        if let Some(len) = length {
            let after = data_start.saturating_add(len);
            let mut l = Lexer {
                data: self.data,
                pos: after.min(self.data.len()),
            };
            l.skip_ws();
            if l.data.get(l.pos..l.pos + 2) == Some(b"EI")
                && l.data
                    .get(l.pos + 2)
                    .is_none_or(|&b| is_ws(b) || is_delim(b))
            {
                self.pos = l.pos + 2;
                return Ok(());
            }
        }
        // Without a usable length: the first "EI" between whitespace that is followed by
        // something that looks like content (printable ASCII), or by the end.
        let d = self.data;
        let mut i = data_start;
        while i + 2 <= d.len() {
            if &d[i..i + 2] == b"EI"
                && (i == data_start || is_ws(d[i - 1]))
                && d.get(i + 2).is_none_or(|&b| is_ws(b) || is_delim(b))
            {
                let tail = &d[i + 2..(i + 18).min(d.len())];
                if tail.iter().all(|&b| is_ws(b) || (0x20..0x7f).contains(&b)) {
                    self.pos = i + 2;
                    return Ok(());
                }
            }
            i += 1;
        }
        Err(content_error(start, "inline image without EI"))
    }
}

/// A PDF number token.
fn number(tok: &[u8]) -> Option<f64> {
    let first = *tok.first()?;
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return None;
    }
    if !tok
        .iter()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.'))
    {
        return None;
    }
    let s = std::str::from_utf8(tok).ok()?;
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

// ---------------------------------------------------------------------------------------------
// CMaps

/// Code ranges `lo..=hi` keyed by `lo`, each with a value. Lookups find the range with the
/// largest `lo` not above the code (ranges are not expanded, so a huge range costs nothing).
#[derive(Debug)]
struct RangeMap<T> {
    map: BTreeMap<u32, (u32, T)>,
}

impl<T> Default for RangeMap<T> {
    fn default() -> Self {
        Self {
            map: BTreeMap::new(),
        }
    }
}

impl<T> RangeMap<T> {
    fn insert(&mut self, lo: u32, hi: u32, v: T) -> Result<()> {
        if self.map.len() >= MAX_MAP_ENTRIES {
            return Err(PdfError::LimitExceeded {
                what: "entries of a font's CMap or width array",
                limit: MAX_MAP_ENTRIES as u64,
            });
        }
        if lo <= hi {
            self.map.insert(lo, (hi, v));
        }
        Ok(())
    }

    /// The value for `code` and the start of its range.
    fn get(&self, code: u32) -> Option<(u32, &T)> {
        let (&lo, (hi, v)) = self.map.range(..=code).next_back()?;
        (code <= *hi).then_some((lo, v))
    }

    fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// A `bfchar`/`bfrange` destination.
#[derive(Debug)]
enum UniDest {
    /// UTF-16 code units; the last is incremented by the code's offset in the range.
    Base(Vec<u16>),
    /// One string per code of the range.
    List(Vec<String>),
}

/// A parsed CMap: codespace ranges, Unicode destinations (`/ToUnicode`) and CIDs (encodings).
#[derive(Debug, Default)]
struct CMap {
    /// (byte length, low, high)
    codespace: Vec<(usize, u32, u32)>,
    unicode: RangeMap<UniDest>,
    /// CID of the range's first code.
    cid: RangeMap<u32>,
}

fn be_value(b: &[u8]) -> u32 {
    b.iter()
        .fold(0u32, |acc, &x| acc.wrapping_shl(8) | u32::from(x))
}

fn utf16_units(b: &[u8]) -> Vec<u16> {
    if b.len() == 1 {
        return vec![u16::from(b[0])];
    }
    b.chunks(2)
        .map(|c| u16::from(c[0]) << 8 | u16::from(c.get(1).copied().unwrap_or(0)))
        .collect()
}

fn utf16_string(units: &[u16]) -> String {
    char::decode_utf16(units.iter().copied())
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

impl CMap {
    fn parse(data: &[u8]) -> Result<CMap> {
        let mut cmap = CMap::default();
        let mut lx = Lexer::new(data);
        let mut ops: Vec<Operand> = Vec::new();
        let code = |o: &Operand| match o {
            Operand::Str(s) if (1..=4).contains(&s.len()) => Some((s.len(), be_value(s))),
            _ => None,
        };
        while let Some(tok) = lx.next_token()? {
            let op = match tok {
                Token::Operand(o) => {
                    if ops.len() >= MAX_OPERANDS {
                        return Err(PdfError::LimitExceeded {
                            what: "operands in a CMap block",
                            limit: MAX_OPERANDS as u64,
                        });
                    }
                    ops.push(o);
                    continue;
                }
                Token::Operator(op) => op,
            };
            match op {
                b"endcodespacerange" => {
                    for pair in ops.chunks_exact(2) {
                        if let (Some((n, lo)), Some((_, hi))) = (code(&pair[0]), code(&pair[1])) {
                            if cmap.codespace.len() >= MAX_MAP_ENTRIES {
                                return Err(PdfError::LimitExceeded {
                                    what: "codespace ranges of a CMap",
                                    limit: MAX_MAP_ENTRIES as u64,
                                });
                            }
                            cmap.codespace.push((n, lo, hi));
                        }
                    }
                }
                b"endbfchar" => {
                    for pair in ops.chunks_exact(2) {
                        let Some((_, c)) = code(&pair[0]) else {
                            continue;
                        };
                        let dest = match &pair[1] {
                            Operand::Str(s) => utf16_units(s),
                            Operand::Name(n) => match glyph_unicode(n) {
                                Some(s) => s.encode_utf16().collect(),
                                None => continue,
                            },
                            _ => continue,
                        };
                        cmap.unicode.insert(c, c, UniDest::Base(dest))?;
                    }
                }
                b"endbfrange" => {
                    for t in ops.chunks_exact(3) {
                        let (Some((_, lo)), Some((_, hi))) = (code(&t[0]), code(&t[1])) else {
                            continue;
                        };
                        let dest = match &t[2] {
                            Operand::Str(s) => UniDest::Base(utf16_units(s)),
                            Operand::Array(items) => UniDest::List(
                                items
                                    .iter()
                                    .map(|i| match i {
                                        Operand::Str(s) => utf16_string(&utf16_units(s)),
                                        _ => String::new(),
                                    })
                                    .collect(),
                            ),
                            _ => continue,
                        };
                        cmap.unicode.insert(lo, hi, dest)?;
                    }
                }
                b"endcidchar" => {
                    for pair in ops.chunks_exact(2) {
                        if let (Some((_, c)), Some(cid)) = (code(&pair[0]), pair[1].num()) {
                            cmap.cid.insert(c, c, cid.max(0.0) as u32)?;
                        }
                    }
                }
                b"endcidrange" => {
                    for t in ops.chunks_exact(3) {
                        if let (Some((_, lo)), Some((_, hi)), Some(cid)) =
                            (code(&t[0]), code(&t[1]), t[2].num())
                        {
                            cmap.cid.insert(lo, hi, cid.max(0.0) as u32)?;
                        }
                    }
                }
                _ => {}
            }
            ops.clear();
        }
        Ok(cmap)
    }

    /// The Unicode text of `code`, if mapped.
    fn unicode_of(&self, code: u32) -> Option<String> {
        let (lo, dest) = self.unicode.get(code)?;
        let offset = code - lo;
        match dest {
            UniDest::Base(units) => {
                let mut units = units.clone();
                let last = units.last_mut()?;
                *last = u16::try_from(u32::from(*last) + offset).ok()?;
                Some(utf16_string(&units))
            }
            UniDest::List(items) => items.get(offset as usize).cloned(),
        }
    }

    /// The code at `s[i..]` per the codespace ranges, and its length in bytes.
    fn next_code(&self, s: &[u8], i: usize, default_len: usize) -> (u32, usize) {
        let rest = s.get(i..).unwrap_or_default();
        for n in 1..=4.min(rest.len()) {
            let v = be_value(&rest[..n]);
            if self
                .codespace
                .iter()
                .any(|&(len, lo, hi)| len == n && (lo..=hi).contains(&v))
            {
                return (v, n);
            }
        }
        let n = self
            .codespace
            .iter()
            .map(|c| c.0)
            .min()
            .unwrap_or(default_len)
            .clamp(1, rest.len().max(1));
        (be_value(rest.get(..n).unwrap_or(rest)), n)
    }
}

// ---------------------------------------------------------------------------------------------
// Fonts

/// How a Type0 font's codes become CIDs.
#[derive(Debug)]
enum CidSource {
    /// `/Identity-H` or `/Identity-V`: the code is the CID.
    Identity,
    /// An embedded CMap; without CID mappings in it, the code is the CID.
    Embedded(CMap),
    /// A predefined CMap we do not carry: two-byte codes, CID unknown. `unicode` when the
    /// code is itself UCS-2/UTF-16.
    Predefined { unicode: bool },
}

#[derive(Debug)]
enum FontKind {
    Simple {
        /// Characters of each code from the encoding.
        encoding: Vec<Option<String>>,
        first_char: u32,
        /// Glyph-space widths from `/Widths`.
        widths: Vec<f64>,
        missing_width: f64,
        /// Built-in widths (1000 units per em) of a standard font without `/Widths`.
        standard: Option<StdFamily>,
    },
    Type0 {
        cids: CidSource,
        widths: RangeMap<WidthEntry>,
        default_width: f64,
    },
}

#[derive(Debug)]
enum WidthEntry {
    Same(f64),
    List(Vec<f64>),
}

#[derive(Debug, Clone, Copy)]
enum StdFamily {
    Helvetica,
    Times,
    Courier,
}

#[derive(Debug)]
struct Font {
    kind: FontKind,
    to_unicode: Option<CMap>,
    /// Glyph space to text space, horizontally (0.001, or a Type3 font's `/FontMatrix` a).
    scale: f64,
    /// Ascent and descent in text space per unit of font size.
    ascent: f64,
    descent: f64,
    vertical: bool,
}

impl Font {
    fn load(doc: &Document, d: &Dict) -> Result<Font> {
        let subtype = d
            .get(b"Subtype")
            .and_then(Object::as_name)
            .unwrap_or_default();
        let to_unicode = match d.get(b"ToUnicode") {
            Some(o @ Object::Ref(_)) => match doc.resolve(o)? {
                Object::Stream(s) => Some(CMap::parse(&s.decoded()?)?),
                _ => None, // e.g. /Identity: no mapping
            },
            _ => None,
        };
        if subtype == b"Type0" {
            return Self::load_type0(doc, d, to_unicode);
        }
        let descriptor = match d.get(b"FontDescriptor") {
            Some(o) => Some(doc.resolve_dict(o, "a font descriptor")?),
            None => None,
        };
        let base = d
            .get(b"BaseFont")
            .and_then(Object::as_name)
            .unwrap_or_default();
        let base = base
            .iter()
            .position(|&b| b == b'+')
            .map_or(base, |p| &base[p + 1..]);
        let standard = if base.starts_with(b"Helvetica") || base.starts_with(b"Arial") {
            Some(StdFamily::Helvetica)
        } else if base.starts_with(b"Times") {
            Some(StdFamily::Times)
        } else if base.starts_with(b"Courier") {
            Some(StdFamily::Courier)
        } else {
            None
        };
        let (mut scale, mut yscale) = (0.001, 0.001);
        if subtype == b"Type3"
            && let Some(m) = d.get(b"FontMatrix")
        {
            let m = number_array(doc, m, 6)?;
            if let [a, _, _, dd, ..] = m[..] {
                scale = a;
                yscale = dd;
            }
        }
        let first_char = match d.get(b"FirstChar").map(|o| doc.resolve(o)).transpose()? {
            Some(o) => o.as_i64().unwrap_or(0).clamp(0, 255) as u32,
            None => 0,
        };
        let widths = match d.get(b"Widths") {
            Some(o) => number_array(doc, o, 256)?,
            None => Vec::new(),
        };
        let missing_width = descriptor
            .as_ref()
            .and_then(|f| f.get(b"MissingWidth"))
            .map(|o| doc.resolve(o))
            .transpose()?
            .and_then(|o| o.as_f64())
            .unwrap_or(0.0);
        let encoding = simple_encoding(doc, d)?;
        let (ascent, descent) = metrics(doc, descriptor.as_ref(), standard, yscale)?;
        Ok(Font {
            kind: FontKind::Simple {
                encoding,
                first_char,
                standard: if widths.is_empty() {
                    standard.or(Some(StdFamily::Helvetica))
                } else {
                    None
                },
                widths,
                missing_width,
            },
            to_unicode,
            scale,
            ascent,
            descent,
            vertical: false,
        })
    }

    fn load_type0(doc: &Document, d: &Dict, to_unicode: Option<CMap>) -> Result<Font> {
        let desc = d
            .get(b"DescendantFonts")
            .map(|o| doc.resolve(o))
            .transpose()?
            .and_then(|o| o.as_array().and_then(|a| a.first().cloned()))
            .ok_or_else(|| PdfError::Invalid("a Type0 font has no /DescendantFonts".into()))?;
        let desc = doc.resolve_dict(&desc, "a descendant font")?;
        let (cids, vertical) = match d.get(b"Encoding").map(|o| doc.resolve(o)).transpose()? {
            Some(Object::Name(n)) => {
                let vertical = n.ends_with(b"-V");
                if n == b"Identity-H" || n == b"Identity-V" {
                    (CidSource::Identity, vertical)
                } else {
                    let unicode = find_bytes(&n, b"UCS2") || find_bytes(&n, b"UTF16");
                    (CidSource::Predefined { unicode }, vertical)
                }
            }
            Some(Object::Stream(s)) => {
                let vertical = s.dict.get(b"WMode").and_then(Object::as_i64) == Some(1);
                (CidSource::Embedded(CMap::parse(&s.decoded()?)?), vertical)
            }
            _ => {
                return Err(PdfError::Invalid(
                    "a Type0 font has no usable /Encoding".into(),
                ));
            }
        };
        let default_width = match desc.get(b"DW").map(|o| doc.resolve(o)).transpose()? {
            Some(o) => o.as_f64().unwrap_or(1000.0),
            None => 1000.0,
        };
        let mut widths = RangeMap::default();
        if let Some(w) = desc.get(b"W") {
            let w = doc.resolve(w)?;
            let items = w.as_array().unwrap_or_default();
            let mut i = 0;
            while i < items.len() {
                let Some(first) = doc
                    .resolve(&items[i])?
                    .as_i64()
                    .and_then(|v| u32::try_from(v).ok())
                else {
                    break;
                };
                match items.get(i + 1).map(|o| doc.resolve(o)).transpose()? {
                    Some(Object::Array(list)) => {
                        let list: Vec<f64> = list
                            .iter()
                            .map(|o| o.as_f64().unwrap_or(default_width))
                            .collect();
                        if !list.is_empty() {
                            let last = first.saturating_add(list.len() as u32 - 1);
                            widths.insert(first, last, WidthEntry::List(list))?;
                        }
                        i += 2;
                    }
                    Some(o) => {
                        let last = o.as_i64().and_then(|v| u32::try_from(v).ok());
                        let w = items
                            .get(i + 2)
                            .map(|o| doc.resolve(o))
                            .transpose()?
                            .and_then(|o| o.as_f64());
                        if let (Some(last), Some(w)) = (last, w) {
                            widths.insert(first, last, WidthEntry::Same(w))?;
                        }
                        i += 3;
                    }
                    None => break,
                }
            }
        }
        let descriptor = match desc.get(b"FontDescriptor") {
            Some(o) => Some(doc.resolve_dict(o, "a font descriptor")?),
            None => None,
        };
        let (ascent, descent) = metrics(doc, descriptor.as_ref(), None, 0.001)?;
        Ok(Font {
            kind: FontKind::Type0 {
                cids,
                widths,
                default_width,
            },
            to_unicode,
            scale: 0.001,
            ascent,
            descent,
            vertical,
        })
    }

    /// The code at `s[i..]` and its length in bytes.
    fn next_code(&self, s: &[u8], i: usize) -> (u32, usize) {
        match &self.kind {
            FontKind::Simple { .. } => (u32::from(s[i]), 1),
            FontKind::Type0 {
                cids: CidSource::Embedded(cmap),
                ..
            } => cmap.next_code(s, i, 2),
            FontKind::Type0 { .. } => {
                let rest = &s[i..];
                let n = rest.len().min(2);
                (be_value(&rest[..n]), n)
            }
        }
    }

    /// Width of `code` in text space per unit of font size.
    fn width(&self, code: u32, text: Option<&str>) -> f64 {
        let w = match &self.kind {
            FontKind::Simple {
                first_char,
                widths,
                missing_width,
                standard,
                ..
            } => {
                if let Some(family) = standard {
                    return f64::from(standard_width(*family, text.and_then(|t| t.chars().next())))
                        * 0.001;
                }
                code.checked_sub(*first_char)
                    .and_then(|i| widths.get(i as usize))
                    .copied()
                    .unwrap_or(*missing_width)
            }
            FontKind::Type0 {
                cids,
                widths,
                default_width,
            } => {
                let cid = match cids {
                    CidSource::Identity => Some(code),
                    CidSource::Embedded(cmap) if cmap.cid.is_empty() => Some(code),
                    CidSource::Embedded(cmap) => Some(
                        cmap.cid
                            .get(code)
                            .map_or(0, |(lo, c)| c.saturating_add(code - lo)),
                    ),
                    CidSource::Predefined { .. } => None,
                };
                cid.and_then(|cid| widths.get(cid).map(|(lo, e)| (cid - lo, e)))
                    .and_then(|(off, e)| match e {
                        WidthEntry::Same(w) => Some(*w),
                        WidthEntry::List(l) => l.get(off as usize).copied(),
                    })
                    .unwrap_or(*default_width)
            }
        };
        w * self.scale
    }

    /// The characters `code` stands for.
    fn unicode(&self, code: u32) -> Option<String> {
        if let Some(s) = self.to_unicode.as_ref().and_then(|m| m.unicode_of(code)) {
            return Some(s);
        }
        match &self.kind {
            FontKind::Simple { encoding, .. } => encoding.get(code as usize).cloned().flatten(),
            FontKind::Type0 {
                cids: CidSource::Predefined { unicode: true },
                ..
            } => char::from_u32(code).map(String::from),
            FontKind::Type0 { .. } => None,
        }
    }
}

fn find_bytes(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// An array of numbers (resolved), at most `max` long.
fn number_array(doc: &Document, o: &Object, max: usize) -> Result<Vec<f64>> {
    let o = doc.resolve(o)?;
    let items = o.as_array().unwrap_or_default();
    items
        .iter()
        .take(max)
        .map(|x| Ok(doc.resolve(x)?.as_f64().unwrap_or(0.0)))
        .collect()
}

/// Ascent and descent (text space per unit size) from the descriptor, else the standard
/// font's, else 0.8 and -0.2.
fn metrics(
    doc: &Document,
    descriptor: Option<&Dict>,
    standard: Option<StdFamily>,
    yscale: f64,
) -> Result<(f64, f64)> {
    let get = |key: &[u8]| -> Result<Option<f64>> {
        Ok(match descriptor.and_then(|d| d.get(key)) {
            Some(o) => doc.resolve(o)?.as_f64(),
            None => None,
        })
    };
    let (std_a, std_d) = match standard {
        Some(StdFamily::Helvetica) => (0.718, -0.207),
        Some(StdFamily::Times) => (0.683, -0.217),
        Some(StdFamily::Courier) => (0.629, -0.157),
        None => (0.8, -0.2),
    };
    let ascent = get(b"Ascent")?
        .map(|a| a * yscale)
        .filter(|a| *a > 0.0 && *a <= 3.0)
        .unwrap_or(std_a);
    let descent = get(b"Descent")?
        .map(|d| -(d * yscale).abs())
        .filter(|d| *d >= -2.0 && *d != 0.0)
        .unwrap_or(std_d);
    Ok((ascent, descent))
}

/// The characters of each code of a simple font, from `/Encoding`.
fn simple_encoding(doc: &Document, font: &Dict) -> Result<Vec<Option<String>>> {
    let enc = match font.get(b"Encoding") {
        Some(o) => Some(doc.resolve(o)?),
        None => None,
    };
    let base_name = match &enc {
        Some(Object::Name(n)) => Some(n.clone()),
        Some(Object::Dict(d)) => d
            .get(b"BaseEncoding")
            .and_then(Object::as_name)
            .map(<[u8]>::to_vec),
        _ => None,
    };
    let table = base_encoding(base_name.as_deref().unwrap_or(b"StandardEncoding"));
    let mut out: Vec<Option<String>> = table.iter().map(|c| c.map(String::from)).collect();
    if let Some(Object::Dict(d)) = &enc
        && let Some(diffs) = d.get(b"Differences")
    {
        let diffs = doc.resolve(diffs)?;
        let mut code: Option<usize> = None;
        for item in diffs.as_array().unwrap_or_default() {
            match item {
                Object::Integer(n) => code = usize::try_from(*n).ok(),
                Object::Name(name) => {
                    if let Some(c) = code {
                        if let Some(slot) = out.get_mut(c) {
                            *slot = glyph_unicode(name);
                        }
                        code = Some(c + 1);
                    }
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

/// Characters of the codes of a named base encoding (StandardEncoding for unknown names).
fn base_encoding(name: &[u8]) -> [Option<char>; 256] {
    let mut t = [None; 256];
    for c in 0x20u8..0x7f {
        t[c as usize] = Some(char::from(c));
    }
    match name {
        b"WinAnsiEncoding" => {
            for c in 0xa0u8..=0xff {
                t[c as usize] = Some(char::from(c));
            }
            for (i, c) in WIN_ANSI_80.chars().enumerate() {
                if c != '\0' {
                    t[0x80 + i] = Some(c);
                }
            }
        }
        b"MacRomanEncoding" => {
            for (i, c) in MAC_ROMAN_80.chars().enumerate() {
                if c != '\0' {
                    t[0x80 + i] = Some(c);
                }
            }
        }
        _ => {
            t[0x27] = Some('\u{2019}');
            t[0x60] = Some('\u{2018}');
            for &(code, c) in STANDARD_HIGH {
                t[code as usize] = Some(c);
            }
        }
    }
    t
}

/// WinAnsiEncoding 0x80..0x9F (`\0`: undefined).
const WIN_ANSI_80: &str = "€\0‚ƒ„…†‡ˆ‰Š‹Œ\0Ž\0\0‘’“”•–—˜™š›œ\0žŸ";
/// MacRomanEncoding 0x80..0xFF (`\0`: undefined).
const MAC_ROMAN_80: &str = "ÄÅÇÉÑÖÜáàâäãåçéèêëíìîïñóòôöõúùûü†°¢£§•¶ß®©™´¨≠ÆØ∞±≤≥¥µ∂∑∏π∫ªºΩæø¿¡¬√ƒ≈∆«»…\u{a0}ÀÃÕŒœ–—“”‘’÷◊ÿŸ⁄¤‹›ﬁﬂ‡·‚„‰ÂÊÁËÈÍÎÏÌÓÔ\0ÒÚÛÙıˆ˜¯˘˙˚¸˝˛ˇ";
/// StandardEncoding above 0x7F.
const STANDARD_HIGH: &[(u8, char)] = &[
    (0xa1, '¡'),
    (0xa2, '¢'),
    (0xa3, '£'),
    (0xa4, '⁄'),
    (0xa5, '¥'),
    (0xa6, 'ƒ'),
    (0xa7, '§'),
    (0xa8, '¤'),
    (0xa9, '\''),
    (0xaa, '“'),
    (0xab, '«'),
    (0xac, '‹'),
    (0xad, '›'),
    (0xae, 'ﬁ'),
    (0xaf, 'ﬂ'),
    (0xb1, '–'),
    (0xb2, '†'),
    (0xb3, '‡'),
    (0xb4, '·'),
    (0xb6, '¶'),
    (0xb7, '•'),
    (0xb8, '‚'),
    (0xb9, '„'),
    (0xba, '”'),
    (0xbb, '»'),
    (0xbc, '…'),
    (0xbd, '‰'),
    (0xbf, '¿'),
    (0xc1, '`'),
    (0xc2, '´'),
    (0xc3, 'ˆ'),
    (0xc4, '˜'),
    (0xc5, '¯'),
    (0xc6, '˘'),
    (0xc7, '˙'),
    (0xc8, '¨'),
    (0xca, '˚'),
    (0xcb, '¸'),
    (0xcd, '˝'),
    (0xce, '˛'),
    (0xcf, 'ˇ'),
    (0xd0, '—'),
    (0xe1, 'Æ'),
    (0xe3, 'ª'),
    (0xe8, 'Ł'),
    (0xe9, 'Ø'),
    (0xea, 'Œ'),
    (0xeb, 'º'),
    (0xf1, 'æ'),
    (0xf5, 'ı'),
    (0xf8, 'ł'),
    (0xf9, 'ø'),
    (0xfa, 'œ'),
    (0xfb, 'ß'),
];

/// Glyph names of 0x20..0x7E.
const ASCII_NAMES: [&str; 95] = [
    "space",
    "exclam",
    "quotedbl",
    "numbersign",
    "dollar",
    "percent",
    "ampersand",
    "quotesingle",
    "parenleft",
    "parenright",
    "asterisk",
    "plus",
    "comma",
    "hyphen",
    "period",
    "slash",
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "colon",
    "semicolon",
    "less",
    "equal",
    "greater",
    "question",
    "at",
    "A",
    "B",
    "C",
    "D",
    "E",
    "F",
    "G",
    "H",
    "I",
    "J",
    "K",
    "L",
    "M",
    "N",
    "O",
    "P",
    "Q",
    "R",
    "S",
    "T",
    "U",
    "V",
    "W",
    "X",
    "Y",
    "Z",
    "bracketleft",
    "backslash",
    "bracketright",
    "asciicircum",
    "underscore",
    "grave",
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "g",
    "h",
    "i",
    "j",
    "k",
    "l",
    "m",
    "n",
    "o",
    "p",
    "q",
    "r",
    "s",
    "t",
    "u",
    "v",
    "w",
    "x",
    "y",
    "z",
    "braceleft",
    "bar",
    "braceright",
    "asciitilde",
];
/// Glyph names of 0xA0..0xFF.
const LATIN1_NAMES: [&str; 96] = [
    "nbspace",
    "exclamdown",
    "cent",
    "sterling",
    "currency",
    "yen",
    "brokenbar",
    "section",
    "dieresis",
    "copyright",
    "ordfeminine",
    "guillemotleft",
    "logicalnot",
    "sfthyphen",
    "registered",
    "macron",
    "degree",
    "plusminus",
    "twosuperior",
    "threesuperior",
    "acute",
    "mu",
    "paragraph",
    "periodcentered",
    "cedilla",
    "onesuperior",
    "ordmasculine",
    "guillemotright",
    "onequarter",
    "onehalf",
    "threequarters",
    "questiondown",
    "Agrave",
    "Aacute",
    "Acircumflex",
    "Atilde",
    "Adieresis",
    "Aring",
    "AE",
    "Ccedilla",
    "Egrave",
    "Eacute",
    "Ecircumflex",
    "Edieresis",
    "Igrave",
    "Iacute",
    "Icircumflex",
    "Idieresis",
    "Eth",
    "Ntilde",
    "Ograve",
    "Oacute",
    "Ocircumflex",
    "Otilde",
    "Odieresis",
    "multiply",
    "Oslash",
    "Ugrave",
    "Uacute",
    "Ucircumflex",
    "Udieresis",
    "Yacute",
    "Thorn",
    "germandbls",
    "agrave",
    "aacute",
    "acircumflex",
    "atilde",
    "adieresis",
    "aring",
    "ae",
    "ccedilla",
    "egrave",
    "eacute",
    "ecircumflex",
    "edieresis",
    "igrave",
    "iacute",
    "icircumflex",
    "idieresis",
    "eth",
    "ntilde",
    "ograve",
    "oacute",
    "ocircumflex",
    "otilde",
    "odieresis",
    "divide",
    "oslash",
    "ugrave",
    "uacute",
    "ucircumflex",
    "udieresis",
    "yacute",
    "thorn",
    "ydieresis",
];
/// Other common glyph names.
const OTHER_NAMES: &[(&str, char)] = &[
    ("quoteright", '’'),
    ("quoteleft", '‘'),
    ("quotesinglbase", '‚'),
    ("quotedblleft", '“'),
    ("quotedblright", '”'),
    ("quotedblbase", '„'),
    ("guilsinglleft", '‹'),
    ("guilsinglright", '›'),
    ("endash", '–'),
    ("emdash", '—'),
    ("bullet", '•'),
    ("ellipsis", '…'),
    ("dagger", '†'),
    ("daggerdbl", '‡'),
    ("perthousand", '‰'),
    ("trademark", '™'),
    ("Euro", '€'),
    ("florin", 'ƒ'),
    ("fraction", '⁄'),
    ("fi", 'ﬁ'),
    ("fl", 'ﬂ'),
    ("ff", 'ﬀ'),
    ("ffi", 'ﬃ'),
    ("ffl", 'ﬄ'),
    ("circumflex", 'ˆ'),
    ("tilde", '˜'),
    ("breve", '˘'),
    ("dotaccent", '˙'),
    ("ring", '˚'),
    ("ogonek", '˛'),
    ("caron", 'ˇ'),
    ("hungarumlaut", '˝'),
    ("dotlessi", 'ı'),
    ("Lslash", 'Ł'),
    ("lslash", 'ł'),
    ("OE", 'Œ'),
    ("oe", 'œ'),
    ("Scaron", 'Š'),
    ("scaron", 'š'),
    ("Zcaron", 'Ž'),
    ("zcaron", 'ž'),
    ("Ydieresis", 'Ÿ'),
    ("minus", '−'),
    ("notequal", '≠'),
    ("infinity", '∞'),
    ("lessequal", '≤'),
    ("greaterequal", '≥'),
    ("partialdiff", '∂'),
    ("summation", '∑'),
    ("product", '∏'),
    ("pi", 'π'),
    ("integral", '∫'),
    ("Omega", 'Ω'),
    ("radical", '√'),
    ("approxequal", '≈'),
    ("Delta", '∆'),
    ("lozenge", '◊'),
    ("nonbreakingspace", '\u{a0}'),
    ("middot", '·'),
    ("softhyphen", '\u{ad}'),
];

/// The Unicode text of a glyph name: the tables above, `uniXXXX…`, `uXXXX[XX]`, and
/// `base.suffix` / `a_b` ligature names by their parts.
fn glyph_unicode(name: &[u8]) -> Option<String> {
    static TABLE: OnceLock<HashMap<&'static str, char>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut m = HashMap::new();
        for (i, n) in ASCII_NAMES.iter().enumerate() {
            m.insert(*n, char::from(0x20 + i as u8));
        }
        for (i, n) in LATIN1_NAMES.iter().enumerate() {
            m.insert(*n, char::from(0xa0 + i as u8));
        }
        for &(n, c) in OTHER_NAMES {
            m.insert(n, c);
        }
        m
    });
    let name = std::str::from_utf8(name).ok()?;
    let name = name.split('.').next().unwrap_or(name);
    if name.is_empty() || name.len() > 256 {
        return None;
    }
    if name.contains('_') {
        let parts: Option<String> = name
            .split('_')
            .map(|p| glyph_unicode(p.as_bytes()))
            .collect();
        return parts;
    }
    if let Some(&c) = table.get(name) {
        return Some(c.to_string());
    }
    if let Some(hex) = name.strip_prefix("uni")
        && !hex.is_empty()
        && hex.len() % 4 == 0
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        let units: Vec<u16> = hex
            .as_bytes()
            .chunks(4)
            .filter_map(|c| u16::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok())
            .collect();
        return Some(utf16_string(&units));
    }
    if let Some(hex) = name.strip_prefix('u')
        && (4..=6).contains(&hex.len())
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return u32::from_str_radix(hex, 16)
            .ok()
            .and_then(char::from_u32)
            .map(String::from);
    }
    None
}

/// Helvetica widths of 0x20..0x7E (AFM, 1000 units per em).
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
/// Times-Roman widths of 0x20..0x7E.
const TIMES: [u16; 95] = [
    250, 333, 408, 500, 500, 833, 778, 180, 333, 333, 500, 564, 250, 333, 250, 278, 500, 500, 500,
    500, 500, 500, 500, 500, 500, 500, 278, 278, 564, 564, 564, 444, 921, 722, 667, 667, 722, 611,
    556, 722, 722, 333, 389, 722, 611, 889, 722, 722, 556, 722, 667, 556, 611, 722, 722, 944, 722,
    722, 611, 333, 278, 333, 469, 500, 333, 444, 500, 444, 500, 444, 333, 500, 500, 278, 278, 500,
    278, 778, 500, 500, 500, 500, 333, 389, 278, 500, 500, 722, 500, 500, 444, 480, 200, 480, 541,
];

/// The width of a character in a standard font (bold and italic styles use the regular
/// widths: an approximation).
fn standard_width(family: StdFamily, c: Option<char>) -> u16 {
    let table = match family {
        StdFamily::Courier => return 600,
        StdFamily::Helvetica => &HELVETICA,
        StdFamily::Times => &TIMES,
    };
    match c {
        Some(c @ ' '..='~') => table[c as usize - 0x20],
        Some('\u{2018}' | '\u{2019}') => table[b'\'' as usize - 0x20].max(222),
        _ => table[b'n' as usize - 0x20],
    }
}

// ---------------------------------------------------------------------------------------------
// The interpreter

/// A form XObject ready to run.
struct Form {
    content: Vec<u8>,
    matrix: Matrix,
    resources: Option<Rc<Resources>>,
}

/// A resource dictionary with its font and XObject dictionaries resolved.
struct Resources {
    fonts: Dict,
    xobjects: Dict,
}

impl Resources {
    fn new(doc: &Document, res: Option<&Object>) -> Result<Resources> {
        let res = match res {
            Some(o) => match doc.resolve(o)? {
                Object::Dict(d) => d,
                Object::Null => Dict::new(),
                _ => return Err(PdfError::Invalid("/Resources is not a dictionary".into())),
            },
            None => Dict::new(),
        };
        let sub = |key: &[u8], what: &str| -> Result<Dict> {
            match res.get(key) {
                Some(o) => match doc.resolve(o)? {
                    Object::Null => Ok(Dict::new()),
                    other => other
                        .as_dict()
                        .cloned()
                        .ok_or_else(|| PdfError::Invalid(format!("{what} is not a dictionary"))),
                },
                None => Ok(Dict::new()),
            }
        };
        Ok(Resources {
            fonts: sub(b"Font", "/Resources /Font")?,
            xobjects: sub(b"XObject", "/Resources /XObject")?,
        })
    }
}

#[derive(Clone)]
struct GState {
    ctm: Matrix,
    font: Option<Rc<Font>>,
    size: f64,
    char_spacing: f64,
    word_spacing: f64,
    /// `Tz` / 100.
    hscale: f64,
    leading: f64,
    rise: f64,
}

impl Default for GState {
    fn default() -> Self {
        Self {
            ctm: IDENTITY,
            font: None,
            size: 0.0,
            char_spacing: 0.0,
            word_spacing: 0.0,
            hscale: 1.0,
            leading: 0.0,
            rise: 0.0,
        }
    }
}

struct Interp<'d, 'a> {
    doc: &'d Document<'a>,
    /// Fonts by object, kept across pages.
    fonts: HashMap<ObjRef, Rc<Font>>,
    /// Form XObjects by object (`None`: not a form), for the current page.
    forms: HashMap<ObjRef, Option<Rc<Form>>>,
    /// Forms being drawn (the innermost last).
    form_stack: Vec<ObjRef>,
    /// Content bytes still allowed on this page.
    budget: u64,
    operators: u64,
    gs: GState,
    saved: Vec<GState>,
    tm: Matrix,
    tlm: Matrix,
    text: PageText,
}

impl<'d, 'a> Interp<'d, 'a> {
    fn new(doc: &'d Document<'a>) -> Self {
        Self {
            doc,
            fonts: HashMap::new(),
            forms: HashMap::new(),
            form_stack: Vec::new(),
            budget: MAX_DECODED,
            operators: 0,
            gs: GState::default(),
            saved: Vec::new(),
            tm: IDENTITY,
            tlm: IDENTITY,
            text: PageText::default(),
        }
    }

    /// Interpret page `number` and return its text.
    fn page(&mut self, number: usize) -> Result<PageText> {
        let (_, page) = self.doc.page(number)?;
        self.forms.clear();
        self.form_stack.clear();
        self.budget = MAX_DECODED;
        self.operators = 0;
        self.gs = GState::default();
        self.saved.clear();
        self.text = PageText::default();
        let res = self.doc.inherited(&page, b"Resources")?;
        let res = Rc::new(Resources::new(self.doc, res.as_ref())?);
        let mut content = Vec::new();
        let streams = match page.get(b"Contents") {
            None => Vec::new(),
            Some(o) => match self.doc.resolve(o)? {
                Object::Array(a) => a,
                Object::Null => Vec::new(),
                s @ Object::Stream(_) => vec![s],
                _ => {
                    return Err(PdfError::Invalid(format!(
                        "page {number} /Contents is neither a stream nor an array"
                    )));
                }
            },
        };
        for s in &streams {
            let Object::Stream(s) = self.doc.resolve(s)? else {
                return Err(PdfError::Invalid(format!(
                    "page {number} /Contents holds something that is not a stream"
                )));
            };
            let data = filter::decode(&s.dict, &s.data, self.budget)?;
            self.spend(data.len())?;
            content.extend_from_slice(&data);
            content.push(b' ');
        }
        self.run(&content, &res, &res)?;
        Ok(std::mem::take(&mut self.text))
    }

    fn spend(&mut self, bytes: usize) -> Result<()> {
        self.budget = self
            .budget
            .checked_sub(bytes as u64)
            .ok_or(PdfError::LimitExceeded {
                what: "content bytes interpreted for one page",
                limit: MAX_DECODED,
            })?;
        Ok(())
    }

    fn font(&mut self, res: &Resources, name: &[u8]) -> Result<Option<Rc<Font>>> {
        match res.fonts.get(name) {
            None => Ok(None),
            Some(Object::Ref(r)) => {
                if let Some(f) = self.fonts.get(r) {
                    return Ok(Some(Rc::clone(f)));
                }
                let d = self.doc.get_dict(*r, "a font")?;
                let f = Rc::new(Font::load(self.doc, &d)?);
                if self.fonts.len() >= MAX_CACHED_FONTS {
                    self.fonts.clear();
                }
                self.fonts.insert(*r, Rc::clone(&f));
                Ok(Some(f))
            }
            Some(o) => {
                let d = self.doc.resolve_dict(o, "a font")?;
                Ok(Some(Rc::new(Font::load(self.doc, &d)?)))
            }
        }
    }

    fn form(&mut self, r: ObjRef) -> Result<Option<Rc<Form>>> {
        if let Some(f) = self.forms.get(&r) {
            return Ok(f.clone());
        }
        let form = match self.doc.get(r)? {
            Object::Stream(s) if s.dict.has_name(b"Subtype", b"Form") => {
                let content = filter::decode(&s.dict, &s.data, self.budget)?;
                let matrix = match s.dict.get(b"Matrix") {
                    Some(m) => {
                        let m = number_array(self.doc, m, 6)?;
                        <[f64; 6]>::try_from(m).unwrap_or(IDENTITY)
                    }
                    None => IDENTITY,
                };
                let resources = match s.dict.get(b"Resources") {
                    Some(o) => Some(Rc::new(Resources::new(self.doc, Some(o))?)),
                    None => None,
                };
                Some(Rc::new(Form {
                    content,
                    matrix,
                    resources,
                }))
            }
            _ => None,
        };
        self.forms.insert(r, form.clone());
        Ok(form)
    }

    /// Run a content stream with resources `res` (`page_res` for forms without their own).
    fn run(&mut self, data: &[u8], res: &Rc<Resources>, page_res: &Rc<Resources>) -> Result<()> {
        let mut lx = Lexer::new(data);
        let mut ops: Vec<Operand> = Vec::new();
        while let Some(tok) = lx.next_token()? {
            let op = match tok {
                Token::Operand(o) => {
                    if ops.len() >= MAX_OPERANDS {
                        return Err(PdfError::LimitExceeded {
                            what: "operands waiting for an operator in a content stream",
                            limit: MAX_OPERANDS as u64,
                        });
                    }
                    ops.push(o);
                    continue;
                }
                Token::Operator(op) => op,
            };
            self.operators += 1;
            if self.operators > MAX_OPERATORS {
                return Err(PdfError::LimitExceeded {
                    what: "content-stream operators on one page",
                    limit: MAX_OPERATORS,
                });
            }
            self.operator(op, &ops, &mut lx, res, page_res)?;
            ops.clear();
        }
        Ok(())
    }

    fn operator(
        &mut self,
        op: &[u8],
        ops: &[Operand],
        lx: &mut Lexer,
        res: &Rc<Resources>,
        page_res: &Rc<Resources>,
    ) -> Result<()> {
        let nums: Vec<f64> = ops.iter().filter_map(Operand::num).collect();
        let n = |i: usize| nums.get(i).copied();
        match op {
            b"q" => {
                if self.saved.len() >= MAX_Q_DEPTH {
                    return Err(PdfError::LimitExceeded {
                        what: "nesting of q operators",
                        limit: MAX_Q_DEPTH as u64,
                    });
                }
                self.saved.push(self.gs.clone());
            }
            b"Q" => {
                if let Some(g) = self.saved.pop() {
                    self.gs = g;
                }
            }
            b"cm" => {
                if let Ok(m) = <[f64; 6]>::try_from(nums.as_slice()) {
                    self.gs.ctm = mul(&m, &self.gs.ctm);
                }
            }
            b"BT" => {
                self.tm = IDENTITY;
                self.tlm = IDENTITY;
            }
            b"Tf" => {
                if let (Some(Operand::Name(name)), Some(size)) = (ops.first(), n(0)) {
                    self.gs.font = self.font(res, name)?;
                    self.gs.size = size;
                }
            }
            b"Tc" => self.gs.char_spacing = n(0).unwrap_or(self.gs.char_spacing),
            b"Tw" => self.gs.word_spacing = n(0).unwrap_or(self.gs.word_spacing),
            b"Tz" => self.gs.hscale = n(0).map_or(self.gs.hscale, |v| v / 100.0),
            b"TL" => self.gs.leading = n(0).unwrap_or(self.gs.leading),
            b"Ts" => self.gs.rise = n(0).unwrap_or(self.gs.rise),
            b"Td" | b"TD" => {
                if let (Some(x), Some(y)) = (n(0), n(1)) {
                    if op == b"TD" {
                        self.gs.leading = -y;
                    }
                    self.next_line(x, y);
                }
            }
            b"Tm" => {
                if let Ok(m) = <[f64; 6]>::try_from(nums.as_slice()) {
                    self.tm = m;
                    self.tlm = m;
                }
            }
            b"T*" => self.next_line(0.0, -self.gs.leading),
            b"Tj" => {
                if let Some(Operand::Str(s)) = ops.first() {
                    self.show(s)?;
                }
            }
            b"'" => {
                if let Some(Operand::Str(s)) = ops.first() {
                    self.next_line(0.0, -self.gs.leading);
                    self.show(s)?;
                }
            }
            b"\"" => {
                if let (Some(aw), Some(ac), Some(Operand::Str(s))) = (n(0), n(1), ops.get(2)) {
                    self.gs.word_spacing = aw;
                    self.gs.char_spacing = ac;
                    self.next_line(0.0, -self.gs.leading);
                    self.show(s)?;
                }
            }
            b"TJ" => {
                if let Some(Operand::Array(items)) = ops.first() {
                    for item in items {
                        match item {
                            Operand::Str(s) => self.show(s)?,
                            Operand::Num(adj) => self.adjust(*adj),
                            _ => {}
                        }
                    }
                }
            }
            b"BI" => lx.skip_inline_image()?,
            b"Do" => {
                if let Some(Operand::Name(name)) = ops.first() {
                    self.draw_xobject(name, res, page_res)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn next_line(&mut self, x: f64, y: f64) {
        self.tlm = mul(&translate(x, y), &self.tlm);
        self.tm = self.tlm;
    }

    /// A `TJ` number: move back by `adj` thousandths of the font size.
    fn adjust(&mut self, adj: f64) {
        let d = -adj / 1000.0 * self.gs.size;
        let vertical = self.gs.font.as_ref().is_some_and(|f| f.vertical);
        let m = if vertical {
            translate(0.0, d)
        } else {
            translate(d * self.gs.hscale, 0.0)
        };
        self.tm = mul(&m, &self.tm);
    }

    fn show(&mut self, s: &[u8]) -> Result<()> {
        let Some(font) = self.gs.font.clone() else {
            return Ok(()); // no font selected: nothing can be measured
        };
        let gs = &self.gs;
        let params = [gs.size * gs.hscale, 0.0, 0.0, gs.size, 0.0, gs.rise];
        let mut i = 0;
        while i < s.len() {
            let (code, len) = font.next_code(s, i);
            i += len.max(1);
            let text = font.unicode(code);
            let w0 = font.width(code, text.as_deref());
            let trm = mul(&params, &mul(&self.tm, &self.gs.ctm));
            let spacing = self.gs.char_spacing
                + if code == 32 && len == 1 {
                    self.gs.word_spacing
                } else {
                    0.0
                };
            let height = trm_len(&trm);
            let (bbox, end, step) = if font.vertical {
                (
                    bbox_of(&trm, -w0 / 2.0, -1.0, w0 / 2.0, 0.0),
                    apply(&trm, 0.0, -1.0),
                    translate(0.0, -self.gs.size + spacing),
                )
            } else {
                (
                    bbox_of(&trm, 0.0, font.descent, w0, font.ascent),
                    apply(&trm, w0, 0.0),
                    translate((w0 * self.gs.size + spacing) * self.gs.hscale, 0.0),
                )
            };
            let origin = apply(&trm, 0.0, 0.0);
            let text = text.unwrap_or_else(|| char::REPLACEMENT_CHARACTER.to_string());
            self.text.push(bbox, origin, end, height, &text)?;
            self.tm = mul(&step, &self.tm);
        }
        Ok(())
    }

    fn draw_xobject(
        &mut self,
        name: &[u8],
        res: &Rc<Resources>,
        page_res: &Rc<Resources>,
    ) -> Result<()> {
        let Some(Object::Ref(r)) = res.xobjects.get(name).cloned() else {
            return Ok(()); // missing, or not a stream (streams are always indirect)
        };
        if self.form_stack.contains(&r) {
            return Ok(()); // a form that draws itself
        }
        if self.form_stack.len() >= MAX_FORM_DEPTH {
            return Err(PdfError::LimitExceeded {
                what: "nesting of form XObjects",
                limit: MAX_FORM_DEPTH as u64,
            });
        }
        let Some(form) = self.form(r)? else {
            return Ok(()); // an image or something else without text
        };
        self.spend(form.content.len())?;
        let saved_gs = self.gs.clone();
        let saved_depth = self.saved.len();
        let (tm, tlm) = (self.tm, self.tlm);
        self.gs.ctm = mul(&form.matrix, &self.gs.ctm);
        self.form_stack.push(r);
        let form_res = form
            .resources
            .clone()
            .unwrap_or_else(|| Rc::clone(page_res));
        let result = self.run(&form.content, &form_res, page_res);
        self.form_stack.pop();
        self.saved.truncate(saved_depth);
        self.gs = saved_gs;
        self.tm = tm;
        self.tlm = tlm;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample_contract;

    /// A PDF whose object `i + 1` is `objs[i]`; object 1 must be the catalog.
    fn build(objs: &[Vec<u8>]) -> Vec<u8> {
        let mut out = b"%PDF-1.7\n".to_vec();
        let mut offsets = Vec::new();
        for (i, o) in objs.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(o);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes(),
        );
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objs.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut s = format!("<< /Length {} {dict} >>\nstream\n", data.len()).into_bytes();
        s.extend_from_slice(data);
        s.extend_from_slice(b"\nendstream");
        s
    }

    /// A test font: every code 32..126 is 500 units wide, no descriptor (ascent 0.8, descent
    /// -0.2), StandardEncoding.
    fn test_font() -> Vec<u8> {
        let widths = vec!["500"; 95].join(" ");
        format!("<< /Type /Font /Subtype /Type1 /BaseFont /TestFont /FirstChar 32 /LastChar 126 /Widths [{widths}] >>")
            .into_bytes()
    }

    /// One 600 × 800 page: object 3; its content is object 4, `/F1` is the test font (object
    /// 5); `extra` objects follow from 6 on; `resources` is added to the resource dictionary.
    fn one_page(content: &[u8], resources: &str, extra: &[Vec<u8>]) -> Vec<u8> {
        let mut objs = vec![
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 /Resources << /Font << /F1 5 0 R >> >> >>"
                .to_vec(),
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 800] /Contents 4 0 R{} >>",
                if resources.is_empty() {
                    String::new()
                } else {
                    let font = if resources.contains("/Font") {
                        ""
                    } else {
                        "/Font << /F1 5 0 R >>"
                    };
                    format!(" /Resources << {font} {resources} >>")
                }
            )
            .into_bytes(),
            stream("", content),
            test_font(),
        ];
        objs.extend_from_slice(extra);
        build(&objs)
    }

    fn rects(pdf: &[u8], needle: &str) -> Vec<[f64; 4]> {
        let doc = Document::open(&pdf).unwrap();
        doc.find_text(None, needle)
            .unwrap()
            .into_iter()
            .map(|m| m.rect)
            .collect()
    }

    #[track_caller]
    fn assert_rect(got: [f64; 4], want: [f64; 4]) {
        for i in 0..4 {
            assert!(
                (got[i] - want[i]).abs() < 0.01,
                "got {got:?}, want {want:?}"
            );
        }
    }

    #[test]
    fn sample_contract_text_and_positions() {
        let pdf = sample_contract("Service Agreement", 2, 0);
        let doc = Document::open(&pdf).unwrap();
        let text = doc.page_text(1).unwrap();
        assert!(
            text.starts_with("Service Agreement\n1. The Parties agree"),
            "{text}"
        );
        // The title: 20 pt Helvetica at (72, 770); "Service" is 3334/1000 em wide; Helvetica's
        // ascent and descent are 718 and -207.
        let m = doc.find_text(Some(1), "Service").unwrap();
        assert_eq!(m[0].page, 1);
        assert_rect(
            m[0].rect,
            [
                72.0,
                770.0 - 0.207 * 20.0,
                72.0 + 66.68,
                770.0 + 0.718 * 20.0,
            ],
        );
        // The first body line is at 730 - 14 (`'` moves down first); "1. The " is 3113/1000 em.
        let m = doc.find_text(Some(1), "Parties").unwrap();
        assert_eq!(m.len(), 10);
        assert!((m[0].rect[0] - (72.0 + 11.0 * 3.113)).abs() < 1e-9);
        assert!((m[0].rect[1] - (716.0 - 0.207 * 11.0)).abs() < 1e-9);
        // Spacing variants and all pages.
        let m = doc.find_text(None, "Page2of 2").unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].page, 2);
        assert_eq!(m[0].rect[0], 280.0);
        assert!(
            doc.find_text(None, "nowhere to be found")
                .unwrap()
                .is_empty()
        );
        assert!(doc.find_text(None, " \n ").unwrap().is_empty());
        assert!(matches!(
            doc.find_text(Some(3), "x"),
            Err(PdfError::PageOutOfRange { page: 3, count: 2 })
        ));
        // Case-sensitive.
        assert!(
            doc.find_text(Some(1), "service agreement")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn kerning_spacing_and_scaling() {
        // Each glyph of F1 is 5 pt wide at 10 pt; the box spans y - 2 .. y + 8.
        let pdf = one_page(b"BT /F1 10 Tf 100 700 Td [(AB) -1000 (CD)] TJ ET", "", &[]);
        assert_rect(rects(&pdf, "ABCD")[0], [100.0, 698.0, 130.0, 708.0]);
        assert_rect(rects(&pdf, "BC")[0], [105.0, 698.0, 125.0, 708.0]);
        // Tz 50 and Tc 2: advance (5 + 2) × 0.5, glyph box 2.5 wide.
        let pdf = one_page(b"BT /F1 10 Tf 50 Tz 2 Tc 100 600 Td (ABC) Tj ET", "", &[]);
        assert_rect(rects(&pdf, "ABC")[0], [100.0, 598.0, 109.5, 608.0]);
        // Tw applies to the space only; TD, T* and TL move lines.
        let pdf = one_page(
            b"BT /F1 10 Tf 10 Tw 100 500 Td (A B) Tj 0 -20 TD (C) Tj T* (D) Tj 30 TL (E) ' ET",
            "",
            &[],
        );
        assert_rect(rects(&pdf, "AB")[0], [100.0, 498.0, 125.0, 508.0]);
        assert_rect(rects(&pdf, "C")[0], [100.0, 478.0, 105.0, 488.0]);
        assert_rect(rects(&pdf, "D")[0], [100.0, 458.0, 105.0, 468.0]);
        assert_rect(rects(&pdf, "E")[0], [100.0, 428.0, 105.0, 438.0]);
        // " sets word and character spacing; Ts raises.
        let pdf = one_page(
            b"BT /F1 10 Tf 20 TL 100 300 Td 3 Ts 0 1 (XY) \" ET",
            "",
            &[],
        );
        assert_rect(rects(&pdf, "XY")[0], [100.0, 281.0, 111.0, 291.0]);
        // A scaled CTM.
        let pdf = one_page(
            b"q 2 0 0 2 10 20 cm BT /F1 10 Tf 5 5 Td (AB) Tj ET Q",
            "",
            &[],
        );
        assert_rect(rects(&pdf, "AB")[0], [20.0, 26.0, 40.0, 46.0]);
        // A text matrix rotated by 90°: the text runs upwards.
        let pdf = one_page(b"BT /F1 10 Tf 0 1 -1 0 300 100 Tm (AB) Tj ET", "", &[]);
        assert_rect(rects(&pdf, "AB")[0], [292.0, 100.0, 302.0, 110.0]);
        // q/Q restores the CTM.
        let pdf = one_page(
            b"q 2 0 0 2 0 0 cm Q BT /F1 10 Tf 5 5 Td (AB) Tj ET",
            "",
            &[],
        );
        assert_rect(rects(&pdf, "AB")[0], [5.0, 3.0, 15.0, 13.0]);
    }

    #[test]
    fn split_text_and_contents_arrays() {
        let pdf = one_page(
            b"BT /F1 10 Tf 100 700 Td (Par) Tj (ty) Tj ( A) Tj 0 -20 Td (PartyA) Tj ET",
            "",
            &[],
        );
        let r = rects(&pdf, "Party A");
        assert_eq!(r.len(), 2);
        assert_rect(r[0], [100.0, 698.0, 135.0, 708.0]);
        assert_rect(r[1], [100.0, 678.0, 130.0, 688.0]);
        assert_eq!(rects(&pdf, "PartyA").len(), 2);
        assert!(rects(&pdf, "Party B").is_empty());
        // /Contents as an array of streams, split inside a word.
        let objs = vec![
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 800] /Resources << /Font << /F1 6 0 R >> >> /Contents [4 0 R 5 0 R] >>".to_vec(),
            stream("", b"BT /F1 10 Tf 10 10 Td (Hel) Tj"),
            stream("/Filter /FlateDecode", &filter::deflate(b"(lo) Tj ET")),
            test_font(),
        ];
        let pdf = build(&objs);
        assert_rect(rects(&pdf, "Hello")[0], [10.0, 8.0, 35.0, 18.0]);
        let doc = Document::open(&pdf).unwrap();
        assert_eq!(doc.page_text(1).unwrap(), "Hello");
    }

    #[test]
    fn form_xobjects() {
        let form = stream(
            "/Type /XObject /Subtype /Form /BBox [0 0 100 100] /Matrix [1 0 0 1 10 0] /Resources << /Font << /G 5 0 R >> /XObject << /Me 6 0 R >> >>",
            b"/Me Do BT /G 10 Tf 0 0 Td (XY) Tj ET",
        );
        // A form without resources of its own uses the page's.
        let bare = stream(
            "/Subtype /Form /BBox [0 0 100 100]",
            b"BT /F1 10 Tf 0 0 Td (ZW) Tj ET",
        );
        let pdf = one_page(
            b"q 1 0 0 1 50 50 cm /Fm1 Do Q /Fm2 Do /Nope Do",
            "/XObject << /Fm1 6 0 R /Fm2 7 0 R >>",
            &[form, bare],
        );
        assert_rect(rects(&pdf, "XY")[0], [60.0, 48.0, 70.0, 58.0]);
        assert_rect(rects(&pdf, "ZW")[0], [0.0, -2.0, 10.0, 8.0]);
    }

    /// A Type0 font with Identity-H codes, /W widths and a ToUnicode CMap using bfchar and both
    /// forms of bfrange: codes 1..6 are 甲 方 签 章 （ ）, code 7 is U+20000 (a surrogate pair).
    fn cjk_pdf(content: &[u8]) -> Vec<u8> {
        let cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def /CMapType 2 def
1 begincodespacerange <0000> <FFFF> endcodespacerange
3 beginbfchar <0001> <7532> <0002> <65B9> <0007> <D840DC00> endbfchar
2 beginbfrange <0003> <0004> [<7B7E> <7AE0>] <0005> <0006> <FF08> endbfrange
endcmap CMapName currentdict /CMap defineresource pop end end";
        one_page(
            content,
            "/Font << /F1 5 0 R /F2 6 0 R >>",
            &[
                b"<< /Type /Font /Subtype /Type0 /BaseFont /Song /Encoding /Identity-H /DescendantFonts [7 0 R] /ToUnicode 8 0 R >>".to_vec(),
                b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Song /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 9 0 R /DW 500 /W [1 [1000 1000] 3 6 1000] >>".to_vec(),
                stream("", cmap),
                b"<< /Type /FontDescriptor /FontName /Song /Flags 4 /Ascent 880 /Descent -120 /FontBBox [0 -120 1000 880] >>".to_vec(),
            ],
        )
    }

    #[test]
    fn type0_identity_h_with_to_unicode() {
        // One glyph per Tj, moved with Td: 甲方（签章）.
        let pdf = cjk_pdf(
            b"BT /F2 12 Tf 100 400 Td <0001> Tj 12 0 Td <0002> Tj 12 0 Td <0005> Tj 12 0 Td <0003> Tj 12 0 Td <0004> Tj 12 0 Td <0006> Tj ET
BT /F2 10 Tf 100 300 Td <00010002 0007 0008> Tj ET",
        );
        let doc = Document::open(&pdf).unwrap();
        let want = [100.0, 400.0 - 0.12 * 12.0, 172.0, 400.0 + 0.88 * 12.0];
        assert_rect(
            doc.find_text(Some(1), "甲方（签章）").unwrap()[0].rect,
            want,
        );
        assert_rect(
            doc.find_text(Some(1), "甲方 （ 签章 ）").unwrap()[0].rect,
            want,
        );
        assert_eq!(doc.find_text(None, "甲方").unwrap().len(), 2);
        // Codes 7 and 8 have no width in /W (DW 500); code 8 has no Unicode.
        let m = doc.find_text(None, "甲方\u{20000}").unwrap();
        assert_rect(m[0].rect, [100.0, 298.8, 125.0, 308.8]);
        let text = doc.page_text(1).unwrap();
        assert!(
            text.contains("甲方（签章）\n甲方\u{20000}\u{FFFD}"),
            "{text:?}"
        );
    }

    #[test]
    fn identity_v_runs_downwards() {
        let pdf = cjk_pdf(b"BT /F2 10 Tf 100 400 Td <00010002> Tj ET");
        // Same length, so the cross-reference offsets stay right.
        let pdf = String::from_utf8(pdf)
            .unwrap()
            .replace("/Identity-H", "/Identity-V");
        let pdf = pdf.into_bytes();
        assert_rect(rects(&pdf, "甲")[0], [95.0, 390.0, 105.0, 400.0]);
        assert_rect(rects(&pdf, "甲方")[0], [95.0, 380.0, 105.0, 400.0]);
    }

    #[test]
    fn embedded_cmap_encoding() {
        // One-byte codes 0x20..0x7F and two-byte codes 0x8000..0x8FFF; code 0x41 is CID 10
        // (width 2000), two-byte codes map to CIDs from 100.
        let enc = b"begincmap 2 begincodespacerange <20> <7F> <8000> <8FFF> endcodespacerange
1 begincidchar <41> 10 endcidchar 1 begincidrange <8000> <8FFF> 100 endcidrange endcmap";
        let tu = b"2 begincodespacerange <20> <7F> <8000> <8FFF> endcodespacerange
2 beginbfchar <41> <0041> <8001> <4E59> endbfchar";
        let pdf = one_page(
            b"BT /F2 10 Tf 0 0 Td <418001> Tj ET",
            "/Font << /F2 6 0 R >>",
            &[
                b"<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding 7 0 R /DescendantFonts [<< /Subtype /CIDFontType0 /W [10 10 2000 101 [300]] >>] /ToUnicode 8 0 R >>".to_vec(),
                stream("/Type /CMap /CMapName /X", enc),
                stream("", tu),
            ],
        );
        assert_rect(rects(&pdf, "A乙")[0], [0.0, -2.0, 23.0, 8.0]);
    }

    #[test]
    fn simple_font_encodings() {
        let pdf = one_page(
            b"BT /F2 10 Tf 0 0 Td (ABCD) Tj /F3 10 Tf (\\216\\245) Tj /F4 10 Tf (\\200\\223) Tj ET",
            "/Font << /F2 6 0 R /F3 7 0 R /F4 8 0 R >>",
            &[
                b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /BaseEncoding /WinAnsiEncoding /Differences [65 /Q /uni7532 /f_i /eacute.sc] >> >>".to_vec(),
                b"<< /Type /Font /Subtype /TrueType /BaseFont /Arial /Encoding /MacRomanEncoding >>".to_vec(),
                b"<< /Type /Font /Subtype /Type3 /FontMatrix [0.01 0 0 0.01 0 0] /FontBBox [0 0 100 100] /CharProcs << >> /Encoding /WinAnsiEncoding /FirstChar 128 /LastChar 147 /Widths [50 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 100] /Resources << >> >>".to_vec(),
            ],
        );
        let doc = Document::open(&pdf).unwrap();
        assert_eq!(doc.page_text(1).unwrap(), "Q甲fiéé•€“");
        // Type3 widths go through /FontMatrix: 50 × 0.01 × 10 = 5 pt.
        let m = doc.find_text(Some(1), "€“").unwrap();
        assert!((m[0].rect[2] - m[0].rect[0] - 15.0).abs() < 1e-9, "{m:?}");
    }

    #[test]
    fn inline_images_are_skipped() {
        let mut content = b"BI /W 4 /H 1 /BPC 8 /CS /G ID ".to_vec();
        content.extend_from_slice(b"\x00 EI\xff(\n");
        content.extend_from_slice(b"\nEI BT /F1 10 Tf 10 10 Td (Found) Tj ET ");
        // With a length: the data may hold anything.
        content.extend_from_slice(
            b"BI /W 4 /H 1 /L 6 ID \x00 EI \x01\x02 EI BT /F1 10 Tf 10 30 Td (Again) Tj ET",
        );
        let pdf = one_page(&content, "", &[]);
        assert_rect(rects(&pdf, "Found")[0], [10.0, 8.0, 35.0, 18.0]);
        assert_rect(rects(&pdf, "Again")[0], [10.0, 28.0, 35.0, 38.0]);
        let doc = Document::open(&pdf).unwrap();
        assert_eq!(doc.page_text(1).unwrap(), "Found\nAgain");
    }

    #[test]
    fn marked_content_and_literal_strings() {
        let pdf = one_page(
            b"/Span << /ActualText (x) /Nested << /A [1 2 (3)] >> >> BDC BT /F1 10 Tf 0 0 Td (a\\(b\\)\\\nc(d)\\101\\x) Tj ET EMC",
            "",
            &[],
        );
        let doc = Document::open(&pdf).unwrap();
        assert_eq!(doc.page_text(1).unwrap(), "a(b)c(d)Ax");
    }

    #[test]
    fn malformed_content_is_an_error_not_a_panic() {
        let cases: Vec<Vec<u8>> = vec![
            b"BT /F1 10 Tf (unterminated Tj ET".to_vec(),
            b"BT /F1 10 Tf <4142 Tj ET".to_vec(),
            b"BT /F1 10 Tf <41zz> Tj ET".to_vec(),
            [b"[".repeat(1000), b"(a) Tj".to_vec()].concat(),
            b"q ".repeat(MAX_Q_DEPTH + 1),
            b"BI /W 1 ID \x00\x01".to_vec(),
            b"BI /W 1".to_vec(),
            b"<< /A 1 ".to_vec(),
            b"1 ".repeat(MAX_OPERANDS + 1),
        ];
        for c in cases {
            let pdf = one_page(&c, "", &[]);
            let doc = Document::open(&pdf).unwrap();
            assert!(
                doc.find_text(None, "a").is_err(),
                "{:?}",
                String::from_utf8_lossy(&c[..c.len().min(40)])
            );
        }
        // Odd but harmless input is accepted.
        let pdf = one_page(
            b"] ) > } 1 2 3 Tj /F9 12 Tf (x) Tj BT (no font) Tj Q Q ET 1.2.3 -- Td",
            "",
            &[],
        );
        assert!(rects(&pdf, "nofont").is_empty());
        // Every prefix of a valid stream: Ok or Err, never a panic.
        let content = b"q 1 0 0 1 5 5 cm BT /F1 10 Tf [(A) -20 (B)] TJ <41> Tj (\\(x\\)) ' ET BI /W 1 /L 1 ID \x00 EI Q";
        for cut in 0..content.len() {
            let pdf = one_page(&content[..cut], "", &[]);
            let doc = Document::open(&pdf).unwrap();
            let _ = doc.find_text(None, "AB");
        }
    }

    #[test]
    fn hostile_structures_are_bounded() {
        // A form that draws itself, and two forms that draw each other 8 levels deep.
        let me = stream(
            "/Subtype /Form /Resources << /XObject << /A 6 0 R /B 7 0 R >> >>",
            b"/A Do /B Do",
        );
        let other = stream(
            "/Subtype /Form /Resources << /XObject << /A 6 0 R >> >>",
            b"/A Do",
        );
        let pdf = one_page(b"/A Do", "/XObject << /A 6 0 R /B 7 0 R >>", &[me, other]);
        let doc = Document::open(&pdf).unwrap();
        assert!(doc.find_text(None, "x").unwrap().is_empty());
        // A form drawn many times counts its bytes every time.
        let big = stream("/Subtype /Form", &b" ".repeat(1 << 20));
        let many = b"/A Do ".repeat(300);
        let pdf = one_page(&many, "/XObject << /A 6 0 R >>", &[big]);
        let doc = Document::open(&pdf).unwrap();
        assert!(matches!(
            doc.find_text(None, "x"),
            Err(PdfError::LimitExceeded { .. })
        ));
        // A huge bfrange costs nothing.
        let tu = stream("", b"begincodespacerange <00> <FF> endcodespacerange 1 beginbfrange <00000000> <FFFFFFFF> <0041> endbfrange");
        let pdf = one_page(
            b"BT /F2 10 Tf (\\001) Tj ET",
            "/Font << /F2 6 0 R >>",
            &[
                b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /ToUnicode 7 0 R >>".to_vec(),
                tu,
            ],
        );
        assert_rect(rects(&pdf, "B")[0], [0.0, -1.57, 6.0, 6.29]);
    }

    /// Unicode glyph names and CMap destinations.
    #[test]
    fn glyph_names() {
        assert_eq!(glyph_unicode(b"A").as_deref(), Some("A"));
        assert_eq!(glyph_unicode(b"eacute").as_deref(), Some("é"));
        assert_eq!(glyph_unicode(b"uni4E2D").as_deref(), Some("中"));
        assert_eq!(glyph_unicode(b"uni00660069").as_deref(), Some("fi"));
        assert_eq!(glyph_unicode(b"u1F600").as_deref(), Some("😀"));
        assert_eq!(glyph_unicode(b"f_f_i").as_deref(), Some("ffi"));
        assert_eq!(glyph_unicode(b"a.alt").as_deref(), Some("a"));
        assert_eq!(glyph_unicode(b"g123"), None);
        assert_eq!(glyph_unicode(b"uniD800"), Some("\u{FFFD}".into()));
    }

    fn corpus_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../signet/tests/data/corpora")
    }

    /// Boxes measured once with poppler 24 (`pdftotext -bbox FILE -`), converted to PDF user
    /// space with y = page height − poppler's y. Only words whose box poppler and we compute
    /// from the same metrics are listed: poppler replaces the metrics of non-embedded fonts by
    /// its built-in ones and draws annotation appearances, which page content search does not.
    #[test]
    fn boxes_agree_with_poppler() {
        let cases: &[(&str, usize, &str, [f64; 4])] = &[
            // Type1, standard Times-Roman without /Widths (built-in widths).
            (
                "pyHanko/internal/common-test-utils/src/pyhanko_testing_commons/test_data/data/pdf/minimal.pdf",
                1,
                "Hello",
                [0.0, -3.906, 39.996, 12.294],
            ),
            (
                "pyHanko/internal/common-test-utils/src/pyhanko_testing_commons/test_data/data/pdf/minimal.pdf",
                1,
                "World",
                [44.496, -3.906, 90.486, 12.294],
            ),
            // Type1 Helvetica, WinAnsi, /Widths.
            (
                "dss/dss-pades/src/test/resources/validation/pdf-eof.pdf",
                1,
                "demonstration",
                [138.150, 686.538, 201.510, 695.788],
            ),
            // Embedded Type1 and TrueType.
            (
                "dss/dss-pades/src/test/resources/validation/signature-referenced-from-multiple-fields.pdf",
                1,
                "Nimbus",
                [123.060, 798.780, 163.716, 813.636],
            ),
            (
                "dss/dss-pades/src/test/resources/validation/signature-referenced-from-multiple-fields.pdf",
                1,
                "FreeSans",
                [120.624, 770.400, 171.408, 783.600],
            ),
            (
                "dss/dss-pades/src/test/resources/validation/pdf-removed-pages.pdf",
                1,
                "authentication",
                [445.968, 740.838, 508.198, 750.051],
            ),
            // Type0 / CIDFontType2, Identity-H with ToUnicode.
            (
                "dss/dss-pades/src/test/resources/validation/pades-enveloping-other-pdf.pdf",
                1,
                "Signerad",
                [58.200, 716.673, 110.458, 731.922],
            ),
            (
                "dss/dss-pades/src/test/resources/validation/pades-enveloping-other-pdf.pdf",
                1,
                "samtycker",
                [379.631, 715.793, 426.029, 727.526],
            ),
            (
                "dss/dss-pades/src/test/resources/validation/pades-same-border-annotations.pdf",
                1,
                "pokyn",
                [152.338, 672.928, 189.627, 691.563],
            ),
        ];
        for &(path, page, word, want) in cases {
            let data = std::fs::read(corpus_dir().join(path)).unwrap();
            let doc = Document::open(&data).unwrap();
            let found = doc.find_text(Some(page), word).unwrap();
            let close = found
                .iter()
                .any(|m| (0..4).all(|i| (m.rect[i] - want[i]).abs() <= 2.0));
            assert!(close, "{path} {word}: poppler {want:?}, found {found:?}");
        }
    }

    /// Every page of every corpus file: a result or an error, never a panic.
    #[test]
    fn corpus_never_panics() {
        let mut stack = vec![corpus_dir()];
        let mut files = 0;
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "pdf") {
                    files += 1;
                    let data = std::fs::read(&p).unwrap();
                    let Ok(doc) = Document::open(&data) else {
                        continue;
                    };
                    let _ = doc.find_text(None, "the");
                }
            }
        }
        assert!(files > 40, "corpus not found: {files} files");
    }
}
