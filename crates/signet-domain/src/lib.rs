//! The platform's domain model, free of HTTP, SQL and clocks.
//!
//! - [`org`] — organisations (tenants), members and their roles, the [`org::Actor`] every
//!   command is checked against;
//! - [`contract`] — contracts: documents, recipients, fields, signing order, deadline, and the
//!   commands that move a contract through its states (draft → sent → in progress → completed,
//!   or declined, voided, expired), each returning the evidence events it caused;
//! - [`event`] — those events, and their evidence-log encoding (`signet.evidence/v1`).
//!
//! Tenant isolation lives here, not only in handlers: every command takes the acting
//! [`org::Actor`], and a contract of another organisation is [`DomainError::NotFound`] — the
//! same answer as a contract that does not exist.

pub mod contract;
pub mod event;
pub mod org;

/// Milliseconds since 1970-01-01T00:00:00Z. The caller reads the clock.
pub type Millis = u64;

/// Why a command was refused. Each has a stable snake_case [`DomainError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// No such object for this actor (also: it belongs to another organisation).
    #[error("not found")]
    NotFound,
    /// The actor's role does not allow the action.
    #[error("your role does not allow this: {0}")]
    Forbidden(&'static str),
    /// The action does not apply in the contract's current state.
    #[error("the contract is {status}; it cannot be {action}")]
    WrongState {
        /// The contract's status.
        status: &'static str,
        /// The action tried, as a past participle ("sent", "signed", …).
        action: &'static str,
    },
    /// An input is invalid.
    #[error("{field}: {reason}")]
    Invalid {
        /// Which input (`recipients[1].email`, `fields[0].page`, …).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// This recipient has already signed (or declined).
    #[error("this recipient has already {0}")]
    AlreadyDone(&'static str),
    /// Recipients with a lower signing order have not signed yet.
    #[error("it is not this recipient's turn: earlier signers have not signed yet")]
    NotYourTurn,
    /// The recipient has not verified a one-time code.
    #[error("verify the one-time code first")]
    CodeNotVerified,
}

impl DomainError {
    /// The stable error code of the API's error envelope.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::NotFound => "not_found",
            DomainError::Forbidden(_) => "forbidden",
            DomainError::WrongState { .. } => "wrong_state",
            DomainError::Invalid { .. } => "invalid_input",
            DomainError::AlreadyDone(_) => "already_done",
            DomainError::NotYourTurn => "not_your_turn",
            DomainError::CodeNotVerified => "code_not_verified",
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        DomainError::Invalid { field: field.into(), reason: reason.into() }
    }
}
