//! Tokenising and parsing PDF objects from a [`Source`], a little at a time.
//!
//! A [`Cursor`] pulls small, growing chunks from the source, so parsing one object reads
//! only around that object. The parser is strict and bounded: nesting depth, the bytes one
//! object may span and the lengths of names and strings are limited, and running off the end
//! of the source is an error, never a hang or a panic. It does not know about cross-reference
//! tables; [`crate::document`] drives it.

use crate::error::{PdfError, Result};
use crate::object::{Dict, ObjRef, Object};
use crate::source::Source;

/// Deepest nesting of arrays and dictionaries accepted.
pub const MAX_DEPTH: usize = 64;
/// Most bytes one object (without stream data) may span.
pub const MAX_OBJECT_BYTES: u64 = 32 << 20;
/// Most raw stream bytes read into memory for one stream (256 MiB).
pub const MAX_STREAM_BYTES: u64 = 256 << 20;
const MAX_NAME: usize = 4096;
const FIRST_CHUNK: usize = 512;
const MAX_CHUNK: usize = 64 << 10;

/// A buffered forward reader over a [`Source`] with cheap seeks inside its buffer.
pub(crate) struct Cursor<'s> {
    src: &'s dyn Source,
    src_len: u64,
    buf: Vec<u8>,
    buf_start: u64,
    pos: usize,
    chunk: usize,
}

impl<'s> Cursor<'s> {
    pub fn new(src: &'s dyn Source, offset: u64) -> Self {
        Self {
            src,
            src_len: src.len(),
            buf: Vec::new(),
            buf_start: offset,
            pos: 0,
            chunk: FIRST_CHUNK,
        }
    }

    /// Current absolute offset.
    pub fn offset(&self) -> u64 {
        self.buf_start + self.pos as u64
    }

    pub fn seek(&mut self, offset: u64) {
        if offset >= self.buf_start && offset <= self.buf_start + self.buf.len() as u64 {
            self.pos = (offset - self.buf_start) as usize;
        } else {
            self.buf.clear();
            self.buf_start = offset;
            self.pos = 0;
        }
    }

    fn refill(&mut self) -> Result<bool> {
        let start = self.offset();
        if start >= self.src_len {
            return Ok(false);
        }
        let n = (self.src_len - start).min(self.chunk as u64) as usize;
        self.buf.resize(n, 0);
        self.src.read_at(start, &mut self.buf)?;
        self.buf_start = start;
        self.pos = 0;
        self.chunk = (self.chunk * 2).min(MAX_CHUNK);
        Ok(true)
    }

    /// The next byte without consuming it; `None` at the end of the source.
    #[inline]
    pub fn peek(&mut self) -> Result<Option<u8>> {
        if let Some(&b) = self.buf.get(self.pos) {
            return Ok(Some(b));
        }
        if !self.refill()? {
            return Ok(None);
        }
        Ok(self.buf.get(self.pos).copied())
    }

    #[inline]
    pub fn bump(&mut self) {
        self.pos += 1;
    }

    /// The bytes already buffered from the cursor on (call `peek` first to fill).
    pub fn buffered(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// Consume `n` buffered bytes.
    pub fn advance(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
    }

    /// Consume and return the next byte.
    pub fn next_byte(&mut self) -> Result<Option<u8>> {
        let b = self.peek()?;
        if b.is_some() {
            self.bump();
        }
        Ok(b)
    }

    /// Read exactly `n` bytes (stream data).
    pub fn read_vec(&mut self, n: u64) -> Result<Vec<u8>> {
        let start = self.offset();
        let end = start
            .checked_add(n)
            .filter(|&e| e <= self.src_len)
            .ok_or(PdfError::Syntax {
                offset: start,
                message: format!("stream /Length {n} runs past the end of the file"),
            })?;
        let mut out = vec![0u8; n as usize];
        self.src.read_at(start, &mut out)?;
        self.seek(end);
        Ok(out)
    }

    /// `true` if the bytes at the cursor are `kw` (not consumed).
    pub fn looking_at(&mut self, kw: &[u8]) -> Result<bool> {
        let start = self.offset();
        for &k in kw {
            if self.next_byte()? != Some(k) {
                self.seek(start);
                return Ok(false);
            }
        }
        self.seek(start);
        Ok(true)
    }

    pub fn skip_ws(&mut self) -> Result<()> {
        while let Some(b) = self.peek()? {
            if is_ws(b) {
                self.bump();
            } else if b == b'%' {
                while let Some(c) = self.peek()? {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.bump();
                }
            } else {
                break;
            }
        }
        Ok(())
    }

    pub fn err(&self, message: impl Into<String>) -> PdfError {
        PdfError::Syntax {
            offset: self.offset(),
            message: message.into(),
        }
    }
}

pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t' | b'\x0c' | b'\0')
}

pub(crate) fn is_delim(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// Parses objects from a cursor; optionally records where the top-level `/Contents` value sits.
pub(crate) struct Parser<'c, 's> {
    pub cur: &'c mut Cursor<'s>,
    start: u64,
    /// File span of the value of `/Contents` in the outermost dictionary, if seen.
    pub contents_span: Option<(u64, u64)>,
}

impl<'c, 's> Parser<'c, 's> {
    pub fn new(cur: &'c mut Cursor<'s>) -> Self {
        let start = cur.offset();
        Self {
            cur,
            start,
            contents_span: None,
        }
    }

    fn check_size(&self) -> Result<()> {
        if self.cur.offset().saturating_sub(self.start) > MAX_OBJECT_BYTES {
            return Err(PdfError::LimitExceeded {
                what: "size of one PDF object",
                limit: MAX_OBJECT_BYTES,
            });
        }
        Ok(())
    }

    /// Read a bare keyword/number token (regular characters up to a delimiter or whitespace).
    fn regular_token(&mut self) -> Result<Vec<u8>> {
        let mut tok = Vec::new();
        while let Some(b) = self.cur.peek()? {
            if is_ws(b) || is_delim(b) {
                break;
            }
            if tok.len() >= MAX_NAME {
                return Err(self.cur.err("token too long"));
            }
            tok.push(b);
            self.cur.bump();
        }
        Ok(tok)
    }

    /// Parse an unsigned integer token at the cursor (after whitespace); `None` if there is none.
    pub fn uint(&mut self) -> Result<Option<u64>> {
        self.cur.skip_ws()?;
        let start = self.cur.offset();
        let tok = self.regular_token()?;
        if tok.is_empty() || tok.len() > 19 || !tok.iter().all(u8::is_ascii_digit) {
            self.cur.seek(start);
            return Ok(None);
        }
        Ok(tok.iter().try_fold(0u64, |acc, d| {
            acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        }))
    }

    /// Expect the keyword `kw` (after whitespace).
    pub fn keyword(&mut self, kw: &[u8]) -> Result<bool> {
        self.cur.skip_ws()?;
        let start = self.cur.offset();
        let tok = self.regular_token()?;
        if tok == kw {
            Ok(true)
        } else {
            self.cur.seek(start);
            Ok(false)
        }
    }

    /// Parse one object.
    pub fn object(&mut self, depth: usize) -> Result<Object> {
        if depth > MAX_DEPTH {
            return Err(PdfError::LimitExceeded {
                what: "nesting depth of arrays and dictionaries",
                limit: MAX_DEPTH as u64,
            });
        }
        self.check_size()?;
        self.cur.skip_ws()?;
        let Some(b) = self.cur.peek()? else {
            return Err(self.cur.err("unexpected end of file, expected an object"));
        };
        match b {
            b'/' => {
                self.cur.bump();
                Ok(Object::Name(self.name_body()?))
            }
            b'(' => {
                self.cur.bump();
                Ok(Object::String(self.literal_string()?))
            }
            b'[' => {
                self.cur.bump();
                let mut items = Vec::new();
                loop {
                    self.cur.skip_ws()?;
                    match self.cur.peek()? {
                        Some(b']') => {
                            self.cur.bump();
                            return Ok(Object::Array(items));
                        }
                        None => return Err(self.cur.err("unexpected end of file inside an array")),
                        _ => items.push(self.object(depth + 1)?),
                    }
                }
            }
            b'<' => {
                self.cur.bump();
                if self.cur.peek()? == Some(b'<') {
                    self.cur.bump();
                    Ok(Object::Dict(self.dict_body(depth)?))
                } else {
                    Ok(Object::String(self.hex_string()?))
                }
            }
            b'+' | b'-' | b'.' | b'0'..=b'9' => self.number_or_ref(),
            _ => {
                let tok = self.regular_token()?;
                match tok.as_slice() {
                    b"true" => Ok(Object::Bool(true)),
                    b"false" => Ok(Object::Bool(false)),
                    b"null" => Ok(Object::Null),
                    b"" => Err(self
                        .cur
                        .err(format!("unexpected character {:?}", char::from(b)))),
                    other => Err(self.cur.err(format!(
                        "unexpected keyword {:?}",
                        String::from_utf8_lossy(other)
                    ))),
                }
            }
        }
    }

    fn dict_body(&mut self, depth: usize) -> Result<Dict> {
        let mut d = Dict::new();
        loop {
            self.cur.skip_ws()?;
            match self.cur.next_byte()? {
                Some(b'>') => {
                    if self.cur.next_byte()? == Some(b'>') {
                        return Ok(d);
                    }
                    return Err(self.cur.err("expected '>>' to close a dictionary"));
                }
                Some(b'/') => {
                    let key = self.name_body()?;
                    self.cur.skip_ws()?;
                    let value_start = self.cur.offset();
                    let value = self.object(depth + 1)?;
                    if depth == 0 && key == b"Contents" && self.contents_span.is_none() {
                        self.contents_span = Some((value_start, self.cur.offset()));
                    }
                    d.push_raw(key, value);
                }
                None => return Err(self.cur.err("unexpected end of file inside a dictionary")),
                Some(c) => {
                    return Err(self.cur.err(format!(
                        "expected a name key in a dictionary, found {:?}",
                        char::from(c)
                    )));
                }
            }
        }
    }

    fn name_body(&mut self) -> Result<Vec<u8>> {
        let mut name = Vec::new();
        while let Some(b) = self.cur.peek()? {
            if is_ws(b) || is_delim(b) {
                break;
            }
            self.cur.bump();
            if name.len() >= MAX_NAME {
                return Err(self.cur.err("name too long"));
            }
            if b == b'#' {
                let h = self.cur.next_byte()?.and_then(hex_val);
                let l = self.cur.next_byte()?.and_then(hex_val);
                match (h, l) {
                    (Some(h), Some(l)) => name.push(h << 4 | l),
                    _ => return Err(self.cur.err("bad #xx escape in a name")),
                }
            } else {
                name.push(b);
            }
        }
        Ok(name)
    }

    fn literal_string(&mut self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut depth = 1usize;
        loop {
            if out.len() as u64 > MAX_OBJECT_BYTES {
                return Err(PdfError::LimitExceeded {
                    what: "string length",
                    limit: MAX_OBJECT_BYTES,
                });
            }
            let Some(b) = self.cur.next_byte()? else {
                return Err(self.cur.err("unexpected end of file inside a string"));
            };
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
                    // An unescaped EOL of any kind reads as \n.
                    if self.cur.peek()? == Some(b'\n') {
                        self.cur.bump();
                    }
                    out.push(b'\n');
                }
                b'\\' => {
                    let Some(e) = self.cur.next_byte()? else {
                        return Err(self.cur.err("unexpected end of file inside a string"));
                    };
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if self.cur.peek()? == Some(b'\n') {
                                self.cur.bump();
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.cur.peek()? {
                                    Some(d @ b'0'..=b'7') => {
                                        self.cur.bump();
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

    fn hex_string(&mut self) -> Result<Vec<u8>> {
        // Signature /Contents are tens of kilobytes of hex: decode straight from the cursor's
        // buffer, a chunk at a time, with a table instead of a byte-by-byte state machine.
        let mut out = Vec::new();
        let mut hi: Option<u8> = None;
        loop {
            if self.cur.peek()?.is_none() {
                return Err(self.cur.err("unexpected end of file inside a hex string"));
            }
            let chunk = self.cur.buffered();
            out.reserve(chunk.len() / 2);
            let mut used = 0;
            let mut end = None;
            for &b in chunk {
                used += 1;
                let v = HEX[usize::from(b)];
                if v < 16 {
                    match hi.take() {
                        Some(h) => out.push(h << 4 | v),
                        None => hi = Some(v),
                    }
                } else if b == b'>' {
                    end = Some(Ok(()));
                    break;
                } else if !is_ws(b) {
                    end = Some(Err(b));
                    break;
                }
            }
            self.cur.advance(used);
            if out.len() as u64 > MAX_OBJECT_BYTES {
                return Err(PdfError::LimitExceeded {
                    what: "string length",
                    limit: MAX_OBJECT_BYTES,
                });
            }
            match end {
                Some(Ok(())) => {
                    if let Some(h) = hi {
                        out.push(h << 4);
                    }
                    return Ok(out);
                }
                Some(Err(b)) => {
                    return Err(self.cur.err(format!(
                        "invalid character {:?} in a hex string",
                        char::from(b)
                    )));
                }
                None => {}
            }
        }
    }

    fn number_or_ref(&mut self) -> Result<Object> {
        let start = self.cur.offset();
        let tok = self.regular_token()?;
        let first = parse_number(&tok).ok_or_else(|| PdfError::Syntax {
            offset: start,
            message: format!("invalid number {:?}", String::from_utf8_lossy(&tok)),
        })?;
        let Object::Integer(num) = first else {
            return Ok(first);
        };
        if num < 0 {
            return Ok(first);
        }
        // Look ahead for "GEN R".
        let after_first = self.cur.offset();
        if let Some(r#gen) = self.uint()?
            && self.keyword(b"R")?
        {
            if let (Ok(num), Ok(r#gen)) = (u32::try_from(num), u16::try_from(r#gen)) {
                return Ok(Object::Ref(ObjRef { num, r#gen }));
            }
            return Err(self.cur.err("object reference number out of range"));
        }
        self.cur.seek(after_first);
        Ok(first)
    }
}

/// Hex digit values; 0xff for anything else.
const HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

pub(crate) fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn parse_number(tok: &[u8]) -> Option<Object> {
    let s = std::str::from_utf8(tok).ok()?;
    if !s.contains('.') {
        return s.parse::<i64>().ok().map(Object::Integer);
    }
    if s.contains(['e', 'E']) {
        return None;
    }
    let v: f64 = s.parse().ok().or_else(|| {
        // PDF allows "-.5" and "5." which Rust accepts; "+" prefix and "-" alone it does not.
        s.strip_prefix('+').and_then(|r| r.parse().ok())
    })?;
    v.is_finite().then_some(Object::Real(v))
}

/// An indirect object as found in the file.
pub(crate) struct IndirectObject {
    pub id: ObjRef,
    pub object: Object,
    /// For a dictionary: the span of the top-level `/Contents` value.
    pub contents_span: Option<(u64, u64)>,
}

/// Parse `num r#gen obj ... endobj` at `offset`. A stream's `/Length` is resolved with
/// `length_of` when it is an indirect reference.
pub(crate) fn indirect_object_at(
    src: &dyn Source,
    offset: u64,
    length_of: &dyn Fn(ObjRef) -> Result<i64>,
) -> Result<IndirectObject> {
    let mut cur = Cursor::new(src, offset);
    let mut p = Parser::new(&mut cur);
    let bad = |off: u64| PdfError::BrokenXref(format!("no \"N G obj\" header at offset {off}"));
    let num = p
        .uint()?
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| bad(offset))?;
    let r#gen = p
        .uint()?
        .and_then(|n| u16::try_from(n).ok())
        .ok_or_else(|| bad(offset))?;
    if !p.keyword(b"obj")? {
        return Err(bad(offset));
    }
    let object = p.object(0)?;
    let contents_span = p.contents_span;
    let id = ObjRef { num, r#gen };
    p.cur.skip_ws()?;
    let object = match object {
        Object::Dict(dict) if p.cur.looking_at(b"stream")? => {
            for _ in 0..6 {
                p.cur.bump();
            }
            // The keyword is followed by CRLF or LF (a lone CR is tolerated).
            match p.cur.peek()? {
                Some(b'\r') => {
                    p.cur.bump();
                    if p.cur.peek()? == Some(b'\n') {
                        p.cur.bump();
                    }
                }
                Some(b'\n') => p.cur.bump(),
                _ => return Err(p.cur.err("\"stream\" must be followed by an end-of-line")),
            }
            let length = match dict.get(b"Length") {
                Some(Object::Integer(n)) => *n,
                Some(Object::Ref(r)) => length_of(*r)?,
                _ => return Err(p.cur.err("stream has no valid /Length")),
            };
            let length = u64::try_from(length)
                .map_err(|_| p.cur.err(format!("negative stream /Length {length}")))?;
            if length > MAX_STREAM_BYTES {
                return Err(PdfError::LimitExceeded {
                    what: "stream length",
                    limit: MAX_STREAM_BYTES,
                });
            }
            let data = p.cur.read_vec(length)?;
            p.cur.skip_ws()?;
            if !p.cur.looking_at(b"endstream")? {
                return Err(p
                    .cur
                    .err("\"endstream\" not found where /Length says the stream ends"));
            }
            Object::Stream(crate::object::Stream { dict, data })
        }
        other => other,
    };
    Ok(IndirectObject {
        id,
        object,
        contents_span,
    })
}

/// Parse a single object from an in-memory slice (object streams, tests).
pub(crate) fn object_from_slice(data: &[u8], offset: u64) -> Result<Object> {
    let mut cur = Cursor::new(&data, offset);
    Parser::new(&mut cur).object(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[u8]) -> Result<Object> {
        object_from_slice(s, 0)
    }

    #[test]
    fn long_hex_strings_across_buffer_refills() {
        // Far longer than the first read (512 bytes) and the following doublings, with
        // whitespace between digits, mixed case, and an odd final digit.
        let bytes: Vec<u8> = (0..40_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut src = b"<".to_vec();
        for (i, b) in bytes.iter().enumerate() {
            let hex = if i % 3 == 0 { format!("{b:02X}") } else { format!("{b:02x}") };
            src.extend_from_slice(hex.as_bytes());
            if i % 97 == 0 {
                src.extend_from_slice(b" \n");
            }
        }
        src.extend_from_slice(b"7>");
        let mut want = bytes.clone();
        want.push(0x70);
        assert_eq!(parse(&src).unwrap(), Object::String(want));
        // A bad character far into the string is reported, not skipped.
        let mut bad = src.clone();
        let at = bad.len() - 100;
        bad[at] = b'g';
        assert!(matches!(parse(&bad), Err(PdfError::Syntax { .. })));
        // Unterminated.
        assert!(parse(&src[..src.len() - 1]).is_err());
    }

    #[test]
    fn parses_all_kinds() {
        let o = parse(b"<< /A 1 /B -2.5 /C (a\\(b\\)\\n\\101) /D <48 65 6C6c6F> /E [1 0 R 2 /N#20x true null] /F << >> >>").unwrap();
        let d = o.as_dict().unwrap();
        assert_eq!(d.get(b"A"), Some(&Object::Integer(1)));
        assert_eq!(d.get(b"B"), Some(&Object::Real(-2.5)));
        assert_eq!(d.get(b"C"), Some(&Object::String(b"a(b)\nA".to_vec())));
        assert_eq!(d.get(b"D"), Some(&Object::String(b"Hello".to_vec())));
        assert_eq!(
            d.get(b"E"),
            Some(&Object::Array(vec![
                Object::Ref(ObjRef::new(1, 0)),
                Object::Integer(2),
                Object::Name(b"N x".to_vec()),
                Object::Bool(true),
                Object::Null
            ]))
        );
        assert_eq!(
            parse(b"(a(b)c)").unwrap(),
            Object::String(b"a(b)c".to_vec())
        );
        assert_eq!(parse(b"<4>").unwrap(), Object::String(vec![0x40]));
        assert_eq!(parse(b".5").unwrap(), Object::Real(0.5));
        assert_eq!(parse(b"1 2").unwrap(), Object::Integer(1));
    }

    #[test]
    fn malformed_inputs_error_without_panicking() {
        for bad in [
            &b"<< /A 1"[..],
            b"(unterminated",
            b"<12 zz>",
            b"[1 2",
            b"<< 1 2 >>",
            b"/A#G1",
            b"99999999999999999999999",
            b"1e5",
            b"",
            b")",
            b"<< /A >>",
            b"5 70000 R",
        ] {
            let r = parse(bad);
            assert!(
                r.is_err() || bad == b"5 70000 R",
                "{:?} gave {r:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = [b"[".repeat(1000), b"]".repeat(1000)].concat();
        assert!(matches!(parse(&deep), Err(PdfError::LimitExceeded { .. })));
    }

    #[test]
    fn stream_with_indirect_length_and_bad_lengths() {
        let file = b"7 0 obj << /Length 8 0 R >> stream\nabcde\nendstream endobj";
        let o = indirect_object_at(&file.to_vec(), 0, &|_| Ok(5)).unwrap();
        assert_eq!(o.id, ObjRef::new(7, 0));
        match o.object {
            Object::Stream(s) => assert_eq!(s.data, b"abcde"),
            other => panic!("{other:?}"),
        }
        assert!(indirect_object_at(&file.to_vec(), 0, &|_| Ok(3)).is_err());
        assert!(indirect_object_at(&file.to_vec(), 0, &|_| Ok(i64::MAX)).is_err());
        assert!(indirect_object_at(&file.to_vec(), 0, &|_| Ok(-1)).is_err());
        assert!(indirect_object_at(&file.to_vec(), 3, &|_| Ok(5)).is_err());
    }

    #[test]
    fn records_contents_span() {
        let file = b"1 0 obj <</Sub <</Contents <00>>> /Contents <abcd> >> endobj";
        let o = indirect_object_at(&file.to_vec(), 0, &|_| Ok(0)).unwrap();
        let (s, e) = o.contents_span.unwrap();
        assert_eq!(&file[s as usize..e as usize], b"<abcd>");
    }
}
