//! The whole verifier: signatures, byte ranges, CMS, time-stamps, DSS, modification analysis.
//! The body is `signet_fuzz::verify_pdf` (src/lib.rs), shared with the smoke runner.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| signet_fuzz::verify_pdf(data));
