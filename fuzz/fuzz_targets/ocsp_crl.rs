//! OCSP request and response parsing, CRL parsing; response/CRL signature checks against the
//! certificates the response itself carries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_pki::{crl, ocsp};

fuzz_target!(|data: &[u8]| {
    let _ = ocsp::parse_request(data);
    if let Ok(resp) = ocsp::parse_response(data) {
        for c in resp.certs.iter().take(4) {
            let _ = ocsp::verify_response(&resp, c, &resp.certs);
        }
    }
    let _ = crl::parse_crl(data);
});
