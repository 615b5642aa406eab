//! What the engine's operations refuse, in AWS's terms (the API maps each to its error code).

use sluice_asl::Diagnostics;

/// A refused operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No such state machine.
    #[error("State Machine Does Not Exist: '{arn}'")]
    StateMachineDoesNotExist {
        /// The ARN asked for.
        arn: String,
    },
    /// A different state machine of that name exists.
    #[error("State Machine Already Exists: '{arn}'")]
    StateMachineAlreadyExists {
        /// The existing state machine.
        arn: String,
    },
    /// No such execution.
    #[error("Execution Does Not Exist: '{arn}'")]
    ExecutionDoesNotExist {
        /// The ARN asked for.
        arn: String,
    },
    /// An execution of that name exists with another input, or has ended.
    #[error("Execution Already Exists: '{arn}'")]
    ExecutionAlreadyExists {
        /// The existing execution.
        arn: String,
    },
    /// The definition is not valid.
    #[error("Invalid State Machine Definition: {0}")]
    InvalidDefinition(Diagnostics),
    /// The definition is not JSON.
    #[error("Invalid State Machine Definition: the definition is not valid JSON: {0}")]
    DefinitionNotJson(String),
    /// A name breaks AWS's rules.
    #[error("Invalid Name: '{name}': {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// Which rule.
        reason: &'static str,
    },
    /// An ARN is malformed.
    #[error("Invalid Arn: '{arn}'")]
    InvalidArn {
        /// The ARN.
        arn: String,
    },
    /// An execution input is not JSON or is too large.
    #[error("Invalid execution input: {reason}")]
    InvalidExecutionInput {
        /// Why.
        reason: String,
    },
    /// A task output is not JSON or is too large.
    #[error("Invalid output: {reason}")]
    InvalidOutput {
        /// Why.
        reason: String,
    },
    /// A task token that no task holds.
    #[error("Invalid Token: '{token}'")]
    InvalidToken {
        /// The token.
        token: String,
    },
    /// The task of a token has ended already (answered, timed out, or its execution ended).
    #[error("Task Timed Out: 'Provided task does not exist anymore'")]
    TaskDoesNotExist {
        /// The token.
        token: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] sluice_store::Error),
}

/// A result of an engine operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The characters AWS refuses in state machine and execution names.
const FORBIDDEN: &[char] = &[
    ' ', '<', '>', '{', '}', '[', ']', '?', '*', '"', '#', '%', '\\', '^', '|', '~', '`', '$', '&', ',', ';', ':', '/',
];

/// Checks a state machine or execution name: 1 to 80 characters, no white space, no wildcard or
/// punctuation AWS reserves, no control characters.
pub fn check_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() || name.chars().count() > 80 {
        Some("a name must be 1 to 80 characters long")
    } else if name
        .chars()
        .any(|character| character.is_whitespace() || character.is_control())
    {
        Some("a name cannot contain white space or control characters")
    } else if name.contains(FORBIDDEN) {
        Some("a name cannot contain any of < > { } [ ] ? * \" # % \\ ^ | ~ ` $ & , ; : /")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidName {
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}
