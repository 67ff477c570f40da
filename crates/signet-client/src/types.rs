//! The JSON of the Open API v1, as Rust types: what the server answers (`Contract`, `Event`,
//! `SigningView`, …) and what a caller sends (`ContractMetadata`, `SignRequest`). Field names
//! and enum spellings are the API's (`openapi.json`); times are milliseconds since 1970.
//!
//! Enums the server may grow (statuses, roles, channels) have an `Unknown` variant, so a newer
//! server does not break an older client.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

// --- enums ----------------------------------------------------------------------------------

/// A contract's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// Created, not sent.
    Draft,
    /// Sent; nobody has signed yet.
    Sent,
    /// At least one signer has signed.
    InProgress,
    /// Everyone signed; the documents carry a document time-stamp.
    Completed,
    /// A signer declined.
    Declined,
    /// The sender voided it.
    Voided,
    /// The deadline passed.
    Expired,
    /// A status this client does not know.
    #[serde(other)]
    Unknown,
}

impl Status {
    /// The status's name in the API (`in_progress`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Sent => "sent",
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
            Status::Declined => "declined",
            Status::Voided => "voided",
            Status::Expired => "expired",
            Status::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A recipient's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Role {
    /// Signs (a company representative too, with `company` set).
    #[default]
    Signer,
    /// Receives a copy of the signed documents.
    Cc,
    /// Approves before signers sign (accepted by the API description, refused by the server
    /// for now).
    Approver,
    /// A role this client does not know.
    #[serde(other)]
    Unknown,
}

/// Where a recipient stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecipientStatus {
    /// Their turn has not come.
    Waiting,
    /// Their link was sent.
    Notified,
    /// They signed.
    Signed,
    /// They declined.
    Declined,
    /// A status this client does not know.
    #[serde(other)]
    Unknown,
}

/// How a message or a one-time code travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Channel {
    /// Email.
    Email,
    /// Text message.
    Sms,
    /// A channel this client does not know.
    #[serde(other)]
    Unknown,
}

impl Channel {
    /// The channel's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Unknown => "unknown",
        }
    }
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FieldKind {
    /// A person's signature (typed or drawn mark, and a PAdES signature).
    Signature,
    /// A company seal (company representatives only).
    Seal,
    /// The signing date, filled by the platform.
    Date,
    /// Text the signer types.
    Text,
    /// A check box.
    Checkbox,
    /// A kind this client does not know.
    #[serde(other)]
    Unknown,
}

// --- what the organisation sends ----------------------------------------------------------------

/// The `metadata` part of `POST /api/v1/contracts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractMetadata {
    /// The title (1 to 200 characters).
    pub title: String,
    /// Who signs and who gets a copy.
    pub recipients: Vec<NewRecipient>,
    /// Where each signer signs or fills in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<NewField>,
    /// The deadline, after which the contract expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Deadline>,
    /// Send it right away (else it stays a draft until [`crate::Client::send`]).
    #[serde(default)]
    pub send: bool,
}

impl ContractMetadata {
    /// A contract titled `title` with no recipients or fields yet, not sent on creation.
    pub fn new(title: impl Into<String>) -> Self {
        ContractMetadata { title: title.into(), recipients: Vec::new(), fields: Vec::new(), deadline: None, send: false }
    }
}

/// A deadline: RFC 3339 text (`2026-12-31T18:00:00+08:00`) or milliseconds since 1970.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Deadline {
    /// Milliseconds since 1970.
    Millis(u64),
    /// RFC 3339 date-time.
    Rfc3339(String),
}

/// A recipient of a new contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRecipient {
    /// Their name, as it will appear in the signature.
    pub name: String,
    /// Their email (an email or a phone is needed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Their mobile number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Signer (default) or copy.
    #[serde(default)]
    pub role: Role,
    /// Signing order from 1: everyone of the lowest order not done signs first.
    pub order: u32,
    /// For a company representative: the company they sign for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// The language of their messages, `zh` or `en`; by default the one their name is
    /// written in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

impl NewRecipient {
    /// A signer reached by email, signing in turn `order`.
    pub fn signer(name: impl Into<String>, email: impl Into<String>, order: u32) -> Self {
        NewRecipient { name: name.into(), email: Some(email.into()), phone: None, role: Role::Signer, order, company: None, lang: None }
    }

    /// A copy recipient reached by email, told when everyone has signed.
    pub fn cc(name: impl Into<String>, email: impl Into<String>) -> Self {
        NewRecipient { name: name.into(), email: Some(email.into()), phone: None, role: Role::Cc, order: 1, company: None, lang: None }
    }
}

/// A field of a new contract, placed by page and rectangle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewField {
    /// The recipient's email (or phone) as given in `recipients`.
    pub recipient: String,
    /// What it holds.
    #[serde(rename = "type")]
    pub kind: FieldKind,
    /// The document, from 1.
    pub document: usize,
    /// The page, from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// `[x1, y1, x2, y2]` in PDF points from the page's lower left corner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rect: Option<[f64; 4]>,
    /// Placement by a keyword of the document's text (instead of `rect`): the field goes
    /// just right of it, centred on its line; on `page` only, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    /// Which occurrence of the keyword, from 1 (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurrence: Option<usize>,
    /// `[width, height]` of a field placed by keyword (default: by type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<[f64; 2]>,
    /// `[dx, dy]` moving a field placed by keyword.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<[f64; 2]>,
}

impl NewField {
    /// A field of kind `kind` for `recipient` on `page` of document 1.
    pub fn new(kind: FieldKind, recipient: impl Into<String>, page: u32, rect: [f64; 4]) -> Self {
        NewField { recipient: recipient.into(), kind, document: 1, page: Some(page), rect: Some(rect), keyword: None, occurrence: None, size: None, offset: None }
    }

    /// A field of kind `kind` for `recipient`, placed right of `keyword` in document 1's text.
    pub fn at_keyword(kind: FieldKind, recipient: impl Into<String>, keyword: impl Into<String>) -> Self {
        NewField { recipient: recipient.into(), kind, document: 1, page: None, rect: None, keyword: Some(keyword.into()), occurrence: None, size: None, offset: None }
    }

    /// A signature field for `recipient` on `page` of document 1.
    pub fn signature(recipient: impl Into<String>, page: u32, rect: [f64; 4]) -> Self {
        Self::new(FieldKind::Signature, recipient, page, rect)
    }

    /// The same field on document `document` (from 1).
    pub fn in_document(mut self, document: usize) -> Self {
        self.document = document;
        self
    }
}

// --- what the organisation reads -----------------------------------------------------------------

/// A contract, as its organisation sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    /// `ct_…`.
    pub id: String,
    /// The organisation's running number (`HT-000001`).
    pub number: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: Status,
    /// Created at.
    pub created_at: u64,
    /// Sent at.
    pub sent_at: Option<u64>,
    /// Completed, declined, voided or expired at.
    pub finished_at: Option<u64>,
    /// Deadline.
    pub deadline: Option<u64>,
    /// The documents, in order (document 1 first).
    pub documents: Vec<DocumentInfo>,
    /// The recipients.
    pub recipients: Vec<Recipient>,
    /// The fields.
    pub fields: Vec<Field>,
}

impl Contract {
    /// The recipient with this email.
    pub fn recipient_by_email(&self, email: &str) -> Option<&Recipient> {
        self.recipients.iter().find(|r| r.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email)))
    }
}

/// A document of a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentInfo {
    /// `doc_…`.
    pub id: String,
    /// The uploaded file name.
    pub name: String,
    /// SHA-256 of the uploaded PDF, hex.
    pub sha256: String,
    /// Number of pages.
    pub pages: u32,
}

/// A recipient of a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// `rcp_…`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Role.
    pub role: Role,
    /// The company a representative signs for.
    pub company: Option<String>,
    /// Signing order.
    pub order: u32,
    /// Where they stand.
    pub status: RecipientStatus,
    /// Signed or declined at.
    pub done_at: Option<u64>,
}

/// A field of a contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// `fld_…`.
    pub id: String,
    /// The recipient's email (or phone).
    pub recipient: Option<String>,
    /// What it holds.
    #[serde(rename = "type")]
    pub kind: FieldKind,
    /// The document, from 1.
    pub document: usize,
    /// The page, from 1.
    pub page: u32,
    /// `[x1, y1, x2, y2]` in PDF points.
    pub rect: [f64; 4],
    /// The value, once filled.
    pub value: Option<String>,
}

/// One page of `GET /api/v1/contracts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// The contracts, newest first.
    pub items: Vec<Contract>,
    /// Pass it as `cursor` for the next page; none on the last.
    pub next_cursor: Option<String>,
    /// Contracts in this page's stretch whose stored record does not open (damaged or
    /// changed in the database), left out of `items`; an operator finds them all with
    /// `signet admin check`.
    #[serde(default)]
    pub unreadable: Vec<String>,
}

/// One event of a contract's evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Its number within the contract.
    pub seq: u64,
    /// `created`, `sent`, `notified`, `opened`, `code_sent`, `code_failed`, `code_verified`,
    /// `signed`, `declined`, `voided`, `expired`, `reminded`, `completed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When.
    pub at: u64,
    /// Who: an API key, a user or a recipient id.
    pub actor: String,
    /// The recipient it concerns.
    pub recipient: Option<String>,
    /// That recipient's email.
    pub recipient_email: Option<String>,
    /// Details (a channel, a reason, …).
    #[serde(default)]
    pub data: BTreeMap<String, serde_json::Value>,
    /// Its leaf in the evidence log, once appended.
    pub log_index: Option<u64>,
}

/// A message the platform sent (or keeps for an administrator: the embedded SMS gateway).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// `msg_…`.
    pub id: String,
    /// `email` or `sms`.
    pub channel: Channel,
    /// The email address or phone number.
    pub address: String,
    /// Subject (empty for SMS).
    pub subject: String,
    /// Text.
    pub body: String,
    /// When.
    pub created_at: u64,
}

/// The answer of an idempotent create: the contract, and whether it is a replay of the first
/// answer given to this `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    /// The contract.
    pub contract: Contract,
    /// The server answered with the stored first answer (`idempotent-replayed: true`).
    pub replayed: bool,
}

// --- the signer's side -----------------------------------------------------------------------

/// What a signer sees through their link (`GET /api/v1/signing/{token}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningView {
    /// The sending organisation's name.
    pub organisation: String,
    /// The contract, without other recipients' addresses.
    pub contract: PublicContract,
    /// The signer.
    pub recipient: SigningRecipient,
    /// Whether it is their turn and they may sign now.
    pub can_sign: bool,
    /// Where a one-time code can be sent.
    pub code_channels: Vec<Channel>,
    /// Their fields.
    pub fields: Vec<SigningField>,
}

/// A contract as a signer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicContract {
    /// `ct_…`.
    pub id: String,
    /// Number.
    pub number: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: Status,
    /// Deadline.
    pub deadline: Option<u64>,
    /// The documents.
    pub documents: Vec<PublicDocument>,
    /// The signers, by name.
    pub signers: Vec<PublicSigner>,
}

/// A document as a signer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicDocument {
    /// Its number, from 1 (the `n` of [`crate::Client::signing_document`]).
    pub document: usize,
    /// File name.
    pub name: String,
    /// SHA-256 of the uploaded PDF, hex.
    pub sha256: String,
    /// Pages.
    pub pages: u32,
}

/// A signer as other signers see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicSigner {
    /// Name.
    pub name: String,
    /// Order.
    pub order: u32,
    /// Whether they signed.
    pub signed: bool,
}

/// The signer behind a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningRecipient {
    /// `rcp_…`.
    pub id: String,
    /// Name.
    pub name: String,
    /// `signer` or `cc`.
    pub role: Role,
    /// Their email, masked (`z***@example.com`).
    pub email: Option<String>,
    /// Their phone, masked.
    pub phone: Option<String>,
    /// Where they stand.
    pub status: RecipientStatus,
}

/// A field of the signer's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningField {
    /// `fld_…` (the key of [`SignRequest::fields`]).
    pub id: String,
    /// What it holds.
    #[serde(rename = "type")]
    pub kind: FieldKind,
    /// Document, from 1.
    pub document: usize,
    /// Page, from 1.
    pub page: u32,
    /// `[x1, y1, x2, y2]` in PDF points.
    pub rect: [f64; 4],
    /// Value, once filled.
    pub value: Option<String>,
}

/// The answer to a code request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeSent {
    /// The masked address it went to.
    pub sent_to: String,
    /// The channel.
    pub channel: Channel,
    /// Seconds it stays valid.
    pub expires_in: u64,
}

/// `POST /api/v1/signing/{token}/sign`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignRequest {
    /// The one-time code just received.
    pub code: String,
    /// Values of the signer's text and check-box fields, by field id.
    pub fields: BTreeMap<String, String>,
    /// The visible mark.
    pub signature: SignatureMark,
}

impl SignRequest {
    /// Signs with `code` and a typed name.
    pub fn typed(code: impl Into<String>, name: impl Into<String>) -> Self {
        SignRequest { code: code.into(), fields: BTreeMap::new(), signature: SignatureMark::Typed(name.into()) }
    }

    /// Signs with `code` and a drawn signature (a PNG).
    pub fn drawn(code: impl Into<String>, png: Vec<u8>) -> Self {
        SignRequest { code: code.into(), fields: BTreeMap::new(), signature: SignatureMark::Drawn(png) }
    }
}

/// The visible mark of a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureMark {
    /// The signer's name, typed (1 to 50 characters).
    Typed(String),
    /// A drawn signature as PNG bytes (sent base64-encoded).
    Drawn(Vec<u8>),
}

impl Serialize for SignatureMark {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine as _;
        use serde::ser::SerializeMap as _;
        let mut map = s.serialize_map(Some(1))?;
        match self {
            SignatureMark::Typed(name) => map.serialize_entry("typed_name", name)?,
            SignatureMark::Drawn(png) => {
                map.serialize_entry("image_png_base64", &base64::engine::general_purpose::STANDARD.encode(png))?
            }
        }
        map.end()
    }
}

/// The answer to signing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignOutcome {
    /// The contract's status after this signature (`completed` after the last).
    pub status: Status,
    /// The contract.
    pub contract: PublicContract,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_serialises_as_the_api_reads_it() {
        let mut m = ContractMetadata::new("租赁合同 Lease");
        m.recipients.push(NewRecipient::signer("张三", "zhang@example.com", 1));
        m.recipients.push(NewRecipient::cc("Archive", "archive@example.com"));
        m.fields.push(NewField::signature("zhang@example.com", 2, [50.0, 50.0, 250.0, 110.0]));
        m.send = true;
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            json!({
                "title": "租赁合同 Lease",
                "recipients": [
                    {"name": "张三", "email": "zhang@example.com", "role": "signer", "order": 1},
                    {"name": "Archive", "email": "archive@example.com", "role": "cc", "order": 1},
                ],
                "fields": [{"recipient": "zhang@example.com", "type": "signature", "document": 1, "page": 2, "rect": [50.0, 50.0, 250.0, 110.0]}],
                "send": true,
            })
        );
        // Absent optional members are left out (the server refuses unknown and null-typed ones).
        let bare = serde_json::to_value(ContractMetadata::new("x")).unwrap();
        assert_eq!(bare, json!({"title": "x", "recipients": [], "send": false}));
        let with_deadline = ContractMetadata { deadline: Some(Deadline::Rfc3339("2026-12-31T18:00:00+08:00".into())), ..ContractMetadata::new("x") };
        assert_eq!(serde_json::to_value(with_deadline).unwrap()["deadline"], "2026-12-31T18:00:00+08:00");
        assert_eq!(serde_json::to_value(Deadline::Millis(5)).unwrap(), json!(5));
    }

    #[test]
    fn sign_requests_carry_exactly_one_mark() {
        let typed = serde_json::to_value(SignRequest::typed("123456", "张三")).unwrap();
        assert_eq!(typed, json!({"code": "123456", "fields": {}, "signature": {"typed_name": "张三"}}));
        let mut drawn = SignRequest::drawn("654321", vec![0x89, b'P', b'N', b'G']);
        drawn.fields.insert("fld_x".into(), "yes".into());
        let drawn = serde_json::to_value(drawn).unwrap();
        assert_eq!(drawn, json!({"code": "654321", "fields": {"fld_x": "yes"}, "signature": {"image_png_base64": "iVBORw=="}}));
    }

    #[test]
    fn server_json_decodes_including_values_this_client_does_not_know() {
        let c: Contract = serde_json::from_value(json!({
            "id": "ct_1", "number": "HT-000001", "title": "t", "status": "in_progress",
            "created_at": 1, "sent_at": 2, "finished_at": null, "deadline": null,
            "documents": [{"id": "doc_1", "name": "a.pdf", "sha256": "ab", "pages": 2}],
            "recipients": [{"id": "rcp_1", "name": "n", "email": "a@example.com", "phone": null, "role": "signer",
                            "company": null, "order": 1, "status": "notified", "done_at": null}],
            "fields": [{"id": "fld_1", "recipient": "a@example.com", "type": "signature", "document": 1, "page": 1,
                        "rect": [1, 2, 3, 4], "value": null}],
        }))
        .unwrap();
        assert_eq!(c.status, Status::InProgress);
        assert_eq!(c.recipient_by_email("A@example.com").map(|r| r.status), Some(RecipientStatus::Notified));
        assert_eq!(c.fields[0].rect, [1.0, 2.0, 3.0, 4.0]);
        let s: Status = serde_json::from_value(json!("archived")).unwrap();
        assert_eq!(s, Status::Unknown);
        let m: OutboxMessage = serde_json::from_value(json!({"id": "msg_1", "channel": "fax", "address": "a", "subject": "", "body": "b", "created_at": 3})).unwrap();
        assert_eq!(m.channel, Channel::Unknown);
        assert_eq!(Status::InProgress.to_string(), "in_progress");
    }
}
