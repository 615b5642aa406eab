//! The semantics end to end on a real SQLite store, real queues and in-process functions, with a
//! clock the tests move and the delivery loop stepped by hand.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use sluice_engine::{Engine, Function, Functions};
use sluice_queues::{Queues, ReceiveMessage};
use sluice_store_sqlite::SqliteStore;

use crate::{Clock, Code, Error, MessageAttribute, Options, PublishEntry, PublishRequest, SubscribeRequest, Topics};

const START: i64 = 1_700_000_000_000;

struct Fixture {
    topics: Topics,
    queues: Queues,
    functions: Functions,
    time: Arc<AtomicI64>,
    _folder: tempfile::TempDir,
}

fn pairs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

impl Fixture {
    fn new() -> Fixture {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let store = Arc::new(SqliteStore::open(&folder.path().join("sluice.db")).expect("the store opens"));
        let time = Arc::new(AtomicI64::new(START));
        let now = {
            let time = time.clone();
            move || time.load(Ordering::SeqCst)
        };
        let queues = Queues::new(
            store.clone(),
            sluice_queues::Options::default(),
            sluice_queues::Clock::from_fn(now.clone()),
        );
        let functions = Functions::default();
        let engine = Engine::new(store.clone(), functions.clone(), sluice_engine::Options::default());
        let topics = Topics::new(store, queues.clone(), engine, Options::default(), Clock::from_fn(now));
        Fixture {
            topics,
            queues,
            functions,
            time,
            _folder: folder,
        }
    }

    fn advance(&self, millis: i64) {
        self.time.fetch_add(millis, Ordering::SeqCst);
    }

    async fn topic(&self, name: &str, attributes: &[(&str, &str)]) -> String {
        self.topics
            .create_topic(name, &pairs(attributes))
            .await
            .expect("the topic is created")
    }

    async fn queue(&self, name: &str, attributes: &[(&str, &str)]) -> String {
        self.queues
            .create_queue(name, &pairs(attributes), &BTreeMap::new())
            .await
            .expect("the queue is created");
        self.queues.arn(name)
    }

    async fn subscribe(&self, topic_arn: &str, protocol: &str, endpoint: &str, attributes: &[(&str, &str)]) -> String {
        self.topics
            .subscribe(SubscribeRequest {
                topic_arn: topic_arn.to_owned(),
                protocol: protocol.to_owned(),
                endpoint: Some(endpoint.to_owned()),
                attributes: pairs(attributes),
                return_subscription_arn: true,
            })
            .await
            .expect("subscribed")
            .subscription_arn
    }

    async fn publish(&self, request: PublishRequest) -> crate::Published {
        self.topics.publish(request).await.expect("published")
    }

    async fn deliver(&self) {
        while self.topics.deliver_due().await.expect("delivered") > 0 {}
    }

    async fn receive(&self, queue: &str) -> Vec<sluice_queues::Message> {
        let request = ReceiveMessage {
            max_messages: Some(10),
            message_attribute_names: vec!["All".to_owned()],
            ..ReceiveMessage::default()
        };
        let messages = self.queues.receive_message(queue, &request).await.expect("received");
        for message in &messages {
            self.queues
                .delete_message(queue, &message.receipt_handle)
                .await
                .expect("deleted");
        }
        messages
    }
}

fn message(topic_arn: &str, text: &str) -> PublishRequest {
    PublishRequest {
        topic_arn: Some(topic_arn.to_owned()),
        message: Some(text.to_owned()),
        ..PublishRequest::default()
    }
}

fn attribute(data_type: &str, value: &str) -> MessageAttribute {
    MessageAttribute {
        data_type: data_type.to_owned(),
        string_value: Some(value.to_owned()),
        binary_value: None,
    }
}

fn code(error: Error) -> (Code, String) {
    let message = error.to_string();
    (error.code(), message)
}

#[tokio::test]
async fn topics_are_created_once_listed_and_deleted() {
    let fixture = Fixture::new();
    let arn = fixture.topic("orders", &[("DisplayName", "Orders")]).await;
    assert_eq!(arn, "arn:aws:sns:us-east-1:123456789012:orders");
    assert_eq!(fixture.topic("orders", &[]).await, arn, "idempotent by name");
    let refused = fixture
        .topics
        .create_topic("orders", &pairs(&[("DisplayName", "Other")]))
        .await
        .unwrap_err();
    assert_eq!(
        code(refused),
        (
            Code::InvalidParameter,
            "Invalid parameter: Attributes Reason: Topic already exists with different attributes".to_owned()
        )
    );
    let bad = fixture
        .topics
        .create_topic("bad name", &BTreeMap::new())
        .await
        .unwrap_err();
    assert_eq!(
        code(bad),
        (Code::InvalidParameter, "Invalid parameter: Topic Name".to_owned())
    );
    let attributes = fixture.topics.get_topic_attributes(&arn).await.expect("attributes");
    assert_eq!(attributes["DisplayName"], "Orders");
    assert_eq!(attributes["SubscriptionsConfirmed"], "0");
    assert!(attributes["Policy"].contains("__default_policy_ID"));
    fixture
        .topics
        .set_topic_attribute(&arn, "DisplayName", Some("Renamed"))
        .await
        .expect("set");
    assert_eq!(
        fixture.topics.get_topic_attributes(&arn).await.unwrap()["DisplayName"],
        "Renamed"
    );
    for index in 0..120 {
        fixture.topic(&format!("t{index:03}"), &[]).await;
    }
    let first = fixture.topics.list_topics(None).await.expect("a page");
    assert_eq!(first.arns.len(), 100);
    let second = fixture
        .topics
        .list_topics(first.next_token.as_deref())
        .await
        .expect("the next page");
    assert_eq!((second.arns.len(), second.next_token), (21, None));
    fixture.topics.delete_topic(&arn).await.expect("deleted");
    let gone = fixture.topics.get_topic_attributes(&arn).await.unwrap_err();
    assert_eq!(code(gone), (Code::NotFound, "Topic does not exist".to_owned()));
}

#[tokio::test]
async fn a_queue_receives_the_envelope_or_the_raw_message() {
    let fixture = Fixture::new();
    let topic = fixture.topic("orders", &[]).await;
    let wrapped = fixture.queue("wrapped", &[]).await;
    let raw = fixture.queue("raw", &[]).await;
    let wrapped_subscription = fixture.subscribe(&topic, "sqs", &wrapped, &[]).await;
    fixture
        .subscribe(&topic, "sqs", &raw, &[("RawMessageDelivery", "true")])
        .await;
    let mut request = message(&topic, "hello");
    request.subject = Some("Greeting".into());
    request.attributes.insert("kind".into(), attribute("String", "book"));
    let published = fixture.publish(request).await;
    fixture.deliver().await;
    let received = fixture.receive("wrapped").await;
    let envelope: Value = serde_json::from_str(&received[0].body).expect("an envelope");
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["MessageId"], published.message_id.as_str());
    assert_eq!(envelope["TopicArn"], topic.as_str());
    assert_eq!(envelope["Subject"], "Greeting");
    assert_eq!(envelope["Message"], "hello");
    assert_eq!(envelope["MessageAttributes"]["kind"]["Value"], "book");
    assert!(
        envelope["UnsubscribeURL"]
            .as_str()
            .unwrap()
            .contains("Action=Unsubscribe")
    );
    assert!(received[0].message_attributes.is_empty());
    let raw_received = fixture.receive("raw").await;
    assert_eq!(raw_received[0].body, "hello");
    assert_eq!(
        raw_received[0].message_attributes["kind"].string_value.as_deref(),
        Some("book")
    );
    let attributes = fixture
        .topics
        .get_subscription_attributes(&wrapped_subscription)
        .await
        .expect("attributes");
    assert_eq!(attributes["Protocol"], "sqs");
    assert_eq!(attributes["RawMessageDelivery"], "false");
    assert_eq!(attributes["PendingConfirmation"], "false");
}

#[tokio::test]
async fn filter_policies_choose_the_subscriptions() {
    let fixture = Fixture::new();
    let topic = fixture.topic("orders", &[]).await;
    let books = fixture.queue("books", &[]).await;
    let big = fixture.queue("big", &[]).await;
    fixture
        .subscribe(
            &topic,
            "sqs",
            &books,
            &[("FilterPolicy", r#"{"kind":["book"]}"#), ("RawMessageDelivery", "true")],
        )
        .await;
    let subscription = fixture
        .subscribe(
            &topic,
            "sqs",
            &big,
            &[
                ("FilterPolicy", r#"{"order":{"total":[{"numeric":[">",100]}]}}"#),
                ("FilterPolicyScope", "MessageBody"),
                ("RawMessageDelivery", "true"),
            ],
        )
        .await;
    let mut book = message(&topic, r#"{"order":{"total":5}}"#);
    book.attributes.insert("kind".into(), attribute("String", "book"));
    fixture.publish(book).await;
    let mut film = message(&topic, r#"{"order":{"total":500}}"#);
    film.attributes.insert("kind".into(), attribute("String", "film"));
    fixture.publish(film).await;
    fixture.deliver().await;
    let books_received: Vec<String> = fixture.receive("books").await.into_iter().map(|m| m.body).collect();
    assert_eq!(books_received, [r#"{"order":{"total":5}}"#]);
    let big_received: Vec<String> = fixture.receive("big").await.into_iter().map(|m| m.body).collect();
    assert_eq!(big_received, [r#"{"order":{"total":500}}"#]);
    let refused = fixture
        .topics
        .set_subscription_attribute(&subscription, "FilterPolicyScope", Some("MessageAttributes"))
        .await
        .unwrap_err();
    let (refused_code, refused_message) = code(refused);
    assert_eq!(refused_code, Code::InvalidParameter);
    assert!(
        refused_message.starts_with("Invalid parameter: FilterPolicy: "),
        "{refused_message}"
    );
}

#[tokio::test]
async fn fifo_topics_keep_group_order_and_deduplicate() {
    let fixture = Fixture::new();
    let topic = fixture
        .topic(
            "orders.fifo",
            &[("FifoTopic", "true"), ("ContentBasedDeduplication", "true")],
        )
        .await;
    let queue = fixture
        .queue(
            "orders.fifo",
            &[("FifoQueue", "true"), ("ContentBasedDeduplication", "true")],
        )
        .await;
    let standard = fixture.queue("standard", &[]).await;
    let refused = fixture
        .topics
        .subscribe(SubscribeRequest {
            topic_arn: topic.clone(),
            protocol: "sqs".into(),
            endpoint: Some(standard),
            ..SubscribeRequest::default()
        })
        .await
        .unwrap_err();
    assert!(code(refused).1.contains("FIFO SQS Queues"));
    fixture
        .subscribe(&topic, "sqs", &queue, &[("RawMessageDelivery", "true")])
        .await;
    let missing_group = fixture.topics.publish(message(&topic, "x")).await.unwrap_err();
    assert!(code(missing_group).1.contains("MessageGroupId"));
    let mut numbers = Vec::new();
    for index in 0..6 {
        let mut request = message(&topic, &format!("m{index}"));
        request.group_id = Some(format!("g{}", index % 2));
        numbers.push(
            fixture
                .publish(request)
                .await
                .sequence_number
                .expect("a sequence number"),
        );
    }
    let mut again = message(&topic, "m0");
    again.group_id = Some("g0".into());
    let duplicate = fixture.publish(again).await;
    assert_eq!(duplicate.sequence_number.as_deref(), Some(numbers[0].as_str()));
    assert!(numbers.windows(2).all(|pair| pair[0] < pair[1]));
    fixture.deliver().await;
    let mut bodies = Vec::new();
    loop {
        let received = fixture.receive("orders.fifo").await;
        if received.is_empty() {
            break;
        }
        bodies.extend(received.into_iter().map(|message| message.body));
    }
    let group = |parity: usize| -> Vec<String> {
        bodies
            .iter()
            .filter(|body| body[1..].parse::<usize>().unwrap() % 2 == parity)
            .cloned()
            .collect()
    };
    assert_eq!(group(0), ["m0", "m2", "m4"]);
    assert_eq!(group(1), ["m1", "m3", "m5"]);
    fixture.advance(5 * 60 * 1000 + 1);
    let mut later = message(&topic, "m0");
    later.group_id = Some("g0".into());
    let after_window = fixture.publish(later).await;
    assert_ne!(after_window.message_id, duplicate.message_id, "the window has passed");
}

#[tokio::test]
async fn undeliverable_messages_go_to_the_dead_letter_queue() {
    let fixture = Fixture::new();
    let topic = fixture.topic("orders", &[]).await;
    let dead = fixture.queue("dead", &[]).await;
    let policy = format!(r#"{{"deadLetterTargetArn":"{dead}"}}"#);
    fixture
        .subscribe(
            &topic,
            "sqs",
            "arn:aws:sqs:us-east-1:123456789012:missing",
            &[("RedrivePolicy", &policy)],
        )
        .await;
    fixture.publish(message(&topic, "lost?")).await;
    fixture.deliver().await;
    let received = fixture.receive("dead").await;
    let envelope: Value = serde_json::from_str(&received[0].body).expect("the envelope");
    assert_eq!(envelope["Message"], "lost?");
}

#[tokio::test]
async fn a_function_gets_the_records_event() {
    let fixture = Fixture::new();
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let recorder = seen.clone();
    fixture.functions.register(
        "record",
        Function::in_process(move |event| {
            let recorder = recorder.clone();
            async move {
                recorder.lock().unwrap().push(event);
                Ok(Value::Null)
            }
        }),
    );
    let topic = fixture.topic("orders", &[]).await;
    let subscription = fixture
        .subscribe(
            &topic,
            "lambda",
            "arn:aws:lambda:us-east-1:123456789012:function:record",
            &[],
        )
        .await;
    fixture.publish(message(&topic, "to a function")).await;
    fixture.deliver().await;
    let events = seen.lock().unwrap().clone();
    assert_eq!(events.len(), 1);
    let record = &events[0]["Records"][0];
    assert_eq!(record["EventSubscriptionArn"], subscription.as_str());
    assert_eq!(record["Sns"]["Message"], "to a function");
    assert_eq!(record["Sns"]["Type"], "Notification");
}

#[tokio::test]
async fn batches_are_checked_whole_then_by_entry() {
    let fixture = Fixture::new();
    let topic = fixture.topic("orders", &[]).await;
    let entry = |id: &str, text: &str| PublishEntry {
        id: id.to_owned(),
        request: PublishRequest {
            message: Some(text.to_owned()),
            ..PublishRequest::default()
        },
    };
    let empty = fixture.topics.publish_batch(&topic, vec![]).await.unwrap_err();
    assert_eq!(empty.code(), Code::EmptyBatchRequest);
    let twice = fixture
        .topics
        .publish_batch(&topic, vec![entry("a", "x"), entry("a", "y")])
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::BatchEntryIdsNotDistinct);
    let many: Vec<PublishEntry> = (0..11).map(|index| entry(&format!("e{index}"), "x")).collect();
    let too_many = fixture.topics.publish_batch(&topic, many).await.unwrap_err();
    assert_eq!(too_many.code(), Code::TooManyEntriesInBatchRequest);
    let outcome = fixture
        .topics
        .publish_batch(&topic, vec![entry("ok", "x"), entry("empty", "")])
        .await
        .expect("a batch");
    assert_eq!(outcome.successful.len(), 1);
    assert_eq!(outcome.failed[0].id, "empty");
    assert_eq!(outcome.failed[0].message, "Invalid parameter: Empty message");
}
