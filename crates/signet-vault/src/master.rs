//! Master keys: the [`MasterKey`] trait every custody backend implements, and
//! [`FileMasterKey`], the key-file backend and its one-line text format.
//!
//! A PKCS#11 HSM is one more implementation of [`MasterKey`] (wrap and unwrap inside the
//! device, the key never leaves it); nothing above this module changes. Reading and writing
//! the key file is the caller's job.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use crate::{KEY_LEN, Result, VaultError, kw_unwrap, kw_wrap, random};

/// A key that wraps organisation keys: the seam between the vault and its key custody.
pub trait MasterKey: Send + Sync {
    /// The key's stable id, stored beside every organisation key it wraps so the right
    /// master key is found after a rotation. 1 to 64 characters of `A-Z a-z 0-9 . _ -`
    /// ([`check_master_key_id`]); never derived so as to reveal the key.
    fn id(&self) -> &str;

    /// Wraps a 32-byte organisation key.
    ///
    /// # Errors
    /// [`VaultError::Backend`] or [`VaultError::Crypto`] when the backend fails.
    fn wrap(&self, key: &[u8]) -> Result<Vec<u8>>;

    /// Unwraps what [`MasterKey::wrap`] produced.
    ///
    /// # Errors
    /// [`VaultError::OrgKeyUnwrap`] when the wrapped bytes are refused (changed, or
    /// wrapped by another key); [`VaultError::Backend`] when the backend fails.
    fn unwrap(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>>;
}

/// Checks that `id` can name a master key: 1 to 64 characters of `A-Z a-z 0-9 . _ -`, so
/// it fits the space-separated text forms of key files and wrapped organisation keys.
///
/// # Errors
/// [`VaultError::BadMasterKeyId`] otherwise.
pub fn check_master_key_id(id: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if id.is_empty() || id.len() > 64 || !id.chars().all(allowed) {
        return Err(VaultError::BadMasterKeyId);
    }
    Ok(())
}

/// The first word of a master key file.
const FILE_TAG: &str = "signet-master-key/v1";

/// A master key held in memory, loaded from (and saved to) a key file: 32 random bytes,
/// AES-256 key wrap with padding (RFC 5649). Zeroed when dropped.
///
/// The file is one line: `signet-master-key/v1 <id> <base64 of the 32 bytes>`. The id is
/// the hex of the first 8 bytes of SHA-256 over a fixed label and the key, so it names the
/// key without revealing it, and a file whose id and key disagree is refused.
pub struct FileMasterKey {
    id: String,
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl FileMasterKey {
    /// A new random master key.
    ///
    /// # Errors
    /// [`VaultError::Crypto`] if the system random number generator fails.
    pub fn generate() -> Result<Self> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        random(key.as_mut())?;
        Ok(Self::from_key(key))
    }

    /// A master key from its 32 raw bytes.
    ///
    /// # Errors
    /// [`VaultError::KeyLength`] if `bytes` is not 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        if bytes.len() != KEY_LEN {
            return Err(VaultError::KeyLength { what: "master key", len: bytes.len() });
        }
        key.copy_from_slice(bytes);
        Ok(Self::from_key(key))
    }

    /// Reads the key file's text (one line, an optional line ending).
    ///
    /// # Errors
    /// [`VaultError::BadKeyFile`] naming what is wrong: not a key file, another version,
    /// more than one line, wrong number of fields, bad base64, wrong key length, or an id
    /// that does not match the key. The message never repeats the file's content.
    pub fn parse(text: &str) -> Result<Self> {
        let line = text.strip_suffix('\n').unwrap_or(text);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.contains(['\n', '\r']) {
            return Err(VaultError::BadKeyFile("the file has more than one line"));
        }
        let mut fields = line.split(' ');
        let (Some(tag), Some(id), Some(encoded), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            if !line.starts_with("signet-master-key/") {
                return Err(VaultError::BadKeyFile("this is not a master key file"));
            }
            return Err(VaultError::BadKeyFile(
                "the line does not have exactly three fields separated by single spaces",
            ));
        };
        if tag != FILE_TAG {
            if tag.starts_with("signet-master-key/") {
                return Err(VaultError::BadKeyFile(
                    "unsupported version (this build reads signet-master-key/v1)",
                ));
            }
            return Err(VaultError::BadKeyFile("this is not a master key file"));
        }
        // Decoded into a buffer that is zeroed on every path, failures included.
        let mut buf = Zeroizing::new([0u8; 2 * KEY_LEN]);
        let len = BASE64.decode_slice(encoded, buf.as_mut()).map_err(|err| match err {
            base64::DecodeSliceError::OutputSliceTooSmall => {
                VaultError::BadKeyFile("the key is not 32 bytes long")
            }
            base64::DecodeSliceError::DecodeError(_) => {
                VaultError::BadKeyFile("the key is not valid base64")
            }
        })?;
        let Some(bytes) = buf.get(..len).filter(|bytes| bytes.len() == KEY_LEN) else {
            return Err(VaultError::BadKeyFile("the key is not 32 bytes long"));
        };
        let key = Self::from_bytes(bytes)?;
        if key.id != id {
            return Err(VaultError::BadKeyFile(
                "the id does not match the key (the file was edited or damaged)",
            ));
        }
        Ok(key)
    }

    /// The key file's text, one line ending in a newline. It holds the key: write it to a
    /// file only the server can read, and nowhere else.
    pub fn to_file_text(&self) -> Zeroizing<String> {
        // Sized up front so the buffer holding the key is never reallocated and copied.
        let mut text = Zeroizing::new(String::with_capacity(FILE_TAG.len() + self.id.len() + 48));
        text.push_str(FILE_TAG);
        text.push(' ');
        text.push_str(&self.id);
        text.push(' ');
        BASE64.encode_string(self.key.as_ref(), &mut text);
        text.push('\n');
        text
    }

    fn from_key(key: Zeroizing<[u8; KEY_LEN]>) -> Self {
        use aws_lc_rs::digest::{Context, SHA256};
        let mut ctx = Context::new(&SHA256);
        ctx.update(b"signet-master-key-id/v1\0");
        ctx.update(key.as_ref());
        let digest = ctx.finish();
        let id = digest.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect();
        Self { id, key }
    }
}

impl MasterKey for FileMasterKey {
    fn id(&self) -> &str {
        &self.id
    }

    fn wrap(&self, key: &[u8]) -> Result<Vec<u8>> {
        kw_wrap(&self.key, key)
    }

    fn unwrap(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        kw_unwrap(&self.key, wrapped)
            .ok_or_else(|| VaultError::OrgKeyUnwrap { master_id: self.id.clone() })
    }
}

impl fmt::Debug for FileMasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileMasterKey").field("id", &self.id).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_text_round_trips() {
        let key = FileMasterKey::generate().unwrap();
        let text = key.to_file_text();
        assert!(text.starts_with("signet-master-key/v1 "));
        assert!(text.ends_with('\n'));
        assert_eq!(text.lines().count(), 1);
        let back = FileMasterKey::parse(&text).unwrap();
        assert_eq!(back.id(), key.id());
        assert_eq!(*back.key, *key.key);
        // Without the newline, and with a CRLF ending, too.
        assert_eq!(FileMasterKey::parse(text.trim_end()).unwrap().id(), key.id());
        let crlf = format!("{}\r\n", text.trim_end());
        assert_eq!(FileMasterKey::parse(&crlf).unwrap().id(), key.id());
    }

    #[test]
    fn id_is_derived_from_the_key() {
        let a = FileMasterKey::from_bytes(&[7; 32]).unwrap();
        let b = FileMasterKey::from_bytes(&[7; 32]).unwrap();
        let c = FileMasterKey::from_bytes(&[8; 32]).unwrap();
        assert_eq!(a.id(), b.id());
        assert_ne!(a.id(), c.id());
        assert_eq!(a.id().len(), 16);
        assert!(a.id().chars().all(|c| c.is_ascii_hexdigit()));
        check_master_key_id(a.id()).unwrap();
    }

    #[test]
    fn malformed_key_files_are_refused() {
        let key = FileMasterKey::from_bytes(&[0x42; 32]).unwrap();
        let good = key.to_file_text().trim_end().to_owned();
        let id = key.id().to_owned();
        let b64 = BASE64.encode([0x42; 32]);
        let short = BASE64.encode([0x42; 31]);
        let long = BASE64.encode([0x42; 33]);
        let other_id = FileMasterKey::from_bytes(&[0x43; 32]).unwrap().id().to_owned();
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "not a master key file"),
            ("hello world".into(), "not a master key file"),
            (format!("signet-master-key/v2 {id} {b64}"), "unsupported version"),
            (format!("signet-org-key/v1 {id} {b64}"), "not a master key file"),
            (format!("signet-master-key/v1 {id}"), "exactly three fields"),
            (format!("signet-master-key/v1 {id} {b64} extra"), "exactly three fields"),
            (format!("signet-master-key/v1  {id} {b64}"), "exactly three fields"),
            (format!("signet-master-key/v1\t{id}\t{b64}"), "exactly three fields"),
            (format!("{good}\n{good}\n"), "more than one line"),
            (format!("{good}\n\n"), "more than one line"),
            (format!("signet-master-key/v1 {id} {short}"), "not 32 bytes"),
            (format!("signet-master-key/v1 {id} {long}"), "not 32 bytes"),
            (format!("signet-master-key/v1 {id} {b64}{b64}{b64}"), "not 32 bytes"),
            (format!("signet-master-key/v1 {id} {}", &b64[1..]), "not valid base64"),
            (format!("signet-master-key/v1 {id} {b64}!"), "not valid base64"),
            (format!("signet-master-key/v1 {other_id} {b64}"), "id does not match"),
            (format!("signet-master-key/v1 {} {b64}", id.to_uppercase()), "id does not match"),
        ];
        for (text, expected) in cases {
            let err = FileMasterKey::parse(&text).unwrap_err();
            assert!(matches!(err, VaultError::BadKeyFile(_)), "{text:?}: {err:?}");
            let message = err.to_string();
            assert!(message.contains(expected), "{text:?}: {message}");
            assert!(!message.contains(&b64), "the error repeats the key: {message}");
        }
    }

    #[test]
    fn every_truncation_of_a_key_file_is_refused() {
        let text = FileMasterKey::generate().unwrap().to_file_text();
        // The full line with or without its newline parses; every shorter prefix fails.
        for len in 0..text.len() - 1 {
            let err = FileMasterKey::parse(&text[..len]).unwrap_err();
            assert!(matches!(err, VaultError::BadKeyFile(_)), "prefix {len}: {err:?}");
        }
    }

    #[test]
    fn from_bytes_checks_the_length() {
        for len in [0, 16, 31, 33, 64] {
            let err = FileMasterKey::from_bytes(&vec![1; len]).unwrap_err();
            assert_eq!(err, VaultError::KeyLength { what: "master key", len });
        }
    }

    #[test]
    fn wrap_unwrap_and_a_wrong_master_key() {
        let a = FileMasterKey::generate().unwrap();
        let b = FileMasterKey::generate().unwrap();
        let wrapped = a.wrap(&[9; 32]).unwrap();
        assert_eq!(wrapped.len(), 40);
        assert_eq!(a.unwrap(&wrapped).unwrap().as_slice(), &[9; 32]);
        assert_eq!(
            b.unwrap(&wrapped).unwrap_err(),
            VaultError::OrgKeyUnwrap { master_id: b.id().to_owned() }
        );
        for len in 0..wrapped.len() {
            assert!(a.unwrap(&wrapped[..len]).is_err(), "prefix {len}");
        }
    }

    #[test]
    fn master_key_ids_are_checked() {
        for good in ["a", "0123456789abcdef", "hsm-slot0.key_2", &"x".repeat(64)] {
            check_master_key_id(good).unwrap();
        }
        for bad in ["", " ", "a b", "a:b", "a/b", "é", "a\n", &"x".repeat(65)] {
            assert_eq!(check_master_key_id(bad), Err(VaultError::BadMasterKeyId), "{bad:?}");
        }
    }

    #[test]
    fn debug_shows_the_id_and_not_the_key() {
        let bytes: [u8; 32] = core::array::from_fn(|i| 0xa0 + i as u8);
        let key = FileMasterKey::from_bytes(&bytes).unwrap();
        let debug = format!("{key:?} {key:#?}");
        assert!(debug.contains(key.id()), "{debug}");
        crate::tests::assert_no_key_material(&debug, &bytes);
    }
}
