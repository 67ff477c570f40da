//! `Document::open` and every read API on the result, then the whole verifier.
//! The body is `signet_fuzz::pdf_document` (src/lib.rs), shared with the smoke runner.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| signet_fuzz::pdf_document(data));
