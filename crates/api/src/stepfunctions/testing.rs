//! Definitions checked and states tried without running a machine: `ValidateStateMachineDefinition`
//! and `TestState` (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html>).

use serde::{Deserialize, Serialize};

use super::StateMachineType;
use super::validate::{self, ARN_MAX, ArnKind, DEFINITION_MAX, NAME_MAX, PAYLOAD_MAX};
use crate::error::ApiError;
use crate::protocol::{Fields, Sensitivity, enumeration};

enumeration! {
    /// How serious a diagnostic is.
    Severity {
        /// `ERROR`: the definition is refused.
        Error = "ERROR",
        /// `WARNING`: accepted, but suspicious.
        Warning = "WARNING",
    }
}

enumeration! {
    /// Whether a definition passed.
    ValidationResultCode {
        /// `OK`.
        Ok = "OK",
        /// `FAIL`.
        Fail = "FAIL",
    }
}

/// `ValidateStateMachineDefinition`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidateStateMachineDefinitionRequest {
    /// The definition's JSON text.
    pub definition: String,
    /// Standard (the default) or Express.
    pub machine_type: StateMachineType,
    /// The least severity to report (`ERROR` by default).
    pub severity: Severity,
    /// At most this many diagnostics (0: the service's default, 100).
    pub max_results: u32,
}

/// `ValidateStateMachineDefinition`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateStateMachineDefinitionResponse {
    /// `OK` when no error was found.
    pub result: ValidationResultCode,
    /// Every problem found.
    pub diagnostics: Vec<Diagnostic>,
    /// Whether diagnostics were left off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
}

/// One problem in a definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// AWS's code, such as `SCHEMA_VALIDATION_FAILED`.
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// Where: a JSON pointer into the definition, such as `/States/A/Next`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

enumeration! {
    /// How much `TestState` shows of a state's data flow.
    InspectionLevel {
        /// `INFO`: input and output.
        Info = "INFO",
        /// `DEBUG`: each step of the data flow.
        Debug = "DEBUG",
        /// `TRACE`: HTTP requests and responses too.
        Trace = "TRACE",
    }
}

enumeration! {
    /// How a tested state ended.
    TestExecutionStatus {
        /// `SUCCEEDED`.
        Succeeded = "SUCCEEDED",
        /// `FAILED`.
        Failed = "FAILED",
        /// `RETRIABLE`: a retrier would retry.
        Retriable = "RETRIABLE",
        /// `CAUGHT_ERROR`: a catcher caught the error.
        CaughtError = "CAUGHT_ERROR",
    }
}

/// `TestState`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestStateRequest {
    /// One state's definition, or a whole state machine's with `state_name`.
    pub definition: String,
    /// The role the state would run with.
    pub role_arn: Option<String>,
    /// The state's input, JSON text (`{}` when none).
    pub input: String,
    /// How much to show (`INFO` by default).
    pub inspection_level: InspectionLevel,
    /// Whether to show secrets in HTTP data.
    pub reveal_secrets: bool,
    /// Workflow variables, a JSON object's text.
    pub variables: Option<String>,
    /// The state to test in a whole state machine's definition.
    pub state_name: Option<String>,
    /// The Context object, JSON text.
    pub context: Option<String>,
    /// A mocked task result or error.
    pub mock: Option<MockInput>,
}

/// A mocked task result for `TestState`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MockInput {
    /// The result, JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// An error instead of a result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_output: Option<MockErrorOutput>,
    /// `STRICT`, `PRESENT` or `NONE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_validation_mode: Option<String>,
}

/// A mocked task error for `TestState`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MockErrorOutput {
    /// The error name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// `TestState`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestStateResponse {
    /// The state's output, JSON text, when it succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// The error, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The cause, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// The data flow, step by step (`DEBUG` and `TRACE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inspection_data: Option<InspectionData>,
    /// The state that would run next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_state: Option<String>,
    /// How it ended.
    pub status: TestExecutionStatus,
}

/// The data flow of a tested state; each payload is JSON text.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InspectionData {
    /// The raw input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// After `Arguments` (JSONata).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_arguments: Option<String>,
    /// After `InputPath`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_input_path: Option<String>,
    /// After `Parameters`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_parameters: Option<String>,
    /// The task's result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// After `ResultSelector`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_result_selector: Option<String>,
    /// After `ResultPath`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_result_path: Option<String>,
    /// The variables after the state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variables: Option<String>,
    /// Which retrier or catcher handled an error (`catchIndex`, `retryIndex`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_details: Option<serde_json::Value>,
}

impl ValidateStateMachineDefinitionRequest {
    /// Reads and checks the request.
    pub fn read(mut fields: Fields) -> Result<Self, ApiError> {
        let definition = fields.required_string("definition", 1, DEFINITION_MAX, Sensitivity::Sensitive);
        let machine_type = fields.enumeration("type").unwrap_or(StateMachineType::Standard);
        let severity = fields.enumeration("severity").unwrap_or(Severity::Error);
        let max_results = fields
            .integer("maxResults", 0, 100)
            .and_then(|value| u32::try_from(value).ok());
        fields.finish()?;
        Ok(Self {
            definition,
            machine_type,
            severity,
            max_results: max_results.unwrap_or(0),
        })
    }
}

impl TestStateRequest {
    /// Reads and checks the request.
    pub fn read(mut fields: Fields) -> Result<Self, ApiError> {
        let definition = fields.required_string("definition", 1, DEFINITION_MAX, Sensitivity::Sensitive);
        let role_arn = fields.string("roleArn", 1, ARN_MAX, Sensitivity::Plain);
        let input = fields.string("input", 0, PAYLOAD_MAX, Sensitivity::Sensitive);
        let inspection_level = fields.enumeration("inspectionLevel").unwrap_or(InspectionLevel::Info);
        let reveal_secrets = fields.boolean("revealSecrets").unwrap_or(false);
        let variables = fields.string("variables", 0, PAYLOAD_MAX, Sensitivity::Sensitive);
        let state_name = fields.string("stateName", 1, NAME_MAX, Sensitivity::Sensitive);
        let context = fields.string("context", 0, PAYLOAD_MAX, Sensitivity::Sensitive);
        let mock: Option<MockInput> = fields.structure("mock");
        fields.finish()?;
        if let Some(role_arn) = &role_arn {
            validate::arn(role_arn, ArnKind::Any)?;
        }
        let input = input.unwrap_or_else(|| "{}".to_owned());
        validate::payload_size("input", &input)?;
        validate::execution_input(&input)?;
        Ok(Self {
            definition,
            role_arn,
            input,
            inspection_level,
            reveal_secrets,
            variables,
            state_name,
            context,
            mock,
        })
    }
}
