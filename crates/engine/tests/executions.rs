//! The engine end to end on a real SQLite store: definitions in, executions out, with in-process
//! and command functions.

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};
use sluice_engine::{Engine, ExecutionStatus, Function, FunctionError, Functions, MachineType, Options};
use sluice_store_sqlite::SqliteStore;

struct Fixture {
    engine: Engine,
    _directory: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open(&directory.path().join("sluice.db")).expect("the store opens");
    let functions = Functions::default();
    functions.register(
        "add",
        Function::in_process(|event: Value| async move {
            let value = event["value"].as_i64().unwrap_or(0);
            Ok(json!({ "value": value + 1 }))
        }),
    );
    functions.register(
        "fail",
        Function::in_process(|_| async move { Err(FunctionError::new("Boom", "it broke")) }),
    );
    let engine = Engine::new(Arc::new(store), functions, Options::default());
    engine.start().await.expect("the engine starts");
    Fixture {
        engine,
        _directory: directory,
    }
}

impl Fixture {
    /// Creates the machine, runs one execution to its end, and answers (status, output or error).
    async fn run(&self, name: &str, definition: Value, input: Value) -> (ExecutionStatus, Value) {
        let machine = self.deploy(name, definition).await;
        let started = self
            .engine
            .start_execution(&machine, Some("run"), Some(&input.to_string()), Utc::now())
            .await
            .expect("the execution starts");
        let ended = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            self.engine.await_execution(&started.arn),
        )
        .await
        .expect("the execution ends in time")
        .expect("the execution exists");
        let result = match ended.status {
            ExecutionStatus::Succeeded => {
                serde_json::from_str(ended.output.as_deref().unwrap_or("null")).expect("JSON output")
            }
            _ => json!({ "error": ended.error, "cause": ended.cause }),
        };
        (ended.status, result)
    }

    async fn deploy(&self, name: &str, definition: Value) -> String {
        self.engine
            .create_state_machine(
                name,
                &definition.to_string(),
                "arn:aws:iam::123456789012:role/r",
                MachineType::Standard,
                0,
            )
            .await
            .expect("the machine is created")
            .arn
    }

    async fn event_types(&self, arn: &str) -> Vec<String> {
        let (events, _) = self.engine.history(arn, false, None, 1000).await.expect("a history");
        events.into_iter().map(|event| event.event_type).collect()
    }
}

fn three_tasks() -> Value {
    json!({"StartAt": "One", "States": {
        "One": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "add", "Payload.$": "$"}, "OutputPath": "$.Payload", "Next": "Two"},
        "Two": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:add", "Next": "Three"},
        "Three": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:add:$LATEST", "End": true}
    }})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_tasks_run_in_order_and_record_aws_history() {
    let fixture = fixture().await;
    let (status, output) = fixture.run("three", three_tasks(), json!({"value": 1})).await;
    assert_eq!((status, output), (ExecutionStatus::Succeeded, json!({"value": 4})));
    let arn = fixture.engine.execution_arn("three", "run");
    let types = fixture.event_types(&arn).await;
    let expected = [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ];
    assert_eq!(types, expected);
    let (events, _) = fixture
        .engine
        .history(&arn, false, None, 1000)
        .await
        .expect("a history");
    for (position, event) in events.iter().enumerate() {
        assert_eq!(event.id, position as u64 + 1, "ids count from 1 without gaps");
        assert!(event.previous_event_id < event.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_then_catches_a_failing_function() {
    let fixture = fixture().await;
    let definition = json!({"StartAt": "Try", "States": {
        "Try": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:fail",
                "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1.0}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}], "End": true},
        "Caught": {"Type": "Pass", "End": true}
    }});
    let started = std::time::Instant::now();
    let (status, output) = fixture.run("retry", definition, json!({"x": 1})).await;
    assert_eq!(status, ExecutionStatus::Succeeded);
    assert_eq!(output["error"]["Error"], "Boom");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "two one-second retry delays were waited"
    );
    let types = fixture.event_types(&fixture.engine.execution_arn("retry", "run")).await;
    assert_eq!(
        types.iter().filter(|kind| *kind == "TaskFailed").count(),
        3,
        "{types:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_parallel_and_wait_run_durably() {
    let fixture = fixture().await;
    let definition = json!({"StartAt": "Wait", "States": {
        "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Both"},
        "Both": {"Type": "Parallel", "Next": "Each", "ResultPath": "$.both", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:add",
                                            "Parameters": {"value": 10}, "End": true}}}
        ]},
        "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 3, "ResultPath": "$.each",
                 "ItemSelector": {"value.$": "$$.Map.Item.Value"},
                 "ItemProcessor": {"StartAt": "Add", "States": {
                     "Add": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:add", "End": true}}},
                 "End": true}
    }});
    let items: Vec<i64> = (0..25).collect();
    let (status, output) = fixture.run("map", definition, json!({"items": items})).await;
    assert_eq!(status, ExecutionStatus::Succeeded, "{output}");
    assert_eq!(output["both"], json!(["a", {"value": 11}]));
    let expected: Vec<Value> = (1..26).map(|value| json!({"value": value})).collect();
    assert_eq!(output["each"], json!(expected));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_tokens_resume_a_waiting_task() {
    let fixture = fixture().await;
    let tokens = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = tokens.clone();
    fixture.engine.functions().register(
        "remember",
        Function::in_process(move |event: Value| {
            let seen = seen.clone();
            async move {
                seen.lock()
                    .expect("a lock")
                    .push(event["token"].as_str().unwrap_or_default().to_owned());
                Ok(json!({}))
            }
        }),
    );
    let definition = json!({"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "remember", "Payload": {"token.$": "$$.Task.Token"}}, "End": true}
    }});
    let machine = fixture.deploy("token", definition).await;
    let started = fixture
        .engine
        .start_execution(&machine, Some("run"), None, Utc::now())
        .await
        .expect("started");
    let token = loop {
        if let Some(token) = tokens.lock().expect("a lock").first().cloned() {
            break token;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    let running = fixture
        .engine
        .describe_execution(&started.arn)
        .await
        .expect("described");
    assert_eq!(running.status, ExecutionStatus::Running);
    let bad = fixture.engine.send_task_success("not-a-token", "{}", Utc::now()).await;
    assert!(matches!(bad, Err(sluice_engine::Error::InvalidToken { .. })), "{bad:?}");
    fixture
        .engine
        .send_task_success(&token, "{\"answer\":42}", Utc::now())
        .await
        .expect("accepted");
    let ended = fixture.engine.await_execution(&started.arn).await.expect("ended");
    assert_eq!(ended.output.as_deref(), Some("{\"answer\":42}"));
    let again = fixture.engine.send_task_success(&token, "{}", Utc::now()).await;
    assert!(again.is_err(), "a token answers once: {again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_child_execution_returns_its_output() {
    let fixture = fixture().await;
    let child = fixture.deploy("child", three_tasks()).await;
    let definition = json!({"StartAt": "Child", "States": {
        "Child": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                  "Parameters": {"StateMachineArn": child, "Input": {"value": 0}}, "OutputPath": "$.Output", "End": true}
    }});
    let (status, output) = fixture.run("parent", definition, json!({})).await;
    assert_eq!((status, output), (ExecutionStatus::Succeeded, json!({"value": 3})));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_is_idempotent_by_name_and_stop_aborts() {
    let fixture = fixture().await;
    let definition = json!({"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 3600, "End": true}}});
    let machine = fixture.deploy("long", definition).await;
    let first = fixture
        .engine
        .start_execution(&machine, Some("same"), Some("{\"a\":1}"), Utc::now())
        .await
        .expect("started");
    let second = fixture
        .engine
        .start_execution(&machine, Some("same"), Some("{\"a\": 1}"), Utc::now())
        .await
        .expect("same");
    assert_eq!(first.arn, second.arn);
    let other = fixture
        .engine
        .start_execution(&machine, Some("same"), Some("{\"a\":2}"), Utc::now())
        .await;
    assert!(
        matches!(other, Err(sluice_engine::Error::ExecutionAlreadyExists { .. })),
        "{other:?}"
    );
    let stopped = fixture
        .engine
        .stop_execution(&first.arn, Some("Halt".into()), Some("a test".into()), Utc::now())
        .await
        .expect("stopped");
    assert_eq!(
        (stopped.status, stopped.error.as_deref()),
        (ExecutionStatus::Aborted, Some("Halt"))
    );
    let types = fixture.event_types(&first.arn).await;
    assert_eq!(types.last().map(String::as_str), Some("ExecutionAborted"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_function_runs_with_stdin_and_fails_lambda_style() {
    let fixture = fixture().await;
    let command = |script: &str| {
        Function::Command(sluice_engine::functions::CommandFunction {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            env: Default::default(),
            working_directory: None,
            timeout: std::time::Duration::from_secs(5),
        })
    };
    fixture.engine.functions().register("echo", command("cat"));
    fixture.engine.functions().register(
        "refuse",
        command("echo '{\"errorType\":\"Refused\",\"errorMessage\":\"no\"}'; exit 3"),
    );
    let definition = json!({"StartAt": "Echo", "States": {
        "Echo": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo", "Next": "Refuse"},
        "Refuse": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:refuse",
                   "Catch": [{"ErrorEquals": ["Refused"], "ResultPath": "$.refusal", "Next": "Done"}], "End": true},
        "Done": {"Type": "Succeed"}
    }});
    let (status, output) = fixture.run("command", definition, json!({"hello": "world"})).await;
    assert_eq!(status, ExecutionStatus::Succeeded, "{output}");
    assert_eq!(output["hello"], "world");
    assert_eq!(output["refusal"]["Error"], "Refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn express_executions_record_only_their_start_and_end() {
    let fixture = fixture().await;
    let machine = fixture
        .engine
        .create_state_machine(
            "quick",
            &three_tasks().to_string(),
            "arn:aws:iam::123456789012:role/r",
            MachineType::Express,
            0,
        )
        .await
        .expect("created")
        .arn;
    let started = fixture
        .engine
        .start_execution(&machine, Some("run"), Some("{\"value\":0}"), Utc::now())
        .await
        .expect("started");
    let ended = fixture.engine.await_execution(&started.arn).await.expect("ended");
    assert_eq!(
        (ended.status, ended.output.as_deref()),
        (ExecutionStatus::Succeeded, Some("{\"value\":3}"))
    );
    assert_eq!(
        fixture.event_types(&started.arn).await,
        ["ExecutionStarted", "ExecutionSucceeded"]
    );
}
