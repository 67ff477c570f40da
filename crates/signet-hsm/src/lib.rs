//! Keys in a PKCS#11 token (an HSM, or SoftHSM in tests and small installations).
//!
//! When `SIGNET_KEYS_PKCS11_MODULE`, `SIGNET_KEYS_PKCS11_TOKEN` and
//! `SIGNET_KEYS_PKCS11_PIN_FILE` are set ([`HsmConfig::from_env`]), the installation's keys
//! live in the token named by the label:
//!
//! - the master key ([`Token::master_key`] → [`HsmMasterKey`], a
//!   [`signet_vault::MasterKey`]): AES-256, wraps and unwraps organisation keys inside the
//!   token;
//! - the CA, TSA and OCSP signing keys ([`Token::signing_key`] → [`HsmSigner`], a
//!   [`signet_pki::Signer`]): ECDSA P-256, signing inside the token;
//! - the evidence log's key ([`Token::ed25519_key`] → [`HsmEd25519Key`], turned into a
//!   [`signet_ledger::NoteSigner`] by [`HsmEd25519Key::note_signer`]): Ed25519 (`CKM_EDDSA`);
//! - the per-signing event keys ([`Token::ephemeral_signing_key`] →
//!   [`HsmEphemeralSigner`]): P-256 session objects, destroyed when dropped.
//!
//! # Custody invariants
//!
//! Every key is generated in the token, never imported. Long-lived keys are token objects
//! (`CKA_TOKEN` true); private and secret keys are `CKA_PRIVATE`, `CKA_SENSITIVE` and not
//! `CKA_EXTRACTABLE`, with only the usages they need (the master key wraps and unwraps, the
//! private keys sign). A key found by its label is checked the same way and refused if it
//! could leave the token. No private key is ever read, written or held by this crate.
//!
//! # Concurrency
//!
//! A [`Token`] is cheap to clone and `Send + Sync`. It keeps one session open for its whole
//! life, logged in as the user (PKCS#11 logs an application in per token, not per session,
//! and logs it out when its last session closes), and a small pool of idle read-write
//! sessions: each operation takes one (or opens a new one), runs, and gives it back. So
//! threads sign in parallel without sharing a session, which PKCS#11 forbids, and without
//! opening a session per signature. An ephemeral key keeps a session of its own, because
//! session objects die with the session that made them.
//!
//! A PKCS#11 module is initialised once per process (`C_Initialize`): every [`Token`] opened
//! on the same module path shares that initialisation, and it is never finalised.

mod config;
mod ecdsa;
mod ed25519;
mod master;
mod token;

pub use config::{HsmConfig, MODULE_VAR, PIN_FILE_VAR, TOKEN_VAR};
pub use ecdsa::{HsmEphemeralSigner, HsmSigner, KeyKind};
pub use ed25519::HsmEd25519Key;
pub use master::HsmMasterKey;
pub use token::{KeyCustody, Token, check_key_label};
pub use zeroize::Zeroizing;

use std::path::PathBuf;

/// Why an HSM operation failed. Messages say what was wrong and what to do; they never
/// contain a PIN or key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HsmError {
    /// Some PKCS#11 settings are set and this one is not.
    #[error(
        "{name} is not set, but {set} is: set all three of {MODULE_VAR}, {TOKEN_VAR} and \
         {PIN_FILE_VAR} to keep keys in a PKCS#11 token, or none of them"
    )]
    MissingSetting {
        /// The setting that is missing.
        name: &'static str,
        /// A setting that is set.
        set: &'static str,
    },
    /// A setting is set to the empty string.
    #[error("{name} is set but empty: {hint}")]
    EmptySetting {
        /// The setting.
        name: &'static str,
        /// What it should hold.
        hint: &'static str,
    },
    /// The PIN file cannot be read.
    #[error(
        "cannot read the PIN file {path} named by {PIN_FILE_VAR}: {source}; create it with \
         the token's user PIN and make it readable by the server"
    )]
    PinFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The PIN file is empty (after trailing white space is removed) or not text.
    #[error(
        "the PIN file {path} named by {PIN_FILE_VAR} {problem}: write the token's user PIN \
         into it"
    )]
    BadPin {
        /// The file.
        path: PathBuf,
        /// `is empty` or `is not UTF-8 text`.
        problem: &'static str,
    },
    /// The PKCS#11 module cannot be loaded or initialised.
    #[error(
        "cannot load the PKCS#11 module {path} named by {MODULE_VAR}: {detail}; install the \
         token's PKCS#11 library (for SoftHSM: apt-get install softhsm2, module \
         /usr/lib/softhsm/libsofthsm2.so) or fix the path"
    )]
    ModuleLoad {
        /// The module path.
        path: PathBuf,
        /// What the loader said.
        detail: String,
    },
    /// No token with this label is present.
    #[error(
        "no PKCS#11 token labelled {label:?} named by {TOKEN_VAR} (tokens present: {present}); \
         initialise the token (softhsm2-util --init-token --free --label …) or fix the label"
    )]
    TokenNotFound {
        /// The label looked for.
        label: String,
        /// The labels of the tokens present, or `none`.
        present: String,
    },
    /// Several tokens carry the label.
    #[error(
        "{count} PKCS#11 tokens are labelled {label:?} ({TOKEN_VAR}): give each token its own \
         label"
    )]
    AmbiguousToken {
        /// The label.
        label: String,
        /// How many tokens have it.
        count: usize,
    },
    /// The token refused the login.
    #[error("the token {label:?} refused the login: {detail}")]
    Login {
        /// The token's label.
        label: String,
        /// Why, and what to do.
        detail: String,
    },
    /// A key label that this crate does not accept.
    #[error(
        "invalid key label {label:?}: use 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' \
         and '-'"
    )]
    BadLabel {
        /// The label given.
        label: String,
    },
    /// A key found by its label could leave the token, or is not the expected kind of key.
    #[error(
        "the token object labelled {label:?} {problem}; Signet only uses keys it generated in \
         the token (sensitive, not extractable): remove or relabel that object and let Signet \
         generate the key"
    )]
    KeyRefused {
        /// The label.
        label: String,
        /// What is wrong with it.
        problem: String,
    },
    /// Several key objects carry one label.
    #[error(
        "{count} {what} objects in the token are labelled {label:?}: keep one (the one whose \
         public key is in use) and remove the others"
    )]
    AmbiguousKey {
        /// The label.
        label: String,
        /// Which kind of object.
        what: &'static str,
        /// How many.
        count: usize,
    },
    /// The token lacks a mechanism this key needs.
    #[error("the token does not support {mechanism} ({purpose}); use a token that does")]
    Unsupported {
        /// The mechanism's name.
        mechanism: &'static str,
        /// What it is needed for.
        purpose: &'static str,
    },
    /// The token answered something this crate cannot use.
    #[error("the token returned {0}")]
    BadAnswer(String),
    /// A PKCS#11 call failed.
    #[error("PKCS#11 {operation} failed: {source}")]
    Pkcs11 {
        /// What was being done.
        operation: &'static str,
        /// The PKCS#11 error.
        #[source]
        source: cryptoki::error::Error,
    },
}

/// The result of every operation here.
pub type Result<T, E = HsmError> = std::result::Result<T, E>;

/// A closure mapping a cryptoki error to [`HsmError::Pkcs11`] for `operation`.
fn p11(operation: &'static str) -> impl FnOnce(cryptoki::error::Error) -> HsmError {
    move |source| HsmError::Pkcs11 { operation, source }
}
