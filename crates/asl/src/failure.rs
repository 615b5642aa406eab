//! ASL runtime errors as values: the `Error` and `Cause` a state fails with, and the names of the
//! predefined `States.*` errors.
//!
//! A failure is data that flows through `Retry` and `Catch`, never a Rust error: a Rust error in
//! this crate means a bug or a bad definition, a [`Failure`] means the execution took its error path.
//! See <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html>.

use serde_json::{Value, json};

/// An error raised while running a state: AWS's `{"Error": …, "Cause": …}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The error name, matched case-sensitively by `ErrorEquals`.
    pub error: String,
    /// A human-readable cause; AWS leaves it out when the raiser gave none.
    pub cause: Option<String>,
}

impl Failure {
    /// A failure with an error name and a cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Failure {
        Failure {
            error: error.into(),
            cause: Some(cause.into()),
        }
    }

    /// `States.Runtime`: a path not found, a value of the wrong type, and other failures that
    /// `States.ALL` does not catch.
    pub fn runtime(cause: impl Into<String>) -> Failure {
        Failure::new(names::RUNTIME, cause)
    }

    /// `States.IntrinsicFailure`: an intrinsic function was called with bad arguments.
    pub fn intrinsic(cause: impl Into<String>) -> Failure {
        Failure::new(names::INTRINSIC_FAILURE, cause)
    }

    /// The error output a `Catch` places at its `ResultPath`: `{"Error": …, "Cause": …}`.
    pub fn to_error_output(&self) -> Value {
        match &self.cause {
            Some(cause) => json!({ "Error": self.error, "Cause": cause }),
            None => json!({ "Error": self.error }),
        }
    }

    /// Whether a retrier's or catcher's `ErrorEquals` entry matches this failure.
    ///
    /// `States.Runtime` is never retried or caught. `States.DataLimitExceeded` is caught only by
    /// its own name. `States.ALL` matches every other error; `States.TaskFailed` matches every
    /// other error except `States.Timeout` and `States.HeartbeatTimeout`.
    pub fn is_matched_by(&self, name: &str) -> bool {
        if self.error == names::RUNTIME {
            return false;
        }
        if name == self.error {
            return true;
        }
        if self.error == names::DATA_LIMIT_EXCEEDED {
            return false;
        }
        match name {
            names::ALL => true,
            names::TASK_FAILED => self.error != names::TIMEOUT && self.error != names::HEARTBEAT_TIMEOUT,
            _ => false,
        }
    }
}

/// The predefined error names AWS raises.
pub mod names {
    /// Matches any error name except the terminal ones.
    pub const ALL: &str = "States.ALL";
    /// A Parallel branch failed.
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
    /// A payload exceeded 256 KiB; terminal.
    pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
    /// A Map state's tolerated failure threshold was exceeded.
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
    /// A task missed its heartbeat.
    pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
    /// An intrinsic function failed.
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
    /// No Choice rule matched and there was no `Default`.
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    /// A `.$` field of a payload template could not be resolved.
    pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
    /// The task lacked privileges.
    pub const PERMISSIONS: &str = "States.Permissions";
    /// A JSONata expression failed.
    pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
    /// `ResultPath` could not be applied to the input.
    pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
    /// A runtime failure; terminal.
    pub const RUNTIME: &str = "States.Runtime";
    /// A task failed.
    pub const TASK_FAILED: &str = "States.TaskFailed";
    /// A task or the execution ran longer than its timeout.
    pub const TIMEOUT: &str = "States.Timeout";
}
