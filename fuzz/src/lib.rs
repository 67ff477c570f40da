//! The fuzz targets' bodies, one function per target, shared by the libFuzzer binaries
//! (`fuzz_targets/*.rs`, built by cargo-fuzz) and the libFuzzer-free smoke runner (`smoke/`,
//! used by CI). Each takes arbitrary bytes and must return without panicking, hanging or
//! allocating without bound.

use std::time::{Duration, SystemTime};

use signet_pdf::{Document, ObjRef, Object, decode_png, signatures};
use signet_pki::{chain, cms, crl, ocsp, pem, pkcs12, tsp};

/// Every target: its name (the binary's and the corpus folder's) and its body.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("pdf_document", pdf_document),
    ("cms_signed_data", cms_signed_data),
    ("tsp", tsp),
    ("ocsp_crl", ocsp_crl),
    ("pkcs12", pkcs12),
    ("pem_certs", pem_certs),
    ("verify_pdf", verify_pdf),
    ("verify_appended", verify_appended),
];

/// The signed PDF `verify_appended` appends its input to: one approval signature, B-T,
/// visible seal (`honest-approval.pdf` of `tests/attacks/make_attacks.py`).
pub static APPENDED_BASE: &[u8] = include_bytes!("../assets/honest-approval.pdf");

fn options(secs: u64) -> signet_verify::Options {
    signet_verify::Options {
        trust_anchors: Vec::new(),
        now: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
        online: None,
    }
}

/// `Document::open` and every read API on the result, then the whole verifier.
pub fn pdf_document(data: &[u8]) {
    let _ = decode_png(data);
    if let Ok(doc) = Document::open(&data) {
        let _ = doc.trailer();
        let _ = doc.catalog();
        let _ = signatures(&doc);
        let pages = doc.page_count();
        if let Ok(n) = pages {
            for p in 1..=n.min(8) {
                if let Ok((r, _)) = doc.page(p) {
                    let _ = doc.page_number(r);
                }
                let _ = doc.page_box(p);
            }
        }
        let _ = doc.signature_fields();
        let _ = doc.certification();
        let _ = doc.revisions();
        for num in 1..doc.size().min(64) {
            if let Ok(Object::Stream(s)) = doc.get(ObjRef::new(num, 0)) {
                if let Ok(d) = s.decoded() {
                    let _ = decode_png(&d);
                }
            }
        }
    }
    let _ = signet_verify::verify(&data, &options(1_750_000_000));
}

/// CMS SignedData parsing and every check on the result, and path building over its certs.
pub fn cms_signed_data(data: &[u8]) {
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
}

/// RFC 3161: request, response and token parsing, token verification.
pub fn tsp(data: &[u8]) {
    let _ = tsp::parse_request(data);
    let _ = tsp::parse_response(data, &[0u8; 32], None);
    let _ = tsp::parse_response(data, &[0u8; 32], Some(&[1, 2, 3, 4]));
    if let Ok((_, tst)) = tsp::parse_token(data) {
        let _ = tsp::time_bounds(&tst);
        let _ = tsp::verify_token(data, None);
        let _ = tsp::verify_token(data, Some(&[0u8; 32]));
    }
}

/// OCSP request and response parsing, CRL parsing; response/CRL signature checks against the
/// certificates the response itself carries.
pub fn ocsp_crl(data: &[u8]) {
    let _ = ocsp::parse_request(data);
    if let Ok(resp) = ocsp::parse_response(data) {
        for c in resp.certs.iter().take(4) {
            let _ = ocsp::verify_response(&resp, c, &resp.certs);
        }
    }
    let _ = crl::parse_crl(data);
}

/// PKCS#12 reading with the password "x".
pub fn pkcs12(data: &[u8]) {
    let _ = pkcs12::read_pkcs12(data, "x");
}

/// PEM (any number of blocks) or DER certificates.
pub fn pem_certs(data: &[u8]) {
    let _ = pem::certs_from_pem_or_der(data);
    let _ = pem::pem_blocks(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = pem::private_key_from_pem(s);
    }
}

/// The whole verifier on the input: signatures, byte ranges, CMS, time-stamps, DSS and the
/// modification analysis of later revisions.
pub fn verify_pdf(data: &[u8]) {
    let _ = signet_verify::verify(&data, &options(1_800_000_000));
}

/// Structure-aware for the modification analysis: [`APPENDED_BASE`] followed by the input as
/// an appended incremental update, verified as one file. Every input keeps the signed
/// revision intact, so the verifier always gets past the signature to the diff of the
/// revisions.
pub fn verify_appended(tail: &[u8]) {
    let mut file = Vec::with_capacity(APPENDED_BASE.len() + tail.len());
    file.extend_from_slice(APPENDED_BASE);
    file.extend_from_slice(tail);
    let _ = signet_verify::verify(&file, &options(1_800_000_000));
}
