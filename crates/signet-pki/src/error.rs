//! The error type of the PKI core.

/// Everything that can go wrong in the PKI core. Messages say what was wrong and, where the
/// user can act, what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    #[error("malformed {what}: {detail}")]
    Malformed { what: &'static str, detail: String },
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    #[error("key error: {0}")]
    Key(String),
    #[error("signature does not verify ({0})")]
    BadSignature(String),
    #[error("wrong password for the PKCS#12 file (or the file is damaged): check the password file")]
    WrongPassword,
    #[error("certificate problem: {0}")]
    Certificate(String),
    #[error("time-stamp problem: {0}")]
    Timestamp(String),
    #[error("OCSP problem: {0}")]
    Ocsp(String),
    #[error("crypto provider failure: {0}")]
    Crypto(String),
}

impl PkiError {
    pub(crate) fn malformed(what: &'static str, detail: impl std::fmt::Display) -> Self {
        PkiError::Malformed { what, detail: detail.to_string() }
    }
}

impl From<der::Error> for PkiError {
    fn from(e: der::Error) -> Self {
        PkiError::Malformed { what: "DER structure", detail: e.to_string() }
    }
}
