//! The token: module loading, slot lookup by label, login, the session pool, and the
//! object look-ups every key type shares.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::MechanismType;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

use crate::{HsmConfig, HsmError, Result, p11};

/// Idle sessions kept open for reuse; more are opened when more threads sign at once.
const MAX_IDLE_SESSIONS: usize = 8;

/// Checks a key label: 1 to 64 characters of `A-Z a-z 0-9 . _ -` (the master key's label is
/// its id in wrapped organisation keys, which allow exactly these).
///
/// # Errors
/// [`HsmError::BadLabel`] otherwise.
pub fn check_key_label(label: &str) -> Result<()> {
    signet_vault::check_master_key_id(label)
        .map_err(|_| HsmError::BadLabel { label: label.to_owned() })
}

/// A logged-in PKCS#11 token. Clones share the login and the session pool; keys made from
/// it keep it open.
#[derive(Clone)]
pub struct Token {
    inner: Arc<Inner>,
}

struct Inner {
    pkcs11: Pkcs11,
    slot: Slot,
    label: String,
    /// Opened first and logged in; kept open so the login lasts as long as the token.
    _login: Mutex<Session>,
    idle: Mutex<Vec<Session>>,
    /// Serialises find-or-generate within this process, so two threads asking for the same
    /// label do not both generate it.
    generating: Mutex<()>,
}

/// What a key's private or secret object says about its custody (read from the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyCustody {
    /// `CKA_TOKEN`: stored in the token (false for session objects).
    pub token_object: bool,
    /// `CKA_PRIVATE`: only visible after login.
    pub private: bool,
    /// `CKA_SENSITIVE`: the value cannot be read.
    pub sensitive: bool,
    /// `CKA_ALWAYS_SENSITIVE`: it never was readable.
    pub always_sensitive: bool,
    /// `CKA_EXTRACTABLE`: it could be wrapped out of the token.
    pub extractable: bool,
    /// `CKA_NEVER_EXTRACTABLE`: it never could be.
    pub never_extractable: bool,
    /// `CKA_LOCAL`: generated in the token.
    pub local: bool,
    /// Whether asking for `CKA_VALUE` returned a value.
    pub value_readable: bool,
}

/// Locks a mutex, carrying on after a panic elsewhere (the data are sessions and unit
/// values: nothing a panic leaves half-changed).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The initialised PKCS#11 module at `path`: loaded and initialised on first use, shared
/// afterwards (`C_Initialize` may run once per process).
fn module(path: &Path) -> Result<Pkcs11> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let load_error = |detail: String| HsmError::ModuleLoad { path: path.to_owned(), detail };
    let key = path.canonicalize().map_err(|err| load_error(err.to_string()))?;
    let mut modules = lock(MODULES.get_or_init(Default::default));
    if let Some(pkcs11) = modules.get(&key) {
        return Ok(pkcs11.clone());
    }
    let pkcs11 = Pkcs11::new(&key).map_err(|err| load_error(err.to_string()))?;
    match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(err) => return Err(load_error(format!("C_Initialize failed: {err}"))),
    }
    modules.insert(key, pkcs11.clone());
    Ok(pkcs11)
}

impl Token {
    /// Loads the module, finds the slot whose token has the configured label and logs in as
    /// the user.
    ///
    /// If this process is already logged in to the token (another [`Token`] on it is alive),
    /// PKCS#11 reports that and the login stands: the PIN is then not checked again.
    ///
    /// # Errors
    /// [`HsmError::ModuleLoad`], [`HsmError::TokenNotFound`], [`HsmError::AmbiguousToken`],
    /// [`HsmError::Login`] (wrong or locked PIN), [`HsmError::Pkcs11`].
    pub fn open(config: &HsmConfig) -> Result<Self> {
        let pkcs11 = module(&config.module)?;
        let slot = find_slot(&pkcs11, &config.token_label)?;
        let login = pkcs11.open_rw_session(slot).map_err(p11("opening a session"))?;
        let pin = AuthPin::from(config.pin.as_str());
        let refused = |detail: &str| HsmError::Login {
            label: config.token_label.clone(),
            detail: detail.to_owned(),
        };
        match login.login(UserType::User, Some(&pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => {
                return Err(refused(
                    "the user PIN is wrong; put the token's user PIN into the file named by \
                     SIGNET_KEYS_PKCS11_PIN_FILE",
                ));
            }
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => {
                return Err(refused(
                    "the user PIN is locked after too many wrong tries; unlock it with the \
                     security officer PIN",
                ));
            }
            Err(CkError::Pkcs11(RvError::UserPinNotInitialized, _)) => {
                return Err(refused("the token has no user PIN yet; initialise it first"));
            }
            Err(err) => return Err(refused(&err.to_string())),
        }
        Ok(Token {
            inner: Arc::new(Inner {
                pkcs11,
                slot,
                label: config.token_label.clone(),
                _login: Mutex::new(login),
                idle: Mutex::new(Vec::new()),
                generating: Mutex::new(()),
            }),
        })
    }

    /// The token's label.
    pub fn label(&self) -> &str {
        &self.inner.label
    }

    /// Whether an object (a key, public or private, token or session object of this process)
    /// with this label is visible in the token.
    ///
    /// # Errors
    /// [`HsmError::Pkcs11`].
    pub fn contains(&self, label: &str) -> Result<bool> {
        self.with_session(|session| {
            let found = session
                .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
                .map_err(p11("finding objects"))?;
            Ok(!found.is_empty())
        })
    }

    /// Runs `f` with a session from the pool (or a new one), and gives the session back when
    /// `f` succeeded (a failed session may be unusable; it is closed).
    pub(crate) fn with_session<T>(&self, f: impl FnOnce(&Session) -> Result<T>) -> Result<T> {
        let pooled = lock(&self.inner.idle).pop();
        let session = match pooled {
            Some(session) => session,
            None => self.open_session()?,
        };
        let out = f(&session);
        if out.is_ok() {
            let mut idle = lock(&self.inner.idle);
            if idle.len() < MAX_IDLE_SESSIONS {
                idle.push(session);
            }
        }
        out
    }

    /// A new read-write session, outside the pool (for keys that need their own).
    pub(crate) fn open_session(&self) -> Result<Session> {
        self.inner.pkcs11.open_rw_session(self.inner.slot).map_err(p11("opening a session"))
    }

    /// Holds the in-process generation lock.
    pub(crate) fn generation_lock(&self) -> MutexGuard<'_, ()> {
        lock(&self.inner.generating)
    }

    /// Fails with [`HsmError::Unsupported`] unless the token offers `mechanism`.
    pub(crate) fn require(
        &self,
        mechanism: MechanismType,
        name: &'static str,
        purpose: &'static str,
    ) -> Result<()> {
        let list = self
            .inner
            .pkcs11
            .get_mechanism_list(self.inner.slot)
            .map_err(p11("listing mechanisms"))?;
        if list.contains(&mechanism) {
            Ok(())
        } else {
            Err(HsmError::Unsupported { mechanism: name, purpose })
        }
    }

    /// The one object of `class` (and `key_type`) with this label, if any.
    pub(crate) fn find_one(
        &self,
        session: &Session,
        label: &str,
        class: ObjectClass,
        key_type: KeyType,
        what: &'static str,
    ) -> Result<Option<ObjectHandle>> {
        let template = [Attribute::Class(class), Attribute::Label(label.as_bytes().to_vec())];
        let found = session.find_objects(&template).map_err(p11("finding keys"))?;
        match found.as_slice() {
            [] => Ok(None),
            [one] => {
                let kind = session
                    .get_attributes(*one, &[AttributeType::KeyType])
                    .map_err(p11("reading a key's type"))?;
                match kind.first() {
                    Some(Attribute::KeyType(found)) if *found == key_type => Ok(Some(*one)),
                    Some(Attribute::KeyType(found)) => Err(HsmError::KeyRefused {
                        label: label.to_owned(),
                        problem: format!("is a {found} key where {what} is expected"),
                    }),
                    _ => Err(HsmError::BadAnswer(format!("no key type for {label:?}"))),
                }
            }
            more => Err(HsmError::AmbiguousKey { label: label.to_owned(), what, count: more.len() }),
        }
    }

    /// Refuses a found key that could leave the token or is not a token object.
    pub(crate) fn check_custody(
        &self,
        session: &Session,
        object: ObjectHandle,
        label: &str,
    ) -> Result<()> {
        let custody = custody_of(session, object)?;
        let problem = if !custody.token_object {
            "is not a token object"
        } else if !custody.sensitive {
            "is not sensitive (CKA_SENSITIVE is false)"
        } else if custody.extractable {
            "is extractable (CKA_EXTRACTABLE is true)"
        } else if custody.value_readable {
            "lets its value be read"
        } else {
            return Ok(());
        };
        Err(HsmError::KeyRefused { label: label.to_owned(), problem: problem.to_owned() })
    }

    /// 16 random bytes from the token, for `CKA_ID` and session object labels.
    pub(crate) fn random_id(&self, session: &Session) -> Result<Vec<u8>> {
        session.generate_random_vec(16).map_err(p11("drawing random bytes"))
    }
}

/// Reads the custody attributes of `object`.
pub(crate) fn custody_of(session: &Session, object: ObjectHandle) -> Result<KeyCustody> {
    let wanted = [
        AttributeType::Token,
        AttributeType::Private,
        AttributeType::Sensitive,
        AttributeType::AlwaysSensitive,
        AttributeType::Extractable,
        AttributeType::NeverExtractable,
        AttributeType::Local,
    ];
    let attributes =
        session.get_attributes(object, &wanted).map_err(p11("reading key attributes"))?;
    let mut custody = KeyCustody {
        token_object: false,
        private: false,
        sensitive: false,
        always_sensitive: false,
        extractable: true,
        never_extractable: false,
        local: false,
        value_readable: true,
    };
    for attribute in attributes {
        match attribute {
            Attribute::Token(v) => custody.token_object = v,
            Attribute::Private(v) => custody.private = v,
            Attribute::Sensitive(v) => custody.sensitive = v,
            Attribute::AlwaysSensitive(v) => custody.always_sensitive = v,
            Attribute::Extractable(v) => custody.extractable = v,
            Attribute::NeverExtractable(v) => custody.never_extractable = v,
            Attribute::Local(v) => custody.local = v,
            _ => {}
        }
    }
    // cryptoki leaves out attributes the token refuses (CKR_ATTRIBUTE_SENSITIVE).
    custody.value_readable = match session.get_attributes(object, &[AttributeType::Value]) {
        Ok(values) => values.iter().any(|a| matches!(a, Attribute::Value(_))),
        Err(CkError::Pkcs11(RvError::AttributeSensitive, _)) => false,
        Err(err) => return Err(p11("reading a key value")(err)),
    };
    Ok(custody)
}

/// The slot whose token has this label (labels are blank-padded in PKCS#11; compared
/// without the padding).
fn find_slot(pkcs11: &Pkcs11, label: &str) -> Result<Slot> {
    let slots = pkcs11.get_slots_with_token().map_err(p11("listing slots"))?;
    let mut present = Vec::new();
    let mut matching = Vec::new();
    for slot in slots {
        let info = pkcs11.get_token_info(slot).map_err(p11("reading token information"))?;
        if !info.token_initialized() {
            continue;
        }
        let found = info.label().trim_end();
        if found == label {
            matching.push(slot);
        }
        present.push(format!("{found:?}"));
    }
    match matching.as_slice() {
        [one] => Ok(*one),
        [] => Err(HsmError::TokenNotFound {
            label: label.to_owned(),
            present: if present.is_empty() { "none".to_owned() } else { present.join(", ") },
        }),
        more => Err(HsmError::AmbiguousToken { label: label.to_owned(), count: more.len() }),
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token").field("label", &self.inner.label).finish_non_exhaustive()
    }
}
