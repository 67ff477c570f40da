//! RFC 3161: request, response and token parsing, token verification.
//! The body is `signet_fuzz::tsp` (src/lib.rs), shared with the smoke runner.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| signet_fuzz::tsp(data));
