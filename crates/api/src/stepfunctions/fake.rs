//! An in-memory Step Functions for the API's tests: it keeps state machines and executions in
//! maps and answers each operation with fixed times, so that the shapes can be checked end to end.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::*;
use crate::error::{ApiError, ErrorCode};
use crate::protocol::Timestamp;
use crate::service::StepFunctions;

/// The time every record is stamped with.
pub const NOW_MILLIS: i64 = 1_763_900_000_250;

#[derive(Debug, Default)]
pub struct Fake {
    machines: Mutex<BTreeMap<String, CreateStateMachineRequest>>,
    executions: Mutex<BTreeMap<String, StartExecutionRequest>>,
}

fn now() -> Timestamp {
    Timestamp::from_millis(NOW_MILLIS)
}

fn poisoned<T>(_: T) -> ApiError {
    ApiError::new(ErrorCode::InternalFailure, "lock poisoned")
}

impl Fake {
    fn machine(&self, arn: &str) -> Result<CreateStateMachineRequest, ApiError> {
        let machines = self.machines.lock().map_err(poisoned)?;
        machines.get(arn).cloned().ok_or_else(|| {
            ApiError::new(
                ErrorCode::StateMachineDoesNotExist,
                format!("State Machine Does Not Exist: '{arn}'"),
            )
        })
    }

    fn execution(&self, arn: &str) -> Result<StartExecutionRequest, ApiError> {
        let executions = self.executions.lock().map_err(poisoned)?;
        executions.get(arn).cloned().ok_or_else(|| {
            ApiError::new(
                ErrorCode::ExecutionDoesNotExist,
                format!("Execution Does Not Exist: '{arn}'"),
            )
        })
    }
}

fn execution_arn(machine_arn: &str, name: &str) -> String {
    format!("{}:{name}", machine_arn.replacen(":stateMachine:", ":execution:", 1))
}

fn token(task_token: &str) -> Result<Empty, ApiError> {
    match task_token {
        "good" => Ok(Empty {}),
        "ended" => Err(ApiError::new(ErrorCode::TaskDoesNotExist, "Task Does Not Exist")),
        _ => Err(ApiError::new(ErrorCode::InvalidToken, "Invalid Token")),
    }
}

#[async_trait]
impl StepFunctions for Fake {
    async fn create_state_machine(
        &self,
        request: CreateStateMachineRequest,
    ) -> Result<CreateStateMachineResponse, ApiError> {
        let arn = format!("arn:aws:states:us-east-1:123456789012:stateMachine:{}", request.name);
        self.machines.lock().map_err(poisoned)?.insert(arn.clone(), request);
        Ok(CreateStateMachineResponse {
            state_machine_arn: arn,
            creation_date: now(),
            state_machine_version_arn: None,
        })
    }

    async fn update_state_machine(
        &self,
        request: UpdateStateMachineRequest,
    ) -> Result<UpdateStateMachineResponse, ApiError> {
        let mut machine = self.machine(&request.state_machine_arn)?;
        if let Some(definition) = request.definition {
            machine.definition = definition;
        }
        self.machines
            .lock()
            .map_err(poisoned)?
            .insert(request.state_machine_arn, machine);
        Ok(UpdateStateMachineResponse {
            update_date: now(),
            revision_id: Some("2".to_owned()),
            state_machine_version_arn: None,
        })
    }

    async fn delete_state_machine(&self, request: DeleteStateMachineRequest) -> Result<Empty, ApiError> {
        self.machines
            .lock()
            .map_err(poisoned)?
            .remove(&request.state_machine_arn);
        Ok(Empty {})
    }

    async fn describe_state_machine(
        &self,
        request: DescribeStateMachineRequest,
    ) -> Result<DescribeStateMachineResponse, ApiError> {
        let machine = self.machine(&request.state_machine_arn)?;
        Ok(DescribeStateMachineResponse {
            state_machine_arn: request.state_machine_arn,
            name: machine.name,
            status: Some(StateMachineStatus::Active),
            definition: machine.definition,
            role_arn: machine.role_arn,
            machine_type: machine.machine_type,
            creation_date: now(),
            logging_configuration: machine.logging_configuration,
            tracing_configuration: machine.tracing_configuration,
            revision_id: None,
            description: None,
        })
    }

    async fn list_state_machines(
        &self,
        request: ListStateMachinesRequest,
    ) -> Result<ListStateMachinesResponse, ApiError> {
        if request.next_token.is_some() {
            return Err(ApiError::new(ErrorCode::InvalidToken, "Invalid Token"));
        }
        let machines = self.machines.lock().map_err(poisoned)?;
        let state_machines = machines
            .iter()
            .map(|(arn, machine)| StateMachineListItem {
                state_machine_arn: arn.clone(),
                name: machine.name.clone(),
                machine_type: machine.machine_type,
                creation_date: now(),
            })
            .collect();
        Ok(ListStateMachinesResponse {
            state_machines,
            next_token: None,
        })
    }

    async fn start_execution(&self, request: StartExecutionRequest) -> Result<StartExecutionResponse, ApiError> {
        self.machine(&request.state_machine_arn)?;
        let arn = execution_arn(
            &request.state_machine_arn,
            request.name.as_deref().unwrap_or("generated"),
        );
        self.executions.lock().map_err(poisoned)?.insert(arn.clone(), request);
        Ok(StartExecutionResponse {
            execution_arn: arn,
            start_date: now(),
        })
    }

    async fn start_sync_execution(
        &self,
        request: StartExecutionRequest,
    ) -> Result<StartSyncExecutionResponse, ApiError> {
        let machine = self.machine(&request.state_machine_arn)?;
        if machine.machine_type != StateMachineType::Express {
            return Err(ApiError::new(
                ErrorCode::StateMachineTypeNotSupported,
                "This operation is not supported by this type of state machine",
            ));
        }
        Ok(StartSyncExecutionResponse {
            execution_arn: execution_arn(&request.state_machine_arn, "sync"),
            state_machine_arn: Some(request.state_machine_arn),
            name: Some("sync".to_owned()),
            start_date: now(),
            stop_date: now(),
            status: SyncExecutionStatus::Succeeded,
            error: None,
            cause: None,
            input: Some(request.input.clone()),
            output: Some(request.input),
            trace_header: None,
        })
    }

    async fn stop_execution(&self, request: StopExecutionRequest) -> Result<StopExecutionResponse, ApiError> {
        self.execution(&request.execution_arn)?;
        Ok(StopExecutionResponse { stop_date: now() })
    }

    async fn describe_execution(
        &self,
        request: DescribeExecutionRequest,
    ) -> Result<DescribeExecutionResponse, ApiError> {
        let execution = self.execution(&request.execution_arn)?;
        Ok(DescribeExecutionResponse {
            execution_arn: request.execution_arn,
            state_machine_arn: execution.state_machine_arn,
            name: execution.name,
            status: ExecutionStatus::Running,
            start_date: now(),
            stop_date: None,
            input: Some(execution.input),
            input_details: Some(DataDetails { included: true }),
            output: None,
            output_details: None,
            trace_header: None,
            error: None,
            cause: None,
        })
    }

    async fn list_executions(&self, request: ListExecutionsRequest) -> Result<ListExecutionsResponse, ApiError> {
        let executions = self.executions.lock().map_err(poisoned)?;
        let executions = executions
            .iter()
            .filter(|(_, execution)| Some(&execution.state_machine_arn) == request.state_machine_arn.as_ref())
            .filter(|_| matches!(request.status_filter, None | Some(ExecutionStatus::Running)))
            .map(|(arn, execution)| ExecutionListItem {
                execution_arn: arn.clone(),
                state_machine_arn: execution.state_machine_arn.clone(),
                name: execution.name.clone().unwrap_or_default(),
                status: ExecutionStatus::Running,
                start_date: now(),
                stop_date: None,
            })
            .collect();
        Ok(ListExecutionsResponse {
            executions,
            next_token: None,
        })
    }

    async fn get_execution_history(
        &self,
        request: GetExecutionHistoryRequest,
    ) -> Result<GetExecutionHistoryResponse, ApiError> {
        let execution = self.execution(&request.execution_arn)?;
        let events = vec![
            HistoryEvent {
                timestamp: now(),
                event_type: "ExecutionStarted".to_owned(),
                id: 1,
                previous_event_id: 0,
                details: Some(
                    serde_json::json!({"input": execution.input, "roleArn": "arn:aws:iam::123456789012:role/r"}),
                ),
            },
            HistoryEvent {
                timestamp: now(),
                event_type: "PassStateEntered".to_owned(),
                id: 2,
                previous_event_id: 1,
                details: Some(serde_json::json!({"name": "Start", "input": execution.input})),
            },
        ];
        Ok(GetExecutionHistoryResponse {
            events,
            next_token: None,
        })
    }

    async fn send_task_success(&self, request: SendTaskSuccessRequest) -> Result<Empty, ApiError> {
        token(&request.task_token)
    }

    async fn send_task_failure(&self, request: SendTaskFailureRequest) -> Result<Empty, ApiError> {
        token(&request.task_token)
    }

    async fn send_task_heartbeat(&self, request: SendTaskHeartbeatRequest) -> Result<Empty, ApiError> {
        token(&request.task_token)
    }

    async fn validate_state_machine_definition(
        &self,
        request: ValidateStateMachineDefinitionRequest,
    ) -> Result<ValidateStateMachineDefinitionResponse, ApiError> {
        if request.definition.contains("StartAt") {
            return Ok(ValidateStateMachineDefinitionResponse {
                result: ValidationResultCode::Ok,
                diagnostics: Vec::new(),
                truncated: Some(false),
            });
        }
        Ok(ValidateStateMachineDefinitionResponse {
            result: ValidationResultCode::Fail,
            diagnostics: vec![Diagnostic {
                severity: Severity::Error,
                code: "SCHEMA_VALIDATION_FAILED".to_owned(),
                message: "These fields are required: [StartAt, States]".to_owned(),
                location: Some("/".to_owned()),
            }],
            truncated: Some(false),
        })
    }

    async fn test_state(&self, request: TestStateRequest) -> Result<TestStateResponse, ApiError> {
        Ok(TestStateResponse {
            output: Some(request.input.clone()),
            error: None,
            cause: None,
            inspection_data: (request.inspection_level != InspectionLevel::Info).then(|| InspectionData {
                input: Some(request.input),
                ..InspectionData::default()
            }),
            next_state: Some("Next".to_owned()),
            status: TestExecutionStatus::Succeeded,
        })
    }
}
