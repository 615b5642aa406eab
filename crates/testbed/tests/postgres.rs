//! The server on PostgreSQL (`sluice serve --store postgres://…`): a state machine with a Task,
//! a Wait and a Map runs to the end, a FIFO queue keeps its order, and both survive a SIGKILL of
//! the server: an execution waiting when the server died finishes after the restart, and a
//! message sent before it is received after. Nothing of the state is in the data directory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sluice_testbed::Server;

const BINARY: &str = env!("CARGO_BIN_EXE_sluice-testbed");
const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:pipeline";
const QUEUE: &str = "http://sluice/123456789012/orders.fifo";

fn app(folder: &Path) -> PathBuf {
    let app = folder.join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("sluice.toml"),
        "[app]\nname = \"pg\"\n\n[state_machines.pipeline]\ndefinition = \"pipeline.asl.json\"\n",
    )
    .unwrap();
    let definition = json!({
        "StartAt": "Double",
        "States": {
            "Double": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "double", "Payload": {"n.$": "$.n"}},
                "ResultSelector": {"n.$": "$.Payload.n"},
                "ResultPath": "$.result",
                "Next": "Wait"
            },
            "Wait": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Each"},
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemSelector": {"n.$": "$$.Map.Item.Value"},
                "ItemProcessor": {
                    "StartAt": "Inner",
                    "States": {
                        "Inner": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": {"FunctionName": "double", "Payload": {"n.$": "$.n"}},
                            "OutputPath": "$.Payload.n",
                            "End": true
                        }
                    }
                },
                "ResultPath": "$.doubled",
                "End": true
            }
        }
    });
    std::fs::write(app.join("pipeline.asl.json"), definition.to_string()).unwrap();
    app
}

#[test]
fn the_server_runs_on_postgresql_and_survives_a_kill() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let url = runtime.block_on(sluice_testkit::postgres::database());
    let folder = tempfile::tempdir().unwrap();
    let mut server = Server::start_with(
        Path::new(BINARY),
        folder.path(),
        &[app(folder.path())],
        &["--store", &url],
    );
    assert!(
        server.logs().contains("store=\"postgres\"") || server.logs().contains("store=postgres"),
        "{}",
        server.logs()
    );

    // A state machine with a Task, a Wait and a Map runs to the end.
    let client = server.client();
    let start = |name: &str, wait: u64| {
        let input = json!({"n": 3, "wait": wait, "items": [1, 2, 3]}).to_string();
        let request = json!({"stateMachineArn": MACHINE, "name": name, "input": input});
        runtime
            .block_on(client.step_functions("StartExecution", &request))
            .unwrap()["executionArn"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let quick = start("quick", 0);
    let described = finished(&runtime, &server, &quick);
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    let output: Value = serde_json::from_str(described["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["result"]["n"], 6);
    assert_eq!(output["doubled"], json!([2, 4, 6]));

    // A FIFO queue answers its messages in order.
    let sqs = |server: &Server, operation: &str, request: Value| {
        runtime.block_on(server.client().sqs(operation, &request)).unwrap()
    };
    sqs(
        &server,
        "CreateQueue",
        json!({"QueueName": "orders.fifo", "Attributes": {"FifoQueue": "true", "ContentBasedDeduplication": "true"}}),
    );
    for index in 0..3 {
        sqs(
            &server,
            "SendMessage",
            json!({"QueueUrl": QUEUE, "MessageBody": format!("m{index}"), "MessageGroupId": "g"}),
        );
    }
    let received = sqs(
        &server,
        "ReceiveMessage",
        json!({"QueueUrl": QUEUE, "MaxNumberOfMessages": 2, "VisibilityTimeout": 30}),
    );
    let bodies: Vec<&str> = received["Messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["Body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["m0", "m1"]);
    for message in received["Messages"].as_array().unwrap() {
        sqs(
            &server,
            "DeleteMessage",
            json!({"QueueUrl": QUEUE, "ReceiptHandle": message["ReceiptHandle"]}),
        );
    }

    // Killed while an execution waits and a message is queued; both are there after a restart.
    let waiting = start("waiting", 2);
    server.kill();
    server.restart();
    let described = finished(&runtime, &server, &waiting);
    assert_eq!(described["status"], "SUCCEEDED", "{described}\n{}", server.logs());
    let history = runtime
        .block_on(server.client().step_functions(
            "GetExecutionHistory",
            &json!({"executionArn": waiting, "maxResults": 1000}),
        ))
        .unwrap();
    let events = history["events"].as_array().unwrap();
    let ids: Vec<u64> = events.iter().map(|event| event["id"].as_u64().unwrap()).collect();
    assert_eq!(
        ids,
        (1..=ids.len() as u64).collect::<Vec<_>>(),
        "each event once, in order"
    );
    let waits = events
        .iter()
        .filter(|event| event["type"] == "WaitStateEntered")
        .count();
    assert_eq!(waits, 1, "the Wait was entered once");
    let received = sqs(
        &server,
        "ReceiveMessage",
        json!({"QueueUrl": QUEUE, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1}),
    );
    let bodies: Vec<&str> = received["Messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["Body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["m2"]);

    // The state lives in PostgreSQL, not in the data directory.
    assert!(!server.data().join("sluice.db").exists());
}

/// Polls DescribeExecution until the execution is no longer running.
fn finished(runtime: &tokio::runtime::Runtime, server: &Server, arn: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let described = runtime
            .block_on(
                server
                    .client()
                    .step_functions("DescribeExecution", &json!({"executionArn": arn})),
            )
            .unwrap();
        if described["status"] != "RUNNING" {
            return described;
        }
        assert!(Instant::now() < deadline, "{arn} still running:\n{}", server.logs());
        std::thread::sleep(Duration::from_millis(50));
    }
}
