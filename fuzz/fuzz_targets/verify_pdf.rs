//! The whole verifier on the input: signatures, byte ranges, CMS, time-stamps, DSS and the
//! modification analysis of later revisions.
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = signet_verify::Options {
        trust_anchors: Vec::new(),
        now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        online: None,
    };
    let _ = signet_verify::verify(&data, &opts);
});
