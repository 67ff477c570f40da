//! What happened to a contract: every state change is an event, and every event becomes one
//! leaf of the evidence log.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use signet_ledger::event::EvidenceEvent;

use crate::Millis;

/// The kinds of contract events, named as in the API and the evidence log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The contract was created (draft).
    Created,
    /// The sender placed (replaced) the fields of a draft.
    FieldsSet,
    /// The sender changed a draft's title, deadline or recipients.
    DraftEdited,
    /// The sender sent it.
    Sent,
    /// A recipient was sent their link (or, for copies, the result).
    Notified,
    /// A recipient opened their link.
    Opened,
    /// A one-time code was sent to a recipient.
    CodeSent,
    /// A recipient entered a valid one-time code.
    CodeVerified,
    /// A recipient entered a wrong code.
    CodeFailed,
    /// A recipient signed.
    Signed,
    /// An approver approved.
    Approved,
    /// A recipient declined.
    Declined,
    /// The sender voided the contract.
    Voided,
    /// The deadline passed.
    Expired,
    /// Unsigned recipients were reminded.
    Reminded,
    /// Every signer signed.
    Completed,
}

impl EventKind {
    /// Parses an event name.
    pub fn parse(s: &str) -> Option<EventKind> {
        use EventKind::*;
        [Created, FieldsSet, DraftEdited, Sent, Notified, Opened, CodeSent, CodeVerified, CodeFailed, Signed, Approved, Declined, Voided, Expired, Reminded, Completed]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// The event's name in the API and the evidence log.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::FieldsSet => "fields_set",
            EventKind::DraftEdited => "draft_edited",
            EventKind::Sent => "sent",
            EventKind::Notified => "notified",
            EventKind::Opened => "opened",
            EventKind::CodeSent => "code_sent",
            EventKind::CodeVerified => "code_verified",
            EventKind::CodeFailed => "code_failed",
            EventKind::Signed => "signed",
            EventKind::Approved => "approved",
            EventKind::Declined => "declined",
            EventKind::Voided => "voided",
            EventKind::Expired => "expired",
            EventKind::Reminded => "reminded",
            EventKind::Completed => "completed",
        }
    }
}

/// One event of one contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractEvent {
    /// What happened.
    pub kind: EventKind,
    /// When.
    pub at: Millis,
    /// Who acted: a user or API key id, a recipient id, or `system`.
    pub actor: String,
    /// The recipient concerned, if any.
    pub recipient: Option<String>,
    /// Facts: IP address, user agent, reason, channel, document digests, …
    pub data: BTreeMap<String, String>,
}

impl ContractEvent {
    pub(crate) fn new(kind: EventKind, at: Millis, actor: &str) -> Self {
        ContractEvent { kind, at, actor: actor.to_owned(), recipient: None, data: BTreeMap::new() }
    }

    pub(crate) fn for_recipient(mut self, recipient: &str) -> Self {
        self.recipient = Some(recipient.to_owned());
        self
    }

    pub(crate) fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.data.insert(key.to_owned(), value.into());
        self
    }

    /// The evidence-log entry of this event for contract `contract` of organisation `org`.
    /// `subject` is usually the SHA-256 of the documents concerned (`sha256:<hex>`).
    pub fn to_evidence(&self, org: &str, contract: &str, subject: Option<&str>) -> EvidenceEvent {
        let mut data = self.data.clone();
        if let Some(r) = &self.recipient {
            data.insert("recipient".into(), r.clone());
        }
        EvidenceEvent {
            kind: self.kind.as_str().to_owned(),
            time_ms: self.at,
            org: org.to_owned(),
            contract: Some(contract.to_owned()),
            actor: Some(self.actor.clone()),
            subject: subject.map(str::to_owned),
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_encode_canonically_for_the_log() {
        let e = ContractEvent::new(EventKind::CodeVerified, 1_764_300_000_000, "rcp_2")
            .for_recipient("rcp_2")
            .with("channel", "sms")
            .with("ip", "198.51.100.4");
        let bytes = e.to_evidence("org_a", "ct_1", None).encode().unwrap();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"schema":"signet.evidence/v1","type":"code_verified","time_ms":1764300000000,"org":"org_a","contract":"ct_1","actor":"rcp_2","data":{"channel":"sms","ip":"198.51.100.4","recipient":"rcp_2"}}"#
        );
    }
}
