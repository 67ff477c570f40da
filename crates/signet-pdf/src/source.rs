//! Random-access byte sources.
//!
//! The reader never owns or loads a whole document: it asks a [`Source`] for the few ranges it
//! needs. This module holds the trait, the in-memory implementations and [`Appended`] (a
//! document followed by an update that has not been written anywhere yet). Files, object
//! stores and the like implement the trait in the crates that own that I/O.

use crate::error::{PdfError, Result};

/// Chunk size of [`for_each_chunk`].
const CHUNK: usize = 256 * 1024;

/// Reads `src[start..end]` in chunks of at most 256 KiB and hands each to `f`, in order: how
/// a caller hashes a byte range of a document it must not load whole.
pub fn for_each_chunk(src: &dyn Source, start: u64, end: u64, mut f: impl FnMut(&[u8])) -> Result<()> {
    let mut buf = vec![0u8; CHUNK.min(end.saturating_sub(start).try_into().unwrap_or(CHUNK))];
    let mut pos = start;
    while pos < end {
        let n = buf.len().min((end - pos).try_into().unwrap_or(usize::MAX));
        let chunk = &mut buf[..n];
        src.read_at(pos, chunk)?;
        f(chunk);
        pos += n as u64;
    }
    Ok(())
}

/// Random access to the bytes of a document.
pub trait Source: Sync {
    /// Total length in bytes.
    fn len(&self) -> u64;
    /// Fill `buf` from `offset`; error if out of range.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), PdfError>;
    /// `true` when the source has no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn out_of_range(offset: u64, len: usize, source_len: u64) -> PdfError {
    PdfError::OutOfRange {
        offset,
        len,
        source_len,
    }
}

impl Source for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let src = usize::try_from(offset)
            .ok()
            .and_then(|start| start.checked_add(buf.len()).map(|end| (start, end)))
            .and_then(|(start, end)| self.get(start..end))
            .ok_or_else(|| out_of_range(offset, buf.len(), Source::len(self)))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

impl Source for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.as_slice().read_at(offset, buf)
    }
}

impl Source for &[u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        (**self).read_at(offset, buf)
    }
}

/// `base` followed by `tail` (a document plus an incremental update not yet written anywhere).
#[derive(Clone, Copy)]
pub struct Appended<'a> {
    pub base: &'a dyn Source,
    pub tail: &'a [u8],
}

impl Source for Appended<'_> {
    fn len(&self) -> u64 {
        self.base.len() + self.tail.len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let base_len = self.base.len();
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|&end| end <= self.len())
            .ok_or_else(|| out_of_range(offset, buf.len(), self.len()))?;
        if end <= base_len {
            return self.base.read_at(offset, buf);
        }
        if offset >= base_len {
            return self.tail.read_at(offset - base_len, buf);
        }
        // Straddles the boundary: offset < base_len < end, so the split is within `buf`.
        let split = usize::try_from(base_len - offset)
            .map_err(|_| out_of_range(offset, buf.len(), self.len()))?;
        let (head, rest) = buf.split_at_mut(split);
        self.base.read_at(offset, head)?;
        self.tail.read_at(0, rest)
    }
}

/// The first `len` bytes of `src`: the document as it was at an earlier revision.
#[derive(Clone, Copy)]
pub struct Prefix<'a> {
    pub src: &'a dyn Source,
    pub len: u64,
}

impl Source for Prefix<'_> {
    fn len(&self) -> u64 {
        self.len.min(self.src.len())
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let len = Source::len(self);
        offset
            .checked_add(buf.len() as u64)
            .filter(|&end| end <= len)
            .ok_or_else(|| out_of_range(offset, buf.len(), len))?;
        self.src.read_at(offset, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_reads_and_bounds() {
        let data = b"hello world".to_vec();
        let mut buf = [0u8; 5];
        data.read_at(6, &mut buf).unwrap();
        assert_eq!(&buf, b"world");
        assert!(matches!(
            data.read_at(7, &mut buf),
            Err(PdfError::OutOfRange { .. })
        ));
        assert!(data.read_at(u64::MAX, &mut buf).is_err());
    }

    #[test]
    fn appended_straddles() {
        let base = b"abcdef".to_vec();
        let app = Appended {
            base: &base,
            tail: b"ghij",
        };
        assert_eq!(app.len(), 10);
        let mut buf = [0u8; 4];
        app.read_at(4, &mut buf).unwrap();
        assert_eq!(&buf, b"efgh");
        app.read_at(6, &mut buf).unwrap();
        assert_eq!(&buf, b"ghij");
        app.read_at(0, &mut buf).unwrap();
        assert_eq!(&buf, b"abcd");
        assert!(app.read_at(7, &mut buf).is_err());
        assert!(app.read_at(u64::MAX - 1, &mut buf).is_err());
    }

    #[test]
    fn prefix_hides_the_rest() {
        let data = b"abcdefgh".to_vec();
        let p = Prefix { src: &data, len: 5 };
        assert_eq!(p.len(), 5);
        let mut buf = [0u8; 2];
        p.read_at(3, &mut buf).unwrap();
        assert_eq!(&buf, b"de");
        assert!(p.read_at(4, &mut buf).is_err());
        assert_eq!(Prefix { src: &data, len: 99 }.len(), 8);
    }
}
