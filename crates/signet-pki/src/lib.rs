//! The PKI core of Signet: keys and signature algorithms, X.509 certificates, CRLs, OCSP
//! (RFC 6960), CMS SignedData for PAdES (RFC 5652 / ETSI EN 319 122), RFC 3161 time-stamps and
//! PKCS#12 key files.
//!
//! Pure: bytes, a time and a key handle in; bytes or typed values out. It opens no file or
//! socket and never reads the clock; callers pass `SystemTime` values and random bytes
//! (through [`Rng`]). The one exception is the crypto provider (aws-lc) drawing its own
//! nonces for ECDSA and RSA-PSS and generating keys, as every crypto library does.
//!
//! What it does not do: fetch anything (OCSP/CRL/TSA clients live in the `signet` binary),
//! or know anything about PDF.

pub mod alg;
pub mod cms;
pub mod error;
pub mod oid;
pub mod pkcs12;
pub mod tsp;
pub mod cert;
pub mod pem;
pub mod chain;
pub mod crl;
pub mod ocsp;

pub use alg::{KeyAlgorithm, PrivateKey, Rng, SignatureScheme, Signer, SystemRng};
pub use error::PkiError;
pub use cert::Certificate;
