//! A generated sample contract, for demos, tests and benchmarks.
//!
//! Deterministic (no clock, no randomness): the same arguments give the same bytes. The file
//! is deliberately plain — classic xref table, uncompressed content, standard Helvetica — so
//! it is a neutral starting point for signing and for third-party validators.

use std::io::Write;

use crate::writer::write_string;

const FILLER: &[&str] = &[
    "1. The Parties agree to the terms and conditions set out in this Agreement.",
    "2. The Supplier shall deliver the Services described in Schedule A on time.",
    "3. The Customer shall pay each invoice within thirty (30) days of receipt.",
    "4. Each Party shall keep the other Party's confidential information secret.",
    "5. Either Party may terminate this Agreement with ninety (90) days notice.",
    "6. This Agreement is governed by the laws of the place of its signature.",
    "7. Any dispute shall first be settled amicably through good faith talks.",
    "8. Amendments are valid only when made in writing and signed by both Parties.",
];

/// A sample contract PDF: `pages` pages (at least 1) with a title and paragraphs of filler
/// text, padded to roughly `pad_to` bytes with uncompressed filler (content-stream comments).
pub fn sample_contract(title: &str, pages: usize, pad_to: usize) -> Vec<u8> {
    let pages = pages.max(1);
    let base = build(title, pages, 0);
    let pad = pad_to.saturating_sub(base.len()) / pages;
    if pad == 0 {
        base
    } else {
        build(title, pages, pad)
    }
}

fn build(title: &str, pages: usize, pad_per_page: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096 + pages * (2048 + pad_per_page));
    out.extend_from_slice(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
    let mut offsets = Vec::new();
    let obj = |out: &mut Vec<u8>, offsets: &mut Vec<usize>, body: &[u8]| {
        offsets.push(out.len());
        let _ = writeln!(out, "{} 0 obj", offsets.len());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    obj(&mut out, &mut offsets, b"<< /Type /Catalog /Pages 2 0 R >>");
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 5 + 2 * i)).collect();
    obj(
        &mut out,
        &mut offsets,
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            kids.join(" ")
        )
        .as_bytes(),
    );
    obj(
        &mut out,
        &mut offsets,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    );
    let mut info = b"<< /Title ".to_vec();
    crate::writer::write_object(&mut info, &crate::writer::text_string(title));
    info.extend_from_slice(b" /Producer (Signet sample_contract) >>");
    obj(&mut out, &mut offsets, &info);
    for p in 0..pages {
        let page = format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            6 + 2 * p
        );
        obj(&mut out, &mut offsets, page.as_bytes());
        let mut content = Vec::new();
        content.extend_from_slice(b"BT /F1 20 Tf 72 770 Td ");
        // Helvetica (WinAnsi) cannot show other scripts: draw them as '?' rather than mojibake.
        let shown: String = title.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect();
        write_string(&mut content, shown.as_bytes());
        content.extend_from_slice(b" Tj ET\nBT /F1 11 Tf 14 TL 72 730 Td\n");
        for line in 0..40 {
            let text = FILLER
                .get((line + p) % FILLER.len())
                .copied()
                .unwrap_or_default();
            write_string(&mut content, text.as_bytes());
            content.extend_from_slice(b" '\n");
        }
        let _ = write!(
            content,
            "ET\nBT /F1 9 Tf 280 40 Td (Page {} of {pages}) Tj ET\n",
            p + 1
        );
        let target = content.len() + pad_per_page;
        while content.len() + 65 <= target {
            content.extend_from_slice(
                b"% filler filler filler filler filler filler filler filler filler\n",
            );
        }
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(&content);
        stream.extend_from_slice(b"\nendstream");
        obj(&mut out, &mut offsets, &stream);
    }
    let xref = out.len();
    let _ = write!(out, "xref\n0 {}\n0000000000 65535 f\r\n", offsets.len() + 1);
    for o in &offsets {
        let _ = write!(out, "{o:010} 00000 n\r\n");
    }
    let id = fnv(title.as_bytes(), pages as u64);
    let _ = write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R /Info 4 0 R /ID [<{id:016X}{id:016X}> <{id:016X}{id:016X}>] >>\nstartxref\n{xref}\n%%EOF\n",
        offsets.len() + 1
    );
    out
}

fn fnv(data: &[u8], salt: u64) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325 ^ salt, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Document;

    #[test]
    fn sample_opens_and_pads() {
        let pdf = sample_contract("Service Agreement", 3, 100_000);
        assert!((95_000..=105_000).contains(&pdf.len()), "{}", pdf.len());
        let doc = Document::open(&pdf).unwrap();
        assert_eq!(doc.page_count().unwrap(), 3);
        assert_eq!(doc.page_box(3).unwrap(), [0.0, 0.0, 595.0, 842.0]);
        assert_eq!(sample_contract("x", 1, 0), sample_contract("x", 1, 0));
    }
}
