//! Contracts and their signing state machine.
//!
//! ```text
//!  draft ──send──▶ sent ──first signature──▶ in_progress ──last signature──▶ completed
//!    │               │ │                          │ │
//!    └──void──▶ voided ◀──void───────────────────┘ │        decline ──▶ declined
//!                    └── deadline passed ──────────┴──────▶ expired
//! ```
//!
//! Signers sign in groups of equal `order`, lowest first; within a group, in any order
//! (parallel). Copy recipients sign nothing and are notified on completion. Every command
//! checks the actor (organisation, role, ownership) first, then the state, then the input, and
//! only then changes anything: a refused command leaves the contract as it was.

use serde::{Deserialize, Serialize};

use crate::event::{ContractEvent, EventKind};
use crate::org::{Actor, Permission};
use crate::{DomainError, Millis};

/// A contract's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being prepared; nobody has been asked to sign.
    Draft,
    /// Sent; nobody has signed yet.
    Sent,
    /// Some signers have signed.
    InProgress,
    /// Every signer signed.
    Completed,
    /// A signer declined.
    Declined,
    /// The sender withdrew it.
    Voided,
    /// The deadline passed first.
    Expired,
}

impl Status {
    /// The status's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Sent => "sent",
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
            Status::Declined => "declined",
            Status::Voided => "voided",
            Status::Expired => "expired",
        }
    }

    /// Parses an API status name.
    pub fn parse(s: &str) -> Option<Status> {
        [Status::Draft, Status::Sent, Status::InProgress, Status::Completed, Status::Declined, Status::Voided, Status::Expired]
            .into_iter()
            .find(|st| st.as_str() == s)
    }

    /// Whether signers can still act.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Sent | Status::InProgress)
    }
}

/// What a recipient does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RecipientRole {
    /// A person signing for themselves.
    Signer,
    /// A person signing for a company (whose seal they may apply).
    CompanySigner {
        /// The company's name.
        company: String,
    },
    /// Receives the signed result; signs nothing.
    Copy,
    /// Approves in their turn (with a one-time code, recorded as evidence) without signing
    /// the PDF.
    Approver,
}

/// Where a recipient stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientStatus {
    /// Not yet asked (a later signing group, or the contract is a draft).
    Waiting,
    /// Sent their link.
    Notified,
    /// Signed.
    Signed,
    /// Declined.
    Declined,
}

/// A recipient of a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// Id (`rcp_…`).
    pub id: String,
    /// Name as it will appear in the certificate and the evidence report.
    pub name: String,
    /// Email address, if any.
    pub email: Option<String>,
    /// Phone number (E.164), if any.
    pub phone: Option<String>,
    /// What they do.
    pub role: RecipientRole,
    /// Signing order; equal orders sign in parallel.
    pub order: u32,
    /// Where they stand.
    pub status: RecipientStatus,
    /// When they last verified a one-time code (valid for this signing session).
    pub verified_at: Option<Millis>,
    /// When they signed or declined.
    pub done_at: Option<Millis>,
    /// The language of their messages (`zh` or `en`), when the sender chose one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

impl Recipient {
    /// Whether the recipient takes a turn (signers and approvers).
    pub fn signs(&self) -> bool {
        !matches!(self.role, RecipientRole::Copy)
    }

    /// Whether the recipient puts a signature into the PDF (signers, not approvers).
    pub fn signs_pdf(&self) -> bool {
        matches!(self.role, RecipientRole::Signer | RecipientRole::CompanySigner { .. })
    }
}

/// The kinds of fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// A signature appearance.
    Signature,
    /// A company seal.
    Seal,
    /// The signing date, filled in at signing.
    Date,
    /// Free text the signer types.
    Text,
    /// A checkbox.
    Checkbox,
}

impl FieldKind {
    /// The kind's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Signature => "signature",
            FieldKind::Seal => "seal",
            FieldKind::Date => "date",
            FieldKind::Text => "text",
            FieldKind::Checkbox => "checkbox",
        }
    }

    /// Parses an API field type.
    pub fn parse(s: &str) -> Result<FieldKind, DomainError> {
        [FieldKind::Signature, FieldKind::Seal, FieldKind::Date, FieldKind::Text, FieldKind::Checkbox]
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DomainError::invalid("type", format!("{s:?} is not a field type; use signature, seal, date, text or checkbox")))
    }

    /// The size a field of this kind gets when only its place is known (placement by
    /// keyword), in PDF points: `[width, height]`.
    pub fn default_size(self) -> [f64; 2] {
        match self {
            FieldKind::Signature => [150.0, 50.0],
            FieldKind::Seal => [120.0, 120.0],
            FieldKind::Date => [110.0, 20.0],
            FieldKind::Text => [160.0, 20.0],
            FieldKind::Checkbox => [14.0, 14.0],
        }
    }
}

/// A rectangle in PDF points from the page's bottom-left corner: `[x1, y1, x2, y2]`.
pub type Rect = [f64; 4];

/// Where a field placed by keyword goes: just right of the text found (`anchor`), centred on
/// its line, moved by `offset` (`[dx, dy]`, points), of `size` (or the kind's default), and
/// shifted back inside the page (`page` = `[x1, y1, x2, y2]`) when it would stick out. Fails
/// when the field is larger than the page.
pub fn place_by_keyword(kind: FieldKind, anchor: Rect, page: Rect, size: Option<[f64; 2]>, offset: Option<[f64; 2]>) -> Result<Rect, DomainError> {
    let [w, h] = size.unwrap_or_else(|| kind.default_size());
    let [dx, dy] = offset.unwrap_or([0.0, 0.0]);
    if !(w.is_finite() && h.is_finite() && w >= 4.0 && h >= 4.0) || !(dx.is_finite() && dy.is_finite()) {
        return Err(DomainError::invalid("size", "the size is [width, height] in points, each at least 4"));
    }
    if w > page[2] - page[0] || h > page[3] - page[1] {
        return Err(DomainError::invalid("size", format!("a field of {w} x {h} points does not fit on the page")));
    }
    let x1 = anchor[2] + 4.0 + dx;
    let y1 = (anchor[1] + anchor[3]) / 2.0 - h / 2.0 + dy;
    let x1 = x1.min(page[2] - w).max(page[0]);
    let y1 = y1.min(page[3] - h).max(page[1]);
    Ok([x1, y1, x1 + w, y1 + h])
}

/// A field placed on a document for a recipient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Id (`fld_…`).
    pub id: String,
    /// The recipient who fills it.
    pub recipient: String,
    /// Which document (index in [`Contract::documents`]).
    pub document: usize,
    /// The kind.
    pub kind: FieldKind,
    /// Page, from 1.
    pub page: u32,
    /// Where on the page.
    pub rect: Rect,
    /// The value filled in (text, `true`/`false`, the date), once signed.
    pub value: Option<String>,
}

/// A PDF document of a contract, as far as the domain needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Id (`doc_…`).
    pub id: String,
    /// File name as uploaded.
    pub name: String,
    /// SHA-256 of the original bytes, hex.
    pub sha256: String,
    /// Each page's width and height in points (its media box).
    pub pages: Vec<(f64, f64)>,
    /// The stored name of its newest signed version, once someone signed.
    #[serde(default)]
    pub signed_blob: Option<String>,
}

/// A contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    /// Id (`ct_…`).
    pub id: String,
    /// The organisation it belongs to.
    pub org: String,
    /// The member or API key that created it.
    pub sender: String,
    /// Title.
    pub title: String,
    /// Human-facing number, unique in the organisation (e.g. `HT-2026-000123`).
    pub number: String,
    /// Status.
    pub status: Status,
    /// Documents, in order.
    pub documents: Vec<Document>,
    /// Recipients, in the order given.
    pub recipients: Vec<Recipient>,
    /// Fields.
    pub fields: Vec<Field>,
    /// Deadline, if any.
    pub deadline: Option<Millis>,
    /// Created, sent, finished (completed, declined, voided or expired).
    pub created_at: Millis,
    /// When it was sent.
    pub sent_at: Option<Millis>,
    /// When it reached a final status.
    pub finished_at: Option<Millis>,
}

/// A recipient as given when creating a contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecipient {
    /// Id to give it.
    pub id: String,
    /// Name.
    pub name: String,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Role.
    pub role: RecipientRole,
    /// Order (defaults to 1 in the API).
    pub order: u32,
    /// Language of their messages: `zh`, `en`, or `None` to guess from the name.
    pub lang: Option<String>,
}

/// A field as given when creating a contract, by recipient email or phone.
#[derive(Debug, Clone, PartialEq)]
pub struct NewField {
    /// Id to give it.
    pub id: String,
    /// The recipient's email (or phone).
    pub recipient: String,
    /// Document index.
    pub document: usize,
    /// Kind.
    pub kind: FieldKind,
    /// Page from 1.
    pub page: u32,
    /// Rectangle.
    pub rect: Rect,
}

/// A draft's new title, deadline and recipients ([`Contract::edit_draft`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DraftEdit {
    /// Title.
    pub title: String,
    /// Deadline, or none.
    pub deadline: Option<Millis>,
    /// Every recipient, in order; an existing recipient is named by their id.
    pub recipients: Vec<NewRecipient>,
}

/// Everything needed to create a contract.
#[derive(Debug, Clone, PartialEq)]
pub struct NewContract {
    /// Id to give it.
    pub id: String,
    /// Title.
    pub title: String,
    /// Number.
    pub number: String,
    /// Documents (already read and checked as PDFs by the caller).
    pub documents: Vec<Document>,
    /// Recipients.
    pub recipients: Vec<NewRecipient>,
    /// Fields.
    pub fields: Vec<NewField>,
    /// Deadline.
    pub deadline: Option<Millis>,
}

fn plausible_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else { return false };
    !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !e.chars().any(|c| c.is_whitespace() || c.is_control()) && e.len() <= 254
}

fn plausible_phone(p: &str) -> bool {
    let digits = p.strip_prefix('+').unwrap_or(p);
    (6..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

impl Contract {
    /// Creates a draft, checking every input. Returns the contract and its `created` event.
    pub fn create(actor: &Actor, new: NewContract, now: Millis) -> Result<(Contract, ContractEvent), DomainError> {
        actor.require(Permission::SendContracts, "creating contracts")?;
        let title = new.title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(DomainError::invalid("title", "give a title of 1 to 200 characters"));
        }
        if new.documents.is_empty() {
            return Err(DomainError::invalid("document", "attach at least one PDF document"));
        }
        if new.recipients.is_empty() {
            return Err(DomainError::invalid("recipients", "name at least one recipient"));
        }
        if let Some(d) = new.deadline
            && d <= now
        {
            return Err(DomainError::invalid("deadline", "the deadline is in the past"));
        }
        let recipients = validate_recipients(new.recipients)?;
        let fields = validate_fields(&recipients, &new.documents, new.fields)?;
        let contract = Contract {
            id: new.id,
            org: actor.org.clone(),
            sender: actor.principal.clone(),
            title: title.to_owned(),
            number: new.number,
            status: Status::Draft,
            documents: new.documents,
            recipients,
            fields,
            deadline: new.deadline,
            created_at: now,
            sent_at: None,
            finished_at: None,
        };
        let event = ContractEvent::new(EventKind::Created, now, &actor.principal).with("title", contract.title.clone());
        Ok((contract, event))
    }

    /// Replaces a draft's fields (placed by the sender, e.g. on the web page), checked as
    /// [`Contract::create`] checks them. Only drafts; the event is `fields_set`.
    pub fn set_fields(&mut self, actor: &Actor, fields: Vec<NewField>, now: Millis) -> Result<ContractEvent, DomainError> {
        self.check_visible(actor)?;
        actor.require(Permission::SendContracts, "placing fields")?;
        if self.status != Status::Draft {
            return Err(self.wrong_state("given new fields"));
        }
        self.fields = validate_fields(&self.recipients, &self.documents, fields)?;
        Ok(ContractEvent::new(EventKind::FieldsSet, now, &actor.principal).with("fields", self.fields.len().to_string()))
    }

    /// Changes a draft's title, deadline and recipients, checked as [`Contract::create`] checks
    /// them. A recipient keeps their id (and so their placed fields) when `edit` gives that id;
    /// fields of recipients who are gone, or who no longer fill fields of that kind, are
    /// dropped. Only drafts; the event is `draft_edited`.
    pub fn edit_draft(&mut self, actor: &Actor, edit: DraftEdit, now: Millis) -> Result<ContractEvent, DomainError> {
        self.check_visible(actor)?;
        actor.require(Permission::SendContracts, "editing drafts")?;
        if self.status != Status::Draft {
            return Err(self.wrong_state("edited"));
        }
        let title = edit.title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(DomainError::invalid("title", "give a title of 1 to 200 characters"));
        }
        if let Some(d) = edit.deadline
            && d <= now
        {
            return Err(DomainError::invalid("deadline", "the deadline is in the past"));
        }
        if edit.recipients.is_empty() {
            return Err(DomainError::invalid("recipients", "name at least one recipient"));
        }
        let recipients = validate_recipients(edit.recipients)?;
        let before = self.fields.len();
        self.fields.retain(|f| {
            recipients.iter().find(|r| r.id == f.recipient).is_some_and(|r| {
                r.signs_pdf() && (f.kind != FieldKind::Seal || matches!(r.role, RecipientRole::CompanySigner { .. }))
            })
        });
        let dropped = before - self.fields.len();
        self.title = title.to_owned();
        self.deadline = edit.deadline;
        self.recipients = recipients;
        Ok(ContractEvent::new(EventKind::DraftEdited, now, &actor.principal)
            .with("title", self.title.clone())
            .with("recipients", self.recipients.len().to_string())
            .with("fields_dropped", dropped.to_string()))
    }

    /// Whether `actor` may see this contract: same organisation, and either all contracts are
    /// theirs to see or they sent it. Anything else is [`DomainError::NotFound`].
    pub fn check_visible(&self, actor: &Actor) -> Result<(), DomainError> {
        if !actor.sees_org(&self.org) {
            return Err(DomainError::NotFound);
        }
        if actor.role.allows(Permission::AllContracts) || actor.principal == self.sender {
            Ok(())
        } else {
            Err(DomainError::NotFound)
        }
    }

    fn wrong_state(&self, action: &'static str) -> DomainError {
        DomainError::WrongState { status: self.status.as_str(), action }
    }

    /// The recipient with id `id`.
    pub fn recipient(&self, id: &str) -> Result<&Recipient, DomainError> {
        self.recipients.iter().find(|r| r.id == id).ok_or(DomainError::NotFound)
    }

    fn recipient_mut(&mut self, id: &str) -> Result<&mut Recipient, DomainError> {
        self.recipients.iter_mut().find(|r| r.id == id).ok_or(DomainError::NotFound)
    }

    /// The lowest order among signers who have not signed: the group whose turn it is.
    fn current_order(&self) -> Option<u32> {
        self.recipients.iter().filter(|r| r.signs() && r.status != RecipientStatus::Signed).map(|r| r.order).min()
    }

    /// Notifies the signers whose turn it now is and who were not notified yet.
    fn notify_current(&mut self, now: Millis, events: &mut Vec<ContractEvent>) {
        let Some(order) = self.current_order() else { return };
        for r in self.recipients.iter_mut().filter(|r| r.signs() && r.order == order && r.status == RecipientStatus::Waiting) {
            r.status = RecipientStatus::Notified;
            events.push(ContractEvent::new(EventKind::Notified, now, "system").for_recipient(&r.id));
        }
    }

    /// Sends a draft: the first signing group is notified.
    pub fn send(&mut self, actor: &Actor, now: Millis) -> Result<Vec<ContractEvent>, DomainError> {
        self.check_visible(actor)?;
        actor.require(Permission::SendContracts, "sending contracts")?;
        if self.status != Status::Draft {
            return Err(self.wrong_state("sent"));
        }
        if let Some(d) = self.deadline
            && d <= now
        {
            return Err(DomainError::invalid("deadline", "the deadline has passed; set a new one before sending"));
        }
        for r in self.recipients.iter().filter(|r| r.signs_pdf()) {
            if !self.fields.iter().any(|f| f.recipient == r.id && matches!(f.kind, FieldKind::Signature | FieldKind::Seal)) {
                return Err(DomainError::invalid("fields", format!("{} has no signature or seal field; place one before sending", r.name)));
            }
        }
        self.status = Status::Sent;
        self.sent_at = Some(now);
        let digests: Vec<&str> = self.documents.iter().map(|d| d.sha256.as_str()).collect();
        let mut events = vec![ContractEvent::new(EventKind::Sent, now, &actor.principal).with("documents_sha256", digests.join(","))];
        self.notify_current(now, &mut events);
        Ok(events)
    }

    /// A recipient opened their link.
    pub fn open(&mut self, recipient: &str, now: Millis, ip: &str, user_agent: &str) -> Result<ContractEvent, DomainError> {
        self.recipient(recipient)?;
        if !self.status.is_open() && self.status != Status::Completed {
            return Err(self.wrong_state("opened"));
        }
        Ok(ContractEvent::new(EventKind::Opened, now, recipient).for_recipient(recipient).with("ip", ip).with("user_agent", user_agent))
    }

    /// Checks that `recipient` may act now (request a code, sign, decline).
    pub fn check_can_act(&self, recipient: &str, action: &'static str) -> Result<&Recipient, DomainError> {
        let r = self.recipient(recipient)?;
        if !self.status.is_open() {
            return Err(self.wrong_state(action));
        }
        match r.status {
            RecipientStatus::Signed => return Err(DomainError::AlreadyDone("signed")),
            RecipientStatus::Declined => return Err(DomainError::AlreadyDone("declined")),
            _ => {}
        }
        if !r.signs() {
            return Err(DomainError::Forbidden("copy recipients do not sign"));
        }
        if self.current_order() != Some(r.order) {
            return Err(DomainError::NotYourTurn);
        }
        Ok(r)
    }

    /// A recipient verified a one-time code sent over `channel` (`email` or `sms`).
    pub fn code_verified(&mut self, recipient: &str, channel: &str, now: Millis) -> Result<ContractEvent, DomainError> {
        self.check_can_act(recipient, "signed")?;
        self.recipient_mut(recipient)?.verified_at = Some(now);
        Ok(ContractEvent::new(EventKind::CodeVerified, now, recipient).for_recipient(recipient).with("channel", channel))
    }

    /// A recipient signs, filling their fields with `values` (field id → value; signature,
    /// seal and date fields are filled by the platform). The code must have been verified
    /// within `code_window` ms.
    pub fn sign(
        &mut self,
        recipient: &str,
        values: &std::collections::BTreeMap<String, String>,
        now: Millis,
        code_window: Millis,
    ) -> Result<Vec<ContractEvent>, DomainError> {
        let r = self.check_can_act(recipient, "signed")?;
        match r.verified_at {
            Some(t) if now.saturating_sub(t) <= code_window => {}
            _ => return Err(DomainError::CodeNotVerified),
        }
        // Check every value before changing anything.
        for (id, value) in values {
            let Some(f) = self.fields.iter().find(|f| &f.id == id && f.recipient == recipient) else {
                return Err(DomainError::invalid(format!("fields.{id}"), "not one of your fields"));
            };
            match f.kind {
                FieldKind::Text if value.chars().count() > 500 => {
                    return Err(DomainError::invalid(format!("fields.{id}"), "at most 500 characters"));
                }
                FieldKind::Checkbox if value != "true" && value != "false" => {
                    return Err(DomainError::invalid(format!("fields.{id}"), "a checkbox is true or false"));
                }
                FieldKind::Signature | FieldKind::Seal | FieldKind::Date => {
                    return Err(DomainError::invalid(format!("fields.{id}"), "this field is filled by the platform"));
                }
                _ => {}
            }
        }
        for f in self.fields.iter_mut().filter(|f| f.recipient == recipient) {
            f.value = match f.kind {
                FieldKind::Text | FieldKind::Checkbox => values.get(&f.id).cloned().or_else(|| (f.kind == FieldKind::Checkbox).then(|| "false".into())),
                FieldKind::Date => Some(now.to_string()),
                FieldKind::Signature | FieldKind::Seal => Some("signed".into()),
            };
        }
        let r = self.recipient_mut(recipient)?;
        r.status = RecipientStatus::Signed;
        r.done_at = Some(now);
        let kind = if r.role == RecipientRole::Approver { EventKind::Approved } else { EventKind::Signed };
        let mut events = vec![ContractEvent::new(kind, now, recipient).for_recipient(recipient)];
        if self.current_order().is_none() {
            self.status = Status::Completed;
            self.finished_at = Some(now);
            events.push(ContractEvent::new(EventKind::Completed, now, "system"));
            for c in self.recipients.iter().filter(|r| !r.signs()) {
                events.push(ContractEvent::new(EventKind::Notified, now, "system").for_recipient(&c.id));
            }
        } else {
            self.status = Status::InProgress;
            self.notify_current(now, &mut events);
        }
        Ok(events)
    }

    /// A recipient declines, with a reason; the contract ends.
    pub fn decline(&mut self, recipient: &str, reason: &str, now: Millis) -> Result<ContractEvent, DomainError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 1000 {
            return Err(DomainError::invalid("reason", "give a reason of 1 to 1000 characters"));
        }
        self.check_can_act(recipient, "declined")?;
        let r = self.recipient_mut(recipient)?;
        r.status = RecipientStatus::Declined;
        r.done_at = Some(now);
        self.status = Status::Declined;
        self.finished_at = Some(now);
        Ok(ContractEvent::new(EventKind::Declined, now, recipient).for_recipient(recipient).with("reason", reason))
    }

    /// The sender (or an admin) withdraws the contract.
    pub fn void(&mut self, actor: &Actor, reason: &str, now: Millis) -> Result<ContractEvent, DomainError> {
        self.check_visible(actor)?;
        actor.require(Permission::SendContracts, "voiding contracts")?;
        if !matches!(self.status, Status::Draft | Status::Sent | Status::InProgress) {
            return Err(self.wrong_state("voided"));
        }
        self.status = Status::Voided;
        self.finished_at = Some(now);
        Ok(ContractEvent::new(EventKind::Voided, now, &actor.principal).with("reason", reason.trim()))
    }

    /// Reminds the signers whose turn it is; returns one event per reminded recipient.
    pub fn remind(&self, actor: &Actor, now: Millis) -> Result<Vec<ContractEvent>, DomainError> {
        self.check_visible(actor)?;
        actor.require(Permission::SendContracts, "reminding signers")?;
        if !self.status.is_open() {
            return Err(self.wrong_state("reminded"));
        }
        let order = self.current_order();
        Ok(self
            .recipients
            .iter()
            .filter(|r| r.signs() && Some(r.order) == order && r.status == RecipientStatus::Notified)
            .map(|r| ContractEvent::new(EventKind::Reminded, now, &actor.principal).for_recipient(&r.id))
            .collect())
    }

    /// Automatic reminder: the signers whose turn it is and who were notified, by the system.
    /// Empty when the contract is not open.
    pub fn auto_remind(&self, now: Millis) -> Vec<ContractEvent> {
        if !self.status.is_open() {
            return Vec::new();
        }
        let order = self.current_order();
        self.recipients
            .iter()
            .filter(|r| r.signs() && Some(r.order) == order && r.status == RecipientStatus::Notified)
            .map(|r| ContractEvent::new(EventKind::Reminded, now, "system").for_recipient(&r.id).with("automatic", "true"))
            .collect()
    }

    /// Expires the contract if its deadline has passed while signers could still act.
    pub fn expire_if_due(&mut self, now: Millis) -> Option<ContractEvent> {
        match self.deadline {
            Some(d) if now >= d && self.status.is_open() => {
                self.status = Status::Expired;
                self.finished_at = Some(now);
                Some(ContractEvent::new(EventKind::Expired, now, "system"))
            }
            _ => None,
        }
    }
}

/// Checks fields given by recipient email or phone against the recipients and documents: each
/// belongs to a recipient who fills fields, a seal to a company representative, and lies on its
/// page. Answers the fields with recipient ids, or the first problem, named `fields[i].…`.
/// Checks the recipients as given by the sender: names, contacts (one of email and phone,
/// plausible, not shared), languages, orders, and at least one who signs.
fn validate_recipients(new: Vec<NewRecipient>) -> Result<Vec<Recipient>, DomainError> {
    let mut recipients = Vec::new();
    for (i, r) in new.into_iter().enumerate() {
        let at = |f: &str| format!("recipients[{i}].{f}");
        let name = r.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(DomainError::invalid(at("name"), "give a name of 1 to 100 characters"));
        }
        let email = r.email.map(|e| e.trim().to_ascii_lowercase()).filter(|e| !e.is_empty());
        let phone = r.phone.map(|p| p.trim().replace([' ', '-'], "")).filter(|p| !p.is_empty());
        if email.is_none() && phone.is_none() {
            return Err(DomainError::invalid(at("email"), "give an email address or a phone number"));
        }
        if let Some(e) = &email
            && !plausible_email(e)
        {
            return Err(DomainError::invalid(at("email"), format!("{e:?} is not an email address")));
        }
        if let Some(p) = &phone
            && !plausible_phone(p)
        {
            return Err(DomainError::invalid(at("phone"), format!("{p:?} is not a phone number (6 to 15 digits, optional leading +)")));
        }
        let lang = r.lang.map(|l| l.trim().to_ascii_lowercase()).filter(|l| !l.is_empty());
        if lang.as_deref().is_some_and(|l| l != "zh" && l != "en") {
            return Err(DomainError::invalid(at("lang"), "the language is zh or en (or leave it out to follow the name)"));
        }
        if order_is_invalid(r.order) {
            return Err(DomainError::invalid(at("order"), "the order is a number from 1 to 1000"));
        }
        let duplicate = recipients.iter().any(|o: &Recipient| {
            (email.is_some() && o.email == email) || (phone.is_some() && o.phone == phone)
        });
        if duplicate {
            return Err(DomainError::invalid(at("email"), "two recipients share an email address or phone number"));
        }
        recipients.push(Recipient {
            id: r.id,
            name,
            email,
            phone,
            role: r.role,
            order: r.order,
            status: RecipientStatus::Waiting,
            verified_at: None,
            done_at: None,
            lang,
        });
    }
    if !recipients.iter().any(Recipient::signs) {
        return Err(DomainError::invalid("recipients", "at least one recipient must sign"));
    }
    Ok(recipients)
}

fn validate_fields(recipients: &[Recipient], documents: &[Document], new: Vec<NewField>) -> Result<Vec<Field>, DomainError> {
    let mut fields = Vec::new();
    for (i, f) in new.into_iter().enumerate() {
        let at = |x: &str| format!("fields[{i}].{x}");
        let key = f.recipient.trim().to_ascii_lowercase();
        let key_phone = key.replace([' ', '-'], "");
        let Some(r) = recipients
            .iter()
            .find(|r| r.email.as_deref() == Some(key.as_str()) || r.phone.as_deref() == Some(key_phone.as_str()))
        else {
            return Err(DomainError::invalid(at("recipient"), format!("{:?} is not one of the recipients", f.recipient)));
        };
        if !r.signs_pdf() {
            return Err(DomainError::invalid(at("recipient"), "copy recipients and approvers fill no fields"));
        }
        if f.kind == FieldKind::Seal && !matches!(r.role, RecipientRole::CompanySigner { .. }) {
            return Err(DomainError::invalid(at("type"), "only a company representative applies a seal"));
        }
        let Some(doc) = documents.get(f.document) else {
            return Err(DomainError::invalid(at("document"), format!("there is no document {}", f.document + 1)));
        };
        let Some(&(w, h)) = (f.page as usize).checked_sub(1).and_then(|p| doc.pages.get(p)) else {
            return Err(DomainError::invalid(at("page"), format!("{} has {} page(s); pages count from 1", doc.name, doc.pages.len())));
        };
        let [x1, y1, x2, y2] = f.rect;
        let finite = f.rect.iter().all(|v| v.is_finite());
        if !finite || x1 < 0.0 || y1 < 0.0 || x2 > w || y2 > h || x2 - x1 < 4.0 || y2 - y1 < 4.0 {
            return Err(DomainError::invalid(
                at("rect"),
                format!("[x1,y1,x2,y2] must lie on the {w:.0}×{h:.0} pt page, x1<x2, y1<y2, at least 4 pt wide and high"),
            ));
        }
        fields.push(Field { id: f.id, recipient: r.id.clone(), document: f.document, kind: f.kind, page: f.page, rect: f.rect, value: None });
    }
    Ok(fields)
}

fn order_is_invalid(order: u32) -> bool {
    !(1..=1000).contains(&order)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::org::Role;

    const T0: Millis = 1_764_300_000_000;
    const WINDOW: Millis = 15 * 60 * 1000;

    fn actor(org: &str, who: &str, role: Role) -> Actor {
        Actor { org: org.into(), principal: who.into(), role }
    }

    fn doc() -> Document {
        Document { id: "doc_1".into(), name: "contract.pdf".into(), sha256: "ab".repeat(32), pages: vec![(595.0, 842.0), (595.0, 842.0)], signed_blob: None }
    }

    fn recipient(id: &str, email: &str, order: u32, role: RecipientRole) -> NewRecipient {
        NewRecipient { id: id.into(), name: format!("Name {id}"), email: Some(email.into()), phone: None, role, order, lang: None }
    }

    #[test]
    fn keyword_placement_sits_right_of_the_text_and_stays_on_the_page() {
        let page = [0.0, 0.0, 595.0, 842.0];
        let r = place_by_keyword(FieldKind::Signature, [100.0, 400.0, 160.0, 412.0], page, None, None).unwrap();
        assert_eq!(r, [164.0, 381.0, 314.0, 431.0], "right of the keyword, centred on its line");
        let r = place_by_keyword(FieldKind::Checkbox, [100.0, 400.0, 160.0, 412.0], page, None, Some([-80.0, 10.0])).unwrap();
        assert_eq!(r, [84.0, 409.0, 98.0, 423.0], "moved by the offset");
        let r = place_by_keyword(FieldKind::Signature, [500.0, 830.0, 590.0, 840.0], page, None, None).unwrap();
        assert_eq!(r, [445.0, 792.0, 595.0, 842.0], "pushed back inside the page's top-right corner");
        let r = place_by_keyword(FieldKind::Text, [0.0, 0.0, 10.0, 2.0], [0.0, 0.0, 595.0, 842.0], Some([100.0, 30.0]), Some([-500.0, -500.0])).unwrap();
        assert_eq!(r, [0.0, 0.0, 100.0, 30.0], "and inside the bottom-left corner");
        assert_eq!(place_by_keyword(FieldKind::Seal, [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 100.0, 100.0], None, None).unwrap_err().code(), "invalid_input");
        assert_eq!(place_by_keyword(FieldKind::Text, [0.0; 4], page, Some([f64::NAN, 10.0]), None).unwrap_err().code(), "invalid_input");
        assert_eq!(place_by_keyword(FieldKind::Text, [0.0; 4], page, Some([2.0, 10.0]), None).unwrap_err().code(), "invalid_input");
    }

    fn field(id: &str, email: &str, kind: FieldKind) -> NewField {
        NewField { id: id.into(), recipient: email.into(), document: 0, kind, page: 2, rect: [100.0, 100.0, 250.0, 160.0] }
    }

    fn new_contract() -> NewContract {
        NewContract {
            id: "ct_1".into(),
            title: "Supply agreement 供货合同".into(),
            number: "HT-1".into(),
            documents: vec![doc()],
            recipients: vec![
                recipient("rcp_a", "a@example.com", 1, RecipientRole::Signer),
                recipient("rcp_b", "b@example.com", 2, RecipientRole::CompanySigner { company: "某某科技".into() }),
                recipient("rcp_c", "c@example.com", 1, RecipientRole::Copy),
            ],
            fields: vec![
                field("fld_1", "A@Example.com", FieldKind::Signature),
                field("fld_2", "a@example.com", FieldKind::Text),
                field("fld_3", "b@example.com", FieldKind::Seal),
                field("fld_4", "b@example.com", FieldKind::Date),
            ],
            deadline: Some(T0 + 86_400_000),
        }
    }

    fn sent() -> Contract {
        let sender = actor("org_a", "usr_s", Role::Sender);
        let (mut c, _) = Contract::create(&sender, new_contract(), T0).unwrap();
        c.send(&sender, T0 + 1).unwrap();
        c
    }

    fn kinds(events: &[ContractEvent]) -> Vec<(&'static str, Option<&str>)> {
        events.iter().map(|e| (e.kind.as_str(), e.recipient.as_deref())).collect()
    }

    #[test]
    fn a_drafts_fields_are_replaced_and_checked_like_at_creation() {
        let sender = actor("org_a", "usr_s", Role::Sender);
        let mut n = new_contract();
        n.fields.clear();
        let (mut c, _) = Contract::create(&sender, n, T0).unwrap();
        assert_eq!(c.send(&sender, T0 + 1).unwrap_err().code(), "invalid_input", "no signature field yet");
        let e = c.set_fields(&sender, vec![field("fld_1", "a@example.com", FieldKind::Signature), field("fld_2", "b@example.com", FieldKind::Seal)], T0 + 2).unwrap();
        assert_eq!((e.kind.as_str(), e.data.get("fields").map(String::as_str)), ("fields_set", Some("2")));
        assert_eq!(c.fields.len(), 2);
        assert_eq!(c.fields[1].recipient, "rcp_b");
        // A bad field changes nothing.
        let mut bad = field("fld_3", "a@example.com", FieldKind::Date);
        bad.rect = [500.0, 100.0, 700.0, 160.0];
        assert_eq!(c.set_fields(&sender, vec![bad], T0 + 3).unwrap_err(), DomainError::invalid("fields[0].rect", "[x1,y1,x2,y2] must lie on the 595×842 pt page, x1<x2, y1<y2, at least 4 pt wide and high"));
        assert_eq!(c.set_fields(&sender, vec![field("fld_4", "a@example.com", FieldKind::Seal)], T0 + 3).unwrap_err().code(), "invalid_input");
        assert_eq!(c.set_fields(&sender, vec![field("fld_5", "c@example.com", FieldKind::Text)], T0 + 3).unwrap_err().code(), "invalid_input");
        assert_eq!(c.fields.len(), 2);
        // Others see nothing; members may not place; a sent contract keeps its fields.
        assert_eq!(c.set_fields(&actor("org_b", "usr_x", Role::Admin), vec![], T0 + 3).unwrap_err(), DomainError::NotFound);
        assert_eq!(c.set_fields(&actor("org_a", "usr_m", Role::Member), vec![], T0 + 3).unwrap_err(), DomainError::NotFound);
        c.send(&sender, T0 + 4).unwrap();
        assert_eq!(c.set_fields(&sender, vec![], T0 + 5).unwrap_err().code(), "wrong_state");
        assert_eq!(EventKind::parse("fields_set"), Some(EventKind::FieldsSet));
    }

    #[test]
    fn a_draft_is_edited_keeping_the_fields_of_recipients_who_stay() {
        let sender = actor("org_a", "usr_s", Role::Sender);
        let (mut c, _) = Contract::create(&sender, new_contract(), T0).unwrap();
        let edit = |recipients: Vec<NewRecipient>| DraftEdit { title: " Supply agreement v2 ".into(), deadline: None, recipients };
        // rcp_a stays (new name and address), rcp_b becomes a plain signer (its seal goes, its
        // date stays), rcp_c leaves, rcp_d arrives.
        let mut a = recipient("rcp_a", "a2@example.com", 1, RecipientRole::Signer);
        a.name = "Renamed".into();
        let e = c
            .edit_draft(&sender, edit(vec![a, recipient("rcp_b", "b@example.com", 2, RecipientRole::Signer), recipient("rcp_d", "d@example.com", 3, RecipientRole::Signer)]), T0 + 1)
            .unwrap();
        assert_eq!(e.kind.as_str(), "draft_edited");
        assert_eq!(e.data.get("fields_dropped").map(String::as_str), Some("1"));
        assert_eq!(c.title, "Supply agreement v2");
        assert_eq!(c.deadline, None);
        assert_eq!(c.recipients.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["rcp_a", "rcp_b", "rcp_d"]);
        assert_eq!(c.recipients[0].email.as_deref(), Some("a2@example.com"));
        assert_eq!(c.fields.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["fld_1", "fld_2", "fld_4"]);
        // Bad edits change nothing.
        let before = c.clone();
        let dup = vec![recipient("rcp_a", "a@example.com", 1, RecipientRole::Signer), recipient("rcp_x", "A@example.com", 1, RecipientRole::Signer)];
        assert_eq!(c.edit_draft(&sender, edit(dup), T0 + 2).unwrap_err(), DomainError::invalid("recipients[1].email", "two recipients share an email address or phone number"));
        assert_eq!(c.edit_draft(&sender, edit(vec![recipient("rcp_c", "c@example.com", 1, RecipientRole::Copy)]), T0 + 2).unwrap_err(), DomainError::invalid("recipients", "at least one recipient must sign"));
        assert_eq!(c.edit_draft(&sender, edit(vec![]), T0 + 2).unwrap_err().code(), "invalid_input");
        let mut past = edit(vec![recipient("rcp_a", "a@example.com", 1, RecipientRole::Signer)]);
        past.deadline = Some(T0);
        assert_eq!(c.edit_draft(&sender, past, T0 + 2).unwrap_err(), DomainError::invalid("deadline", "the deadline is in the past"));
        let mut blank = edit(vec![recipient("rcp_a", "a@example.com", 1, RecipientRole::Signer)]);
        blank.title = "  ".into();
        assert_eq!(c.edit_draft(&sender, blank, T0 + 2).unwrap_err().code(), "invalid_input");
        // Other organisations and plain members see nothing; a sent contract is not a draft.
        let one = || edit(vec![recipient("rcp_a", "a@example.com", 1, RecipientRole::Signer)]);
        assert_eq!(c.edit_draft(&actor("org_b", "usr_x", Role::Admin), one(), T0 + 2).unwrap_err(), DomainError::NotFound);
        assert_eq!(c.edit_draft(&actor("org_a", "usr_m", Role::Member), one(), T0 + 2).unwrap_err(), DomainError::NotFound);
        assert_eq!(c, before);
        // Sending wants a signature for everyone who signs (b lost their seal, d has nothing).
        assert_eq!(c.send(&sender, T0 + 3).unwrap_err().code(), "invalid_input");
        let sigs = ["a2@example.com", "b@example.com", "d@example.com"].map(|e| field(&format!("fld_{e}"), e, FieldKind::Signature));
        c.set_fields(&sender, sigs.to_vec(), T0 + 3).unwrap();
        c.send(&sender, T0 + 3).unwrap();
        assert_eq!(c.edit_draft(&sender, one(), T0 + 4).unwrap_err().code(), "wrong_state");
        assert_eq!(EventKind::parse("draft_edited"), Some(EventKind::DraftEdited));
    }

    #[test]
    fn sequential_signers_complete_the_contract_and_copies_hear_last() {
        let sender = actor("org_a", "usr_s", Role::Sender);
        let (mut c, created) = Contract::create(&sender, new_contract(), T0).unwrap();
        assert_eq!(created.kind, EventKind::Created);
        assert_eq!(c.status, Status::Draft);
        assert_eq!(c.fields[0].recipient, "rcp_a", "fields find recipients by email, case-insensitively");
        let events = c.send(&sender, T0 + 1).unwrap();
        assert_eq!(kinds(&events), [("sent", None), ("notified", Some("rcp_a"))]);
        assert_eq!(c.check_can_act("rcp_b", "signed").unwrap_err(), DomainError::NotYourTurn);
        c.open("rcp_a", T0 + 2, "203.0.113.9", "UA").unwrap();
        let mut values = BTreeMap::new();
        values.insert("fld_2".to_string(), "agreed".to_string());
        assert_eq!(c.sign("rcp_a", &values, T0 + 3, WINDOW).unwrap_err(), DomainError::CodeNotVerified);
        c.code_verified("rcp_a", "email", T0 + 3).unwrap();
        let events = c.sign("rcp_a", &values, T0 + 4, WINDOW).unwrap();
        assert_eq!(kinds(&events), [("signed", Some("rcp_a")), ("notified", Some("rcp_b"))]);
        assert_eq!(c.status, Status::InProgress);
        assert_eq!(c.fields[1].value.as_deref(), Some("agreed"));
        assert_eq!(c.sign("rcp_a", &values, T0 + 5, WINDOW).unwrap_err(), DomainError::AlreadyDone("signed"));
        c.code_verified("rcp_b", "sms", T0 + 6).unwrap();
        let events = c.sign("rcp_b", &BTreeMap::new(), T0 + 7, WINDOW).unwrap();
        assert_eq!(kinds(&events), [("signed", Some("rcp_b")), ("completed", None), ("notified", Some("rcp_c"))]);
        assert_eq!(c.status, Status::Completed);
        assert_eq!(c.finished_at, Some(T0 + 7));
        assert_eq!(c.fields[3].value.as_deref(), Some((T0 + 7).to_string().as_str()));
        assert_eq!(c.void(&sender, "late", T0 + 8).unwrap_err().code(), "wrong_state");
    }

    #[test]
    fn parallel_signers_share_a_turn() {
        let sender = actor("org_a", "usr_s", Role::Sender);
        let mut n = new_contract();
        n.recipients[1].order = 1;
        let (mut c, _) = Contract::create(&sender, n, T0).unwrap();
        let events = c.send(&sender, T0 + 1).unwrap();
        assert_eq!(kinds(&events), [("sent", None), ("notified", Some("rcp_a")), ("notified", Some("rcp_b"))]);
        c.code_verified("rcp_b", "email", T0 + 2).unwrap();
        c.sign("rcp_b", &BTreeMap::new(), T0 + 3, WINDOW).unwrap();
        assert_eq!(c.status, Status::InProgress);
    }

    #[test]
    fn approvers_take_their_turn_without_fields() {
        let sender = actor("org_a", "usr_s", Role::Sender);
        let mut n = new_contract();
        n.recipients.insert(0, recipient("rcp_p", "p@example.com", 1, RecipientRole::Approver));
        n.recipients[1].order = 2;
        n.recipients[2].order = 3;
        let mut bad = n.clone();
        bad.fields.push(field("fld_9", "p@example.com", FieldKind::Text));
        assert_eq!(Contract::create(&sender, bad, T0).unwrap_err().code(), "invalid_input");
        let (mut c, _) = Contract::create(&sender, n, T0).unwrap();
        let events = c.send(&sender, T0 + 1).unwrap();
        assert_eq!(kinds(&events), [("sent", None), ("notified", Some("rcp_p"))], "an approver needs no signature field");
        c.code_verified("rcp_p", "email", T0 + 2).unwrap();
        let events = c.sign("rcp_p", &BTreeMap::new(), T0 + 3, WINDOW).unwrap();
        assert_eq!(kinds(&events), [("approved", Some("rcp_p")), ("notified", Some("rcp_a"))]);
    }

    #[test]
    fn a_stale_code_verification_does_not_sign() {
        let mut c = sent();
        c.code_verified("rcp_a", "email", T0 + 2).unwrap();
        assert_eq!(c.sign("rcp_a", &BTreeMap::new(), T0 + 2 + WINDOW + 1, WINDOW).unwrap_err(), DomainError::CodeNotVerified);
    }

    #[test]
    fn decline_void_expire_and_remind_follow_the_states() {
        let mut c = sent();
        assert_eq!(c.decline("rcp_a", "  ", T0 + 2).unwrap_err().code(), "invalid_input");
        let e = c.decline("rcp_a", "price is wrong", T0 + 2).unwrap();
        assert_eq!(e.data.get("reason").map(String::as_str), Some("price is wrong"));
        assert_eq!(c.status, Status::Declined);
        assert_eq!(c.code_verified("rcp_a", "email", T0 + 3).unwrap_err().code(), "wrong_state");

        let sender = actor("org_a", "usr_s", Role::Sender);
        let mut c = sent();
        assert_eq!(kinds(&c.remind(&sender, T0 + 2).unwrap()), [("reminded", Some("rcp_a"))]);
        c.void(&sender, "wrong party", T0 + 3).unwrap();
        assert_eq!(c.status, Status::Voided);
        assert_eq!(c.open("rcp_a", T0 + 4, "ip", "ua").unwrap_err().code(), "wrong_state");
        assert_eq!(c.remind(&sender, T0 + 4).unwrap_err().code(), "wrong_state");

        let c = sent();
        assert_eq!(kinds(&c.auto_remind(T0 + 5)), [("reminded", Some("rcp_a"))]);
        let mut c = sent();
        assert!(c.expire_if_due(T0 + 1000).is_none());
        assert_eq!(c.expire_if_due(T0 + 86_400_000).unwrap().kind, EventKind::Expired);
        assert_eq!(c.status, Status::Expired);
        assert!(c.expire_if_due(T0 + 86_400_001).is_none(), "expires once");
        assert!(c.auto_remind(T0 + 86_400_002).is_empty(), "no reminders once closed");
    }

    #[test]
    fn other_organisations_and_other_senders_see_nothing() {
        let mut c = sent();
        let outsider = actor("org_b", "usr_x", Role::Owner);
        assert_eq!(c.check_visible(&outsider).unwrap_err(), DomainError::NotFound);
        assert_eq!(c.void(&outsider, "x", T0 + 2).unwrap_err(), DomainError::NotFound);
        assert_eq!(c.remind(&outsider, T0 + 2).unwrap_err(), DomainError::NotFound);
        let colleague = actor("org_a", "usr_other", Role::Sender);
        assert_eq!(c.void(&colleague, "x", T0 + 2).unwrap_err(), DomainError::NotFound);
        let admin = actor("org_a", "usr_admin", Role::Admin);
        assert!(c.check_visible(&admin).is_ok());
        let member = actor("org_a", "usr_s", Role::Member);
        assert_eq!(c.void(&member, "x", T0 + 2).unwrap_err().code(), "forbidden");
        assert_eq!(c.status, Status::Sent, "refused commands change nothing");
        assert_eq!(Contract::create(&member, new_contract(), T0).unwrap_err().code(), "forbidden");
    }

    #[test]
    fn bad_inputs_are_named() {
        let sender = actor("org_a", "usr_s", Role::Sender);
        let cases: Vec<(Box<dyn Fn(&mut NewContract)>, &str)> = vec![
            (Box::new(|n| n.title = " ".into()), "title"),
            (Box::new(|n| n.documents.clear()), "document"),
            (Box::new(|n| n.recipients[0].email = Some("not-an-email".into())), "recipients[0].email"),
            (Box::new(|n| { n.recipients[0].email = None; }), "recipients[0].email"),
            (Box::new(|n| n.recipients[1].email = Some("a@example.com".into())), "recipients[1].email"),
            (Box::new(|n| n.recipients[0].phone = Some("12ab".into())), "recipients[0].phone"),
            (Box::new(|n| n.recipients[0].order = 0), "recipients[0].order"),
            (Box::new(|n| n.fields[0].recipient = "nobody@example.com".into()), "fields[0].recipient"),
            (Box::new(|n| n.fields[0].recipient = "c@example.com".into()), "fields[0].recipient"),
            (Box::new(|n| n.fields[0].kind = FieldKind::Seal), "fields[0].type"),
            (Box::new(|n| n.fields[0].page = 3), "fields[0].page"),
            (Box::new(|n| n.fields[0].page = 0), "fields[0].page"),
            (Box::new(|n| n.fields[0].rect = [500.0, 100.0, 700.0, 160.0]), "fields[0].rect"),
            (Box::new(|n| n.fields[0].rect = [100.0, 100.0, f64::NAN, 160.0]), "fields[0].rect"),
            (Box::new(|n| n.fields[0].document = 1), "fields[0].document"),
            (Box::new(|n| n.deadline = Some(T0 - 1)), "deadline"),
            (Box::new(|n| n.recipients.iter_mut().for_each(|r| r.role = RecipientRole::Copy)), "recipients"),
        ];
        for (change, want) in cases {
            let mut n = new_contract();
            change(&mut n);
            match Contract::create(&sender, n, T0) {
                Err(DomainError::Invalid { field, .. }) => assert_eq!(field, want),
                other => panic!("{want}: {other:?}"),
            }
        }
        let mut n = new_contract();
        n.fields.retain(|f| f.recipient != "b@example.com");
        let (mut c, _) = Contract::create(&sender, n, T0).unwrap();
        let err = c.send(&sender, T0 + 1).unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        assert_eq!(c.status, Status::Draft);
    }

    #[test]
    fn signers_cannot_fill_platform_fields_or_others_fields() {
        let mut c = sent();
        c.code_verified("rcp_a", "email", T0 + 2).unwrap();
        for (id, v) in [("fld_1", "x"), ("fld_3", "x"), ("fld_9", "x")] {
            let mut values = BTreeMap::new();
            values.insert(id.to_string(), v.to_string());
            assert_eq!(c.sign("rcp_a", &values, T0 + 3, WINDOW).unwrap_err().code(), "invalid_input", "{id}");
        }
        assert_eq!(c.recipient("rcp_a").unwrap().status, RecipientStatus::Notified);
    }
}
