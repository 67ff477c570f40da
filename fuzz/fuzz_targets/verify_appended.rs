//! Structure-aware for the modification analysis: a fixed, honestly signed PDF (one approval
//! signature, B-T, visible seal; `assets/honest-approval.pdf`) followed by the input as an
//! appended incremental update, verified as one file. Every input keeps the signed revision
//! intact, so the verifier always gets past the signature to the diff of the revisions.
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;

static BASE: &[u8] = include_bytes!("../assets/honest-approval.pdf");

fuzz_target!(|tail: &[u8]| {
    let mut file = Vec::with_capacity(BASE.len() + tail.len());
    file.extend_from_slice(BASE);
    file.extend_from_slice(tail);
    let opts = signet_verify::Options {
        trust_anchors: Vec::new(),
        now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        online: None,
    };
    let _ = signet_verify::verify(&file, &opts);
});
