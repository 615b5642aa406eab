//! The Step Functions API on the engine: each operation's typed request becomes an engine call,
//! and each engine refusal becomes AWS's error code.

use async_trait::async_trait;
use chrono::Utc;
use serde_json::Value;
use sluice_engine::{Engine, Error};

use crate::error::{ApiError, ErrorCode};
use crate::protocol::Timestamp;
use crate::service::StepFunctions;
use crate::stepfunctions::*;

/// [`StepFunctions`] served by an [`Engine`].
#[derive(Debug, Clone)]
pub struct EngineService {
    engine: Engine,
}

impl EngineService {
    /// Serves `engine`.
    pub fn new(engine: Engine) -> EngineService {
        EngineService { engine }
    }
}

/// An engine refusal as AWS's error.
fn refused(error: Error) -> ApiError {
    let code = match &error {
        Error::StateMachineDoesNotExist { .. } => ErrorCode::StateMachineDoesNotExist,
        Error::StateMachineAlreadyExists { .. } => ErrorCode::StateMachineAlreadyExists,
        Error::ExecutionDoesNotExist { .. } => ErrorCode::ExecutionDoesNotExist,
        Error::ExecutionAlreadyExists { .. } => ErrorCode::ExecutionAlreadyExists,
        Error::InvalidDefinition(_) | Error::DefinitionNotJson(_) => ErrorCode::InvalidDefinition,
        Error::InvalidName { .. } => ErrorCode::InvalidName,
        Error::InvalidArn { .. } => ErrorCode::InvalidArn,
        Error::InvalidExecutionInput { .. } => ErrorCode::InvalidExecutionInput,
        Error::InvalidOutput { .. } => ErrorCode::InvalidOutput,
        Error::InvalidToken { .. } => ErrorCode::InvalidToken,
        // AWS answers a token whose task has ended with TaskTimedOut, whatever ended it.
        Error::TaskDoesNotExist { .. } => ErrorCode::TaskTimedOut,
        _ => ErrorCode::InternalFailure,
    };
    let message = match &error {
        Error::InvalidDefinition(diagnostics) => {
            let problems: Vec<String> = diagnostics.0.iter().map(ToString::to_string).collect();
            format!("Invalid State Machine Definition: '{}'", problems.join("; "))
        }
        other => other.to_string(),
    };
    ApiError::new(code, message)
}

fn machine_type(machine_type: sluice_engine::MachineType) -> StateMachineType {
    match machine_type {
        sluice_engine::MachineType::Standard => StateMachineType::Standard,
        sluice_engine::MachineType::Express => StateMachineType::Express,
    }
}

fn status(status: sluice_engine::ExecutionStatus) -> ExecutionStatus {
    match status {
        sluice_engine::ExecutionStatus::Running => ExecutionStatus::Running,
        sluice_engine::ExecutionStatus::Succeeded => ExecutionStatus::Succeeded,
        sluice_engine::ExecutionStatus::Failed => ExecutionStatus::Failed,
        sluice_engine::ExecutionStatus::TimedOut => ExecutionStatus::TimedOut,
        sluice_engine::ExecutionStatus::Aborted => ExecutionStatus::Aborted,
    }
}

fn describe(record: sluice_engine::ExecutionRecord) -> DescribeExecutionResponse {
    DescribeExecutionResponse {
        execution_arn: record.arn,
        state_machine_arn: record.state_machine_arn,
        name: Some(record.name),
        status: status(record.status),
        start_date: Timestamp::from_millis(record.start_millis),
        stop_date: record.stop_millis.map(Timestamp::from_millis),
        input: Some(record.input),
        input_details: Some(DataDetails { included: true }),
        output_details: record.output.as_ref().map(|_| DataDetails { included: true }),
        output: record.output,
        trace_header: None,
        error: record.error,
        cause: record.cause,
    }
}

#[async_trait]
impl StepFunctions for EngineService {
    async fn create_state_machine(&self, r: CreateStateMachineRequest) -> Result<CreateStateMachineResponse, ApiError> {
        let machine_type = match r.machine_type {
            StateMachineType::Standard => sluice_engine::MachineType::Standard,
            StateMachineType::Express => sluice_engine::MachineType::Express,
        };
        let now = Utc::now().timestamp_millis();
        let record = self
            .engine
            .create_state_machine(&r.name, &r.definition, &r.role_arn, machine_type, now)
            .await
            .map_err(refused)?;
        Ok(CreateStateMachineResponse {
            state_machine_arn: record.arn,
            creation_date: Timestamp::from_millis(record.created_millis),
            state_machine_version_arn: None,
        })
    }

    async fn update_state_machine(&self, r: UpdateStateMachineRequest) -> Result<UpdateStateMachineResponse, ApiError> {
        let record = self
            .engine
            .update_state_machine(&r.state_machine_arn, r.definition.as_deref(), r.role_arn.as_deref())
            .await
            .map_err(refused)?;
        Ok(UpdateStateMachineResponse {
            update_date: Timestamp::from_millis(Utc::now().timestamp_millis()),
            revision_id: Some(record.revision.to_string()),
            state_machine_version_arn: None,
        })
    }

    async fn delete_state_machine(&self, r: DeleteStateMachineRequest) -> Result<Empty, ApiError> {
        match self.engine.delete_state_machine(&r.state_machine_arn).await {
            // AWS answers a delete of a missing state machine with success.
            Ok(()) | Err(Error::StateMachineDoesNotExist { .. }) => Ok(Empty {}),
            Err(error) => Err(refused(error)),
        }
    }

    async fn describe_state_machine(
        &self,
        r: DescribeStateMachineRequest,
    ) -> Result<DescribeStateMachineResponse, ApiError> {
        let record = self
            .engine
            .describe_state_machine(&r.state_machine_arn)
            .await
            .map_err(refused)?;
        Ok(DescribeStateMachineResponse {
            state_machine_arn: record.arn,
            name: record.name,
            status: Some(StateMachineStatus::Active),
            definition: record.definition,
            role_arn: record.role_arn,
            machine_type: machine_type(record.machine_type),
            creation_date: Timestamp::from_millis(record.created_millis),
            logging_configuration: None,
            tracing_configuration: None,
            revision_id: Some(record.revision.to_string()),
            description: None,
        })
    }

    async fn list_state_machines(&self, r: ListStateMachinesRequest) -> Result<ListStateMachinesResponse, ApiError> {
        let limit = if r.max_results == 0 {
            100
        } else {
            r.max_results as usize
        };
        let (machines, next_token) = self
            .engine
            .list_state_machines(r.next_token.as_deref(), limit)
            .await
            .map_err(refused)?;
        Ok(ListStateMachinesResponse {
            state_machines: machines
                .into_iter()
                .map(|record| StateMachineListItem {
                    state_machine_arn: record.arn,
                    name: record.name,
                    machine_type: machine_type(record.machine_type),
                    creation_date: Timestamp::from_millis(record.created_millis),
                })
                .collect(),
            next_token,
        })
    }

    async fn start_execution(&self, r: StartExecutionRequest) -> Result<StartExecutionResponse, ApiError> {
        let record = self
            .engine
            .start_execution(&r.state_machine_arn, r.name.as_deref(), Some(&r.input), Utc::now())
            .await
            .map_err(refused)?;
        Ok(StartExecutionResponse {
            execution_arn: record.arn,
            start_date: Timestamp::from_millis(record.start_millis),
        })
    }

    async fn start_sync_execution(&self, r: StartExecutionRequest) -> Result<StartSyncExecutionResponse, ApiError> {
        let machine = self
            .engine
            .describe_state_machine(&r.state_machine_arn)
            .await
            .map_err(refused)?;
        if machine.machine_type != sluice_engine::MachineType::Express {
            return Err(ApiError::new(
                ErrorCode::StateMachineTypeNotSupported,
                "This operation is supported only for Express state machines",
            ));
        }
        let started = self
            .engine
            .start_execution(&r.state_machine_arn, r.name.as_deref(), Some(&r.input), Utc::now())
            .await
            .map_err(refused)?;
        let record = self.engine.await_execution(&started.arn).await.map_err(refused)?;
        let sync_status = match record.status {
            sluice_engine::ExecutionStatus::Succeeded => SyncExecutionStatus::Succeeded,
            sluice_engine::ExecutionStatus::TimedOut => SyncExecutionStatus::TimedOut,
            _ => SyncExecutionStatus::Failed,
        };
        Ok(StartSyncExecutionResponse {
            execution_arn: record.arn,
            state_machine_arn: Some(record.state_machine_arn),
            name: Some(record.name),
            start_date: Timestamp::from_millis(record.start_millis),
            stop_date: Timestamp::from_millis(record.stop_millis.unwrap_or(record.start_millis)),
            status: sync_status,
            error: record.error,
            cause: record.cause,
            input: Some(record.input),
            output: record.output,
            trace_header: None,
        })
    }

    async fn stop_execution(&self, r: StopExecutionRequest) -> Result<StopExecutionResponse, ApiError> {
        let record = self
            .engine
            .stop_execution(&r.execution_arn, r.error, r.cause, Utc::now())
            .await
            .map_err(refused)?;
        let stop = record.stop_millis.unwrap_or_else(|| Utc::now().timestamp_millis());
        Ok(StopExecutionResponse {
            stop_date: Timestamp::from_millis(stop),
        })
    }

    async fn describe_execution(&self, r: DescribeExecutionRequest) -> Result<DescribeExecutionResponse, ApiError> {
        self.engine
            .describe_execution(&r.execution_arn)
            .await
            .map(describe)
            .map_err(refused)
    }

    async fn wait_for_execution(&self, execution_arn: &str, timeout: std::time::Duration) {
        // An execution that does not exist is answered by the DescribeExecution that follows.
        let _ = tokio::time::timeout(timeout, self.engine.await_execution(execution_arn)).await;
    }

    async fn list_executions(&self, r: ListExecutionsRequest) -> Result<ListExecutionsResponse, ApiError> {
        let limit = if r.max_results == 0 {
            100
        } else {
            r.max_results as usize
        };
        let filter = r
            .status_filter
            .and_then(|wanted| sluice_engine::ExecutionStatus::parse(wanted.as_str()));
        let (executions, next_token) = self
            .engine
            .list_executions(r.state_machine_arn.as_deref(), filter, r.next_token.as_deref(), limit)
            .await
            .map_err(refused)?;
        Ok(ListExecutionsResponse {
            executions: executions
                .into_iter()
                .map(|summary| ExecutionListItem {
                    execution_arn: summary.arn,
                    state_machine_arn: summary.state_machine_arn,
                    name: summary.name,
                    status: status(summary.status),
                    start_date: Timestamp::from_millis(summary.start_millis),
                    stop_date: summary.stop_millis.map(Timestamp::from_millis),
                })
                .collect(),
            next_token,
        })
    }

    async fn get_execution_history(
        &self,
        r: GetExecutionHistoryRequest,
    ) -> Result<GetExecutionHistoryResponse, ApiError> {
        let limit = if r.max_results == 0 {
            100
        } else {
            r.max_results as usize
        };
        let (events, next_token) = self
            .engine
            .history(&r.execution_arn, r.reverse_order, r.next_token.as_deref(), limit)
            .await
            .map_err(refused)?;
        let events = events
            .into_iter()
            .map(|event| {
                // The engine keeps the details under their member; the API names the member itself.
                let details = serde_json::from_str::<Value>(&event.details)
                    .ok()
                    .and_then(|value| match value {
                        Value::Object(members) => members.into_iter().next().map(|(_, details)| details),
                        _ => None,
                    });
                HistoryEvent {
                    timestamp: Timestamp::from_millis(event.timestamp_millis),
                    event_type: event.event_type,
                    id: event.id,
                    previous_event_id: event.previous_event_id,
                    details,
                }
            })
            .collect();
        Ok(GetExecutionHistoryResponse { events, next_token })
    }

    async fn send_task_success(&self, r: SendTaskSuccessRequest) -> Result<Empty, ApiError> {
        self.engine
            .send_task_success(&r.task_token, &r.output, Utc::now())
            .await
            .map_err(refused)?;
        Ok(Empty {})
    }

    async fn send_task_failure(&self, r: SendTaskFailureRequest) -> Result<Empty, ApiError> {
        self.engine
            .send_task_failure(&r.task_token, r.error, r.cause, Utc::now())
            .await
            .map_err(refused)?;
        Ok(Empty {})
    }

    async fn send_task_heartbeat(&self, r: SendTaskHeartbeatRequest) -> Result<Empty, ApiError> {
        self.engine
            .send_task_heartbeat(&r.task_token, Utc::now())
            .await
            .map_err(refused)?;
        Ok(Empty {})
    }

    async fn validate_state_machine_definition(
        &self,
        r: ValidateStateMachineDefinitionRequest,
    ) -> Result<ValidateStateMachineDefinitionResponse, ApiError> {
        let diagnostics = match self.engine.validate(&r.definition) {
            Ok(_) => Vec::new(),
            Err(Error::InvalidDefinition(diagnostics)) => diagnostics
                .0
                .into_iter()
                .map(|diagnostic| Diagnostic {
                    severity: Severity::Error,
                    code: "SCHEMA_VALIDATION_FAILED".to_owned(),
                    message: diagnostic.message,
                    location: Some(diagnostic.pointer),
                })
                .collect(),
            Err(other) => vec![Diagnostic {
                severity: Severity::Error,
                code: "INVALID_JSON_DESCRIPTION".to_owned(),
                message: other.to_string(),
                location: None,
            }],
        };
        let result = if diagnostics.is_empty() {
            ValidationResultCode::Ok
        } else {
            ValidationResultCode::Fail
        };
        Ok(ValidateStateMachineDefinitionResponse {
            result,
            diagnostics,
            truncated: Some(false),
        })
    }

    async fn test_state(&self, r: TestStateRequest) -> Result<TestStateResponse, ApiError> {
        crate::test_state::run(&self.engine, r).await
    }
}

/// Function URLs over the engine's routes and functions.
#[async_trait]
impl crate::FunctionUrls for EngineService {
    fn find(&self, method: &str, path: &str) -> Option<sluice_engine::Route> {
        self.engine.routes().find(method, path)
    }

    async fn invoke(&self, function: &str, event: Value) -> Result<Value, sluice_engine::FunctionError> {
        match self.engine.functions().get(function) {
            Some(found) => found.invoke(event).await,
            None => Err(sluice_engine::FunctionError::new(
                "ResourceNotFoundException",
                format!("Function not found: {function}"),
            )),
        }
    }
}
