//! The line reader shared by the line-based C2SP bodies that end in a signed checkpoint
//! (`tlog-proof` files, `tlog-witness` `add-checkpoint` requests): LF-terminated UTF-8 lines,
//! a block of base64 proof hashes closed by an empty line, then the checkpoint bytes as they
//! are.

use crate::LedgerError;
use crate::tree::Hash;

pub(crate) struct Lines<'a> {
    rest: &'a [u8],
    /// The format's error for a malformed body.
    bad: fn(&'static str) -> LedgerError,
    /// Refuse lines holding control characters (bytes below 0x20).
    no_controls: bool,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(bytes: &'a [u8], bad: fn(&'static str) -> LedgerError, no_controls: bool) -> Self {
        Lines { rest: bytes, bad, no_controls }
    }

    /// The next line, without its LF.
    pub(crate) fn next_line(&mut self) -> Result<&'a str, LedgerError> {
        let bad = self.bad;
        let end = self.rest.iter().position(|&b| b == b'\n').ok_or(bad("truncated"))?;
        let (line, tail) = self.rest.split_at(end);
        self.rest = tail.get(1..).unwrap_or_default();
        let line = std::str::from_utf8(line).map_err(|_| bad("not UTF-8"))?;
        if self.no_controls && line.bytes().any(|b| b < 0x20) {
            return Err(bad("control character"));
        }
        Ok(line)
    }

    /// Base64 hashes, one a line, up to the empty line that closes the block; more than
    /// `max` is refused with `too_many`.
    pub(crate) fn hashes(&mut self, max: usize, too_many: &'static str) -> Result<Vec<Hash>, LedgerError> {
        let mut proof = Vec::new();
        loop {
            let line = self.next_line()?;
            if line.is_empty() {
                return Ok(proof);
            }
            if proof.len() == max {
                return Err((self.bad)(too_many));
            }
            proof.push(Hash::from_base64(line).map_err(|_| (self.bad)("bad proof hash"))?);
        }
    }

    /// Everything after the lines read so far.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.rest
    }
}
