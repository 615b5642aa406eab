//! History events in AWS's shapes: each event's details sit under the key AWS gives its type
//! (`stateEnteredEventDetails`, `taskScheduledEventDetails`, …), as `GetExecutionHistory` returns them,
//! <https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html>.

use serde_json::{Value, json};

/// An event before it is numbered: its type and its details object.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// AWS's event type, e.g. `TaskStateEntered`.
    pub event_type: String,
    /// The details, keyed by AWS's details field name.
    pub details: Value,
}

fn event(event_type: impl Into<String>, key: &str, details: Value) -> Event {
    Event {
        event_type: event_type.into(),
        details: json!({ key: details }),
    }
}

/// A payload as history shows it: JSON text, with AWS's truncation flag.
fn payload(field: &str, value: &Value) -> Value {
    json!({ field: value.to_string(), format!("{field}Details"): { "truncated": false } })
}

/// `ExecutionStarted`.
pub fn execution_started(input: &Value, role_arn: &str) -> Event {
    let mut details = payload("input", input);
    details["roleArn"] = json!(role_arn);
    event("ExecutionStarted", "executionStartedEventDetails", details)
}

/// `ExecutionSucceeded`.
pub fn execution_succeeded(output: &Value) -> Event {
    event(
        "ExecutionSucceeded",
        "executionSucceededEventDetails",
        payload("output", output),
    )
}

/// `ExecutionFailed`.
pub fn execution_failed(error: &str, cause: Option<&str>) -> Event {
    event(
        "ExecutionFailed",
        "executionFailedEventDetails",
        error_details(error, cause),
    )
}

/// `ExecutionAborted`.
pub fn execution_aborted(error: Option<&str>, cause: Option<&str>) -> Event {
    let mut details = json!({});
    if let Some(error) = error {
        details["error"] = json!(error);
    }
    if let Some(cause) = cause {
        details["cause"] = json!(cause);
    }
    event("ExecutionAborted", "executionAbortedEventDetails", details)
}

/// `ExecutionTimedOut`.
pub fn execution_timed_out(error: &str, cause: Option<&str>) -> Event {
    event(
        "ExecutionTimedOut",
        "executionTimedOutEventDetails",
        error_details(error, cause),
    )
}

/// `{Type}StateEntered`.
pub fn state_entered(state_type: &str, name: &str, input: &Value) -> Event {
    let mut details = payload("input", input);
    details["name"] = json!(name);
    event(format!("{state_type}StateEntered"), "stateEnteredEventDetails", details)
}

/// `{Type}StateExited`, with the variables the state assigned.
pub fn state_exited(
    state_type: &str,
    name: &str,
    output: &Value,
    assigned: Option<&serde_json::Map<String, Value>>,
) -> Event {
    let mut details = payload("output", output);
    details["name"] = json!(name);
    if let Some(assigned) = assigned.filter(|assigned| !assigned.is_empty()) {
        let encoded: serde_json::Map<String, Value> = assigned
            .iter()
            .map(|(name, value)| (name.clone(), json!(value.to_string())))
            .collect();
        details["assignedVariables"] = Value::Object(encoded);
        details["assignedVariablesDetails"] = json!({ "truncated": false });
    }
    event(format!("{state_type}StateExited"), "stateExitedEventDetails", details)
}

/// `TaskScheduled`.
pub fn task_scheduled(resource: &str, parameters: &Value, timeout: Option<u64>, heartbeat: Option<u64>) -> Event {
    let (resource_type, resource) = resource_parts(resource);
    let mut details = json!({
        "resourceType": resource_type,
        "resource": resource,
        "region": "us-east-1",
        "parameters": parameters.to_string(),
    });
    if let Some(timeout) = timeout {
        details["timeoutInSeconds"] = json!(timeout);
    }
    if let Some(heartbeat) = heartbeat {
        details["heartbeatInSeconds"] = json!(heartbeat);
    }
    event("TaskScheduled", "taskScheduledEventDetails", details)
}

/// `TaskStarted`.
pub fn task_started(resource: &str) -> Event {
    let (resource_type, resource) = resource_parts(resource);
    event(
        "TaskStarted",
        "taskStartedEventDetails",
        json!({ "resourceType": resource_type, "resource": resource }),
    )
}

/// `TaskSucceeded`.
pub fn task_succeeded(resource: &str, output: &Value) -> Event {
    let (resource_type, resource) = resource_parts(resource);
    let mut details = payload("output", output);
    details["resourceType"] = json!(resource_type);
    details["resource"] = json!(resource);
    event("TaskSucceeded", "taskSucceededEventDetails", details)
}

/// `TaskFailed`.
pub fn task_failed(resource: &str, error: &str, cause: Option<&str>) -> Event {
    task_error("TaskFailed", "taskFailedEventDetails", resource, error, cause)
}

/// `TaskTimedOut`.
pub fn task_timed_out(resource: &str, error: &str, cause: Option<&str>) -> Event {
    task_error("TaskTimedOut", "taskTimedOutEventDetails", resource, error, cause)
}

fn task_error(event_type: &str, key: &str, resource: &str, error: &str, cause: Option<&str>) -> Event {
    let (resource_type, resource) = resource_parts(resource);
    let mut details = error_details(error, cause);
    details["resourceType"] = json!(resource_type);
    details["resource"] = json!(resource);
    event(event_type, key, details)
}

/// `MapStateStarted`.
pub fn map_state_started(length: usize) -> Event {
    event(
        "MapStateStarted",
        "mapStateStartedEventDetails",
        json!({ "length": length }),
    )
}

/// `MapIterationStarted`, `MapIterationSucceeded`, `MapIterationFailed` or `MapIterationAborted`.
pub fn map_iteration(outcome: &str, name: &str, index: usize) -> Event {
    let key = format!("mapIteration{outcome}EventDetails");
    event(
        format!("MapIteration{outcome}"),
        &key,
        json!({ "name": name, "index": index }),
    )
}

/// An event with no details: `MapStateSucceeded`, `MapStateFailed`, `ParallelStateStarted`, ….
pub fn bare(event_type: &str) -> Event {
    Event {
        event_type: event_type.to_owned(),
        details: json!({}),
    }
}

fn error_details(error: &str, cause: Option<&str>) -> Value {
    let mut details = json!({ "error": error });
    if let Some(cause) = cause {
        details["cause"] = json!(cause);
    }
    details
}

/// AWS's `resourceType` and `resource` of a task ARN: `arn:aws:states:::lambda:invoke` is type
/// `lambda`, resource `invoke`; a Lambda function ARN is type `lambda`, resource the ARN.
fn resource_parts(arn: &str) -> (String, String) {
    if let Some(rest) = arn.strip_prefix("arn:aws:states:::")
        && let Some((service, action)) = rest.split_once(':')
    {
        return (service.to_owned(), action.to_owned());
    }
    if arn.starts_with("arn:aws:lambda:") {
        return ("lambda".to_owned(), arn.to_owned());
    }
    ("sluice".to_owned(), arn.to_owned())
}
