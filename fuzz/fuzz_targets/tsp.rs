//! RFC 3161: request, response and token parsing, token verification.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_pki::tsp;

fuzz_target!(|data: &[u8]| {
    let _ = tsp::parse_request(data);
    let _ = tsp::parse_response(data, &[0u8; 32], None);
    let _ = tsp::parse_response(data, &[0u8; 32], Some(&[1, 2, 3, 4]));
    if let Ok((_, tst)) = tsp::parse_token(data) {
        let _ = tsp::time_bounds(&tst);
        let _ = tsp::verify_token(data, None);
        let _ = tsp::verify_token(data, Some(&[0u8; 32]));
    }
});
