//! The evidence event: what one leaf of the evidence log holds, in a canonical, versioned
//! encoding (schema `signet.evidence/v1`, documented in `docs/ledger.md`).
//!
//! An entry is one line of compact JSON (UTF-8, no insignificant whitespace, no trailing
//! newline) whose members come in this fixed order, optional ones left out when absent:
//!
//! ```text
//! {"schema":"signet.evidence/v1","type":…,"time_ms":…,"org":…,"contract":…,"actor":…,"subject":…,"data":{…}}
//! ```
//!
//! `data` maps strings to strings, keys in byte order. Strings use JSON's shortest escapes
//! (`\"`, `\\`, `\n`, …, `\u00XX` for other control characters; everything else literal).
//! Because each event has exactly one encoding, anyone holding the event's facts can rebuild
//! the bytes, hash them and check the leaf; [`EvidenceEvent::decode`] refuses any other
//! spelling of the same facts.

use std::collections::BTreeMap;

use crate::LedgerError;
use crate::tile::MAX_ENTRY_SIZE;

/// The schema name and version written in every entry.
pub const SCHEMA_V1: &str = "signet.evidence/v1";

/// One evidence event.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct EvidenceEvent {
    /// What happened: `sent`, `opened`, `code_verified`, `signed`, … (lowercase ASCII, digits, `_`, `.`).
    pub kind: String,
    /// When, in milliseconds since 1970-01-01T00:00:00Z (UTC).
    pub time_ms: u64,
    /// The organisation (tenant) it belongs to.
    pub org: String,
    /// The contract, when the event concerns one.
    pub contract: Option<String>,
    /// Who acted (a user, recipient or system component), when known.
    pub actor: Option<String>,
    /// What the event is about, usually a document digest `sha256:<hex>`.
    pub subject: Option<String>,
    /// Further facts (IP address, user agent, reason, …).
    pub data: BTreeMap<String, String>,
}

impl EvidenceEvent {
    /// The canonical entry bytes. Fails on an invalid kind or an entry over 65,535 bytes.
    pub fn encode(&self) -> Result<Vec<u8>, LedgerError> {
        if self.kind.is_empty()
            || self.kind.len() > 64
            || !self
                .kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
        {
            return Err(LedgerError::Event("type must be 1–64 characters of a-z, 0-9, '_' or '.'"));
        }
        let mut out = String::with_capacity(160);
        out.push_str("{\"schema\":");
        push_str(&mut out, SCHEMA_V1);
        out.push_str(",\"type\":");
        push_str(&mut out, &self.kind);
        out.push_str(",\"time_ms\":");
        out.push_str(&self.time_ms.to_string());
        out.push_str(",\"org\":");
        push_str(&mut out, &self.org);
        for (name, value) in [("contract", &self.contract), ("actor", &self.actor), ("subject", &self.subject)] {
            if let Some(v) = value {
                out.push_str(",\"");
                out.push_str(name);
                out.push_str("\":");
                push_str(&mut out, v);
            }
        }
        out.push_str(",\"data\":{");
        for (i, (k, v)) in self.data.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_str(&mut out, k);
            out.push(':');
            push_str(&mut out, v);
        }
        out.push_str("}}");
        if out.len() > MAX_ENTRY_SIZE {
            return Err(LedgerError::EntryTooLarge(out.len()));
        }
        Ok(out.into_bytes())
    }

    /// Parses an entry, accepting only the canonical encoding of a `signet.evidence/v1` event.
    pub fn decode(bytes: &[u8]) -> Result<Self, LedgerError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|_| LedgerError::Event("not JSON"))?;
        let obj = value.as_object().ok_or(LedgerError::Event("not a JSON object"))?;
        let text = |name: &str| -> Result<Option<String>, LedgerError> {
            match obj.get(name) {
                None => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(LedgerError::Event("a member that must be a string is not")),
            }
        };
        if text("schema")?.as_deref() != Some(SCHEMA_V1) {
            return Err(LedgerError::Event("schema is not signet.evidence/v1"));
        }
        let time_ms = obj
            .get("time_ms")
            .and_then(serde_json::Value::as_u64)
            .ok_or(LedgerError::Event("time_ms missing or not a non-negative integer"))?;
        let mut data = BTreeMap::new();
        match obj.get("data") {
            Some(serde_json::Value::Object(map)) => {
                for (k, v) in map {
                    let v = v.as_str().ok_or(LedgerError::Event("data values must be strings"))?;
                    data.insert(k.clone(), v.to_owned());
                }
            }
            _ => return Err(LedgerError::Event("data missing or not an object")),
        }
        let event = EvidenceEvent {
            kind: text("type")?.ok_or(LedgerError::Event("type missing"))?,
            time_ms,
            org: text("org")?.ok_or(LedgerError::Event("org missing"))?,
            contract: text("contract")?,
            actor: text("actor")?,
            subject: text("subject")?,
            data,
        };
        if event.encode()? != bytes {
            return Err(LedgerError::Event("not the canonical encoding (member order, spacing, escapes or unknown members)"));
        }
        Ok(event)
    }
}

/// Appends `s` as a JSON string with the shortest escapes.
fn push_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> EvidenceEvent {
        let mut data = BTreeMap::new();
        data.insert("user_agent".into(), "Mozilla/5.0 \"x\"".into());
        data.insert("ip".into(), "203.0.113.7".into());
        EvidenceEvent {
            kind: "opened".into(),
            time_ms: 1_764_300_000_123,
            org: "org_1".into(),
            contract: Some("ct_9".into()),
            actor: Some("张三 <zhang@example.com>".into()),
            subject: None,
            data,
        }
    }

    #[test]
    fn encoding_is_fixed_and_round_trips() {
        let bytes = sample().encode().unwrap();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"schema":"signet.evidence/v1","type":"opened","time_ms":1764300000123,"org":"org_1","contract":"ct_9","actor":"张三 <zhang@example.com>","data":{"ip":"203.0.113.7","user_agent":"Mozilla/5.0 \"x\""}}"#
        );
        assert_eq!(EvidenceEvent::decode(&bytes).unwrap(), sample());
    }

    #[test]
    fn control_characters_escape_like_json() {
        let mut e = sample();
        e.data.insert("reason".into(), "a\u{1}b\nc\u{7f}".into());
        let bytes = e.encode().unwrap();
        let parsed: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(parsed["data"]["reason"], "a\u{1}b\nc\u{7f}");
        assert_eq!(EvidenceEvent::decode(&bytes).unwrap(), e);
    }

    #[test]
    fn other_spellings_of_the_same_facts_are_refused() {
        let canonical = String::from_utf8(sample().encode().unwrap()).unwrap();
        let spaced = canonical.replacen(",\"org\"", ", \"org\"", 1);
        let reordered = canonical.replacen(
            "\"type\":\"opened\",\"time_ms\":1764300000123",
            "\"time_ms\":1764300000123,\"type\":\"opened\"",
            1,
        );
        let escaped = canonical.replacen("203", "\\u0032\\u00303", 1);
        let extra = canonical.replacen("\"data\"", "\"x\":\"y\",\"data\"", 1);
        let newline = format!("{canonical}\n");
        for bad in [spaced, reordered, escaped, extra, newline] {
            assert!(EvidenceEvent::decode(bad.as_bytes()).is_err(), "accepted {bad}");
        }
        let wrong_schema = canonical.replacen("evidence/v1", "evidence/v2", 1);
        assert!(EvidenceEvent::decode(wrong_schema.as_bytes()).is_err());
    }

    #[test]
    fn bad_kinds_and_huge_events_are_refused() {
        let mut e = sample();
        e.kind = "Signed!".into();
        assert!(e.encode().is_err());
        let mut e = sample();
        e.data.insert("blob".into(), "x".repeat(70_000));
        assert!(matches!(e.encode(), Err(LedgerError::EntryTooLarge(_))));
    }
}
