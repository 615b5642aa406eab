//! Event source mappings under kill -9: clients send to a FIFO queue (several groups, each sent in
//! order) and to a standard queue with a dead-letter queue, while mappings feed the testbed's
//! `record` function and the server is killed with SIGKILL several times. Afterwards: every
//! acknowledged message was processed, each group was processed in order (a message only after
//! the one before it, also when one failed and came back), and the poison message went to the
//! dead-letter queue after its receives ran out.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sluice_testbed::Server;

const GROUPS: usize = 8;
const PER_GROUP: usize = 50;
const STANDARD: usize = 60;
const KILLS: usize = 4;
const FIFO_URL: &str = "http://sluice/123456789012/feed.fifo";
const STANDARD_URL: &str = "http://sluice/123456789012/side";
const DEAD_URL: &str = "http://sluice/123456789012/side-dead";

const MANIFEST: &str = r#"
[app]
name = "esm-crash"

[queues."feed.fifo"]
VisibilityTimeout = 2

[queues.side-dead]

# Each kill may cost a message one receive, and so may a visibility timeout shorter than a batch
# takes to gather and process: more receives than kills, and a timeout well above the window.
[queues.side]
VisibilityTimeout = 3
RedrivePolicy = '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:side-dead","maxReceiveCount":6}'

[event_source_mappings.feed]
queue = "feed.fifo"
function = "record"
batch_size = 5
report_batch_item_failures = true
maximum_concurrency = 4

[event_source_mappings.side]
queue = "arn:aws:sqs:us-east-1:123456789012:side"
function = "arn:aws:lambda:us-east-1:123456789012:function:record"
batch_size = 20
maximum_batching_window_seconds = 1
report_batch_item_failures = true
"#;

type Endpoint = Arc<RwLock<String>>;

/// Calls until the server answers; a refusal with an SQS error is a bug and fails the test.
async fn call(endpoint: &Endpoint, operation: &str, request: &Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let client = sluice_testbed::client_at(&endpoint.read().unwrap());
        match client.sqs(operation, request).await {
            Ok(answer) => return answer,
            Err(error) if error.downcast_ref::<sluice::client::ServerError>().is_some() => {
                panic!("{operation} was refused: {error:#}")
            }
            Err(error) => {
                assert!(
                    Instant::now() < deadline,
                    "{operation} failed for two minutes: {error:#}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// The body of a FIFO message: every seventh fails on its first receive.
fn fifo_body(group: usize, index: usize) -> String {
    let kind = if index % 7 == 3 { "fail-once" } else { "fifo" };
    format!("{kind}:{group}:{index}")
}

async fn send_group(endpoint: Endpoint, acknowledged: Arc<Mutex<HashSet<String>>>, group: usize) {
    for index in 0..PER_GROUP {
        let body = fifo_body(group, index);
        // The same deduplication id on every retry: a send the kill answered for nobody is not
        // stored twice.
        let request = json!({
            "QueueUrl": FIFO_URL, "MessageBody": body,
            "MessageGroupId": format!("g{group}"), "MessageDeduplicationId": body.replace(':', "-"),
        });
        call(&endpoint, "SendMessage", &request).await;
        acknowledged.lock().unwrap().insert(body);
    }
}

async fn send_standard(endpoint: Endpoint, acknowledged: Arc<Mutex<HashSet<String>>>) {
    for index in 0..=STANDARD {
        // Resending a standard message after a kill may store it twice: that is at-least-once.
        let body = if index == STANDARD {
            "poison".to_owned()
        } else {
            format!("std:{index}")
        };
        call(
            &endpoint,
            "SendMessage",
            &json!({"QueueUrl": STANDARD_URL, "MessageBody": body}),
        )
        .await;
        acknowledged.lock().unwrap().insert(body);
    }
}

/// The lines the `record` function wrote (a line a kill cut short is skipped).
fn records(server: &Server) -> Vec<Value> {
    std::fs::read_to_string(server.record_file())
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

fn processed(records: &[Value]) -> HashSet<String> {
    records
        .iter()
        .filter(|record| record["ok"] == true)
        .map(|record| record["body"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn mapped_messages_survive_kill_9_in_order() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_sluice-testbed"));
    let folder = tempfile::tempdir().unwrap();
    let app = folder.path().join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("sluice.toml"), MANIFEST).unwrap();
    let mut server = Server::start(&binary, folder.path(), &[app]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let endpoint: Endpoint = Arc::new(RwLock::new(server.endpoint()));
    let acknowledged = Arc::new(Mutex::new(HashSet::new()));
    let mut random = rand::rngs::StdRng::seed_from_u64(0xe5);

    let senders = {
        let (endpoint, acknowledged) = (endpoint.clone(), acknowledged.clone());
        runtime.spawn(async move {
            let mut tasks = Vec::new();
            for group in 0..GROUPS {
                tasks.push(tokio::spawn(send_group(endpoint.clone(), acknowledged.clone(), group)));
            }
            tasks.push(tokio::spawn(send_standard(endpoint.clone(), acknowledged.clone())));
            for task in tasks {
                task.await.unwrap();
            }
        })
    };

    // Each kill waits for a share of the sends to be acknowledged, plus a random moment.
    let total = GROUPS * PER_GROUP + STANDARD + 1;
    let mut processed_at_kills = Vec::new();
    for kill in 0..KILLS {
        let share = total * (kill + 1) / (KILLS + 2);
        let deadline = Instant::now() + Duration::from_secs(120);
        while acknowledged.lock().unwrap().len() < share {
            assert!(Instant::now() < deadline, "sends stalled before kill {}", kill + 1);
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(random.random_range(0..100)));
        server.kill();
        processed_at_kills.push(processed(&records(&server)).len());
        std::thread::sleep(Duration::from_millis(random.random_range(0..300)));
        server.restart();
        *endpoint.write().unwrap() = server.endpoint();
        eprintln!("kill {} of {KILLS} done", kill + 1);
    }
    runtime.block_on(senders).unwrap();
    eprintln!("messages processed at each kill: {processed_at_kills:?} of {total}");
    assert!(
        processed_at_kills.iter().filter(|count| **count < total).count() >= KILLS - 1,
        "the kills must hit the processing: {processed_at_kills:?}"
    );

    // Every acknowledged message is processed (the poison one only fails).
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = processed(&records(&server));
        let missing: Vec<String> = acknowledged
            .lock()
            .unwrap()
            .iter()
            .filter(|body| *body != "poison" && !done.contains(*body))
            .cloned()
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} acknowledged messages never processed, such as {:?}\n{}",
            missing.len(),
            missing.first(),
            server.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let records = records(&server);
    // Each group in order: a message is processed only once the one before it was.
    let mut done: BTreeMap<usize, HashSet<usize>> = BTreeMap::new();
    for record in records.iter().filter(|record| record["ok"] == true) {
        let body = record["body"].as_str().unwrap();
        let mut parts = body.split(':');
        let kind = parts.next().unwrap();
        if kind != "fifo" && kind != "fail-once" {
            continue;
        }
        let group: usize = parts.next().unwrap().parse().unwrap();
        let index: usize = parts.next().unwrap().parse().unwrap();
        let group_done = done.entry(group).or_default();
        assert!(
            index == 0 || group_done.contains(&(index - 1)),
            "{body} was processed before message {} of its group",
            index - 1
        );
        group_done.insert(index);
    }
    // Messages that failed once came back and were processed on a later receive. A kill between
    // a receive and its invocation spends a first receive without a failure, so the property is
    // per message: a `fail-once` seen on its first receive was reported failed, and every
    // `fail-once` message was processed successfully at last.
    let mut first_failures = 0;
    let mut succeeded: HashSet<&str> = HashSet::new();
    for record in &records {
        let body = record["body"].as_str().unwrap();
        if !body.starts_with("fail-once") {
            continue;
        }
        if record["receiveCount"] == "1" {
            assert_eq!(record["ok"], false, "{body} succeeded on its first receive");
            first_failures += 1;
        }
        if record["ok"] == true {
            succeeded.insert(body);
        }
    }
    let fail_once: HashSet<&str> = records
        .iter()
        .filter_map(|record| record["body"].as_str())
        .filter(|body| body.starts_with("fail-once"))
        .collect();
    assert!(first_failures > 0, "no first failure was recorded");
    assert_eq!(succeeded, fail_once, "every fail-once message was processed at last");

    // The poison message ends in the dead-letter queue.
    runtime.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let answer = call(
                &endpoint,
                "ReceiveMessage",
                &json!({"QueueUrl": DEAD_URL, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1}),
            )
            .await;
            let bodies: Vec<&str> = answer["Messages"]
                .as_array()
                .map(|messages| messages.iter().filter_map(|message| message["Body"].as_str()).collect())
                .unwrap_or_default();
            if !bodies.is_empty() {
                assert!(bodies.iter().all(|body| *body == "poison"), "{bodies:?}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the poison message never reached the dead-letter queue"
            );
        }
    });
    let duplicates = records.iter().filter(|record| record["ok"] == true).count() - processed(&records).len();
    eprintln!("{} records, {duplicates} processed again after a kill", records.len());
}
