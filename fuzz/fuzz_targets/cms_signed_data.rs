//! CMS SignedData parsing and every check on the result, and path building over its certs.
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use signet_pki::{chain, cms};

fuzz_target!(|data: &[u8]| {
    let Ok(sd) = cms::parse_signed_data(data) else { return };
    let _ = sd.verify_signature();
    let _ = sd.check_message_digest(&[0u8; 32]);
    if let Some(md) = sd.message_digest.clone() {
        let _ = sd.check_message_digest(&md);
    }
    let _ = sd.check_signing_certificate();
    let _ = sd.econtent_digest();
    if let Some(leaf) = &sd.signer_cert {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000);
        let _ = chain::build_chain(leaf, &sd.certificates, &sd.certificates, at);
    }
});
