//! Stream filters: `/FlateDecode` with PNG and TIFF predictors, nothing else.
//!
//! Decompression is bounded by an output limit so a small hostile stream cannot expand into
//! gigabytes. Encoding (for what we write) is plain zlib at the default level.

use std::io::{Read, Write};

use crate::error::{PdfError, Result};
use crate::object::{Dict, Object};

/// Largest decoded stream this crate will produce (256 MiB).
pub const MAX_DECODED: u64 = 256 << 20;

/// Decode `data` according to the `/Filter` and `/DecodeParms` of `dict`.
pub(crate) fn decode(dict: &Dict, data: &[u8], limit: u64) -> Result<Vec<u8>> {
    let filters: Vec<&[u8]> = match dict.get(b"Filter") {
        None | Some(Object::Null) => return Ok(data.to_vec()),
        Some(Object::Name(n)) => vec![n.as_slice()],
        Some(Object::Array(a)) => a
            .iter()
            .map(|f| {
                f.as_name()
                    .ok_or_else(|| PdfError::Invalid("/Filter array holds a non-name".into()))
            })
            .collect::<Result<_>>()?,
        Some(_) => {
            return Err(PdfError::Invalid(
                "/Filter is neither a name nor an array of names".into(),
            ));
        }
    };
    let parms: Vec<Option<&Dict>> = match dict.get(b"DecodeParms") {
        Some(Object::Dict(d)) => vec![Some(d)],
        Some(Object::Array(a)) => a.iter().map(Object::as_dict).collect(),
        _ => vec![],
    };
    let mut out = data.to_vec();
    for (i, f) in filters.iter().enumerate() {
        match *f {
            b"FlateDecode" | b"Fl" => {
                out = inflate(&out, limit)?;
                if let Some(p) = parms.get(i).copied().flatten() {
                    out = unpredict(p, out)?;
                }
            }
            other => {
                return Err(PdfError::UnsupportedFilter(
                    String::from_utf8_lossy(other).into_owned(),
                ));
            }
        }
    }
    Ok(out)
}

/// zlib-decompress with an output limit.
pub(crate) fn inflate(data: &[u8], limit: u64) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len().saturating_mul(4).min(1 << 20));
    flate2::read::ZlibDecoder::new(data)
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| PdfError::Decode(format!("FlateDecode: {e}")))?;
    if out.len() as u64 > limit {
        return Err(PdfError::LimitExceeded {
            what: "decoded stream size",
            limit,
        });
    }
    Ok(out)
}

/// zlib-compress.
pub(crate) fn deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        flate2::Compression::default(),
    );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

fn parm(p: &Dict, key: &[u8], default: i64) -> Result<usize> {
    let v = p.get(key).and_then(Object::as_i64).unwrap_or(default);
    usize::try_from(v)
        .ok()
        .filter(|&v| v <= 1 << 20)
        .ok_or_else(|| {
            PdfError::Invalid(format!(
                "/DecodeParms /{} = {v} is out of range",
                String::from_utf8_lossy(key)
            ))
        })
}

/// Undo a PNG (10..15) or TIFF (2) predictor.
fn unpredict(p: &Dict, data: Vec<u8>) -> Result<Vec<u8>> {
    let predictor = parm(p, b"Predictor", 1)?;
    if predictor == 1 {
        return Ok(data);
    }
    let colors = parm(p, b"Colors", 1)?.max(1);
    let bpc = parm(p, b"BitsPerComponent", 8)?;
    let columns = parm(p, b"Columns", 1)?.max(1);
    if !matches!(bpc, 1 | 2 | 4 | 8 | 16) || colors > 32 {
        return Err(PdfError::Invalid(format!(
            "unsupported predictor parameters: {colors} colours, {bpc} bits"
        )));
    }
    let bits_per_pixel = colors * bpc;
    let bpp = bits_per_pixel.div_ceil(8).max(1);
    let row = (bits_per_pixel * columns).div_ceil(8);
    if predictor == 2 {
        if bpc != 8 {
            return Err(PdfError::Invalid(
                "TIFF predictor is only supported with 8 bits per component".into(),
            ));
        }
        let mut data = data;
        for line in data.chunks_mut(row) {
            for i in bpp..line.len() {
                line[i] = line[i].wrapping_add(line[i - bpp]);
            }
        }
        return Ok(data);
    }
    if predictor < 10 {
        return Err(PdfError::Invalid(format!("unknown /Predictor {predictor}")));
    }
    let mut out = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; row];
    for chunk in data.chunks(row + 1) {
        let (&kind, src) = chunk
            .split_first()
            .ok_or_else(|| PdfError::Decode("empty predictor row".into()))?;
        let mut cur = src.to_vec();
        cur.resize(row, 0);
        for i in 0..row {
            let a = if i >= bpp { cur[i - bpp] } else { 0 };
            let b = prev[i];
            let c = if i >= bpp { prev[i - bpp] } else { 0 };
            let pred = match kind {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => paeth(a, b, c),
                k => {
                    return Err(PdfError::Decode(format!(
                        "unknown PNG predictor row type {k}"
                    )));
                }
            };
            cur[i] = cur[i].wrapping_add(pred);
        }
        out.extend_from_slice(&cur[..src.len().min(row)]);
        prev = cur;
    }
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flate_round_trip_and_limit() {
        let data = vec![7u8; 10_000];
        let z = deflate(&data);
        assert_eq!(inflate(&z, 1 << 20).unwrap(), data);
        assert!(matches!(
            inflate(&z, 100),
            Err(PdfError::LimitExceeded { .. })
        ));
        assert!(matches!(inflate(b"garbage", 100), Err(PdfError::Decode(_))));
    }

    #[test]
    fn png_up_predictor() {
        // Two rows of 3 columns, predictor Up on the second row.
        let raw = [2u8, 1, 2, 3, 2, 1, 1, 1];
        let mut d = Dict::new();
        d.set("Filter", Object::name(b"FlateDecode"));
        let mut p = Dict::new();
        p.set("Predictor", Object::Integer(12));
        p.set("Columns", Object::Integer(3));
        d.set("DecodeParms", Object::Dict(p));
        let out = decode(&d, &deflate(&raw), MAX_DECODED).unwrap();
        assert_eq!(out, vec![1, 2, 3, 2, 3, 4]);
    }

    #[test]
    fn other_filters_are_refused() {
        let mut d = Dict::new();
        d.set("Filter", Object::name(b"DCTDecode"));
        assert_eq!(
            decode(&d, b"x", 10),
            Err(PdfError::UnsupportedFilter("DCTDecode".into()))
        );
        let mut p = Dict::new();
        p.set("Predictor", Object::Integer(12));
        p.set("Columns", Object::Integer(-5));
        let mut d = Dict::new();
        d.set("Filter", Object::name(b"FlateDecode"));
        d.set("DecodeParms", Object::Dict(p));
        assert!(decode(&d, &deflate(b"abc"), 10).is_err());
    }
}
