//! End-to-end tests of the crate's public API: open, prepare, embed, re-open, in every
//! combination the signer and verifier rely on, plus malformed and hostile inputs.

use crate::*;
use std::time::{Duration, UNIX_EPOCH};

const FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

fn req(cap: usize) -> SignatureRequest<'static> {
    SignatureRequest {
        contents_capacity: cap,
        ..Default::default()
    }
}

/// Prepare + embed; returns the whole new file.
fn sign(base: &[u8], r: &SignatureRequest, der: &[u8]) -> (Vec<u8>, PreparedSignature) {
    let base_vec = base.to_vec();
    let doc = Document::open(&base_vec).unwrap();
    let mut p = prepare_signature(&doc, r).unwrap();
    p.embed(der).unwrap();
    let mut out = base.to_vec();
    out.extend_from_slice(&p.update);
    (out, p)
}

#[test]
fn round_trip_visible_signature() {
    let pdf = sample_contract("Service Agreement", 3, 100_000);
    let doc = Document::open(&pdf).unwrap();
    let r = SignatureRequest {
        placement: Some(Placement {
            page: 2,
            rect: [100.0, 100.0, 300.0, 180.0],
        }),
        signing_time: Some(UNIX_EPOCH + Duration::from_secs(1_795_868_130)),
        name: Some("张三".into()),
        reason: Some("I agree (fully)".into()),
        location: Some("杭州".into()),
        ..req(4096)
    };
    let mut p = prepare_signature(&doc, &r).unwrap();
    let der = [0x30u8, 0x82, 0x01, 0x00, 0xAB];
    p.embed(&der).unwrap();
    let (a, b) = p.signed_parts();
    assert_eq!(a.len() + b.len() + (p.hole.1 - p.hole.0), p.update.len());
    let app = Appended {
        base: &pdf,
        tail: &p.update,
    };
    let total = app.len();
    let len = pdf.len() as u64;
    assert_eq!(
        p.byte_range,
        [
            0,
            len + p.hole.0 as u64,
            len + p.hole.1 as u64,
            total - (len + p.hole.1 as u64)
        ]
    );

    let doc2 = Document::open(&app).unwrap();
    let fields = doc2.signature_fields().unwrap();
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].name, "Signature1");
    assert!(fields[0].value.is_some());
    assert_eq!(fields[0].page, Some(2));
    assert_eq!(fields[0].rect, Some([100.0, 100.0, 300.0, 180.0]));
    let sigs = signatures(&doc2).unwrap();
    assert_eq!(sigs.len(), 1);
    let s = &sigs[0];
    assert_eq!(s.sub_filter, b"ETSI.CAdES.detached");
    assert!(!s.is_doc_timestamp);
    assert_eq!(
        s.byte_range,
        p.byte_range.iter().map(|&v| v as i64).collect::<Vec<_>>()
    );
    assert_eq!(&s.contents[..der.len()], &der);
    assert_eq!(s.contents.len(), 4096);
    assert_eq!(s.contents_span, (p.byte_range[1], p.byte_range[2]));
    assert_eq!(s.signing_time_text.as_deref(), Some("D:20261128121530Z"));
    assert_eq!(s.reason.as_deref(), Some("I agree (fully)"));
    assert_eq!(s.location.as_deref(), Some("杭州"));
    let sig = doc2.get(s.sig_ref).unwrap();
    assert_eq!(
        decode_text(
            sig.as_dict()
                .unwrap()
                .get(b"Name")
                .unwrap()
                .as_bytes()
                .unwrap()
        ),
        "张三"
    );
    assert_eq!(doc2.revisions().unwrap(), vec![len, total]);
    // The page keeps its keys and gains the widget.
    let (_, page) = doc2.page(2).unwrap();
    assert!(page.get(b"Contents").is_some() && page.get(b"MediaBox").is_some());
    assert_eq!(page.get(b"Annots").unwrap().as_array().unwrap().len(), 1);
    let (_, cat) = doc2.catalog().unwrap();
    let form = cat.get(b"AcroForm").unwrap().as_dict().unwrap();
    assert_eq!(form.get(b"SigFlags"), Some(&Object::Integer(3)));
    // Embedding too much fails and changes nothing.
    let before = p.update.clone();
    assert_eq!(
        p.embed(&vec![1u8; 4097]),
        Err(PdfError::ContentsTooLarge {
            needed: 4097,
            capacity: 4096
        })
    );
    assert_eq!(p.update, before);
}

#[test]
fn second_signature_keeps_the_first() {
    let pdf = sample_contract("Two", 1, 0);
    let (one, _) = sign(&pdf, &req(1000), b"first");
    let (two, p2) = sign(&one, &req(1000), b"second");
    assert!(two.starts_with(&one));
    let doc = Document::open(&two).unwrap();
    let sigs = signatures(&doc).unwrap();
    let names: Vec<_> = sigs.iter().map(|s| s.field_name.as_str()).collect();
    assert_eq!(names, ["Signature1", "Signature2"]);
    assert!(sigs[0].contents.starts_with(b"first") && sigs[1].contents.starts_with(b"second"));
    assert_eq!(sigs[1].byte_range[3] as u64, p2.byte_range[3]);
    assert_eq!(
        doc.revisions().unwrap(),
        vec![pdf.len() as u64, one.len() as u64, two.len() as u64]
    );
    // A named existing signed field cannot be signed again.
    let r = SignatureRequest {
        field_name: Some("Signature1".into()),
        ..req(100)
    };
    assert_eq!(
        prepare_signature(&doc, &r).unwrap_err(),
        PdfError::FieldAlreadySigned("Signature1".into())
    );
    // Certification is only for the first signature.
    let r = SignatureRequest {
        certify: Some(2),
        ..req(100)
    };
    assert_eq!(
        prepare_signature(&doc, &r).unwrap_err(),
        PdfError::CertifyNotFirst
    );
}

#[test]
fn certification_with_prepared_fields() {
    let pdf = sample_contract("Certified", 2, 0);
    let r = SignatureRequest {
        certify: Some(2),
        add_fields: vec![
            NewField {
                name: "Buyer".into(),
                placement: Placement {
                    page: 2,
                    rect: [50.0, 50.0, 250.0, 120.0],
                },
            },
            NewField {
                name: "Seller".into(),
                placement: Placement {
                    page: 2,
                    rect: [300.0, 50.0, 500.0, 120.0],
                },
            },
        ],
        ..req(2000)
    };
    let (cert, _) = sign(&pdf, &r, b"certifier");
    let doc = Document::open(&cert).unwrap();
    assert_eq!(doc.certification().unwrap(), Some(2));
    let fields = doc.signature_fields().unwrap();
    assert_eq!(
        fields
            .iter()
            .map(|f| (f.name.as_str(), f.signed))
            .collect::<Vec<_>>(),
        [("Signature1", true), ("Buyer", false), ("Seller", false)]
    );
    assert_eq!(signatures(&doc).unwrap()[0].certify, Some(2));
    // New fields are refused on a certified document.
    assert!(matches!(
        prepare_signature(&doc, &req(100)),
        Err(PdfError::CertifiedNewField(_))
    ));
    let r = SignatureRequest {
        field_name: Some("Nobody".into()),
        ..req(100)
    };
    assert!(matches!(
        prepare_signature(&doc, &r),
        Err(PdfError::CertifiedNewField(_))
    ));
    // Filling a pre-created field works, with an appearance in the field's own rect.
    let img = RgbaImage {
        width: 2,
        height: 1,
        rgba: vec![255, 0, 0, 128, 0, 0, 255, 255],
    };
    let r = SignatureRequest {
        field_name: Some("Buyer".into()),
        placement: Some(Placement {
            page: 1,
            rect: [0.0, 0.0, 10.0, 10.0],
        }),
        appearance: Some(AppearanceSpec {
            image: Some(img),
            ..Default::default()
        }),
        ..req(1000)
    };
    let (filled, _) = sign(&cert, &r, b"buyer");
    let doc = Document::open(&filled).unwrap();
    let f = doc
        .signature_fields()
        .unwrap()
        .into_iter()
        .find(|f| f.name == "Buyer")
        .unwrap();
    assert!(f.signed);
    assert_eq!(f.rect, Some([50.0, 50.0, 250.0, 120.0]));
    let fd = doc.get(f.field).unwrap();
    assert!(fd.as_dict().unwrap().get(b"AP").is_some());
    assert_eq!(signatures(&doc).unwrap().len(), 2);
    // A document timestamp may still be added.
    let r = SignatureRequest {
        kind: SignatureKind::DocTimestamp,
        ..req(500)
    };
    let (ts, _) = sign(&filled, &r, b"tst");
    let doc = Document::open(&ts).unwrap();
    let sigs = signatures(&doc).unwrap();
    let last = sigs.last().unwrap();
    assert!(last.is_doc_timestamp);
    assert_eq!(last.sub_filter, b"ETSI.RFC3161");
    assert!(last.signing_time_text.is_none());
}

#[test]
fn certified_no_changes_is_refused() {
    let pdf = sample_contract("Final", 1, 0);
    let (cert, _) = sign(
        &pdf,
        &SignatureRequest {
            certify: Some(1),
            ..req(100)
        },
        b"c",
    );
    let doc = Document::open(&cert).unwrap();
    assert_eq!(doc.certification().unwrap(), Some(1));
    let e = prepare_signature(&doc, &req(100)).unwrap_err();
    assert_eq!(e, PdfError::CertifiedNoChanges);
    assert!(e.to_string().contains("no changes allowed"));
    assert!(matches!(
        prepare_signature(
            &doc,
            &SignatureRequest {
                certify: Some(4),
                ..req(100)
            }
        ),
        Err(PdfError::InvalidRequest(_))
    ));
    // PAdES long-term maintenance stays possible: a document timestamp (invisible, no /AP,
    // which pyHanko accepts under P=1 as an LTA update).
    let (ts, _) = sign(
        &cert,
        &SignatureRequest {
            kind: SignatureKind::DocTimestamp,
            ..req(100)
        },
        b"t",
    );
    let doc = Document::open(&ts).unwrap();
    let f = doc.signature_fields().unwrap().pop().unwrap();
    assert_eq!(f.rect, Some([0.0; 4]));
    assert!(
        doc.get(f.field)
            .unwrap()
            .as_dict()
            .unwrap()
            .get(b"AP")
            .is_none()
    );
}

#[test]
fn dss_is_merged() {
    let pdf = sample_contract("LTV", 1, 0);
    let (signed, _) = sign(&pdf, &req(100), b"s");
    let doc = Document::open(&signed).unwrap();
    let data = DssData {
        certs: vec![b"cert-a".to_vec(), b"cert-b".to_vec()],
        ocsps: vec![b"ocsp".to_vec()],
        crls: vec![],
    };
    let up = add_dss(&doc, &data).unwrap();
    let first = [signed.clone(), up].concat();
    let doc = Document::open(&first).unwrap();
    let count = |doc: &Document, key: &[u8]| -> Vec<Vec<u8>> {
        let (_, cat) = doc.catalog().unwrap();
        let dss = doc.resolve(cat.get(b"DSS").unwrap()).unwrap();
        match dss.as_dict().unwrap().get(key) {
            Some(Object::Array(a)) => a
                .iter()
                .map(|o| match doc.resolve(o).unwrap() {
                    Object::Stream(s) => s.decoded().unwrap(),
                    _ => panic!(),
                })
                .collect(),
            _ => vec![],
        }
    };
    assert_eq!(
        count(&doc, b"Certs"),
        vec![b"cert-a".to_vec(), b"cert-b".to_vec()]
    );
    let up = add_dss(
        &doc,
        &DssData {
            certs: vec![b"cert-b".to_vec(), b"cert-c".to_vec()],
            crls: vec![b"crl".to_vec()],
            ..Default::default()
        },
    )
    .unwrap();
    let second = [first, up].concat();
    let doc = Document::open(&second).unwrap();
    assert_eq!(
        count(&doc, b"Certs"),
        vec![b"cert-a".to_vec(), b"cert-b".to_vec(), b"cert-c".to_vec()]
    );
    assert_eq!(count(&doc, b"OCSPs"), vec![b"ocsp".to_vec()]);
    assert_eq!(count(&doc, b"CRLs"), vec![b"crl".to_vec()]);
    assert_eq!(signatures(&doc).unwrap().len(), 1);
}

/// A one-page file whose catalog is plain, pages in an object stream, and an xref stream with
/// PNG Up predictor.
fn xref_stream_pdf() -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let off1 = out.len();
    out.extend_from_slice(b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    let o2 = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>";
    let o3 = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] >>";
    let header = format!("2 0 3 {} ", o2.len() + 1);
    let body = [header.as_bytes(), o2, b" ", o3].concat();
    let z = crate::filter::deflate(&body);
    let off4 = out.len();
    out.extend_from_slice(
        format!(
            "4 0 obj\n<< /Type /ObjStm /N 2 /First {} /Filter /FlateDecode /Length {} >>\nstream\n",
            header.len(),
            z.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&z);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    let off5 = out.len();
    let rows: Vec<[u8; 7]> = [
        (0u8, 0u32, 65535u16),
        (1, off1 as u32, 0),
        (2, 4, 0),
        (2, 4, 1),
        (1, off4 as u32, 0),
        (1, off5 as u32, 0),
    ]
    .iter()
    .map(|&(t, a, b)| {
        let a = a.to_be_bytes();
        let b = b.to_be_bytes();
        [t, a[0], a[1], a[2], a[3], b[0], b[1]]
    })
    .collect();
    let mut raw = Vec::new();
    let mut prev = [0u8; 7];
    for r in &rows {
        raw.push(2);
        raw.extend(r.iter().zip(prev).map(|(c, p)| c.wrapping_sub(p)));
        prev = *r;
    }
    let z = crate::filter::deflate(&raw);
    out.extend_from_slice(
        format!("5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 7 >> /Length {} >>\nstream\n", z.len()).as_bytes(),
    );
    out.extend_from_slice(&z);
    out.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{off5}\n%%EOF").as_bytes());
    out
}

#[test]
fn xref_stream_and_object_stream_input() {
    let pdf = xref_stream_pdf();
    let doc = Document::open(&pdf).unwrap();
    assert!(!doc.uses_xref_table());
    assert_eq!(doc.page_count().unwrap(), 1);
    assert_eq!(doc.page_box(1).unwrap(), [0.0, 0.0, 300.0, 300.0]);
    let p = prepare_signature(
        &doc,
        &SignatureRequest {
            placement: Some(Placement {
                page: 1,
                rect: [10.0, 10.0, 110.0, 60.0],
            }),
            ..req(256)
        },
    )
    .unwrap();
    // The file did not end with an EOL, so the update starts with one; the xref is a stream.
    assert_eq!(p.update[0], b'\n');
    assert!(crate::document::find(&p.update, b"/Type /XRef").is_some());
    assert!(crate::document::find(&p.update, b"\nxref\n").is_none());
    let app = Appended {
        base: &pdf,
        tail: &p.update,
    };
    let doc2 = Document::open(&app).unwrap();
    assert!(!doc2.uses_xref_table());
    assert_eq!(signatures(&doc2).unwrap().len(), 1);
    assert_eq!(doc2.signature_fields().unwrap()[0].page, Some(1));
    // Reading an object from the object stream with the wrong generation fails.
    assert!(doc2.get(ObjRef::new(2, 1)).is_err());
}

#[test]
fn request_errors() {
    let pdf = sample_contract("Errors", 2, 0);
    let doc = Document::open(&pdf).unwrap();
    let at = |page, rect| SignatureRequest {
        placement: Some(Placement { page, rect }),
        ..req(100)
    };
    assert_eq!(
        prepare_signature(&doc, &at(3, [0.0, 0.0, 10.0, 10.0])).unwrap_err(),
        PdfError::PageOutOfRange { page: 3, count: 2 }
    );
    assert_eq!(
        prepare_signature(&doc, &at(0, [0.0, 0.0, 10.0, 10.0])).unwrap_err(),
        PdfError::PageOutOfRange { page: 0, count: 2 }
    );
    let e = prepare_signature(&doc, &at(1, [500.0, 0.0, 700.0, 10.0])).unwrap_err();
    assert!(matches!(e, PdfError::RectOutOfRange { .. }));
    assert!(e.to_string().contains("[0 0 595 842]"), "{e}");
    assert!(matches!(
        prepare_signature(&doc, &at(1, [10.0, 10.0, 10.0, 50.0])),
        Err(PdfError::RectOutOfRange { .. })
    ));
    assert!(matches!(
        prepare_signature(&doc, &at(1, [f64::NAN, 10.0, 10.0, 50.0])),
        Err(PdfError::RectOutOfRange { .. })
    ));
    assert!(matches!(
        prepare_signature(&doc, &req(0)),
        Err(PdfError::InvalidRequest(_))
    ));
    let no_font = SignatureRequest {
        appearance: Some(AppearanceSpec {
            text_lines: vec!["张三".into()],
            ..Default::default()
        }),
        ..at(1, [10.0, 10.0, 110.0, 60.0])
    };
    let e = prepare_signature(&doc, &no_font).unwrap_err();
    assert_eq!(e, PdfError::NoFont);
    assert!(e.to_string().contains("--font"));
    let dup = SignatureRequest {
        field_name: Some("A".into()),
        add_fields: vec![NewField {
            name: "A".into(),
            placement: Placement {
                page: 1,
                rect: [0.0, 0.0, 10.0, 10.0],
            },
        }],
        ..req(100)
    };
    assert_eq!(
        prepare_signature(&doc, &dup).unwrap_err(),
        PdfError::DuplicateField("A".into())
    );
}

#[test]
fn cjk_text_appearance() {
    let Ok(font) = std::fs::read(FONT) else {
        eprintln!("skipping: {FONT} not installed");
        return;
    };
    let pdf = sample_contract("Font", 1, 0);
    let doc = Document::open(&pdf).unwrap();
    let spec = |lines: Vec<&str>| SignatureRequest {
        placement: Some(Placement {
            page: 1,
            rect: [300.0, 100.0, 500.0, 180.0],
        }),
        appearance: Some(AppearanceSpec {
            image: None,
            text_lines: lines.into_iter().map(String::from).collect(),
            font: Some(FontData {
                bytes: &font,
                index: 2,
            }),
        }),
        ..req(100)
    };
    let p = prepare_signature(&doc, &spec(vec!["张三", "2026-11-28"])).unwrap();
    assert!(p.update.len() > 2000);
    assert!(matches!(
        prepare_signature(&doc, &spec(vec!["\u{10FFFD}"])),
        Err(PdfError::MissingGlyph('\u{10FFFD}'))
    ));
}

#[test]
fn hostile_inputs_never_panic() {
    // Bit flips and truncations of a signed file: every outcome is Ok or Err, never a panic.
    let pdf = sample_contract("Fuzz", 2, 0);
    let (signed, _) = sign(&pdf, &req(64), b"x");
    let mut state = 0x1234_5678u64;
    for _ in 0..300 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut m = signed.clone();
        let at = (state >> 33) as usize % m.len();
        m[at] = (state >> 8) as u8;
        let cut = if state & 1 == 0 { m.len() } else { at.max(1) };
        let m = m[..cut].to_vec();
        if let Ok(doc) = Document::open(&m) {
            let _ = doc.page_count();
            let _ = doc.signature_fields();
            let _ = signatures(&doc);
            let _ = doc.revisions();
            let _ = prepare_signature(&doc, &req(64));
        }
    }
    // A stream whose /Length is absurd.
    let at = crate::document::find(&pdf, b"/Length ").unwrap() + 8;
    let mut huge = pdf.clone();
    huge[at..]
        .iter_mut()
        .take_while(|b| b.is_ascii_digit())
        .for_each(|b| *b = b'9');
    let doc = Document::open(&huge).unwrap();
    let (_, page) = doc.page(1).unwrap();
    assert!(doc.resolve(page.get(b"Contents").unwrap()).is_err());
}

/// Writes files for checking with qpdf/pdfsig/pdftoppm by hand:
/// `cargo test -p signet-pdf write_manual_check_files -- --ignored`.
#[test]
fn hybrid_xref_file() {
    let mut pdf = xref_stream_pdf();
    let text = String::from_utf8_lossy(&pdf).into_owned();
    let off1 = crate::document::find(&pdf, b"1 0 obj").unwrap();
    let off5 = crate::document::find(&pdf, b"5 0 obj").unwrap();
    assert!(text.contains("/Type /XRef"));
    pdf.push(b'\n');
    let table = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 2\n0000000000 65535 f\r\n{off1:010} 00000 n\r\ntrailer\n<< /Size 6 /Root 1 0 R /XRefStm {off5} >>\nstartxref\n{table}\n%%EOF\n").as_bytes(),
    );
    let doc = Document::open(&pdf).unwrap();
    assert!(doc.uses_xref_table());
    assert_eq!(
        doc.page_count().unwrap(),
        1,
        "pages come from the object stream via /XRefStm"
    );
    let p = prepare_signature(&doc, &req(128)).unwrap();
    assert!(crate::document::find(&p.update, b"\nxref\n").is_some());
    let app = Appended {
        base: &pdf,
        tail: &p.update,
    };
    let doc2 = Document::open(&app).unwrap();
    assert!(doc2.uses_xref_table());
    assert_eq!(signatures(&doc2).unwrap().len(), 1);
}

#[test]
fn xref_whitespace_variants() {
    // 19-byte entries (a lone "\n" as EOL) and startxref pointing at the EOL before "xref".
    let pdf = sample_contract("Variants", 2, 0);
    let xref = crate::document::find(&pdf, b"xref\n0 ").unwrap();
    let (head, tail) = pdf.split_at(xref);
    let tail = String::from_utf8(tail.to_vec())
        .unwrap()
        .replace(" n\r\n", " n\n")
        .replace(" f\r\n", " f\n");
    let tail = tail.replace(
        &format!("startxref\n{xref}\n"),
        &format!("startxref\n{}\n", xref - 1),
    );
    let pdf = [head, tail.as_bytes()].concat();
    let doc = Document::open(&pdf).unwrap();
    assert_eq!(doc.page_count().unwrap(), 2);
    let (one, _) = sign(&pdf, &req(64), b"ok");
    assert_eq!(signatures(&Document::open(&one).unwrap()).unwrap().len(), 1);
}

/// A 1 GiB document that exists only as a header, a virtual gap of spaces and a tail, and
/// counts the bytes read from it.
struct Huge {
    head: Vec<u8>,
    gap: u64,
    tail: Vec<u8>,
    read: std::sync::atomic::AtomicU64,
}

impl Source for Huge {
    fn len(&self) -> u64 {
        self.head.len() as u64 + self.gap + self.tail.len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), PdfError> {
        self.read
            .fetch_add(buf.len() as u64, std::sync::atomic::Ordering::Relaxed);
        let (h, g) = (self.head.len() as u64, self.gap);
        if offset + buf.len() as u64 > self.len() {
            return Err(PdfError::OutOfRange {
                offset,
                len: buf.len(),
                source_len: self.len(),
            });
        }
        for (i, b) in buf.iter_mut().enumerate() {
            let o = offset + i as u64;
            *b = if o < h {
                self.head[o as usize]
            } else if o < h + g {
                b' '
            } else {
                self.tail[(o - h - g) as usize]
            };
        }
        Ok(())
    }
}

#[test]
fn one_gigabyte_document_is_read_lazily() {
    let pdf = sample_contract("Huge", 3, 0);
    let xref = crate::document::find(&pdf, b"xref\n0 ").unwrap();
    let gap = 1u64 << 30;
    let tail = String::from_utf8(pdf[xref..].to_vec()).unwrap().replace(
        &format!("startxref\n{xref}\n"),
        &format!("startxref\n{}\n", xref as u64 + gap),
    );
    let huge = Huge {
        head: pdf[..xref].to_vec(),
        gap,
        tail: tail.into_bytes(),
        read: Default::default(),
    };
    let doc = Document::open(&huge).unwrap();
    assert_eq!(doc.page_count().unwrap(), 3);
    let mut p = prepare_signature(
        &doc,
        &SignatureRequest {
            placement: Some(Placement {
                page: 3,
                rect: [10.0, 10.0, 200.0, 80.0],
            }),
            ..req(8192)
        },
    )
    .unwrap();
    p.embed(b"der").unwrap();
    assert!(p.byte_range[1] > gap);
    let read = huge.read.load(std::sync::atomic::Ordering::Relaxed);
    assert!(read < 200_000, "read {read} bytes of a 1 GiB document");
    let app = Appended {
        base: &huge,
        tail: &p.update,
    };
    let doc2 = Document::open(&app).unwrap();
    let sigs = signatures(&doc2).unwrap();
    assert_eq!(sigs[0].contents_span, (p.byte_range[1], p.byte_range[2]));
    assert_eq!(doc2.revisions().unwrap(), vec![huge.len(), app.len()]);
}

/// Writes `/tmp/prep.pdf` (zero placeholder), `/tmp/prep.tbs` (the signed bytes) and
/// `/tmp/prep.hole` (absolute offsets of the hex digits) for signing with `openssl cms`.
#[test]
fn document_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Document<'static>>();
    check::<PreparedSignature>();
}

/// Certify with two pre-created fields, fill both, add a DSS: `/tmp/chain.pdf`.
/// Needs /tmp/k.pem and /tmp/c.pem (`openssl req -x509 -newkey ec ...`).
#[test]
fn chinese_field_names_round_trip() {
    let pdf = sample_contract("名字", 1, 0);
    let r = SignatureRequest {
        field_name: Some("甲方签名".into()),
        ..req(64)
    };
    let (one, _) = sign(&pdf, &r, b"x");
    let doc = Document::open(&one).unwrap();
    assert_eq!(doc.signature_fields().unwrap()[0].name, "甲方签名");
    assert_eq!(signatures(&doc).unwrap()[0].field_name, "甲方签名");
    let again = SignatureRequest {
        field_name: Some("甲方签名".into()),
        ..req(64)
    };
    assert_eq!(
        prepare_signature(&doc, &again).unwrap_err(),
        PdfError::FieldAlreadySigned("甲方签名".into())
    );
}

/// Found while fuzzing (reading the pdf_document paths): `revisions` scanned from every
/// cross-reference section to the next `%%EOF`, so many small sections before a long stretch
/// without one read the file once per section. Now the file is read about once.
#[test]
fn revisions_read_the_file_once_whatever_the_number_of_sections() {
    let mut head = b"%PDF-1.7\n".to_vec();
    let mut prev = None;
    for _ in 0..1000 {
        let at = head.len();
        let p = prev.map(|p| format!("/Prev {p} ")).unwrap_or_default();
        head.extend_from_slice(format!("xref\n0 0\ntrailer\n<< {p}>>\n").as_bytes());
        prev = Some(at);
    }
    let doc_src = Huge {
        tail: format!("startxref\n{}\n%%EOF\n", prev.unwrap()).into_bytes(),
        head,
        gap: 4 << 20,
        read: Default::default(),
    };
    let doc = Document::open(&doc_src).unwrap();
    let before = doc_src.read.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(doc.revisions().unwrap(), vec![doc_src.len()]);
    let read = doc_src.read.load(std::sync::atomic::Ordering::Relaxed) - before;
    assert!(
        read < 2 * doc_src.len(),
        "{read} bytes read for {}",
        doc_src.len()
    );
}

/// Found while fuzzing (reading the pdf_document paths): every classic section of the `/Prev`
/// chain may name the same `/XRefStm`, which was decoded again for each (with a 256 MiB
/// decoded stream, thousands of times). Now it is read once.
#[test]
fn one_xref_stm_named_by_many_sections_is_read_once() {
    let mut head = b"%PDF-1.7\n".to_vec();
    let stm_at = head.len();
    let rows = vec![0u8; 7 * 600];
    head.extend_from_slice(
        format!(
            "9 0 obj\n<< /Type /XRef /Size 600 /W [1 4 2] /Length {} >>\nstream\n",
            rows.len()
        )
        .as_bytes(),
    );
    head.extend_from_slice(&rows);
    head.extend_from_slice(b"\nendstream\nendobj\n");
    let mut prev = None;
    for _ in 0..1000 {
        let at = head.len();
        let p = prev.map(|p| format!("/Prev {p} ")).unwrap_or_default();
        head.extend_from_slice(
            format!("xref\n0 0\ntrailer\n<< {p}/XRefStm {stm_at} >>\n").as_bytes(),
        );
        prev = Some(at);
    }
    let src = Huge {
        tail: format!("startxref\n{}\n%%EOF\n", prev.unwrap()).into_bytes(),
        head,
        gap: 0,
        read: Default::default(),
    };
    let doc = Document::open(&src).unwrap();
    assert_eq!(doc.size(), 600);
    let read = src.read.load(std::sync::atomic::Ordering::Relaxed);
    assert!(read < 20 * src.len(), "{read} bytes read for {}", src.len());
}

/// Found while fuzzing (reading the pdf_document paths): for each signature field whose widget
/// has no `/P`, every page was read again to find the one listing the widget, so many fields
/// and many pages took fields x pages object reads. Now the pages are read once.
#[test]
fn widgets_without_p_are_found_with_one_pass_over_the_pages() {
    const N: usize = 400;
    // 1 catalog, 2 pages root, 3 acroform; pages 4.., fields after them.
    let page = |i: usize| 4 + i;
    let field = |i: usize| 4 + N + i;
    let mut objs = vec![
        "<< /Type /Catalog /Pages 2 0 R /AcroForm 3 0 R >>".to_string(),
        format!(
            "<< /Type /Pages /Count {N} /MediaBox [0 0 100 100] /Kids [{}] >>",
            (0..N)
                .map(|i| format!("{} 0 R ", page(i)))
                .collect::<String>()
        ),
        format!(
            "<< /Fields [{}] >>",
            (0..N)
                .map(|i| format!("{} 0 R ", field(i)))
                .collect::<String>()
        ),
    ];
    for i in 0..N {
        let annots = if i == N - 1 {
            format!(
                "/Annots [{}]",
                (0..N)
                    .map(|i| format!("{} 0 R ", field(i)))
                    .collect::<String>()
            )
        } else {
            String::new()
        };
        objs.push(format!("<< /Type /Page /Parent 2 0 R {annots} >>"));
    }
    for i in 0..N {
        objs.push(format!(
            "<< /FT /Sig /T (f{i}) /Subtype /Widget /Rect [0 0 10 10] >>"
        ));
    }
    let mut head = b"%PDF-1.7\n".to_vec();
    let mut offs = vec![];
    for (i, o) in objs.iter().enumerate() {
        offs.push(head.len());
        head.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = head.len();
    head.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for o in offs {
        head.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    let src = Huge {
        tail: format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        )
        .into_bytes(),
        head,
        gap: 0,
        read: Default::default(),
    };
    let doc = Document::open(&src).unwrap();
    let fields = doc.signature_fields().unwrap();
    assert_eq!(fields.len(), N);
    assert!(fields.iter().all(|f| f.page == Some(N)));
    let read = src.read.load(std::sync::atomic::Ordering::Relaxed);
    assert!(read < 40 * src.len(), "{read} bytes read for {}", src.len());
}

fn field(name: &str, kind: FormFieldKind, page: usize, rect: [f64; 4]) -> FormField {
    FormField {
        name: name.into(),
        kind,
        placement: Placement { page, rect },
    }
}

/// The contract's fields as the platform creates them before the first signature.
fn contract_fields() -> Vec<FormField> {
    vec![
        field(
            "Buyer",
            FormFieldKind::Signature,
            2,
            [50.0, 50.0, 250.0, 120.0],
        ),
        field(
            "Seller",
            FormFieldKind::Signature,
            2,
            [300.0, 50.0, 500.0, 120.0],
        ),
        field(
            "BuyerName",
            FormFieldKind::Text,
            1,
            [72.0, 100.0, 300.0, 124.0],
        ),
        field(
            "Agree",
            FormFieldKind::Checkbox,
            2,
            [50.0, 140.0, 64.0, 154.0],
        ),
    ]
}

/// `base` plus the update `up`.
fn with(base: &[u8], up: Vec<u8>) -> Vec<u8> {
    [base, &up[..]].concat()
}

fn field_dict_of(doc: &Document, name: &str) -> (ObjRef, Dict) {
    let f = doc
        .form_fields()
        .unwrap()
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no field {name}"));
    (
        f.field,
        doc.get(f.field).unwrap().as_dict().unwrap().clone(),
    )
}

fn acroform(doc: &Document) -> Dict {
    let (_, cat) = doc.catalog().unwrap();
    doc.resolve(cat.get(b"AcroForm").unwrap())
        .unwrap()
        .as_dict()
        .unwrap()
        .clone()
}

fn refs(o: Option<&Object>) -> Vec<ObjRef> {
    o.and_then(Object::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(Object::as_reference)
        .collect()
}

#[test]
fn form_fields_are_added_to_their_pages_and_the_acroform() {
    let pdf = sample_contract("Form", 2, 0);
    let doc = Document::open(&pdf).unwrap();
    let one = with(&pdf, add_form_fields(&doc, &contract_fields()).unwrap());
    let doc = Document::open(&one).unwrap();
    assert_eq!(doc.revisions().unwrap().len(), 2);
    let all = doc.form_fields().unwrap();
    let kinds: Vec<_> = all
        .iter()
        .map(|f| (f.name.as_str(), f.ft.as_deref().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Buyer", &b"Sig"[..]),
            ("Seller", b"Sig"),
            ("BuyerName", b"Tx"),
            ("Agree", b"Btn")
        ]
    );
    let form = acroform(&doc);
    assert_eq!(
        refs(form.get(b"Fields")),
        all.iter().map(|f| f.field).collect::<Vec<_>>()
    );
    assert_eq!(form.get(b"SigFlags"), Some(&Object::Integer(3)));
    assert!(form.get(b"NeedAppearances").is_none());
    assert_eq!(
        form.get(b"DA"),
        Some(&Object::String(b"/Helv 0 Tf 0 g".to_vec()))
    );
    let dr = form.get(b"DR").unwrap().as_dict().unwrap();
    let fonts = dr.get(b"Font").unwrap().as_dict().unwrap();
    let helv = doc.resolve(fonts.get(b"Helv").unwrap()).unwrap();
    assert!(helv.as_dict().unwrap().has_name(b"BaseFont", b"Helvetica"));
    assert!(
        helv.as_dict()
            .unwrap()
            .has_name(b"Encoding", b"WinAnsiEncoding")
    );
    assert!(fonts.get(b"ZaDb").is_some());
    // Each widget is on its page's /Annots and points back at it.
    let annots = |n| refs(doc.page(n).unwrap().1.get(b"Annots"));
    assert_eq!(annots(1), [all[2].field]);
    assert_eq!(annots(2), [all[0].field, all[1].field, all[3].field]);
    let (_, name) = field_dict_of(&doc, "BuyerName");
    assert_eq!(name.get(b"P"), Some(&Object::Ref(doc.page(1).unwrap().0)));
    assert_eq!(name.get(b"F"), Some(&Object::Integer(4)));
    assert_eq!(
        name.get(b"DA"),
        Some(&Object::String(b"/Helv 0 Tf 0 g".to_vec()))
    );
    assert!(name.get(b"V").is_none());
    let ap = name.get(b"AP").unwrap().as_dict().unwrap();
    let n = doc.resolve(ap.get(b"N").unwrap()).unwrap();
    let Object::Stream(n) = n else { panic!() };
    assert_eq!(
        doc.rect_of(n.dict.get(b"BBox").unwrap()),
        Some([0.0, 0.0, 228.0, 24.0])
    );
    let (_, agree) = field_dict_of(&doc, "Agree");
    assert!(agree.has_name(b"V", b"Off") && agree.has_name(b"AS", b"Off"));
    assert!(agree.get(b"Ff").is_none() && agree.get(b"MK").is_some());
    let states = agree
        .get(b"AP")
        .unwrap()
        .as_dict()
        .unwrap()
        .get(b"N")
        .unwrap();
    let states = states.as_dict().unwrap();
    let yes = doc.resolve(states.get(b"Yes").unwrap()).unwrap();
    let Object::Stream(yes) = yes else { panic!() };
    let yes = String::from_utf8(yes.decoded().unwrap()).unwrap();
    assert!(yes.contains(" m ") && yes.contains(" l S"), "{yes}");
    assert!(states.get(b"Off").is_some());
    // Signature fields are what prepare_signature makes for an empty field.
    let sigs = doc.signature_fields().unwrap();
    assert_eq!(sigs.len(), 2);
    assert!(sigs.iter().all(|f| !f.signed && f.page == Some(2)));

    // A second update merges: old fields, fonts and page entries stay.
    let more = [field(
        "Date",
        FormFieldKind::Text,
        1,
        [400.0, 100.0, 500.0, 124.0],
    )];
    let two = with(&one, add_form_fields(&doc, &more).unwrap());
    let doc2 = Document::open(&two).unwrap();
    let form2 = acroform(&doc2);
    let mut expected: Vec<ObjRef> = all.iter().map(|f| f.field).collect();
    let (date, _) = field_dict_of(&doc2, "Date");
    expected.push(date);
    assert_eq!(refs(form2.get(b"Fields")), expected);
    assert_eq!(form2.get(b"DR"), form.get(b"DR"));
    assert_eq!(
        refs(doc2.page(1).unwrap().1.get(b"Annots")),
        [all[2].field, date]
    );
    assert_eq!(refs(doc2.page(2).unwrap().1.get(b"Annots")), annots(2));

    // Errors.
    let add = |fields: &[FormField]| add_form_fields(&doc2, fields).unwrap_err();
    assert_eq!(
        add(&[field(
            "Agree",
            FormFieldKind::Text,
            1,
            [0.0, 0.0, 10.0, 10.0]
        )]),
        PdfError::DuplicateField("Agree".into())
    );
    let twice = field("New", FormFieldKind::Checkbox, 1, [0.0, 0.0, 10.0, 10.0]);
    assert_eq!(
        add(&[twice.clone(), twice]),
        PdfError::DuplicateField("New".into())
    );
    assert_eq!(
        add(&[field("X", FormFieldKind::Text, 3, [0.0, 0.0, 10.0, 10.0])]),
        PdfError::PageOutOfRange { page: 3, count: 2 }
    );
    for rect in [
        [500.0, 0.0, 700.0, 10.0],
        [10.0, 10.0, 10.0, 20.0],
        [f64::NAN, 0.0, 10.0, 10.0],
    ] {
        assert!(matches!(
            add(&[field("X", FormFieldKind::Text, 1, rect)]),
            PdfError::RectOutOfRange { .. }
        ));
    }
    assert!(matches!(
        add(&[field("a.b", FormFieldKind::Text, 1, [0.0, 0.0, 10.0, 10.0])]),
        PdfError::InvalidRequest(_)
    ));
    assert!(matches!(add(&[]), PdfError::InvalidRequest(_)));
    // A signature field cannot take the name of a text field.
    let r = SignatureRequest {
        field_name: Some("BuyerName".into()),
        ..req(64)
    };
    assert_eq!(
        prepare_signature(&doc2, &r).unwrap_err(),
        PdfError::FieldKind {
            name: "BuyerName".into(),
            found: "text",
            wanted: "a signature"
        }
    );
    // After a signature only signature fields may still be added.
    let r = SignatureRequest {
        field_name: Some("Buyer".into()),
        ..req(64)
    };
    let (signed, _) = sign(&two, &r, b"sig");
    let doc3 = Document::open(&signed).unwrap();
    assert_eq!(
        add_form_fields(
            &doc3,
            &[field(
                "Late",
                FormFieldKind::Text,
                1,
                [0.0, 0.0, 10.0, 10.0]
            )]
        )
        .unwrap_err(),
        PdfError::FieldAfterSignature("Late".into())
    );
    assert!(
        add_form_fields(
            &doc3,
            &[field(
                "Witness",
                FormFieldKind::Signature,
                1,
                [0.0, 0.0, 10.0, 10.0]
            )]
        )
        .is_ok()
    );
}

#[test]
fn form_fields_merge_into_existing_default_resources() {
    // An AcroForm of its own with a /DR font and /DA, and no fields yet.
    let pdf = sample_contract("DR", 1, 0);
    let doc = Document::open(&pdf).unwrap();
    let mut up = crate::writer::Update::new(&doc).unwrap();
    let (cat_ref, mut cat) = doc.catalog().unwrap();
    let form_ref = up.alloc().unwrap();
    let mut fonts = Dict::new();
    fonts.set("F9", Object::Ref(ObjRef::new(3, 0)));
    let mut dr = Dict::new();
    dr.set("Font", Object::Dict(fonts));
    let mut form = Dict::new();
    form.set("Fields", Object::Array(vec![]));
    form.set("DR", Object::Dict(dr));
    form.set("DA", Object::String(b"/F9 10 Tf 0 g".to_vec()));
    up.put(form_ref, &Object::Dict(form));
    cat.set("AcroForm", Object::Ref(form_ref));
    up.put(cat_ref, &Object::Dict(cat));
    let base = with(&pdf, up.finish().unwrap());
    let doc = Document::open(&base).unwrap();
    let fields = [field(
        "Name",
        FormFieldKind::Text,
        1,
        [10.0, 10.0, 110.0, 30.0],
    )];
    let out = with(&base, add_form_fields(&doc, &fields).unwrap());
    let doc = Document::open(&out).unwrap();
    let form = acroform(&doc);
    assert_eq!(
        form.get(b"DA"),
        Some(&Object::String(b"/F9 10 Tf 0 g".to_vec()))
    );
    let fonts = form
        .get(b"DR")
        .unwrap()
        .as_dict()
        .unwrap()
        .get(b"Font")
        .unwrap();
    let fonts = fonts.as_dict().unwrap();
    assert_eq!(fonts.get(b"F9"), Some(&Object::Ref(ObjRef::new(3, 0))));
    assert!(fonts.get(b"Helv").is_some() && fonts.get(b"ZaDb").is_none());
    assert_eq!(refs(form.get(b"Fields")).len(), 1);
    // No signature field: no /SigFlags.
    assert!(form.get(b"SigFlags").is_none());
}

#[test]
fn filled_fields_get_values_and_new_appearances() {
    let pdf = sample_contract("Fill", 2, 0);
    let doc = Document::open(&pdf).unwrap();
    assert!(doc.field_names().unwrap().is_empty());
    let base = with(&pdf, add_form_fields(&doc, &contract_fields()).unwrap());
    let doc = Document::open(&base).unwrap();
    let names = doc.field_names().unwrap();
    let want: Vec<String> = contract_fields().into_iter().map(|f| f.name).collect();
    assert_eq!(names, want, "every added field, by name, in order");
    let (name_ref, before) = field_dict_of(&doc, "BuyerName");
    let (agree_ref, agree_before) = field_dict_of(&doc, "Agree");
    let font_bytes = std::fs::read(FONT).ok();
    let font = font_bytes
        .as_deref()
        .map(|bytes| FontData { bytes, index: 0 });
    let text = if font.is_some() {
        "张三（甲方） 2026年11月28日"
    } else {
        eprintln!("{FONT} not installed: the text is left empty");
        ""
    };
    let values = vec![
        ("BuyerName".to_string(), FieldValue::Text(text.into())),
        ("Agree".to_string(), FieldValue::Checked(true)),
    ];
    let filled = with(&base, fill_form(&doc, &values, font).unwrap());
    let doc2 = Document::open(&filled).unwrap();
    assert_eq!(doc2.revisions().unwrap().len(), 3);
    let (r, after) = field_dict_of(&doc2, "BuyerName");
    assert_eq!(r, name_ref);
    assert_eq!(
        decode_text(after.get(b"V").unwrap().as_bytes().unwrap()),
        text
    );
    // Every other key is kept; /AP /N is a new object of the field's size.
    for (k, v) in before.iter().filter(|(k, _)| *k != b"AP") {
        assert_eq!(after.get(k), Some(v), "/{}", String::from_utf8_lossy(k));
    }
    let n = after
        .get(b"AP")
        .unwrap()
        .as_dict()
        .unwrap()
        .get(b"N")
        .unwrap();
    let n = n.as_reference().unwrap();
    assert!(n.num >= doc.size(), "the appearance is a new object");
    let Object::Stream(ap) = doc2.get(n).unwrap() else {
        panic!()
    };
    assert_eq!(
        doc2.rect_of(ap.dict.get(b"BBox").unwrap()),
        Some([0.0, 0.0, 228.0, 24.0])
    );
    if font.is_some() {
        let content = String::from_utf8(ap.decoded().unwrap()).unwrap();
        assert!(content.starts_with("q 0 0 0 rg\n") && content.contains(" c "));
        // Left-aligned with 2 pt padding: no point left of x = 2.
        let first_x: f64 = content
            .lines()
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((2.0..20.0).contains(&first_x), "{first_x}");
    }
    let (r, agree) = field_dict_of(&doc2, "Agree");
    assert_eq!(r, agree_ref);
    assert!(agree.has_name(b"V", b"Yes") && agree.has_name(b"AS", b"Yes"));
    assert_eq!(agree.get(b"AP"), agree_before.get(b"AP"));
    assert_eq!(agree.get(b"MK"), agree_before.get(b"MK"));
    // The catalog, AcroForm and pages were not rewritten.
    let tail = &filled[base.len()..];
    let (cat_ref, _) = doc2.catalog().unwrap();
    for r in [cat_ref, doc2.page(1).unwrap().0, doc2.page(2).unwrap().0] {
        let header = format!("\n{} {} obj", r.num, r.r#gen);
        assert!(crate::document::find(tail, header.as_bytes()).is_none());
    }
    // Unchecking and emptying.
    let values = vec![
        ("Agree".to_string(), FieldValue::Checked(false)),
        ("BuyerName".to_string(), FieldValue::Text(String::new())),
    ];
    let again = with(&filled, fill_form(&doc2, &values, None).unwrap());
    let doc3 = Document::open(&again).unwrap();
    let (_, agree) = field_dict_of(&doc3, "Agree");
    assert!(agree.has_name(b"V", b"Off") && agree.has_name(b"AS", b"Off"));
    let (_, name) = field_dict_of(&doc3, "BuyerName");
    assert_eq!(name.get(b"V"), Some(&Object::String(vec![])));
    // The pre-created signature field is then signed by name.
    let r = SignatureRequest {
        field_name: Some("Buyer".into()),
        ..req(64)
    };
    let (signed, _) = sign(&again, &r, b"sig");
    let doc4 = Document::open(&signed).unwrap();
    let sigs = signatures(&doc4).unwrap();
    assert_eq!(sigs.len(), 1);
    assert_eq!(sigs[0].field_name, "Buyer");
    assert_eq!(doc4.form_fields().unwrap().len(), 4);

    // Errors.
    let fill = |name: &str, v: FieldValue, font| {
        fill_form(&doc2, &[(name.to_string(), v)], font).unwrap_err()
    };
    let t = |s: &str| FieldValue::Text(s.into());
    assert_eq!(
        fill("Nobody", t("x"), None),
        PdfError::UnknownField("Nobody".into())
    );
    assert_eq!(
        fill("Agree", t("x"), font),
        PdfError::FieldKind {
            name: "Agree".into(),
            found: "check box",
            wanted: "text"
        }
    );
    assert_eq!(
        fill("BuyerName", FieldValue::Checked(true), None),
        PdfError::FieldKind {
            name: "BuyerName".into(),
            found: "text",
            wanted: "a check-box state"
        }
    );
    assert_eq!(
        fill("Seller", t("x"), font),
        PdfError::SignatureFieldNotFillable("Seller".into())
    );
    assert_eq!(fill("BuyerName", t("Bob"), None), PdfError::NoFont);
    assert_eq!(
        fill("BuyerName", t(&"字".repeat(501)), font),
        PdfError::TextTooLong {
            name: "BuyerName".into(),
            chars: 501,
            limit: 500
        }
    );
    let twice = [
        ("Agree".to_string(), FieldValue::Checked(true)),
        ("Agree".to_string(), FieldValue::Checked(false)),
    ];
    assert_eq!(
        fill_form(&doc2, &twice, None).unwrap_err(),
        PdfError::DuplicateField("Agree".into())
    );
    assert!(matches!(
        fill_form(&doc2, &[], None),
        Err(PdfError::InvalidRequest(_))
    ));
    if let Some(font) = font {
        assert_eq!(
            fill("BuyerName", t("\u{10FFFD}"), Some(font)),
            PdfError::MissingGlyph('\u{10FFFD}')
        );
    }
}
