//! The services the API calls, in AWS request and response terms: one async method per
//! operation. The engine implements them; the API knows nothing of it.

use async_trait::async_trait;

use crate::error::ApiError;
use crate::stepfunctions::{
    CreateStateMachineRequest, CreateStateMachineResponse, DeleteStateMachineRequest, DescribeExecutionRequest,
    DescribeExecutionResponse, DescribeStateMachineRequest, DescribeStateMachineResponse, Empty,
    GetExecutionHistoryRequest, GetExecutionHistoryResponse, ListExecutionsRequest, ListExecutionsResponse,
    ListStateMachinesRequest, ListStateMachinesResponse, SendTaskFailureRequest, SendTaskHeartbeatRequest,
    SendTaskSuccessRequest, StartExecutionRequest, StartExecutionResponse, StartSyncExecutionResponse,
    StopExecutionRequest, StopExecutionResponse, TestStateRequest, TestStateResponse, UpdateStateMachineRequest,
    UpdateStateMachineResponse, ValidateStateMachineDefinitionRequest, ValidateStateMachineDefinitionResponse,
};

/// Step Functions. Requests arrive checked as AWS checks them (required members, lengths, ranges,
/// enumerations, names, ARN shapes, JSON payloads); the service answers the rest (existence,
/// definitions, tokens) with an [`ApiError`] of the operation's AWS code.
#[async_trait]
pub trait StepFunctions: Send + Sync {
    /// `CreateStateMachine`: idempotent for the same name, definition and role.
    async fn create_state_machine(
        &self,
        request: CreateStateMachineRequest,
    ) -> Result<CreateStateMachineResponse, ApiError>;

    /// `UpdateStateMachine`.
    async fn update_state_machine(
        &self,
        request: UpdateStateMachineRequest,
    ) -> Result<UpdateStateMachineResponse, ApiError>;

    /// `DeleteStateMachine`: succeeds for a state machine that does not exist.
    async fn delete_state_machine(&self, request: DeleteStateMachineRequest) -> Result<Empty, ApiError>;

    /// `DescribeStateMachine`.
    async fn describe_state_machine(
        &self,
        request: DescribeStateMachineRequest,
    ) -> Result<DescribeStateMachineResponse, ApiError>;

    /// `ListStateMachines`.
    async fn list_state_machines(
        &self,
        request: ListStateMachinesRequest,
    ) -> Result<ListStateMachinesResponse, ApiError>;

    /// `StartExecution`: idempotent for the same name and input.
    async fn start_execution(&self, request: StartExecutionRequest) -> Result<StartExecutionResponse, ApiError>;

    /// `StartSyncExecution`: Express state machines only; answers when the execution ends.
    async fn start_sync_execution(
        &self,
        request: StartExecutionRequest,
    ) -> Result<StartSyncExecutionResponse, ApiError>;

    /// `StopExecution`.
    async fn stop_execution(&self, request: StopExecutionRequest) -> Result<StopExecutionResponse, ApiError>;

    /// `DescribeExecution`.
    async fn describe_execution(
        &self,
        request: DescribeExecutionRequest,
    ) -> Result<DescribeExecutionResponse, ApiError>;

    /// `ListExecutions`.
    async fn list_executions(&self, request: ListExecutionsRequest) -> Result<ListExecutionsResponse, ApiError>;

    /// `GetExecutionHistory`.
    async fn get_execution_history(
        &self,
        request: GetExecutionHistoryRequest,
    ) -> Result<GetExecutionHistoryResponse, ApiError>;

    /// `SendTaskSuccess`.
    async fn send_task_success(&self, request: SendTaskSuccessRequest) -> Result<Empty, ApiError>;

    /// `SendTaskFailure`.
    async fn send_task_failure(&self, request: SendTaskFailureRequest) -> Result<Empty, ApiError>;

    /// `SendTaskHeartbeat`.
    async fn send_task_heartbeat(&self, request: SendTaskHeartbeatRequest) -> Result<Empty, ApiError>;

    /// `ValidateStateMachineDefinition`: problems are answered as diagnostics, not as errors.
    async fn validate_state_machine_definition(
        &self,
        request: ValidateStateMachineDefinitionRequest,
    ) -> Result<ValidateStateMachineDefinitionResponse, ApiError>;

    /// `TestState`.
    async fn test_state(&self, request: TestStateRequest) -> Result<TestStateResponse, ApiError>;

    /// Sluice's extension (`X-Sluice-Wait-Seconds`, see [`crate::wait`]): returns once the
    /// execution has ended or `timeout` has passed, whichever comes first; at once when it does
    /// not exist. This default returns at once.
    async fn wait_for_execution(&self, execution_arn: &str, timeout: std::time::Duration) {
        let _ = (execution_arn, timeout);
    }
}
