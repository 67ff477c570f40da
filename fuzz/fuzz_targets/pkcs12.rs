//! PKCS#12 reading with the password "x".
//! The body is `signet_fuzz::pkcs12` (src/lib.rs), shared with the smoke runner.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| signet_fuzz::pkcs12(data));
