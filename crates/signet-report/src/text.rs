//! Measuring and line-breaking text in the caller's font.
//!
//! Each character becomes one glyph (the font's `cmap`), advanced by its horizontal metric
//! (`hmtx`). There is no shaping: that suits Chinese, Japanese, Korean, Latin, digits and
//! punctuation, which is what names, accounts, digests and proofs are made of; scripts that
//! need shaping (Arabic, Indic) would print unjoined. Measuring and drawing use the same
//! numbers, so a wrapped line never runs past its column.
//!
//! Line breaks: at `\n`; at spaces; between CJK characters (not before closing or after
//! opening punctuation); after `-`, `,`, `;`, `|`; and, when a run has no break opportunity
//! left (hex digests, base64 proofs), anywhere.

use std::cell::RefCell;
use std::collections::HashMap;

use ttf_parser::Face;

use crate::Error;

/// One glyph of a line: its id and advance in em units.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GlyphInfo {
    pub id: u16,
    pub advance_em: f32,
}

/// The metrics of one font face.
pub(crate) struct Metrics<'a> {
    face: Face<'a>,
    units_per_em: f32,
    cache: RefCell<HashMap<char, GlyphInfo>>,
}

impl<'a> Metrics<'a> {
    pub fn new(bytes: &'a [u8], index: u32) -> Result<Self, Error> {
        let face = Face::parse(bytes, index).map_err(|_| Error::Font { index })?;
        let units_per_em = f32::from(face.units_per_em());
        if units_per_em <= 0.0 {
            return Err(Error::Font { index });
        }
        Ok(Metrics { face, units_per_em, cache: RefCell::new(HashMap::new()) })
    }

    /// The glyph drawn for `c`: the font's glyph, else `.notdef` (glyph 0).
    pub fn glyph(&self, c: char) -> GlyphInfo {
        if let Some(g) = self.cache.borrow().get(&c) {
            return *g;
        }
        let id = self.face.glyph_index(c).unwrap_or(ttf_parser::GlyphId(0));
        let advance = self.face.glyph_hor_advance(id).map(f32::from).unwrap_or(self.units_per_em / 2.0);
        let g = GlyphInfo { id: id.0, advance_em: advance / self.units_per_em };
        self.cache.borrow_mut().insert(c, g);
        g
    }

    /// The width of `text` at `size` points (after [`clean`]).
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.glyph(c).advance_em * size).sum()
    }

    /// Splits `text` into lines no wider than `max` points at `size` (a single glyph wider
    /// than `max` still gets its own line). Always returns at least one line.
    pub fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut out = Vec::new();
        for para in text.split('\n') {
            let para = para.strip_suffix('\r').unwrap_or(para);
            self.wrap_paragraph(&clean(para), size, max, &mut out);
        }
        if out.is_empty() {
            out.push(String::new());
        }
        out
    }

    fn wrap_paragraph(&self, text: &str, size: f32, max: f32, out: &mut Vec<String>) {
        let chars: Vec<(char, f32)> = text.chars().map(|c| (c, self.glyph(c).advance_em * size)).collect();
        if chars.is_empty() {
            out.push(String::new());
            return;
        }
        let mut start = 0;
        while start < chars.len() {
            let mut width = 0.0;
            let mut i = start;
            let mut last_break = None;
            while let Some(&(c, w)) = chars.get(i) {
                if width + w > max && i > start {
                    break;
                }
                width += w;
                if let Some(&(next, _)) = chars.get(i + 1)
                    && can_break_between(c, next)
                {
                    last_break = Some(i + 1);
                }
                i += 1;
            }
            let end = if i >= chars.len() {
                chars.len()
            } else {
                match last_break {
                    Some(b) if b > start => b,
                    _ => i,
                }
            };
            let line: String = chars[start..end].iter().map(|&(c, _)| c).collect();
            out.push(line.trim_end_matches(' ').to_owned());
            start = end;
            while chars.get(start).is_some_and(|&(c, _)| c == ' ') {
                start += 1;
            }
        }
    }
}

/// Replaces characters that must not reach a content stream: tabs become a space, other
/// control and line-separator characters become U+FFFD.
pub(crate) fn clean(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

fn can_break_between(a: char, b: char) -> bool {
    if b == ' ' {
        return false;
    }
    if a == ' ' {
        return true;
    }
    if is_closing(b) || is_opening(a) {
        return false;
    }
    if is_cjk(a) || is_cjk(b) {
        return true;
    }
    // Not after '/' or '+': they are base64 digits, and a proof broken there reads badly.
    matches!(a, '-' | ',' | ';' | '|')
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FFF      // radicals, ideographic description
        | 0x3000..=0x303F    // CJK symbols and punctuation
        | 0x3040..=0x30FF    // kana
        | 0x3100..=0x31FF    // bopomofo, kana extensions
        | 0x3200..=0x4DBF    // enclosed, compatibility, extension A
        | 0x4E00..=0x9FFF    // unified ideographs
        | 0xAC00..=0xD7AF    // hangul
        | 0xF900..=0xFAFF    // compatibility ideographs
        | 0xFE30..=0xFE4F    // compatibility forms
        | 0xFF00..=0xFFEF    // full-width forms
        | 0x20000..=0x3FFFF) // extensions B and later
}

fn is_closing(c: char) -> bool {
    "，。、；：？！）》」』】〕〉”’…—·%),.;:!?]}".contains(c)
}

fn is_opening(c: char) -> bool {
    "（《「『【〔〈“‘([{".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_font() -> Vec<u8> {
        let path = crate::tests::CJK_FONT;
        std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e} (install Debian's fonts-noto-cjk)"))
    }

    #[test]
    fn wrapping_keeps_every_line_within_the_width_and_loses_no_character() {
        let bytes = test_font();
        let m = Metrics::new(&bytes, 2).unwrap();
        let long_b64 = "QUJD".repeat(600);
        let mixed =
            "签署人 张三 signed the contract 杭州某某科技有限公司，并确认。 sha256:0123456789abcdef0123456789abcdef";
        for text in [long_b64.as_str(), mixed, "", " ", "a b  c", "\u{7}\tx"] {
            for max in [1.0, 40.0, 200.0, 500.0] {
                let lines = m.wrap(text, 9.0, max);
                assert!(!lines.is_empty());
                for l in &lines {
                    let single_glyph = l.chars().count() <= 1;
                    assert!(single_glyph || m.width(l, 9.0) <= max + 0.01, "{l:?} wider than {max}");
                }
                let joined: String = lines.concat().chars().filter(|c| *c != ' ').collect();
                let want: String = clean(text).chars().filter(|c| *c != ' ').collect();
                assert_eq!(joined, want);
            }
        }
        // Breaks at spaces when it can, not inside words.
        let lines = m.wrap("alpha beta gamma delta", 9.0, m.width("alpha beta gamma", 9.0) - 1.0);
        assert_eq!(lines, ["alpha beta", "gamma delta"]);
        // Newlines always break.
        assert_eq!(m.wrap("a\nb\r\n\nc", 9.0, 500.0), ["a", "b", "", "c"]);
        // Closing punctuation stays with the character before it.
        let w = m.width("杭州某", 9.0) + 0.1;
        let lines = m.wrap("杭州某，科技", 9.0, w);
        assert!(lines.iter().all(|l| !l.starts_with('，')), "{lines:?}");
    }

    #[test]
    fn an_unreadable_font_is_an_error() {
        assert!(matches!(Metrics::new(b"not a font", 0), Err(Error::Font { index: 0 })));
    }
}
