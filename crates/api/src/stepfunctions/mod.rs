//! The Step Functions API (`AWSStepFunctions.*`, signing name `states`): request and response
//! shapes with AWS's member names, the checks AWS makes on each request, and the dispatch from
//! an operation name to the [`StepFunctions`] service.

mod executions;
mod machines;
mod tasks;
mod testing;
pub mod validate;

#[cfg(test)]
pub(crate) mod fake;
#[cfg(test)]
mod tests;

use axum::response::Response;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

pub use executions::*;
pub use machines::*;
pub use tasks::*;
pub use testing::*;

use crate::error::{ApiError, ErrorCode};
use crate::protocol::{Fields, Timestamp, enumeration, reply};
use crate::service::StepFunctions;

/// The `X-Amz-Target` prefix of Step Functions.
pub const TARGET_PREFIX: &str = "AWSStepFunctions";

/// The name Step Functions requests are signed for.
pub const SIGNING_NAME: &str = "states";

/// Every operation this API answers, in the order of the service trait.
pub const OPERATIONS: &[&str] = &[
    "CreateStateMachine",
    "UpdateStateMachine",
    "DeleteStateMachine",
    "DescribeStateMachine",
    "ListStateMachines",
    "StartExecution",
    "StartSyncExecution",
    "StopExecution",
    "DescribeExecution",
    "ListExecutions",
    "GetExecutionHistory",
    "SendTaskSuccess",
    "SendTaskFailure",
    "SendTaskHeartbeat",
    "ValidateStateMachineDefinition",
    "TestState",
];

enumeration! {
    /// Standard (recorded step by step) or Express (not recorded, at-least-once).
    StateMachineType {
        /// `STANDARD`.
        Standard = "STANDARD",
        /// `EXPRESS`.
        Express = "EXPRESS",
    }
}

enumeration! {
    /// The status of an execution.
    ExecutionStatus {
        /// `RUNNING`.
        Running = "RUNNING",
        /// `SUCCEEDED`.
        Succeeded = "SUCCEEDED",
        /// `FAILED`.
        Failed = "FAILED",
        /// `TIMED_OUT`.
        TimedOut = "TIMED_OUT",
        /// `ABORTED`.
        Aborted = "ABORTED",
        /// `PENDING_REDRIVE`.
        PendingRedrive = "PENDING_REDRIVE",
    }
}

enumeration! {
    /// Whether payloads are included in an answer.
    IncludedData {
        /// `ALL_DATA`.
        AllData = "ALL_DATA",
        /// `METADATA_ONLY`.
        MetadataOnly = "METADATA_ONLY",
    }
}

/// An answer with no members: `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Empty {}

/// One history event. On the wire its details sit under the member its type names:
/// `TaskStateEntered` → `stateEnteredEventDetails`, `ExecutionStarted` →
/// `executionStartedEventDetails`.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    /// When it happened.
    pub timestamp: Timestamp,
    /// AWS's event type, such as `TaskStateEntered`.
    pub event_type: String,
    /// From 1, in order.
    pub id: u64,
    /// The event this one follows (0 for the first).
    pub previous_event_id: u64,
    /// The `…EventDetails` object, when the type has one.
    pub details: Option<serde_json::Value>,
}

impl HistoryEvent {
    /// The member that holds the details of events of `event_type`.
    pub fn details_member(event_type: &str) -> String {
        if event_type.ends_with("StateEntered") {
            return "stateEnteredEventDetails".to_owned();
        }
        if event_type.ends_with("StateExited") {
            return "stateExitedEventDetails".to_owned();
        }
        if let Some(rest) = event_type.strip_prefix("MapIteration") {
            // All four MapIteration events share one shape, but each has its own member.
            return format!("mapIteration{rest}EventDetails");
        }
        let mut characters = event_type.chars();
        let first = characters.next().map(|first| first.to_ascii_lowercase()).into_iter();
        format!("{}{}EventDetails", first.collect::<String>(), characters.as_str())
    }
}

impl Serialize for HistoryEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("timestamp", &self.timestamp)?;
        map.serialize_entry("type", &self.event_type)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("previousEventId", &self.previous_event_id)?;
        if let Some(details) = &self.details {
            map.serialize_entry(&HistoryEvent::details_member(&self.event_type), details)?;
        }
        map.end()
    }
}

/// Answers one Step Functions operation: reads and checks the request, calls the service, and
/// encodes its answer.
pub async fn dispatch(service: &dyn StepFunctions, operation: &str, body: &[u8]) -> Result<Response, ApiError> {
    let fields = || Fields::parse(body);
    match operation {
        "CreateStateMachine" => reply(
            &service
                .create_state_machine(CreateStateMachineRequest::read(fields()?)?)
                .await?,
        ),
        "UpdateStateMachine" => reply(
            &service
                .update_state_machine(UpdateStateMachineRequest::read(fields()?)?)
                .await?,
        ),
        "DeleteStateMachine" => reply(
            &service
                .delete_state_machine(DeleteStateMachineRequest::read(fields()?)?)
                .await?,
        ),
        "DescribeStateMachine" => reply(
            &service
                .describe_state_machine(DescribeStateMachineRequest::read(fields()?)?)
                .await?,
        ),
        "ListStateMachines" => reply(
            &service
                .list_state_machines(ListStateMachinesRequest::read(fields()?)?)
                .await?,
        ),
        "StartExecution" => reply(
            &service
                .start_execution(StartExecutionRequest::read(fields()?, false)?)
                .await?,
        ),
        "StartSyncExecution" => reply(
            &service
                .start_sync_execution(StartExecutionRequest::read(fields()?, true)?)
                .await?,
        ),
        "StopExecution" => reply(&service.stop_execution(StopExecutionRequest::read(fields()?)?).await?),
        "DescribeExecution" => reply(
            &service
                .describe_execution(DescribeExecutionRequest::read(fields()?)?)
                .await?,
        ),
        "ListExecutions" => reply(&service.list_executions(ListExecutionsRequest::read(fields()?)?).await?),
        "GetExecutionHistory" => reply(
            &service
                .get_execution_history(GetExecutionHistoryRequest::read(fields()?)?)
                .await?,
        ),
        "SendTaskSuccess" => reply(
            &service
                .send_task_success(SendTaskSuccessRequest::read(fields()?)?)
                .await?,
        ),
        "SendTaskFailure" => reply(
            &service
                .send_task_failure(SendTaskFailureRequest::read(fields()?)?)
                .await?,
        ),
        "SendTaskHeartbeat" => reply(
            &service
                .send_task_heartbeat(SendTaskHeartbeatRequest::read(fields()?)?)
                .await?,
        ),
        "ValidateStateMachineDefinition" => reply(
            &service
                .validate_state_machine_definition(ValidateStateMachineDefinitionRequest::read(fields()?)?)
                .await?,
        ),
        "TestState" => reply(&service.test_state(TestStateRequest::read(fields()?)?).await?),
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("Unknown operation: {operation}"),
        )),
    }
}

/// Reads `maxResults`: 0 to 1000, 0 (the default) meaning the service's default page size.
fn page_size(fields: &mut Fields) -> u32 {
    fields
        .integer("maxResults", 0, 1000)
        .and_then(|value| u32::try_from(value).ok())
        .unwrap_or(0)
}
