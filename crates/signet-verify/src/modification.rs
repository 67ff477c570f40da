//! What changed after each signature: the document's revisions are diffed object by object,
//! every change is classified (DSS and document time-stamps, metadata, signatures, form
//! filling, annotations, anything else), and each change is judged against DocMDP, FieldMDP
//! locks and the strict default policy below.
//!
//! The diff is done per step (revision i-1 → i), each side opened as its own [`Document`]
//! over a [`Prefix`] of the file, so a change is judged against the state of the document
//! just before it and reported with the revision that introduced it.
//!
//! Strict default policy (beyond ISO 32000 DocMDP):
//! - anything that can alter what a signer saw is never permitted: page content, resources,
//!   page-tree or catalog changes, pages added or removed, rewritten streams or fonts,
//!   objects deleted or brought back from the free list, signature dictionaries changed,
//!   widgets moved or covering most of a page, bytes appended outside any revision;
//! - annotations: only `/Text`, `/Popup` and `/Link` may be added or changed, and only when
//!   no certification forbids it (P=1, P=2); every other subtype can paint over the page
//!   (Evil Annotation attack) and is refused;
//! - new signature fields: permitted on an uncertified document; on a certified one only
//!   invisible ones (a visible one can paint over content: Sneaky Signature attack) — signing
//!   a field the certifier created is permitted;
//! - form filling: permitted unless P=1 or the field is locked by a FieldMDP signature; an
//!   appearance stream may be rewritten only if nothing else in the document uses it.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use signet_pdf::{Dict, Document, ObjRef, Object, PdfError, Prefix, Source, XrefEntry};

/// Most revisions whose changes are analysed; a file with more is refused (fail closed).
pub const MAX_REVISIONS_ANALYSED: usize = 200;
/// Most objects read when checking that a rewritten appearance stream is not shared.
const MAX_REFERENCE_SCAN: usize = 200_000;
/// Most form fields and annotations indexed per revision.
const MAX_INDEXED: usize = 100_000;
/// A widget or annotation covering at least this share of its page "covers the page".
const PAGE_COVER_SHARE: f64 = 0.5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// DSS updates and document time-stamps (always permitted).
    Dss,
    /// Document information, XMP metadata, PDF version/extensions.
    Metadata,
    /// Signatures added (a pre-created field signed, a new signature field).
    Signature,
    FormFill,
    Annotation,
    Other,
}

/// What changed (a stable code; the CLI turns it into text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    DssUpdated,
    DocumentTimestampAdded,
    MetadataChanged,
    SignatureAdded,
    SignatureFieldAdded,
    EmptySignatureFieldAdded,
    FormFilled,
    AnnotationAdded,
    AnnotationChanged,
    AnnotationRemoved,
    PagesAddedOrRemoved,
    PageChanged,
    PageTreeChanged,
    CatalogChanged,
    RootReplaced,
    FormSettingsChanged,
    FormFieldAdded,
    FormFieldRemoved,
    FieldChanged,
    WidgetChanged,
    CoversPage,
    SignatureDictionaryChanged,
    SignatureValueReplaced,
    ObjectChanged,
    ObjectDeleted,
    FreedObjectReused,
    MissingObjectDefined,
    UnreadableRevision,
    BytesOutsideRevisions,
}

/// Why a change is not permitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// DocMDP P=1: no change at all besides DSS and document time-stamps.
    CertifiedNoChanges,
    /// DocMDP P=2: no annotations.
    CertifiedNoAnnotations,
    /// An annotation type that can paint over the page.
    OverlayAnnotation,
    /// A visible signature field added to a certified document.
    VisibleFieldOnCertified,
    /// A field locked by a FieldMDP signature.
    FieldLocked,
    /// Never permitted: it can change what the signer saw.
    AltersSignedContent,
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// 1-based revision that made the change.
    pub revision: usize,
    pub category: Category,
    pub kind: ChangeKind,
    pub permitted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Refusal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// English description (the CLI prints a translated one from `kind`).
    pub detail: String,
}

impl Change {
    fn new(revision: usize, category: Category, kind: ChangeKind, detail: impl Into<String>) -> Self {
        Change {
            revision,
            category,
            kind,
            permitted: true,
            refusal: None,
            field: None,
            page: None,
            object: None,
            subtype: None,
            key: None,
            detail: detail.into(),
        }
    }
    fn other(revision: usize, kind: ChangeKind, detail: impl Into<String>) -> Self {
        Self::new(revision, Category::Other, kind, detail)
    }
    fn field(mut self, f: &str) -> Self {
        self.field = Some(f.to_string());
        self
    }
    fn page(mut self, p: Option<usize>) -> Self {
        self.page = p;
        self
    }
    fn object(mut self, n: u32) -> Self {
        self.object = Some(n);
        self
    }
    fn subtype(mut self, s: &[u8]) -> Self {
        self.subtype = Some(String::from_utf8_lossy(s).into_owned());
        self
    }
    fn key(mut self, k: &[u8]) -> Self {
        self.key = Some(String::from_utf8_lossy(k).into_owned());
        self
    }
    /// Whether a new or changed annotation may paint over the page.
    fn overlay(&self) -> bool {
        !matches!(self.subtype.as_deref(), Some("Text" | "Popup" | "Link"))
    }
    /// Whether this new signature field shows something on a page.
    fn visible(&self) -> bool {
        self.page.is_some()
    }
}

/// "None" / "Permitted" / "NotPermitted" as in the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    None,
    Permitted,
    NotPermitted,
}

/// What a signature's permissions add to the policy.
#[derive(Debug, Clone, Default)]
pub struct SignatureScope {
    /// 1-based revision the signature covers.
    pub revision: usize,
    /// DocMDP P when it certifies.
    pub certify: Option<u8>,
    /// FieldMDP lock of the signature, if any.
    pub lock: Option<Lock>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lock {
    All,
    Include(Vec<String>),
    Exclude(Vec<String>),
}

impl Lock {
    fn locks(&self, field: &str) -> bool {
        let named = |names: &[String]| names.iter().any(|n| n == field || field.starts_with(&format!("{n}.")));
        match self {
            Lock::All => true,
            Lock::Include(names) => named(names),
            Lock::Exclude(names) => !named(names),
        }
    }
}

/// Reads the FieldMDP lock from a signature dictionary's `/Reference` array.
pub fn fieldmdp_lock(doc: &Document<'_>, sig: &Dict) -> Option<Lock> {
    let refs = doc.resolve(sig.get(b"Reference")?).ok()?;
    for r in refs.as_array()?.iter().take(64) {
        let d = doc.resolve(r).ok()?;
        let d = d.as_dict()?;
        if !d.has_name(b"TransformMethod", b"FieldMDP") {
            continue;
        }
        let tp = doc.resolve(d.get(b"TransformParams")?).ok()?;
        let tp = tp.as_dict()?;
        let names: Vec<String> = tp
            .get(b"Fields")
            .and_then(|f| doc.resolve(f).ok())
            .and_then(|f| f.as_array().map(|a| a.iter().filter_map(|x| x.as_bytes().map(signet_pdf::decode_text)).collect()))
            .unwrap_or_default();
        return match tp.get(b"Action").and_then(Object::as_name) {
            Some(b"All") => Some(Lock::All),
            Some(b"Include") => Some(Lock::Include(names)),
            Some(b"Exclude") => Some(Lock::Exclude(names)),
            _ => Some(Lock::All),
        };
    }
    None
}

/// The changes of every revision after `first` (1-based), judged.
pub fn analyse(src: &dyn Source, ends: &[u64], first: usize, scopes: &[SignatureScope]) -> Vec<Change> {
    let mut changes = Vec::new();
    if first == 0 || first > ends.len() {
        return changes;
    }
    let last = ends.len();
    if last - first > MAX_REVISIONS_ANALYSED {
        changes.push(Change::other(
            first + 1,
            ChangeKind::UnreadableRevision,
            format!("the document has {} revisions after the first signature, more than the {MAX_REVISIONS_ANALYSED} analysed", last - first),
        ));
    } else {
        let prefixes: Vec<Prefix<'_>> = ends.iter().map(|&len| Prefix { src, len }).collect();
        let mut old = Document::open(&prefixes[first - 1]).map_err(|e| e.to_string());
        for rev in first + 1..=last {
            let new = Document::open(&prefixes[rev - 1]).map_err(|e| e.to_string());
            match (&old, &new) {
                (Ok(o), Ok(n)) => diff_step(o, n, rev, &mut changes),
                (_, Err(e)) | (Err(e), _) => changes.push(Change::other(
                    rev,
                    ChangeKind::UnreadableRevision,
                    format!("revision {rev} cannot be compared with the one before: {e}"),
                )),
            }
            old = new;
        }
    }
    if let Some(end) = ends.last()
        && let Some(why) = bytes_after(src, *end)
    {
        changes.push(Change::other(last + 1, ChangeKind::BytesOutsideRevisions, why));
    }
    for c in &mut changes {
        judge(c, scopes);
    }
    changes
}

/// The verdict of the changes made after revision `rev`.
pub fn verdict_after(changes: &[Change], rev: usize) -> Verdict {
    changes.iter().filter(|c| c.revision > rev).fold(Verdict::None, |v, c| {
        v.max(if c.permitted { Verdict::Permitted } else { Verdict::NotPermitted })
    })
}

/// Non-whitespace bytes after the last revision (appended without an xref section: a viewer
/// that reconstructs the xref would read them).
fn bytes_after(src: &dyn Source, end: u64) -> Option<String> {
    let len = src.len();
    if end >= len {
        return None;
    }
    let mut junk = false;
    if signet_pdf::for_each_chunk(src, end, len, |c| junk |= c.iter().any(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | 0))).is_err() {
        junk = true;
    }
    junk.then(|| format!("{} bytes follow the last revision's %%EOF without a cross-reference section", len - end))
}

fn judge(c: &mut Change, scopes: &[SignatureScope]) {
    // DocMDP in force: a certifying signature that covers an earlier revision.
    let p = scopes
        .iter()
        .filter(|s| s.revision < c.revision)
        .filter_map(|s| s.certify)
        .min();
    let locked = c.field.as_deref().is_some_and(|f| {
        scopes
            .iter()
            .filter(|s| s.revision < c.revision)
            .any(|s| s.lock.as_ref().is_some_and(|l| l.locks(f)))
    });
    let refusal = match c.category {
        Category::Dss | Category::Metadata => None,
        Category::Other => Some(Refusal::AltersSignedContent),
        _ if p == Some(1) => Some(Refusal::CertifiedNoChanges),
        Category::Signature => {
            if locked && c.kind == ChangeKind::SignatureAdded {
                Some(Refusal::FieldLocked)
            } else if p.is_some() && c.kind != ChangeKind::SignatureAdded && c.visible() {
                Some(Refusal::VisibleFieldOnCertified)
            } else {
                None
            }
        }
        Category::FormFill => locked.then_some(Refusal::FieldLocked),
        Category::Annotation => {
            if p == Some(2) {
                Some(Refusal::CertifiedNoAnnotations)
            } else if c.overlay() && c.kind != ChangeKind::AnnotationRemoved {
                Some(Refusal::OverlayAnnotation)
            } else if c.kind == ChangeKind::AnnotationRemoved {
                Some(Refusal::AltersSignedContent)
            } else {
                None
            }
        }
    };
    c.permitted = refusal.is_none();
    c.refusal = refusal;
}

/// What each object of one revision is, for classifying changes to it.
#[derive(Default)]
struct Roles {
    catalog: Option<ObjRef>,
    acroform: Option<ObjRef>,
    info: Option<ObjRef>,
    metadata: Option<ObjRef>,
    /// Page leaf → 1-based number.
    pages: HashMap<u32, usize>,
    page_list: Vec<ObjRef>,
    page_nodes: HashSet<u32>,
    /// Indirect `/Annots` arrays → page.
    annots_arrays: HashMap<u32, usize>,
    /// Annotation → (page, subtype).
    annots: HashMap<u32, (usize, Vec<u8>)>,
    /// Field dictionary → (full name, field type).
    fields: HashMap<u32, (String, Vec<u8>)>,
    /// Widget (not merged with its field) → field number.
    widgets: HashMap<u32, u32>,
    /// Signature dictionaries (the `/V` of signed fields) → field name.
    sig_dicts: HashMap<u32, String>,
    dss: HashSet<u32>,
}

fn index(doc: &Document<'_>) -> Result<Roles, PdfError> {
    let mut r = Roles::default();
    let trailer = doc.trailer();
    r.info = trailer.get(b"Info").and_then(Object::as_reference);
    let (cat_ref, cat) = doc.catalog()?;
    r.catalog = Some(cat_ref);
    r.metadata = cat.get(b"Metadata").and_then(Object::as_reference);
    r.page_list = doc.page_refs()?.to_vec();
    for (i, p) in r.page_list.iter().enumerate() {
        r.pages.insert(p.num, i + 1);
    }
    if let Some(root) = cat.get(b"Pages").and_then(Object::as_reference) {
        collect_page_nodes(doc, root, &mut r.page_nodes)?;
    }
    for (i, p) in r.page_list.clone().iter().enumerate() {
        let page = doc.get(*p)?;
        let Some(a) = page.as_dict().and_then(|d| d.get(b"Annots")) else { continue };
        if let Some(ar) = a.as_reference() {
            r.annots_arrays.insert(ar.num, i + 1);
        }
        if let Object::Array(items) = doc.resolve(a)? {
            for it in items.iter().filter_map(Object::as_reference) {
                if r.annots.len() >= MAX_INDEXED {
                    return Err(PdfError::LimitExceeded { what: "annotations indexed", limit: MAX_INDEXED as u64 });
                }
                let sub = doc.get(it).ok().and_then(|o| o.as_dict().and_then(|d| d.get(b"Subtype")).and_then(Object::as_name).map(<[u8]>::to_vec));
                r.annots.insert(it.num, (i + 1, sub.unwrap_or_default()));
            }
        }
    }
    if let Some(f) = cat.get(b"AcroForm") {
        r.acroform = f.as_reference();
        if let Object::Dict(form) = doc.resolve(f)?
            && let Some(fields) = form.get(b"Fields")
            && let Object::Array(fields) = doc.resolve(fields)?
        {
            let mut seen = HashSet::new();
            for f in fields.iter().filter_map(Object::as_reference) {
                index_field(doc, f, "", None, 0, &mut seen, &mut r)?;
            }
        }
    }
    if let Some(d) = cat.get(b"DSS") {
        r.dss = reachable_from(doc, d, &HashSet::new())?;
    }
    Ok(r)
}

fn collect_page_nodes(doc: &Document<'_>, r: ObjRef, out: &mut HashSet<u32>) -> Result<(), PdfError> {
    let mut stack = vec![(r, 0usize)];
    while let Some((n, depth)) = stack.pop() {
        if depth > 64 || out.len() > signet_pdf::MAX_PAGES || !out.insert(n.num) {
            continue;
        }
        let node = doc.get(n)?;
        let Some(d) = node.as_dict() else { continue };
        if d.has_name(b"Type", b"Page") {
            out.remove(&n.num);
            continue;
        }
        match d.get(b"Kids").map(|k| doc.resolve(k)).transpose()? {
            Some(Object::Array(kids)) => stack.extend(kids.iter().filter_map(Object::as_reference).map(|k| (k, depth + 1))),
            _ => {
                out.remove(&n.num);
            }
        }
    }
    Ok(())
}

fn index_field(
    doc: &Document<'_>,
    f: ObjRef,
    parent: &str,
    parent_ft: Option<&[u8]>,
    depth: usize,
    seen: &mut HashSet<u32>,
    r: &mut Roles,
) -> Result<(), PdfError> {
    if depth > 32 || !seen.insert(f.num) || seen.len() > MAX_INDEXED {
        return Ok(());
    }
    let Object::Dict(d) = doc.get(f)? else { return Ok(()) };
    let partial = d.get(b"T").and_then(Object::as_bytes).map(signet_pdf::decode_text);
    if partial.is_none() && d.has_name(b"Subtype", b"Widget") && depth > 0 {
        return Ok(()); // a widget kid, handled by its parent
    }
    let name = match (&partial, parent.is_empty()) {
        (Some(t), true) => t.clone(),
        (Some(t), false) => format!("{parent}.{t}"),
        (None, _) => parent.to_string(),
    };
    let ft = d.get(b"FT").and_then(Object::as_name).or(parent_ft).map(<[u8]>::to_vec);
    r.fields.insert(f.num, (name.clone(), ft.clone().unwrap_or_default()));
    if ft.as_deref() == Some(b"Sig")
        && let Some(v) = d.get(b"V").and_then(Object::as_reference)
    {
        r.sig_dicts.insert(v.num, name.clone());
    }
    if let Some(kids) = d.get(b"Kids").map(|k| doc.resolve(k)).transpose()?
        && let Object::Array(kids) = kids
    {
        for k in kids.iter().filter_map(Object::as_reference) {
            let kd = doc.get(k)?;
            let is_widget = kd.as_dict().is_some_and(|x| x.get(b"T").is_none());
            if is_widget {
                r.widgets.insert(k.num, f.num);
            } else {
                index_field(doc, k, &name, ft.as_deref(), depth + 1, seen, r)?;
            }
        }
    }
    Ok(())
}

/// Keys whose values differ between two dictionaries (compared as maps).
fn changed_keys(a: &Dict, b: &Dict) -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = Vec::new();
    for (k, v) in a.iter() {
        if !b.get(k).is_some_and(|w| same(v, w)) {
            keys.push(k.to_vec());
        }
    }
    for (k, _) in b.iter() {
        if a.get(k).is_none() {
            keys.push(k.to_vec());
        }
    }
    keys
}

/// Equality of PDF objects with dictionaries compared as maps.
fn same(a: &Object, b: &Object) -> bool {
    match (a, b) {
        (Object::Dict(x), Object::Dict(y)) => x.len() == y.len() && changed_keys(x, y).is_empty(),
        (Object::Stream(x), Object::Stream(y)) => x.data == y.data && x.dict.len() == y.dict.len() && changed_keys(&x.dict, &y.dict).is_empty(),
        (Object::Array(x), Object::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Object::Integer(i), Object::Real(r)) | (Object::Real(r), Object::Integer(i)) => (*i as f64) == *r,
        _ => a == b,
    }
}

fn get_entry(doc: &Document<'_>, num: u32) -> Option<Result<Object, PdfError>> {
    let r = match doc.xref_entry(num)? {
        XrefEntry::Free => return None,
        XrefEntry::InFile { r#gen, .. } => ObjRef::new(num, r#gen),
        XrefEntry::InStream { .. } => ObjRef::new(num, 0),
    };
    Some(doc.get(r))
}

fn is_structural(o: &Object) -> bool {
    o.as_dict().is_some_and(|d| d.has_name(b"Type", b"XRef") || d.has_name(b"Type", b"ObjStm"))
}

fn refs_in(o: &Object) -> Vec<ObjRef> {
    match o {
        Object::Array(a) => a.iter().filter_map(Object::as_reference).collect(),
        _ => Vec::new(),
    }
}

/// Diffs revision `rev` (in `new`) against the one before (in `old`).
fn diff_step(old: &Document<'_>, new: &Document<'_>, rev: usize, out: &mut Vec<Change>) {
    // What was found before the failure stays listed: each finding is true on its own.
    if let Err(e) = diff_step_inner(old, new, rev, out) {
        out.push(Change::other(rev, ChangeKind::UnreadableRevision, format!("the changes of revision {rev} cannot be analysed: {e}")));
    }
}

fn diff_step_inner(old: &Document<'_>, new: &Document<'_>, rev: usize, out: &mut Vec<Change>) -> Result<(), PdfError> {

    // Which object numbers changed: entries that differ, plus members of rewritten object
    // streams (their entries stay the same while their bytes change).
    let mut changed: Vec<u32> = Vec::new();
    for (num, e) in new.xref_entries() {
        if old.xref_entry(num) != Some(e) {
            changed.push(num);
        }
    }
    for (num, e) in old.xref_entries() {
        if matches!(e, XrefEntry::InFile { .. } | XrefEntry::InStream { .. }) && matches!(new.xref_entry(num), None | Some(XrefEntry::Free)) && num != 0 {
            out.push(Change::other(rev, ChangeKind::ObjectDeleted, format!("object {num} of the signed revision was deleted")).object(num));
        }
    }
    let rewritten_streams: HashSet<u32> = changed.iter().copied().filter(|n| matches!(old.xref_entry(*n), Some(XrefEntry::InFile { .. }))).collect();
    for (num, e) in old.xref_entries() {
        if let XrefEntry::InStream { stream, .. } = e
            && rewritten_streams.contains(&stream)
            && !changed.contains(&num)
        {
            changed.push(num);
        }
    }
    changed.sort_unstable();
    changed.dedup();
    let ro = index(old)?;
    let rn = index(new)?;

    if ro.catalog != rn.catalog {
        out.push(Change::other(rev, ChangeKind::RootReplaced, "the document catalog (/Root) was replaced"));
        return Ok(());
    }
    if ro.info != rn.info {
        out.push(Change::new(rev, Category::Metadata, ChangeKind::MetadataChanged, "the document information dictionary was replaced"));
    }
    if ro.page_list != rn.page_list {
        out.push(Change::other(
            rev,
            ChangeKind::PagesAddedOrRemoved,
            format!("the pages changed: {} before, {} now", ro.page_list.len(), rn.page_list.len()),
        ));
    }

    let mut ctx = Step {
        old,
        new,
        ro: &ro,
        rn: &rn,
        rev,
        out,
        filled: HashSet::new(),
        appearance_of_filled: HashSet::new(),
        unclaimed: Vec::new(),
        ap_replaced: Vec::new(),
        dss_rewrites: Vec::new(),
    };
    for num in changed {
        let old_e = old.xref_entry(num);
        let Some(new_obj) = get_entry(new, num) else { continue };
        let new_obj = new_obj?;
        match old_e {
            // A number the signed revision did not use but counted (below its /Size): writers
            // number new objects from /Size up, and a reference to a missing object reads as
            // null — defining it later would change what an unchanged object shows.
            None if num < old.size() && !is_structural(&new_obj) => {
                ctx.out.push(
                    Change::other(rev, ChangeKind::MissingObjectDefined, format!("object {num}, numbered within the signed revision but not defined there, was defined"))
                        .object(num),
                );
                continue;
            }
            None => continue, // a new object: judged through what refers to it
            Some(XrefEntry::Free) => {
                if num != 0 && !is_structural(&new_obj) {
                    ctx.out.push(Change::other(rev, ChangeKind::FreedObjectReused, format!("object {num}, free in the signed revision, was brought back into use")).object(num));
                }
                continue;
            }
            Some(_) => {}
        }
        let Some(old_obj) = get_entry(old, num) else { continue };
        let old_obj = old_obj?;
        if same(&old_obj, &new_obj) || (is_structural(&old_obj) && is_structural(&new_obj)) {
            continue;
        }
        ctx.classify(num, &old_obj, &new_obj)?;
    }
    ctx.check_unclaimed()?;
    ctx.check_dss_rewrites()?;
    Ok(())
}

struct Step<'s, 'a> {
    old: &'s Document<'a>,
    new: &'s Document<'a>,
    ro: &'s Roles,
    rn: &'s Roles,
    rev: usize,
    out: &'s mut Vec<Change>,
    /// Fields and widgets (by number) whose value or appearance legitimately changed here.
    filled: HashSet<u32>,
    /// Objects of the appearances of those fields in the signed revision.
    appearance_of_filled: HashSet<u32>,
    /// Objects of the signed revision rewritten in place that no role explains; permitted
    /// only as the appearance of a filled field that nothing else uses.
    unclaimed: Vec<u32>,
    /// Old appearance objects a filled widget stopped pointing at; refused when something
    /// else in the signed revision also uses them (pyHanko's rule, kept: fail closed).
    ap_replaced: Vec<u32>,
    /// Objects of the signed revision's DSS rewritten in place.
    dss_rewrites: Vec<u32>,
}

impl Step<'_, '_> {
    fn push(&mut self, c: Change) {
        self.out.push(c);
    }

    fn classify(&mut self, num: u32, old: &Object, new: &Object) -> Result<(), PdfError> {
        let rev = self.rev;
        let (od, nd) = (old.as_dict(), new.as_dict());
        let (Some(od), Some(nd)) = (od, nd) else {
            // Arrays and scalars: an /Annots array or a field's /Kids.
            if let Some(&page) = self.ro.annots_arrays.get(&num) {
                self.direct_annots(page, old, new);
                return self.annots_diff(page, &refs_in(old), &refs_in(new));
            }
            if self.ro.dss.contains(&num) {
                self.dss_rewrites.push(num);
                self.push(Change::new(rev, Category::Dss, ChangeKind::DssUpdated, "the DSS was updated").object(num));
                return Ok(());
            }
            self.push(Change::other(rev, ChangeKind::ObjectChanged, format!("object {num} of the signed revision was rewritten")).object(num));
            return Ok(());
        };
        if Some(num) == self.ro.catalog.map(|r| r.num) {
            return self.catalog_diff(od, nd);
        }
        if Some(num) == self.ro.acroform.map(|r| r.num) {
            return self.form_diff(od, nd);
        }
        if Some(num) == self.ro.info.map(|r| r.num) || Some(num) == self.ro.metadata.map(|r| r.num) {
            self.push(Change::new(rev, Category::Metadata, ChangeKind::MetadataChanged, "the document metadata was updated").object(num));
            return Ok(());
        }
        if self.ro.dss.contains(&num) {
            // Checked at the end: an object the DSS shares with the rest of the document (say,
            // a page's content stream listed in it before signing) is not validation data.
            self.dss_rewrites.push(num);
            self.push(Change::new(rev, Category::Dss, ChangeKind::DssUpdated, "the DSS was updated").object(num));
            return Ok(());
        }
        if let Some(field) = self.ro.sig_dicts.get(&num) {
            let c = Change::other(rev, ChangeKind::SignatureDictionaryChanged, format!("the signature dictionary of field {field:?} was changed")).field(field).object(num);
            self.push(c);
            return Ok(());
        }
        if self.ro.page_nodes.contains(&num) {
            for k in changed_keys(od, nd) {
                let c = Change::other(rev, ChangeKind::PageTreeChanged, "a node of the page tree was changed").object(num).key(&k);
                self.push(c);
            }
            return Ok(());
        }
        if let Some(&page) = self.ro.pages.get(&num) {
            for k in changed_keys(od, nd) {
                if k == b"Annots" {
                    let a = od.get(b"Annots").map(|a| self.old.resolve(a)).transpose()?.unwrap_or(Object::Null);
                    let b = nd.get(b"Annots").map(|a| self.new.resolve(a)).transpose()?.unwrap_or(Object::Null);
                    self.direct_annots(page, &a, &b);
                    self.annots_diff(page, &refs_in(&a), &refs_in(&b))?;
                } else {
                    let c = Change::other(rev, ChangeKind::PageChanged, format!("page {page} was changed ({})", String::from_utf8_lossy(&k)))
                        .page(Some(page))
                        .object(num)
                        .key(&k);
                    self.push(c);
                }
            }
            return Ok(());
        }
        if let Some((name, ft)) = self.ro.fields.get(&num).cloned() {
            return self.field_diff(num, &name, &ft, od, nd);
        }
        if let Some(&field) = self.ro.widgets.get(&num) {
            return self.widget_diff(num, Some(field), od, nd);
        }
        if let Some((page, sub)) = self.ro.annots.get(&num).cloned() {
            if sub == b"Widget" {
                return self.widget_diff(num, None, od, nd);
            }
            let c = Change::new(rev, Category::Annotation, ChangeKind::AnnotationChanged, format!("a /{} annotation on page {page} was changed", String::from_utf8_lossy(&sub)))
                .page(Some(page))
                .object(num)
                .subtype(&sub);
            self.push(c);
            return Ok(());
        }
        // Maybe an appearance rewritten by a form fill: decided once all fields are seen.
        self.unclaimed.push(num);
        Ok(())
    }

    fn catalog_diff(&mut self, od: &Dict, nd: &Dict) -> Result<(), PdfError> {
        let rev = self.rev;
        for k in changed_keys(od, nd) {
            match k.as_slice() {
                b"DSS" => self.push(Change::new(rev, Category::Dss, ChangeKind::DssUpdated, "the DSS was added or replaced")),
                // Version, extensions, XMP and applications' private data (/PieceInfo) draw nothing.
                b"Extensions" | b"Version" | b"Metadata" | b"PieceInfo" => {
                    let c = Change::new(rev, Category::Metadata, ChangeKind::MetadataChanged, "the catalog's version or metadata entry was updated").key(&k);
                    self.push(c);
                }
                b"AcroForm" => {
                    let a = od.get(b"AcroForm").map(|x| self.old.resolve(x)).transpose()?;
                    let b = nd.get(b"AcroForm").map(|x| self.new.resolve(x)).transpose()?;
                    match (a.as_ref().and_then(Object::as_dict), b.as_ref().and_then(Object::as_dict)) {
                        (Some(a), Some(b)) => self.form_diff(&a.clone(), &b.clone())?,
                        (None, Some(b)) => self.form_diff(&Dict::new(), &b.clone())?,
                        _ => self.push(Change::other(rev, ChangeKind::FormSettingsChanged, "the form (/AcroForm) was removed")),
                    }
                }
                _ => {
                    let c = Change::other(rev, ChangeKind::CatalogChanged, format!("the document catalog's /{} was changed", String::from_utf8_lossy(&k))).key(&k);
                    self.push(c);
                }
            }
        }
        Ok(())
    }

    fn form_diff(&mut self, od: &Dict, nd: &Dict) -> Result<(), PdfError> {
        let rev = self.rev;
        for k in changed_keys(od, nd) {
            match k.as_slice() {
                b"SigFlags" => {}
                b"Fields" => {
                    let a = od.get(b"Fields").map(|x| self.old.resolve(x)).transpose()?.unwrap_or(Object::Null);
                    let b = nd.get(b"Fields").map(|x| self.new.resolve(x)).transpose()?.unwrap_or(Object::Null);
                    self.fields_diff(&refs_in(&a), &refs_in(&b))?;
                }
                // Resources and defaults for the appearance of new fields: additions are
                // harmless (nothing drawn before uses them); changes are not.
                b"DR" | b"DA" if only_additions(self.old, od.get(&k), self.new, nd.get(&k), 0) => {}
                _ => {
                    let c = Change::other(rev, ChangeKind::FormSettingsChanged, format!("the form's /{} was changed", String::from_utf8_lossy(&k))).key(&k);
                    self.push(c);
                }
            }
        }
        Ok(())
    }

    fn fields_diff(&mut self, old: &[ObjRef], new: &[ObjRef]) -> Result<(), PdfError> {
        let rev = self.rev;
        let newset: HashSet<&ObjRef> = new.iter().collect();
        let oldset: HashSet<&ObjRef> = old.iter().collect();
        for r in old.iter().filter(|r| !newset.contains(r)) {
            let name = self.ro.fields.get(&r.num).map(|f| f.0.clone()).unwrap_or_default();
            self.push(Change::other(rev, ChangeKind::FormFieldRemoved, format!("form field {name:?} was removed")).field(&name).object(r.num));
        }
        for r in new.iter().filter(|r| !oldset.contains(r)) {
            self.field_added(*r)?;
        }
        Ok(())
    }

    /// A field new in this revision (top-level; its kids come with it).
    fn field_added(&mut self, r: ObjRef) -> Result<(), PdfError> {
        let rev = self.rev;
        let (name, ft) = self.rn.fields.get(&r.num).cloned().unwrap_or_default();
        if ft != b"Sig" {
            let c = Change::other(rev, ChangeKind::FormFieldAdded, format!("a new form field {name:?} was added")).field(&name).object(r.num);
            self.push(c);
            return Ok(());
        }
        let d = self.new.get(r)?;
        let d = d.as_dict().cloned().unwrap_or_default();
        let value = d.get(b"V").and_then(Object::as_reference).map(|v| self.new.get(v)).transpose()?;
        let is_ts = value.as_ref().and_then(Object::as_dict).is_some_and(|v| {
            v.has_name(b"Type", b"DocTimeStamp") || v.get(b"SubFilter").and_then(Object::as_name) == Some(b"ETSI.RFC3161")
        });
        // Where its widgets are drawn (visible = a non-empty rectangle on a page).
        let mut widgets = vec![(r, d.clone())];
        if let Some(Object::Array(kids)) = d.get(b"Kids").map(|k| self.new.resolve(k)).transpose()? {
            for k in kids.iter().filter_map(Object::as_reference).take(64) {
                if let Object::Dict(kd) = self.new.get(k)? {
                    widgets.push((k, kd));
                }
            }
        }
        let mut page = None;
        for (wr, w) in &widgets {
            if let Some(area) = self.visible_area(*wr, w)? {
                page = Some(area.0);
                if area.1 >= PAGE_COVER_SHARE {
                    let c = Change::other(rev, ChangeKind::CoversPage, format!("the widget of field {name:?} covers most of page {}", area.0)).field(&name).page(Some(area.0)).object(wr.num);
                    self.push(c);
                }
            }
        }
        let c = if is_ts {
            Change::new(rev, Category::Dss, ChangeKind::DocumentTimestampAdded, "a document time-stamp was added")
        } else if value.is_some() {
            Change::new(rev, Category::Signature, ChangeKind::SignatureFieldAdded, format!("a new signature field {name:?} was added and signed"))
        } else {
            Change::new(rev, Category::Signature, ChangeKind::EmptySignatureFieldAdded, format!("an empty signature field {name:?} was added"))
        };
        let c = c.field(&name).page(page).object(r.num);
        self.push(c);
        Ok(())
    }

    /// The page and the share of its area a widget covers, when it is on a page with a
    /// non-empty rectangle.
    fn visible_area(&self, wr: ObjRef, w: &Dict) -> Result<Option<(usize, f64)>, PdfError> {
        let page = match w.get(b"P").and_then(Object::as_reference) {
            Some(p) => self.rn.pages.get(&p.num).copied(),
            None => self.rn.annots.get(&wr.num).map(|a| a.0),
        };
        let page = page.or_else(|| self.rn.annots.get(&wr.num).map(|a| a.0));
        let Some(page) = page else { return Ok(None) };
        let Some(rect) = w.get(b"Rect").and_then(|r| rect(self.new, r)) else { return Ok(None) };
        let area = (rect[2] - rect[0]).max(0.0) * (rect[3] - rect[1]).max(0.0);
        if area <= 0.0 {
            return Ok(None);
        }
        let pb = self.new.page_box(page)?;
        let page_area = ((pb[2] - pb[0]) * (pb[3] - pb[1])).abs().max(1.0);
        // Only the part inside the page counts.
        let ix = (rect[2].min(pb[2]) - rect[0].max(pb[0])).max(0.0);
        let iy = (rect[3].min(pb[3]) - rect[1].max(pb[1])).max(0.0);
        Ok(Some((page, (ix * iy) / page_area)))
    }

    /// Annotations written directly in an `/Annots` array (not as references) that the signed
    /// revision did not have: nothing can be said about them but that they may draw.
    fn direct_annots(&mut self, page: usize, old: &Object, new: &Object) {
        let direct = |o: &Object| -> Vec<Object> {
            o.as_array().map(|a| a.iter().filter(|x| x.as_reference().is_none()).cloned().collect()).unwrap_or_default()
        };
        let before = direct(old);
        if direct(new).iter().any(|n| !before.iter().any(|o| same(o, n))) {
            let c = Change::other(self.rev, ChangeKind::PageChanged, format!("page {page} lists a new annotation written in place instead of by reference"))
                .page(Some(page))
                .key(b"Annots");
            self.push(c);
        }
    }

    fn annots_diff(&mut self, page: usize, old: &[ObjRef], new: &[ObjRef]) -> Result<(), PdfError> {
        let rev = self.rev;
        let newset: HashSet<&ObjRef> = new.iter().collect();
        let oldset: HashSet<&ObjRef> = old.iter().collect();
        for r in old.iter().filter(|r| !newset.contains(r)) {
            let sub = self.ro.annots.get(&r.num).map(|a| a.1.clone()).unwrap_or_default();
            let c = Change::new(rev, Category::Annotation, ChangeKind::AnnotationRemoved, format!("an annotation was removed from page {page}")).page(Some(page)).object(r.num).subtype(&sub);
            self.push(c);
        }
        for r in new.iter().filter(|r| !oldset.contains(r)) {
            let Object::Dict(d) = self.new.get(*r)? else {
                self.push(Change::other(rev, ChangeKind::ObjectChanged, format!("page {page} lists an annotation that is not a dictionary")).page(Some(page)));
                continue;
            };
            let sub = d.get(b"Subtype").and_then(Object::as_name).unwrap_or_default().to_vec();
            if sub == b"Widget" {
                // Its field is judged through the form's /Fields; a widget of an existing
                // field (a new appearance for it) or of no field at all is not expected.
                let field = d.get(b"Parent").and_then(Object::as_reference).map(|p| p.num).unwrap_or(r.num);
                let new_field = self.rn.fields.contains_key(&field) && !self.ro.fields.contains_key(&field);
                if !new_field {
                    let c = Change::other(rev, ChangeKind::FormFieldAdded, format!("a widget annotation was added to page {page} outside a new form field")).page(Some(page)).object(r.num);
                    self.push(c);
                }
                continue;
            }
            if let Some((p, share)) = self.visible_area(*r, &d)?
                && share >= PAGE_COVER_SHARE
            {
                let c = Change::other(rev, ChangeKind::CoversPage, format!("a new /{} annotation covers most of page {p}", String::from_utf8_lossy(&sub))).page(Some(p)).object(r.num).subtype(&sub);
                self.push(c);
            }
            let c = Change::new(rev, Category::Annotation, ChangeKind::AnnotationAdded, format!("a /{} annotation was added to page {page}", String::from_utf8_lossy(&sub)))
                .page(Some(page))
                .object(r.num)
                .subtype(&sub);
            self.push(c);
        }
        Ok(())
    }

    fn field_diff(&mut self, num: u32, name: &str, ft: &[u8], od: &Dict, nd: &Dict) -> Result<(), PdfError> {
        let rev = self.rev;
        let keys = changed_keys(od, nd);
        let value_changed = keys.iter().any(|k| k == b"V");
        let merged_widget = od.has_name(b"Subtype", b"Widget") || od.get(b"Rect").is_some();
        let toggled = ft == b"Btn" && keys.iter().any(|k| k == b"AS");
        if value_changed || toggled {
            self.filled.insert(num);
            self.register_appearance(od)?;
            self.appearance_replaced(od, nd)?;
            let kids: Vec<u32> = self.ro.widgets.iter().filter(|(_, f)| **f == num).map(|(w, _)| *w).collect();
            for w in kids {
                self.filled.insert(w);
                if let Some(Ok(Object::Dict(wd))) = get_entry(self.old, w) {
                    self.register_appearance(&wd)?;
                }
            }
        }
        for k in &keys {
            match (k.as_slice(), ft) {
                (b"V", b"Sig") if od.get(b"V").is_none_or(|v| matches!(v, Object::Null)) => {
                    let v = nd.get(b"V").and_then(Object::as_reference).map(|v| self.new.get(v)).transpose()?;
                    let is_ts = v.as_ref().and_then(Object::as_dict).is_some_and(|v| v.has_name(b"Type", b"DocTimeStamp"));
                    let c = if is_ts {
                        Change::new(rev, Category::Dss, ChangeKind::DocumentTimestampAdded, format!("a document time-stamp was put in field {name:?}"))
                    } else {
                        Change::new(rev, Category::Signature, ChangeKind::SignatureAdded, format!("the empty signature field {name:?} was signed"))
                    };
                    let c = c.field(name).object(num);
                    self.push(c);
                }
                (b"V", b"Sig") => {
                    let c = Change::other(rev, ChangeKind::SignatureValueReplaced, format!("the signature in field {name:?} was replaced or removed")).field(name).object(num);
                    self.push(c);
                }
                (b"V", _) => {
                    let c = Change::new(rev, Category::FormFill, ChangeKind::FormFilled, format!("form field {name:?} was filled in")).field(name).object(num);
                    self.push(c);
                }
                // The appearance follows the value; the selected indices of a choice field too.
                (b"AP" | b"AS", _) if value_changed && merged_widget => {}
                (b"I", b"Ch") if value_changed => {}
                (b"AS", b"Btn") => {
                    // A check box or radio button toggled: its state is its value.
                    let c = Change::new(rev, Category::FormFill, ChangeKind::FormFilled, format!("form field {name:?} was toggled")).field(name).object(num);
                    self.push(c);
                }
                (b"Kids", _) => {
                    let a = od.get(b"Kids").map(|x| self.old.resolve(x)).transpose()?.unwrap_or(Object::Null);
                    let b = nd.get(b"Kids").map(|x| self.new.resolve(x)).transpose()?.unwrap_or(Object::Null);
                    let oldset: HashSet<ObjRef> = refs_in(&a).into_iter().collect();
                    let newkids = refs_in(&b);
                    if oldset.iter().any(|r| !newkids.contains(r)) {
                        let c = Change::other(rev, ChangeKind::FormFieldRemoved, format!("a part of form field {name:?} was removed")).field(name).object(num);
                        self.push(c);
                    }
                    for r in newkids.into_iter().filter(|r| !oldset.contains(r)) {
                        self.field_added(r)?;
                    }
                }
                _ => {
                    let c = Change::other(rev, ChangeKind::FieldChanged, format!("form field {name:?} was changed (/{})", String::from_utf8_lossy(k)))
                        .field(name)
                        .object(num)
                        .key(k);
                    self.push(c);
                }
            }
        }
        Ok(())
    }

    fn widget_diff(&mut self, num: u32, field: Option<u32>, od: &Dict, nd: &Dict) -> Result<(), PdfError> {
        let rev = self.rev;
        let field_changed = field.is_some_and(|f| {
            let (Some(Ok(a)), Some(Ok(b))) = (get_entry(self.old, f), get_entry(self.new, f)) else { return false };
            match (a.as_dict(), b.as_dict()) {
                (Some(a), Some(b)) => !a.get(b"V").zip(b.get(b"V")).is_some_and(|(x, y)| same(x, y)) && (a.get(b"V").is_some() || b.get(b"V").is_some()),
                _ => false,
            }
        });
        let ft = field.and_then(|f| self.ro.fields.get(&f)).map(|f| f.1.clone()).unwrap_or_default();
        if field_changed || ft == b"Btn" {
            self.filled.insert(num);
            self.register_appearance(od)?;
            self.appearance_replaced(od, nd)?;
        }
        for k in changed_keys(od, nd) {
            match k.as_slice() {
                b"AP" | b"AS" if field_changed || ft == b"Btn" => {}
                _ => {
                    let name = field.and_then(|f| self.ro.fields.get(&f)).map(|f| f.0.clone()).unwrap_or_default();
                    let page = self.ro.annots.get(&num).map(|a| a.0);
                    let c = Change::other(rev, ChangeKind::WidgetChanged, format!("the widget of form field {name:?} was changed (/{})", String::from_utf8_lossy(&k)))
                        .field(&name)
                        .page(page)
                        .object(num)
                        .key(&k);
                    self.push(c);
                }
            }
        }
        Ok(())
    }

    /// Notes the objects of a widget's appearance in the signed revision (the `/AP`
    /// dictionary, its `/N` `/R` `/D` entries and their states) as rewritable by the fill.
    fn register_appearance(&mut self, widget: &Dict) -> Result<(), PdfError> {
        let objects = self.appearance_objects(widget)?;
        self.appearance_of_filled.extend(objects);
        Ok(())
    }

    /// The objects of a widget's appearance in the signed revision.
    fn appearance_objects(&self, widget: &Dict) -> Result<Vec<u32>, PdfError> {
        let mut out = Vec::new();
        let Some(ap) = widget.get(b"AP") else { return Ok(out) };
        if let Some(r) = ap.as_reference() {
            out.push(r.num);
        }
        let Object::Dict(ap) = self.old.resolve(ap)? else { return Ok(out) };
        for (_, v) in ap.iter() {
            if let Some(r) = v.as_reference() {
                out.push(r.num);
            }
            if let Ok(Object::Dict(states)) = self.old.resolve(v) {
                out.extend(states.iter().filter_map(|(_, s)| s.as_reference()).map(|s| s.num));
            }
        }
        Ok(out)
    }

    /// A filled widget's `/AP` now points elsewhere: remember what it pointed at.
    fn appearance_replaced(&mut self, old_widget: &Dict, new_widget: &Dict) -> Result<(), PdfError> {
        if !old_widget.get(b"AP").zip(new_widget.get(b"AP")).is_some_and(|(a, b)| same(a, b)) {
            let objects = self.appearance_objects(old_widget)?;
            self.ap_replaced.extend(objects);
        }
        Ok(())
    }

    /// Objects rewritten in place that no role explained: permitted only as the appearance of
    /// a field filled here, and only if nothing else in the signed revision reaches them.
    fn check_unclaimed(&mut self) -> Result<(), PdfError> {
        let candidates = self.unclaimed.iter().filter(|n| self.appearance_of_filled.contains(n)).count() + self.ap_replaced.len();
        let shared = if candidates == 0 { HashSet::new() } else { reachable_avoiding(self.old, &self.filled)? };
        let mut replaced = std::mem::take(&mut self.ap_replaced);
        replaced.sort_unstable();
        replaced.dedup();
        for n in replaced.into_iter().filter(|n| shared.contains(n)) {
            let what = format!("a filled field no longer shows object {n}, an appearance the signed revision shares with other parts of the document");
            self.push(Change::other(self.rev, ChangeKind::ObjectChanged, what).object(n));
        }
        for n in std::mem::take(&mut self.unclaimed) {
            let is_ap = self.appearance_of_filled.contains(&n);
            if is_ap && !shared.contains(&n) {
                continue; // a filled field's own appearance, rewritten in place
            }
            let what = if is_ap {
                format!("object {n}, the appearance of a filled field that other parts of the document also use, was rewritten")
            } else {
                let t = get_entry(self.old, n).and_then(Result::ok).and_then(|o| o.as_dict().and_then(|d| d.get(b"Type")).and_then(Object::as_name).map(|t| format!(" (/{})", String::from_utf8_lossy(t))));
                format!("object {n}{} of the signed revision was rewritten", t.unwrap_or_default())
            };
            self.push(Change::other(self.rev, ChangeKind::ObjectChanged, what).object(n));
        }
        Ok(())
    }
}

impl Step<'_, '_> {
    /// DSS objects rewritten in place must be reachable only through the DSS.
    fn check_dss_rewrites(&mut self) -> Result<(), PdfError> {
        if self.dss_rewrites.is_empty() {
            return Ok(());
        }
        let outside = reachable_outside_dss(self.old)?;
        for n in std::mem::take(&mut self.dss_rewrites) {
            if outside.contains(&n) {
                let what = format!("object {n}, listed in the DSS but also used by the rest of the document, was rewritten");
                self.push(Change::other(self.rev, ChangeKind::ObjectChanged, what).object(n));
            }
        }
        Ok(())
    }
}

/// Every object reachable from the trailer without entering the catalog's `/DSS`.
fn reachable_outside_dss(doc: &Document<'_>) -> Result<HashSet<u32>, PdfError> {
    let (cat_ref, cat) = doc.catalog()?;
    let mut avoid: HashSet<u32> = HashSet::new();
    if let Some(d) = cat.get(b"DSS").and_then(Object::as_reference) {
        avoid.insert(d.num);
    }
    // The catalog is entered by hand, without its /DSS (which may be a direct dictionary).
    avoid.insert(cat_ref.num);
    let mut without_dss = cat.clone();
    without_dss.remove(b"DSS");
    let mut trailer = doc.trailer().clone();
    trailer.remove(b"Root");
    trailer.set("SignetCatalog", Object::Dict(without_dss));
    let mut seen = reachable_from(doc, &Object::Dict(trailer), &avoid)?;
    seen.insert(cat_ref.num);
    Ok(seen)
}

/// Every object reachable in `doc` from the trailer without passing through `avoid` (the
/// fields and widgets being filled); refused beyond `MAX_REFERENCE_SCAN` objects.
fn reachable_avoiding(doc: &Document<'_>, avoid: &HashSet<u32>) -> Result<HashSet<u32>, PdfError> {
    reachable_from(doc, &Object::Dict(doc.trailer().clone()), avoid)
}

/// Every object reachable from `start` without passing through `avoid`; bounded.
fn reachable_from(doc: &Document<'_>, start: &Object, avoid: &HashSet<u32>) -> Result<HashSet<u32>, PdfError> {
    fn refs(o: &Object, out: &mut Vec<ObjRef>, depth: usize) {
        if depth > 64 {
            return;
        }
        match o {
            Object::Ref(r) => out.push(*r),
            Object::Array(a) => a.iter().for_each(|x| refs(x, out, depth + 1)),
            Object::Dict(d) => d.iter().for_each(|(_, x)| refs(x, out, depth + 1)),
            Object::Stream(s) => s.dict.iter().for_each(|(_, x)| refs(x, out, depth + 1)),
            _ => {}
        }
    }
    let mut seen: HashSet<u32> = HashSet::new();
    let mut stack = Vec::new();
    refs(start, &mut stack, 0);
    while let Some(r) = stack.pop() {
        if avoid.contains(&r.num) || !seen.insert(r.num) {
            continue;
        }
        if seen.len() > MAX_REFERENCE_SCAN {
            return Err(PdfError::LimitExceeded { what: "objects scanned for references", limit: MAX_REFERENCE_SCAN as u64 });
        }
        if let Some(Ok(o)) = get_entry(doc, r.num) {
            refs(&o, &mut stack, 0);
        }
    }
    Ok(seen)
}

/// Whether `new` holds everything `old` held, unchanged (dictionaries may gain entries).
fn only_additions(od: &Document<'_>, old: Option<&Object>, nd: &Document<'_>, new: Option<&Object>, depth: usize) -> bool {
    let Some(old) = old else { return true };
    let Some(new) = new else { return false };
    if depth > 4 {
        return same(old, new);
    }
    let (Ok(o), Ok(n)) = (od.resolve(old), nd.resolve(new)) else { return false };
    match (&o, &n) {
        (Object::Dict(a), Object::Dict(b)) => a.iter().all(|(k, v)| {
            // An unchanged reference to an object nobody rewrote is fine as is.
            if let (Object::Ref(x), Some(Object::Ref(y))) = (v, b.get(k)) && x == y {
                return true;
            }
            only_additions(od, Some(v), nd, b.get(k), depth + 1)
        }),
        _ => same(&o, &n),
    }
}

fn rect(doc: &Document<'_>, o: &Object) -> Option<[f64; 4]> {
    let a = doc.resolve(o).ok()?;
    let a = a.as_array()?;
    if a.len() != 4 {
        return None;
    }
    let mut v = [0f64; 4];
    for (slot, x) in v.iter_mut().zip(a) {
        *slot = x.as_f64()?;
    }
    Some([v[0].min(v[2]), v[1].min(v[3]), v[0].max(v[2]), v[1].max(v[3])])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(revision: usize, certify: Option<u8>, lock: Option<Lock>) -> SignatureScope {
        SignatureScope { revision, certify, lock }
    }

    fn judged(mut c: Change, scopes: &[SignatureScope]) -> Option<Refusal> {
        judge(&mut c, scopes);
        assert_eq!(c.permitted, c.refusal.is_none());
        c.refusal
    }

    fn annot(sub: &[u8]) -> Change {
        Change::new(3, Category::Annotation, ChangeKind::AnnotationAdded, "").subtype(sub).page(Some(1))
    }

    #[test]
    fn policy_follows_docmdp_fieldmdp_and_the_strict_defaults() {
        let fill = || Change::new(3, Category::FormFill, ChangeKind::FormFilled, "").field("amount");
        let dss = || Change::new(3, Category::Dss, ChangeKind::DssUpdated, "");
        let new_visible = || Change::new(3, Category::Signature, ChangeKind::SignatureFieldAdded, "").field("X").page(Some(1));
        let new_invisible = || Change::new(3, Category::Signature, ChangeKind::SignatureFieldAdded, "").field("X");
        let prepared = || Change::new(3, Category::Signature, ChangeKind::SignatureAdded, "").field("Signer2");
        let other = || Change::other(3, ChangeKind::PageChanged, "");

        // P=1: only DSS and document time-stamps.
        let p1 = [scope(2, Some(1), None)];
        assert_eq!(judged(dss(), &p1), None);
        assert_eq!(judged(fill(), &p1), Some(Refusal::CertifiedNoChanges));
        assert_eq!(judged(prepared(), &p1), Some(Refusal::CertifiedNoChanges));
        // P=2: form filling and signing prepared or invisible fields; no annotations, no
        // visible new signature fields (Sneaky Signature).
        let p2 = [scope(2, Some(2), None)];
        assert_eq!(judged(fill(), &p2), None);
        assert_eq!(judged(prepared(), &p2), None);
        assert_eq!(judged(new_invisible(), &p2), None);
        assert_eq!(judged(new_visible(), &p2), Some(Refusal::VisibleFieldOnCertified));
        assert_eq!(judged(annot(b"Text"), &p2), Some(Refusal::CertifiedNoAnnotations));
        // P=3: annotations that cannot paint over the page (Evil Annotation otherwise).
        let p3 = [scope(2, Some(3), None)];
        assert_eq!(judged(annot(b"Text"), &p3), None);
        assert_eq!(judged(annot(b"FreeText"), &p3), Some(Refusal::OverlayAnnotation));
        assert_eq!(judged(annot(b"Stamp"), &p3), Some(Refusal::OverlayAnnotation));
        // Approval signatures only: new visible signature fields are normal.
        let approval = [scope(2, None, None)];
        assert_eq!(judged(new_visible(), &approval), None);
        assert_eq!(judged(annot(b"Square"), &approval), Some(Refusal::OverlayAnnotation));
        // Anything else is never permitted, whatever the certification.
        for s in [&p1[..], &p2, &p3, &approval, &[]] {
            assert_eq!(judged(other(), s), Some(Refusal::AltersSignedContent));
        }
        // DocMDP applies only to changes after the certification.
        assert_eq!(judged(Change::new(2, Category::FormFill, ChangeKind::FormFilled, "").field("a"), &p1), None);
        // FieldMDP: a locked field may not be filled; others may.
        let locked = [scope(2, None, Some(Lock::Include(vec!["amount".into()])))];
        assert_eq!(judged(fill(), &locked), Some(Refusal::FieldLocked));
        assert_eq!(judged(Change::new(3, Category::FormFill, ChangeKind::FormFilled, "").field("note"), &locked), None);
    }

    #[test]
    fn locks_match_full_names_and_their_children() {
        assert!(Lock::All.locks("x"));
        let inc = Lock::Include(vec!["buyer".into()]);
        assert!(inc.locks("buyer") && inc.locks("buyer.name"));
        assert!(!inc.locks("buyers") && !inc.locks("seller"));
        let exc = Lock::Exclude(vec!["comments".into()]);
        assert!(!exc.locks("comments") && exc.locks("amount"));
    }

    #[test]
    fn verdict_is_the_worst_change_after_the_revision() {
        let mut bad = Change::other(4, ChangeKind::PageChanged, "");
        judge(&mut bad, &[]);
        let good = Change::new(3, Category::Dss, ChangeKind::DssUpdated, "");
        let changes = [good, bad];
        assert_eq!(verdict_after(&changes, 2), Verdict::NotPermitted);
        assert_eq!(verdict_after(&changes, 3), Verdict::NotPermitted);
        assert_eq!(verdict_after(&changes, 4), Verdict::None);
        assert_eq!(verdict_after(&changes[..1], 2), Verdict::Permitted);
    }

    // ------------------------------------------------------------------------------------
    // End to end over real bytes: a sample contract with a signature placeholder (the CMS is
    // irrelevant here), then hand-written incremental updates.

    /// The sample contract plus one signature update.
    fn signed() -> Vec<u8> {
        with_signature(&signet_pdf::sample_contract("Modification", 2, 0))
    }

    /// `pdf` plus a signature update (a placeholder CMS: the analysis does not look at it).
    fn with_signature(pdf: &[u8]) -> Vec<u8> {
        let doc = Document::open(&pdf).unwrap();
        let req = signet_pdf::SignatureRequest { contents_capacity: 64, ..Default::default() };
        let mut p = signet_pdf::prepare_signature(&doc, &req).unwrap();
        p.embed(&[0x30, 0x00]).unwrap();
        let mut out = pdf.to_vec();
        out.extend_from_slice(&p.update);
        out
    }

    /// Appends a classic-xref incremental update holding `objects` (number, body).
    fn append(pdf: &[u8], objects: &[(u32, String)]) -> Vec<u8> {
        append_sized(pdf, objects, 0)
    }

    /// `append` with a trailer `/Size` of at least `min_size`.
    fn append_sized(pdf: &[u8], objects: &[(u32, String)], min_size: u32) -> Vec<u8> {
        let doc = Document::open(&pdf).unwrap();
        let mut out = pdf.to_vec();
        let mut offsets = Vec::new();
        for (n, body) in objects {
            offsets.push((*n, out.len()));
            out.extend_from_slice(format!("{n} 0 obj\n{body}\nendobj\n").as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(b"xref\n");
        for (n, off) in &offsets {
            out.extend_from_slice(format!("{n} 1\n{off:010} 00000 n \n").as_bytes());
        }
        let size = doc.size().max(objects.iter().map(|o| o.0 + 1).max().unwrap_or(0)).max(min_size);
        out.extend_from_slice(format!("trailer\n<< /Size {size} {} >>\nstartxref\n{xref}\n%%EOF\n", links(&doc)).as_bytes());
        out
    }

    /// `/Root`, `/Info` and `/Prev` for a trailer after `doc`.
    fn links(doc: &Document<'_>) -> String {
        let r = |k: &[u8]| doc.trailer().get(k).and_then(Object::as_reference).map(|r| r.num);
        let info = r(b"Info").map(|i| format!("/Info {i} 0 R")).unwrap_or_default();
        format!("/Root {} 0 R {info} /Prev {}", r(b"Root").unwrap(), doc.startxref())
    }

    fn run(pdf: &[u8]) -> Vec<Change> {
        let doc = Document::open(&pdf).unwrap();
        let ends = doc.revisions().unwrap();
        analyse(&pdf, &ends, 2, &[scope(2, None, None)])
    }

    fn page_dict(pdf: &[u8], number: usize) -> (u32, String) {
        let doc = Document::open(&pdf).unwrap();
        let (r, d) = doc.page(number).unwrap();
        let mut body = Vec::new();
        signet_pdf::write_object(&mut body, &Object::Dict(d));
        (r.num, String::from_utf8(body).unwrap())
    }

    #[test]
    fn nothing_after_the_signature_is_nothing() {
        let pdf = signed();
        assert!(run(&pdf).is_empty());
        // Trailing whitespace is not a change; other bytes without an xref section are.
        let mut ws = pdf.clone();
        ws.extend_from_slice(b"\n\r\n  ");
        assert!(run(&ws).is_empty());
        let mut junk = pdf.clone();
        junk.extend_from_slice(b"7 0 obj\n<< /Length 0 >>\nstream\n\nendstream\nendobj\n");
        let c = run(&junk);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].kind, ChangeKind::BytesOutsideRevisions);
        assert!(!c[0].permitted);
    }

    #[test]
    fn page_content_swaps_fail_and_identical_rewrites_do_not_count() {
        let pdf = signed();
        let (num, body) = page_dict(&pdf, 1);
        // The same page dictionary written again: no change.
        assert!(run(&append(&pdf, &[(num, body.clone())])).is_empty());
        // The page now shows another content stream.
        let doc = Document::open(&pdf).unwrap();
        let size = doc.size();
        let swapped = body.replacen("/Contents", &format!("/Contents {size} 0 R /OldContents"), 1);
        let out = append(&pdf, &[(size, "<< /Length 0 >>\nstream\n\nendstream".into()), (num, swapped)]);
        let c = run(&out);
        assert!(c.iter().any(|c| c.kind == ChangeKind::PageChanged && c.page == Some(1) && !c.permitted), "{c:?}");
    }

    #[test]
    fn sticky_notes_pass_and_overlays_fail_on_an_approved_document() {
        let pdf = signed();
        let (num, body) = page_dict(&pdf, 2);
        let size = Document::open(&pdf).unwrap().size();
        let with_annot = |sub: &str, rect: &str| {
            let page = if body.contains("/Annots") {
                body.replacen("/Annots [", &format!("/Annots [{size} 0 R "), 1)
            } else {
                body.replacen("<<", &format!("<< /Annots [{size} 0 R]"), 1)
            };
            append(&pdf, &[(size, format!("<< /Type /Annot /Subtype /{sub} /Rect [{rect}] /Contents (hi) >>")), (num, page)])
        };
        let c = run(&with_annot("Text", "10 10 30 30"));
        assert_eq!(c.len(), 1, "{c:?}");
        assert!(c[0].kind == ChangeKind::AnnotationAdded && c[0].permitted && c[0].page == Some(2));
        let c = run(&with_annot("FreeText", "10 10 300 60"));
        assert!(c.iter().any(|c| c.refusal == Some(Refusal::OverlayAnnotation)), "{c:?}");
        // Covering most of the page fails whatever the subtype.
        let c = run(&with_annot("Text", "-10 -10 1000 1000"));
        assert!(c.iter().any(|c| c.kind == ChangeKind::CoversPage && !c.permitted), "{c:?}");
    }

    #[test]
    fn freed_objects_brought_back_and_deleted_objects_fail() {
        let pdf = signed();
        let doc = Document::open(&pdf).unwrap();
        let size = doc.size();
        // Free a fresh number in one update, then bring it back in the next.
        let mut out = pdf.clone();
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n{size} 1\n0000000000 00001 f \ntrailer\n<< /Size {} {} >>\nstartxref\n{xref}\n%%EOF\n", size + 1, links(&doc))
                .as_bytes(),
        );
        let back = append(&out, &[(size, "(hello)".into())]);
        let c = run(&back);
        assert!(c.iter().any(|c| c.kind == ChangeKind::FreedObjectReused && c.revision == 4), "{c:?}");
        // Deleting an object of the signed revision.
        let (num, _) = page_dict(&pdf, 2);
        let mut del = pdf.clone();
        let xref = del.len();
        del.extend_from_slice(
            format!("xref\n{num} 1\n0000000000 00001 f \ntrailer\n<< /Size {size} {} >>\nstartxref\n{xref}\n%%EOF\n", links(&doc)).as_bytes(),
        );
        let c = run(&del);
        assert!(c.iter().any(|c| c.kind == ChangeKind::ObjectDeleted && !c.permitted), "{c:?}");
        // The page tree still names the deleted page: that revision cannot be read either.
        assert!(c.iter().any(|c| c.kind == ChangeKind::UnreadableRevision), "{c:?}");
    }

    #[test]
    fn a_revision_that_cannot_be_read_fails_closed() {
        let pdf = signed();
        let doc = Document::open(&pdf).unwrap();
        // The update says page 1 is at offset 5, where no such object is.
        let (num, _) = page_dict(&pdf, 1);
        let mut out = pdf.clone();
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n{num} 1\n0000000005 00000 n \ntrailer\n<< /Size {} {} >>\nstartxref\n{xref}\n%%EOF\n", doc.size(), links(&doc)).as_bytes(),
        );
        let c = run(&out);
        assert!(c.iter().any(|c| c.kind == ChangeKind::UnreadableRevision && !c.permitted), "{c:?}");
    }

    #[test]
    fn a_dangling_reference_filled_in_later_fails() {
        // Before signing, page 1 lists a content stream that does not exist (it reads as
        // null); the signed revision's /Size counts it. After signing it gets defined.
        let pdf = signet_pdf::sample_contract("Dangling", 1, 0);
        let (num, body) = page_dict(&pdf, 1);
        let doc = Document::open(&pdf).unwrap();
        let ghost = doc.size();
        let with_ghost = body.replacen("/Contents", &format!("/Contents [{ghost} 0 R] /Old"), 1);
        // /Size counts the ghost number without defining it.
        let prepared = append_sized(&pdf, &[(num, with_ghost)], ghost + 1);
        assert!(Document::open(&prepared).unwrap().size() > ghost);
        let signed = with_signature(&prepared);
        let sig_rev = Document::open(&signed).unwrap().revisions().unwrap().len();
        let out = append(&signed, &[(ghost, "<< /Length 0 >>\nstream\n\nendstream".into())]);
        let doc = Document::open(&out).unwrap();
        let c = analyse(&out, &doc.revisions().unwrap(), sig_rev, &[scope(sig_rev, None, None)]);
        assert!(c.iter().any(|c| c.kind == ChangeKind::MissingObjectDefined && c.object == Some(ghost) && !c.permitted), "{c:?}");
    }

    #[test]
    fn annotations_written_in_place_in_annots_fail() {
        let pdf = signed();
        let (num, body) = page_dict(&pdf, 2);
        let page = if body.contains("/Annots") {
            body.replacen("/Annots [", "/Annots [<< /Type /Annot /Subtype /Square /Rect [0 0 600 800] >> ", 1)
        } else {
            body.replacen("<<", "<< /Annots [<< /Type /Annot /Subtype /Square /Rect [0 0 600 800] >>]", 1)
        };
        let c = run(&append(&pdf, &[(num, page)]));
        assert!(c.iter().any(|c| c.kind == ChangeKind::PageChanged && !c.permitted && c.key.as_deref() == Some("Annots")), "{c:?}");
    }

    #[test]
    fn a_dss_that_shares_page_content_cannot_launder_its_rewrite() {
        // Before signing, the DSS lists page 1's content stream among its certificates.
        let pdf = signet_pdf::sample_contract("Laundry", 1, 0);
        let doc = Document::open(&pdf).unwrap();
        let (_, page) = doc.page(1).unwrap();
        let content = page.get(b"Contents").and_then(Object::as_reference).expect("one content stream");
        let (cat_ref, cat) = doc.catalog().unwrap();
        let dss = doc.size();
        let mut cat_body = Vec::new();
        let mut cat = cat.clone();
        cat.set("DSS", Object::Ref(ObjRef::new(dss, 0)));
        signet_pdf::write_object(&mut cat_body, &Object::Dict(cat));
        let prepared = append(&pdf, &[(dss, format!("<< /Certs [{} 0 R] >>", content.num)), (cat_ref.num, String::from_utf8(cat_body).unwrap())]);
        let signed = with_signature(&prepared);
        let sig_rev = Document::open(&signed).unwrap().revisions().unwrap().len();
        let out = append(&signed, &[(content.num, "<< /Length 9 >>\nstream\n0 0 m S\n\nendstream".into())]);
        let doc = Document::open(&out).unwrap();
        let c = analyse(&out, &doc.revisions().unwrap(), sig_rev, &[scope(sig_rev, None, None)]);
        assert!(c.iter().any(|c| c.kind == ChangeKind::ObjectChanged && c.object == Some(content.num) && !c.permitted), "{c:?}");
    }
}
