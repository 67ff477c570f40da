//! The evidence report (签约存证页) of a completed contract, as a PDF, and the offline evidence
//! bundle (a zip) that lets anyone check the contract without the platform.
//!
//! - [`EvidenceReport`] is plain data (serde, so the server can also offer it as JSON):
//!   contract title and number, sender, organisation, sending IP and time, completion time,
//!   each document's SHA-256, and for each signer their account, email/phone, received, opened
//!   and signed times, IP, user agent, identity check, certificate serial, signature
//!   positions, evidence-log index and inclusion proof; the log's signed checkpoint; and every
//!   evidence event (the appendix).
//! - [`render_pdf`] lays it out on A4 pages — title, numbered sections, key/value tables,
//!   the events table — wrapping long values (digests, base64 proofs, checkpoint lines) inside
//!   their column, breaking pages as needed (table rows split across pages, headers repeated),
//!   with a running header and "page N of M" on every page. Text is real text: the caller's
//!   font (a TTF/OTF, or one face of a TTC such as Noto Sans CJK) is embedded as a subset with
//!   a ToUnicode map, so names such as 张三 can be copied and searched.
//! - [`bundle_zip`] packs the bundle, refusing unsafe or duplicate names; [`bundle_readme`]
//!   writes its `README.txt` with the two commands that check it:
//!   `signet verify --trust root.pem signed.pdf` and
//!   `signet log verify-proof NAME.tlog-proof --entry NAME.entry --log-key log.vkey`.
//!
//! **Language.** [`Lang::Bilingual`] (the default) labels everything in both languages
//! ("签署人 / Signer"): the report is evidence that may be shown to parties, courts or
//! auditors who read either language, and one document serves them all. [`Lang::Zh`] and
//! [`Lang::En`] give a single-language report. Values (names, accounts, event actors) are
//! printed as given, never translated.
//!
//! **API Boundary:** no file, network or clock access: the caller passes the font bytes, the
//! data and every time, and gets bytes back. Which font to use, where files live and when the
//! report is made are the server's business.

mod bundle;
mod labels;
mod layout;
mod model;
mod pdf;
mod report;
mod text;

pub use bundle::{
    ENTRY_EXT, EVIDENCE_PDF, LOG_VKEY, MAX_NAME_LEN, PROOF_EXT, README, ROOT_PEM, SIGNED_PDF, bundle_readme, bundle_zip,
};
pub use model::{DocumentDigest, EventRow, EvidenceReport, Party, Position, Signer, Verification, format_time};
pub use pdf::render_pdf;

use serde::{Deserialize, Serialize};

/// The language of the report's labels and of the bundle's README.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    /// Chinese (简体中文).
    Zh,
    /// English.
    En,
    /// Both: "签署人 / Signer".
    #[default]
    Bilingual,
}

/// The font the report is set in: the bytes of a TrueType/OpenType file or collection, and
/// the face's index in it (0 for a single font; e.g. 2 for Noto Sans CJK SC in
/// `NotoSansCJK-Regular.ttc`). It must cover the characters printed — a CJK font covers
/// Chinese and Latin alike; a missing character prints as the font's empty box.
#[derive(Debug, Clone, Copy)]
pub struct FontSource<'a> {
    /// The font file's bytes.
    pub bytes: &'a [u8],
    /// The face's index in a collection (0 otherwise).
    pub index: u32,
}

/// Why a report or bundle could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The font bytes are not a readable font, or the collection has no such face.
    #[error("the font (face {index}) cannot be read")]
    Font {
        /// The face index asked for.
        index: u32,
    },
    /// The PDF writer failed.
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
    /// A bundle file name could unpack outside the target folder or not at all.
    #[error("{name:?} cannot be a file name in the bundle: {reason}")]
    UnsafeName {
        /// The name given.
        name: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A bundle file name was given twice (ignoring ASCII case) or as both file and folder.
    #[error("{0:?} is given twice in the bundle")]
    DuplicateName(String),
    /// The zip writer failed.
    #[error("the zip could not be written: {0}")]
    Zip(String),
}

/// This crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
pub(crate) mod tests {
    /// The CJK font CI installs (Debian `fonts-noto-cjk`).
    pub(crate) const CJK_FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
}
