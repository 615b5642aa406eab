//! The errors the tables answer with: DynamoDB's error codes, their messages, and the extra
//! members some carry (`Item` on a failed condition, `CancellationReasons` on a cancelled
//! transaction).

use serde_json::{Map, Value as Json};

/// DynamoDB's error codes, as they appear after the `#` of `__type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A request member or expression is not valid.
    ValidationException,
    /// The request body has a member of the wrong JSON type.
    SerializationException,
    /// The table does not exist.
    ResourceNotFoundException,
    /// The table exists already.
    ResourceInUseException,
    /// A `ConditionExpression` did not hold.
    ConditionalCheckFailedException,
    /// A transaction was cancelled; `CancellationReasons` says why, item by item.
    TransactionCanceledException,
    /// A `ClientRequestToken` was used for another request within ten minutes.
    IdempotentParameterMismatchException,
    /// The store failed.
    InternalServerError,
}

impl ErrorCode {
    /// The code's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationException => "ValidationException",
            ErrorCode::SerializationException => "SerializationException",
            ErrorCode::ResourceNotFoundException => "ResourceNotFoundException",
            ErrorCode::ResourceInUseException => "ResourceInUseException",
            ErrorCode::ConditionalCheckFailedException => "ConditionalCheckFailedException",
            ErrorCode::TransactionCanceledException => "TransactionCanceledException",
            ErrorCode::IdempotentParameterMismatchException => "IdempotentParameterMismatchException",
            ErrorCode::InternalServerError => "InternalServerError",
        }
    }
}

/// An error as DynamoDB answers it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct Error {
    /// The code.
    pub code: ErrorCode,
    /// The message.
    pub message: String,
    /// Members sent beside the message (`Item`, `CancellationReasons`).
    pub details: Map<String, Json>,
}

impl Error {
    /// An error with no extra members.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            details: Map::new(),
        }
    }

    /// A `ValidationException`.
    pub fn validation(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::ValidationException, message)
    }

    /// The `ResourceNotFoundException` item operations answer for a missing table.
    pub fn no_table() -> Error {
        Error::new(ErrorCode::ResourceNotFoundException, "Requested resource not found")
    }

    /// The `ResourceNotFoundException` table operations answer, naming the table.
    pub fn no_such_table(name: &str) -> Error {
        Error::new(
            ErrorCode::ResourceNotFoundException,
            format!("Requested resource not found: Table: {name} not found"),
        )
    }

    /// This error with one more member.
    pub fn with(mut self, member: &str, value: Json) -> Error {
        self.details.insert(member.to_owned(), value);
        self
    }
}

impl From<sluice_store::Error> for Error {
    fn from(error: sluice_store::Error) -> Error {
        match error {
            sluice_store::Error::NotFound { what: "table", .. } => Error::no_table(),
            other => Error::new(ErrorCode::InternalServerError, other.to_string()),
        }
    }
}

impl From<sluice_expressions::Error> for Error {
    fn from(error: sluice_expressions::Error) -> Error {
        Error::validation(error.to_string())
    }
}
