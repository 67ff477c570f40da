//! PEM (any number of blocks) or DER certificates.
//! The body is `signet_fuzz::pem_certs` (src/lib.rs), shared with the smoke runner.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| signet_fuzz::pem_certs(data));
