//! One signing of the ceremony: a key and an event certificate made for this signer and this
//! signing only (CN = the signer's name, their email in the subjectAltName), issued by the
//! platform CA after the one-time code was verified and dropped right after use; a PAdES
//! signature with a signature time-stamp and validation data (B-LT); the visible appearance at
//! the signer's field. When the contract completes, [`seal_document`] adds a document
//! time-stamp over everything (B-LTA).

use std::path::Path;
use std::time::SystemTime;

use anyhow::Result;
use signet_domain::contract::{Field, FieldKind};
use signet_pades::{Credentials, Level, Services};
use signet_pdf::{AppearanceSpec, FontData, Placement, RgbaImage, SignatureKind, SignatureRequest};

use crate::ca::{CaDir, IssueParams};
use crate::services::{LocalTsa, LocalValidation};

/// How the signer's mark looks.
pub enum Mark {
    /// A drawn signature (PNG with transparency).
    Drawn(RgbaImage),
    /// A typed name, drawn in a brush-script (Kai) style when such a font is installed.
    Typed(String),
}

/// Fonts that look handwritten, then the general CJK fonts.
const HANDWRITING_FONTS: &[(&str, u32)] = &[
    ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
    ("/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf", 0),
];

/// The font typed names are drawn in (read once per process).
fn font_for_names() -> Result<&'static (Vec<u8>, u32)> {
    static HANDWRITING: std::sync::OnceLock<Option<(Vec<u8>, u32)>> = std::sync::OnceLock::new();
    let found = HANDWRITING.get_or_init(|| {
        HANDWRITING_FONTS.iter().find(|(p, _)| Path::new(p).is_file()).and_then(|(p, i)| std::fs::read(p).ok().map(|b| (b, *i)))
    });
    match found {
        Some(f) => Ok(f),
        None => crate::files::default_font(),
    }
}

/// The name of a contract field in the PDF's form.
pub fn pdf_field_name(f: &Field) -> String {
    match f.kind {
        FieldKind::Signature | FieldKind::Seal => format!("Signature-{}", f.id),
        FieldKind::Text | FieldKind::Date => format!("Text-{}", f.id),
        FieldKind::Checkbox => format!("Check-{}", f.id),
    }
}

fn append(mut pdf: Vec<u8>, update: &[u8]) -> Vec<u8> {
    pdf.extend_from_slice(update);
    pdf
}

/// Before a document's first signature: every field of the contract on it, as empty form
/// fields, in one unsigned incremental update. Later signers then only *fill* fields, which
/// earlier signatures permit (new annotations after a signature would count as a change to the
/// signed document). A no-op when the fields are there; on a document signed before fields
/// were created up front, the fields are left to be made at signing as before.
pub fn prepare_fields(pdf: Vec<u8>, fields: &[Field]) -> Result<Vec<u8>> {
    if fields.is_empty() {
        return Ok(pdf);
    }
    let update = {
        let source: &[u8] = &pdf;
        let doc = signet_pdf::Document::open(&source)?;
        let names = doc.field_names()?;
        let present = fields.iter().filter(|f| names.contains(&pdf_field_name(f))).count();
        if present == fields.len() || !signet_pdf::signatures(&doc)?.is_empty() {
            return Ok(pdf);
        }
        if present > 0 {
            anyhow::bail!("the document holds {present} of its {} fields; it was changed outside the platform", fields.len());
        }
        let new: Vec<signet_pdf::FormField> = fields
            .iter()
            .map(|f| signet_pdf::FormField {
                name: pdf_field_name(f),
                kind: match f.kind {
                    FieldKind::Signature | FieldKind::Seal => signet_pdf::FormFieldKind::Signature,
                    FieldKind::Text | FieldKind::Date => signet_pdf::FormFieldKind::Text,
                    FieldKind::Checkbox => signet_pdf::FormFieldKind::Checkbox,
                },
                placement: Placement { page: f.page as usize, rect: f.rect },
            })
            .collect();
        signet_pdf::add_form_fields(&doc, &new)?
    };
    Ok(append(pdf, &update))
}

/// A signer's text, date and check-box values written into their prepared fields (one
/// incremental update, before their signature, so that it covers them). Fields the document
/// does not hold (see [`prepare_fields`]) are left out.
pub fn fill_fields(pdf: Vec<u8>, fields: &[Field], now: SystemTime) -> Result<Vec<u8>> {
    let mut values: Vec<(String, signet_pdf::FieldValue)> = fields
        .iter()
        .filter_map(|f| {
            let v = match f.kind {
                FieldKind::Text => signet_pdf::FieldValue::Text(f.value.clone().filter(|v| !v.trim().is_empty())?),
                FieldKind::Date => signet_pdf::FieldValue::Text(crate::demo::date_utc(now)),
                FieldKind::Checkbox => signet_pdf::FieldValue::Checked(f.value.as_deref() == Some("true")),
                FieldKind::Signature | FieldKind::Seal => return None,
            };
            Some((pdf_field_name(f), v))
        })
        .collect();
    if values.is_empty() {
        return Ok(pdf);
    }
    let update = {
        let source: &[u8] = &pdf;
        let doc = signet_pdf::Document::open(&source)?;
        let names = doc.field_names()?;
        values.retain(|(n, _)| names.contains(n));
        if values.is_empty() {
            return Ok(pdf);
        }
        let font = if values.iter().any(|(_, v)| matches!(v, signet_pdf::FieldValue::Text(_))) { Some(crate::files::default_font()?) } else { None };
        signet_pdf::fill_form(&doc, &values, font.map(|(b, i)| FontData { bytes: b, index: *i }))?
    };
    Ok(append(pdf, &update))
}

/// Who signs.
pub struct Signer<'a> {
    /// Name (certificate CN).
    pub name: &'a str,
    /// Email, in the certificate.
    pub email: Option<&'a str>,
    /// Phone, in the certificate's subjectAltName.
    pub phone: Option<&'a str>,
    /// Company they sign for, in the certificate's O.
    pub company: Option<&'a str>,
}

/// Signs `pdf` at `field` for `signer`; returns the whole signed PDF and the event
/// certificate's serial (hex).
pub fn sign_pdf(ca: &CaDir, pdf: &[u8], signer: &Signer<'_>, field: &Field, mark: &Mark, now: SystemTime) -> Result<(Vec<u8>, String)> {
    let (cert, key) = ca.issue_event(
        &IssueParams { name: signer.name, email: signer.email, phone: signer.phone, org: signer.company, alg: signet_pki::KeyAlgorithm::from_name("p256")?, valid_days: 1 },
        now,
    )?;
    let chain = ca.chain();
    let font = font_for_names().ok();
    let date = crate::demo::date_utc(now);
    let appearance = match mark {
        Mark::Drawn(img) => AppearanceSpec { image: Some(img.clone()), text_lines: Vec::new(), font: None },
        Mark::Typed(name) => AppearanceSpec {
            image: None,
            text_lines: vec![name.clone(), date],
            font: font.map(|(b, i)| FontData { bytes: b, index: *i }),
        },
    };
    if matches!(mark, Mark::Typed(_)) && appearance.font.is_none() {
        anyhow::bail!("no font is installed to draw a typed name; install fonts-noto-cjk (or fonts-arphic-ukai)");
    }
    let request = SignatureRequest {
        kind: SignatureKind::Cades,
        field_name: Some(format!("Signature-{}", field.id)),
        placement: Some(Placement { page: field.page as usize, rect: field.rect }),
        appearance: Some(appearance),
        contents_capacity: 0,
        signing_time: Some(now),
        name: Some(signer.name.to_owned()),
        reason: Some("Signed with Signet / 通过 Signet 签署".into()),
        location: None,
        contact_info: signer.email.map(str::to_owned),
        certify: None,
        add_fields: Vec::new(),
    };
    let tsa = LocalTsa { ca };
    let validation = LocalValidation { ca };
    let creds = Credentials { key: &*key, cert: &cert, chain: &chain };
    let level = Level::BLT;
    let source: &[u8] = pdf;
    let appended = signet_pades::sign(&source, &creds, &request, level, Services { tsa: Some(&tsa), validation: Some(&validation) }, now)?;
    drop(key);
    let mut out = Vec::with_capacity(pdf.len() + appended.len());
    out.extend_from_slice(pdf);
    out.extend_from_slice(&appended);
    Ok((out, signet_pki::cert::serial_hex(&cert)))
}

/// Completion: a document time-stamp over the fully signed document (B-LTA); returns the
/// whole PDF.
pub fn seal_document(ca: &CaDir, pdf: &[u8], now: SystemTime) -> Result<Vec<u8>> {
    let tsa = LocalTsa { ca };
    let source: &[u8] = pdf;
    let update = signet_pades::document_timestamp(&source, &tsa, now)?;
    let mut out = Vec::with_capacity(pdf.len() + update.len());
    out.extend_from_slice(pdf);
    out.extend_from_slice(&update);
    Ok(out)
}
