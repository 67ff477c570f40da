//! OCSP request/response and CRL parsing; response signature checks against its own certs.
//! The body is `signet_fuzz::ocsp_crl` (src/lib.rs), shared with the smoke runner.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| signet_fuzz::ocsp_crl(data));
