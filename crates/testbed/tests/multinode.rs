//! Several nodes on one PostgreSQL database (issue 6): three `sluice serve --store postgres://…`
//! nodes share executions with a Task, a Wait and a Map, FIFO messages in groups and one-time
//! schedules, while one node and then another is killed with SIGKILL and both are restarted.
//! Afterwards: every execution succeeded with the same history as one run before the kills (each
//! transition once), every acknowledged message was received, each group first in the order it
//! was sent, nothing was received after its delete was acknowledged, and each schedule fired once.
//!
//! The counts scale with `SLUICE_MULTINODE_EXECUTIONS` (60 by default) and
//! `SLUICE_MULTINODE_MESSAGES` (640 by default); the full run is 2,000 and 50,000.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sluice_testbed::Server;

const BINARY: &str = env!("CARGO_BIN_EXE_sluice-testbed");
const PIPELINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:pipeline";
const TICK: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:tick";
const FIFO_URL: &str = "http://sluice/123456789012/orders.fifo";
const NODES: usize = 3;
const GROUPS: usize = 32;
const SCHEDULES: usize = 8;
const CONSUMERS: usize = 3;
/// How long anything may take to settle: a dead node's leases lapse within a minute.
const SETTLE: Duration = Duration::from_secs(300);

fn count(variable: &str, default: usize) -> usize {
    std::env::var(variable)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

/// The app every node deploys: the pipeline, a one-state machine the schedules start, and
/// one-time schedules a few seconds apart, from `first` on.
fn app(folder: &Path, first: chrono::DateTime<chrono::Utc>) -> PathBuf {
    let app = folder.join("app");
    std::fs::create_dir_all(&app).unwrap();
    let mut manifest = String::from(
        "[app]\nname = \"multinode\"\n\n\
         [state_machines.pipeline]\ndefinition = \"pipeline.asl.json\"\n\n\
         [state_machines.tick]\ndefinition = \"tick.asl.json\"\n",
    );
    for index in 0..SCHEDULES {
        let at = first + chrono::Duration::seconds(3 * index as i64);
        manifest.push_str(&format!(
            "\n[schedules.s{index}]\nexpression = \"at({})\"\ntarget = {{ state_machine = \"tick\" }}\ninput = '{{\"schedule\": \"s{index}\"}}'\n",
            at.format("%Y-%m-%dT%H:%M:%S")
        ));
    }
    std::fs::write(app.join("sluice.toml"), manifest).unwrap();
    let pipeline = json!({
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
    std::fs::write(app.join("pipeline.asl.json"), pipeline.to_string()).unwrap();
    let tick = json!({"StartAt": "Tick", "States": {"Tick": {"Type": "Pass", "End": true}}});
    std::fs::write(app.join("tick.asl.json"), tick.to_string()).unwrap();
    app
}

/// The nodes' endpoints; `None` while a node is down.
type Endpoints = Arc<RwLock<Vec<Option<String>>>>;

/// Calls until some node answers, starting with node `prefer` and moving on when it is down or
/// the call fails in transit; a refusal with an AWS error is a bug and fails the test.
async fn call(endpoints: &Endpoints, prefer: usize, service: &str, operation: &str, request: &Value) -> Value {
    call_allowing(endpoints, prefer, service, operation, request, &[])
        .await
        .unwrap_or(Value::Null)
}

/// [`call`], answering `None` for a refusal with one of the `allowed` AWS error codes (a retry
/// of a call whose first answer a kill took may find its own effect).
async fn call_allowing(
    endpoints: &Endpoints,
    prefer: usize,
    service: &str,
    operation: &str,
    request: &Value,
    allowed: &[&str],
) -> Option<Value> {
    let deadline = Instant::now() + SETTLE;
    let mut attempt = 0;
    loop {
        let endpoint = {
            let endpoints = endpoints.read().unwrap();
            endpoints[(prefer + attempt) % NODES].clone()
        };
        attempt += 1;
        if let Some(endpoint) = endpoint {
            let client = sluice_testbed::client_at(&endpoint);
            let answer = match service {
                "sqs" => client.sqs(operation, request).await,
                _ => client.step_functions(operation, request).await,
            };
            match answer {
                Ok(answer) => return Some(answer),
                Err(error) => match error.downcast_ref::<sluice::client::ServerError>() {
                    Some(refusal) if allowed.contains(&refusal.code.as_str()) => return None,
                    Some(_) => panic!("{operation} was refused: {error:#}"),
                    None => assert!(Instant::now() < deadline, "{operation} failed for minutes: {error:#}"),
                },
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What the queue's clients saw.
#[derive(Default)]
struct Record {
    /// Bodies whose send was acknowledged.
    acknowledged: HashSet<String>,
    /// Bodies received, each time, in the order receives answered.
    received: Vec<String>,
    /// Message ids whose delete was acknowledged.
    deleted: HashSet<String>,
    /// Message ids received after their delete was acknowledged.
    after_delete: Vec<String>,
}

/// Sends one group's messages in order, ten to a batch, each batch once the last was
/// acknowledged (with the same deduplication ids on every retry).
async fn send_group(endpoints: Endpoints, record: Arc<Mutex<Record>>, group: usize, per_group: usize) {
    let mut index = 0;
    while index < per_group {
        let bodies: Vec<String> = (index..(index + 10).min(per_group))
            .map(|index| format!("{group}:{index}"))
            .collect();
        let entries: Vec<Value> = bodies
            .iter()
            .enumerate()
            .map(|(entry, body)| {
                json!({"Id": format!("e{entry}"), "MessageBody": body, "MessageGroupId": format!("g{group}"),
                       "MessageDeduplicationId": body.replace(':', "-")})
            })
            .collect();
        let answer = call(
            &endpoints,
            group,
            "sqs",
            "SendMessageBatch",
            &json!({"QueueUrl": FIFO_URL, "Entries": entries}),
        )
        .await;
        assert_eq!(answer["Failed"], json!([]), "{answer}");
        index += bodies.len();
        record.lock().unwrap().acknowledged.extend(bodies);
    }
}

async fn consume(endpoints: Endpoints, record: Arc<Mutex<Record>>, prefer: usize, done: Arc<AtomicBool>) {
    while !done.load(Ordering::SeqCst) {
        let request =
            json!({"QueueUrl": FIFO_URL, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1, "VisibilityTimeout": 15});
        let answer = call(&endpoints, prefer, "sqs", "ReceiveMessage", &request).await;
        let messages = answer["Messages"].as_array().cloned().unwrap_or_default();
        if messages.is_empty() {
            continue;
        }
        {
            let mut record = record.lock().unwrap();
            for message in &messages {
                let id = message["MessageId"].as_str().unwrap().to_owned();
                if record.deleted.contains(&id) {
                    record.after_delete.push(id);
                }
                record.received.push(message["Body"].as_str().unwrap().to_owned());
            }
        }
        let entries: Vec<Value> = messages
            .iter()
            .enumerate()
            .map(|(index, message)| json!({"Id": format!("d{index}"), "ReceiptHandle": message["ReceiptHandle"]}))
            .collect();
        let answer = call(
            &endpoints,
            prefer + 1,
            "sqs",
            "DeleteMessageBatch",
            &json!({"QueueUrl": FIFO_URL, "Entries": entries}),
        )
        .await;
        let mut record = record.lock().unwrap();
        for entry in answer["Successful"].as_array().cloned().unwrap_or_default() {
            let index: usize = entry["Id"].as_str().unwrap()[1..].parse().unwrap();
            record
                .deleted
                .insert(messages[index]["MessageId"].as_str().unwrap().to_owned());
        }
    }
}

/// Starts executions `e-{index}` for the indexes this starter takes, on node `prefer` first.
async fn start_executions(endpoints: Endpoints, next: Arc<AtomicUsize>, total: usize, prefer: usize) {
    loop {
        let index = next.fetch_add(1, Ordering::SeqCst);
        if index >= total {
            return;
        }
        let input = json!({"n": index, "wait": index % 3, "items": [1, 2, 3]}).to_string();
        let request = json!({"stateMachineArn": PIPELINE, "name": format!("e-{index}"), "input": input});
        // A retry after a kill took the first answer may find the execution ended already.
        call_allowing(
            &endpoints,
            prefer + index,
            "states",
            "StartExecution",
            &request,
            &["ExecutionAlreadyExists"],
        )
        .await;
    }
}

/// The event types of an execution's history, in order, after checking that its ids are
/// 1, 2, 3, … with no gap or repeat.
async fn history_types(endpoints: &Endpoints, arn: &str) -> Vec<String> {
    let request = json!({"executionArn": arn, "maxResults": 1000});
    let history = call(endpoints, 0, "states", "GetExecutionHistory", &request).await;
    let events = history["events"].as_array().unwrap();
    let ids: Vec<u64> = events.iter().map(|event| event["id"].as_u64().unwrap()).collect();
    assert_eq!(
        ids,
        (1..=ids.len() as u64).collect::<Vec<_>>(),
        "{arn}: each event once, in order"
    );
    events
        .iter()
        .map(|event| event["type"].as_str().unwrap().to_owned())
        .collect()
}

/// Every execution of `machine`, answered by some node.
async fn executions(endpoints: &Endpoints, machine: &str) -> Vec<Value> {
    let deadline = Instant::now() + SETTLE;
    loop {
        let endpoint = endpoints.read().unwrap().iter().flatten().next().cloned();
        if let Some(endpoint) = endpoint {
            let client = sluice_testbed::client_at(&endpoint);
            let request = json!({"stateMachineArn": machine});
            if let Ok(items) = client
                .step_functions_all("ListExecutions", &request, "executions", 1_000_000)
                .await
            {
                return items;
            }
        }
        assert!(Instant::now() < deadline, "no node lists executions");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn three_nodes_share_the_work_and_survive_kills() {
    let total_executions = count("SLUICE_MULTINODE_EXECUTIONS", 60);
    let total_messages = count("SLUICE_MULTINODE_MESSAGES", 640);
    let per_group = total_messages.div_ceil(GROUPS);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = runtime.block_on(sluice_testkit::postgres::database());
    let folder = tempfile::tempdir().unwrap();
    let app = app(folder.path(), chrono::Utc::now() + chrono::Duration::seconds(15));
    let began = Instant::now();
    // One node first, so that it deploys the app alone; the others find it deployed.
    let mut nodes: Vec<Server> = (0..NODES)
        .map(|index| {
            let node_folder = folder.path().join(format!("node-{index}"));
            std::fs::create_dir_all(&node_folder).unwrap();
            Server::start_with(
                Path::new(BINARY),
                &node_folder,
                std::slice::from_ref(&app),
                &["--store", &url],
            )
        })
        .collect();
    let endpoints: Endpoints = Arc::new(RwLock::new(nodes.iter().map(|node| Some(node.endpoint())).collect()));
    let logs = |nodes: &[Server]| {
        nodes
            .iter()
            .enumerate()
            .map(|(index, node)| format!("=== node {index} ===\n{}", node.logs()))
            .collect::<Vec<_>>()
            .join("\n")
    };

    // A reference run before anything is killed: the history every execution must have.
    let reference = runtime.block_on(async {
        let input = json!({"n": 1, "wait": 0, "items": [1, 2, 3]}).to_string();
        let request = json!({"stateMachineArn": PIPELINE, "name": "reference", "input": input});
        let arn = call(&endpoints, 1, "states", "StartExecution", &request).await["executionArn"]
            .as_str()
            .unwrap()
            .to_owned();
        let deadline = Instant::now() + SETTLE;
        loop {
            let described = call(
                &endpoints,
                2,
                "states",
                "DescribeExecution",
                &json!({"executionArn": arn}),
            )
            .await;
            if described["status"] != "RUNNING" {
                assert_eq!(described["status"], "SUCCEEDED", "{described}");
                break;
            }
            assert!(Instant::now() < deadline, "the reference execution did not end");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        history_types(&endpoints, &arn).await
    });
    runtime.block_on(call(
        &endpoints,
        0,
        "sqs",
        "CreateQueue",
        &json!({"QueueName": "orders.fifo", "Attributes": {"FifoQueue": "true"}}),
    ));

    // The load: executions started and messages sent and consumed through every node.
    let record = Arc::new(Mutex::new(Record::default()));
    let done = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let starters: Vec<_> = (0..4)
        .map(|prefer| {
            runtime.spawn(start_executions(
                endpoints.clone(),
                next.clone(),
                total_executions,
                prefer,
            ))
        })
        .collect();
    let senders: Vec<_> = (0..GROUPS)
        .map(|group| runtime.spawn(send_group(endpoints.clone(), record.clone(), group, per_group)))
        .collect();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|prefer| runtime.spawn(consume(endpoints.clone(), record.clone(), prefer, done.clone())))
        .collect();

    // Kill one node, then another, while the work runs; then restart both.
    for victim in [1, 2] {
        std::thread::sleep(Duration::from_secs(3));
        endpoints.write().unwrap()[victim] = None;
        nodes[victim].kill();
    }
    std::thread::sleep(Duration::from_secs(3));
    for victim in [1, 2] {
        nodes[victim].restart();
        endpoints.write().unwrap()[victim] = Some(nodes[victim].endpoint());
    }
    for task in starters.into_iter().chain(senders) {
        runtime.block_on(task).unwrap();
    }

    // Every acknowledged message is received.
    let deadline = Instant::now() + SETTLE;
    loop {
        let missing = {
            let record = record.lock().unwrap();
            let received: HashSet<&String> = record.received.iter().collect();
            record
                .acknowledged
                .iter()
                .filter(|body| !received.contains(body))
                .count()
        };
        if missing == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} acknowledged messages never received\n{}",
            logs(&nodes)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    done.store(true, Ordering::SeqCst);
    for consumer in consumers {
        runtime.block_on(consumer).unwrap();
    }

    // Every execution ends, and so do the schedules' fires.
    let deadline = Instant::now() + SETTLE;
    let (pipelines, ticks) = loop {
        let pipelines = runtime.block_on(executions(&endpoints, PIPELINE));
        let ticks = runtime.block_on(executions(&endpoints, TICK));
        let running = pipelines
            .iter()
            .filter(|execution| execution["status"] == "RUNNING")
            .count();
        if running == 0 && pipelines.len() == total_executions + 1 && ticks.len() >= SCHEDULES {
            break (pipelines, ticks);
        }
        assert!(
            Instant::now() < deadline,
            "{running} of {} executions still running, {} schedule fires\n{}",
            pipelines.len(),
            ticks.len(),
            logs(&nodes)
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let settled = began.elapsed();

    // Each execution succeeded with the reference's history: each transition once.
    runtime.block_on(async {
        for execution in &pipelines {
            let arn = execution["executionArn"].as_str().unwrap();
            assert_eq!(execution["status"], "SUCCEEDED", "{execution}");
            let described = call(
                &endpoints,
                0,
                "states",
                "DescribeExecution",
                &json!({"executionArn": arn}),
            )
            .await;
            let input: Value = serde_json::from_str(described["input"].as_str().unwrap()).unwrap();
            let output: Value = serde_json::from_str(described["output"].as_str().unwrap()).unwrap();
            assert_eq!(
                output["result"]["n"],
                json!(input["n"].as_u64().unwrap() * 2),
                "{described}"
            );
            assert_eq!(output["doubled"], json!([2, 4, 6]), "{described}");
            let types = history_types(&endpoints, arn).await;
            let mut sorted = types.clone();
            sorted.sort();
            let mut expected = reference.clone();
            expected.sort();
            assert_eq!(sorted, expected, "{arn}: its history is not the reference's: {types:?}");
        }
    });

    // Each schedule fired once: one tick execution per schedule.
    let mut fires: BTreeMap<String, usize> = BTreeMap::new();
    runtime.block_on(async {
        for tick in &ticks {
            let arn = tick["executionArn"].as_str().unwrap();
            let described = call(
                &endpoints,
                1,
                "states",
                "DescribeExecution",
                &json!({"executionArn": arn}),
            )
            .await;
            let input: Value = serde_json::from_str(described["input"].as_str().unwrap()).unwrap();
            *fires.entry(input["schedule"].as_str().unwrap().to_owned()).or_default() += 1;
        }
    });
    let expected: BTreeMap<String, usize> = (0..SCHEDULES).map(|index| (format!("s{index}"), 1)).collect();
    assert_eq!(fires, expected, "each schedule fires once");

    // The queue: nothing lost, nothing after its delete, each group in order.
    let record = record.lock().unwrap();
    assert_eq!(record.acknowledged.len(), per_group * GROUPS);
    assert!(
        record.after_delete.is_empty(),
        "received after their delete was acknowledged: {:?}",
        record.after_delete
    );
    let mut first_seen: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for body in &record.received {
        if !seen.insert(body.clone()) {
            continue;
        }
        let (group, index) = body.split_once(':').unwrap();
        first_seen
            .entry(group.parse().unwrap())
            .or_default()
            .push(index.parse().unwrap());
    }
    for (group, order) in &first_seen {
        assert_eq!(order, &(0..per_group).collect::<Vec<_>>(), "group {group}");
    }
    eprintln!(
        "{} executions, {} messages ({} receipts), {} schedule fires on {NODES} nodes with two kills: settled in {:.1} s",
        pipelines.len(),
        record.acknowledged.len(),
        record.received.len(),
        ticks.len(),
        settled.as_secs_f64()
    );
}
