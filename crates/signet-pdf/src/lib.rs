//! signet-pdf: the pure PDF core of Signet's PAdES signer.
//!
//! It reads PDFs lazily through a [`Source`] (the trailer and cross-reference data from the
//! end, then only the objects actually needed), lists signature fields and signatures,
//! prepares a signature placeholder as an incremental update, embeds DER bytes handed to it,
//! adds a `/DSS`, adds and fills text, check-box and empty signature fields, and draws visible
//! appearances (PNG images, any TrueType/OpenType font as vector paths, CJK included).
//!
//! **What it is not:** it does no I/O — no files, sockets, environment or clock (time comes in
//! as a parameter) — and no cryptography: hashing and CMS are done by the caller around
//! [`PreparedSignature::signed_parts`] and [`PreparedSignature::embed`].
//!
//! **Why not `lopdf`:** lopdf loads and parses the whole file into memory; we must handle
//! 1 GB contracts with a few kilobytes of reads, and want strict, bounded parsing of hostile
//! input (depth, size and loop limits; broken files are rejected, never repaired).
//!
//! **Behaviour worth knowing**
//! - Updates are incremental: the original bytes are never changed; the xref section written
//!   is of the kind of the newest one (table, also for hybrid files; otherwise a stream).
//! - Only the objects that must change are rewritten (page or `/Annots` array, AcroForm or
//!   `/Fields` array, catalog, filled field); every other key is kept.
//! - Document timestamps and [`add_dss`] are allowed on certified documents, also with
//!   DocMDP P=1 (PAdES long-term maintenance; pyHanko accepts it). Their field is invisible and
//!   carries no `/AP` (allowed for zero-size widgets by ISO 32000-2, and pyHanko counts a new
//!   appearance as form filling). Later *signatures* on a certified document must fill a field
//!   created by the certifier ([`NewField`]).
//! - Form fields are created up front and only filled later: once a document is signed, new
//!   annotations (fields included) are a modification validators reject, while filling existing
//!   fields is permitted. So [`add_form_fields`] adds every field of a contract in one update
//!   before the first signature, and at each turn [`fill_form`] sets the signer's values in an
//!   update of its own before the signer's pre-created signature field is signed by name.
//! - [`Document::find_text`] finds text in the page content (not in annotation appearances)
//!   ignoring whitespace, and returns user-space rectangles ready for a widget's `/Rect`; the
//!   interpreter is bounded ([`MAX_OPERATORS`], [`MAX_GLYPHS`], [`MAX_Q_DEPTH`],
//!   [`MAX_FORM_DEPTH`], [`MAX_DECODED`] content bytes per page).
//! - Limits against hostile files: [`MAX_DEPTH`], [`MAX_OBJECT_BYTES`], [`MAX_STREAM_BYTES`],
//!   [`MAX_DECODED`], [`MAX_XREF_SECTIONS`], [`MAX_OBJECTS`], [`MAX_PAGES`], [`MAX_PIXELS`].
//! - Checked against `qpdf --check`, poppler `pdfsig` and pyHanko (see the ignored tests in
//!   `tests.rs` that drive `openssl cms -cades` and `openssl ts`): classic, object-stream,
//!   hybrid and linearized inputs; certification + pre-created fields; DSS; doc timestamps.
//!
//! ```
//! use signet_pdf::*;
//! let pdf = sample_contract("Demo", 1, 0);
//! let doc = Document::open(&pdf)?;
//! let req = SignatureRequest { contents_capacity: 8192, ..Default::default() };
//! let mut prepared = prepare_signature(&doc, &req)?;
//! prepared.embed(&[0x30, 0x03, 0x02, 0x01, 0x01])?; // the DER CMS from the PKI crate
//! let signed = Appended { base: &pdf, tail: &prepared.update };
//! let doc2 = Document::open(&signed)?;
//! assert_eq!(signatures(&doc2)?.len(), 1);
//! # Ok::<(), PdfError>(())
//! ```

mod appearance;
mod document;
mod error;
mod fields;
mod filter;
mod form;
mod object;
mod parser;
mod sample;
mod sign;
mod source;
mod text;
mod writer;

pub use appearance::{AppearanceSpec, FontData, MAX_PIXELS, RgbaImage, decode_png};
pub use document::{Document, MAX_OBJECTS, MAX_PAGES, MAX_XREF_SECTIONS, XrefEntry};
pub use error::PdfError;
pub use fields::{FoundSignature, SignatureField, signatures};
pub use filter::MAX_DECODED;
pub use form::{FieldValue, FormField, FormFieldKind, MAX_TEXT_CHARS, add_form_fields, fill_form};
pub use object::{Dict, ObjRef, Object, Stream};
pub use parser::{MAX_DEPTH, MAX_OBJECT_BYTES, MAX_STREAM_BYTES};
pub use sample::sample_contract;
pub use sign::{
    DssData, MAX_CONTENTS_CAPACITY, NewField, Placement, PreparedSignature, SignatureKind,
    SignatureRequest, add_dss, prepare_signature,
};
pub use source::{Appended, Prefix, Source, for_each_chunk};
pub use text::{MAX_FORM_DEPTH, MAX_GLYPHS, MAX_OPERATORS, MAX_Q_DEPTH, TextMatch};
pub use writer::{decode_text, pdf_date, text_string, write_object};

#[cfg(test)]
mod tests;
