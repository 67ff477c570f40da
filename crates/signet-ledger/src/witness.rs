//! The message formats of C2SP `tlog-witness` `add-checkpoint` (c2sp.org/tlog-witness,
//! section "add-checkpoint"): the request body (`old <size>`, up to 63 base64 consistency
//! proof lines, an empty line, the checkpoint) and the `409 Conflict` body (the witness's
//! size in decimal and a newline, `Content-Type: text/x.tlog.size`).
//!
//! Only the encodings: the witness's decisions (which status to answer, persisting its state
//! atomically) belong to the service that embeds it.

use crate::LedgerError;
use crate::checkpoint::parse_decimal_u64;
use crate::lines::Lines;
use crate::note::Note;
use crate::tree::Hash;

/// Most consistency proof lines a request may carry.
pub const MAX_PROOF_LINES: usize = 63;
/// Content type of the `409 Conflict` body.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// The body of `POST <prefix>/add-checkpoint`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpointRequest {
    /// Size of the checkpoint the client believes the witness last cosigned (0 if none).
    pub old_size: u64,
    /// Consistency proof from `old_size` to the checkpoint's size (empty from 0).
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: Vec<u8>,
}

impl AddCheckpointRequest {
    /// Parses a request body. The checkpoint must be a well-formed note; verifying it is the
    /// witness's job.
    pub fn parse(body: &[u8]) -> Result<Self, LedgerError> {
        const BAD: fn(&'static str) -> LedgerError = LedgerError::MalformedWitnessRequest;
        let mut lines = Lines::new(body, BAD, false);
        let old = lines
            .next_line()?
            .strip_prefix("old ")
            .ok_or(BAD("missing old size line"))?;
        let old_size = parse_decimal_u64(old).ok_or(BAD("bad old size"))?;
        let proof = lines.hashes(MAX_PROOF_LINES, "more than 63 proof lines")?;
        let checkpoint = lines.rest().to_vec();
        Note::parse(&checkpoint)?;
        Ok(AddCheckpointRequest {
            old_size,
            proof,
            checkpoint,
        })
    }

    /// The request body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("old {}\n", self.old_size);
        for h in &self.proof {
            out.push_str(&h.to_base64());
            out.push('\n');
        }
        out.push('\n');
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.checkpoint);
        bytes
    }
}

/// The body of a `409 Conflict` answer: the witness's latest cosigned size.
pub fn conflict_body(size: u64) -> String {
    format!("{size}\n")
}

/// Parses a `409 Conflict` body.
pub fn parse_conflict_body(body: &[u8]) -> Result<u64, LedgerError> {
    let s = std::str::from_utf8(body)
        .ok()
        .and_then(|s| s.strip_suffix('\n'))
        .ok_or(LedgerError::MalformedWitnessRequest("conflict body"))?;
    parse_decimal_u64(s).ok_or(LedgerError::MalformedWitnessRequest("conflict body"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example request of c2sp.org/tlog-witness.
    const SPEC_REQUEST: &str = "old 20852014\n\
        PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\
        jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n\
        5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n\
        /6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n\
        \n\
        example.com/behind-the-sofa\n\
        20852163\n\
        CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\
        \n\
        \u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
        \u{2014} example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n";

    #[test]
    fn spec_example_round_trips() {
        let r = AddCheckpointRequest::parse(SPEC_REQUEST.as_bytes()).unwrap();
        assert_eq!(r.old_size, 20852014);
        assert_eq!(r.proof.len(), 4);
        assert_eq!(Note::parse(&r.checkpoint).unwrap().signatures().len(), 2);
        assert_eq!(r.to_bytes(), SPEC_REQUEST.as_bytes());
    }

    #[test]
    fn malformed_requests() {
        let cp = &SPEC_REQUEST[SPEC_REQUEST.find("example.com").unwrap()..];
        for bad in [
            format!("old 01\n\n{cp}"),
            format!("old\n\n{cp}"),
            format!("new 1\n\n{cp}"),
            format!("old 1\nAAAA\n\n{cp}"),
            "old 1\n\n".to_owned(),
            format!(
                "old 1\n{}\n{cp}",
                format!("{}\n", Hash::default()).repeat(64)
            ),
        ] {
            assert!(
                AddCheckpointRequest::parse(bad.as_bytes()).is_err(),
                "{bad:?}"
            );
        }
        let ok = format!(
            "old 1\n{}\n{cp}",
            format!("{}\n", Hash::default()).repeat(63)
        );
        assert!(AddCheckpointRequest::parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn conflict_bodies() {
        assert_eq!(conflict_body(42), "42\n");
        assert_eq!(parse_conflict_body(b"42\n").unwrap(), 42);
        assert!(parse_conflict_body(b"42").is_err());
        assert!(parse_conflict_body(b"042\n").is_err());
    }
}
