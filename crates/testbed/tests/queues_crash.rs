//! The queues' crash test at scale: FIFO messages sent to two FIFO queues with 100 groups
//! between them (and one for every 25 of those to a standard queue), with SendMessageBatch, while
//! consumers receive ten at a time and delete with DeleteMessageBatch, and the server is killed
//! with SIGKILL five times. Each group is sent in order by one client, the next batch only once
//! the last was acknowledged. Afterwards: every acknowledged send was received, no message was
//! received after its delete was acknowledged, and each FIFO group was first received in the
//! order it was sent.
//!
//! `cargo test` sends 20,000 FIFO messages (about a minute in a debug build on a loaded 2-core
//! machine); the figure is `SLUICE_QUEUES_CRASH_MESSAGES=100000`, run by hand (its
//! figures are in docs/PERFORMANCE.md).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sluice::client::Client;
use sluice_testbed::Server;

/// FIFO queues, and groups in each: 100 groups in all.
const FIFO_QUEUES: [&str; 2] = ["crash-a.fifo", "crash-b.fifo"];
const GROUPS_PER_QUEUE: usize = 50;
/// Sending clients per FIFO queue; each owns an equal share of the queue's groups.
const FIFO_SENDERS: usize = 10;
/// FIFO messages in all when `SLUICE_QUEUES_CRASH_MESSAGES` does not say.
const DEFAULT_FIFO_MESSAGES: usize = 20_000;
const STANDARD_SENDERS: usize = 4;
/// Consumers per queue.
const CONSUMERS: usize = 3;
const BATCH: usize = 10;
const KILLS: usize = 5;
const STANDARD_QUEUE: &str = "crash";

/// How many messages each FIFO group gets: `SLUICE_QUEUES_CRASH_MESSAGES` (FIFO messages in all,
/// a multiple of the 100 groups; the figure is 100000) or [`DEFAULT_FIFO_MESSAGES`].
fn per_group() -> usize {
    let groups = FIFO_QUEUES.len() * GROUPS_PER_QUEUE;
    let messages = std::env::var("SLUICE_QUEUES_CRASH_MESSAGES")
        .ok()
        .map(|text| text.parse::<usize>().expect("SLUICE_QUEUES_CRASH_MESSAGES is a number"))
        .unwrap_or(DEFAULT_FIFO_MESSAGES);
    assert!(
        messages >= groups && messages.is_multiple_of(groups),
        "SLUICE_QUEUES_CRASH_MESSAGES must be a multiple of {groups}"
    );
    messages / groups
}

/// Messages sent to the standard queue: one for every 25 FIFO messages.
fn standard_messages() -> usize {
    per_group() * FIFO_QUEUES.len() * GROUPS_PER_QUEUE / 25
}

fn queue_url(name: &str) -> String {
    format!("http://sluice/123456789012/{name}")
}

/// The server's current endpoint and a client for it (one connection pool per server start).
#[derive(Clone)]
struct Endpoint(Arc<RwLock<Client>>);

impl Endpoint {
    fn new(endpoint: String) -> Endpoint {
        Endpoint(Arc::new(RwLock::new(client_for(endpoint))))
    }

    fn client(&self) -> Client {
        self.0.read().unwrap().clone()
    }

    fn moved_to(&self, endpoint: String) {
        *self.0.write().unwrap() = client_for(endpoint);
    }
}

fn client_for(endpoint: String) -> Client {
    sluice_testbed::client_at(&endpoint)
}

/// Calls until the server answers (it may be down, or answer for a request that a kill cut
/// off); a refusal with an SQS error is a bug and fails the test.
async fn call(endpoint: &Endpoint, operation: &str, request: &Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match endpoint.client().sqs(operation, request).await {
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
    /// Bodies received, once each.
    unique: HashSet<String>,
    /// Message ids whose delete was acknowledged.
    deleted: HashSet<String>,
    /// Message ids received after their delete was acknowledged.
    after_delete: Vec<String>,
}

/// Sends the groups `sender`, `sender + FIFO_SENDERS`, … of one FIFO queue, a batch of ten
/// consecutive messages of one group at a time, taking the groups in turn.
async fn send_groups(endpoint: Endpoint, record: Arc<Mutex<Record>>, queue: usize, sender: usize) {
    let url = queue_url(FIFO_QUEUES[queue]);
    let groups: Vec<usize> = (sender..GROUPS_PER_QUEUE).step_by(FIFO_SENDERS).collect();
    let per_group = per_group();
    for first in (0..per_group).step_by(BATCH) {
        for &group in &groups {
            let bodies: Vec<String> = (first..(first + BATCH).min(per_group))
                .map(|index| format!("fifo:{queue}:{group}:{index}"))
                .collect();
            // The same deduplication id on every retry: a send the kill answered for nobody is
            // not stored twice.
            let entries: Vec<Value> = bodies
                .iter()
                .enumerate()
                .map(|(index, body)| {
                    json!({
                        "Id": format!("e{index}"), "MessageBody": body,
                        "MessageGroupId": format!("g{group}"), "MessageDeduplicationId": body.replace(':', "-"),
                    })
                })
                .collect();
            let answer = call(
                &endpoint,
                "SendMessageBatch",
                &json!({"QueueUrl": url, "Entries": entries}),
            )
            .await;
            assert_eq!(answer["Failed"], json!([]), "{answer}");
            record.lock().unwrap().acknowledged.extend(bodies);
        }
    }
}

async fn send_standard(endpoint: Endpoint, record: Arc<Mutex<Record>>, next: Arc<AtomicUsize>) {
    let url = queue_url(STANDARD_QUEUE);
    let standard = standard_messages();
    loop {
        let first = next.fetch_add(BATCH, Ordering::SeqCst);
        if first >= standard {
            return;
        }
        let bodies: Vec<String> = (first..(first + BATCH).min(standard))
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
            &json!({"QueueUrl": url, "Entries": entries}),
        )
        .await;
        assert_eq!(answer["Failed"], json!([]), "{answer}");
        record.lock().unwrap().acknowledged.extend(bodies);
    }
}

async fn consume(endpoint: Endpoint, record: Arc<Mutex<Record>>, url: String, done: Arc<AtomicBool>) {
    while !done.load(Ordering::SeqCst) {
        let request =
            json!({"QueueUrl": url, "MaxNumberOfMessages": BATCH, "WaitTimeSeconds": 1, "VisibilityTimeout": 10});
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
                let body = message["Body"].as_str().unwrap().to_owned();
                record.unique.insert(body.clone());
                record.received.push(body);
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
    let began = Instant::now();
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_sluice-testbed"));
    let folder = tempfile::tempdir().unwrap();
    let mut server = Server::start(&binary, folder.path(), &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let endpoint = Endpoint::new(server.endpoint());
    runtime.block_on(async {
        call(&endpoint, "CreateQueue", &json!({"QueueName": STANDARD_QUEUE})).await;
        for name in FIFO_QUEUES {
            let attributes = json!({"FifoQueue": "true"});
            call(
                &endpoint,
                "CreateQueue",
                &json!({"QueueName": name, "Attributes": attributes}),
            )
            .await;
        }
    });
    let record = Arc::new(Mutex::new(Record::default()));
    let done = Arc::new(AtomicBool::new(false));
    let mut random = rand::rngs::StdRng::seed_from_u64(0x51ce);

    let senders = {
        let (endpoint, record) = (endpoint.clone(), record.clone());
        runtime.spawn(async move {
            let mut tasks = Vec::new();
            for queue in 0..FIFO_QUEUES.len() {
                for sender in 0..FIFO_SENDERS {
                    tasks.push(tokio::spawn(send_groups(
                        endpoint.clone(),
                        record.clone(),
                        queue,
                        sender,
                    )));
                }
            }
            let next = Arc::new(AtomicUsize::new(0));
            for _ in 0..STANDARD_SENDERS {
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
    for name in FIFO_QUEUES.iter().chain([&STANDARD_QUEUE]) {
        for _ in 0..CONSUMERS {
            consumers.push(runtime.spawn(consume(endpoint.clone(), record.clone(), queue_url(name), done.clone())));
        }
    }

    // Each kill waits for a share of the sends to be acknowledged, plus a random moment, so the
    // kills land while sends are in flight however fast or loaded the machine is.
    let per_group = per_group();
    let fifo_total = FIFO_QUEUES.len() * GROUPS_PER_QUEUE * per_group;
    let total = fifo_total + standard_messages();
    let mut acknowledged_at_kills = Vec::new();
    for kill in 0..KILLS {
        let share = total * (kill + 1) / (KILLS + 2);
        let deadline = Instant::now() + Duration::from_secs(300);
        while record.lock().unwrap().acknowledged.len() < share {
            assert!(Instant::now() < deadline, "sends stalled before kill {}", kill + 1);
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(random.random_range(0..50)));
        acknowledged_at_kills.push(record.lock().unwrap().acknowledged.len());
        server.kill();
        std::thread::sleep(Duration::from_millis(random.random_range(0..300)));
        server.restart();
        endpoint.moved_to(server.endpoint());
        eprintln!(
            "kill {} of {KILLS} done at {:.1} s",
            kill + 1,
            began.elapsed().as_secs_f64()
        );
    }
    runtime.block_on(senders).unwrap();
    eprintln!(
        "sends acknowledged before each kill: {acknowledged_at_kills:?} of {total}; all sent at {:.1} s",
        began.elapsed().as_secs_f64()
    );
    assert!(
        acknowledged_at_kills.iter().filter(|count| **count < total).count() >= KILLS - 1,
        "the kills must hit the sends: {acknowledged_at_kills:?}"
    );

    // The consumers drain the queues.
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        // Every send was acknowledged by now, so what was received is a subset of what was
        // acknowledged: counting is enough, and holds the consumers' lock only for a moment.
        let missing = {
            let record = record.lock().unwrap();
            record.acknowledged.len() - record.unique.len()
        };
        if missing == 0 {
            break;
        }
        if Instant::now() >= deadline {
            let record = record.lock().unwrap();
            let sample: Vec<&String> = record
                .acknowledged
                .iter()
                .filter(|body| !record.unique.contains(*body))
                .take(5)
                .collect();
            panic!(
                "{missing} acknowledged messages never received, such as {sample:?}\n{}",
                server.logs()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    done.store(true, Ordering::SeqCst);
    for consumer in consumers {
        runtime.block_on(consumer).unwrap();
    }

    let record = record.lock().unwrap();
    assert_eq!(record.acknowledged.len(), total);
    assert!(
        record.unique == record.acknowledged,
        "every acknowledged message, and only those, was received"
    );
    assert!(
        record.after_delete.is_empty(),
        "received after their delete was acknowledged: {:?}",
        record.after_delete
    );
    // Each group's messages were first received in the order they were sent.
    let mut first_seen: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for body in &record.received {
        let mut parts = body.split(':');
        if parts.next() != Some("fifo") || !seen.insert(body.clone()) {
            continue;
        }
        let queue: usize = parts.next().unwrap().parse().unwrap();
        let group: usize = parts.next().unwrap().parse().unwrap();
        let index: usize = parts.next().unwrap().parse().unwrap();
        first_seen.entry((queue, group)).or_default().push(index);
    }
    assert_eq!(first_seen.len(), FIFO_QUEUES.len() * GROUPS_PER_QUEUE);
    for ((queue, group), order) in &first_seen {
        assert!(
            order.iter().copied().eq(0..per_group),
            "group {group} of {} was first received out of order",
            FIFO_QUEUES[*queue]
        );
    }
    let redelivered: HashMap<&String, usize> = record.received.iter().fold(HashMap::new(), |mut counts, body| {
        *counts.entry(body).or_default() += 1;
        counts
    });
    eprintln!(
        "received {} times for {} messages; {} redelivered; {:.1} s in all",
        record.received.len(),
        redelivered.len(),
        redelivered.values().filter(|count| **count > 1).count(),
        began.elapsed().as_secs_f64()
    );
}
