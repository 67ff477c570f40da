//! The API's one error shape: `{"error":{"code":"snake_case_code","message":"…"}}`, with a
//! stable code per kind of mistake and the HTTP status that goes with it. A few errors add
//! numbers a client shows in its own words (`wrong_code` gives `tries_left`).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use signet_domain::DomainError;

/// An API error.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: &'static str,
    /// For people: what was wrong and what to do.
    pub message: String,
    /// Further members of the `error` object, for clients (none for most errors).
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    /// Adds `name: value` to the error object (beside `code` and `message`).
    pub fn with(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details.insert(name.to_owned(), value.into());
        self
    }

    /// An error of any status.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), details: serde_json::Map::new() }
    }
    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    /// 401.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "send a valid API key as `Authorization: Bearer <key>`")
    }
    /// 404, the same for "does not exist" and "not yours".
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }
    /// 413.
    pub fn too_large(limit_mb: u64) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", format!("the upload is larger than {limit_mb} MiB"))
    }
    /// 415.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message)
    }
    /// 422.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
    }
    /// 500, without internals in the message (they go to the server log).
    /// 503 `unavailable`: the database is out of reach for now (the server keeps running and
    /// recovers by itself when it returns); the answer carries `Retry-After`.
    pub fn unavailable(e: impl std::fmt::Display) -> Self {
        eprintln!("unavailable: {e}");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the service is briefly unavailable (its database cannot be reached); try again in a few seconds")
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        eprintln!("internal error: {e}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on the server; try again later")
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let status = match &e {
            DomainError::NotFound => StatusCode::NOT_FOUND,
            DomainError::Forbidden(_) => StatusCode::FORBIDDEN,
            DomainError::WrongState { .. } | DomainError::AlreadyDone(_) | DomainError::NotYourTurn => StatusCode::CONFLICT,
            DomainError::CodeNotVerified => StatusCode::FORBIDDEN,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let message = if matches!(e, DomainError::NotFound) { "no such resource".to_owned() } else { e.to_string() };
        ApiError { status, code: e.code(), message, details: serde_json::Map::new() }
    }
}

impl From<signet_store::StoreError> for ApiError {
    fn from(e: signet_store::StoreError) -> Self {
        match e {
            signet_store::StoreError::Conflict(what) => {
                Self::new(StatusCode::CONFLICT, "conflict", format!("{what}; read it again and retry"))
            }
            signet_store::StoreError::Taken(what) => Self::new(StatusCode::CONFLICT, "taken", format!("{what} is already taken")),
            other if other.is_unavailable() => Self::unavailable(other),
            corrupt @ signet_store::StoreError::Corrupt { .. } => {
                // The record's ids and cause go to the server's log only.
                eprintln!("unreadable record: {corrupt}");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "record_unreadable",
                    "a record this request needs is stored but does not open (damaged, or changed in the database), so retrying will not help; an administrator can find damaged contracts with `signet admin check` and restore them from a backup",
                )
            }
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = self.details;
        error.insert("code".into(), self.code.into());
        error.insert("message".into(), self.message.into());
        let body = serde_json::json!({ "error": error });
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            return (self.status, [(axum::http::header::RETRY_AFTER, "5")], Json(body)).into_response();
        }
        (self.status, Json(body)).into_response()
    }
}

/// Handler result.
pub type ApiResult<T> = Result<T, ApiError>;
