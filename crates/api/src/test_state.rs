//! `TestState`: one state run once, outside any execution, through the language's step function,
//! <https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html>.
//! A Task uses the request's mock when it has one, and otherwise really runs its resource.

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Map, Value, json};
use sluice_asl::scope::{Context, Execution, Variables};
use sluice_asl::step::{self, Env, Step};
use sluice_asl::{Failure, SeededEntropy};
use sluice_engine::Engine;

use crate::error::{ApiError, ErrorCode};
use crate::stepfunctions::{TestExecutionStatus, TestStateRequest, TestStateResponse};

/// Runs the request's state once.
pub async fn run(engine: &Engine, request: TestStateRequest) -> Result<TestStateResponse, ApiError> {
    let invalid = |message: String| ApiError::new(ErrorCode::InvalidDefinition, message);
    let mut definition: Value = serde_json::from_str(&request.definition)
        .map_err(|error| invalid(format!("the definition is not JSON: {error}")))?;
    let name = request.state_name.clone().unwrap_or_else(|| "TestState".to_owned());
    if definition.get("States").is_none() {
        definition = wrap(&name, definition);
    }
    let machine = sluice_asl::parse(&definition).map_err(|diagnostics| invalid(diagnostics.to_string()))?;
    let state = machine.graph.state(&name).ok_or_else(|| {
        ApiError::new(
            ErrorCode::ValidationException,
            format!("no state named '{name}' in the definition"),
        )
    })?;
    let input: Value = serde_json::from_str(&request.input).map_err(|error| {
        ApiError::new(
            ErrorCode::InvalidExecutionInput,
            format!("the input is not JSON: {error}"),
        )
    })?;
    let mut variables = Variables::default();
    if let Some(text) = &request.variables {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(values)) => variables.assign(values),
            _ => {
                return Err(ApiError::new(
                    ErrorCode::ValidationException,
                    "variables must be a JSON object",
                ));
            }
        }
    }
    let now = Utc::now();
    let context = Context {
        execution: Arc::new(Execution {
            id: "arn:aws:states:us-east-1:123456789012:execution:TestState:test".into(),
            name: "test".into(),
            input: input.clone(),
            start_time: now,
            role_arn: request.role_arn.clone().unwrap_or_default(),
            state_machine_id: "arn:aws:states:us-east-1:123456789012:stateMachine:TestState".into(),
            state_machine_name: "TestState".into(),
        }),
        state_name: name.clone(),
        entered_time: now,
        retry_count: 0,
        task_token: None,
        map_item: None,
        entered_event_id: None,
    };
    let mut entropy = SeededEntropy::new(now.timestamp_nanos_opt().unwrap_or_default() as u64);
    let first = {
        let mut env = Env {
            context: &context,
            variables: &variables,
            retries: &[],
            entropy: &mut entropy,
        };
        step::enter(state, &input, &mut env)
    };
    let (last, caught) = match first {
        Step::RunTask(task) => {
            let result: Result<Value, Failure> = match &request.mock {
                Some(mock) => match (&mock.result, &mock.error_output) {
                    (Some(result), _) => Ok(serde_json::from_str(result).map_err(|error| {
                        ApiError::new(
                            ErrorCode::ValidationException,
                            format!("mock.result is not JSON: {error}"),
                        )
                    })?),
                    (None, Some(error)) => Err(Failure {
                        error: error.error.clone().unwrap_or_default(),
                        cause: error.cause.clone(),
                    }),
                    (None, None) => Ok(Value::Null),
                },
                None => engine.run_task(&task.resource, task.parameters).await,
            };
            let mut env = Env {
                context: &context,
                variables: &variables,
                retries: &[],
                entropy: &mut entropy,
            };
            match result {
                Ok(result) => (step::complete(state, &input, result, &mut env), None),
                Err(failure) => (step::failed(state, &input, failure.clone(), &mut env), Some(failure)),
            }
        }
        Step::Wait { then, .. } => (*then, None),
        Step::RunBranches { .. } | Step::RunItems(_) => {
            return Err(ApiError::new(
                ErrorCode::ValidationException,
                "TestState runs a single state: not a Parallel or Map state",
            ));
        }
        other => (other, None),
    };
    let response =
        |status, output: Option<String>, next: Option<String>, failure: Option<&Failure>| TestStateResponse {
            output,
            error: failure.map(|failure| failure.error.clone()),
            cause: failure.and_then(|failure| failure.cause.clone()),
            inspection_data: None,
            next_state: next,
            status,
        };
    Ok(match last {
        Step::Next {
            state: next, output, ..
        } => match &caught {
            Some(failure) => response(
                TestExecutionStatus::CaughtError,
                Some(output.to_string()),
                Some(next),
                Some(failure),
            ),
            None => response(
                TestExecutionStatus::Succeeded,
                Some(output.to_string()),
                Some(next),
                None,
            ),
        },
        Step::End { output, .. } => response(TestExecutionStatus::Succeeded, Some(output.to_string()), None, None),
        Step::Fail(failure) => response(TestExecutionStatus::Failed, None, None, Some(&failure)),
        Step::Retry { failure, .. } => response(TestExecutionStatus::Retriable, None, None, Some(&failure)),
        _ => response(
            TestExecutionStatus::Failed,
            None,
            None,
            Some(&Failure::runtime("the state did not finish in one step")),
        ),
    })
}

/// A lone state as a machine: the state, and a placeholder Succeed state for every state it names.
fn wrap(name: &str, state: Value) -> Value {
    let mut states = Map::new();
    let mut targets = Vec::new();
    collect_targets(&state, &mut targets);
    for target in targets {
        if target != name {
            states.insert(target, json!({ "Type": "Succeed" }));
        }
    }
    states.insert(name.to_owned(), state);
    json!({ "StartAt": name, "States": states })
}

fn collect_targets(state: &Value, targets: &mut Vec<String>) {
    for field in ["Next", "Default"] {
        if let Some(target) = state.get(field).and_then(Value::as_str) {
            targets.push(target.to_owned());
        }
    }
    for list in ["Choices", "Catch"] {
        for entry in state.get(list).and_then(Value::as_array).into_iter().flatten() {
            if let Some(target) = entry.get("Next").and_then(Value::as_str) {
                targets.push(target.to_owned());
            }
        }
    }
}
