//! Execution operations: `StartExecution`, `StartSyncExecution`, `StopExecution`,
//! `DescribeExecution`, `ListExecutions` and `GetExecutionHistory`
//! (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_Operations.html>).

use serde::Serialize;

use super::validate::{self, ARN_MAX, ArnKind, CAUSE_MAX, ERROR_MAX, NAME_MAX, PAYLOAD_MAX};
use super::{ExecutionStatus, IncludedData, page_size};
use crate::error::{ApiError, ErrorCode};
use crate::protocol::{Fields, Sensitivity, Timestamp, enumeration};

/// `StartExecution` (and, with `included_data`, `StartSyncExecution`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartExecutionRequest {
    /// The state machine (or a version or alias of it).
    pub state_machine_arn: String,
    /// The execution's name; the service picks one when none.
    pub name: Option<String>,
    /// The input's JSON text (`{}` when none was given).
    pub input: String,
    /// The X-Ray trace header.
    pub trace_header: Option<String>,
    /// `StartSyncExecution` only: whether to include input and output.
    pub included_data: Option<IncludedData>,
}

/// `StartExecution`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartExecutionResponse {
    /// The execution.
    pub execution_arn: String,
    /// When it started.
    pub start_date: Timestamp,
}

enumeration! {
    /// How a synchronous execution ended.
    SyncExecutionStatus {
        /// `SUCCEEDED`.
        Succeeded = "SUCCEEDED",
        /// `FAILED`.
        Failed = "FAILED",
        /// `TIMED_OUT`.
        TimedOut = "TIMED_OUT",
    }
}

/// `StartSyncExecution`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartSyncExecutionResponse {
    /// The execution.
    pub execution_arn: String,
    /// The state machine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine_arn: Option<String>,
    /// The execution's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When it started.
    pub start_date: Timestamp,
    /// When it stopped.
    pub stop_date: Timestamp,
    /// How it ended.
    pub status: SyncExecutionStatus,
    /// The error, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The cause, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// The input's JSON text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The output's JSON text, when it succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// The trace header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
}

/// `StopExecution`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopExecutionRequest {
    /// The execution.
    pub execution_arn: String,
    /// The error to record.
    pub error: Option<String>,
    /// The cause to record.
    pub cause: Option<String>,
}

/// `StopExecution`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StopExecutionResponse {
    /// When it stopped.
    pub stop_date: Timestamp,
}

/// `DescribeExecution`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeExecutionRequest {
    /// The execution.
    pub execution_arn: String,
    /// Whether to include input and output.
    pub included_data: Option<IncludedData>,
}

/// `DescribeExecution`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeExecutionResponse {
    /// The execution.
    pub execution_arn: String,
    /// Its state machine.
    pub state_machine_arn: String,
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its status.
    pub status: ExecutionStatus,
    /// When it started.
    pub start_date: Timestamp,
    /// When it stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_date: Option<Timestamp>,
    /// The input's JSON text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// Whether the input is included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_details: Option<DataDetails>,
    /// The output's JSON text, once succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Whether the output is included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_details: Option<DataDetails>,
    /// The trace header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
    /// The error, once failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The cause, once failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// Whether a payload is included in the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DataDetails {
    /// Included or not.
    pub included: bool,
}

/// `ListExecutions`: of one state machine, or of one Map Run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListExecutionsRequest {
    /// The state machine.
    pub state_machine_arn: Option<String>,
    /// The Map Run.
    pub map_run_arn: Option<String>,
    /// Only executions with this status.
    pub status_filter: Option<ExecutionStatus>,
    /// At most this many (0: the service's default).
    pub max_results: u32,
    /// Where the previous page stopped.
    pub next_token: Option<String>,
}

/// `ListExecutions`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListExecutionsResponse {
    /// One page of executions, newest first.
    pub executions: Vec<ExecutionListItem>,
    /// Where the next page starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// An execution as `ListExecutions` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionListItem {
    /// The execution.
    pub execution_arn: String,
    /// Its state machine.
    pub state_machine_arn: String,
    /// Its name.
    pub name: String,
    /// Its status.
    pub status: ExecutionStatus,
    /// When it started.
    pub start_date: Timestamp,
    /// When it stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_date: Option<Timestamp>,
}

/// `GetExecutionHistory`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetExecutionHistoryRequest {
    /// The execution.
    pub execution_arn: String,
    /// At most this many (0: the service's default).
    pub max_results: u32,
    /// Newest first.
    pub reverse_order: bool,
    /// Where the previous page stopped.
    pub next_token: Option<String>,
    /// Whether events carry input and output (true unless set to false).
    pub include_execution_data: bool,
}

/// `GetExecutionHistory`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetExecutionHistoryResponse {
    /// One page of events.
    pub events: Vec<super::HistoryEvent>,
    /// Where the next page starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

impl StartExecutionRequest {
    /// Reads and checks a `StartExecution` request (`sync` for `StartSyncExecution`).
    pub fn read(mut fields: Fields, sync: bool) -> Result<Self, ApiError> {
        let state_machine_arn = fields.required_string("stateMachineArn", 1, ARN_MAX, Sensitivity::Plain);
        let name = fields.string("name", 1, NAME_MAX, Sensitivity::Plain);
        let input = fields.string("input", 0, PAYLOAD_MAX, Sensitivity::Sensitive);
        let trace_header = fields.string("traceHeader", 0, 256, Sensitivity::Plain);
        let included_data = if sync { fields.enumeration("includedData") } else { None };
        fields.finish()?;
        validate::arn(&state_machine_arn, ArnKind::StateMachine)?;
        if let Some(name) = &name {
            validate::name(name)?;
        }
        let input = input.unwrap_or_else(|| "{}".to_owned());
        validate::payload_size("input", &input)?;
        validate::execution_input(&input)?;
        Ok(Self {
            state_machine_arn,
            name,
            input,
            trace_header,
            included_data,
        })
    }
}

impl StopExecutionRequest {
    /// Reads and checks the request.
    pub fn read(mut fields: Fields) -> Result<Self, ApiError> {
        let execution_arn = fields.required_string("executionArn", 1, ARN_MAX, Sensitivity::Plain);
        let error = fields.string("error", 0, ERROR_MAX, Sensitivity::Sensitive);
        let cause = fields.string("cause", 0, CAUSE_MAX, Sensitivity::Sensitive);
        fields.finish()?;
        validate::arn(&execution_arn, ArnKind::Execution)?;
        Ok(Self {
            execution_arn,
            error,
            cause,
        })
    }
}

impl DescribeExecutionRequest {
    /// Reads and checks the request.
    pub fn read(mut fields: Fields) -> Result<Self, ApiError> {
        let execution_arn = fields.required_string("executionArn", 1, ARN_MAX, Sensitivity::Plain);
        let included_data = fields.enumeration("includedData");
        fields.finish()?;
        validate::arn(&execution_arn, ArnKind::Execution)?;
        Ok(Self {
            execution_arn,
            included_data,
        })
    }
}

impl ListExecutionsRequest {
    /// Reads and checks the request.
    pub fn read(mut fields: Fields) -> Result<Self, ApiError> {
        let state_machine_arn = fields.string("stateMachineArn", 1, ARN_MAX, Sensitivity::Plain);
        let map_run_arn = fields.string("mapRunArn", 1, 2000, Sensitivity::Plain);
        let status_filter = fields.enumeration("statusFilter");
        let max_results = page_size(&mut fields);
        let next_token = fields.string("nextToken", 1, 3096, Sensitivity::Plain);
        fields.finish()?;
        match (&state_machine_arn, &map_run_arn) {
            (Some(arn), None) => validate::arn(arn, ArnKind::StateMachine)?,
            (None, Some(arn)) => validate::arn(arn, ArnKind::MapRun)?,
            (Some(_), Some(_)) => {
                return Err(ApiError::new(
                    ErrorCode::ValidationException,
                    "Only one of stateMachineArn and mapRunArn can be given",
                ));
            }
            (None, None) => {
                return Err(ApiError::new(
                    ErrorCode::ValidationException,
                    "Must provide a StateMachine ARN or MapRun ARN",
                ));
            }
        }
        Ok(Self {
            state_machine_arn,
            map_run_arn,
            status_filter,
            max_results,
            next_token,
        })
    }
}

impl GetExecutionHistoryRequest {
    /// Reads and checks the request.
    pub fn read(mut fields: Fields) -> Result<Self, ApiError> {
        let execution_arn = fields.required_string("executionArn", 1, ARN_MAX, Sensitivity::Plain);
        let max_results = page_size(&mut fields);
        let reverse_order = fields.boolean("reverseOrder").unwrap_or(false);
        let next_token = fields.string("nextToken", 1, 1024, Sensitivity::Plain);
        let include_execution_data = fields.boolean("includeExecutionData").unwrap_or(true);
        fields.finish()?;
        validate::arn(&execution_arn, ArnKind::Execution)?;
        Ok(Self {
            execution_arn,
            max_results,
            reverse_order,
            next_token,
            include_execution_data,
        })
    }
}
