//! Serialising objects and writing incremental updates.
//!
//! [`Update`] collects new and changed objects after the original bytes and finishes with a
//! cross-reference section of the same kind as the document's newest one (classic table, or
//! xref stream) and a trailer chained to the previous one with `/Prev`. The original bytes are
//! never touched. Text-string and date encodings used in what we write live here too.

use std::io::Write;

use crate::document::Document;
use crate::error::{PdfError, Result};
use crate::object::{Dict, ObjRef, Object};

/// Append the PDF syntax of `o` to `out`.
pub fn write_object(out: &mut Vec<u8>, o: &Object) {
    match o {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Object::Real(r) => write_real(out, *r),
        Object::Name(n) => write_name(out, n),
        Object::String(s) => write_string(out, s),
        Object::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(out, x);
            }
            out.push(b']');
        }
        Object::Dict(d) => write_dict(out, d),
        Object::Stream(s) => {
            let mut d = s.dict.clone();
            d.set("Length", Object::Integer(s.data.len() as i64));
            write_dict(out, &d);
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(&s.data);
            out.extend_from_slice(b"\nendstream");
        }
        Object::Ref(r) => {
            let _ = write!(out, "{} {} R", r.num, r.r#gen);
        }
    }
}

pub(crate) fn write_dict(out: &mut Vec<u8>, d: &Dict) {
    out.extend_from_slice(b"<<");
    for (k, v) in d.iter() {
        write_name(out, k);
        out.push(b' ');
        write_object(out, v);
    }
    out.extend_from_slice(b">>");
}

/// A real number without exponent and without needless digits.
pub(crate) fn write_real(out: &mut Vec<u8>, r: f64) {
    let r = if r.is_finite() { r } else { 0.0 };
    if r == r.trunc() && r.abs() < 1e15 {
        let _ = write!(out, "{}", r as i64);
    } else {
        let _ = write!(out, "{r}");
    }
}

/// A number with at most 3 decimals (content streams).
pub(crate) fn num(out: &mut Vec<u8>, v: f64) {
    let v = if v.is_finite() {
        (v * 1000.0).round() / 1000.0
    } else {
        0.0
    };
    write_real(out, if v == 0.0 { 0.0 } else { v });
}

pub(crate) fn write_name(out: &mut Vec<u8>, n: &[u8]) {
    out.push(b'/');
    for &b in n {
        if b <= b' ' || b >= 0x7f || b == b'#' || crate::parser::is_delim(b) {
            let _ = write!(out, "#{b:02X}");
        } else {
            out.push(b);
        }
    }
}

/// A string: literal with escapes when mostly printable, else hex.
pub(crate) fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    let printable = s
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) || matches!(b, b'\n' | b'\r' | b'\t'));
    if printable {
        out.push(b'(');
        for &b in s {
            match b {
                b'(' | b')' | b'\\' => {
                    out.push(b'\\');
                    out.push(b);
                }
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\t' => out.extend_from_slice(b"\\t"),
                _ => out.push(b),
            }
        }
        out.push(b')');
    } else {
        write_hex_string(out, s);
    }
}

pub(crate) fn write_hex_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'<');
    for &b in s {
        let _ = write!(out, "{b:02X}");
    }
    out.push(b'>');
}

/// A text string: ASCII as-is, anything else as UTF-16BE with a byte-order mark.
pub fn text_string(s: &str) -> Object {
    if s.is_ascii() {
        Object::String(s.as_bytes().to_vec())
    } else {
        let mut v = vec![0xfe, 0xff];
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_be_bytes());
        }
        Object::String(v)
    }
}

/// Decode a text string: UTF-16BE/LE or UTF-8 with BOM, else PDFDocEncoding (read as Latin-1).
pub fn decode_text(b: &[u8]) -> String {
    if let Some(rest) = b.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Some(rest) = b.strip_prefix(&[0xff, 0xfe]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Some(rest) = b.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        b.iter().map(|&c| char::from(c)).collect()
    }
}

/// `D:YYYYMMDDHHmmSSZ` for a time (UTC).
pub fn pdf_date(t: std::time::SystemTime) -> Result<String> {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| PdfError::InvalidRequest("signing time is before 1970".into()))?
        .as_secs();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    if y > 9999 {
        return Err(PdfError::InvalidRequest(
            "signing time is after year 9999".into(),
        ));
    }
    Ok(format!(
        "D:{y:04}{m:02}{d:02}{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    ))
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// An incremental update being built after the bytes of `doc`.
pub(crate) struct Update<'d, 'a> {
    doc: &'d Document<'a>,
    pub buf: Vec<u8>,
    next_num: u32,
    /// (object, offset in the final file)
    written: Vec<(ObjRef, u64)>,
}

impl<'d, 'a> Update<'d, 'a> {
    pub fn new(doc: &'d Document<'a>) -> Result<Self> {
        let mut buf = Vec::with_capacity(8192);
        if !doc.ends_with_eol()? {
            buf.push(b'\n');
        }
        Ok(Self {
            doc,
            buf,
            next_num: doc.size().max(1),
            written: Vec::new(),
        })
    }

    /// A fresh object number.
    pub fn alloc(&mut self) -> Result<ObjRef> {
        let r = ObjRef::new(self.next_num, 0);
        self.next_num = self
            .next_num
            .checked_add(1)
            .ok_or_else(|| PdfError::Invalid("object numbers exhausted".into()))?;
        Ok(r)
    }

    /// Absolute file offset of the next byte written.
    pub fn file_offset(&self) -> u64 {
        self.doc.len() + self.buf.len() as u64
    }

    /// Start `r`: records its offset and writes the header.
    pub fn begin(&mut self, r: ObjRef) {
        self.written.push((r, self.file_offset()));
        let _ = writeln!(self.buf, "{} {} obj", r.num, r.r#gen);
    }

    pub fn end(&mut self) {
        self.buf.extend_from_slice(b"\nendobj\n");
    }

    /// Write a complete object.
    pub fn put(&mut self, r: ObjRef, o: &Object) {
        self.begin(r);
        write_object(&mut self.buf, o);
        self.end();
    }

    /// Write the cross-reference section and trailer; return the update bytes.
    pub fn finish(mut self) -> Result<Vec<u8>> {
        // An object written twice: the later copy is the one the xref points at.
        let mut seen = std::collections::HashSet::new();
        let mut written: Vec<(ObjRef, u64)> = self
            .written
            .iter()
            .rev()
            .filter(|(r, _)| seen.insert(r.num))
            .copied()
            .collect();
        written.reverse();
        self.written = written;
        let prev = self.doc.startxref();
        let mut trailer = Dict::new();
        for key in [&b"Root"[..], b"Info", b"ID"] {
            if let Some(v) = self.doc.trailer().get(key) {
                trailer.set(key, v.clone());
            }
        }
        if self.doc.uses_xref_table() {
            self.written.sort_by_key(|(r, _)| r.num);
            let xref_at = self.file_offset();
            self.buf.extend_from_slice(b"xref\n");
            for run in subsections(&self.written) {
                let _ = writeln!(self.buf, "{} {}", run[0].0.num, run.len());
                for (r, off) in run {
                    let _ = write!(self.buf, "{off:010} {:05} n\r\n", r.r#gen);
                }
            }
            trailer.set("Size", Object::Integer(i64::from(self.next_num)));
            trailer.set("Prev", Object::Integer(prev as i64));
            self.buf.extend_from_slice(b"trailer\n");
            write_dict(&mut self.buf, &trailer);
            let _ = write!(self.buf, "\nstartxref\n{xref_at}\n%%EOF\n");
        } else {
            let me = self.alloc()?;
            let xref_at = self.file_offset();
            self.written.push((me, xref_at));
            self.written.sort_by_key(|(r, _)| r.num);
            let width = (1..=8u32).find(|w| xref_at < 1u64 << (8 * w)).unwrap_or(8) as usize;
            let mut index = Vec::new();
            let mut data = Vec::with_capacity(self.written.len() * (width + 3));
            for run in subsections(&self.written) {
                index.push(Object::Integer(i64::from(run[0].0.num)));
                index.push(Object::Integer(run.len() as i64));
                for (r, off) in run {
                    data.push(1);
                    data.extend_from_slice(&off.to_be_bytes()[8 - width..]);
                    data.extend_from_slice(&r.r#gen.to_be_bytes());
                }
            }
            trailer.set("Type", Object::name(b"XRef"));
            trailer.set("Size", Object::Integer(i64::from(self.next_num)));
            trailer.set("Prev", Object::Integer(prev as i64));
            trailer.set(
                "W",
                Object::Array(vec![
                    Object::Integer(1),
                    Object::Integer(width as i64),
                    Object::Integer(2),
                ]),
            );
            trailer.set("Index", Object::Array(index));
            let _ = writeln!(self.buf, "{} 0 obj", me.num);
            write_object(
                &mut self.buf,
                &Object::Stream(crate::object::Stream {
                    dict: trailer,
                    data,
                }),
            );
            let _ = write!(self.buf, "\nendobj\nstartxref\n{xref_at}\n%%EOF\n");
        }
        Ok(self.buf)
    }
}

/// Splits entries sorted by object number into runs of consecutive numbers: the subsections of
/// a classic xref table and the `/Index` pairs of an xref stream. Every run is non-empty.
fn subsections(written: &[(ObjRef, u64)]) -> impl Iterator<Item = &[(ObjRef, u64)]> {
    written.chunk_by(|(a, _), (b, _)| a.num.checked_add(1) == Some(b.num))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::object_from_slice;

    #[test]
    fn objects_round_trip() {
        let mut d = Dict::new();
        d.set("A b", Object::String(b"x(y)\\z\n".to_vec()));
        d.set("B", Object::String(vec![0, 1, 255]));
        d.set(
            "C",
            Object::Array(vec![
                Object::Real(0.25),
                Object::Real(-3.0),
                Object::Ref(ObjRef::new(4, 1)),
                Object::Null,
            ]),
        );
        let o = Object::Dict(d);
        let mut out = Vec::new();
        write_object(&mut out, &o);
        assert_eq!(
            object_from_slice(&out, 0).unwrap(),
            Object::Dict(match o {
                Object::Dict(mut d) => {
                    d.set(
                        "C",
                        Object::Array(vec![
                            Object::Real(0.25),
                            Object::Integer(-3),
                            Object::Ref(ObjRef::new(4, 1)),
                            Object::Null,
                        ]),
                    );
                    d
                }
                _ => unreachable!(),
            })
        );
    }

    #[test]
    fn text_strings_and_dates() {
        assert_eq!(text_string("Bob"), Object::String(b"Bob".to_vec()));
        let Object::String(zh) = text_string("张三") else {
            panic!()
        };
        assert_eq!(zh, vec![0xfe, 0xff, 0x5f, 0x20, 0x4e, 0x09]);
        assert_eq!(decode_text(&zh), "张三");
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_868_130);
        assert_eq!(pdf_date(t).unwrap(), "D:20261128121530Z");
        assert_eq!(
            pdf_date(std::time::UNIX_EPOCH).unwrap(),
            "D:19700101000000Z"
        );
    }
}

