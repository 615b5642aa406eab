//! The semantics, on a real SQLite store in a temporary folder, with a clock the tests move.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use sluice_store_sqlite::SqliteStore;

use crate::{
    BatchEntry, ChangeVisibility, Clock, Code, Error, MessageAttributeValue, Options, Queues, ReceiveMessage,
    SendMessage,
};

const START: i64 = 1_700_000_000_000;

struct Fixture {
    queues: Queues,
    time: Arc<AtomicI64>,
    _folder: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let store = SqliteStore::open(&folder.path().join("sluice.db")).expect("the store opens");
        let time = Arc::new(AtomicI64::new(START));
        let clock = {
            let time = time.clone();
            Clock::from_fn(move || time.load(Ordering::SeqCst))
        };
        Fixture {
            queues: Queues::new(Arc::new(store), Options::default(), clock),
            time,
            _folder: folder,
        }
    }

    fn advance(&self, millis: i64) {
        self.time.fetch_add(millis, Ordering::SeqCst);
    }

    async fn create(&self, name: &str, attributes: &[(&str, &str)]) {
        let attributes = attributes
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        self.queues
            .create_queue(name, &attributes, &BTreeMap::new())
            .await
            .expect("the queue is created");
    }

    async fn send(&self, queue: &str, body: &str, group: Option<&str>) -> String {
        let message = SendMessage {
            body: body.to_owned(),
            group_id: group.map(str::to_owned),
            ..SendMessage::default()
        };
        self.queues
            .send_message(queue, message)
            .await
            .expect("a send")
            .message_id
    }

    async fn receive(&self, queue: &str, max: i64) -> Vec<crate::Message> {
        let request = ReceiveMessage {
            max_messages: Some(max),
            wait_seconds: Some(0),
            system_attribute_names: vec!["All".into()],
            ..ReceiveMessage::default()
        };
        self.queues.receive_message(queue, &request).await.expect("a receive")
    }
}

fn code(error: Error) -> Code {
    error.code().unwrap_or_else(|| panic!("not an SQS error: {error}"))
}

#[tokio::test]
async fn messages_come_back_when_their_visibility_ends() {
    let fixture = Fixture::new();
    fixture.create("work", &[("VisibilityTimeout", "10")]).await;
    fixture.send("work", "job", None).await;
    let first = fixture.receive("work", 10).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].attributes["ApproximateReceiveCount"], "1");
    assert!(fixture.receive("work", 10).await.is_empty());
    fixture.advance(10_000);
    let second = fixture.receive("work", 10).await;
    assert_eq!(second[0].attributes["ApproximateReceiveCount"], "2");
    assert_eq!(
        second[0].attributes["ApproximateFirstReceiveTimestamp"],
        START.to_string()
    );
    // The first handle is stale: deleting with it succeeds and deletes nothing.
    fixture
        .queues
        .delete_message("work", &first[0].receipt_handle)
        .await
        .unwrap();
    fixture.advance(10_000);
    let third = fixture.receive("work", 10).await;
    assert_eq!(third.len(), 1);
    fixture
        .queues
        .delete_message("work", &third[0].receipt_handle)
        .await
        .unwrap();
    fixture.advance(10_000);
    assert!(fixture.receive("work", 10).await.is_empty());
    let error = fixture.queues.delete_message("work", "not-a-handle").await.unwrap_err();
    assert_eq!(code(error), Code::ReceiptHandleIsInvalid);
}

#[tokio::test]
async fn visibility_can_be_changed_while_in_flight() {
    let fixture = Fixture::new();
    fixture.create("vis", &[]).await;
    fixture.send("vis", "m", None).await;
    let handle = fixture.receive("vis", 1).await.remove(0).receipt_handle;
    let change = |timeout| ChangeVisibility {
        receipt_handle: handle.clone(),
        visibility_timeout: timeout,
    };
    fixture
        .queues
        .change_message_visibility("vis", change(0))
        .await
        .unwrap();
    let again = fixture.receive("vis", 1).await;
    assert_eq!(again.len(), 1);
    let error = fixture
        .queues
        .change_message_visibility("vis", change(5))
        .await
        .unwrap_err();
    assert_eq!(code(error), Code::InvalidParameterValue, "the first handle is stale");
    let fresh = ChangeVisibility {
        receipt_handle: again[0].receipt_handle.clone(),
        visibility_timeout: 5,
    };
    fixture
        .queues
        .change_message_visibility("vis", fresh.clone())
        .await
        .unwrap();
    fixture.advance(5_000);
    let error = fixture
        .queues
        .change_message_visibility("vis", fresh)
        .await
        .unwrap_err();
    assert_eq!(code(error), Code::MessageNotInflight);
}

#[tokio::test]
async fn queues_are_idempotent_for_the_same_attributes() {
    let fixture = Fixture::new();
    fixture.create("same", &[("DelaySeconds", "5")]).await;
    fixture.create("same", &[("DelaySeconds", "5")]).await;
    fixture.create("same", &[]).await;
    let attributes = BTreeMap::from([("DelaySeconds".to_owned(), "6".to_owned())]);
    let error = fixture
        .queues
        .create_queue("same", &attributes, &BTreeMap::new())
        .await
        .unwrap_err();
    assert_eq!(code(error), Code::QueueNameExists);
    let fifo = BTreeMap::from([("FifoQueue".to_owned(), "true".to_owned())]);
    let error = fixture
        .queues
        .create_queue("plain", &fifo, &BTreeMap::new())
        .await
        .unwrap_err();
    assert_eq!(code(error), Code::InvalidParameterValue);
    let error = fixture
        .queues
        .create_queue("x.fifo", &BTreeMap::new(), &BTreeMap::new())
        .await
        .unwrap_err();
    assert_eq!(code(error), Code::InvalidParameterValue);
    let error = fixture
        .queues
        .send_message(
            "missing",
            SendMessage {
                body: "b".into(),
                ..SendMessage::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(code(error), Code::QueueDoesNotExist);
    let described = fixture
        .queues
        .get_queue_attributes("same", &["All".to_owned()])
        .await
        .unwrap();
    assert_eq!(described.attributes["DelaySeconds"], "5");
    assert_eq!(
        described.attributes["QueueArn"],
        "arn:aws:sqs:us-east-1:123456789012:same"
    );
    assert_eq!(described.attributes["CreatedTimestamp"], (START / 1000).to_string());
}

#[tokio::test]
async fn delays_hold_messages_back() {
    let fixture = Fixture::new();
    fixture.create("slow", &[("DelaySeconds", "30")]).await;
    fixture.send("slow", "queue-delay", None).await;
    let quick = SendMessage {
        body: "no-delay".into(),
        delay_seconds: Some(0),
        ..SendMessage::default()
    };
    fixture.queues.send_message("slow", quick).await.unwrap();
    let counts = fixture
        .queues
        .get_queue_attributes(
            "slow",
            &[
                "ApproximateNumberOfMessagesDelayed".into(),
                "ApproximateNumberOfMessages".into(),
            ],
        )
        .await
        .unwrap();
    assert_eq!(counts.attributes["ApproximateNumberOfMessagesDelayed"], "1");
    assert_eq!(counts.attributes["ApproximateNumberOfMessages"], "1");
    assert_eq!(fixture.receive("slow", 10).await[0].body, "no-delay");
    fixture.advance(30_000);
    assert_eq!(fixture.receive("slow", 10).await[0].body, "queue-delay");
}

#[tokio::test]
async fn fifo_deduplicates_within_five_minutes() {
    let fixture = Fixture::new();
    fixture
        .create(
            "dedup.fifo",
            &[("FifoQueue", "true"), ("ContentBasedDeduplication", "true")],
        )
        .await;
    let first = fixture.send("dedup.fifo", "same body", Some("g")).await;
    fixture.advance(60_000);
    let second = fixture.send("dedup.fifo", "same body", Some("g")).await;
    assert_eq!(first, second, "a duplicate answers the original id");
    let explicit = SendMessage {
        body: "same body".into(),
        group_id: Some("g".into()),
        deduplication_id: Some("other".into()),
        ..SendMessage::default()
    };
    let third = fixture.queues.send_message("dedup.fifo", explicit).await.unwrap();
    assert_ne!(third.message_id, first);
    let received = fixture.receive("dedup.fifo", 10).await;
    assert_eq!(received.len(), 2, "the duplicate stored nothing");
    assert_eq!(
        received[0].attributes["MessageDeduplicationId"].len(),
        64,
        "the body's SHA-256"
    );
    for message in &received {
        fixture
            .queues
            .delete_message("dedup.fifo", &message.receipt_handle)
            .await
            .unwrap();
    }
    fixture.advance(5 * 60_000);
    let fourth = fixture.send("dedup.fifo", "same body", Some("g")).await;
    assert_ne!(fourth, first, "after the window the body is new again");

    fixture.create("strict.fifo", &[("FifoQueue", "true")]).await;
    let no_id = SendMessage {
        body: "b".into(),
        group_id: Some("g".into()),
        ..SendMessage::default()
    };
    assert_eq!(
        code(fixture.queues.send_message("strict.fifo", no_id).await.unwrap_err()),
        Code::InvalidParameterValue
    );
    let no_group = SendMessage {
        body: "b".into(),
        deduplication_id: Some("d".into()),
        ..SendMessage::default()
    };
    assert_eq!(
        code(fixture.queues.send_message("strict.fifo", no_group).await.unwrap_err()),
        Code::MissingParameter
    );
}

#[tokio::test]
async fn redrive_moves_a_message_on_the_receive_that_would_exceed_the_count() {
    let fixture = Fixture::new();
    fixture.create("dlq", &[]).await;
    let policy = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq","maxReceiveCount":"2"}"#;
    fixture
        .create("source", &[("RedrivePolicy", policy), ("VisibilityTimeout", "1")])
        .await;
    let id = fixture.send("source", "poison", None).await;
    for _ in 0..2 {
        assert_eq!(fixture.receive("source", 1).await.len(), 1);
        fixture.advance(1_000);
    }
    assert!(fixture.receive("source", 1).await.is_empty());
    let dead = fixture.receive("dlq", 1).await;
    assert_eq!(
        (dead[0].message_id.as_str(), dead[0].body.as_str()),
        (id.as_str(), "poison")
    );
    let sources = fixture.queues.list_dead_letter_source_queues("dlq").await.unwrap();
    assert_eq!(sources, ["source"]);
    let missing = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:nowhere","maxReceiveCount":2}"#;
    let attributes = BTreeMap::from([("RedrivePolicy".to_owned(), missing.to_owned())]);
    let error = fixture
        .queues
        .set_queue_attributes("source", &attributes)
        .await
        .unwrap_err();
    assert_eq!(code(error), Code::InvalidParameterValue);
}

#[tokio::test]
async fn message_attributes_are_filtered_and_digested() {
    let fixture = Fixture::new();
    fixture.create("attrs", &[]).await;
    let string = |value: &str| MessageAttributeValue {
        data_type: "String".into(),
        string_value: Some(value.into()),
        ..MessageAttributeValue::default()
    };
    let attributes = BTreeMap::from([
        ("trace.id".to_owned(), string("1")),
        ("colour".to_owned(), string("red")),
    ]);
    let message = SendMessage {
        body: "b".into(),
        attributes: attributes.clone(),
        ..SendMessage::default()
    };
    let sent = fixture.queues.send_message("attrs", message).await.unwrap();
    assert_eq!(sent.md5_of_attributes, crate::md5_of_attributes(&attributes));
    let request = ReceiveMessage {
        message_attribute_names: vec!["trace.*".into()],
        ..ReceiveMessage::default()
    };
    let received = fixture.queues.receive_message("attrs", &request).await.unwrap();
    assert_eq!(received[0].message_attributes.keys().collect::<Vec<_>>(), ["trace.id"]);
    assert!(received[0].attributes.is_empty());
}

#[tokio::test]
async fn batches_check_their_shape_and_fail_entries_alone() {
    let fixture = Fixture::new();
    fixture.create("batch", &[]).await;
    let entry = |id: &str, body: &str| BatchEntry {
        id: id.to_owned(),
        entry: SendMessage {
            body: body.to_owned(),
            ..SendMessage::default()
        },
    };
    let outcome = fixture
        .queues
        .send_message_batch(
            "batch",
            vec![entry("a", "ok"), entry("b", "bad\u{0}"), entry("c", "fine")],
        )
        .await
        .unwrap();
    assert_eq!(
        outcome.successful.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
        ["a", "c"]
    );
    assert_eq!(outcome.failed[0].id, "b");
    assert_eq!(outcome.failed[0].code, Code::InvalidMessageContents);
    let error = fixture
        .queues
        .send_message_batch("batch", vec![entry("a", "1"), entry("a", "2")])
        .await
        .unwrap_err();
    assert_eq!(code(error), Code::BatchEntryIdsNotDistinct);
    let error = fixture
        .queues
        .send_message_batch("batch", Vec::new())
        .await
        .unwrap_err();
    assert_eq!(code(error), Code::EmptyBatchRequest);
    let many = (0..11).map(|index| entry(&format!("e{index}"), "x")).collect();
    assert_eq!(
        code(fixture.queues.send_message_batch("batch", many).await.unwrap_err()),
        Code::TooManyEntriesInBatchRequest
    );
    let error = fixture
        .queues
        .send_message_batch("batch", vec![entry("bad id", "x")])
        .await
        .unwrap_err();
    assert_eq!(code(error), Code::InvalidBatchEntryId);
    let big = "x".repeat(600_000);
    let error = fixture
        .queues
        .send_message_batch("batch", vec![entry("a", &big), entry("b", &big)])
        .await
        .unwrap_err();
    assert_eq!(code(error), Code::BatchRequestTooLong);
}

#[tokio::test]
async fn purges_are_spaced_a_minute_apart() {
    let fixture = Fixture::new();
    fixture.create("purge", &[]).await;
    fixture.send("purge", "m", None).await;
    fixture.queues.purge_queue("purge").await.unwrap();
    assert!(fixture.receive("purge", 10).await.is_empty());
    assert_eq!(
        code(fixture.queues.purge_queue("purge").await.unwrap_err()),
        Code::PurgeQueueInProgress
    );
    fixture.advance(60_000);
    fixture.queues.purge_queue("purge").await.unwrap();
}

#[tokio::test]
async fn queues_list_by_prefix_in_pages() {
    let fixture = Fixture::new();
    for name in ["a1", "a2", "a3", "b1"] {
        fixture.create(name, &[]).await;
    }
    let page = fixture.queues.list_queues(Some("a"), Some(2), None).await.unwrap();
    assert_eq!(page.names, ["a1", "a2"]);
    let rest = fixture
        .queues
        .list_queues(Some("a"), Some(2), page.next_token.as_deref())
        .await
        .unwrap();
    assert_eq!((rest.names, rest.next_token), (vec!["a3".to_owned()], None));
    let all = fixture.queues.list_queues(None, None, None).await.unwrap();
    assert_eq!((all.names.len(), all.next_token), (4, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_polls_wake_on_send() {
    let folder = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&folder.path().join("sluice.db")).unwrap();
    let queues = Queues::new(Arc::new(store), Options::default(), Clock::system());
    queues
        .create_queue("poll", &BTreeMap::new(), &BTreeMap::new())
        .await
        .unwrap();
    let receiver = {
        let queues = queues.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let request = ReceiveMessage {
                wait_seconds: Some(20),
                ..ReceiveMessage::default()
            };
            let got = queues.receive_message("poll", &request).await.unwrap();
            (got, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    queues
        .send_message(
            "poll",
            SendMessage {
                body: "wake".into(),
                ..SendMessage::default()
            },
        )
        .await
        .unwrap();
    let (got, waited) = receiver.await.unwrap();
    assert_eq!(got[0].body, "wake");
    assert!(
        waited < Duration::from_secs(5),
        "woken by the send, not the timeout: {waited:?}"
    );

    // A delayed message wakes its long poll when it becomes visible.
    let delayed = SendMessage {
        body: "later".into(),
        delay_seconds: Some(1),
        ..SendMessage::default()
    };
    queues.send_message("poll", delayed).await.unwrap();
    let started = std::time::Instant::now();
    let request = ReceiveMessage {
        wait_seconds: Some(10),
        ..ReceiveMessage::default()
    };
    let got = queues.receive_message("poll", &request).await.unwrap();
    assert_eq!(got[0].body, "later");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

/// Several receivers take FIFO messages of many groups at once and delete what they took; each
/// group is seen in order and each message once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifo_order_holds_under_concurrent_receivers() {
    const GROUPS: usize = 8;
    const PER_GROUP: usize = 40;
    let folder = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&folder.path().join("sluice.db")).unwrap();
    let queues = Queues::new(Arc::new(store), Options::default(), Clock::system());
    let attributes = BTreeMap::from([
        ("FifoQueue".to_owned(), "true".to_owned()),
        ("ContentBasedDeduplication".to_owned(), "true".to_owned()),
    ]);
    queues
        .create_queue("order.fifo", &attributes, &BTreeMap::new())
        .await
        .unwrap();
    for index in 0..PER_GROUP {
        let entries = (0..GROUPS)
            .map(|group| BatchEntry {
                id: format!("g{group}"),
                entry: SendMessage {
                    body: format!("{group}:{index}"),
                    group_id: Some(format!("group-{group}")),
                    ..SendMessage::default()
                },
            })
            .collect();
        let outcome = queues.send_message_batch("order.fifo", entries).await.unwrap();
        assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    }
    let seen = Arc::new(std::sync::Mutex::new(Vec::<(usize, usize)>::new()));
    let mut receivers = Vec::new();
    for _ in 0..4 {
        let (queues, seen) = (queues.clone(), seen.clone());
        receivers.push(tokio::spawn(async move {
            let request = ReceiveMessage {
                max_messages: Some(3),
                wait_seconds: Some(1),
                ..ReceiveMessage::default()
            };
            loop {
                let got = queues.receive_message("order.fifo", &request).await.unwrap();
                if got.is_empty() {
                    return;
                }
                for message in got {
                    let (group, index) = message.body.split_once(':').unwrap();
                    // Record before the delete: the next message of the group can be received
                    // only after this delete.
                    seen.lock()
                        .unwrap()
                        .push((group.parse().unwrap(), index.parse().unwrap()));
                    queues
                        .delete_message("order.fifo", &message.receipt_handle)
                        .await
                        .unwrap();
                }
            }
        }));
    }
    for receiver in receivers {
        receiver.await.unwrap();
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), GROUPS * PER_GROUP, "each message once");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());
    let mut next: HashMap<usize, usize> = HashMap::new();
    for (group, index) in seen.iter() {
        let expected = next.entry(*group).or_default();
        assert_eq!(index, expected, "group {group} out of order");
        *expected += 1;
    }
}

#[tokio::test]
async fn message_operations_see_this_processs_queue_changes_at_once() {
    let fixture = Fixture::new();
    fixture.create("cached", &[("VisibilityTimeout", "300")]).await;
    fixture.send("cached", "first", None).await;
    assert_eq!(fixture.receive("cached", 1).await.len(), 1);
    // The queue's record is in the catalog now; a new visibility timeout applies to the next
    // receive all the same.
    let zero = BTreeMap::from([("VisibilityTimeout".to_owned(), "0".to_owned())]);
    fixture.queues.set_queue_attributes("cached", &zero).await.unwrap();
    fixture.send("cached", "second", None).await;
    let bodies: Vec<String> = fixture
        .receive("cached", 10)
        .await
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(bodies, ["second"]);
    assert_eq!(fixture.receive("cached", 10).await.len(), 1, "received again at once");

    // Deleted: refused at once; created again: a new queue, without the old messages.
    fixture.queues.delete_queue("cached").await.unwrap();
    let refused = fixture
        .queues
        .send_message(
            "cached",
            SendMessage {
                body: "late".into(),
                ..SendMessage::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(code(refused), Code::QueueDoesNotExist);
    fixture.create("cached", &[]).await;
    assert!(fixture.receive("cached", 10).await.is_empty());
    fixture.send("cached", "third", None).await;
    assert_eq!(fixture.receive("cached", 10).await[0].body, "third");
}

#[tokio::test]
async fn a_queue_deleted_by_another_process_is_refused_at_once() {
    let fixture = Fixture::new();
    fixture.create("shared", &[]).await;
    fixture.send("shared", "cached now", None).await;
    // Another server on the same store deletes the queue; this one still has it in its catalog.
    let other = Queues::new(fixture.queues.inner.store.clone(), Options::default(), Clock::system());
    other.delete_queue("shared").await.unwrap();
    let refused = fixture
        .queues
        .send_message(
            "shared",
            SendMessage {
                body: "late".into(),
                ..SendMessage::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(code(refused), Code::QueueDoesNotExist);
    let request = ReceiveMessage {
        wait_seconds: Some(0),
        ..ReceiveMessage::default()
    };
    let refused = fixture.queues.receive_message("shared", &request).await.unwrap_err();
    assert_eq!(code(refused), Code::QueueDoesNotExist);
}
