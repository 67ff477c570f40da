//! The turn-based signing flow with form fields, checked by our verifier and, when available,
//! by pyHanko and qpdf: every field is added before the first signature (one unsigned update),
//! the first signer signs a pre-created field, the second signer's text and check box are
//! filled (one update), then the second signer signs theirs.
//!
//! pyHanko runs when `SIGNET_PYHANKO` names its executable (CI sets it), or when the local
//! venv `$HOME/.cache/signet-venv/bin/pyhanko` exists; `qpdf --check` runs when `qpdf` is on
//! `PATH`. Either being absent is reported on stderr, not failed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use signet_pades::{Credentials, Level, Services};
use signet_pdf::{
    Document, FieldValue, FontData, FormField, FormFieldKind, Placement, SignatureRequest,
    add_form_fields, fill_form, sample_contract, signatures,
};
use signet_pki::cert::{self, CertProfile, CertRequest, Certificate, DistinguishedName, Issuer};
use signet_pki::{KeyAlgorithm, PrivateKey, Signer};
use signet_verify::modification::Category;
use signet_verify::{Indication, Integrity, Options, Verdict};

const CJK_FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

fn issue(
    cn: &str,
    profile: CertProfile,
    key: &PrivateKey,
    issuer: Issuer<'_>,
    from: SystemTime,
) -> Certificate {
    cert::issue_certificate(
        &CertRequest {
            subject: DistinguishedName::new(cn),
            profile,
            public_key_der: key.public_key_der(),
            serial: vec![0x51, cn.len() as u8],
            not_before: from,
            not_after: from + Duration::from_secs(400 * 86_400),
            // No revocation endpoints: pyHanko would otherwise try to fetch them.
            crl_url: None,
            ocsp_url: None,
            ca_issuers_url: None,
            phone: None,
        },
        issuer,
    )
    .unwrap()
}

fn place(page: usize, rect: [f64; 4]) -> Placement {
    Placement { page, rect }
}

/// Signs field `field` of `pdf` at B-B; returns the whole new file.
fn sign_field(pdf: &[u8], creds: &Credentials<'_>, field: &str, now: SystemTime) -> Vec<u8> {
    let req = SignatureRequest {
        field_name: Some(field.into()),
        name: Some(field.into()),
        ..Default::default()
    };
    let tail = signet_pades::sign(&pdf, creds, &req, Level::BB, Services::default(), now).unwrap();
    [pdf, &tail[..]].concat()
}

#[test]
fn fields_added_up_front_filled_between_signatures_keep_both_signatures_valid() {
    // The validators check against the real clock, so the certificates are valid now.
    let now = SystemTime::now();
    let from = now - Duration::from_secs(86_400);
    let root_key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
    let root = issue(
        "Form Flow Root",
        CertProfile::RootCa,
        &root_key,
        Issuer::SelfSigned(&root_key),
        from,
    );
    let ca = Issuer::Ca {
        cert: &root,
        key: &root_key,
    };
    let (buyer_key, seller_key) = (
        PrivateKey::generate(KeyAlgorithm::P256).unwrap(),
        PrivateKey::generate(KeyAlgorithm::P256).unwrap(),
    );
    let buyer = issue("Buyer", CertProfile::Signer, &buyer_key, ca, from);
    let seller = issue(
        "Seller",
        CertProfile::Signer,
        &seller_key,
        Issuer::Ca {
            cert: &root,
            key: &root_key,
        },
        from,
    );
    let chain = [root.clone()];

    // 1. Every field, in one unsigned update.
    let pdf = sample_contract("Form flow", 2, 0);
    let fields = [
        FormField {
            name: "Buyer".into(),
            kind: FormFieldKind::Signature,
            placement: place(2, [50.0, 50.0, 250.0, 120.0]),
        },
        FormField {
            name: "Seller".into(),
            kind: FormFieldKind::Signature,
            placement: place(2, [300.0, 50.0, 500.0, 120.0]),
        },
        FormField {
            name: "SellerName".into(),
            kind: FormFieldKind::Text,
            placement: place(2, [300.0, 130.0, 500.0, 154.0]),
        },
        FormField {
            name: "SellerAgrees".into(),
            kind: FormFieldKind::Checkbox,
            placement: place(2, [300.0, 160.0, 314.0, 174.0]),
        },
    ];
    let doc = Document::open(&pdf).unwrap();
    let prepared = [&pdf[..], &add_form_fields(&doc, &fields).unwrap()].concat();

    // 2. The buyer signs the pre-created field.
    let one = sign_field(
        &prepared,
        &Credentials {
            key: &buyer_key,
            cert: &buyer,
            chain: &chain,
        },
        "Buyer",
        now,
    );

    // 3. The seller's text and check box are filled.
    let font_bytes = std::fs::read(CJK_FONT).ok();
    let (text, font) = match &font_bytes {
        Some(bytes) => ("李四 2026年11月28日", Some(FontData { bytes, index: 0 })),
        None => {
            eprintln!(
                "{CJK_FONT} missing (fonts-noto-cjk): filling ASCII text without the CJK font is impossible, leaving it empty"
            );
            ("", None)
        }
    };
    let doc = Document::open(&one).unwrap();
    let values = [
        ("SellerName".to_string(), FieldValue::Text(text.into())),
        ("SellerAgrees".to_string(), FieldValue::Checked(true)),
    ];
    let filled = [&one[..], &fill_form(&doc, &values, font).unwrap()].concat();

    // 4. The seller signs theirs.
    let two = sign_field(
        &filled,
        &Credentials {
            key: &seller_key,
            cert: &seller,
            chain: &chain,
        },
        "Seller",
        now,
    );
    let doc = Document::open(&two).unwrap();
    assert_eq!(doc.revisions().unwrap().len(), 5);
    let names: Vec<String> = signatures(&doc)
        .unwrap()
        .into_iter()
        .map(|s| s.field_name)
        .collect();
    assert_eq!(names, ["Buyer", "Seller"]);

    // Our verifier: both signatures pass and are intact; the fill is permitted form filling.
    let report = signet_verify::verify(
        &two,
        &Options {
            trust_anchors: vec![root.clone()],
            now,
            online: None,
        },
    )
    .unwrap();
    assert!(report.all_passed(), "{report:#?}");
    for s in &report.signatures {
        assert_eq!(
            (s.indication, s.integrity),
            (Indication::TotalPassed, Integrity::Intact),
            "{}: {s:#?}",
            s.field
        );
    }
    assert_eq!(report.signatures[0].covered_revision, Some(3));
    assert_eq!(report.signatures[0].modification_after, Verdict::Permitted);
    assert!(report.signatures[1].covers_whole_file);
    let changes = &report.modification.changes;
    assert!(changes.iter().all(|c| c.permitted), "{changes:#?}");
    let fills: Vec<_> = changes.iter().filter(|c| c.revision == 4).collect();
    assert_eq!(fills.len(), 2, "{changes:#?}");
    assert!(
        fills.iter().all(|c| c.category == Category::FormFill),
        "{fills:#?}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c.revision == 5 && c.category == Category::Signature),
        "{changes:#?}"
    );

    let dir = std::env::temp_dir().join(format!("signet-form-flow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("form-flow.pdf");
    std::fs::write(&file, &two).unwrap();
    let root_pem = dir.join("root.pem");
    std::fs::write(&root_pem, signet_pki::pem::cert_to_pem(&root)).unwrap();
    qpdf_check(
        &dir,
        &[("fields", &prepared), ("filled", &filled), ("signed", &two)],
    );
    pyhanko_validate(&file, &root_pem);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `qpdf --check` on each file, when qpdf is installed.
fn qpdf_check(dir: &Path, files: &[(&str, &[u8])]) {
    if Command::new("qpdf").arg("--version").output().is_err() {
        eprintln!("qpdf not on PATH: skipping qpdf --check");
        return;
    }
    for (name, bytes) in files {
        let path = dir.join(format!("{name}.pdf"));
        std::fs::write(&path, bytes).unwrap();
        let out = Command::new("qpdf")
            .arg("--check")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "qpdf --check {name}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `pyhanko sign validate --pretty-print` over the file: both signatures intact and valid,
/// and nothing after either beyond form filling.
fn pyhanko_validate(file: &Path, root_pem: &Path) {
    let pyhanko = std::env::var_os("SIGNET_PYHANKO")
        .map(PathBuf::from)
        .or_else(|| {
            let venv =
                PathBuf::from(std::env::var_os("HOME")?).join(".cache/signet-venv/bin/pyhanko");
            venv.is_file().then_some(venv)
        });
    let Some(pyhanko) = pyhanko else {
        eprintln!("SIGNET_PYHANKO not set and no local venv: skipping pyHanko");
        return;
    };
    let out = Command::new(&pyhanko)
        .args(["sign", "validate", "--trust"])
        .arg(root_pem)
        .args(["--trust-replace", "--pretty-print"])
        .arg(file)
        .output()
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "pyhanko sign validate: {:?}\n{text}",
        out.status.code()
    );
    // One report per signature, each opening with "Field N: NAME". pyHanko words its
    // modification levels: NONE "covers the entire file", FORM_FILLING "relate to signing and
    // form filling operations" (ANNOTATIONS and OTHER are worded otherwise).
    for (i, field) in ["Buyer", "Seller"].into_iter().enumerate() {
        let header = format!("Field {}: {field}", i + 1);
        let start = text
            .find(&header)
            .unwrap_or_else(|| panic!("no report for {field}:\n{text}"));
        let section = &text[start + header.len()..];
        let section = &section[..section.find("\nField ").unwrap_or(section.len())];
        for expected in [
            "The signer's certificate is trusted.",
            "The signature is cryptographically sound.",
            "The signature is judged VALID.",
        ] {
            assert!(
                section.contains(expected),
                "{field}: no {expected:?}\n{section}"
            );
        }
        let level = if field == "Buyer" {
            "All modifications relate to signing and form filling operations"
        } else {
            "The signature covers the entire file."
        };
        assert!(
            section.contains(level),
            "{field}: modification level\n{section}"
        );
    }
}
