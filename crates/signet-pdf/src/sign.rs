//! Preparing signatures and long-term validation data as incremental updates.
//!
//! [`prepare_signature`] writes, after the original bytes, a signature dictionary with a
//! zero-filled `/Contents` placeholder and a fixed-width `/ByteRange`, the field/widget, its
//! appearance, and the rewritten page, AcroForm and catalog objects — only the objects that
//! must change, with every other key kept. The caller hashes [`PreparedSignature::signed_parts`]
//! (after the original bytes), builds the CMS elsewhere, and [`PreparedSignature::embed`]s it.
//! [`add_dss`] appends the `/DSS` for long-term validation. No cryptography happens here.

use std::collections::HashSet;
use std::io::Write;

use crate::appearance::{self, AppearanceSpec};
use crate::document::Document;
use crate::error::{PdfError, Result};
use crate::fields::SignatureField;
use crate::object::{Dict, ObjRef, Object, Stream};
use crate::writer::{Update, pdf_date, text_string, write_name, write_object};

/// Largest `/Contents` placeholder accepted (in DER bytes).
pub const MAX_CONTENTS_CAPACITY: usize = 8 << 20;
const BYTE_RANGE_PLACEHOLDER: &[u8] = b"[0000000000 0000000000 0000000000 0000000000]";

/// What kind of signature to prepare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureKind {
    /// `/Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached` (PAdES).
    #[default]
    Cades,
    /// `/Type /DocTimeStamp /SubFilter /ETSI.RFC3161`, always invisible.
    DocTimestamp,
}

/// Where a visible field goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    /// 1-based page number.
    pub page: usize,
    /// `[x1 y1 x2 y2]` in PDF points from the page's bottom-left corner.
    pub rect: [f64; 4],
}

/// An empty signature field to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewField {
    pub name: String,
    pub placement: Placement,
}

/// Everything needed to prepare one signature.
#[derive(Debug, Clone, Default)]
pub struct SignatureRequest<'f> {
    pub kind: SignatureKind,
    /// `None` → a fresh unique name `Signature1`, `Signature2`, ...
    pub field_name: Option<String>,
    /// `None` → invisible (`/Rect [0 0 0 0]` widget on page 1). Ignored when an existing field
    /// is filled (its own `/Rect` is used) and for document timestamps (always invisible).
    pub placement: Option<Placement>,
    /// What a visible signature shows; ignored for invisible ones.
    pub appearance: Option<AppearanceSpec<'f>>,
    /// Maximum DER bytes; the placeholder is `2 * capacity` hex zeros.
    pub contents_capacity: usize,
    /// → `/M` (`D:YYYYMMDDHHmmSSZ`, UTC); omitted for document timestamps.
    pub signing_time: Option<std::time::SystemTime>,
    pub name: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub contact_info: Option<String>,
    /// 1..=3: DocMDP certification (only allowed as the first signature).
    pub certify: Option<u8>,
    /// Empty signature fields to create in this same revision.
    pub add_fields: Vec<NewField>,
}

/// An incremental update with a signature placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedSignature {
    /// The bytes to append to the original document.
    pub update: Vec<u8>,
    /// The `/ByteRange`, in offsets of the whole (original + update) file.
    pub byte_range: [u64; 4],
    /// Offsets in `update` of `<` and just past `>` of `/Contents`.
    pub hole: (usize, usize),
}

impl PreparedSignature {
    /// The bytes of `update` that are signed: `update[..hole.0]` and `update[hole.1..]`
    /// (the original document's bytes come before the first part).
    pub fn signed_parts(&self) -> (&[u8], &[u8]) {
        let (a, b) = self.update.split_at(self.hole.0.min(self.update.len()));
        let gap = self.hole.1.saturating_sub(self.hole.0).min(b.len());
        (a, &b[gap..])
    }

    /// DER bytes the placeholder can hold.
    pub fn capacity(&self) -> usize {
        self.hole.1.saturating_sub(self.hole.0).saturating_sub(2) / 2
    }

    /// Write the DER (hex, zero-padded) into the placeholder.
    pub fn embed(&mut self, der: &[u8]) -> Result<()> {
        let capacity = self.capacity();
        if der.len() > capacity {
            return Err(PdfError::ContentsTooLarge {
                needed: der.len(),
                capacity,
            });
        }
        let slot = self
            .update
            .get_mut(self.hole.0 + 1..self.hole.1.saturating_sub(1))
            .ok_or_else(|| {
                PdfError::InvalidRequest("the placeholder offsets do not fit the update".into())
            })?;
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        slot.fill(b'0');
        for (pair, &b) in slot.chunks_exact_mut(2).zip(der) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 15)];
        }
        Ok(())
    }
}

/// The page of a placement, after checking that its rectangle is finite, non-empty and
/// inside the page box.
pub(crate) fn check_placement(doc: &Document, p: &Placement) -> Result<ObjRef> {
    let (page_ref, _) = doc.page(p.page)?;
    let bx = doc.page_box(p.page)?;
    let [x1, y1, x2, y2] = p.rect;
    let inside = x1 >= bx[0] && y1 >= bx[1] && x2 <= bx[2] && y2 <= bx[3];
    if !(x2 > x1 && y2 > y1 && inside) || p.rect.iter().any(|v| !v.is_finite()) {
        return Err(PdfError::RectOutOfRange {
            page: p.page,
            rect: p.rect,
            page_box: bx,
        });
    }
    Ok(page_ref)
}

pub(crate) fn rect_obj(r: [f64; 4]) -> Object {
    Object::Array(r.iter().map(|&v| Object::Real(v)).collect())
}

/// Pending edits to pages and the AcroForm, applied once at the end.
#[derive(Default)]
pub(crate) struct Edits {
    /// Widgets to append to each page's `/Annots`.
    pub annots: Vec<(ObjRef, Vec<ObjRef>)>,
    /// Fields to append to the AcroForm's `/Fields`.
    pub fields: Vec<ObjRef>,
    /// Set `/SigFlags 3` (the document has signature fields and is signed append-only).
    pub sig_flags: bool,
    /// Fonts the AcroForm's default resources `/DR /Font` must hold: (resource name, font
    /// dictionary), added when the name is absent, never replacing what is there.
    pub default_fonts: Vec<(&'static [u8], Dict)>,
    /// The AcroForm's default appearance `/DA`, set when absent.
    pub default_da: Option<&'static [u8]>,
}

impl Edits {
    pub(crate) fn add_widget(&mut self, page: ObjRef, widget: ObjRef) {
        match self.annots.iter_mut().find(|(p, _)| *p == page) {
            Some((_, v)) => v.push(widget),
            None => self.annots.push((page, vec![widget])),
        }
    }
}

/// The signature field dictionary (merged field and widget).
pub(crate) fn field_dict(
    name: &str,
    value: Option<ObjRef>,
    rect: [f64; 4],
    page: ObjRef,
    ap: Option<ObjRef>,
) -> Object {
    let mut d = Dict::new();
    d.set("FT", Object::name(b"Sig"));
    d.set("T", text_string(name));
    if let Some(v) = value {
        d.set("V", Object::Ref(v));
    }
    d.set("Type", Object::name(b"Annot"));
    d.set("Subtype", Object::name(b"Widget"));
    d.set("F", Object::Integer(132));
    d.set("Rect", rect_obj(rect));
    d.set("P", Object::Ref(page));
    if let Some(ap) = ap {
        let mut apd = Dict::new();
        apd.set("N", Object::Ref(ap));
        d.set("AP", Object::Dict(apd));
    }
    Object::Dict(d)
}

/// Takes `name` for a new field: non-empty, no `.` (that would make it a child of another
/// field), and not in `taken`.
pub(crate) fn claim_field_name<'a>(taken: &mut HashSet<&'a str>, name: &'a str) -> Result<()> {
    if name.is_empty() || name.contains('.') {
        return Err(PdfError::InvalidRequest(format!(
            "field name {name:?} must be non-empty and contain no '.'"
        )));
    }
    if !taken.insert(name) {
        return Err(PdfError::DuplicateField(name.to_owned()));
    }
    Ok(())
}

/// Prepare an incremental update that adds (or fills) a signature field with a placeholder.
pub fn prepare_signature(doc: &Document, req: &SignatureRequest) -> Result<PreparedSignature> {
    if req.contents_capacity == 0 || req.contents_capacity > MAX_CONTENTS_CAPACITY {
        return Err(PdfError::InvalidRequest(format!(
            "contents_capacity must be between 1 and {MAX_CONTENTS_CAPACITY} bytes"
        )));
    }
    if let Some(p) = req.certify {
        if !(1..=3).contains(&p) {
            return Err(PdfError::InvalidRequest(format!(
                "certify must be 1, 2 or 3, not {p}"
            )));
        }
        if req.kind == SignatureKind::DocTimestamp {
            return Err(PdfError::InvalidRequest(
                "a document timestamp cannot certify a document".into(),
            ));
        }
    }
    let fields = doc.signature_fields()?;
    let certified = doc.certification()?;
    // PDF 2.0 and PAdES allow document timestamps (and DSS) on any certified document.
    if certified == Some(1) && req.kind == SignatureKind::Cades {
        return Err(PdfError::CertifiedNoChanges);
    }
    if req.certify.is_some() && (certified.is_some() || fields.iter().any(|f| f.signed)) {
        return Err(PdfError::CertifyNotFirst);
    }
    let existing: Option<&SignatureField> = req
        .field_name
        .as_deref()
        .and_then(|n| fields.iter().find(|f| f.name == n));
    if let Some(f) = existing
        && f.signed
    {
        return Err(PdfError::FieldAlreadySigned(f.name.clone()));
    }
    if certified.is_some() && req.kind == SignatureKind::Cades && existing.is_none() {
        let hint = match &req.field_name {
            Some(n) => format!("there is no field named \"{n}\""),
            None => "name one of its empty signature fields".to_string(),
        };
        let free: Vec<&str> = fields
            .iter()
            .filter(|f| !f.signed)
            .map(|f| f.name.as_str())
            .collect();
        return Err(PdfError::CertifiedNewField(format!(
            "{hint}; empty fields: [{}]",
            free.join(", ")
        )));
    }
    if certified.is_some() && !req.add_fields.is_empty() {
        return Err(PdfError::CertifiedNewField(
            "new empty fields cannot be added after certification".into(),
        ));
    }
    // Names are unique across every kind of field, not only signature fields.
    let all_fields = doc.form_fields()?;
    if let (Some(n), None) = (&req.field_name, existing)
        && let Some(other) = all_fields.iter().find(|f| &f.name == n)
    {
        return Err(PdfError::FieldKind {
            name: n.clone(),
            found: crate::form::kind_word(other),
            wanted: "a signature",
        });
    }
    let mut taken: HashSet<&str> = fields
        .iter()
        .map(|f| f.name.as_str())
        .chain(all_fields.iter().map(|f| f.name.as_str()))
        .collect();
    let sig_name = match (&req.field_name, existing) {
        (_, Some(f)) => f.name.clone(),
        (Some(n), None) => n.clone(),
        (None, None) => (1..)
            .map(|i| format!("Signature{i}"))
            .find(|n| !taken.contains(n.as_str()) && !req.add_fields.iter().any(|f| &f.name == n))
            .unwrap_or_default(),
    };
    if sig_name.is_empty() || sig_name.contains('.') {
        return Err(PdfError::InvalidRequest(format!(
            "field name {sig_name:?} must be non-empty and contain no '.'"
        )));
    }
    taken.insert(&sig_name);
    for f in &req.add_fields {
        claim_field_name(&mut taken, &f.name)?;
    }
    let timestamp = req.kind == SignatureKind::DocTimestamp;
    let placement = if timestamp || existing.is_some() {
        None
    } else {
        req.placement
    };
    let new_page = match &placement {
        Some(p) => Some(check_placement(doc, p)?),
        None if existing.is_none() => Some(doc.page(1)?.0),
        None => None,
    };
    let extra_pages = req
        .add_fields
        .iter()
        .map(|f| check_placement(doc, &f.placement))
        .collect::<Result<Vec<_>>>()?;

    let mut up = Update::new(doc)?;
    let sig_ref = up.alloc()?;
    let (br_pos, hole) = write_sig_dict(&mut up, sig_ref, req)?;
    let mut edits = Edits {
        sig_flags: true,
        ..Edits::default()
    };

    match existing {
        Some(f) => {
            let mut fd = doc.get_dict(f.field, "a signature field")?;
            fd.set("V", Object::Ref(sig_ref));
            let size = f
                .rect
                .map(|r| (r[2] - r[0], r[3] - r[1]))
                .filter(|(w, h)| *w > 0.0 && *h > 0.0);
            if let (Some(spec), Some((w, h)), Some(widget), false) =
                (&req.appearance, size, f.widget, timestamp)
            {
                let ap = appearance::write_appearance(&mut up, spec, w, h)?;
                let mut apd = Dict::new();
                apd.set("N", Object::Ref(ap));
                if widget == f.field {
                    fd.set("AP", Object::Dict(apd));
                } else {
                    let mut wd = doc.get_dict(widget, "a widget annotation")?;
                    wd.set("AP", Object::Dict(apd));
                    up.put(widget, &Object::Dict(wd));
                }
            }
            up.put(f.field, &Object::Dict(fd));
        }
        None => {
            let page =
                new_page.ok_or_else(|| PdfError::Invalid("no page for the new field".into()))?;
            let (rect, ap) = match (&placement, &req.appearance) {
                (Some(p), Some(spec)) => (
                    p.rect,
                    Some(appearance::write_appearance(
                        &mut up,
                        spec,
                        p.rect[2] - p.rect[0],
                        p.rect[3] - p.rect[1],
                    )?),
                ),
                (Some(p), None) => (
                    p.rect,
                    Some(appearance::write_empty_form(
                        &mut up,
                        p.rect[2] - p.rect[0],
                        p.rect[3] - p.rect[1],
                    )?),
                ),
                // A zero-size widget needs no appearance (ISO 32000-2, 12.5.5); for document
                // timestamps pyHanko counts a new /AP as form filling, which DocMDP P=1 forbids.
                (None, _) if timestamp => ([0.0; 4], None),
                (None, _) => (
                    [0.0; 4],
                    Some(appearance::write_empty_form(&mut up, 0.0, 0.0)?),
                ),
            };
            let fr = up.alloc()?;
            up.put(fr, &field_dict(&sig_name, Some(sig_ref), rect, page, ap));
            edits.add_widget(page, fr);
            edits.fields.push(fr);
        }
    }
    for (f, page) in req.add_fields.iter().zip(extra_pages) {
        let [x1, y1, x2, y2] = f.placement.rect;
        let ap = appearance::write_bordered_form(&mut up, x2 - x1, y2 - y1)?;
        let fr = up.alloc()?;
        up.put(
            fr,
            &field_dict(&f.name, None, f.placement.rect, page, Some(ap)),
        );
        edits.add_widget(page, fr);
        edits.fields.push(fr);
    }
    apply_edits(doc, &mut up, &edits, req.certify.map(|_| sig_ref))?;

    let mut update = up.finish()?;
    let base = doc.len();
    let total = base + update.len() as u64;
    let byte_range = [
        0,
        base + hole.0 as u64,
        base + hole.1 as u64,
        total - (base + hole.1 as u64),
    ];
    let text = format!(
        "[{:010} {:010} {:010} {:010}]",
        byte_range[0], byte_range[1], byte_range[2], byte_range[3]
    );
    if text.len() != BYTE_RANGE_PLACEHOLDER.len() {
        return Err(PdfError::LimitExceeded {
            what: "document size for a fixed-width /ByteRange",
            limit: 9_999_999_999,
        });
    }
    update
        .get_mut(br_pos..br_pos + text.len())
        .ok_or_else(|| PdfError::Invalid("byte range placeholder out of place".into()))?
        .copy_from_slice(text.as_bytes());
    Ok(PreparedSignature {
        update,
        byte_range,
        hole,
    })
}

/// Write the signature dictionary; return the offsets (in the update) of the `/ByteRange`
/// placeholder and of the `/Contents` hole.
fn write_sig_dict(
    up: &mut Update,
    r: ObjRef,
    req: &SignatureRequest,
) -> Result<(usize, (usize, usize))> {
    up.begin(r);
    let b = &mut up.buf;
    match req.kind {
        SignatureKind::Cades => {
            b.extend_from_slice(b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached")
        }
        SignatureKind::DocTimestamp => {
            b.extend_from_slice(b"<</Type/DocTimeStamp/Filter/Adobe.PPKLite/SubFilter/ETSI.RFC3161")
        }
    }
    b.extend_from_slice(b"/ByteRange ");
    let br_pos = b.len();
    b.extend_from_slice(BYTE_RANGE_PLACEHOLDER);
    b.extend_from_slice(b"/Contents ");
    let start = b.len();
    b.push(b'<');
    b.resize(b.len() + 2 * req.contents_capacity, b'0');
    b.push(b'>');
    let hole = (start, b.len());
    if req.kind == SignatureKind::Cades
        && let Some(t) = req.signing_time
    {
        b.extend_from_slice(b"/M");
        write_object(b, &Object::String(pdf_date(t)?.into_bytes()));
    }
    for (key, val) in [
        (&b"Name"[..], &req.name),
        (b"Reason", &req.reason),
        (b"Location", &req.location),
        (b"ContactInfo", &req.contact_info),
    ] {
        if let Some(v) = val {
            write_name(b, key);
            write_object(b, &text_string(v));
        }
    }
    if let Some(p) = req.certify {
        let _ = write!(
            b,
            "/Reference [<</Type/SigRef/TransformMethod/DocMDP/TransformParams<</Type/TransformParams/P {p}/V/1.2>>>>]"
        );
    }
    b.extend_from_slice(b">>");
    up.end();
    Ok((br_pos, hole))
}

/// Resolve an array that may be stored indirectly.
fn array_of(doc: &Document, o: &Object, what: &str) -> Result<Vec<Object>> {
    match doc.resolve(o)? {
        Object::Array(a) => Ok(a),
        Object::Null => Ok(Vec::new()),
        _ => Err(PdfError::Invalid(format!("{what} is not an array"))),
    }
}

/// Append `items` to the array under `key` of `dict`: in place when direct (returns true: the
/// dict changed), or by rewriting the array object when indirect.
fn append_to_array(
    doc: &Document,
    up: &mut Update,
    dict: &mut Dict,
    key: &[u8],
    items: &[ObjRef],
    what: &str,
) -> Result<bool> {
    let refs = items.iter().map(|&r| Object::Ref(r));
    match dict.get(key) {
        Some(Object::Ref(ar)) => {
            let ar = *ar;
            let mut a = array_of(doc, &Object::Ref(ar), what)?;
            a.extend(refs);
            up.put(ar, &Object::Array(a));
            Ok(false)
        }
        Some(other) => {
            let mut a = array_of(doc, other, what)?;
            a.extend(refs);
            dict.set(key, Object::Array(a));
            Ok(true)
        }
        None => {
            dict.set(key, Object::Array(refs.collect()));
            Ok(true)
        }
    }
}

/// Rewrite pages (`/Annots`), the AcroForm (`/Fields`, `/SigFlags`) and the catalog.
pub(crate) fn apply_edits(
    doc: &Document,
    up: &mut Update,
    edits: &Edits,
    certify_sig: Option<ObjRef>,
) -> Result<()> {
    for (page_ref, widgets) in &edits.annots {
        let mut page = doc.get_dict(*page_ref, "a page")?;
        if append_to_array(doc, up, &mut page, b"Annots", widgets, "a page's /Annots")? {
            up.put(*page_ref, &Object::Dict(page));
        }
    }
    let (cat_ref, mut cat) = doc.catalog()?;
    let mut cat_changed = false;
    let update_form = |up: &mut Update, form: &mut Dict| -> Result<bool> {
        let mut changed = false;
        if !edits.fields.is_empty() {
            changed |=
                append_to_array(doc, up, form, b"Fields", &edits.fields, "/AcroForm /Fields")?;
        }
        if edits.sig_flags && form.get(b"SigFlags").and_then(Object::as_i64) != Some(3) {
            form.set("SigFlags", Object::Integer(3));
            changed = true;
        }
        changed |= add_default_resources(doc, up, form, edits)?;
        Ok(changed)
    };
    match cat.get(b"AcroForm").cloned() {
        Some(Object::Ref(fr)) => {
            let mut form = doc.get_dict(fr, "/AcroForm")?;
            if update_form(up, &mut form)? {
                up.put(fr, &Object::Dict(form));
            }
        }
        Some(Object::Dict(mut form)) => {
            if update_form(up, &mut form)? {
                cat.set("AcroForm", Object::Dict(form));
                cat_changed = true;
            }
        }
        None | Some(Object::Null) => {
            let mut form = Dict::new();
            update_form(up, &mut form)?;
            cat.set("AcroForm", Object::Dict(form));
            cat_changed = true;
        }
        Some(_) => return Err(PdfError::Invalid("/AcroForm is not a dictionary".into())),
    }
    if let Some(sig) = certify_sig {
        match cat.get(b"Perms").cloned() {
            Some(Object::Ref(pr)) => {
                let mut perms = doc.get_dict(pr, "/Perms")?;
                perms.set("DocMDP", Object::Ref(sig));
                up.put(pr, &Object::Dict(perms));
            }
            Some(Object::Dict(mut perms)) => {
                perms.set("DocMDP", Object::Ref(sig));
                cat.set("Perms", Object::Dict(perms));
                cat_changed = true;
            }
            _ => {
                let mut perms = Dict::new();
                perms.set("DocMDP", Object::Ref(sig));
                cat.set("Perms", Object::Dict(perms));
                cat_changed = true;
            }
        }
    }
    if cat_changed {
        up.put(cat_ref, &Object::Dict(cat));
    }
    Ok(())
}

/// Merge `edits.default_fonts` into the AcroForm's `/DR /Font` and set `/DA` when absent;
/// returns `true` when `form` itself changed (an indirect `/DR` or `/Font` is rewritten as its
/// own object). Nothing already there is replaced.
fn add_default_resources(
    doc: &Document,
    up: &mut Update,
    form: &mut Dict,
    edits: &Edits,
) -> Result<bool> {
    let mut changed = false;
    if let Some(da) = edits.default_da
        && form.get(b"DA").is_none()
    {
        form.set("DA", Object::String(da.to_vec()));
        changed = true;
    }
    if edits.default_fonts.is_empty() {
        return Ok(changed);
    }
    let (dr_ref, mut dr) = match form.get(b"DR") {
        Some(Object::Ref(r)) => (Some(*r), doc.get_dict(*r, "/AcroForm /DR")?),
        Some(Object::Dict(d)) => (None, d.clone()),
        None | Some(Object::Null) => (None, Dict::new()),
        Some(_) => {
            return Err(PdfError::Invalid(
                "/AcroForm /DR is not a dictionary".into(),
            ));
        }
    };
    let (font_ref, mut fonts) = match dr.get(b"Font") {
        Some(Object::Ref(r)) => (Some(*r), doc.get_dict(*r, "/AcroForm /DR /Font")?),
        Some(Object::Dict(d)) => (None, d.clone()),
        None | Some(Object::Null) => (None, Dict::new()),
        Some(_) => {
            return Err(PdfError::Invalid(
                "/AcroForm /DR /Font is not a dictionary".into(),
            ));
        }
    };
    let mut added = false;
    for (name, font) in &edits.default_fonts {
        if fonts.get(name).is_none() {
            let r = up.alloc()?;
            up.put(r, &Object::Dict(font.clone()));
            fonts.set(*name, Object::Ref(r));
            added = true;
        }
    }
    if !added {
        return Ok(changed);
    }
    match font_ref {
        Some(r) => up.put(r, &Object::Dict(fonts)),
        None => {
            dr.set("Font", Object::Dict(fonts));
            match dr_ref {
                Some(r) => up.put(r, &Object::Dict(dr)),
                None => {
                    form.set("DR", Object::Dict(dr));
                    changed = true;
                }
            }
        }
    }
    Ok(changed)
}

/// Long-term validation data to add to the document security store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DssData {
    /// DER certificates.
    pub certs: Vec<Vec<u8>>,
    /// DER OCSP responses.
    pub ocsps: Vec<Vec<u8>>,
    /// DER CRLs.
    pub crls: Vec<Vec<u8>>,
}

/// An incremental update adding to (or creating) the catalog's `/DSS`: `/Certs`, `/OCSPs` and
/// `/CRLs` arrays of streams. What is already there is kept; byte-identical items are skipped.
pub fn add_dss(doc: &Document, data: &DssData) -> Result<Vec<u8>> {
    let (cat_ref, mut cat) = doc.catalog()?;
    let (dss_ref, mut dss) = match cat.get(b"DSS") {
        None | Some(Object::Null) => (None, Dict::new()),
        Some(Object::Ref(r)) => (Some(*r), doc.get_dict(*r, "/DSS")?),
        Some(Object::Dict(d)) => (None, d.clone()),
        Some(_) => return Err(PdfError::Invalid("/DSS is not a dictionary".into())),
    };
    let mut up = Update::new(doc)?;
    for (key, items) in [
        (&b"Certs"[..], &data.certs),
        (b"OCSPs", &data.ocsps),
        (b"CRLs", &data.crls),
    ] {
        let mut arr = match dss.get(key) {
            Some(o) => array_of(doc, o, "a /DSS array")?,
            None => Vec::new(),
        };
        let mut known: Vec<Vec<u8>> = Vec::with_capacity(arr.len());
        for o in &arr {
            if let Object::Stream(s) = doc.resolve(o)? {
                known.push(s.decoded().unwrap_or(s.data));
            }
        }
        let before = arr.len();
        for item in items {
            if known.iter().any(|k| k == item) {
                continue;
            }
            let r = up.alloc()?;
            let mut d = Dict::new();
            d.set("Filter", Object::name(b"FlateDecode"));
            up.put(
                r,
                &Object::Stream(Stream {
                    dict: d,
                    data: crate::filter::deflate(item),
                }),
            );
            arr.push(Object::Ref(r));
            known.push(item.clone());
        }
        if arr.len() != before || dss.get(key).is_some_and(|o| matches!(o, Object::Ref(_))) {
            dss.set(key, Object::Array(arr));
        }
    }
    match dss_ref {
        Some(r) => up.put(r, &Object::Dict(dss)),
        None => {
            let r = up.alloc()?;
            up.put(r, &Object::Dict(dss));
            cat.set("DSS", Object::Ref(r));
            up.put(cat_ref, &Object::Dict(cat));
        }
    }
    up.finish()
}
