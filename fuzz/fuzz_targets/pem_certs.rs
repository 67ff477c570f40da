//! PEM (any number of blocks) or DER certificates.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_pki::pem;

fuzz_target!(|data: &[u8]| {
    let _ = pem::certs_from_pem_or_der(data);
    let _ = pem::pem_blocks(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = pem::private_key_from_pem(s);
    }
});
