//! The evidence report PDF checked with third-party tools: poppler's `pdftotext` (text is
//! real, searchable text through the ToUnicode map; every page numbered; nothing off the
//! page) and `qpdf --check` (the file's structure).
//!
//! The font is Noto Sans CJK SC from Debian's `fonts-noto-cjk`, which CI installs.

use std::path::Path;
use std::process::Command;

use signet_report::{
    DocumentDigest, EventRow, EvidenceReport, FontSource, Lang, Party, Position, Signer, Verification, render_pdf,
};

const CJK_FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
/// Noto Sans CJK SC in the collection.
const SC_FACE: u32 = 2;

const DOC_SHA256: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const LEAF_INDEX: u64 = 918_273;

fn font_bytes() -> Vec<u8> {
    std::fs::read(CJK_FONT).unwrap_or_else(|e| panic!("{CJK_FONT}: {e} (install Debian's fonts-noto-cjk)"))
}

fn tool(name: &str) -> bool {
    let found = Command::new(name).arg("-v").output().is_ok();
    if !found {
        eprintln!("SKIPPED: `{name}` is not installed (Debian poppler-utils / qpdf); .ci/run installs it");
    }
    found
}

fn signer(name: &str, i: u64) -> Signer {
    Signer {
        name: name.to_owned(),
        account: Some(format!("user{i}@example.com")),
        email: Some(format!("user{i}@example.com")),
        phone: Some(format!("+86 138 0000 {i:04}")),
        company: (i == 0).then(|| "杭州某某科技有限公司".to_owned()),
        received_at_ms: Some(1_772_345_000_000 + i * 1000),
        opened_at_ms: Some(1_772_345_100_000 + i * 1000),
        signed_at_ms: Some(1_772_345_200_000 + i * 1000),
        ip: Some(format!("198.51.100.{}", i % 250)),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0".to_owned()),
        verification: Some(Verification {
            method: if i.is_multiple_of(2) { "sms" } else { "email" }.to_owned(),
            at_ms: 1_772_345_150_000,
        }),
        certificate_serial: Some(format!("4f2a9c01d3e5{i:04x}")),
        positions: vec![
            Position { document: 0, page: 3, x: 72.0, y: 144.5 },
            Position { document: 1, page: 1, x: 300.25, y: 88.0 },
        ],
        log_index: Some(LEAF_INDEX + i),
        inclusion_proof: (0..18).map(|k| format!("{:0>43}=", format!("h{k}x{i}"))).collect(),
    }
}

fn report(signers: usize, events: usize) -> EvidenceReport {
    let names = ["张三", "Li Si", "王五", "Zhao Liu"];
    EvidenceReport {
        title: "房屋租赁合同（2026 年度）".to_owned(),
        number: "HT-2026-000123".to_owned(),
        contract_id: "ct_7Yq2mB".to_owned(),
        sender: Party { name: "张三".to_owned(), account: "zhangsan@example.com".to_owned() },
        organisation: "杭州某某科技有限公司".to_owned(),
        sent_ip: Some("203.0.113.7".to_owned()),
        sent_user_agent: Some("signet-client/0.1".to_owned()),
        sent_at_ms: 1_772_340_000_000,
        completed_at_ms: Some(1_772_349_000_000),
        generated_at_ms: 1_772_349_001_000,
        utc_offset_minutes: 480,
        documents: vec![
            DocumentDigest { name: "租赁合同.pdf".to_owned(), pages: Some(5), sha256: DOC_SHA256.to_owned(), signed_sha256: Some("ab".repeat(32)) },
            DocumentDigest { name: "annex-A.pdf".to_owned(), pages: Some(1), sha256: "cd".repeat(32), signed_sha256: None },
        ],
        signers: (0..signers).map(|i| signer(names[i % names.len()], i as u64)).collect(),
        checkpoint: "signet.example/evidence\n918300\nq6M7ZqMAk4uRgsKCbcj3z3s3Gi1E0bhJbM7UKBiuFfE=\n\n— signet.example/evidence Az3grhgVbF9uGWwF3MqK7M9T0Q+2E6j6NRbYvMxvcqk=\n".to_owned(),
        log_key: Some("signet.example/evidence+1f2e3d4c+AWl0cnVzdGV2ZXJ5b25lYnV0d2l0aGNoZWNrcw==".to_owned()),
        events: (0..events)
            .map(|i| EventRow {
                kind: ["sent", "notified", "opened", "code_verified", "signed", "completed"][i % 6].to_owned(),
                at_ms: 1_772_340_000_000 + i as u64 * 60_000,
                actor: format!("rcp_{i}"),
                recipient: Some(format!("rcp_{}", i + 1)),
                ip: Some("198.51.100.9".to_owned()),
                log_index: Some(LEAF_INDEX - 100 + i as u64),
            })
            .collect(),
    }
}

fn render(r: &EvidenceReport, lang: Lang) -> Vec<u8> {
    let font = font_bytes();
    let pdf = render_pdf(r, lang, &FontSource { bytes: &font, index: SC_FACE }).expect("render");
    assert!(pdf.starts_with(b"%PDF-"));
    pdf
}

fn write_temp(pdf: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    std::io::Write::write_all(&mut f, pdf).unwrap();
    f
}

/// Keeps a copy of a rendered report in the folder `SIGNET_REPORT_DUMP` names, if set, to
/// look at (`pdftoppm -png`).
fn dump(file: &tempfile::NamedTempFile, name: &str) {
    if let Some(dir) = std::env::var_os("SIGNET_REPORT_DUMP") {
        std::fs::copy(file.path(), Path::new(&dir).join(name)).unwrap();
    }
}

/// The text of each page, as pdftotext extracts it.
fn pages_text(path: &Path) -> Vec<String> {
    let out = Command::new("pdftotext").args(["-enc", "UTF-8"]).arg(path).arg("-").output().expect("pdftotext");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
    // pdftotext ends every page with a form feed.
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// The text of all pages without the running header and footer, which pdftotext puts
/// between the two halves of a value split across pages.
fn body_text(pages: &[String]) -> String {
    pages
        .iter()
        .flat_map(|p| p.lines())
        .filter(|l| {
            !(l.starts_with("签约存证页 / Evidence Report") || *l == "HT-2026-000123" || l.contains(" · Page "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn chinese_names_digest_and_leaf_index_are_real_text() {
    if !tool("pdftotext") {
        return;
    }
    for lang in [Lang::Bilingual, Lang::Zh, Lang::En] {
        let pdf = render(&report(3, 12), lang);
        let file = write_temp(&pdf);
        dump(&file, &format!("report-{lang:?}.pdf"));
        let text = pages_text(file.path()).concat();
        let flat = squash(&text);
        for needle in ["张三", "杭州某某科技有限公司", "王五", "租赁合同.pdf", "HT-2026-000123"] {
            assert!(flat.contains(needle), "{lang:?}: {needle:?} not in the extracted text:\n{text}");
        }
        assert!(text.contains("Li Si"), "{lang:?}: Latin name missing");
        assert!(flat.contains(DOC_SHA256), "{lang:?}: document SHA-256 missing");
        assert!(flat.contains(&LEAF_INDEX.to_string()), "{lang:?}: leaf index missing");
        assert!(flat.contains("q6M7ZqMAk4uRgsKCbcj3z3s3Gi1E0bhJbM7UKBiuFfE="), "{lang:?}: checkpoint root missing");
        assert!(flat.contains("2026-03-0112:40:00.000"), "{lang:?}: times are printed in the report's offset");
        // One font, embedded, subsetted, with a ToUnicode map ("emb sub uni": yes yes yes).
        if tool("pdffonts") {
            let out = Command::new("pdffonts").arg(file.path()).output().unwrap();
            let fonts = String::from_utf8(out.stdout).unwrap();
            let rows: Vec<&str> = fonts.lines().skip(2).collect();
            assert_eq!(rows.len(), 1, "{fonts}");
            assert!(rows[0].contains("Identity-H") && rows[0].contains("yes yes yes"), "{fonts}");
        }
        assert!(pdf.len() < 400_000, "the font is not subsetted: {} bytes", pdf.len());
        let (zh, en) = (flat.contains("签约存证页"), text.contains("Evidence Report"));
        match lang {
            Lang::Bilingual => assert!(zh && en && flat.contains("签署人1/Signer1")),
            Lang::Zh => assert!(zh && !en && flat.contains("短信验证码")),
            Lang::En => assert!(en && !zh && text.contains("SMS one-time code")),
        }
    }
}

#[test]
fn qpdf_finds_no_error_or_warning() {
    if !tool("qpdf") {
        return;
    }
    for (lang, signers, events) in [(Lang::Bilingual, 2, 5), (Lang::Zh, 10, 120), (Lang::En, 0, 0)] {
        let file = write_temp(&render(&report(signers, events), lang));
        let out = Command::new("qpdf").arg("--check").arg(file.path()).output().expect("qpdf");
        assert_eq!(
            out.status.code(),
            Some(0),
            "qpdf --check {lang:?}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn many_signers_and_events_span_pages_each_numbered() {
    if !tool("pdftotext") {
        return;
    }
    let r = report(12, 150);
    let file = write_temp(&render(&r, Lang::Bilingual));
    dump(&file, "many.pdf");
    let pages = pages_text(file.path());
    let total = pages.len();
    assert!(total >= 5, "12 signers and 150 events should need several pages, got {total}");
    for (i, page) in pages.iter().enumerate() {
        let n = i + 1;
        assert!(page.contains(&format!("Page {n} of {total}")), "page {n} has no English page number:\n{page}");
        assert!(squash(page).contains(&format!("第{n}/{total}页")), "page {n} has no Chinese page number");
        assert!(page.contains("HT-2026-000123"), "page {n} has no running header");
    }
    // Every signer and every event row made it, the last ones included.
    let flat = squash(&pages.concat());
    assert!(flat.contains("4f2a9c01d3e5000b"), "the 12th signer's certificate serial is missing");
    assert!(flat.contains("rcp_149"), "the last event is missing");
    assert!(flat.contains(&(LEAF_INDEX - 100 + 149).to_string()), "the last event's log index is missing");
}

/// A 2 KB value without a break opportunity is wrapped inside the page: no text box ends
/// beyond the right margin or below the bottom, and no character is lost.
#[test]
fn a_long_unbroken_value_wraps_inside_the_page() {
    if !tool("pdftotext") {
        return;
    }
    let b64: String = (0..2048)
        .map(|i| b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i * 7 % 64] as char)
        .collect();
    let mut r = report(2, 3);
    r.signers[0].user_agent = Some(b64.clone());
    r.signers[1].inclusion_proof = vec![b64.clone(); 3];
    r.events[0].actor = b64.clone();
    r.title = format!("长标题{}", "很长".repeat(200));
    let file = write_temp(&render(&r, Lang::Bilingual));
    dump(&file, "long.pdf");

    // The user agent and the three proof hashes, in the key/value tables.
    let pages = pages_text(file.path());
    let flat = squash(&body_text(&pages));
    assert!(
        flat.matches(&b64).count() >= 4,
        "the long value lost characters (found {} of 4 copies)",
        flat.matches(&b64).count()
    );
    // The event's actor, in the appendix table: pdftotext reads the row's other cells in
    // between, so read only the actor column (x 248–398 pt: margin 50, then columns of 30, 84
    // and 84 pt) between the running header and footer.
    let column: String = (1..=pages.len())
        .map(|p| {
            let p = p.to_string();
            let args = ["-f", &p, "-l", &p, "-x", "248", "-y", "62", "-W", "150", "-H", "720", "-enc", "UTF-8"];
            let out = Command::new("pdftotext").args(args).arg(file.path()).arg("-").output().unwrap();
            let text = String::from_utf8(out.stdout).unwrap();
            // Without the table's header, repeated on every page it spans.
            text.lines().filter(|l| !l.contains("Actor → recipient")).collect::<Vec<_>>().join("\n")
        })
        .collect();
    assert!(squash(&column).contains(&b64), "the long actor lost characters");

    let out = Command::new("pdftotext").args(["-bbox", "-enc", "UTF-8"]).arg(file.path()).arg("-").output().unwrap();
    let html = String::from_utf8(out.stdout).unwrap();
    let (mut words, mut page_w, mut page_h) = (0, 0.0, 0.0);
    for tag in html.split('<') {
        let attr = |name: &str| -> Option<f64> {
            let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
            tag[start..].split('"').next()?.parse().ok()
        };
        if tag.starts_with("page ") {
            page_w = attr("width").unwrap();
            page_h = attr("height").unwrap();
        } else if tag.starts_with("word ") {
            words += 1;
            let (x_min, x_max, y_max) = (attr("xMin").unwrap(), attr("xMax").unwrap(), attr("yMax").unwrap());
            assert!(x_min >= 40.0 && x_max <= page_w - 40.0, "a word runs past the margin: {tag}");
            assert!(y_max <= page_h - 20.0, "a word runs off the bottom: {tag}");
        }
    }
    assert!(words > 100, "pdftotext -bbox found only {words} words");
}

#[test]
fn an_unusable_font_is_an_error_not_a_panic() {
    let r = report(1, 1);
    let err = render_pdf(&r, Lang::En, &FontSource { bytes: b"not a font", index: 0 }).unwrap_err();
    assert_eq!(err, signet_report::Error::Font { index: 0 });
    let font = font_bytes();
    assert!(render_pdf(&r, Lang::En, &FontSource { bytes: &font, index: 99 }).is_err());
}

#[test]
fn odd_input_renders() {
    // No signers, no events, no documents, a position naming a missing document, control
    // characters, an empty checkpoint.
    let mut r = report(1, 0);
    r.documents.clear();
    r.signers[0].positions = vec![Position { document: 7, page: 0, x: f64::NAN, y: -1.0 }];
    r.signers[0].name = "tab\there\u{0}nul\u{202e}rtl".to_owned();
    r.checkpoint.clear();
    r.utc_offset_minutes = -100_000;
    render(&r, Lang::Zh);
    render(&report(0, 0), Lang::En);
}

#[test]
fn the_report_round_trips_as_json() {
    let r = report(2, 4);
    let json = serde_json::to_string(&r).unwrap();
    let back: EvidenceReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
    // Optional members may be left out.
    let minimal = r#"{"title":"t","number":"n","contract_id":"c","sender":{"name":"s","account":"a"},
        "organisation":"o","sent_at_ms":1,"generated_at_ms":2,"documents":[],
        "signers":[{"name":"张三"}],"checkpoint":"","events":[]}"#;
    let m: EvidenceReport = serde_json::from_str(minimal).unwrap();
    assert_eq!(m.signers[0].name, "张三");
    assert_eq!(m.utc_offset_minutes, 0);
}
