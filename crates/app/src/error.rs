//! Why a use case did not happen: one enum for every use case, rendered by each adapter (a problem
//! document, a page, a line on stderr with an exit code).

use bonafide_domain::InvalidInput;
use bonafide_store::StoreError;

/// One rejected input field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field, as the input names it (`asked_for[1]`, `staff_id`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
    /// Where in a text field (a policy), the 1-based line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// ...and column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl FieldError {
    /// An error for `field`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_owned(), message: message.into(), line: None, column: None }
    }

    /// An error at `line` and `column` of text field `field`.
    pub fn at(field: &str, line: usize, column: usize, message: impl Into<String>) -> Self {
        Self { line: Some(line), column: Some(column), ..Self::new(field, message) }
    }
}

/// Why a use case failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Absent, or not visible to the caller (we do not say which).
    #[error("not found")]
    NotFound,
    /// Visible, but this person's roles may not do this; the reason is for people.
    #[error("{0}")]
    Forbidden(&'static str),
    /// Some input fields were wrong.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// The thing is not in a state that allows this.
    #[error("{0}")]
    Conflict(String),
    /// Too many calls in this window.
    #[error("too many requests")]
    RateLimited {
        /// Seconds until the window resets.
        retry_after: u64,
    },
    /// The database is unreachable, or the audit log could not take the entry (so nothing changed).
    #[error("storage unavailable")]
    Unavailable(#[source] StoreError),
    /// A bug or corrupt data.
    #[error("internal error")]
    Internal(#[source] StoreError),
}

impl AppError {
    /// A 422-style error for one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }

    /// The field errors joined into one sentence, for a page or a terminal.
    pub fn fields_text(errors: &[FieldError]) -> String {
        errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => AppError::Conflict(m),
            e if e.is_unavailable() => AppError::Unavailable(e),
            other => AppError::Internal(other),
        }
    }
}

impl From<InvalidInput> for AppError {
    fn from(e: InvalidInput) -> Self {
        AppError::field(e.field, e.message)
    }
}
