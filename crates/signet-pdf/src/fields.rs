//! Reading signature fields and the signatures in them.
//!
//! Walks the AcroForm field tree (`/Fields`, `/Kids`, inherited `/FT`, dotted full names) and
//! reports every signature field, and for filled ones the signature dictionary with the file
//! span of its `/Contents`. It does not check signatures: that is the verifier's job, which
//! gets from here exactly the bytes it needs.

use std::collections::HashSet;

use crate::document::Document;
use crate::error::{PdfError, Result};
use crate::object::{Dict, ObjRef, Object};
use crate::writer::decode_text;

const MAX_FIELDS: usize = 100_000;
const MAX_FIELD_DEPTH: usize = 32;
/// Most entries read from all the pages' `/Annots` arrays together.
const MAX_ANNOT_ENTRIES: usize = 4_000_000;

/// A signature field (`/FT /Sig`) of the AcroForm.
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureField {
    /// Full dotted name (`parent.child`).
    pub name: String,
    /// The field dictionary.
    pub field: ObjRef,
    /// The signature dictionary in `/V`, when the field is signed.
    pub value: Option<ObjRef>,
    /// 1-based page of the widget, when known.
    pub page: Option<usize>,
    /// The widget's `/Rect`, normalised.
    pub rect: Option<[f64; 4]>,
    /// The widget annotation (the field itself when field and widget are merged).
    pub widget: Option<ObjRef>,
    /// `true` when `/V` is present (also when it is, invalidly, a direct dictionary).
    pub signed: bool,
}

/// A named node of the AcroForm field tree, of any field type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FormFieldNode {
    /// Full dotted name (`parent.child`).
    pub name: String,
    /// The field dictionary.
    pub field: ObjRef,
    /// `/FT`, inherited (`None` for a node that only groups other fields).
    pub ft: Option<Vec<u8>>,
    /// `/Ff`, inherited (0 when absent).
    pub flags: i64,
    /// The widget annotations: the kids without `/T`, or the field itself when merged.
    pub widgets: Vec<ObjRef>,
    /// `true` when no kid is a field of its own (the node holds the value).
    pub terminal: bool,
}

/// A filled signature as found in the file (for the verifier).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FoundSignature {
    pub field_name: String,
    /// e.g. `b"ETSI.CAdES.detached"`, `b"ETSI.RFC3161"`, `b"adbe.pkcs7.detached"`.
    pub sub_filter: Vec<u8>,
    /// `/Type /DocTimeStamp`.
    pub is_doc_timestamp: bool,
    pub byte_range: Vec<i64>,
    /// Decoded `/Contents` bytes, trailing zero padding kept.
    pub contents: Vec<u8>,
    /// File offsets of `<` and just past `>` of `/Contents`; `(0, 0)` if the signature
    /// dictionary is not stored directly in the file (e.g. inside an object stream).
    pub contents_span: (u64, u64),
    /// DocMDP permission level when this signature certifies the document.
    pub certify: Option<u8>,
    /// `/M`, raw.
    pub signing_time_text: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
    /// The signature dictionary.
    pub sig_ref: ObjRef,
    /// Why this signature cannot be checked (missing or malformed `/Contents` or
    /// `/ByteRange`, a value that is not a dictionary), if so.
    pub problem: Option<String>,
}

/// Bounds a walk of the field tree: its depth, loops, and the number of fields.
fn enter_field(r: ObjRef, depth: usize, seen: &mut HashSet<ObjRef>) -> Result<()> {
    if depth > MAX_FIELD_DEPTH {
        return Err(PdfError::LimitExceeded {
            what: "depth of the form field tree",
            limit: MAX_FIELD_DEPTH as u64,
        });
    }
    if !seen.insert(r) {
        return Err(PdfError::Invalid(format!(
            "the form field tree contains a loop (object {} {} R appears twice)",
            r.num, r.r#gen
        )));
    }
    if seen.len() > MAX_FIELDS {
        return Err(PdfError::LimitExceeded {
            what: "number of form fields",
            limit: MAX_FIELDS as u64,
        });
    }
    Ok(())
}

impl Document<'_> {
    /// Every `/FT /Sig` field in the AcroForm, in field-tree order.
    pub fn signature_fields(&self) -> Result<Vec<SignatureField>> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for r in self.field_roots()? {
            self.walk_field(r, None, None, 0, &mut seen, &mut out)?;
        }
        Ok(out)
    }

    /// The references in the AcroForm's `/Fields` (none without an AcroForm).
    fn field_roots(&self) -> Result<Vec<ObjRef>> {
        let (_, cat) = self.catalog()?;
        let Some(form) = cat.get(b"AcroForm") else {
            return Ok(Vec::new());
        };
        let form = match self.resolve(form)? {
            Object::Dict(d) => d,
            Object::Null => return Ok(Vec::new()),
            _ => return Err(PdfError::Invalid("/AcroForm is not a dictionary".into())),
        };
        match form.get(b"Fields").map(|f| self.resolve(f)).transpose()? {
            Some(Object::Array(a)) => Ok(a.iter().filter_map(Object::as_reference).collect()),
            None | Some(Object::Null) => Ok(Vec::new()),
            Some(_) => Err(PdfError::Invalid(
                "/AcroForm /Fields is not an array".into(),
            )),
        }
    }

    /// Every named node of the AcroForm field tree, of any field type, in field-tree order
    /// (parents before their kids). Used to keep names unique and to find fields to fill.
    pub(crate) fn form_fields(&self) -> Result<Vec<FormFieldNode>> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for r in self.field_roots()? {
            self.walk_any_field(r, None, 0, &mut seen, &mut out)?;
        }
        Ok(out)
    }

    /// The full names of every field that holds a value (of any type), in field-tree order.
    pub fn field_names(&self) -> Result<Vec<String>> {
        Ok(self.form_fields()?.into_iter().filter(|n| n.terminal).map(|n| n.name).collect())
    }

    /// One node of [`Self::form_fields`]: `parent` is the named parent node, whose full name,
    /// `/FT` and `/Ff` are inherited.
    fn walk_any_field(
        &self,
        r: ObjRef,
        parent: Option<&FormFieldNode>,
        depth: usize,
        seen: &mut HashSet<ObjRef>,
        out: &mut Vec<FormFieldNode>,
    ) -> Result<()> {
        enter_field(r, depth, seen)?;
        let dict = self.get_dict(r, "a form field")?;
        let Some(partial) = dict.get(b"T").and_then(Object::as_bytes).map(decode_text) else {
            // A node without /T is a widget, not a field (the walk only descends into named kids).
            return Ok(());
        };
        let name = match parent {
            Some(p) => format!("{}.{partial}", p.name),
            None => partial,
        };
        let kids: Vec<ObjRef> = match dict.get(b"Kids").map(|k| self.resolve(k)).transpose()? {
            Some(Object::Array(a)) => a.iter().filter_map(Object::as_reference).collect(),
            _ => Vec::new(),
        };
        let mut widgets = Vec::new();
        let mut named_kids = Vec::new();
        for k in kids {
            if self.get_dict(k, "a form field")?.get(b"T").is_some() {
                named_kids.push(k);
            } else {
                widgets.push(k);
            }
        }
        if widgets.is_empty()
            && (dict.has_name(b"Subtype", b"Widget") || dict.get(b"Rect").is_some())
        {
            widgets.push(r);
        }
        let node = FormFieldNode {
            name,
            field: r,
            ft: dict
                .get(b"FT")
                .and_then(Object::as_name)
                .map(<[u8]>::to_vec)
                .or_else(|| parent.and_then(|p| p.ft.clone())),
            flags: dict
                .get(b"Ff")
                .and_then(Object::as_i64)
                .or(parent.map(|p| p.flags))
                .unwrap_or(0),
            widgets,
            terminal: named_kids.is_empty(),
        };
        out.push(node.clone());
        for k in named_kids {
            self.walk_any_field(k, Some(&node), depth + 1, seen, out)?;
        }
        Ok(())
    }

    fn walk_field(
        &self,
        r: ObjRef,
        parent_name: Option<&str>,
        parent_ft: Option<&[u8]>,
        depth: usize,
        seen: &mut HashSet<ObjRef>,
        out: &mut Vec<SignatureField>,
    ) -> Result<()> {
        enter_field(r, depth, seen)?;
        let dict = self.get_dict(r, "a form field")?;
        let partial = dict.get(b"T").and_then(Object::as_bytes).map(decode_text);
        let name = match (parent_name, &partial) {
            (Some(p), Some(t)) => format!("{p}.{t}"),
            (None, Some(t)) => t.clone(),
            (Some(p), None) => p.to_string(),
            (None, None) => String::new(),
        };
        let ft = dict.get(b"FT").and_then(Object::as_name).or(parent_ft);
        let kids: Vec<ObjRef> = match dict.get(b"Kids").map(|k| self.resolve(k)).transpose()? {
            Some(Object::Array(a)) => a.iter().filter_map(Object::as_reference).collect(),
            _ => Vec::new(),
        };
        let mut widget_kids = Vec::new();
        let mut kid_dicts = Vec::new();
        for k in kids {
            let kd = self.get_dict(k, "a form field")?;
            if kd.get(b"T").is_some() {
                kid_dicts.push(k);
            } else {
                widget_kids.push(k);
            }
        }
        for k in kid_dicts {
            self.walk_field(k, Some(&name), ft, depth + 1, seen, out)?;
        }
        if ft != Some(b"Sig") || partial.is_none() {
            return Ok(());
        }
        let widget = match widget_kids.first() {
            Some(&w) => Some(w),
            None if dict.has_name(b"Subtype", b"Widget") || dict.get(b"Rect").is_some() => Some(r),
            None => None,
        };
        let wdict = match widget {
            Some(w) if w == r => Some(dict.clone()),
            Some(w) => Some(self.get_dict(w, "a widget annotation")?),
            None => None,
        };
        let rect = wdict
            .as_ref()
            .and_then(|w| w.get(b"Rect"))
            .and_then(|o| self.rect_of(o));
        let page = match (
            widget,
            wdict
                .as_ref()
                .and_then(|w| w.get(b"P"))
                .and_then(Object::as_reference),
        ) {
            (_, Some(p)) => self.page_number(p)?,
            (Some(w), None) => self.page_with_annot(w)?,
            (None, None) => None,
        };
        let v = dict.get(b"V");
        out.push(SignatureField {
            name,
            field: r,
            value: v.and_then(Object::as_reference),
            page,
            rect,
            widget,
            signed: v.is_some_and(|v| !matches!(v, Object::Null)),
        });
        Ok(())
    }

    /// The page whose `/Annots` lists `annot` (used when a widget has no `/P`).
    ///
    /// The pages are scanned once for all fields (each call goes on where the last one
    /// stopped), not once per field: that took fields x pages object reads. The entries read
    /// are bounded by `MAX_ANNOT_ENTRIES`.
    fn page_with_annot(&self, annot: ObjRef) -> Result<Option<usize>> {
        let mut scan = self.annot_pages.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&page) = scan.map.get(&annot) {
            return Ok(Some(page));
        }
        let refs = self.page_refs()?;
        while let Some(&p) = refs.get(scan.next) {
            let number = scan.next + 1;
            let page = self.get_dict(p, "a page")?;
            if let Some(a) = page.get(b"Annots")
                && let Object::Array(items) = self.resolve(a)?
            {
                scan.entries = scan.entries.saturating_add(items.len());
                if scan.entries > MAX_ANNOT_ENTRIES {
                    return Err(PdfError::LimitExceeded {
                        what: "annotation entries in the pages' /Annots",
                        limit: MAX_ANNOT_ENTRIES as u64,
                    });
                }
                for r in items.iter().filter_map(Object::as_reference) {
                    scan.map.entry(r).or_insert(number);
                }
            }
            scan.next += 1;
            if scan.map.get(&annot) == Some(&number) {
                return Ok(Some(number));
            }
        }
        Ok(None)
    }

    /// DocMDP permission level (1..=3) if the catalog's `/Perms /DocMDP` is present.
    pub fn certification(&self) -> Result<Option<u8>> {
        let (_, cat) = self.catalog()?;
        let Some(perms) = cat.get(b"Perms") else {
            return Ok(None);
        };
        let perms = self.resolve_dict(perms, "/Perms")?;
        let Some(sig) = perms.get(b"DocMDP") else {
            return Ok(None);
        };
        let sig = self.resolve_dict(sig, "/Perms /DocMDP")?;
        Ok(Some(self.docmdp_level(&sig)?.unwrap_or(2)))
    }

    /// The `/P` of a DocMDP `/Reference` in a signature dictionary (2 when absent).
    pub(crate) fn docmdp_level(&self, sig: &Dict) -> Result<Option<u8>> {
        let Some(refs) = sig.get(b"Reference") else {
            return Ok(None);
        };
        let Object::Array(refs) = self.resolve(refs)? else {
            return Ok(None);
        };
        for r in refs.iter().take(64) {
            let d = self.resolve_dict(r, "a signature reference")?;
            if !d.has_name(b"TransformMethod", b"DocMDP") {
                continue;
            }
            let p = match d.get(b"TransformParams") {
                Some(tp) => self
                    .resolve_dict(tp, "/TransformParams")?
                    .get(b"P")
                    .and_then(Object::as_i64),
                None => None,
            };
            return Ok(Some(p.map_or(2, |p| p.clamp(1, 3) as u8)));
        }
        Ok(None)
    }
}

/// Every filled signature field with its signature dictionary.
///
/// A field whose value cannot be read (not a dictionary, a direct dictionary, an object that
/// does not parse) is still listed, with `problem` saying why: a verifier must report every
/// signed field, broken ones included. An `Err` means the field tree itself cannot be read.
pub fn signatures(doc: &Document) -> Result<Vec<FoundSignature>> {
    let mut out = Vec::new();
    for f in doc.signature_fields()? {
        if !f.signed {
            continue;
        }
        let broken = |sig_ref: ObjRef, why: String| FoundSignature {
            field_name: f.name.clone(),
            sig_ref,
            problem: Some(why),
            ..FoundSignature::default()
        };
        let Some(v) = f.value else {
            out.push(broken(
                ObjRef::new(0, 0),
                "the signature value is not an indirect dictionary".into(),
            ));
            continue;
        };
        let (obj, span) = match doc.get_with_contents_span(v) {
            Ok(x) => x,
            Err(e) => {
                out.push(broken(v, format!("the signature dictionary cannot be read: {e}")));
                continue;
            }
        };
        let Object::Dict(d) = obj else {
            out.push(broken(v, "the signature value is not a dictionary".into()));
            continue;
        };
        let text = |k: &[u8]| d.get(k).and_then(Object::as_bytes).map(decode_text);
        let byte_range = match d.get(b"ByteRange") {
            Some(Object::Array(a)) => {
                let nums: Vec<i64> = a.iter().filter_map(Object::as_i64).collect();
                if nums.len() == a.len() { Ok(nums) } else { Err("/ByteRange holds something other than integers") }
            }
            Some(_) => Err("/ByteRange is not a direct array"),
            None => Err("the signature dictionary has no /ByteRange"),
        };
        let contents = match d.get(b"Contents") {
            Some(Object::String(b)) => Ok(b.clone()),
            Some(_) => Err("/Contents is not a direct string"),
            None => Err("the signature dictionary has no /Contents"),
        };
        let problem = match (&byte_range, &contents) {
            (Err(e), _) | (_, Err(e)) => Some((*e).to_string()),
            _ if contents.as_ref().is_ok_and(|c| c.is_empty()) => Some("/Contents is empty".to_string()),
            _ => None,
        };
        out.push(FoundSignature {
            field_name: f.name,
            sub_filter: d
                .get(b"SubFilter")
                .and_then(Object::as_name)
                .unwrap_or_default()
                .to_vec(),
            is_doc_timestamp: d.has_name(b"Type", b"DocTimeStamp"),
            byte_range: byte_range.unwrap_or_default(),
            contents: contents.unwrap_or_default(),
            contents_span: span.unwrap_or((0, 0)),
            certify: doc.docmdp_level(&d).ok().flatten(),
            signing_time_text: d
                .get(b"M")
                .and_then(Object::as_bytes)
                .map(|b| String::from_utf8_lossy(b).into_owned()),
            reason: text(b"Reason"),
            location: text(b"Location"),
            sig_ref: v,
            problem,
        });
    }
    Ok(out)
}
