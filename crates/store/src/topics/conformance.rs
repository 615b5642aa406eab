//! The conformance suite of [`TopicStore`]: call [`run_all`] with a fresh store. Each check panics
//! with what it expected.

use std::collections::BTreeMap;

use crate::Error;
use crate::topics::{
    Deduplication, Publication, Published, SubscriptionRecord, TopicDelivery, TopicRecord, TopicStore,
};

/// Runs every check against `store`, which must be empty.
pub async fn run_all(store: &dyn TopicStore) {
    topics_are_idempotent_by_name(store).await;
    subscriptions_are_idempotent_by_endpoint(store).await;
    a_publish_writes_all_its_deliveries_or_none(store).await;
    fifo_publications_are_numbered_and_deduplicated(store).await;
    an_ordering_key_is_claimed_at_its_head_only(store).await;
    deleting_a_topic_removes_what_hangs_on_it(store).await;
}

fn topic(name: &str) -> TopicRecord {
    TopicRecord {
        name: name.to_owned(),
        arn: format!("arn:aws:sns:us-east-1:123456789012:{name}"),
        attributes: BTreeMap::from([("DisplayName".to_owned(), name.to_owned())]),
        created_millis: 1_000,
    }
}

fn subscription(topic: &str, id: &str, endpoint: &str) -> SubscriptionRecord {
    SubscriptionRecord {
        arn: format!("arn:aws:sns:us-east-1:123456789012:{topic}:{id}"),
        topic: topic.to_owned(),
        protocol: "sqs".to_owned(),
        endpoint: endpoint.to_owned(),
        attributes: BTreeMap::new(),
        pending: false,
        token: None,
        created_millis: 1_000,
    }
}

/// A delivery to `subscription_arn`, due at `due_millis`.
pub fn delivery(id: &str, subscription_arn: &str, ordering_key: Option<&str>, due_millis: i64) -> TopicDelivery {
    TopicDelivery {
        id: id.to_owned(),
        subscription_arn: subscription_arn.to_owned(),
        ordering_key: ordering_key.map(str::to_owned),
        payload: format!(r#"{{"id":"{id}"}}"#),
        sequence_number: None,
        published_millis: due_millis,
        due_millis,
        attempts: 0,
        lease_until_millis: 0,
    }
}

fn ids(deliveries: &[TopicDelivery]) -> Vec<&str> {
    deliveries.iter().map(|delivery| delivery.id.as_str()).collect()
}

async fn topics_are_idempotent_by_name(store: &dyn TopicStore) {
    let created = store.create_topic(topic("orders")).await.expect("a new topic");
    assert_eq!(created, topic("orders"));
    let mut again = topic("orders");
    again.attributes.insert("DisplayName".into(), "other".into());
    again.created_millis = 2_000;
    let answered = store.create_topic(again).await.expect("an existing topic");
    assert_eq!(answered, topic("orders"), "the existing topic is answered unchanged");
    store.create_topic(topic("billing")).await.expect("a second topic");
    store.create_topic(topic("audit")).await.expect("a third topic");
    let names = |topics: Vec<TopicRecord>| topics.into_iter().map(|topic| topic.name).collect::<Vec<_>>();
    assert_eq!(
        names(store.list_topics(None, 2).await.expect("a page")),
        ["audit", "billing"]
    );
    assert_eq!(
        names(store.list_topics(Some("billing"), 2).await.expect("the next page")),
        ["orders"]
    );
    let attributes = BTreeMap::from([("DisplayName".to_owned(), "Orders".to_owned())]);
    store
        .set_topic_attributes("orders", attributes.clone())
        .await
        .expect("attributes are set");
    let read = store.topic("orders").await.expect("a read").expect("the topic");
    assert_eq!(read.attributes, attributes);
    let missing = store.set_topic_attributes("missing", BTreeMap::new()).await;
    assert!(matches!(missing, Err(Error::NotFound { .. })), "{missing:?}");
    assert_eq!(store.topic("missing").await.expect("a read"), None);
    for name in ["orders", "billing", "audit"] {
        assert!(store.delete_topic(name).await.expect("a delete"));
    }
    assert!(!store.delete_topic("orders").await.expect("a second delete"));
}

async fn subscriptions_are_idempotent_by_endpoint(store: &dyn TopicStore) {
    let refused = store.subscribe(subscription("none", "s", "q"), None).await;
    assert!(matches!(refused, Err(Error::NotFound { .. })), "{refused:?}");
    store.create_topic(topic("t1")).await.expect("a topic");
    let first = store
        .subscribe(subscription("t1", "a", "queue-a"), None)
        .await
        .expect("a subscription");
    let again = store
        .subscribe(subscription("t1", "other-id", "queue-a"), None)
        .await
        .expect("the same endpoint");
    assert_eq!(again, first, "the existing subscription is answered");
    let mut pending = subscription("t1", "b", "http://127.0.0.1/b");
    pending.protocol = "http".into();
    pending.pending = true;
    pending.token = Some("token".into());
    let confirmation = delivery("confirm", &pending.arn, None, 1_000);
    store
        .subscribe(pending.clone(), Some(confirmation))
        .await
        .expect("a pending subscription");
    let listed = store.list_subscriptions(Some("t1"), None, 10).await.expect("a list");
    assert_eq!(listed, [first.clone(), pending.clone()]);
    let page = store
        .list_subscriptions(None, Some(&first.arn), 10)
        .await
        .expect("a page");
    assert_eq!(page, std::slice::from_ref(&pending));
    let claimed = store.claim_topic_deliveries(1_000, 5_000, 10).await.expect("a claim");
    assert_eq!(ids(&claimed), ["confirm"], "the confirmation request is in the outbox");
    store.finish_topic_delivery("confirm").await.expect("finished");
    let mut confirmed = pending.clone();
    confirmed.pending = false;
    confirmed.token = None;
    confirmed.attributes.insert("RawMessageDelivery".into(), "true".into());
    store.update_subscription(confirmed.clone()).await.expect("an update");
    assert_eq!(store.subscription(&pending.arn).await.expect("a read"), Some(confirmed));
    assert!(store.unsubscribe(&pending.arn).await.expect("an unsubscribe"));
    assert!(!store.unsubscribe(&pending.arn).await.expect("a second one"));
    let gone = store.update_subscription(pending).await;
    assert!(matches!(gone, Err(Error::NotFound { .. })), "{gone:?}");
    assert!(store.delete_topic("t1").await.expect("a delete"));
}

async fn a_publish_writes_all_its_deliveries_or_none(store: &dyn TopicStore) {
    store.create_topic(topic("t2")).await.expect("a topic");
    let arn = "arn:aws:sns:us-east-1:123456789012:t2:s";
    let publications = vec![
        Publication {
            topic: "t2".into(),
            message_id: "m1".into(),
            deduplication: None,
            deliveries: vec![delivery("d1", arn, None, 100), delivery("d2", arn, None, 100)],
        },
        Publication {
            topic: "gone".into(),
            message_id: "m2".into(),
            deduplication: None,
            deliveries: vec![delivery("d3", arn, None, 100)],
        },
    ];
    let answers = store.publish(publications, 100).await.expect("a publish");
    assert!(matches!(answers[0], Ok(Published::Written { sequence_number: None })));
    assert!(matches!(answers[1], Err(Error::NotFound { .. })), "{:?}", answers[1]);
    assert_eq!(store.next_topic_delivery_due().await.expect("a read"), Some(100));
    assert!(
        store
            .claim_topic_deliveries(99, 1_000, 10)
            .await
            .expect("early")
            .is_empty()
    );
    let claimed = store.claim_topic_deliveries(100, 1_000, 10).await.expect("a claim");
    assert_eq!(ids(&claimed), ["d1", "d2"], "the refused publication wrote nothing");
    assert_eq!(claimed[0].attempts, 1, "a claim counts an attempt");
    assert!(
        store
            .claim_topic_deliveries(500, 1_500, 10)
            .await
            .expect("leased")
            .is_empty(),
        "leased deliveries are not claimed again"
    );
    store.retry_topic_delivery("d1", 2_000).await.expect("a retry");
    store.finish_topic_delivery("d2").await.expect("finished");
    assert_eq!(store.next_topic_delivery_due().await.expect("a read"), Some(2_000));
    let again = store.claim_topic_deliveries(2_000, 3_000, 10).await.expect("again");
    assert_eq!((ids(&again), again[0].attempts), (vec!["d1"], 2));
    store.release_topic_delivery_leases().await.expect("released");
    let released = store.claim_topic_deliveries(2_000, 3_000, 10).await.expect("released");
    assert_eq!(ids(&released), ["d1"], "a released lease is claimed again");
    store.finish_topic_delivery("d1").await.expect("finished");
    assert_eq!(store.next_topic_delivery_due().await.expect("a read"), None);
    assert!(store.delete_topic("t2").await.expect("a delete"));
}

async fn fifo_publications_are_numbered_and_deduplicated(store: &dyn TopicStore) {
    store.create_topic(topic("t3.fifo")).await.expect("a topic");
    let arn = "arn:aws:sns:us-east-1:123456789012:t3.fifo:s";
    let publication = |message_id: &str, dedup: &str, delivery_id: &str| Publication {
        topic: "t3.fifo".into(),
        message_id: message_id.into(),
        deduplication: Some(Deduplication {
            id: dedup.into(),
            expires_millis: 1_000 + 300_000,
        }),
        deliveries: vec![delivery(delivery_id, arn, Some("g"), 1_000)],
    };
    let answers = store
        .publish(
            vec![
                publication("m1", "a", "d1"),
                publication("m2", "b", "d2"),
                publication("m3", "a", "d3"),
            ],
            1_000,
        )
        .await
        .expect("a publish");
    let first = match &answers[0] {
        Ok(Published::Written {
            sequence_number: Some(number),
        }) => *number,
        other => panic!("a numbered publication: {other:?}"),
    };
    assert!(matches!(
        &answers[1],
        Ok(Published::Written { sequence_number: Some(number) }) if *number > first
    ));
    assert_eq!(
        answers[2].as_ref().expect("a duplicate"),
        &Published::Duplicate {
            message_id: "m1".into(),
            sequence_number: Some(first)
        }
    );
    let claimed = store.claim_topic_deliveries(1_000, 2_000, 10).await.expect("a claim");
    assert_eq!(
        ids(&claimed),
        ["d1"],
        "the duplicate wrote nothing; the group's head only"
    );
    assert_eq!(claimed[0].sequence_number, Some(first));
    store.finish_topic_delivery("d1").await.expect("finished");
    store.finish_topic_delivery("d2").await.expect("finished");
    assert_eq!(store.expire_topic_deduplication(301_000).await.expect("expired"), 2);
    let after = store
        .publish(vec![publication("m4", "a", "d4")], 301_000)
        .await
        .expect("a publish");
    assert!(
        matches!(after[0], Ok(Published::Written { .. })),
        "an expired id does not count"
    );
    assert!(store.delete_topic("t3.fifo").await.expect("a delete"));
}

async fn an_ordering_key_is_claimed_at_its_head_only(store: &dyn TopicStore) {
    store.create_topic(topic("t4")).await.expect("a topic");
    let arn = "arn:aws:sns:us-east-1:123456789012:t4:s";
    let deliveries = vec![
        delivery("g1-a", arn, Some("g1"), 10),
        delivery("g2-a", arn, Some("g2"), 10),
        delivery("g1-b", arn, Some("g1"), 10),
        delivery("free", arn, None, 10),
    ];
    let publication = Publication {
        topic: "t4".into(),
        message_id: "m".into(),
        deduplication: None,
        deliveries,
    };
    store.publish(vec![publication], 10).await.expect("a publish");
    let claimed = store.claim_topic_deliveries(10, 100, 10).await.expect("a claim");
    let mut claimed_ids = ids(&claimed);
    claimed_ids.sort_unstable();
    assert_eq!(claimed_ids, ["free", "g1-a", "g2-a"]);
    store.retry_topic_delivery("g1-a", 50).await.expect("a retry");
    assert!(
        store
            .claim_topic_deliveries(20, 100, 10)
            .await
            .expect("a claim")
            .is_empty(),
        "a group waits for its head's retry"
    );
    store.finish_topic_delivery("g1-a").await.expect("finished");
    let next = store.claim_topic_deliveries(20, 100, 10).await.expect("a claim");
    assert_eq!(ids(&next), ["g1-b"]);
    assert!(store.delete_topic("t4").await.expect("a delete"));
}

async fn deleting_a_topic_removes_what_hangs_on_it(store: &dyn TopicStore) {
    store.create_topic(topic("t5")).await.expect("a topic");
    let kept = store.create_topic(topic("t6")).await.expect("another topic");
    let gone = store
        .subscribe(subscription("t5", "s", "queue"), None)
        .await
        .expect("a subscription");
    let stays = store
        .subscribe(subscription("t6", "s", "queue"), None)
        .await
        .expect("a subscription");
    let publish = |topic: &str, arn: &str, id: &str| Publication {
        topic: topic.into(),
        message_id: id.into(),
        deduplication: None,
        deliveries: vec![delivery(id, arn, None, 10)],
    };
    store
        .publish(
            vec![publish("t5", &gone.arn, "gone"), publish("t6", &stays.arn, "stays")],
            10,
        )
        .await
        .expect("a publish");
    assert!(store.delete_topic("t5").await.expect("a delete"));
    assert_eq!(store.subscription(&gone.arn).await.expect("a read"), None);
    let listed = store.list_subscriptions(None, None, 10).await.expect("a list");
    assert_eq!(listed, std::slice::from_ref(&stays));
    let claimed = store.claim_topic_deliveries(10, 100, 10).await.expect("a claim");
    assert_eq!(ids(&claimed), ["stays"], "the deleted topic's deliveries are gone");
    store.finish_topic_delivery("stays").await.expect("finished");
    assert!(store.unsubscribe(&stays.arn).await.expect("an unsubscribe"));
    assert!(store.delete_topic(&kept.name).await.expect("a delete"));
}
