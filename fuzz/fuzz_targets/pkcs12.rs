//! PKCS#12 reading with the password "x".
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_pki::pkcs12;

fuzz_target!(|data: &[u8]| {
    let _ = pkcs12::read_pkcs12(data, "x");
});
