//! CMS SignedData parsing and every check on the result, and path building over its certs.
//! The body is `signet_fuzz::cms_signed_data` (src/lib.rs), shared with the smoke runner.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| signet_fuzz::cms_signed_data(data));
