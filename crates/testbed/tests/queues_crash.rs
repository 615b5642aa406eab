//! The queues' crash test: concurrent clients send to a standard queue and to a FIFO queue with
//! several groups (each group sent in order by one client, the next message only once the last
//! was acknowledged) while consumers receive and delete, and the server is killed with SIGKILL
//! several times. Afterwards: every acknowledged send was received, no message was received after
//! its delete was acknowledged, and each FIFO group was first received in the order it was sent.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sluice::client::Client;
use sluice_testbed::Server;

const SENDERS: usize = 8;
const GROUPS: usize = 16;
const PER_GROUP: usize = 60;
const STANDARD: usize = 800;
const CONSUMERS: usize = 3;
const KILLS: usize = 4;
const FIFO_URL: &str = "http://sluice/123456789012/crash.fifo";
const STANDARD_URL: &str = "http://sluice/123456789012/crash";

type Endpoint = Arc<RwLock<String>>;

fn client_for(endpoint: &Endpoint) -> Client {
    sluice_testbed::client_at(&endpoint.read().unwrap())
}

/// Calls until the server answers (it may be down, or answer for a request that a kill cut
/// off); a refusal with an SQS error is a bug and fails the test.
async fn call(endpoint: &Endpoint, operation: &str, request: &Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match client_for(endpoint).sqs(operation, request).await {
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

/// What the clients saw.
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

async fn send_group(endpoint: Endpoint, record: Arc<Mutex<Record>>, group: usize) {
    for index in 0..PER_GROUP {
        let body = format!("fifo:{group}:{index}");
        // The same deduplication id on every retry: a send the kill answered for nobody is not
        // stored twice.
        let request = json!({
            "QueueUrl": FIFO_URL, "MessageBody": body,
            "MessageGroupId": format!("g{group}"), "MessageDeduplicationId": body.replace(':', "-"),
        });
        call(&endpoint, "SendMessage", &request).await;
        record.lock().unwrap().acknowledged.insert(body);
    }
}

async fn send_standard(endpoint: Endpoint, record: Arc<Mutex<Record>>, next: Arc<AtomicUsize>) {
    loop {
        let first = next.fetch_add(5, Ordering::SeqCst);
        if first >= STANDARD {
            return;
        }
        let bodies: Vec<String> = (first..(first + 5).min(STANDARD))
            .map(|index| format!("standard:{index}"))
            .collect();
        let entries: Vec<Value> = bodies
            .iter()
            .enumerate()
            .map(|(index, body)| json!({"Id": format!("e{index}"), "MessageBody": body}))
            .collect();
        let answer = call(
            &endpoint,
            "SendMessageBatch",
            &json!({"QueueUrl": STANDARD_URL, "Entries": entries}),
        )
        .await;
        assert_eq!(answer["Failed"], json!([]), "{answer}");
        record.lock().unwrap().acknowledged.extend(bodies);
    }
}

async fn consume(endpoint: Endpoint, record: Arc<Mutex<Record>>, url: &'static str, done: Arc<AtomicBool>) {
    while !done.load(Ordering::SeqCst) {
        let request =
            json!({"QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1, "VisibilityTimeout": 10});
        let answer = call(&endpoint, "ReceiveMessage", &request).await;
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
            &endpoint,
            "DeleteMessageBatch",
            &json!({"QueueUrl": url, "Entries": entries}),
        )
        .await;
        // A delete whose answer a kill took is not recorded: only acknowledged deletes count.
        let mut record = record.lock().unwrap();
        for entry in answer["Successful"].as_array().cloned().unwrap_or_default() {
            let index: usize = entry["Id"].as_str().unwrap()[1..].parse().unwrap();
            record
                .deleted
                .insert(messages[index]["MessageId"].as_str().unwrap().to_owned());
        }
    }
}

#[test]
fn acknowledged_messages_survive_kill_9() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_sluice-testbed"));
    let folder = tempfile::tempdir().unwrap();
    let mut server = Server::start(&binary, folder.path(), &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let endpoint: Endpoint = Arc::new(RwLock::new(server.endpoint()));
    runtime.block_on(async {
        call(&endpoint, "CreateQueue", &json!({"QueueName": "crash"})).await;
        let attributes = json!({"FifoQueue": "true"});
        call(
            &endpoint,
            "CreateQueue",
            &json!({"QueueName": "crash.fifo", "Attributes": attributes}),
        )
        .await;
    });
    let record = Arc::new(Mutex::new(Record::default()));
    let done = Arc::new(AtomicBool::new(false));
    let mut random = rand::rngs::StdRng::seed_from_u64(0x51ce);

    let senders = {
        let (endpoint, record) = (endpoint.clone(), record.clone());
        runtime.spawn(async move {
            let mut tasks = Vec::new();
            for group in 0..GROUPS {
                tasks.push(tokio::spawn(send_group(endpoint.clone(), record.clone(), group)));
            }
            let next = Arc::new(AtomicUsize::new(0));
            for _ in 0..SENDERS {
                tasks.push(tokio::spawn(send_standard(
                    endpoint.clone(),
                    record.clone(),
                    next.clone(),
                )));
            }
            for task in tasks {
                task.await.unwrap();
            }
        })
    };
    let mut consumers = Vec::new();
    for index in 0..CONSUMERS * 2 {
        let url = if index % 2 == 0 { FIFO_URL } else { STANDARD_URL };
        consumers.push(runtime.spawn(consume(endpoint.clone(), record.clone(), url, done.clone())));
    }

    // Each kill waits for a share of the sends to be acknowledged, plus a random moment, so the
    // kills land while sends are in flight however fast or loaded the machine is.
    let total = GROUPS * PER_GROUP + STANDARD;
    let mut acknowledged_at_kills = Vec::new();
    for kill in 0..KILLS {
        let share = total * (kill + 1) / (KILLS + 2);
        let deadline = Instant::now() + Duration::from_secs(120);
        while record.lock().unwrap().acknowledged.len() < share {
            assert!(Instant::now() < deadline, "sends stalled before kill {}", kill + 1);
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(random.random_range(0..50)));
        acknowledged_at_kills.push(record.lock().unwrap().acknowledged.len());
        server.kill();
        std::thread::sleep(Duration::from_millis(random.random_range(0..300)));
        server.restart();
        *endpoint.write().unwrap() = server.endpoint();
        eprintln!("kill {} of {KILLS} done", kill + 1);
    }
    runtime.block_on(senders).unwrap();
    eprintln!("sends acknowledged before each kill: {acknowledged_at_kills:?} of {total}");
    assert!(
        acknowledged_at_kills.iter().filter(|count| **count < total).count() >= KILLS - 1,
        "the kills must hit the sends: {acknowledged_at_kills:?}"
    );

    // The consumers drain both queues.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (missing, sample) = {
            let record = record.lock().unwrap();
            let received: HashSet<&String> = record.received.iter().collect();
            let missing: Vec<&String> = record
                .acknowledged
                .iter()
                .filter(|body| !received.contains(body))
                .collect();
            (missing.len(), missing.first().map(|body| (*body).clone()))
        };
        if missing == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} acknowledged messages never received, such as {sample:?}\n{}",
            server.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    done.store(true, Ordering::SeqCst);
    for consumer in consumers {
        runtime.block_on(consumer).unwrap();
    }

    let record = record.lock().unwrap();
    assert_eq!(record.acknowledged.len(), total);
    assert!(
        record.after_delete.is_empty(),
        "received after their delete was acknowledged: {:?}",
        record.after_delete
    );
    // Each group's messages were first received in the order they were sent.
    let mut first_seen: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for body in &record.received {
        let mut parts = body.split(':');
        if parts.next() != Some("fifo") || !seen.insert(body.clone()) {
            continue;
        }
        let group: usize = parts.next().unwrap().parse().unwrap();
        let index: usize = parts.next().unwrap().parse().unwrap();
        first_seen.entry(group).or_default().push(index);
    }
    for (group, order) in &first_seen {
        assert_eq!(order, &(0..PER_GROUP).collect::<Vec<_>>(), "group {group}");
    }
    let redelivered: HashMap<&String, usize> = record.received.iter().fold(HashMap::new(), |mut counts, body| {
        *counts.entry(body).or_default() += 1;
        counts
    });
    eprintln!(
        "received {} times for {} messages; {} redelivered",
        record.received.len(),
        redelivered.len(),
        redelivered.values().filter(|count| **count > 1).count()
    );
}
