//! Key arguments given as `VKEY|FILE`: the vkey text itself, or a file holding it.

use std::path::Path;

use anyhow::Context as _;
use signet_ledger::VerifierKey;

/// Reads a verifier key given on the command line either as its text
/// (`name+keyid+base64`) or as the path of a file holding that text (surrounding whitespace
/// ignored).
pub fn read_vkey(arg: &str) -> anyhow::Result<VerifierKey> {
    let path = Path::new(arg);
    let text = if !arg.contains('+') || path.is_file() {
        std::fs::read_to_string(path).with_context(|| {
            format!("`{arg}` is neither a verifier key (name+keyid+base64) nor a readable file holding one")
        })?
    } else {
        arg.to_string()
    };
    VerifierKey::parse(text.trim()).with_context(|| format!("`{arg}` does not hold a valid verifier key (name+keyid+base64)"))
}
