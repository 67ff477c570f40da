//! A fixed signed PDF plus the input as an appended incremental update, verified as one file.
//! The body is `signet_fuzz::verify_appended` (src/lib.rs), shared with the smoke runner.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| signet_fuzz::verify_appended(data));
