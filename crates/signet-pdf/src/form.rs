//! Form fields created up front and filled later: text, check-box and empty signature fields.
//!
//! A contract signed in turns carries one PAdES signature per signer, each in its own
//! incremental update. After the first signature, new annotations are a modification
//! validators reject, while filling existing fields is permitted. So every field of the
//! contract is added by [`add_form_fields`] in one unsigned update before the first signature,
//! and at each turn [`fill_form`] sets the signer's text and check-box values (one update with
//! new appearances), before [`prepare_signature`](crate::prepare_signature) signs the signer's
//! pre-created signature field by name.
//!
//! Like the rest of the crate this only rewrites the objects that must change (the page or its
//! `/Annots`, the AcroForm or its `/Fields`, `/DR`, the filled fields) and keeps every other
//! key. It does no I/O and reads no clock.

use std::collections::HashSet;

use crate::appearance::{self, FontData};
use crate::document::Document;
use crate::error::{PdfError, Result};
use crate::fields::FormFieldNode;
use crate::object::{Dict, ObjRef, Object};
use crate::sign::{self, Edits, Placement};
use crate::writer::{Update, text_string};

/// Most characters accepted for one text field's value.
pub const MAX_TEXT_CHARS: usize = 500;

/// The default appearance of text fields and of the AcroForm: Helvetica, auto size, black.
/// Used only by viewers that regenerate appearances; ours are drawn as paths.
const TEXT_DA: &[u8] = b"/Helv 0 Tf 0 g";
/// The default appearance of check boxes (ZapfDingbats, whose "4" is a check mark).
const CHECKBOX_DA: &[u8] = b"/ZaDb 0 Tf 0 g";
/// `/Ff` bits of button fields that make them radio buttons or push buttons.
const FF_RADIO: i64 = 1 << 15;
const FF_PUSHBUTTON: i64 = 1 << 16;

/// What a new field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormFieldKind {
    /// An empty signature field (`/FT /Sig`), signed later by naming it in
    /// [`SignatureRequest::field_name`](crate::SignatureRequest::field_name).
    Signature,
    /// A one-line text field (`/FT /Tx`), also used for dates.
    Text,
    /// A check box (`/FT /Btn`, states `/Yes` and `/Off`), unchecked.
    Checkbox,
}

/// A field to create: merged field and widget on one page.
#[derive(Debug, Clone, PartialEq)]
pub struct FormField {
    /// Unique across every field of the document; non-empty, without `.`.
    pub name: String,
    pub kind: FormFieldKind,
    pub placement: Placement,
}

/// The value to give an existing field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// For a text field: at most [`MAX_TEXT_CHARS`] characters, drawn on one line.
    Text(String),
    /// For a check box.
    Checked(bool),
}

/// One incremental update adding all `fields` (merged field and widget dictionaries), each on
/// its page's `/Annots` and in the AcroForm's `/Fields` (created or merged, never replaced).
///
/// Text fields get `/DA (/Helv 0 Tf 0 g)` and a thin grey frame as their appearance, check
/// boxes the states `/Yes` (a check mark drawn as a path) and `/Off`, signature fields the same
/// dictionary and frame as [`NewField`](crate::NewField). The AcroForm's `/DR /Font` gains
/// `/Helv` (and `/ZaDb` for check boxes) and `/DA` is set, when absent. No `/NeedAppearances`.
///
/// Refused: a name already used by any field of the document or given twice, a rectangle that
/// is empty, not finite or outside its page box, any new field on a certified document, and
/// text or check-box fields on a document that is already signed.
pub fn add_form_fields(doc: &Document, fields: &[FormField]) -> Result<Vec<u8>> {
    if fields.is_empty() {
        return Err(PdfError::InvalidRequest("no form fields to add".into()));
    }
    if doc.certification()?.is_some() {
        return Err(PdfError::CertifiedNewField(
            "new fields cannot be added after certification".into(),
        ));
    }
    let signed = doc.signature_fields()?.iter().any(|f| f.signed);
    let existing = doc.form_fields()?;
    let mut taken: HashSet<&str> = existing.iter().map(|f| f.name.as_str()).collect();
    for f in fields {
        crate::sign::claim_field_name(&mut taken, &f.name)?;
        if signed && f.kind != FormFieldKind::Signature {
            return Err(PdfError::FieldAfterSignature(f.name.clone()));
        }
    }
    let pages = fields
        .iter()
        .map(|f| sign::check_placement(doc, &f.placement))
        .collect::<Result<Vec<_>>>()?;

    let mut up = Update::new(doc)?;
    let mut edits = Edits::default();
    for (f, page) in fields.iter().zip(pages) {
        let rect = f.placement.rect;
        let (w, h) = (rect[2] - rect[0], rect[3] - rect[1]);
        let dict = match f.kind {
            FormFieldKind::Signature => {
                edits.sig_flags = true;
                let ap = appearance::write_bordered_form(&mut up, w, h)?;
                sign::field_dict(&f.name, None, rect, page, Some(ap))
            }
            FormFieldKind::Text => {
                let ap = appearance::write_bordered_form(&mut up, w, h)?;
                let mut d = widget_field(b"Tx", &f.name, rect, page, TEXT_DA);
                d.set("AP", normal_appearance(Object::Ref(ap)));
                Object::Dict(d)
            }
            FormFieldKind::Checkbox => {
                let (on, off) = appearance::write_checkbox_forms(&mut up, w, h)?;
                let mut d = widget_field(b"Btn", &f.name, rect, page, CHECKBOX_DA);
                d.set("V", Object::name(b"Off"));
                d.set("AS", Object::name(b"Off"));
                let mut mk = Dict::new();
                mk.set("CA", Object::String(b"4".to_vec()));
                d.set("MK", Object::Dict(mk));
                let mut states = Dict::new();
                states.set("Yes", Object::Ref(on));
                states.set("Off", Object::Ref(off));
                d.set("AP", normal_appearance(Object::Dict(states)));
                Object::Dict(d)
            }
        };
        let fr = up.alloc()?;
        up.put(fr, &dict);
        edits.add_widget(page, fr);
        edits.fields.push(fr);
    }
    let kinds = || fields.iter().map(|f| f.kind);
    if kinds().any(|k| k != FormFieldKind::Signature) {
        edits.default_da = Some(TEXT_DA);
        edits
            .default_fonts
            .push((b"Helv", type1_font(b"Helvetica", true)));
    }
    if kinds().any(|k| k == FormFieldKind::Checkbox) {
        edits
            .default_fonts
            .push((b"ZaDb", type1_font(b"ZapfDingbats", false)));
    }
    sign::apply_edits(doc, &mut up, &edits, None)?;
    up.finish()
}

/// One incremental update setting the values of existing fields, found by full name: text
/// fields get `/V` (a text string) and a new `/AP /N` drawing the text (left-aligned, one
/// line, vertically centred, with `font`'s outlines as paths); check boxes get `/V` and `/AS`
/// (their on state or `/Off`; their appearances already exist). Every other key of the field
/// and widget dictionaries is kept.
///
/// `font` is needed when any text is non-empty. Refused: an unknown name or one given twice,
/// a value of the wrong kind (text for a check box, a value for a group, a radio button or a
/// push button), a signature field, text over [`MAX_TEXT_CHARS`] characters (or the field's
/// `/MaxLen`), and any change to a document certified with "no changes allowed".
pub fn fill_form(
    doc: &Document,
    values: &[(String, FieldValue)],
    font: Option<FontData>,
) -> Result<Vec<u8>> {
    if values.is_empty() {
        return Err(PdfError::InvalidRequest("no form values to set".into()));
    }
    if doc.certification()? == Some(1) {
        return Err(PdfError::CertifiedNoChanges);
    }
    let all = doc.form_fields()?;
    let mut seen = HashSet::new();
    let mut plan: Vec<(&FormFieldNode, &FieldValue)> = Vec::with_capacity(values.len());
    for (name, value) in values {
        if !seen.insert(name.as_str()) {
            return Err(PdfError::DuplicateField(name.clone()));
        }
        let node = all
            .iter()
            .find(|f| &f.name == name)
            .ok_or_else(|| PdfError::UnknownField(name.clone()))?;
        let found = kind_word(node);
        if found == "signature" {
            return Err(PdfError::SignatureFieldNotFillable(name.clone()));
        }
        match value {
            FieldValue::Text(text) => {
                if found != "text" {
                    return Err(PdfError::FieldKind {
                        name: name.clone(),
                        found,
                        wanted: "text",
                    });
                }
                let max_len = doc
                    .get_dict(node.field, "a form field")?
                    .get(b"MaxLen")
                    .and_then(Object::as_i64)
                    .and_then(|m| usize::try_from(m).ok())
                    .map_or(MAX_TEXT_CHARS, |m| m.min(MAX_TEXT_CHARS));
                let chars = text.chars().count();
                if chars > max_len {
                    return Err(PdfError::TextTooLong {
                        name: name.clone(),
                        chars,
                        limit: max_len,
                    });
                }
                if !text.trim().is_empty() && font.is_none() {
                    return Err(PdfError::NoFont);
                }
            }
            FieldValue::Checked(_) if found != "check box" => {
                return Err(PdfError::FieldKind {
                    name: name.clone(),
                    found,
                    wanted: "a check-box state",
                });
            }
            FieldValue::Checked(_) => {}
        }
        plan.push((node, value));
    }

    let mut up = Update::new(doc)?;
    for (node, value) in plan {
        let mut fd = doc.get_dict(node.field, "a form field")?;
        // Widget dictionaries to rewrite besides the field (when they are separate objects).
        let mut widgets: Vec<(ObjRef, Dict)> = Vec::new();
        match value {
            FieldValue::Text(text) => {
                fd.set("V", text_string(text));
                for &w in &node.widgets {
                    let mut wd = widget_dict(doc, node.field, &fd, w)?;
                    let (width, height) = widget_size(doc, &wd);
                    let ap = match font {
                        Some(font) if !text.trim().is_empty() => {
                            appearance::write_text_field(&mut up, font, text, width, height)?
                        }
                        _ => appearance::write_bordered_form(&mut up, width, height)?,
                    };
                    wd.set("AP", normal_appearance(Object::Ref(ap)));
                    put_widget(&mut fd, &mut widgets, node.field, w, wd);
                }
            }
            FieldValue::Checked(checked) => {
                let mut value = b"Off".to_vec();
                for &w in &node.widgets {
                    let mut wd = widget_dict(doc, node.field, &fd, w)?;
                    let state = if *checked {
                        on_state(doc, &wd)?
                    } else {
                        b"Off".to_vec()
                    };
                    if *checked && value == b"Off" {
                        value = state.clone();
                    }
                    wd.set("AS", Object::Name(state));
                    put_widget(&mut fd, &mut widgets, node.field, w, wd);
                }
                if *checked && node.widgets.is_empty() {
                    value = b"Yes".to_vec();
                }
                fd.set("V", Object::Name(value));
            }
        }
        up.put(node.field, &Object::Dict(fd));
        for (w, wd) in widgets {
            up.put(w, &Object::Dict(wd));
        }
    }
    up.finish()
}

/// What kind of field `node` is, in words for messages: "text", "check box", "signature", ...
pub(crate) fn kind_word(node: &FormFieldNode) -> &'static str {
    if !node.terminal {
        return "group";
    }
    match node.ft.as_deref() {
        Some(b"Sig") => "signature",
        Some(b"Tx") => "text",
        Some(b"Btn") if node.flags & FF_PUSHBUTTON != 0 => "push button",
        Some(b"Btn") if node.flags & FF_RADIO != 0 => "radio button",
        Some(b"Btn") => "check box",
        Some(b"Ch") => "choice",
        _ => "untyped",
    }
}

/// A merged field and widget dictionary of type `ft` (without appearance).
fn widget_field(ft: &[u8], name: &str, rect: [f64; 4], page: ObjRef, da: &[u8]) -> Dict {
    let mut d = Dict::new();
    d.set("FT", Object::name(ft));
    d.set("T", text_string(name));
    d.set("Type", Object::name(b"Annot"));
    d.set("Subtype", Object::name(b"Widget"));
    d.set("F", Object::Integer(4));
    d.set("Rect", sign::rect_obj(rect));
    d.set("P", Object::Ref(page));
    d.set("DA", Object::String(da.to_vec()));
    d
}

/// `<< /N n >>`.
fn normal_appearance(n: Object) -> Object {
    let mut apd = Dict::new();
    apd.set("N", n);
    Object::Dict(apd)
}

/// A standard 14 Type 1 font dictionary (WinAnsi-encoded when `win_ansi`).
fn type1_font(base: &[u8], win_ansi: bool) -> Dict {
    let mut d = Dict::new();
    d.set("Type", Object::name(b"Font"));
    d.set("Subtype", Object::name(b"Type1"));
    d.set("BaseFont", Object::name(base));
    if win_ansi {
        d.set("Encoding", Object::name(b"WinAnsiEncoding"));
    }
    d
}

/// The dictionary of widget `w` of `field` (the field's own, already edited, when merged).
fn widget_dict(doc: &Document, field: ObjRef, fd: &Dict, w: ObjRef) -> Result<Dict> {
    if w == field {
        Ok(fd.clone())
    } else {
        doc.get_dict(w, "a widget annotation")
    }
}

/// Store an edited widget: into the field dictionary when merged, else to be written apart.
fn put_widget(
    fd: &mut Dict,
    widgets: &mut Vec<(ObjRef, Dict)>,
    field: ObjRef,
    w: ObjRef,
    wd: Dict,
) {
    if w == field {
        *fd = wd;
    } else {
        widgets.push((w, wd));
    }
}

/// Width and height of a widget's `/Rect` (0 x 0 when it has none).
fn widget_size(doc: &Document, wd: &Dict) -> (f64, f64) {
    wd.get(b"Rect")
        .and_then(|r| doc.rect_of(r))
        .map_or((0.0, 0.0), |r| (r[2] - r[0], r[3] - r[1]))
}

/// The "on" state of a check-box widget: the first name in `/AP /N` other than `/Off`
/// (`/Yes` when there is none).
fn on_state(doc: &Document, wd: &Dict) -> Result<Vec<u8>> {
    let Some(ap) = wd.get(b"AP") else {
        return Ok(b"Yes".to_vec());
    };
    let Object::Dict(ap) = doc.resolve(ap)? else {
        return Ok(b"Yes".to_vec());
    };
    let Some(n) = ap.get(b"N") else {
        return Ok(b"Yes".to_vec());
    };
    Ok(match doc.resolve(n)? {
        Object::Dict(states) => states
            .iter()
            .map(|(k, _)| k)
            .find(|k| *k != b"Off")
            .map_or_else(|| b"Yes".to_vec(), <[u8]>::to_vec),
        _ => b"Yes".to_vec(),
    })
}
