//! The crash test of issue 3: 500 executions of a workflow with Waits, in-process and command
//! Tasks, a Map and a Retry; the server is killed with SIGKILL at random moments several times and
//! started again on the same data. Every execution must end with the right output, and every
//! execution's history must hold each state transition once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sluice::client::Client;
use sluice_testbed::Server;

const EXECUTIONS: usize = 500;
const KILLS: usize = 4;

fn workflow() -> Value {
    json!({
        "Comment": "Waits, an in-process and a command Task, a Map of in-process Tasks, a retried Task.",
        "StartAt": "Pause",
        "States": {
            "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Double"},
            "Double": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "double", "Payload": {"n.$": "$.n"}},
                "ResultSelector": {"n.$": "$.Payload.n"},
                "ResultPath": "$.doubled",
                "Next": "Triple"
            },
            "Triple": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:triple",
                "Parameters": {"n.$": "$.doubled.n"},
                "ResultPath": "$.tripled",
                "Next": "Each"
            },
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 2,
                "ItemProcessor": {
                    "StartAt": "Add",
                    "States": {
                        "Add": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": {"FunctionName": "add", "Payload": {"v.$": "$"}},
                            "OutputPath": "$.Payload.v",
                            "End": true
                        }
                    }
                },
                "ResultPath": "$.added",
                "Next": "Flaky"
            },
            "Flaky": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "flaky", "Payload": {"key.$": "$$.Execution.Name"}},
                "ResultSelector": {"ok.$": "$.Payload.ok"},
                "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 20, "BackoffRate": 1.0}],
                "ResultPath": "$.flaky",
                "Next": "Rest"
            },
            "Rest": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
            "Done": {
                "Type": "Pass",
                "Parameters": {"n.$": "$.n", "tripled.$": "$.tripled.n", "added.$": "$.added", "ok.$": "$.flaky.ok"},
                "End": true
            }
        }
    })
}

fn input(index: usize) -> Value {
    let n = index as i64;
    json!({"n": n, "items": [n, n + 1, n + 2]})
}

fn expected_output(index: usize) -> Value {
    let n = index as i64;
    json!({"n": n, "tripled": 6 * n, "added": [n + 1, n + 2, n + 3], "ok": true})
}

/// The app: the workflow and the command function `triple`, served by the testbed binary itself.
fn write_app(folder: &Path, binary: &Path) -> PathBuf {
    let app = folder.join("app");
    std::fs::create_dir_all(&app).unwrap();
    let manifest = format!(
        "[app]\nname = \"crash\"\n\n[functions.triple]\ncommand = [{binary:?}, \"function\", \"triple\"]\n\n\
         [state_machines.crash]\ndefinition = \"crash.asl.json\"\n",
        binary = binary.display().to_string()
    );
    std::fs::write(app.join("sluice.toml"), manifest).unwrap();
    std::fs::write(app.join("crash.asl.json"), workflow().to_string()).unwrap();
    app
}

/// Starts execution `index`, retrying (with the same name, so idempotently) while the server is
/// down, at whatever address it listens on now; gives up after a minute.
async fn start(endpoint: &std::sync::RwLock<String>, machine: &str, index: usize) {
    let request =
        json!({"stateMachineArn": machine, "name": format!("run-{index:03}"), "input": input(index).to_string()});
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let client = sluice_testbed::client_at(&endpoint.read().unwrap());
        match client.step_functions("StartExecution", &request).await {
            Ok(_) => return,
            // Started before a kill took the answer away, and ended since: the name is taken by
            // this very execution (the input is the same), which the final checks verify.
            Err(error) if error.to_string().starts_with("ExecutionAlreadyExists") => return,
            Err(error) if Instant::now() < deadline => {
                let _ = error;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("execution {index} could not be started: {error:#}"),
        }
    }
}

#[test]
fn executions_survive_kill_9() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_sluice-testbed"));
    let folder = tempfile::tempdir().unwrap();
    let app = write_app(folder.path(), &binary);
    let mut server = Server::start(&binary, folder.path(), &[app]);
    let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:crash".to_owned();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut random = rand::rngs::StdRng::seed_from_u64(0x5eed);

    // The clients start executions, 16 at a time, while the server is killed under them; they
    // follow the server to its new port.
    let endpoint = std::sync::Arc::new(std::sync::RwLock::new(server.endpoint()));
    let starter = {
        let endpoint = endpoint.clone();
        let machine = machine.clone();
        runtime.spawn(async move {
            let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let mut workers = Vec::new();
            for _ in 0..16 {
                let (endpoint, machine, next) = (endpoint.clone(), machine.clone(), next.clone());
                workers.push(tokio::spawn(async move {
                    loop {
                        let index = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        if index >= EXECUTIONS {
                            return;
                        }
                        start(&endpoint, &machine, index).await;
                    }
                }));
            }
            for worker in workers {
                worker.await.unwrap();
            }
        })
    };

    let mut running_at_kills = Vec::new();
    for kill in 0..KILLS {
        std::thread::sleep(Duration::from_millis(random.random_range(300..2500)));
        let listed = runtime.block_on(list_executions(&server.client(), &machine));
        running_at_kills.push(listed.values().filter(|status| *status == "RUNNING").count());
        server.kill();
        // Down for a moment: clients see refused connections and retry.
        std::thread::sleep(Duration::from_millis(random.random_range(0..300)));
        server.restart();
        *endpoint.write().unwrap() = server.endpoint();
        eprintln!("kill {} of {KILLS} done", kill + 1);
    }
    runtime.block_on(starter).unwrap();
    // The kills must have hit executions mid-way, or the test proves nothing.
    eprintln!("executions running just before each kill: {running_at_kills:?}");
    assert!(
        running_at_kills.iter().filter(|running| **running > 0).count() >= KILLS - 1,
        "{running_at_kills:?}"
    );

    // Everything ends.
    let client = server.client();
    let deadline = Instant::now() + Duration::from_secs(300);
    let executions = loop {
        let executions = runtime.block_on(list_executions(&client, &machine));
        let running = executions.values().filter(|status| *status == "RUNNING").count();
        if executions.len() == EXECUTIONS && running == 0 {
            break executions;
        }
        assert!(
            Instant::now() < deadline,
            "after 300 s: {} executions, {running} running\n{}",
            executions.len(),
            server.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    };

    // Each ended right, with each transition once.
    for index in 0..EXECUTIONS {
        let name = format!("run-{index:03}");
        assert_eq!(executions.get(&name).map(String::as_str), Some("SUCCEEDED"), "{name}");
        let arn = format!("arn:aws:states:us-east-1:123456789012:execution:crash:{name}");
        let described = runtime
            .block_on(client.step_functions("DescribeExecution", &json!({"executionArn": arn})))
            .unwrap();
        let output: Value = serde_json::from_str(described["output"].as_str().unwrap()).unwrap();
        assert_eq!(output, expected_output(index), "{name}");
        check_history(&runtime.block_on(history(&client, &arn)), &name);
    }
}

/// Name → status of every execution of `machine`.
async fn list_executions(client: &Client, machine: &str) -> BTreeMap<String, String> {
    let request = json!({"stateMachineArn": machine});
    let executions = client
        .step_functions_all("ListExecutions", &request, "executions", usize::MAX)
        .await
        .unwrap();
    executions
        .iter()
        .map(|execution| {
            (
                execution["name"].as_str().unwrap().to_owned(),
                execution["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn history(client: &Client, arn: &str) -> Vec<Value> {
    let request = json!({"executionArn": arn});
    client
        .step_functions_all("GetExecutionHistory", &request, "events", usize::MAX)
        .await
        .unwrap()
}

/// Ids run 1, 2, 3…; each state is entered and exited once (the Map's `Add` once per item);
/// each Map iteration starts and succeeds once; the execution starts and succeeds once.
fn check_history(events: &[Value], name: &str) {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (position, event) in events.iter().enumerate() {
        assert_eq!(
            event["id"],
            json!(position + 1),
            "{name}: ids must follow each other: {events:#?}"
        );
        let kind = event["type"].as_str().unwrap();
        let key = if let Some(details) = event
            .get("stateEnteredEventDetails")
            .or_else(|| event.get("stateExitedEventDetails"))
        {
            format!("{kind} {}", details["name"].as_str().unwrap())
        } else if kind.starts_with("MapIteration") {
            let details = event
                .as_object()
                .unwrap()
                .iter()
                .find(|(key, _)| key.ends_with("EventDetails"))
                .unwrap()
                .1;
            format!("{kind} {}", details["index"])
        } else {
            kind.to_owned()
        };
        *counts.entry(key).or_default() += 1;
    }
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for state in [
        ("Wait", "Pause"),
        ("Task", "Double"),
        ("Task", "Triple"),
        ("Map", "Each"),
        ("Task", "Flaky"),
        ("Wait", "Rest"),
        ("Pass", "Done"),
    ] {
        expected.insert(format!("{}StateEntered {}", state.0, state.1), 1);
        expected.insert(format!("{}StateExited {}", state.0, state.1), 1);
    }
    expected.insert("TaskStateEntered Add".into(), 3);
    expected.insert("TaskStateExited Add".into(), 3);
    for index in 0..3 {
        expected.insert(format!("MapIterationStarted {index}"), 1);
        expected.insert(format!("MapIterationSucceeded {index}"), 1);
    }
    for kind in [
        "ExecutionStarted",
        "ExecutionSucceeded",
        "MapStateStarted",
        "MapStateSucceeded",
    ] {
        expected.insert(kind.into(), 1);
    }
    for (key, count) in &expected {
        assert_eq!(
            counts.get(key),
            Some(count),
            "{name}: {key} must happen {count} time(s): {events:#?}"
        );
    }
    // Nothing else happens more than it should: no failure, abort or second end.
    for kind in [
        "ExecutionFailed",
        "ExecutionAborted",
        "ExecutionTimedOut",
        "MapStateFailed",
        "MapIterationFailed",
    ] {
        assert!(!counts.contains_key(kind), "{name}: {kind} happened: {events:#?}");
    }
}
