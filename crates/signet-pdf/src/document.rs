//! The lazy document reader: cross-reference data, object lookup, catalog and pages.
//!
//! [`Document::open`] reads the header, the tail (`startxref`) and every cross-reference
//! section of the `/Prev` chain — classic tables, xref streams and hybrid files — and nothing
//! else. Objects are parsed only when asked for; object streams are decoded once and cached.
//! Broken files are rejected ([`PdfError::BrokenXref`]), never repaired: a signer must not
//! guess at what a damaged document says. Signature fields live in [`crate::fields`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{PdfError, Result};
use crate::object::{Dict, ObjRef, Object};
use crate::parser::{self, Cursor, Parser};
use crate::source::Source;

/// Most cross-reference sections followed through `/Prev`.
pub const MAX_XREF_SECTIONS: usize = 10_000;
/// Highest object number accepted.
pub const MAX_OBJECTS: u64 = 16_000_000;
/// Most pages accepted in a page tree.
pub const MAX_PAGES: usize = 1_000_000;
const MAX_OBJSTM_N: i64 = 1_000_000;
const MAX_RESOLVE_DEPTH: usize = 8;

/// Where the cross-reference data says an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrefEntry {
    /// Listed as free (`f`, or type 0 in an xref stream).
    Free,
    /// At a byte offset of the file.
    InFile { offset: u64, r#gen: u16 },
    /// The `index`-th object of object stream `stream`.
    InStream { stream: u32, index: u32 },
}
use XrefEntry as Entry;

struct ObjStm {
    data: Vec<u8>,
    /// (object number, absolute offset in `data`)
    index: Vec<(u32, usize)>,
}

/// Pages scanned so far for annotations: the next page (0-based), the entries read, and the
/// first page listing each annotation.
#[derive(Default)]
pub(crate) struct AnnotScan {
    pub(crate) next: usize,
    pub(crate) entries: usize,
    pub(crate) map: HashMap<ObjRef, usize>,
}

/// A lazily-read PDF over a [`Source`].
pub struct Document<'a> {
    src: &'a dyn Source,
    len: u64,
    xref: HashMap<u32, Entry>,
    trailer: Dict,
    startxref: u64,
    newest_is_table: bool,
    /// Offsets of the cross-reference sections, newest first.
    sections: Vec<u64>,
    objstms: Mutex<HashMap<u32, Arc<ObjStm>>>,
    pages: OnceLock<Result<Vec<ObjRef>>>,
    /// Page number (1-based) of each page reference (computed once).
    page_index: OnceLock<Result<HashMap<ObjRef, usize>>>,
    /// How far `fields.rs` has scanned the pages' `/Annots`, and what it found.
    pub(crate) annot_pages: Mutex<AnnotScan>,
}

impl std::fmt::Debug for Document<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("len", &self.len)
            .field("objects", &self.xref.len())
            .field("startxref", &self.startxref)
            .field("sections", &self.sections)
            .finish_non_exhaustive()
    }
}

fn broken(msg: impl Into<String>) -> PdfError {
    PdfError::BrokenXref(msg.into())
}

impl<'a> Document<'a> {
    /// Open a document: check the header, read every cross-reference section.
    pub fn open(src: &'a dyn Source) -> Result<Self> {
        let len = src.len();
        let mut head = vec![0u8; len.min(1024) as usize];
        src.read_at(0, &mut head)?;
        if find(&head, b"%PDF-").is_none() {
            return Err(PdfError::NotPdf);
        }
        let startxref = find_startxref(src, len)?;
        let mut doc = Document {
            src,
            len,
            xref: HashMap::new(),
            trailer: Dict::new(),
            startxref,
            newest_is_table: true,
            sections: Vec::new(),
            objstms: Mutex::new(HashMap::new()),
            pages: OnceLock::new(),
            page_index: OnceLock::new(),
            annot_pages: Mutex::default(),
        };
        doc.load_xref_chain()?;
        // A key whose value is null is absent (ISO 32000-2, 7.3.9).
        if doc.trailer.get(b"Encrypt").is_some_and(|e| !matches!(e, Object::Null)) {
            return Err(PdfError::Encrypted);
        }
        Ok(doc)
    }

    /// Length of the underlying source in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// `true` for an empty source (never, for an opened document).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The newest trailer (for xref streams: the stream dictionary).
    pub fn trailer(&self) -> &Dict {
        &self.trailer
    }

    /// The byte offset the final `startxref` points at.
    pub fn startxref(&self) -> u64 {
        self.startxref
    }

    /// `true` if the newest cross-reference section is a classic table (also for hybrid files).
    pub fn uses_xref_table(&self) -> bool {
        self.newest_is_table
    }

    /// The source this document reads from.
    pub fn source(&self) -> &'a dyn Source {
        self.src
    }

    /// The effective cross-reference entry of object `num` (newest section wins).
    pub fn xref_entry(&self, num: u32) -> Option<XrefEntry> {
        self.xref.get(&num).copied()
    }

    /// Every object number the cross-reference data lists, with its entry (unordered).
    pub fn xref_entries(&self) -> impl Iterator<Item = (u32, XrefEntry)> + '_ {
        self.xref.iter().map(|(n, e)| (*n, *e))
    }

    /// One past the highest object number in use (from the trailer's `/Size` and the xref).
    pub fn size(&self) -> u32 {
        let from_trailer = self
            .trailer
            .get(b"Size")
            .and_then(Object::as_i64)
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or(0);
        let from_xref = self.xref.keys().max().map_or(0, |m| m.saturating_add(1));
        from_trailer.max(from_xref)
    }

    fn load_xref_chain(&mut self) -> Result<()> {
        let mut offset = self.startxref;
        let mut seen = HashSet::new();
        let mut seen_xref_stm = HashSet::new();
        loop {
            if !seen.insert(offset) {
                return Err(broken(format!(
                    "the /Prev chain loops back to offset {offset}"
                )));
            }
            if seen.len() > MAX_XREF_SECTIONS {
                return Err(PdfError::LimitExceeded {
                    what: "number of cross-reference sections",
                    limit: MAX_XREF_SECTIONS as u64,
                });
            }
            let (entries, trailer, is_table) = self.read_section(offset, &mut seen_xref_stm)?;
            for (num, e) in entries {
                self.xref.entry(num).or_insert(e);
            }
            let prev = match trailer.get(b"Prev") {
                None => None,
                Some(Object::Integer(p)) => {
                    Some(u64::try_from(*p).map_err(|_| broken(format!("negative /Prev {p}")))?)
                }
                Some(_) => return Err(broken("/Prev is not an integer")),
            };
            if self.sections.is_empty() {
                self.trailer = trailer;
                self.newest_is_table = is_table;
            }
            self.sections.push(offset);
            match prev {
                Some(p) => offset = p,
                None => return Ok(()),
            }
        }
    }

    /// Read one section (table or stream) at `offset`.
    /// `seen_xref_stm` holds the `/XRefStm` offsets of newer sections: one already read is not
    /// read again (its entries are all in the xref by then, and newer ones take precedence), so
    /// many tables naming one large stream cost one decoding.
    fn read_section(
        &self,
        offset: u64,
        seen_xref_stm: &mut HashSet<u64>,
    ) -> Result<(HashMap<u32, Entry>, Dict, bool)> {
        if offset >= self.len {
            return Err(broken(format!(
                "cross-reference offset {offset} is past the end of the file ({} bytes)",
                self.len
            )));
        }
        let mut cur = Cursor::new(self.src, offset);
        cur.skip_ws()?;
        if cur.looking_at(b"xref")? {
            let (mut entries, trailer) = read_table(&mut cur)?;
            if let Some(stm) = trailer.get(b"XRefStm") {
                let stm = stm
                    .as_i64()
                    .and_then(|o| u64::try_from(o).ok())
                    .ok_or_else(|| broken("/XRefStm is not an offset"))?;
                let (stm_entries, _) = if seen_xref_stm.insert(stm) {
                    self.read_xref_stream(stm)?
                } else {
                    (HashMap::new(), Dict::new())
                };
                for (num, e) in stm_entries {
                    match entries.get(&num) {
                        None | Some(Entry::Free) => {
                            entries.insert(num, e);
                        }
                        Some(_) => {}
                    }
                }
            }
            Ok((entries, trailer, true))
        } else {
            let (entries, dict) = self.read_xref_stream(offset)?;
            Ok((entries, dict, false))
        }
    }

    fn read_xref_stream(&self, offset: u64) -> Result<(HashMap<u32, Entry>, Dict)> {
        if offset >= self.len {
            return Err(broken(format!(
                "xref stream offset {offset} is past the end of the file"
            )));
        }
        let obj = parser::indirect_object_at(self.src, offset, &|_| {
            Err(broken("an xref stream's /Length must be a direct integer"))
        })
        .map_err(|e| match e {
            PdfError::BrokenXref(_) => e,
            other => broken(format!(
                "no cross-reference table or stream at offset {offset} ({other})"
            )),
        })?;
        let crate::object::Object::Stream(stream) = obj.object else {
            return Err(broken(format!(
                "object at offset {offset} is not an xref stream"
            )));
        };
        if !stream.dict.has_name(b"Type", b"XRef") {
            return Err(broken(format!(
                "object at offset {offset} is not /Type /XRef"
            )));
        }
        let w: Vec<usize> = stream
            .dict
            .get(b"W")
            .and_then(Object::as_array)
            .and_then(|a| {
                a.iter()
                    .map(|x| {
                        x.as_i64()
                            .and_then(|v| usize::try_from(v).ok())
                            .filter(|&v| v <= 8)
                    })
                    .collect::<Option<Vec<_>>>()
            })
            .filter(|w| w.len() == 3)
            .ok_or_else(|| broken("xref stream /W must be three integers between 0 and 8"))?;
        let size = stream
            .dict
            .get(b"Size")
            .and_then(Object::as_i64)
            .ok_or_else(|| broken("xref stream has no /Size"))?;
        let index: Vec<i64> = match stream.dict.get(b"Index") {
            None => vec![0, size],
            Some(Object::Array(a)) => a
                .iter()
                .map(Object::as_i64)
                .collect::<Option<_>>()
                .ok_or_else(|| broken("xref stream /Index holds a non-integer"))?,
            Some(_) => return Err(broken("xref stream /Index is not an array")),
        };
        let data = stream.decoded()?;
        let row = w[0] + w[1] + w[2];
        let mut entries = HashMap::new();
        let mut pos = 0usize;
        for pair in index.chunks(2) {
            let &[start, count] = pair else {
                return Err(broken("xref stream /Index has an odd length"));
            };
            let (start, count) = (u64::try_from(start).ok(), u64::try_from(count).ok());
            let (Some(start), Some(count)) = (start, count) else {
                return Err(broken("negative number in xref stream /Index"));
            };
            if start.saturating_add(count) > MAX_OBJECTS {
                return Err(PdfError::LimitExceeded {
                    what: "object number",
                    limit: MAX_OBJECTS,
                });
            }
            for i in 0..count {
                let fields = data
                    .get(pos..pos + row)
                    .ok_or_else(|| broken("xref stream data is shorter than /Index and /W say"))?;
                pos += row;
                let (f1, rest) = fields.split_at(w[0]);
                let (f2, f3) = rest.split_at(w[1]);
                let kind = if w[0] == 0 { 1 } else { be(f1) };
                let num = (start + i) as u32;
                let e = match kind {
                    0 => Entry::Free,
                    1 => Entry::InFile {
                        offset: be(f2),
                        r#gen: u16::try_from(be(f3)).unwrap_or(u16::MAX),
                    },
                    2 => Entry::InStream {
                        stream: u32::try_from(be(f2))
                            .map_err(|_| broken("object stream number out of range"))?,
                        index: u32::try_from(be(f3))
                            .map_err(|_| broken("object stream index out of range"))?,
                    },
                    _ => continue, // reserved types are ignored (null objects)
                };
                entries.insert(num, e);
            }
        }
        Ok((entries, stream.dict))
    }

    /// The object `r` points at.
    pub fn get(&self, r: ObjRef) -> Result<Object> {
        self.get_depth(r, 0)
    }

    fn get_depth(&self, r: ObjRef, depth: usize) -> Result<Object> {
        if depth > MAX_RESOLVE_DEPTH {
            return Err(PdfError::LimitExceeded {
                what: "chain of indirect stream lengths",
                limit: MAX_RESOLVE_DEPTH as u64,
            });
        }
        match self.xref.get(&r.num).copied() {
            None | Some(Entry::Free) => Err(PdfError::MissingObject(r)),
            Some(Entry::InFile { offset, r#gen }) => {
                if r#gen != r.r#gen {
                    return Err(PdfError::MissingObject(r));
                }
                Ok(self.read_in_file(r, offset, depth)?.object)
            }
            Some(Entry::InStream { stream, index }) => {
                if r.r#gen != 0 {
                    return Err(PdfError::MissingObject(r));
                }
                let stm = self.objstm(stream, depth)?;
                let &(num, off) = stm
                    .index
                    .get(index as usize)
                    .ok_or_else(|| broken(format!("object {} is listed at index {index} of object stream {stream}, which has fewer objects", r.num)))?;
                if num != r.num {
                    return Err(broken(format!(
                        "object stream {stream} holds object {num} at index {index}, not {}",
                        r.num
                    )));
                }
                parser::object_from_slice(&stm.data, off as u64)
            }
        }
    }

    fn read_in_file(&self, r: ObjRef, offset: u64, depth: usize) -> Result<parser::IndirectObject> {
        if offset >= self.len {
            return Err(broken(format!(
                "object {} {} R is said to be at offset {offset}, past the end of the file",
                r.num, r.r#gen
            )));
        }
        let length_of = |lr: ObjRef| -> Result<i64> {
            self.get_depth(lr, depth + 1)?.as_i64().ok_or_else(|| {
                PdfError::Invalid(format!(
                    "stream /Length {} {} R is not an integer",
                    lr.num, lr.r#gen
                ))
            })
        };
        let obj =
            parser::indirect_object_at(self.src, offset, &length_of).map_err(|e| match e {
                PdfError::BrokenXref(_) => broken(format!(
                    "object {} {} R is not at offset {offset}",
                    r.num, r.r#gen
                )),
                other => other,
            })?;
        if obj.id != r {
            return Err(broken(format!(
                "the xref says object {} {} R is at offset {offset}, but object {} {} is there",
                r.num, r.r#gen, obj.id.num, obj.id.r#gen
            )));
        }
        Ok(obj)
    }

    /// An object together with the file span of its top-level `/Contents` value (for signature
    /// dictionaries). The span is `None` when the object is not directly in the file.
    pub(crate) fn get_with_contents_span(&self, r: ObjRef) -> Result<(Object, Option<(u64, u64)>)> {
        match self.xref.get(&r.num).copied() {
            Some(Entry::InFile { offset, r#gen }) if r#gen == r.r#gen => {
                let o = self.read_in_file(r, offset, 0)?;
                Ok((o.object, o.contents_span))
            }
            _ => Ok((self.get(r)?, None)),
        }
    }

    fn objstm(&self, num: u32, depth: usize) -> Result<Arc<ObjStm>> {
        // The lock is not held while the stream is read: its `/Length` may itself live in an
        // object stream, and re-locking from this thread would deadlock.
        if let Some(s) = self
            .objstms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&num)
        {
            return Ok(Arc::clone(s));
        }
        let r = ObjRef::new(num, 0);
        let Some(Entry::InFile { offset, r#gen: 0 }) = self.xref.get(&num).copied() else {
            return Err(broken(format!(
                "object stream {num} is missing or itself compressed"
            )));
        };
        let Object::Stream(s) = self.read_in_file(r, offset, depth + 1)?.object else {
            return Err(broken(format!(
                "object {num} should be an object stream but is not a stream"
            )));
        };
        if !s.dict.has_name(b"Type", b"ObjStm") {
            return Err(broken(format!("object {num} is not /Type /ObjStm")));
        }
        let n = s
            .dict
            .get(b"N")
            .and_then(Object::as_i64)
            .filter(|n| (0..=MAX_OBJSTM_N).contains(n))
            .ok_or_else(|| broken(format!("object stream {num} has no valid /N")))?;
        let first = s
            .dict
            .get(b"First")
            .and_then(Object::as_i64)
            .and_then(|f| usize::try_from(f).ok())
            .ok_or_else(|| broken(format!("object stream {num} has no valid /First")))?;
        let data = s.decoded()?;
        if first > data.len() {
            return Err(broken(format!(
                "object stream {num} /First points past its data"
            )));
        }
        let mut index = Vec::with_capacity((n as usize).min(first / 2 + 1));
        {
            let header: &[u8] = data.get(..first).unwrap_or_default();
            let mut cur = Cursor::new(&header, 0);
            let mut p = Parser::new(&mut cur);
            for _ in 0..n {
                let (Some(onum), Some(off)) = (p.uint()?, p.uint()?) else {
                    return Err(broken(format!(
                        "object stream {num} has a malformed header"
                    )));
                };
                let onum = u32::try_from(onum)
                    .map_err(|_| broken("object number out of range in an object stream"))?;
                let abs = usize::try_from(off)
                    .ok()
                    .and_then(|o| o.checked_add(first))
                    .filter(|&a| a < data.len())
                    .ok_or_else(|| {
                        broken(format!("object stream {num} gives an offset past its data"))
                    })?;
                index.push((onum, abs));
            }
        }
        let stm = Arc::new(ObjStm { data, index });
        self.objstms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(num, Arc::clone(&stm));
        Ok(stm)
    }

    /// Follow a reference (also a chain of them); any other object is cloned.
    pub fn resolve(&self, o: &Object) -> Result<Object> {
        let mut cur = match o {
            Object::Ref(r) => self.get(*r)?,
            other => return Ok(other.clone()),
        };
        for _ in 0..MAX_RESOLVE_DEPTH {
            match cur {
                Object::Ref(r) => cur = self.get(r)?,
                other => return Ok(other),
            }
        }
        Err(PdfError::LimitExceeded {
            what: "chain of references",
            limit: MAX_RESOLVE_DEPTH as u64,
        })
    }

    /// Resolve `o` and require a dictionary (a stream's dictionary is accepted too).
    pub(crate) fn resolve_dict(&self, o: &Object, what: &str) -> Result<Dict> {
        match self.resolve(o)? {
            Object::Dict(d) => Ok(d),
            Object::Stream(s) => Ok(s.dict),
            _ => Err(PdfError::Invalid(format!("{what} is not a dictionary"))),
        }
    }

    /// Get `r` and require a dictionary.
    pub(crate) fn get_dict(&self, r: ObjRef, what: &str) -> Result<Dict> {
        self.resolve_dict(&Object::Ref(r), what)
    }

    /// The document catalog (`/Root`).
    pub fn catalog(&self) -> Result<(ObjRef, Dict)> {
        let r = self
            .trailer
            .get(b"Root")
            .and_then(Object::as_reference)
            .ok_or_else(|| PdfError::Invalid("the trailer has no /Root reference".into()))?;
        Ok((r, self.get_dict(r, "the catalog (/Root)")?))
    }

    /// References of all pages in order (computed once).
    pub fn page_refs(&self) -> Result<&[ObjRef]> {
        match self.pages.get_or_init(|| self.walk_pages()) {
            Ok(v) => Ok(v),
            Err(e) => Err(e.clone()),
        }
    }

    fn walk_pages(&self) -> Result<Vec<ObjRef>> {
        let (_, cat) = self.catalog()?;
        let root = cat
            .get(b"Pages")
            .and_then(Object::as_reference)
            .ok_or_else(|| PdfError::Invalid("the catalog has no /Pages reference".into()))?;
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        self.walk_node(root, 0, &mut seen, &mut out)?;
        Ok(out)
    }

    fn walk_node(
        &self,
        r: ObjRef,
        depth: usize,
        seen: &mut HashSet<ObjRef>,
        out: &mut Vec<ObjRef>,
    ) -> Result<()> {
        if depth > parser::MAX_DEPTH {
            return Err(PdfError::LimitExceeded {
                what: "page tree depth",
                limit: parser::MAX_DEPTH as u64,
            });
        }
        if !seen.insert(r) {
            return Err(PdfError::Invalid(format!(
                "the page tree contains a loop (object {} {} R appears twice)",
                r.num, r.r#gen
            )));
        }
        let node = self.get_dict(r, "a page tree node")?;
        match node.get(b"Kids") {
            Some(kids) if !node.has_name(b"Type", b"Page") => {
                let kids = match kids {
                    Object::Array(a) => a.clone(),
                    other => match self.resolve(other)? {
                        Object::Array(a) => a,
                        _ => {
                            return Err(PdfError::Invalid(
                                "page tree /Kids is not an array".into(),
                            ));
                        }
                    },
                };
                for kid in &kids {
                    let kr = kid.as_reference().ok_or_else(|| {
                        PdfError::Invalid(
                            "page tree /Kids holds a direct object instead of a reference".into(),
                        )
                    })?;
                    self.walk_node(kr, depth + 1, seen, out)?;
                }
            }
            _ if node.has_name(b"Type", b"Pages") => {
                return Err(PdfError::Invalid(format!(
                    "page tree node {} {} R has /Type /Pages but no /Kids",
                    r.num, r.r#gen
                )));
            }
            _ => {
                if out.len() >= MAX_PAGES {
                    return Err(PdfError::LimitExceeded {
                        what: "number of pages",
                        limit: MAX_PAGES as u64,
                    });
                }
                out.push(r);
            }
        }
        Ok(())
    }

    /// Number of pages.
    pub fn page_count(&self) -> Result<usize> {
        Ok(self.page_refs()?.len())
    }

    /// Page `number` (1-based): its reference and dictionary.
    pub fn page(&self, number: usize) -> Result<(ObjRef, Dict)> {
        let refs = self.page_refs()?;
        let r = number
            .checked_sub(1)
            .and_then(|i| refs.get(i))
            .copied()
            .ok_or(PdfError::PageOutOfRange {
                page: number,
                count: refs.len(),
            })?;
        Ok((r, self.get_dict(r, "a page")?))
    }

    /// 1-based number of the page `r`, if it is one.
    pub fn page_number(&self, r: ObjRef) -> Result<Option<usize>> {
        // A map rather than a scan: callers ask once per form field.
        let index = self.page_index.get_or_init(|| {
            let refs = self.page_refs()?;
            let mut m = HashMap::with_capacity(refs.len());
            for (i, &p) in refs.iter().enumerate() {
                m.entry(p).or_insert(i + 1);
            }
            Ok(m)
        });
        match index {
            Ok(m) => Ok(m.get(&r).copied()),
            Err(e) => Err(e.clone()),
        }
    }

    /// A page attribute, inherited through `/Parent`.
    pub(crate) fn inherited(&self, page: &Dict, key: &[u8]) -> Result<Option<Object>> {
        if let Some(v) = page.get(key) {
            return Ok(Some(self.resolve(v)?));
        }
        let mut parent = page.get(b"Parent").and_then(Object::as_reference);
        let mut seen = HashSet::new();
        while let Some(p) = parent {
            if !seen.insert(p) || seen.len() > parser::MAX_DEPTH {
                return Err(PdfError::Invalid(
                    "the /Parent chain of a page loops or is too deep".into(),
                ));
            }
            let d = self.get_dict(p, "a page tree node")?;
            if let Some(v) = d.get(key) {
                return Ok(Some(self.resolve(v)?));
            }
            parent = d.get(b"Parent").and_then(Object::as_reference);
        }
        Ok(None)
    }

    /// The visible box of page `number`: `/CropBox`, else `/MediaBox`, inherited, normalised to
    /// `[x1 y1 x2 y2]` with x1 <= x2, y1 <= y2.
    pub fn page_box(&self, number: usize) -> Result<[f64; 4]> {
        let (_, page) = self.page(number)?;
        let b = match self.inherited(&page, b"CropBox")? {
            Some(b) => Some(b),
            None => self.inherited(&page, b"MediaBox")?,
        };
        let b = b.ok_or_else(|| PdfError::Invalid(format!("page {number} has no /MediaBox")))?;
        let r = self.rect_of(&b).ok_or_else(|| {
            PdfError::Invalid(format!(
                "page {number} has a malformed /MediaBox or /CropBox"
            ))
        })?;
        Ok(r)
    }

    /// A rectangle array, resolved and normalised.
    pub(crate) fn rect_of(&self, o: &Object) -> Option<[f64; 4]> {
        let o = self.resolve(o).ok()?;
        let a = o.as_array()?;
        let mut v = [0f64; 4];
        if a.len() != 4 {
            return None;
        }
        for (slot, x) in v.iter_mut().zip(a) {
            *slot = self.resolve(x).ok()?.as_f64()?;
        }
        Some([
            v[0].min(v[2]),
            v[1].min(v[3]),
            v[0].max(v[2]),
            v[1].max(v[3]),
        ])
    }

    /// End offset of each revision (just past each `%%EOF` and its end-of-line), oldest first.
    ///
    /// Found from the cross-reference sections: for each, the first `%%EOF` after it. An end that
    /// is not later than an older section's end (the first-page section of a linearized file)
    /// does not count as a revision of its own.
    pub fn revisions(&self) -> Result<Vec<u64>> {
        // Scans in offset order, each reusing the `%%EOF` the previous one found when it lies
        // past this section: the file is read at most once, however many sections there are.
        let mut by_offset = self.sections.clone();
        by_offset.sort_unstable();
        let mut end_of = HashMap::with_capacity(by_offset.len());
        let mut last: Option<(u64, u64)> = None; // (`%%EOF` offset, revision end)
        for off in by_offset {
            let found = match last {
                Some((marker, end)) if marker >= off => (marker, end),
                _ => self.eof_after(off)?,
            };
            last = Some(found);
            end_of.insert(off, found.1);
        }
        let mut ends = Vec::with_capacity(self.sections.len());
        for off in self.sections.iter().rev() {
            let end = end_of[off];
            if ends.last().is_none_or(|&last| end > last) {
                ends.push(end);
            }
        }
        Ok(ends)
    }

    /// The first `%%EOF` at or after `offset`: its offset, and the end of the revision (past
    /// the marker and its end-of-line).
    fn eof_after(&self, offset: u64) -> Result<(u64, u64)> {
        const CHUNK: u64 = 8192;
        let mut pos = offset;
        let mut buf = Vec::new();
        while pos < self.len {
            let n = (self.len - pos).min(CHUNK);
            buf.resize(n as usize, 0);
            self.src.read_at(pos, &mut buf)?;
            if let Some(i) = find(&buf, b"%%EOF") {
                let marker = pos + i as u64;
                let mut end = marker + 5;
                let mut eol = [0u8; 2];
                let k = (self.len - end).min(2) as usize;
                self.src.read_at(end, &mut eol[..k])?;
                match &eol[..k] {
                    [b'\r', b'\n'] => end += 2,
                    [b'\r' | b'\n', ..] => end += 1,
                    _ => {}
                }
                return Ok((marker, end));
            }
            if pos + n >= self.len {
                break;
            }
            pos += n - 4; // overlap so a marker split across chunks is found
        }
        Err(broken(format!(
            "no %%EOF after the cross-reference section at offset {offset}"
        )))
    }

    /// `true` if the source ends with an end-of-line character.
    pub(crate) fn ends_with_eol(&self) -> Result<bool> {
        if self.len == 0 {
            return Ok(false);
        }
        let mut b = [0u8; 1];
        self.src.read_at(self.len - 1, &mut b)?;
        Ok(matches!(b[0], b'\n' | b'\r'))
    }
}

fn be(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0u64, |acc, &b| acc.wrapping_shl(8) | u64::from(b))
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// The offset after the last `startxref` keyword near the end of the file.
fn find_startxref(src: &dyn Source, len: u64) -> Result<u64> {
    let tail_len = len.min(4096);
    let mut tail = vec![0u8; tail_len as usize];
    src.read_at(len - tail_len, &mut tail)?;
    let at = rfind(&tail, b"startxref").ok_or_else(|| {
        broken("no \"startxref\" near the end of the file (the file is probably truncated)")
    })?;
    let rest = tail.get(at + 9..).unwrap_or_default();
    if find(rest, b"%%EOF").is_none() {
        return Err(broken(
            "no %%EOF after startxref (the file is probably truncated)",
        ));
    }
    let mut cur = Cursor::new(&rest, 0);
    let off = Parser::new(&mut cur)
        .uint()?
        .ok_or_else(|| broken("startxref is not followed by an offset"))?;
    if off >= len {
        return Err(broken(format!(
            "startxref {off} points past the end of the file ({len} bytes)"
        )));
    }
    Ok(off)
}

/// Parse a classic table starting at "xref", and its trailer dictionary.
fn read_table(cur: &mut Cursor<'_>) -> Result<(HashMap<u32, Entry>, Dict)> {
    let mut p = Parser::new(cur);
    if !p.keyword(b"xref")? {
        return Err(broken("expected \"xref\""));
    }
    let mut entries = HashMap::new();
    loop {
        if p.keyword(b"trailer")? {
            break;
        }
        let at = p.cur.offset();
        let (Some(start), Some(count)) = (p.uint()?, p.uint()?) else {
            return Err(broken(format!(
                "malformed xref subsection header at offset {at}"
            )));
        };
        if start.saturating_add(count) > MAX_OBJECTS {
            return Err(PdfError::LimitExceeded {
                what: "object number",
                limit: MAX_OBJECTS,
            });
        }
        for i in 0..count {
            let at = p.cur.offset();
            let (Some(offset), Some(r#gen)) = (p.uint()?, p.uint()?) else {
                return Err(broken(format!("malformed xref entry at offset {at}")));
            };
            let num = (start + i) as u32;
            let r#gen = u16::try_from(r#gen).map_err(|_| {
                broken(format!(
                    "generation number {} out of range at offset {at}",
                    r#gen
                ))
            })?;
            if p.keyword(b"n")? {
                // "0000000000 00000 n" is written by some producers for unused numbers.
                entries.insert(
                    num,
                    if offset == 0 {
                        Entry::Free
                    } else {
                        Entry::InFile { offset, r#gen }
                    },
                );
            } else if p.keyword(b"f")? {
                entries.insert(num, Entry::Free);
            } else {
                return Err(broken(format!(
                    "xref entry at offset {at} is neither 'n' nor 'f'"
                )));
            }
        }
    }
    let trailer = match p.object(0)? {
        Object::Dict(d) => d,
        _ => return Err(broken("the trailer is not a dictionary")),
    };
    Ok((entries, trailer))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal one-page file with a classic table, built with correct offsets.
    pub(crate) fn tiny_pdf(extra_trailer: &str) -> Vec<u8> {
        let objs = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 200 100] >>",
            "<< /Type /Page /Parent 2 0 R >>",
        ];
        let mut out = b"%PDF-1.7\n".to_vec();
        let mut offs = vec![];
        for (i, o) in objs.iter().enumerate() {
            offs.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(b"xref\n0 4\n0000000000 65535 f \n");
        for o in offs {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size 4 /Root 1 0 R {extra_trailer}>>\nstartxref\n{xref}\n%%EOF\n"
            )
            .as_bytes(),
        );
        out
    }

    #[test]
    fn opens_tiny_file() {
        let pdf = tiny_pdf("");
        let doc = Document::open(&pdf).unwrap();
        assert_eq!(doc.page_count().unwrap(), 1);
        assert_eq!(doc.page_box(1).unwrap(), [0.0, 0.0, 200.0, 100.0]);
        assert_eq!(doc.revisions().unwrap(), vec![pdf.len() as u64]);
        assert!(matches!(
            doc.page(2),
            Err(PdfError::PageOutOfRange { page: 2, count: 1 })
        ));
        assert!(matches!(
            doc.page(0),
            Err(PdfError::PageOutOfRange { page: 0, count: 1 })
        ));
    }

    #[test]
    fn rejects_bad_files() {
        assert_eq!(
            Document::open(&b"hello world".to_vec()).unwrap_err(),
            PdfError::NotPdf
        );
        assert_eq!(Document::open(&Vec::new()).unwrap_err(), PdfError::NotPdf);
        assert_eq!(
            Document::open(&tiny_pdf("/Encrypt 9 0 R ")).unwrap_err(),
            PdfError::Encrypted
        );
        let pdf = tiny_pdf("");
        // Truncation at every length must give an error, never a panic.
        for cut in 0..pdf.len() - 1 {
            assert!(
                Document::open(&pdf[..cut].to_vec())
                    .and_then(|d| d.page_count())
                    .is_err(),
                "cut {cut}"
            );
        }
        // Wrong startxref.
        let s = String::from_utf8(pdf.clone()).unwrap();
        let xref_at = s.find("xref\n0 4").unwrap();
        let bad = s.replace(
            &format!("startxref\n{xref_at}"),
            &format!("startxref\n{}", xref_at + 3),
        );
        assert!(matches!(
            Document::open(&bad.into_bytes()),
            Err(PdfError::BrokenXref(_))
        ));
        let bad = s.replace(&format!("startxref\n{xref_at}"), "startxref\n99999999999");
        assert!(matches!(
            Document::open(&bad.into_bytes()),
            Err(PdfError::BrokenXref(_))
        ));
        // Wrong object offset: detected when the object is read.
        let bad = s.replacen("0000000009 00000 n", "0000000010 00000 n", 1);
        let bad = bad.into_bytes();
        let doc = Document::open(&bad).unwrap();
        assert!(matches!(doc.catalog(), Err(PdfError::BrokenXref(_))));
    }

    #[test]
    fn prev_loop_is_detected() {
        let pdf = tiny_pdf("");
        let s = String::from_utf8(pdf).unwrap();
        let xref_at = s.find("xref\n0 4").unwrap();
        let looped = s.replace("/Size 4", &format!("/Size 4 /Prev {xref_at}"));
        let e = Document::open(&looped.into_bytes()).unwrap_err();
        assert!(
            matches!(e, PdfError::BrokenXref(ref m) if m.contains("loop")),
            "{e}"
        );
    }

    #[test]
    fn page_tree_loop_is_detected() {
        let pdf = tiny_pdf("");
        let s = String::from_utf8(pdf)
            .unwrap()
            .replace("/Kids [3 0 R]", "/Kids [2 0 R]");
        let doc_bytes = s.into_bytes();
        let doc = Document::open(&doc_bytes).unwrap();
        assert!(matches!(doc.page_count(), Err(PdfError::Invalid(_))));
    }

    #[test]
    fn huge_subsection_count_is_refused() {
        let s = String::from_utf8(tiny_pdf(""))
            .unwrap()
            .replace("xref\n0 4", "xref\n0 999999999999");
        assert!(Document::open(&s.into_bytes()).is_err());
    }

    /// Found while fuzzing (reading the pdf_document paths): an object stream whose `/Length` is an object stored
    /// in an object stream (here: in itself) re-entered the object-stream cache lock and
    /// deadlocked. It must be an error.
    #[test]
    fn object_stream_length_inside_an_object_stream_is_an_error() {
        let mut out = b"%PDF-1.7\n".to_vec();
        let off1 = out.len();
        out.extend_from_slice(b"1 0 obj\n<< /Type /Catalog /Pages 5 0 R >>\nendobj\n");
        let body = b"5 0 12";
        let off4 = out.len();
        out.extend_from_slice(
            b"4 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Length 5 0 R >>\nstream\n",
        );
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendstream\nendobj\n");
        let off6 = out.len();
        let mut rows = Vec::new();
        for (t, a, b) in [
            (0u8, 0u32, 65535u16),
            (1, off1 as u32, 0),
            (0, 0, 0),
            (0, 0, 0),
            (1, off4 as u32, 0),
            (2, 4, 0),
            (1, off6 as u32, 0),
        ] {
            rows.push(t);
            rows.extend_from_slice(&a.to_be_bytes());
            rows.extend_from_slice(&b.to_be_bytes());
        }
        out.extend_from_slice(
            format!(
                "6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length {} >>\nstream\n",
                rows.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&rows);
        out.extend_from_slice(
            format!("\nendstream\nendobj\nstartxref\n{off6}\n%%EOF\n").as_bytes(),
        );
        let doc = Document::open(&out).unwrap();
        assert!(doc.get(ObjRef::new(5, 0)).is_err());
        assert!(doc.page_count().is_err());
    }
}
