//! The errors of the queues, with SQS's codes (those of the JSON protocol's `__type`; the API's
//! error table adds the legacy query codes SQS sends beside them).

/// An SQS error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    /// The queue does not exist.
    QueueDoesNotExist,
    /// A queue of that name exists with other attributes.
    QueueNameExists,
    /// A parameter's value is not valid.
    InvalidParameterValue,
    /// A required parameter is missing.
    MissingParameter,
    /// An attribute name is unknown.
    InvalidAttributeName,
    /// An attribute value is not valid.
    InvalidAttributeValue,
    /// A message body has characters SQS does not allow.
    InvalidMessageContents,
    /// A receipt handle is not one SQS gave out.
    ReceiptHandleIsInvalid,
    /// The message is not in flight.
    MessageNotInflight,
    /// Two batch entries share an id.
    BatchEntryIdsNotDistinct,
    /// A batch has more than ten entries.
    TooManyEntriesInBatchRequest,
    /// A batch has no entries.
    EmptyBatchRequest,
    /// A batch entry id is not valid.
    InvalidBatchEntryId,
    /// A batch's messages are too large together.
    BatchRequestTooLong,
    /// The queue was purged in the last 60 seconds.
    PurgeQueueInProgress,
    /// The operation is not supported.
    UnsupportedOperation,
    /// Too many of something (tags, messages in flight).
    OverLimit,
}

impl Code {
    /// The code of the JSON protocol (`__type`, after `com.amazonaws.sqs#`).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::QueueDoesNotExist => "QueueDoesNotExist",
            Code::QueueNameExists => "QueueNameExists",
            Code::InvalidParameterValue => "InvalidParameterValue",
            Code::MissingParameter => "MissingParameter",
            Code::InvalidAttributeName => "InvalidAttributeName",
            Code::InvalidAttributeValue => "InvalidAttributeValue",
            Code::InvalidMessageContents => "InvalidMessageContents",
            Code::ReceiptHandleIsInvalid => "ReceiptHandleIsInvalid",
            Code::MessageNotInflight => "MessageNotInflight",
            Code::BatchEntryIdsNotDistinct => "BatchEntryIdsNotDistinct",
            Code::TooManyEntriesInBatchRequest => "TooManyEntriesInBatchRequest",
            Code::EmptyBatchRequest => "EmptyBatchRequest",
            Code::InvalidBatchEntryId => "InvalidBatchEntryId",
            Code::BatchRequestTooLong => "BatchRequestTooLong",
            Code::PurgeQueueInProgress => "PurgeQueueInProgress",
            Code::UnsupportedOperation => "UnsupportedOperation",
            Code::OverLimit => "OverLimit",
        }
    }
}

/// A failure of a queue operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQS refuses the request.
    #[error("{}: {message}", code.as_str())]
    Sqs {
        /// The code.
        code: Code,
        /// What is wrong, naming the parameter.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] sluice_store::Error),
}

impl Error {
    /// An SQS error.
    pub fn new(code: Code, message: impl Into<String>) -> Error {
        Error::Sqs {
            code,
            message: message.into(),
        }
    }

    /// `InvalidParameterValue` in SQS's words: `Value V for parameter P is invalid. Reason: R.`
    pub fn invalid(parameter: &str, value: impl std::fmt::Display, reason: &str) -> Error {
        Error::new(
            Code::InvalidParameterValue,
            format!("Value {value} for parameter {parameter} is invalid. Reason: {reason}"),
        )
    }

    /// `MissingParameter`: `The request must contain the parameter P.`
    pub fn missing(parameter: &str) -> Error {
        Error::new(
            Code::MissingParameter,
            format!("The request must contain the parameter {parameter}."),
        )
    }

    /// `QueueDoesNotExist`.
    pub fn no_queue() -> Error {
        Error::new(Code::QueueDoesNotExist, "The specified queue does not exist.")
    }

    /// The SQS code, or none for a store failure.
    pub fn code(&self) -> Option<Code> {
        match self {
            Error::Sqs { code, .. } => Some(*code),
            Error::Store(_) => None,
        }
    }
}

/// A result of a queue operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
