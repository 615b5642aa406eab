//! Event source mappings on a real SQLite store, with consumers that record what they are handed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use sluice_store_sqlite::SqliteStore;

use super::*;
use crate::{Clock, Options, ReceiveMessage, SendMessage};

type Behaviour = Box<dyn Fn(&[Value]) -> Result<Value, String> + Send + Sync>;

/// A change to a declared mapping, whether its queue is FIFO, and the problem expected.
type Case = (Box<dyn Fn(&mut DeclaredMapping)>, bool, &'static str);

/// A consumer that records every batch and answers as `behaviour` says.
struct Recorder {
    behaviour: Behaviour,
    batches: Mutex<Vec<Vec<Value>>>,
    executions: Mutex<Vec<(String, String, Value)>>,
    groups_in_flight: Mutex<HashSet<String>>,
    overlapped: AtomicBool,
}

impl Recorder {
    fn new(behaviour: impl Fn(&[Value]) -> Result<Value, String> + Send + Sync + 'static) -> Arc<Recorder> {
        Arc::new(Recorder {
            behaviour: Box::new(behaviour),
            batches: Mutex::default(),
            executions: Mutex::default(),
            groups_in_flight: Mutex::default(),
            overlapped: AtomicBool::new(false),
        })
    }

    fn bodies(&self) -> Vec<String> {
        self.batches
            .lock()
            .unwrap()
            .iter()
            .flatten()
            .map(|record| record["body"].as_str().unwrap().to_owned())
            .collect()
    }
}

#[async_trait]
impl Consumer for Recorder {
    async fn invoke_function(&self, _name: &str, event: Value) -> Result<Value, String> {
        let records = event["Records"].as_array().cloned().unwrap_or_default();
        let groups: HashSet<String> = records
            .iter()
            .filter_map(|record| record["attributes"]["MessageGroupId"].as_str().map(str::to_owned))
            .collect();
        {
            let mut in_flight = self.groups_in_flight.lock().unwrap();
            if groups.iter().any(|group| in_flight.contains(group)) {
                self.overlapped.store(true, Ordering::SeqCst);
            }
            in_flight.extend(groups.iter().cloned());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.batches.lock().unwrap().push(records.clone());
        let answer = (self.behaviour)(&records);
        let mut in_flight = self.groups_in_flight.lock().unwrap();
        for group in &groups {
            in_flight.remove(group);
        }
        answer
    }

    async fn start_execution(&self, arn: &str, name: &str, input: Value) -> Result<(), String> {
        self.executions
            .lock()
            .unwrap()
            .push((arn.to_owned(), name.to_owned(), input));
        Ok(())
    }
}

struct Fixture {
    queues: Queues,
    _folder: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let folder = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&folder.path().join("sluice.db")).unwrap();
        Fixture {
            queues: Queues::new(Arc::new(store), Options::default(), Clock::system()),
            _folder: folder,
        }
    }

    async fn create(&self, name: &str, attributes: &[(&str, &str)]) {
        let attributes = attributes
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        self.queues
            .create_queue(name, &attributes, &BTreeMap::new())
            .await
            .unwrap();
    }

    async fn send(&self, queue: &str, body: &str, group: Option<&str>) {
        let message = SendMessage {
            body: body.to_owned(),
            group_id: group.map(str::to_owned),
            deduplication_id: group.map(|_| body.to_owned()),
            ..SendMessage::default()
        };
        self.queues.send_message(queue, message).await.unwrap();
    }

    fn run(&self, consumer: Arc<Recorder>, mapping: DeclaredMapping, fifo: bool) -> Sources {
        let sources = Sources::new(self.queues.clone(), consumer);
        sources.apply_app("app", vec![mapping.check(fifo).unwrap()]);
        sources.start();
        sources
    }

    async fn visible(&self, queue: &str) -> u64 {
        let description = self
            .queues
            .get_queue_attributes(queue, &["All".to_owned()])
            .await
            .unwrap();
        let count = |name: &str| {
            description
                .attributes
                .get(name)
                .and_then(|value| value.parse::<u64>().ok())
                .unwrap_or_default()
        };
        count("ApproximateNumberOfMessages") + count("ApproximateNumberOfMessagesNotVisible")
    }
}

fn mapping(queue: &str) -> DeclaredMapping {
    DeclaredMapping {
        name: "feed".into(),
        queue: queue.into(),
        function: Some("consume".into()),
        enabled: true,
        ..DeclaredMapping::default()
    }
}

/// Waits until `done` holds, for at most 20 seconds.
async fn until(mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn mappings_are_checked_against_lambdas_limits() {
    let check = |change: &dyn Fn(&mut DeclaredMapping), fifo: bool| {
        let mut declared = mapping("q");
        change(&mut declared);
        declared.check(fifo).err().map(|problems| problems.join("; "))
    };
    assert_eq!(check(&|_| {}, false), None);
    let checked = mapping("arn:aws:sqs:us-east-1:123456789012:q").check(false).unwrap();
    assert_eq!(checked.queue, "q");
    assert_eq!((checked.batch_size, checked.maximum_concurrency), (10, 5));
    let cases: Vec<Case> = vec![
        (
            Box::new(|m| m.batch_size = Some(11)),
            true,
            "batch_size must be between 1 and 10 for the FIFO queue",
        ),
        (
            Box::new(|m| m.batch_size = Some(0)),
            false,
            "batch_size must be between 1 and 10000",
        ),
        (
            Box::new(|m| m.batch_size = Some(10_001)),
            false,
            "batch_size must be between 1 and 10000",
        ),
        (
            Box::new(|m| m.batch_size = Some(100)),
            false,
            "maximum_batching_window_seconds must be at least 1",
        ),
        (
            Box::new(|m| m.maximum_batching_window_seconds = Some(301)),
            false,
            "between 0 and 300",
        ),
        (
            Box::new(|m| m.maximum_batching_window_seconds = Some(-1)),
            false,
            "between 0 and 300",
        ),
        (
            Box::new(|m| m.maximum_batching_window_seconds = Some(5)),
            true,
            "not supported for FIFO",
        ),
        (
            Box::new(|m| m.maximum_concurrency = Some(1)),
            false,
            "maximum_concurrency must be between 2 and 1000",
        ),
        (
            Box::new(|m| m.maximum_concurrency = Some(1001)),
            false,
            "maximum_concurrency",
        ),
        (Box::new(|m| m.state_machine = Some("arn".into())), false, "not both"),
        (
            Box::new(|m| m.function = None),
            false,
            "give a function or a state_machine",
        ),
        (Box::new(|m| m.name = "a b".into()), false, "1 to 64 letters"),
        (Box::new(|m| m.queue = String::new()), false, "queue must name a queue"),
        (
            Box::new(|m| {
                m.function = None;
                m.state_machine = Some("arn".into());
                m.report_batch_item_failures = true;
            }),
            false,
            "report_batch_item_failures: only a function",
        ),
    ];
    for (change, fifo, expected) in cases {
        let problems = check(&*change, fifo).expect("a problem");
        assert!(problems.contains(expected), "{problems:?} should say {expected:?}");
        assert!(problems.contains("event_source_mappings."), "{problems}");
    }
    let with_window = check(
        &|m| {
            m.batch_size = Some(10_000);
            m.maximum_batching_window_seconds = Some(300);
        },
        false,
    );
    assert_eq!(with_window, None);
}

#[test]
fn partial_batch_responses_are_read_as_lambda_reads_them() {
    let ids = ["a", "b"];
    let failed = |response: Value| failed_items(&response, &ids);
    assert!(failed(Value::Null).unwrap().is_empty());
    assert!(failed(json!({})).unwrap().is_empty());
    assert!(failed(json!({"batchItemFailures": null})).unwrap().is_empty());
    assert!(failed(json!({"batchItemFailures": []})).unwrap().is_empty());
    assert_eq!(
        failed(json!({"batchItemFailures": [{"itemIdentifier": "b"}]})).unwrap(),
        HashSet::from(["b".to_owned()])
    );
    for whole_batch in [
        json!("ok"),
        json!([]),
        json!({"batchItemFailures": "b"}),
        json!({"batchItemFailures": ["b"]}),
        json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
        json!({"batchItemFailures": [{"itemIdentifier": null}]}),
        json!({"batchItemFailures": [{"itemId": "b"}]}),
        json!({"batchItemFailures": [{"itemIdentifier": "c"}]}),
    ] {
        assert!(failed(whole_batch.clone()).is_err(), "{whole_batch}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_gets_lambdas_records_and_processed_messages_are_deleted() {
    let fixture = Fixture::new();
    fixture.create("jobs.fifo", &[("FifoQueue", "true")]).await;
    let message = SendMessage {
        body: "hello".into(),
        group_id: Some("g".into()),
        deduplication_id: Some("d1".into()),
        attributes: [(
            "kind".to_owned(),
            crate::MessageAttributeValue {
                data_type: "String".into(),
                string_value: Some("greeting".into()),
                ..Default::default()
            },
        )]
        .into(),
        ..SendMessage::default()
    };
    fixture.queues.send_message("jobs.fifo", message).await.unwrap();
    let recorder = Recorder::new(|_| Ok(Value::Null));
    let _sources = fixture.run(recorder.clone(), mapping("jobs.fifo"), true);
    until(|| !recorder.batches.lock().unwrap().is_empty()).await;
    let record = recorder.batches.lock().unwrap()[0][0].clone();
    assert_eq!(record["body"], "hello");
    assert_eq!(record["eventSource"], "aws:sqs");
    assert_eq!(record["eventSourceARN"], "arn:aws:sqs:us-east-1:123456789012:jobs.fifo");
    assert_eq!(record["awsRegion"], "us-east-1");
    assert_eq!(record["md5OfBody"], crate::md5_of_body("hello"));
    assert!(record["md5OfMessageAttributes"].is_string(), "{record}");
    assert_eq!(record["messageAttributes"]["kind"]["stringValue"], "greeting");
    assert_eq!(record["messageAttributes"]["kind"]["dataType"], "String");
    let attributes = &record["attributes"];
    assert_eq!(attributes["ApproximateReceiveCount"], "1");
    assert_eq!(attributes["MessageGroupId"], "g");
    assert_eq!(attributes["MessageDeduplicationId"], "d1");
    assert!(attributes["SequenceNumber"].is_string(), "{record}");
    assert!(attributes["SentTimestamp"].is_string(), "{record}");
    assert!(record["receiptHandle"].is_string() && record["messageId"].is_string());
    let mut left = 1;
    for _ in 0..100 {
        left = fixture.visible("jobs.fifo").await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(left, 0, "the processed message was deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifo_order_holds_per_group_under_several_pollers() {
    let fixture = Fixture::new();
    fixture.create("orders.fifo", &[("FifoQueue", "true")]).await;
    const GROUPS: usize = 6;
    const PER_GROUP: usize = 25;
    for index in 0..PER_GROUP {
        for group in 0..GROUPS {
            fixture
                .send("orders.fifo", &format!("{group}:{index}"), Some(&format!("g{group}")))
                .await;
        }
    }
    let recorder = Recorder::new(|_| Ok(Value::Null));
    let mut declared = mapping("orders.fifo");
    declared.batch_size = Some(4);
    declared.maximum_concurrency = Some(4);
    let _sources = fixture.run(recorder.clone(), declared, true);
    until(|| recorder.bodies().len() >= GROUPS * PER_GROUP).await;
    let mut per_group: HashMap<String, Vec<usize>> = HashMap::new();
    for body in recorder.bodies() {
        let (group, index) = body.split_once(':').unwrap();
        per_group
            .entry(group.to_owned())
            .or_default()
            .push(index.parse().unwrap());
    }
    for (group, indexes) in per_group {
        assert_eq!(indexes, (0..PER_GROUP).collect::<Vec<_>>(), "group {group}");
    }
    assert!(
        !recorder.overlapped.load(Ordering::SeqCst),
        "a group was in two batches at once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_item_holds_back_the_rest_of_its_group() {
    let fixture = Fixture::new();
    fixture
        .create("steps.fifo", &[("FifoQueue", "true"), ("VisibilityTimeout", "1")])
        .await;
    for body in ["a1", "a2", "a3"] {
        fixture.send("steps.fifo", body, Some("a")).await;
    }
    for body in ["b1", "b2"] {
        fixture.send("steps.fifo", body, Some("b")).await;
    }
    // a2 fails the first time it is seen; the function reports only a2, not a3 after it.
    let failed_once = Arc::new(AtomicBool::new(false));
    let recorder = {
        let failed_once = failed_once.clone();
        Recorder::new(move |records| {
            let failures: Vec<Value> = records
                .iter()
                .filter(|record| record["body"] == "a2" && !failed_once.swap(true, Ordering::SeqCst))
                .map(|record| json!({"itemIdentifier": record["messageId"]}))
                .collect();
            Ok(json!({ "batchItemFailures": failures }))
        })
    };
    let mut declared = mapping("steps.fifo");
    declared.report_batch_item_failures = true;
    let _sources = fixture.run(recorder.clone(), declared, true);
    until(|| recorder.bodies().iter().filter(|body| *body == "a3").count() >= 2).await;
    // The first batch had every message; a2 failed, so a3 came back with it, after it.
    let bodies = recorder.bodies();
    assert_eq!(&bodies[..5], ["a1", "a2", "a3", "b1", "b2"], "{bodies:?}");
    assert_eq!(&bodies[5..], ["a2", "a3"], "{bodies:?}");
    let first_retry = recorder.batches.lock().unwrap()[1].clone();
    assert_eq!(first_retry[0]["attributes"]["ApproximateReceiveCount"], "2");
    for _ in 0..100 {
        if fixture.visible("steps.fifo").await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the queue did not empty");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_keeps_failing_is_redriven_to_the_dead_letter_queue() {
    let fixture = Fixture::new();
    fixture.create("dead", &[]).await;
    let policy = json!({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:dead", "maxReceiveCount": 2});
    fixture
        .create(
            "work",
            &[("VisibilityTimeout", "1"), ("RedrivePolicy", &policy.to_string())],
        )
        .await;
    fixture.send("work", "fine", None).await;
    fixture.send("work", "poison", None).await;
    let recorder = Recorder::new(|records| {
        let failures: Vec<Value> = records
            .iter()
            .filter(|record| record["body"] == "poison")
            .map(|record| json!({"itemIdentifier": record["messageId"]}))
            .collect();
        Ok(json!({ "batchItemFailures": failures }))
    });
    let mut declared = mapping("work");
    declared.report_batch_item_failures = true;
    let _sources = fixture.run(recorder.clone(), declared, false);
    let queues = fixture.queues.clone();
    let mut dead = Vec::new();
    for _ in 0..200 {
        let request = ReceiveMessage {
            max_messages: Some(10),
            ..ReceiveMessage::default()
        };
        dead = queues.receive_message("dead", &request).await.unwrap();
        if !dead.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, "poison");
    let bodies = recorder.bodies();
    assert_eq!(bodies.iter().filter(|body| *body == "poison").count(), 2, "{bodies:?}");
    assert_eq!(bodies.iter().filter(|body| *body == "fine").count(), 1, "{bodies:?}");
    assert_eq!(fixture.visible("work").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_invocation_returns_the_whole_batch() {
    let fixture = Fixture::new();
    fixture.create("retry", &[("VisibilityTimeout", "1")]).await;
    fixture.send("retry", "x", None).await;
    let calls = Arc::new(Mutex::new(0));
    let recorder = {
        let calls = calls.clone();
        Recorder::new(move |_| {
            let mut calls = calls.lock().unwrap();
            *calls += 1;
            if *calls == 1 {
                Err("boom".into())
            } else {
                // Not a partial batch response, but the mapping does not report failures.
                Ok(json!("done"))
            }
        })
    };
    let _sources = fixture.run(recorder.clone(), mapping("retry"), false);
    until(|| recorder.bodies().len() >= 2).await;
    let batches = recorder.batches.lock().unwrap().clone();
    assert_eq!(batches[1][0]["attributes"]["ApproximateReceiveCount"], "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batching_window_gathers_more_than_ten() {
    let fixture = Fixture::new();
    fixture.create("bulk", &[]).await;
    for index in 0..25 {
        fixture.send("bulk", &format!("m{index}"), None).await;
    }
    let recorder = Recorder::new(|_| Ok(Value::Null));
    let mut declared = mapping("bulk");
    declared.batch_size = Some(25);
    declared.maximum_batching_window_seconds = Some(1);
    declared.maximum_concurrency = Some(2);
    let _sources = fixture.run(recorder.clone(), declared, false);
    until(|| recorder.bodies().len() >= 25).await;
    let sizes: Vec<usize> = recorder.batches.lock().unwrap().iter().map(Vec::len).collect();
    assert!(sizes.iter().any(|size| *size > 10), "{sizes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_machine_gets_one_execution_per_batch_named_after_it() {
    let fixture = Fixture::new();
    fixture.create("starts", &[]).await;
    fixture.send("starts", "one", None).await;
    let recorder = Recorder::new(|_| Ok(Value::Null));
    let mut declared = mapping("starts");
    declared.function = None;
    declared.state_machine = Some("arn:aws:states:us-east-1:123456789012:stateMachine:m".into());
    let _sources = fixture.run(recorder.clone(), declared, false);
    until(|| !recorder.executions.lock().unwrap().is_empty()).await;
    let (arn, name, input) = recorder.executions.lock().unwrap()[0].clone();
    assert_eq!(arn, "arn:aws:states:us-east-1:123456789012:stateMachine:m");
    assert!(name.starts_with("feed-"), "{name}");
    assert!(name.len() <= 80);
    assert_eq!(input[0]["body"], "one");
    assert_eq!(input[0]["eventSource"], "aws:sqs");
}

#[test]
fn execution_names_depend_on_the_messages_only() {
    let message = |id: &str| sluice_store::queues::StoredMessage {
        receipt: sluice_store::queues::Receipt {
            message: 1,
            receive_count: 1,
        },
        message_id: id.into(),
        body: String::new(),
        attributes: String::new(),
        system_attributes: String::new(),
        md5_of_body: String::new(),
        md5_of_attributes: None,
        group_id: None,
        deduplication_id: None,
        sequence_number: None,
        sent_millis: 0,
        first_received_millis: None,
        receive_count: 1,
    };
    let once = poller::execution_name("feed", &[message("a"), message("b")]);
    let mut again = message("a");
    again.receive_count = 3;
    assert_eq!(once, poller::execution_name("feed", &[again, message("b")]));
    assert_ne!(once, poller::execution_name("feed", &[message("a")]));
    let long = "m".repeat(64);
    assert_eq!(poller::execution_name(&long, &[message("a")]).len(), 80);
}
