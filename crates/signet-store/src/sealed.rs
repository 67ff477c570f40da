//! What the database holds about contracts, sealed with the organisation's key: contract
//! bodies, event details, outbox messages, job payloads and stored API answers are envelopes
//! (`signet-vault`, AES-256-GCM under a fresh data key wrapped by the organisation key), each
//! bound to its row (`contract:ORG/ID`, …) so that a value copied into another row or another
//! organisation does not open. The text a contract is found by is kept only as a blind index:
//! the keyed tokens ([`signet_vault::SearchKey`]) of its 1-, 2- and 3-character pieces.
//!
//! A stored value is `s1:` and the envelope in base64; anything else is a value written before
//! sealing existed, read as it is and sealed by [`crate::Store::seal_plaintext_rows`].

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use signet_vault::{OrgKey, SearchKey};

use crate::{Result, StoreError};

/// The mark of a sealed value.
pub(crate) const SEALED: &str = "s1:";
/// The mark of a value sealed by the master key (a scope that is no organisation).
pub(crate) const MASTER_SEALED: &str = "m1:";

/// An envelope as stored: `mark` and the envelope in base64.
pub(crate) fn stored(mark: &str, envelope: &[u8]) -> String {
    format!("{mark}{}", STANDARD.encode(envelope))
}

/// The envelope of a stored value marked `mark`; `None` for a value without that mark.
pub(crate) fn envelope(mark: &str, context: &str, stored: &str) -> Option<Result<Vec<u8>>> {
    let b64 = stored.strip_prefix(mark)?;
    Some(STANDARD.decode(b64).map_err(|e| StoreError::Corrupt { id: context.to_owned(), reason: format!("the sealed value is not base64 ({e})") }))
}

/// Opened bytes as the text they were.
pub(crate) fn text(context: &str, plain: &[u8]) -> Result<String> {
    String::from_utf8(plain.to_vec()).map_err(|_| StoreError::Corrupt { id: context.to_owned(), reason: "the opened value is not UTF-8".into() })
}

/// An organisation's key and its search key, as the store uses them.
pub(crate) struct RowKey {
    pub(crate) org: String,
    key: OrgKey,
    search: SearchKey,
}

impl RowKey {
    pub(crate) fn new(org: &str, key: OrgKey) -> Self {
        let search = key.search_key();
        RowKey { org: org.to_owned(), key, search }
    }

    /// The organisation key itself (for what is sealed outside the database: documents).
    pub(crate) fn org_key(&self) -> &OrgKey {
        &self.key
    }

    /// `plain` sealed for the row `context`, as stored.
    pub(crate) fn seal(&self, context: &str, plain: &str) -> Result<String> {
        let envelope = self.key.seal(plain.as_bytes(), context.as_bytes()).map_err(|e| StoreError::Keys {
            org: self.org.clone(),
            reason: format!("sealing {context}: {e}"),
        })?;
        Ok(stored(SEALED, &envelope))
    }

    /// A stored value of the row `context`, opened (or as it is, when written unsealed).
    pub(crate) fn open(&self, context: &str, stored: &str) -> Result<String> {
        let Some(envelope) = envelope(SEALED, context, stored) else {
            return Ok(stored.to_owned());
        };
        let plain = self.key.open(&envelope?, context.as_bytes()).map_err(|e| StoreError::Corrupt {
            id: context.to_owned(),
            reason: format!("it does not open with the key of organisation {} ({e}); restore it from a backup", self.org),
        })?;
        text(context, &plain)
    }

    /// The blind index of `text`: the distinct tokens of its pieces, space-separated, with a
    /// space at both ends (so that ` TOKEN ` matches whole tokens only).
    pub(crate) fn index(&self, text: &str) -> String {
        let tokens: BTreeSet<String> = pieces(text).iter().map(|p| self.search.token(p)).collect();
        let mut out = String::with_capacity(tokens.len() * 13 + 1);
        out.push(' ');
        for t in tokens {
            out.push_str(&t);
            out.push(' ');
        }
        out
    }

    /// The tokens a row whose text contains `term` certainly has (at most `max`, spread over
    /// the term); empty for an empty term.
    pub(crate) fn query(&self, term: &str, max: usize) -> Vec<String> {
        let chars: Vec<char> = term.chars().collect();
        let grams: Vec<String> = match chars.len() {
            0 => Vec::new(),
            n @ 1..=3 => vec![chars[..n].iter().collect()],
            n => (0..=n - 3).map(|i| chars[i..i + 3].iter().collect()).collect(),
        };
        let grams: Vec<String> = grams.into_iter().collect::<BTreeSet<_>>().into_iter().collect();
        let step = grams.len().div_ceil(max.max(1)).max(1);
        grams.iter().step_by(step).map(|g| self.search.token(g)).collect()
    }
}

/// Every piece of 1, 2 and 3 characters of `text` (characters, not bytes).
fn pieces(text: &str) -> BTreeSet<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = BTreeSet::new();
    for n in 1..=3 {
        for w in chars.windows(n) {
            out.insert(w.iter().collect());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use signet_vault::{FileMasterKey, Keyring};

    fn key(org: &str) -> RowKey {
        let keyring = Keyring::new(Box::new(FileMasterKey::generate().unwrap())).unwrap();
        RowKey::new(org, keyring.new_org_key().unwrap().0)
    }

    #[test]
    fn a_query_s_tokens_are_in_the_index_of_every_text_containing_it() {
        let k = key("org_a");
        let text = "lease 租赁合同 ht-000001 李四 li@example.com";
        let index = k.index(text);
        for term in ["l", "le", "lea", "lease", "租", "租赁", "租赁合同", "li@example", "000001 李"] {
            let q = k.query(term, 8);
            assert!(!q.is_empty() && q.len() <= 8, "{term}: {q:?}");
            assert!(q.iter().all(|t| index.contains(&format!(" {t} "))), "{term}");
        }
        assert!(k.query("", 8).is_empty());
        let missing = k.query("zhang", 8);
        assert!(!missing.iter().all(|t| index.contains(&format!(" {t} "))));
        // The index holds no piece of the text.
        for piece in ["lease", "租", "li@", "000001"] {
            assert!(!index.contains(piece), "{piece}");
        }
    }

    #[test]
    fn sealed_values_open_only_in_their_row_and_organisation() {
        let (a, b) = (key("org_a"), key("org_b"));
        let stored = a.seal("contract:org_a/ct_1", "{\"title\":\"租赁\"}").unwrap();
        assert!(stored.starts_with(SEALED) && !stored.contains("租赁"));
        assert_eq!(a.open("contract:org_a/ct_1", &stored).unwrap(), "{\"title\":\"租赁\"}");
        assert!(matches!(a.open("contract:org_a/ct_2", &stored), Err(StoreError::Corrupt { .. })), "another row");
        assert!(matches!(b.open("contract:org_a/ct_1", &stored), Err(StoreError::Corrupt { .. })), "another organisation");
        let mut tampered = stored.clone();
        tampered.replace_range(10..11, if &stored[10..11] == "A" { "B" } else { "A" });
        assert!(a.open("contract:org_a/ct_1", &tampered).is_err());
        assert!(a.open("contract:org_a/ct_1", "s1:not base64!").is_err());
        assert_eq!(a.open("contract:org_a/ct_1", "{\"old\":1}").unwrap(), "{\"old\":1}", "written before sealing");
    }
}
