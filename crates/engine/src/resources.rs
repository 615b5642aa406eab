//! What a Task's `Resource` runs. Definitions written for AWS run unchanged: the Lambda
//! integration `arn:aws:states:::lambda:invoke` (with `FunctionName` and `Payload`, its result
//! wrapped as AWS wraps it) and a bare Lambda function ARN both call the function of that name;
//! `arn:aws:states:::states:startExecution` (and `.sync`, `.sync:2`, `.waitForTaskToken`) starts a
//! child execution. Other `arn:aws:states:::SERVICE:ACTION` resources go to the integration
//! registered for the service (`integrations`).

use chrono::Utc;
use serde_json::{Value, json};
use sluice_asl::Failure;
use sluice_asl::failure::names;

use crate::snapshot::ParentTask;
use crate::{Engine, Error, ExecutionRecord, ExecutionStatus};

/// How an invocation went.
pub(crate) enum Invocation {
    /// The task has its result.
    Done(Result<Value, Failure>),
    /// The result comes later: a task token, or a child execution that tells its parent.
    Pending,
}

/// The task an invocation belongs to.
pub(crate) struct TaskRef<'a> {
    pub execution_arn: &'a str,
    pub frame: u64,
    pub task_id: &'a str,
}

impl Engine {
    /// Runs a task's resource once, outside any execution (for `TestState`): a function, or a
    /// child execution waited for. A resource that answers by task token cannot be run this way.
    pub async fn run_task(&self, resource: &str, parameters: Value) -> Result<Value, Failure> {
        let task = TaskRef {
            execution_arn: "",
            frame: 0,
            task_id: "",
        };
        match self.invoke_resource(task, resource, parameters).await {
            Invocation::Done(result) => result,
            Invocation::Pending => Err(Failure::new(
                names::RUNTIME,
                format!(
                    "The resource '{resource}' answers later (by task token or as a child execution); TestState cannot wait for it"
                ),
            )),
        }
    }

    pub(crate) async fn invoke_resource(&self, task: TaskRef<'_>, resource: &str, parameters: Value) -> Invocation {
        let wait_for_token = resource.ends_with(".waitForTaskToken");
        let base = resource.strip_suffix(".waitForTaskToken").unwrap_or(resource);
        if base == "arn:aws:states:::lambda:invoke" {
            let Some(function) = parameters
                .get("FunctionName")
                .and_then(Value::as_str)
                .map(function_name)
            else {
                return Invocation::Done(Err(Failure::new(
                    names::RUNTIME,
                    "The field 'FunctionName' is required by arn:aws:states:::lambda:invoke",
                )));
            };
            let payload = parameters.get("Payload").cloned().unwrap_or_else(|| json!({}));
            let result = self.call_function(&function, payload).await;
            if wait_for_token {
                return match result {
                    Ok(_) => Invocation::Pending,
                    Err(failure) => Invocation::Done(Err(failure)),
                };
            }
            return Invocation::Done(result.map(|payload| {
                json!({
                    "ExecutedVersion": "$LATEST",
                    "Payload": payload,
                    "SdkHttpMetadata": { "HttpStatusCode": 200 },
                    "SdkResponseMetadata": { "RequestId": uuid::Uuid::new_v4().to_string() },
                    "StatusCode": 200,
                })
            }));
        }
        if base.starts_with("arn:aws:lambda:") && base.contains(":function:") {
            let result = self.call_function(&function_name(base), parameters).await;
            return match (wait_for_token, result) {
                (true, Ok(_)) => Invocation::Pending,
                (_, result) => Invocation::Done(result),
            };
        }
        if let Some(pattern) = base.strip_prefix("arn:aws:states:::states:startExecution") {
            return self.start_child(task, pattern, wait_for_token, &parameters).await;
        }
        if let Some((service, action, pattern)) = crate::integrations::parse_resource(resource)
            && let Some(integration) = self.integration(&service)
        {
            let call = crate::integrations::Call {
                resource: resource.to_owned(),
                service,
                action,
                pattern,
                parameters,
                execution_arn: (!task.execution_arn.is_empty()).then(|| task.execution_arn.to_owned()),
            };
            // With `.waitForTaskToken` the call only hands the token on; `.sync` integrations
            // wait for their job themselves.
            return match (pattern, integration.call(call).await) {
                (crate::integrations::Pattern::WaitForTaskToken, Ok(_)) => Invocation::Pending,
                (_, result) => Invocation::Done(result),
            };
        }
        let services = self.integration_services();
        let others = if services.is_empty() {
            String::new()
        } else {
            format!(
                ", or arn:aws:states:::SERVICE:ACTION for a service of {}",
                services.join(", ")
            )
        };
        Invocation::Done(Err(Failure::new(
            names::RUNTIME,
            format!(
                "The resource '{resource}' is not one Sluice can run: use a function's Lambda ARN, arn:aws:states:::lambda:invoke, arn:aws:states:::states:startExecution{others}"
            ),
        )))
    }

    async fn call_function(&self, name: &str, event: Value) -> Result<Value, Failure> {
        let Some(function) = self.functions().get(name) else {
            return Err(Failure::new(
                "Lambda.ResourceNotFoundException",
                format!(
                    "Function not found: {name} (registered functions: {})",
                    self.functions().names().join(", ")
                ),
            ));
        };
        let began = std::time::Instant::now();
        let result = function.invoke(event).await;
        crate::metrics::task_finished(function.kind(), result.is_ok(), began.elapsed());
        result.map_err(|error| Failure::new(error.error_type.clone(), error.cause()))
    }

    async fn start_child(
        &self,
        task: TaskRef<'_>,
        pattern: &str,
        wait_for_token: bool,
        parameters: &Value,
    ) -> Invocation {
        let Some(machine_arn) = parameters.get("StateMachineArn").and_then(Value::as_str) else {
            return Invocation::Done(Err(Failure::new(
                names::RUNTIME,
                "The field 'StateMachineArn' is required by arn:aws:states:::states:startExecution",
            )));
        };
        let input = match parameters.get("Input") {
            None => "{}".to_owned(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
        };
        let name = parameters.get("Name").and_then(Value::as_str);
        let sync = matches!(pattern, ".sync" | ".sync:2");
        let notify = sync.then(|| ParentTask {
            execution_arn: task.execution_arn.to_owned(),
            frame: task.frame,
            task_id: task.task_id.to_owned(),
            output_as_json: pattern == ".sync:2",
        });
        let started = self
            .start_child_execution(machine_arn, name, Some(&input), Utc::now(), notify.clone())
            .await;
        match started {
            Ok(record) if sync && record.status != ExecutionStatus::Running => {
                Invocation::Done(child_result(&record, pattern == ".sync:2"))
            }
            Ok(_) if sync || wait_for_token => Invocation::Pending,
            Ok(record) => Invocation::Done(Ok(json!({
                "ExecutionArn": record.arn,
                "StartDate": record.start_millis,
            }))),
            Err(Error::ExecutionAlreadyExists { arn }) if sync => match self.describe_execution(&arn).await {
                // A restarted parent re-invokes: the child it started before is the answer.
                Ok(record) if record.status != ExecutionStatus::Running => {
                    Invocation::Done(child_result(&record, pattern == ".sync:2"))
                }
                Ok(_) => Invocation::Pending,
                Err(error) => Invocation::Done(Err(Failure::new("StepFunctions.SfnException", error.to_string()))),
            },
            Err(error) => Invocation::Done(Err(Failure::new(sfn_error_name(&error), error.to_string()))),
        }
    }

    /// A child execution that a `.sync` task waits for has ended: the task gets its result.
    pub(crate) async fn child_ended(&self, parent: ParentTask, record: ExecutionRecord) {
        let result = child_result(&record, parent.output_as_json);
        let outcome = self
            .update(&parent.execution_arn, Utc::now(), |txn| {
                txn.task_result(parent.frame, &parent.task_id, result.clone())
            })
            .await;
        if let Err(error) = outcome {
            tracing::warn!(parent = %parent.execution_arn, child = %record.arn, %error, "could not tell the parent that its child ended");
        }
    }
}

/// The result of a `.sync` task: DescribeExecution's shape; a child that did not succeed fails the
/// task with `States.TaskFailed` and that shape as the cause.
fn child_result(record: &ExecutionRecord, output_as_json: bool) -> Result<Value, Failure> {
    let output = record.output.as_deref().map(|text| {
        if output_as_json {
            serde_json::from_str(text).unwrap_or(Value::Null)
        } else {
            json!(text)
        }
    });
    let mut described = json!({
        "ExecutionArn": record.arn,
        "Input": if output_as_json { serde_json::from_str(&record.input).unwrap_or(Value::Null) } else { json!(record.input) },
        "InputDetails": { "Included": true },
        "Name": record.name,
        "StartDate": record.start_millis,
        "StateMachineArn": record.state_machine_arn,
        "Status": record.status.as_str(),
        "StopDate": record.stop_millis,
    });
    if let Some(output) = output {
        described["Output"] = output;
        described["OutputDetails"] = json!({ "Included": true });
    }
    if record.status == ExecutionStatus::Succeeded {
        return Ok(described);
    }
    if let Some(error) = &record.error {
        described["Error"] = json!(error);
    }
    if let Some(cause) = &record.cause {
        described["Cause"] = json!(cause);
    }
    Err(Failure::new(names::TASK_FAILED, described.to_string()))
}

/// The error name a failed `startExecution` task raises, as AWS's SDK integration names them.
fn sfn_error_name(error: &Error) -> String {
    let code = match error {
        Error::StateMachineDoesNotExist { .. } => "StateMachineDoesNotExist",
        Error::ExecutionAlreadyExists { .. } => "ExecutionAlreadyExists",
        Error::InvalidName { .. } => "InvalidName",
        Error::InvalidExecutionInput { .. } => "InvalidExecutionInput",
        Error::InvalidArn { .. } => "InvalidArn",
        _ => "SfnException",
    };
    format!("StepFunctions.{code}")
}

/// The function name in a `FunctionName` or a Lambda ARN: `arn:aws:lambda:…:function:NAME[:QUALIFIER]`
/// and `NAME[:QUALIFIER]` both name `NAME`.
fn function_name(text: &str) -> String {
    let name = match text.split_once(":function:") {
        Some((_, rest)) => rest,
        None => text,
    };
    name.split(':').next().unwrap_or(name).to_owned()
}
