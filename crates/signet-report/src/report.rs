//! What the evidence report says, section by section, laid out on pages.
//!
//! Order: title and contract number; a short note on how to check the evidence; 1 contract;
//! 2 documents with their digests; 3 each signer with times, IP, identity check, certificate,
//! positions, log index and inclusion proof; 4 the evidence log's checkpoint; the appendix
//! table of every evidence event.

use crate::Lang;
use crate::labels::{self as t, L, NONE};
use crate::layout::{ACCENT, CONTENT_W, INK, Layout, MUTED, Op, Table};
use crate::model::{EvidenceReport, format_time};
use crate::text::Metrics;

/// Body text; at this size a 64-digit hex digest fits its column on one line.
const BODY: f32 = 8.5;
const TABLE: f32 = 8.0;

/// Lays the report out; the result has at least one page.
pub(crate) fn layout(r: &EvidenceReport, lang: Lang, m: &Metrics<'_>) -> Vec<Vec<Op>> {
    let mut l = Layout::new(m);
    let time = |ms: u64| format_time(ms, r.utc_offset_minutes);
    let opt_time = |ms: Option<u64>| ms.map(time).unwrap_or_else(|| NONE.to_owned());
    let opt = |s: &Option<String>| match s {
        Some(s) if !s.trim().is_empty() => s.clone(),
        _ => NONE.to_owned(),
    };
    let label_w = match lang {
        Lang::Zh => 96.0,
        Lang::En => 118.0,
        Lang::Bilingual => 140.0,
    };
    let kv = |rows: Vec<(L, String)>| Table {
        widths: vec![label_w, CONTENT_W - label_w],
        header: None,
        rows: rows.into_iter().map(|(k, v)| vec![k.get(lang), v]).collect(),
        size: BODY,
        label_column: true,
    };

    // Title.
    match lang {
        Lang::Bilingual => {
            l.centered(t::TITLE.0, 20.0, ACCENT);
            l.centered(t::TITLE.1, 13.0, ACCENT);
        }
        _ => l.centered(&t::TITLE.get(lang), 20.0, ACCENT),
    }
    l.space(6.0);
    l.centered(&r.title, 12.0, INK);
    l.centered(&format!("{} {}", t::CONTRACT_NUMBER.get(lang), r.number), BODY, MUTED);
    l.space(8.0);
    match lang {
        Lang::Bilingual => {
            l.paragraph(t::INTRO.0, 8.0, MUTED);
            l.space(3.0);
            l.paragraph(t::INTRO.1, 8.0, MUTED);
        }
        _ => l.paragraph(&t::INTRO.get(lang), 8.0, MUTED),
    }

    // 1 Contract.
    l.heading(&format!("1  {}", t::SEC_CONTRACT.get(lang)));
    l.table(&kv(vec![
        (t::CONTRACT_TITLE, r.title.clone()),
        (t::CONTRACT_NUMBER, r.number.clone()),
        (t::CONTRACT_ID, r.contract_id.clone()),
        (t::SENDER, r.sender.name.clone()),
        (t::SENDER_ACCOUNT, r.sender.account.clone()),
        (t::ORGANISATION, r.organisation.clone()),
        (t::SENT_IP, opt(&r.sent_ip)),
        (t::SENT_UA, opt(&r.sent_user_agent)),
        (t::SENT_AT, time(r.sent_at_ms)),
        (t::COMPLETED_AT, opt_time(r.completed_at_ms)),
        (t::GENERATED_AT, time(r.generated_at_ms)),
    ]));

    // 2 Documents.
    l.heading(&format!("2  {}", t::SEC_DOCUMENTS.get(lang)));
    for (i, d) in r.documents.iter().enumerate() {
        l.subheading(&t::numbered(t::DOCUMENT, lang, i + 1));
        l.table(&kv(vec![
            (t::FILE_NAME, d.name.clone()),
            (t::PAGES, d.pages.map(|p| p.to_string()).unwrap_or_else(|| NONE.to_owned())),
            (t::SHA256_ORIGINAL, d.sha256.clone()),
            (t::SHA256_SIGNED, opt(&d.signed_sha256)),
        ]));
    }
    if r.documents.is_empty() {
        l.paragraph(&t::NO_EVENTS.get(lang), BODY, MUTED);
    }

    // 3 Signers.
    l.heading(&format!("3  {}", t::SEC_SIGNERS.get(lang)));
    for (i, s) in r.signers.iter().enumerate() {
        l.subheading(&format!("{}  {}", t::numbered(t::SIGNER, lang, i + 1), s.name));
        let positions = if s.positions.is_empty() {
            NONE.to_owned()
        } else {
            s.positions
                .iter()
                .map(|p| {
                    let name = r.documents.get(p.document).map(|d| d.name.as_str());
                    t::position(lang, p.document, name, p.page, p.x, p.y)
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let proof = if s.inclusion_proof.is_empty() {
            if s.log_index.is_some() { t::PROOF_NONE.get(lang) } else { NONE.to_owned() }
        } else {
            s.inclusion_proof.iter().enumerate().map(|(k, h)| format!("{k}: {h}")).collect::<Vec<_>>().join("\n")
        };
        let mut rows = vec![
            (t::NAME, s.name.clone()),
            (t::ACCOUNT, opt(&s.account)),
            (t::EMAIL, opt(&s.email)),
            (t::PHONE, opt(&s.phone)),
        ];
        if s.company.is_some() {
            rows.push((t::COMPANY, opt(&s.company)));
        }
        rows.extend([
            (t::RECEIVED_AT, opt_time(s.received_at_ms)),
            (t::OPENED_AT, opt_time(s.opened_at_ms)),
            (t::SIGNED_AT, opt_time(s.signed_at_ms)),
            (t::IP, opt(&s.ip)),
            (t::USER_AGENT, opt(&s.user_agent)),
            (
                t::VERIFICATION,
                s.verification
                    .as_ref()
                    .map(|v| t::verification_method(lang, &v.method))
                    .unwrap_or_else(|| NONE.to_owned()),
            ),
            (t::VERIFIED_AT, opt_time(s.verification.as_ref().map(|v| v.at_ms))),
            (t::CERT_SERIAL, opt(&s.certificate_serial)),
            (t::POSITIONS, positions),
            (t::LOG_INDEX, s.log_index.map(|i| i.to_string()).unwrap_or_else(|| NONE.to_owned())),
            (t::PROOF, proof),
        ]);
        l.table(&kv(rows));
    }
    if r.signers.is_empty() {
        l.paragraph(&t::NO_EVENTS.get(lang), BODY, MUTED);
    }

    // 4 Evidence log.
    l.heading(&format!("4  {}", t::SEC_LOG.get(lang)));
    match lang {
        Lang::Bilingual => {
            l.paragraph(t::LOG_EXPLAIN.0, 8.0, MUTED);
            l.paragraph(t::LOG_EXPLAIN.1, 8.0, MUTED);
        }
        _ => l.paragraph(&t::LOG_EXPLAIN.get(lang), 8.0, MUTED),
    }
    l.space(4.0);
    let mut rows = Vec::new();
    if r.log_key.is_some() {
        rows.push((t::LOG_KEY, opt(&r.log_key)));
    }
    let checkpoint = r.checkpoint.trim_end_matches('\n');
    rows.push((t::CHECKPOINT, if checkpoint.is_empty() { NONE.to_owned() } else { checkpoint.to_owned() }));
    l.table(&kv(rows));

    // Appendix: events.
    l.heading(&t::SEC_EVENTS.get(lang));
    if r.events.is_empty() {
        l.paragraph(&t::NO_EVENTS.get(lang), BODY, MUTED);
    } else {
        let offset = format_time(0, r.utc_offset_minutes);
        let zone = offset.rsplit(' ').next().unwrap_or("UTC");
        let widths = vec![30.0, 84.0, 84.0, 150.0, 84.0, CONTENT_W - 432.0];
        let header = vec![
            t::COL_NO.get(lang),
            format!("{} ({zone})", t::COL_TIME.get(lang)),
            t::COL_EVENT.get(lang),
            t::COL_ACTOR.get(lang),
            t::COL_IP.get(lang),
            t::COL_INDEX.get(lang),
        ];
        let rows = r
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let full = time(e.at_ms);
                // "date time zone": the zone is in the column header.
                let mut parts = full.split(' ');
                let when = format!("{}\n{}", parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                let who = match &e.recipient {
                    Some(rcp) if *rcp != e.actor => format!("{}\n→ {rcp}", e.actor),
                    _ => e.actor.clone(),
                };
                vec![
                    (i + 1).to_string(),
                    when,
                    t::event_kind(lang, &e.kind),
                    who,
                    opt(&e.ip),
                    e.log_index.map(|i| i.to_string()).unwrap_or_else(|| NONE.to_owned()),
                ]
            })
            .collect();
        l.table(&Table { widths, header: Some(header), rows, size: TABLE, label_column: false });
    }
    l.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{BOTTOM, MARGIN_X, PAGE_H, PAGE_W, TOP};
    use crate::model::{DocumentDigest, EventRow, Party, Position, Signer};

    /// Every line of text lies inside the content area (the running header and footer are
    /// added later, in their own bands), whatever the values' lengths.
    #[test]
    fn all_text_stays_inside_the_content_area() {
        let path = crate::tests::CJK_FONT;
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e} (install Debian's fonts-noto-cjk)"));
        let m = Metrics::new(&bytes, 2).unwrap();
        let long = "x".repeat(3000);
        let cjk = "张".repeat(4000);
        let signer = Signer {
            name: cjk.clone(),
            account: Some(long.clone()),
            email: None,
            phone: None,
            company: Some(cjk.clone()),
            received_at_ms: None,
            opened_at_ms: None,
            signed_at_ms: Some(1),
            ip: Some(long.clone()),
            user_agent: None,
            verification: None,
            certificate_serial: Some(long.clone()),
            positions: vec![Position { document: 0, page: 1, x: 1.0, y: 2.0 }; 80],
            log_index: Some(u64::MAX),
            inclusion_proof: vec![long.clone(); 3],
        };
        let r = EvidenceReport {
            title: cjk.clone(),
            number: long.clone(),
            contract_id: long.clone(),
            sender: Party { name: cjk.clone(), account: long.clone() },
            organisation: cjk.clone(),
            sent_ip: None,
            sent_user_agent: None,
            sent_at_ms: 0,
            completed_at_ms: None,
            generated_at_ms: 0,
            utc_offset_minutes: 0,
            documents: vec![DocumentDigest {
                name: long.clone(),
                pages: None,
                sha256: long.clone(),
                signed_sha256: None,
            }],
            signers: vec![signer; 3],
            checkpoint: format!("{long}\n{cjk}\n\n{long}"),
            log_key: Some(long.clone()),
            events: (0..300)
                .map(|i| EventRow {
                    kind: if i % 7 == 0 { long.clone() } else { "signed".into() },
                    at_ms: i,
                    actor: if i % 5 == 0 { cjk.clone() } else { "rcp".into() },
                    recipient: Some(long.clone()),
                    ip: None,
                    log_index: Some(i),
                })
                .collect(),
        };
        for lang in [Lang::Zh, Lang::En, Lang::Bilingual] {
            let pages = layout(&r, lang, &m);
            assert!(pages.len() > 10);
            let mut texts = 0;
            for (n, page) in pages.iter().enumerate() {
                for op in page {
                    if let Op::Text { x, y, size, text, .. } = op {
                        texts += 1;
                        let right = x + m.width(text, *size);
                        assert!(
                            *x >= MARGIN_X - 0.01 && right <= PAGE_W - MARGIN_X + 0.01,
                            "page {n}: {text:?} spans {x}..{right}"
                        );
                        assert!(*y > TOP && *y < BOTTOM && *y < PAGE_H, "page {n}: {text:?} at y {y}");
                    }
                }
            }
            assert!(texts > 1000);
        }
    }
}
