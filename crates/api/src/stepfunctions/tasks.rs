//! Task token callbacks: `SendTaskSuccess`, `SendTaskFailure` and `SendTaskHeartbeat`
//! (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html>).

use super::validate::{self, CAUSE_MAX, ERROR_MAX, PAYLOAD_MAX, TOKEN_MAX};
use crate::error::ApiError;
use crate::protocol::{Fields, Sensitivity};

/// `SendTaskSuccess`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendTaskSuccessRequest {
    /// The token the task handed out.
    pub task_token: String,
    /// The task's output, JSON text.
    pub output: String,
}

/// `SendTaskFailure`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendTaskFailureRequest {
    /// The token the task handed out.
    pub task_token: String,
    /// The error name.
    pub error: Option<String>,
    /// The cause.
    pub cause: Option<String>,
}

/// `SendTaskHeartbeat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendTaskHeartbeatRequest {
    /// The token the task handed out.
    pub task_token: String,
}

impl SendTaskSuccessRequest {
    /// Reads and checks the request.
    pub fn read(mut fields: Fields) -> Result<Self, ApiError> {
        let task_token = fields.required_string("taskToken", 1, TOKEN_MAX, Sensitivity::Sensitive);
        let output = fields.required_string("output", 0, PAYLOAD_MAX, Sensitivity::Sensitive);
        fields.finish()?;
        validate::payload_size("output", &output)?;
        validate::task_output(&output)?;
        Ok(Self { task_token, output })
    }
}

impl SendTaskFailureRequest {
    /// Reads and checks the request.
    pub fn read(mut fields: Fields) -> Result<Self, ApiError> {
        let task_token = fields.required_string("taskToken", 1, TOKEN_MAX, Sensitivity::Sensitive);
        let error = fields.string("error", 0, ERROR_MAX, Sensitivity::Sensitive);
        let cause = fields.string("cause", 0, CAUSE_MAX, Sensitivity::Sensitive);
        fields.finish()?;
        Ok(Self {
            task_token,
            error,
            cause,
        })
    }
}

impl SendTaskHeartbeatRequest {
    /// Reads and checks the request.
    pub fn read(mut fields: Fields) -> Result<Self, ApiError> {
        let task_token = fields.required_string("taskToken", 1, TOKEN_MAX, Sensitivity::Sensitive);
        fields.finish()?;
        Ok(Self { task_token })
    }
}
