//! `Document::open` and every read API on the result, then the whole verifier.
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use signet_pdf::{Document, ObjRef, Object, decode_png, signatures};

fuzz_target!(|data: &[u8]| {
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
    let opts = signet_verify::Options {
        trust_anchors: Vec::new(),
        now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000),
        online: None,
    };
    let _ = signet_verify::verify(&data, &opts);
});
