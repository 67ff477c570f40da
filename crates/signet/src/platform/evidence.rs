//! The evidence report (签约存证页) and the offline evidence bundle of a contract.
//!
//! Both are built on demand from the stored contract, its events and the evidence log: the
//! report names every signer with their times, IP, verification, certificate serial, field
//! positions and evidence-log leaf with its inclusion proof; the bundle holds the signed PDF,
//! the report, the root certificate, the log's key and, for every event, its exact log entry
//! and an offline proof — verifiable with `signet verify` and `signet log verify-proof` alone.

use std::time::Duration;

use signet_domain::contract::{Contract, FieldKind};
use signet_domain::event::EventKind;
use signet_report::{DocumentDigest, EventRow, EvidenceReport, Party, Position, Signer, Verification};
use signet_store::StoredEvent;

use super::{App, now_ms};

/// The subject every event of a contract is logged with (see `api::record_evidence`).
pub fn subject(c: &Contract) -> Option<String> {
    c.documents.first().map(|d| format!("sha256:{}", d.sha256))
}

/// An inclusion proof of leaf `index`, waiting up to two seconds for a checkpoint to cover it.
pub async fn proof(app: &App, index: u64) -> anyhow::Result<signet_ledger::TlogProof> {
    for _ in 0..20 {
        match app.log.proof(index).await {
            Err(signet_log::LogError::NotYetCovered { .. }) => tokio::time::sleep(Duration::from_millis(100)).await,
            other => return Ok(other?),
        }
    }
    Ok(app.log.proof(index).await?)
}

fn first<'a>(events: &'a [StoredEvent], kind: EventKind, recipient: &str) -> Option<&'a StoredEvent> {
    events.iter().find(|e| e.event.kind == kind && e.event.recipient.as_deref() == Some(recipient))
}

/// The newest PDF of every document of `c`, in order.
async fn current_pdfs(app: &App, c: &Contract) -> anyhow::Result<Vec<Vec<u8>>> {
    let key = app.store.org_key(&c.org).await?;
    let mut out = Vec::with_capacity(c.documents.len());
    for d in &c.documents {
        out.push(super::ceremony::current_pdf(app, &key, c, &d.id).await?);
    }
    Ok(out)
}

/// Builds the report's data; `pdfs` are the documents' newest versions when the caller has
/// them already (else they are read).
pub async fn report(app: &App, c: &Contract, events: &[StoredEvent], pdfs: Option<&[Vec<u8>]>) -> anyhow::Result<EvidenceReport> {
    let org = app.store.org(&c.org).await?.map(|(n, _)| n).unwrap_or_default();
    let read;
    let pdfs = match pdfs {
        Some(p) => p,
        None => {
            read = current_pdfs(app, c).await?;
            &read[..]
        }
    };
    let mut documents = Vec::new();
    for (d, pdf) in c.documents.iter().zip(pdfs) {
        let signed_sha256 = d.signed_blob.as_ref().map(|_| hex::encode(signet_pki::alg::sha256(pdf)));
        documents.push(DocumentDigest { name: d.name.clone(), pages: u32::try_from(d.pages.len()).ok(), sha256: d.sha256.clone(), signed_sha256 });
    }
    let mut checkpoint = String::new();
    let mut signers = Vec::new();
    for r in c.recipients.iter().filter(|r| r.signs()) {
        let signed = events.iter().find(|e| matches!(e.event.kind, EventKind::Signed | EventKind::Approved) && e.event.recipient.as_deref() == Some(r.id.as_str()));
        let opened = first(events, EventKind::Opened, &r.id);
        let verified = events.iter().rev().find(|e| e.event.kind == EventKind::CodeVerified && e.event.recipient.as_deref() == Some(r.id.as_str()));
        let mut inclusion_proof = Vec::new();
        let log_index = signed.and_then(|e| e.log_index);
        if let Some(index) = log_index {
            let p = proof(app, index).await?;
            inclusion_proof = p.proof.iter().map(|h| h.to_base64()).collect();
            checkpoint = String::from_utf8_lossy(&p.checkpoint).into_owned();
        }
        let data = |e: Option<&StoredEvent>, k: &str| e.and_then(|e| e.event.data.get(k).cloned()).filter(|v| !v.is_empty());
        signers.push(Signer {
            name: r.name.clone(),
            account: r.email.clone().or_else(|| r.phone.clone()),
            email: r.email.clone(),
            phone: r.phone.clone(),
            company: match &r.role {
                signet_domain::contract::RecipientRole::CompanySigner { company } => Some(company.clone()),
                _ => None,
            },
            received_at_ms: first(events, EventKind::Notified, &r.id).map(|e| e.event.at),
            opened_at_ms: opened.map(|e| e.event.at),
            signed_at_ms: signed.map(|e| e.event.at),
            ip: data(signed, "ip").or_else(|| data(opened, "ip")),
            user_agent: data(signed, "user_agent").or_else(|| data(opened, "user_agent")),
            verification: verified.map(|e| Verification { method: e.event.data.get("channel").cloned().unwrap_or_default(), at_ms: e.event.at }),
            certificate_serial: data(signed, "certificate_serial"),
            positions: c
                .fields
                .iter()
                .filter(|f| f.recipient == r.id && matches!(f.kind, FieldKind::Signature | FieldKind::Seal))
                .map(|f| Position { document: f.document, page: f.page, x: f.rect[0], y: f.rect[1] })
                .collect(),
            log_index,
            inclusion_proof,
        });
    }
    if checkpoint.is_empty() {
        checkpoint = app.log.checkpoint().await?.map(|c| c.cosigned).unwrap_or_default();
    }
    let sent = events.iter().find(|e| e.event.kind == EventKind::Sent);
    Ok(EvidenceReport {
        title: c.title.clone(),
        number: c.number.clone(),
        contract_id: c.id.clone(),
        sender: Party { name: c.sender.clone(), account: c.sender.clone() },
        organisation: org,
        sent_ip: sent.and_then(|e| e.event.data.get("ip").cloned()),
        sent_user_agent: sent.and_then(|e| e.event.data.get("user_agent").cloned()),
        sent_at_ms: c.sent_at.unwrap_or(c.created_at),
        completed_at_ms: c.finished_at.filter(|_| c.status == signet_domain::contract::Status::Completed),
        generated_at_ms: now_ms(),
        utc_offset_minutes: 8 * 60,
        documents,
        signers,
        checkpoint,
        log_key: Some(app.log.verifier().to_string()),
        events: events
            .iter()
            .map(|e| EventRow {
                kind: e.event.kind.as_str().to_owned(),
                at_ms: e.event.at,
                actor: e.event.actor.clone(),
                recipient: e.event.recipient.as_deref().and_then(|id| c.recipients.iter().find(|r| r.id == id)).map(|r| r.name.clone()),
                ip: e.event.data.get("ip").cloned(),
                log_index: e.log_index,
            })
            .collect(),
    })
}

/// The report as a PDF.
pub async fn report_pdf(app: &App, c: &Contract, events: &[StoredEvent]) -> anyhow::Result<Vec<u8>> {
    report_pdf_of(app, c, events, None).await
}

async fn report_pdf_of(app: &App, c: &Contract, events: &[StoredEvent], pdfs: Option<&[Vec<u8>]>) -> anyhow::Result<Vec<u8>> {
    let data = report(app, c, events, pdfs).await?;
    let (bytes, index) = crate::files::default_font()?;
    tokio::task::block_in_place(|| {
        signet_report::render_pdf(&data, signet_report::Lang::Bilingual, &signet_report::FontSource { bytes, index: *index })
            .map_err(|e| anyhow::anyhow!("rendering the evidence report: {e}"))
    })
}

/// The offline evidence bundle (zip).
pub async fn bundle(app: &App, c: &Contract, events: &[StoredEvent]) -> anyhow::Result<Vec<u8>> {
    let pdfs = current_pdfs(app, c).await?;
    let report = report_pdf_of(app, c, events, Some(&pdfs)).await?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, pdf) in pdfs.into_iter().enumerate() {
        let name = if i == 0 { signet_report::SIGNED_PDF.to_owned() } else { format!("signed-{}.pdf", i + 1) };
        files.push((name, pdf));
    }
    files.push((signet_report::EVIDENCE_PDF.to_owned(), report));
    files.push((signet_report::ROOT_PEM.to_owned(), std::fs::read(app.cfg.data.join("ca").join("root.pem"))?));
    files.push((signet_report::LOG_VKEY.to_owned(), format!("{}\n", app.log.verifier()).into_bytes()));
    let subject = subject(c);
    let mut names = Vec::new();
    for e in events {
        let Some(index) = e.log_index else { continue };
        let entry = e.event.to_evidence(&c.org, &c.id, subject.as_deref()).encode()?;
        let p = proof(app, index).await?;
        let name = format!("{:03}-{}", e.seq, e.event.kind.as_str());
        files.push((format!("{name}{}", signet_report::ENTRY_EXT), entry));
        files.push((format!("{name}{}", signet_report::PROOF_EXT), p.to_bytes()));
        names.push(name);
    }
    let all: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let readme = signet_report::bundle_readme(signet_report::Lang::Bilingual, &c.number, &refs);
    files.push((signet_report::README.to_owned(), readme.into_bytes()));
    signet_report::bundle_zip(&files).map_err(|e| anyhow::anyhow!("making the bundle: {e}"))
}
