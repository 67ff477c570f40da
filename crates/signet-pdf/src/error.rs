//! The one error type of this crate.
//!
//! Every message says what is wrong and, where the caller can do something about it, what to
//! do. Errors are plain data (`Clone`, `PartialEq`) so callers can match on them and tests can
//! compare them; they never carry document bytes beyond short names.

use crate::object::ObjRef;

/// Everything that can go wrong while reading or updating a PDF.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PdfError {
    /// A read past the end of the [`Source`](crate::Source).
    #[error(
        "read of {len} bytes at offset {offset} is outside the document ({source_len} bytes); the file is probably truncated"
    )]
    OutOfRange {
        offset: u64,
        len: usize,
        source_len: u64,
    },
    /// The [`Source`](crate::Source) itself failed (reported by a caller-provided implementation).
    #[error("could not read the document: {0}")]
    Read(String),
    /// The bytes do not start with a `%PDF-` header.
    #[error("not a PDF file: no %PDF- header at the start; check that the right file was passed")]
    NotPdf,
    /// The trailer has an `/Encrypt` entry.
    #[error(
        "the PDF is encrypted (password-protected); remove the encryption (e.g. `qpdf --decrypt in.pdf out.pdf`) and try again"
    )]
    Encrypted,
    /// The cross-reference information is unusable: bad `startxref`, truncated file, offsets
    /// that do not point at the objects they claim, `/Prev` loops. The file is not repaired.
    #[error(
        "broken cross-reference data: {0}; the file is damaged or truncated (re-save it with a PDF tool such as `qpdf in.pdf out.pdf`)"
    )]
    BrokenXref(String),
    /// A malformed object.
    #[error("malformed PDF syntax at byte {offset}: {message}")]
    Syntax { offset: u64, message: String },
    /// A reference to an object the cross-reference data does not know, or that is free.
    #[error("object {} {} R is referenced but not present in the file", .0.num, .0.r#gen)]
    MissingObject(ObjRef),
    /// The document structure is not what the PDF specification requires.
    #[error("invalid document structure: {0}")]
    Invalid(String),
    /// A hard limit against hostile input was hit.
    #[error("{what} exceeds the limit of {limit}; refusing to process this file")]
    LimitExceeded { what: &'static str, limit: u64 },
    /// A stream filter this crate does not decode.
    #[error("unsupported stream filter /{0}; only /FlateDecode is supported")]
    UnsupportedFilter(String),
    /// Compressed data that does not decompress.
    #[error("cannot decode stream data: {0}")]
    Decode(String),
    /// A page number outside `1..=count`.
    #[error("page {page} does not exist: the document has {count} page(s), numbered from 1")]
    PageOutOfRange { page: usize, count: usize },
    /// A signature rectangle that is empty or not inside the page.
    #[error("rectangle [{} {} {} {}] is empty or not inside the page box [{} {} {} {}] of page {page}; give x1 < x2 and y1 < y2 in PDF points from the bottom-left corner", .rect[0], .rect[1], .rect[2], .rect[3], .page_box[0], .page_box[1], .page_box[2], .page_box[3])]
    RectOutOfRange {
        page: usize,
        rect: [f64; 4],
        page_box: [f64; 4],
    },
    /// The named signature field already holds a signature.
    #[error(
        "signature field \"{0}\" is already signed; choose another field or let a new one be created"
    )]
    FieldAlreadySigned(String),
    /// Two fields with the same name were requested.
    #[error(
        "a field named \"{0}\" already exists or was requested twice; field names must be unique"
    )]
    DuplicateField(String),
    /// No form field has the given name.
    #[error(
        "there is no form field named \"{0}\"; give the field's full name (dotted for fields inside groups)"
    )]
    UnknownField(String),
    /// A field was given a value (or a role) of the wrong kind.
    #[error("form field \"{name}\" is a {found} field and cannot take {wanted}")]
    FieldKind {
        name: String,
        found: &'static str,
        wanted: &'static str,
    },
    /// A signature field was named where a form value was expected.
    #[error(
        "\"{0}\" is a signature field: it is filled by signing it (prepare_signature), not with a form value"
    )]
    SignatureFieldNotFillable(String),
    /// Text longer than a form field accepts.
    #[error(
        "the text for form field \"{name}\" has {chars} characters; at most {limit} are accepted"
    )]
    TextTooLong {
        name: String,
        chars: usize,
        limit: usize,
    },
    /// A text or check-box field was to be added to a document that is already signed.
    #[error(
        "form field \"{0}\" cannot be added: the document is already signed, and validators reject text and check-box fields added after a signature; create every field before the first signature"
    )]
    FieldAfterSignature(String),
    /// The document is certified with DocMDP P=1.
    #[error(
        "the document is certified with \"no changes allowed\" (DocMDP P=1): any further signature would invalidate the certification"
    )]
    CertifiedNoChanges,
    /// The document is certified and the request would create a new signature field.
    #[error(
        "the document is certified, so a later signer must fill a signature field created by the certifier; {0}"
    )]
    CertifiedNewField(String),
    /// Certification was requested on a document that already carries a signature.
    #[error(
        "certification (DocMDP) is only allowed for the first signature of a document, and this document is already signed"
    )]
    CertifyNotFirst,
    /// A request that cannot be satisfied as given.
    #[error("invalid signature request: {0}")]
    InvalidRequest(String),
    /// The DER blob does not fit into the reserved placeholder.
    #[error(
        "the signature needs {needed} bytes but only {capacity} were reserved; prepare again with a larger contents_capacity"
    )]
    ContentsTooLarge { needed: usize, capacity: usize },
    /// Text was requested in an appearance without a font.
    #[error("appearance text needs a font: pass --font FILE or install fonts-noto-cjk")]
    NoFont,
    /// The font has no glyph for a character of the appearance text.
    #[error("the font has no glyph for {0:?} (U+{code:04X}); choose a font that covers it, e.g. NotoSansCJK", code = *.0 as u32)]
    MissingGlyph(char),
    /// The font file cannot be parsed.
    #[error("cannot parse the font: {0}")]
    Font(String),
    /// The PNG image cannot be decoded.
    #[error("cannot decode the PNG image: {0}")]
    Image(String),
}

/// Short alias used throughout the crate.
pub type Result<T, E = PdfError> = std::result::Result<T, E>;
