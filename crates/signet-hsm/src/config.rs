//! The three settings that put the installation's keys in a PKCS#11 token.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::{HsmError, Result};

/// The PKCS#11 module (shared library) path, e.g. `/usr/lib/softhsm/libsofthsm2.so`.
pub const MODULE_VAR: &str = "SIGNET_KEYS_PKCS11_MODULE";
/// The label of the token holding the keys.
pub const TOKEN_VAR: &str = "SIGNET_KEYS_PKCS11_TOKEN";
/// A file holding the token's user PIN (trailing white space ignored).
pub const PIN_FILE_VAR: &str = "SIGNET_KEYS_PKCS11_PIN_FILE";

/// Where the keys are: a PKCS#11 module, a token label and the user PIN. `Debug` hides the
/// PIN.
#[derive(Clone)]
pub struct HsmConfig {
    /// The PKCS#11 module to load.
    pub module: PathBuf,
    /// The token's label.
    pub token_label: String,
    /// The user PIN, zeroed when dropped.
    pub pin: Zeroizing<String>,
}

impl HsmConfig {
    /// Reads [`MODULE_VAR`], [`TOKEN_VAR`] and [`PIN_FILE_VAR`] from the process environment,
    /// and the PIN from its file. `Ok(None)` when none of the three is set (keys are not in a
    /// token).
    ///
    /// # Errors
    /// As [`HsmConfig::from_lookup`].
    pub fn from_env() -> Result<Option<Self>> {
        Self::from_lookup(|name| std::env::var_os(name))
    }

    /// As [`HsmConfig::from_env`], with the settings looked up through `lookup` (a name in, its
    /// value if set out), so callers and tests need not touch the process environment. The PIN
    /// file is read from disk.
    ///
    /// # Errors
    /// [`HsmError::MissingSetting`] when some settings are set and others not;
    /// [`HsmError::EmptySetting`] for a setting set to the empty string;
    /// [`HsmError::PinFile`] when the PIN file cannot be read; [`HsmError::BadPin`] when it
    /// is empty after trailing white space is removed, or not UTF-8.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Option<Self>> {
        let module = lookup(MODULE_VAR);
        let token = lookup(TOKEN_VAR);
        let pin_file = lookup(PIN_FILE_VAR);
        let set = [(MODULE_VAR, &module), (TOKEN_VAR, &token), (PIN_FILE_VAR, &pin_file)];
        let Some((first_set, _)) = set.iter().find(|(_, value)| value.is_some()) else {
            return Ok(None);
        };
        if let Some((missing, _)) = set.iter().find(|(_, value)| value.is_none()) {
            return Err(HsmError::MissingSetting { name: missing, set: first_set });
        }
        let (Some(module), Some(token), Some(pin_file)) = (module, token, pin_file) else {
            // All three were just found to be set.
            return Ok(None);
        };
        if module.is_empty() {
            return Err(HsmError::EmptySetting {
                name: MODULE_VAR,
                hint: "set it to the path of the PKCS#11 library",
            });
        }
        let token_label = token.into_string().map_err(|_| HsmError::EmptySetting {
            name: TOKEN_VAR,
            hint: "a token label is UTF-8 text",
        })?;
        if token_label.is_empty() {
            return Err(HsmError::EmptySetting {
                name: TOKEN_VAR,
                hint: "set it to the label of the token that holds the keys",
            });
        }
        if pin_file.is_empty() {
            return Err(HsmError::EmptySetting {
                name: PIN_FILE_VAR,
                hint: "set it to the path of a file holding the token's user PIN",
            });
        }
        let pin = read_pin(Path::new(&pin_file))?;
        Ok(Some(HsmConfig { module: PathBuf::from(module), token_label, pin }))
    }
}

/// Reads a PIN file: its text without trailing white space, in buffers that are zeroed.
fn read_pin(path: &Path) -> Result<Zeroizing<String>> {
    let bytes = Zeroizing::new(
        std::fs::read(path).map_err(|source| HsmError::PinFile { path: path.into(), source })?,
    );
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| HsmError::BadPin { path: path.into(), problem: "is not UTF-8 text" })?;
    let pin = text.trim_end();
    if pin.is_empty() {
        return Err(HsmError::BadPin { path: path.into(), problem: "is empty" });
    }
    let mut out = Zeroizing::new(String::with_capacity(pin.len()));
    out.push_str(pin);
    Ok(out)
}

impl fmt::Debug for HsmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HsmConfig")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .field("pin", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> + use<> {
        let map: HashMap<String, OsString> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), OsString::from(v))).collect();
        move |name| map.get(name).cloned()
    }

    fn pin_file(dir: &Path, content: &[u8]) -> String {
        let path = dir.join("pin");
        std::fs::write(&path, content).unwrap();
        path.to_str().unwrap().to_owned()
    }

    #[test]
    fn nothing_set_is_no_hsm() {
        assert!(HsmConfig::from_lookup(lookup(&[])).unwrap().is_none());
    }

    #[test]
    fn all_three_set_reads_the_pin_without_trailing_white_space() {
        let dir = tempfile::tempdir().unwrap();
        let pin = pin_file(dir.path(), b"12 34\r\n\t \n");
        let config = HsmConfig::from_lookup(lookup(&[
            (MODULE_VAR, "/usr/lib/softhsm/libsofthsm2.so"),
            (TOKEN_VAR, "signet"),
            (PIN_FILE_VAR, &pin),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(config.module, Path::new("/usr/lib/softhsm/libsofthsm2.so"));
        assert_eq!(config.token_label, "signet");
        assert_eq!(config.pin.as_str(), "12 34");
        let debug = format!("{config:?}");
        assert!(!debug.contains("12 34") && debug.contains("redacted"), "{debug}");
    }

    #[test]
    fn a_partial_configuration_names_what_is_missing() {
        let err =
            HsmConfig::from_lookup(lookup(&[(MODULE_VAR, "/x.so"), (TOKEN_VAR, "t")])).unwrap_err();
        assert!(matches!(err, HsmError::MissingSetting { name: PIN_FILE_VAR, .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains(PIN_FILE_VAR) && message.contains(MODULE_VAR), "{message}");
        let err = HsmConfig::from_lookup(lookup(&[(PIN_FILE_VAR, "/p")])).unwrap_err();
        assert!(matches!(err, HsmError::MissingSetting { name: MODULE_VAR, .. }), "{err:?}");
    }

    #[test]
    fn empty_settings_and_bad_pin_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let good_pin = pin_file(dir.path(), b"1234");
        let cases: [(&[(&str, &str)], &str); 3] = [
            (&[(MODULE_VAR, ""), (TOKEN_VAR, "t"), (PIN_FILE_VAR, &good_pin)], MODULE_VAR),
            (&[(MODULE_VAR, "/m.so"), (TOKEN_VAR, ""), (PIN_FILE_VAR, &good_pin)], TOKEN_VAR),
            (&[(MODULE_VAR, "/m.so"), (TOKEN_VAR, "t"), (PIN_FILE_VAR, "")], PIN_FILE_VAR),
        ];
        for (vars, name) in cases {
            let err = HsmConfig::from_lookup(lookup(vars)).unwrap_err();
            assert!(
                matches!(&err, HsmError::EmptySetting { name: n, .. } if *n == name),
                "{err:?}"
            );
            assert!(err.to_string().contains(name), "{err}");
        }
        let with_pin = |pin: &str| {
            HsmConfig::from_lookup(lookup(&[
                (MODULE_VAR, "/m.so"),
                (TOKEN_VAR, "t"),
                (PIN_FILE_VAR, pin),
            ]))
        };
        let missing = dir.path().join("nope").to_str().unwrap().to_owned();
        let err = with_pin(&missing).unwrap_err();
        assert!(matches!(err, HsmError::PinFile { .. }), "{err:?}");
        assert!(err.to_string().contains(PIN_FILE_VAR) && err.to_string().contains("nope"));
        for (content, problem) in
            [(&b""[..], "is empty"), (b" \n\t\r\n", "is empty"), (b"\xff\xfe", "not UTF-8")]
        {
            let path = pin_file(dir.path(), content);
            let err = with_pin(&path).unwrap_err();
            assert!(matches!(err, HsmError::BadPin { .. }), "{err:?}");
            let message = err.to_string();
            assert!(message.contains(problem) && message.contains(PIN_FILE_VAR), "{message}");
        }
    }
}
