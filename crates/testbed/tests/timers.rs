//! Timers are durable: a task's timeout and heartbeat timeout that fall due while the server is
//! down fire after it starts again, and a Wait does not start over.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sluice_testbed::Server;

const BINARY: &str = env!("CARGO_BIN_EXE_sluice-testbed");

fn app(folder: &Path) -> PathBuf {
    let app = folder.join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("sluice.toml"),
        "[app]\nname = \"timers\"\n\n[state_machines.heartbeat]\ndefinition = \"heartbeat.asl.json\"\n\n\
         [state_machines.timeout]\ndefinition = \"timeout.asl.json\"\n\n[state_machines.wait]\ndefinition = \"wait.asl.json\"\n",
    )
    .unwrap();
    let callback = |limits: Value| {
        let mut task = json!({
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "double", "Payload": {"n": 1, "token.$": "$$.Task.Token"}},
            "Catch": [{"ErrorEquals": ["States.Timeout", "States.HeartbeatTimeout"], "ResultPath": "$.caught", "Next": "Caught"}],
            "End": true
        });
        task.as_object_mut()
            .unwrap()
            .extend(limits.as_object().unwrap().clone());
        json!({"StartAt": "Ask", "States": {"Ask": task, "Caught": {"Type": "Pass", "OutputPath": "$.caught.Error", "End": true}}})
    };
    let heartbeat = callback(json!({"HeartbeatSeconds": 2, "TimeoutSeconds": 600}));
    std::fs::write(app.join("heartbeat.asl.json"), heartbeat.to_string()).unwrap();
    std::fs::write(
        app.join("timeout.asl.json"),
        callback(json!({"TimeoutSeconds": 2})).to_string(),
    )
    .unwrap();
    let wait = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3, "End": true}}});
    std::fs::write(app.join("wait.asl.json"), wait.to_string()).unwrap();
    app
}

#[test]
fn timeouts_and_waits_fire_after_a_restart() {
    let folder = tempfile::tempdir().unwrap();
    let mut server = Server::start(Path::new(BINARY), folder.path(), &[app(folder.path())]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = server.client();
    let mut arns = Vec::new();
    for machine in ["heartbeat", "timeout", "wait"] {
        let request = json!({"stateMachineArn": format!("arn:aws:states:us-east-1:123456789012:stateMachine:{machine}"), "name": machine});
        let started = runtime
            .block_on(client.step_functions("StartExecution", &request))
            .unwrap();
        arns.push(started["executionArn"].as_str().unwrap().to_owned());
    }
    // Down across every due time.
    server.kill();
    std::thread::sleep(Duration::from_secs(4));
    server.restart();
    let client = server.client();
    let mut outcomes = Vec::new();
    for arn in &arns {
        let deadline = Instant::now() + Duration::from_secs(30);
        let described = loop {
            let described = runtime
                .block_on(client.step_functions("DescribeExecution", &json!({"executionArn": arn})))
                .unwrap();
            if described["status"] != "RUNNING" {
                break described;
            }
            assert!(Instant::now() < deadline, "{arn} still running:\n{}", server.logs());
            std::thread::sleep(Duration::from_millis(50));
        };
        outcomes.push((described["status"].clone(), described["output"].clone()));
    }
    assert_eq!(
        outcomes,
        [
            (json!("SUCCEEDED"), json!("\"States.HeartbeatTimeout\"")),
            (json!("SUCCEEDED"), json!("\"States.Timeout\"")),
            (json!("SUCCEEDED"), json!("{}")),
        ]
    );
    // The Wait did not start over: due 3 s after it began (while the server was down), it ended
    // as soon as the server was back, about 4 s in, not 3 s after the restart (7 s in).
    let history = runtime
        .block_on(client.step_functions("GetExecutionHistory", &json!({"executionArn": arns[2]})))
        .unwrap();
    let times: Vec<f64> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["timestamp"].as_f64().unwrap())
        .collect();
    let waited = times.last().unwrap() - times.first().unwrap();
    assert!((3.0..6.5).contains(&waited), "waited {waited} s");
    let kinds: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "ExecutionStarted",
            "WaitStateEntered",
            "WaitStateExited",
            "ExecutionSucceeded"
        ]
    );
    let timed_out = runtime
        .block_on(client.step_functions("GetExecutionHistory", &json!({"executionArn": arns[1]})))
        .unwrap();
    assert!(
        timed_out["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|event| event["type"] == "TaskTimedOut"),
        "{timed_out:#}"
    );
}
