//! The queue checks every backend runs: call [`run_all`] with a fresh store.

use std::collections::BTreeMap;

use crate::queues::{
    Deletion, NewMessage, NewQueue, QueueCounts, QueueCreated, QueueStore, QueueUpdate, Receipt, Receive, Redrive,
    StoredMessage, VisibilityChange, VisibilityChanged,
};

const NOW: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;

/// Runs every queue check against `store`, which must hold no queues.
pub async fn run_all(store: &dyn QueueStore) {
    queues_are_created_once_listed_updated_and_deleted(store).await;
    receives_claim_messages_until_their_visibility_ends(store).await;
    only_the_latest_receipt_deletes(store).await;
    visibility_changes_apply_to_messages_in_flight(store).await;
    delays_count_as_delayed_until_visible(store).await;
    fifo_groups_deliver_in_order_and_one_batch_at_a_time(store).await;
    fifo_deduplication_answers_the_original(store).await;
    redrive_moves_messages_received_too_often(store).await;
    retention_and_purge_drop_messages(store).await;
}

async fn create(store: &dyn QueueStore, name: &str, fifo: bool) -> i64 {
    let queue = NewQueue {
        name: name.to_owned(),
        fifo,
        attributes: BTreeMap::from([("VisibilityTimeout".to_owned(), "30".to_owned())]),
        tags: BTreeMap::new(),
        now_millis: NOW,
    };
    match store.create_queue(queue).await.expect("create a queue") {
        QueueCreated::New(record) => record.id,
        QueueCreated::Existing(record) => panic!("{name} exists already: {record:?}"),
    }
}

fn message(body: &str, group: Option<&str>, deduplication: Option<&str>) -> NewMessage {
    NewMessage {
        message_id: format!("id-{body}"),
        body: body.to_owned(),
        attributes: "{}".to_owned(),
        system_attributes: "{}".to_owned(),
        md5_of_body: format!("md5-{body}"),
        md5_of_attributes: None,
        group_id: group.map(str::to_owned),
        deduplication_id: deduplication.map(str::to_owned),
        deduplication_key: deduplication.map(str::to_owned),
        deduplication_until_millis: NOW + 5 * MINUTE,
        sent_millis: NOW,
        visible_millis: NOW,
        expires_millis: NOW + 4 * DAY,
    }
}

async fn send(store: &dyn QueueStore, queue: i64, messages: Vec<NewMessage>) {
    store.send_messages(queue, messages, NOW).await.expect("a send");
}

async fn receive(store: &dyn QueueStore, queue: i64, max: usize, now: i64) -> Vec<StoredMessage> {
    receive_with(store, queue, max, now, None).await
}

async fn receive_with(
    store: &dyn QueueStore,
    queue: i64,
    max: usize,
    now: i64,
    redrive: Option<Redrive>,
) -> Vec<StoredMessage> {
    store
        .receive_messages(Receive {
            queue_id: queue,
            max_messages: max,
            now_millis: now,
            visible_until_millis: now + 30_000,
            redrive,
        })
        .await
        .expect("a receive")
}

fn bodies(messages: &[StoredMessage]) -> Vec<&str> {
    messages.iter().map(|message| message.body.as_str()).collect()
}

async fn queues_are_created_once_listed_updated_and_deleted(store: &dyn QueueStore) {
    let alpha = create(store, "alpha", false).await;
    create(store, "alpine", false).await;
    create(store, "beta.fifo", true).await;
    let again = NewQueue {
        name: "alpha".to_owned(),
        fifo: false,
        attributes: BTreeMap::new(),
        tags: BTreeMap::new(),
        now_millis: NOW + 1,
    };
    match store.create_queue(again).await.expect("create again") {
        QueueCreated::Existing(existing) => {
            assert_eq!(existing.id, alpha);
            assert_eq!(existing.attributes["VisibilityTimeout"], "30");
            assert_eq!(existing.created_millis, NOW);
        }
        QueueCreated::New(record) => panic!("created twice: {record:?}"),
    }
    let names =
        |queues: Vec<crate::queues::QueueRecord>| queues.into_iter().map(|queue| queue.name).collect::<Vec<_>>();
    assert_eq!(
        names(store.list_queues("alp", None, 10).await.expect("the store answers")),
        ["alpha", "alpine"]
    );
    assert_eq!(
        names(store.list_queues("", None, 2).await.expect("the store answers")),
        ["alpha", "alpine"]
    );
    assert_eq!(
        names(
            store
                .list_queues("", Some("alpine"), 2)
                .await
                .expect("the store answers")
        ),
        ["beta.fifo"]
    );
    assert_eq!(
        names(store.list_queues("%", None, 10).await.expect("the store answers")),
        Vec::<String>::new()
    );

    let attributes = BTreeMap::from([("DelaySeconds".to_owned(), "5".to_owned())]);
    let updated = store
        .update_queue(QueueUpdate {
            queue_id: alpha,
            attributes: attributes.clone(),
            retention_millis: None,
            now_millis: NOW + 2,
        })
        .await
        .expect("the store answers");
    assert_eq!((updated.attributes, updated.modified_millis), (attributes, NOW + 2));
    store
        .set_queue_tags(alpha, BTreeMap::from([("team".to_owned(), "q".to_owned())]))
        .await
        .expect("the store answers");
    let found = store
        .queue("alpha")
        .await
        .expect("the store answers")
        .expect("alpha is there");
    assert_eq!(found.tags["team"], "q");
    assert_eq!(
        store
            .queue_by_id(alpha)
            .await
            .expect("the store answers")
            .map(|queue| queue.name)
            .as_deref(),
        Some("alpha")
    );

    send(store, alpha, vec![message("a", None, None)]).await;
    store.delete_queue(alpha).await.expect("the store answers");
    assert_eq!(store.queue("alpha").await.expect("the store answers"), None);
    assert!(store.delete_queue(alpha).await.is_err(), "a deleted queue is gone");
    assert!(
        store
            .send_messages(alpha, vec![message("b", None, None)], NOW)
            .await
            .is_err()
    );
    let recreated = create(store, "alpha", false).await;
    assert_ne!(recreated, alpha, "a queue created again gets a new id");
    assert!(
        receive(store, recreated, 10, NOW).await.is_empty(),
        "the old messages went with the old queue"
    );
}

async fn receives_claim_messages_until_their_visibility_ends(store: &dyn QueueStore) {
    let queue = create(store, "claims", false).await;
    send(
        store,
        queue,
        vec![
            message("1", None, None),
            message("2", None, None),
            message("3", None, None),
        ],
    )
    .await;
    assert_eq!(
        store.queue_counts(queue, NOW).await.expect("the store answers"),
        QueueCounts {
            visible: 3,
            in_flight: 0,
            delayed: 0
        }
    );
    let first = receive(store, queue, 2, NOW).await;
    let second = receive(store, queue, 10, NOW).await;
    assert_eq!((first.len(), second.len()), (2, 1));
    let mut all = bodies(&first);
    all.extend(bodies(&second));
    all.sort_unstable();
    assert_eq!(all, ["1", "2", "3"], "each message is claimed by one receive");
    assert!(receive(store, queue, 10, NOW + 1).await.is_empty(), "all are in flight");
    assert_eq!(
        store.queue_counts(queue, NOW).await.expect("the store answers"),
        QueueCounts {
            visible: 0,
            in_flight: 3,
            delayed: 0
        }
    );
    assert_eq!(
        store.next_visible(queue, NOW).await.expect("the store answers"),
        Some(NOW + 30_000)
    );
    let message = &first[0];
    assert_eq!((message.receive_count, message.first_received_millis), (1, Some(NOW)));
    assert_eq!(message.message_id, format!("id-{}", message.body));

    // The visibility timeout passes: every message is received again, counted twice.
    let again = receive(store, queue, 10, NOW + 30_000).await;
    assert_eq!(again.len(), 3);
    assert!(
        again
            .iter()
            .all(|message| message.receive_count == 2 && message.first_received_millis == Some(NOW))
    );
}

async fn only_the_latest_receipt_deletes(store: &dyn QueueStore) {
    let queue = create(store, "deletes", false).await;
    send(store, queue, vec![message("x", None, None)]).await;
    let old = receive(store, queue, 1, NOW).await[0].receipt;
    let latest = receive(store, queue, 1, NOW + 30_000).await[0].receipt;
    assert_ne!(old, latest);
    let forged = Receipt {
        message: latest.message + 1_000_000,
        receive_count: 1,
    };
    let results = store
        .delete_messages(queue, vec![old, forged, latest, latest])
        .await
        .expect("the store answers");
    assert_eq!(
        results,
        [Deletion::Stale, Deletion::Stale, Deletion::Deleted, Deletion::Stale]
    );
    assert_eq!(
        store.queue_counts(queue, NOW).await.expect("the store answers"),
        QueueCounts::default()
    );
    let other = create(store, "deletes-other", false).await;
    send(store, other, vec![message("y", None, None)]).await;
    let receipt = receive(store, other, 1, NOW).await[0].receipt;
    assert_eq!(
        store
            .delete_messages(queue, vec![receipt])
            .await
            .expect("the store answers"),
        [Deletion::Stale],
        "a receipt applies to its own queue only"
    );
}

async fn visibility_changes_apply_to_messages_in_flight(store: &dyn QueueStore) {
    let queue = create(store, "visibility", false).await;
    send(store, queue, vec![message("v", None, None)]).await;
    let receipt = receive(store, queue, 1, NOW).await[0].receipt;
    let change = |until| VisibilityChange {
        receipt,
        visible_until_millis: until,
    };
    let results = store
        .change_visibility(queue, vec![change(NOW + 1_000)], NOW)
        .await
        .expect("the store answers");
    assert_eq!(results, [VisibilityChanged::Changed]);
    assert!(receive(store, queue, 1, NOW + 999).await.is_empty());
    // Past its visibility the message is no longer in flight.
    let results = store
        .change_visibility(queue, vec![change(NOW + 9_000)], NOW + 1_000)
        .await
        .expect("the store answers");
    assert_eq!(results, [VisibilityChanged::NotInFlight]);
    let again = receive(store, queue, 1, NOW + 1_000).await;
    assert_eq!(bodies(&again), ["v"]);
    let results = store
        .change_visibility(queue, vec![change(NOW + 1_500)], NOW + 1_000)
        .await
        .expect("the store answers");
    assert_eq!(results, [VisibilityChanged::Stale], "the first receipt is stale");
    // Visibility 0: visible at once.
    let zero = VisibilityChange {
        receipt: again[0].receipt,
        visible_until_millis: NOW + 1_000,
    };
    store
        .change_visibility(queue, vec![zero], NOW + 1_000)
        .await
        .expect("the store answers");
    assert_eq!(receive(store, queue, 1, NOW + 1_000).await.len(), 1);
}

async fn delays_count_as_delayed_until_visible(store: &dyn QueueStore) {
    let queue = create(store, "delays", false).await;
    let mut delayed = message("later", None, None);
    delayed.visible_millis = NOW + 10_000;
    send(store, queue, vec![delayed, message("now", None, None)]).await;
    assert_eq!(
        store.queue_counts(queue, NOW).await.expect("the store answers"),
        QueueCounts {
            visible: 1,
            in_flight: 0,
            delayed: 1
        }
    );
    assert_eq!(bodies(&receive(store, queue, 10, NOW).await), ["now"]);
    assert_eq!(
        store.next_visible(queue, NOW).await.expect("the store answers"),
        Some(NOW + 10_000)
    );
    assert_eq!(bodies(&receive(store, queue, 10, NOW + 10_000).await), ["later"]);
}

async fn fifo_groups_deliver_in_order_and_one_batch_at_a_time(store: &dyn QueueStore) {
    let queue = create(store, "groups.fifo", true).await;
    let mut batch = Vec::new();
    for index in 0..6 {
        batch.push(message(&format!("a{index}"), Some("a"), None));
        batch.push(message(&format!("b{index}"), Some("b"), None));
    }
    let sent = store.send_messages(queue, batch, NOW).await.expect("the store answers");
    let numbers: Vec<u64> = sent
        .iter()
        .map(|sent| sent.sequence_number.expect("FIFO numbers"))
        .collect();
    assert!(numbers.windows(2).all(|pair| pair[0] < pair[1]), "{numbers:?}");

    // The first receive takes one group's messages from its head, as many as asked.
    let first = receive(store, queue, 4, NOW).await;
    let group = first[0].group_id.clone().expect("a group");
    let expected: Vec<String> = (0..4).map(|index| format!("{group}{index}")).collect();
    assert_eq!(bodies(&first), expected);
    // While they are in flight their group gives nothing; the other group gives its messages.
    let second = receive(store, queue, 10, NOW).await;
    let other = if group == "a" { "b" } else { "a" };
    let expected: Vec<String> = (0..6).map(|index| format!("{other}{index}")).collect();
    assert_eq!(bodies(&second), expected);
    assert!(receive(store, queue, 10, NOW).await.is_empty());

    // Deleting part of the batch leaves the group blocked by the rest.
    let receipts: Vec<Receipt> = first[..2].iter().map(|message| message.receipt).collect();
    store.delete_messages(queue, receipts).await.expect("the store answers");
    assert!(receive(store, queue, 10, NOW).await.is_empty());
    let receipts: Vec<Receipt> = first[2..].iter().map(|message| message.receipt).collect();
    store.delete_messages(queue, receipts).await.expect("the store answers");
    let third = receive(store, queue, 10, NOW).await;
    assert_eq!(bodies(&third), [format!("{group}4"), format!("{group}5")]);
    assert_eq!(
        store.next_visible(queue, NOW).await.expect("the store answers"),
        Some(NOW + 30_000)
    );

    // When the visibility of the other group ends, its messages come again, in order.
    let again = receive(store, queue, 10, NOW + 30_000).await;
    let mut expected: Vec<String> = (4..6).map(|index| format!("{group}{index}")).collect();
    expected.extend((0..6).map(|index| format!("{other}{index}")));
    let mut got: Vec<String> = bodies(&again).into_iter().map(str::to_owned).collect();
    got.sort_by_key(|body| (body.starts_with(other), body.clone()));
    expected.sort_by_key(|body| (body.starts_with(other), body.clone()));
    assert_eq!(got, expected);
    let sequence: Vec<u64> = again
        .iter()
        .filter(|message| message.group_id.as_deref() == Some(other))
        .map(|message| message.sequence_number.unwrap_or_default())
        .collect();
    assert!(sequence.windows(2).all(|pair| pair[0] < pair[1]), "{sequence:?}");
}

async fn fifo_deduplication_answers_the_original(store: &dyn QueueStore) {
    let queue = create(store, "dedup.fifo", true).await;
    let first = store
        .send_messages(queue, vec![message("one", Some("g"), Some("key"))], NOW)
        .await
        .expect("the store answers");
    let mut duplicate = message("two", Some("g"), Some("key"));
    duplicate.message_id = "another-id".to_owned();
    let results = store
        .send_messages(
            queue,
            vec![duplicate.clone(), message("three", Some("g"), Some("other"))],
            NOW + 1_000,
        )
        .await
        .expect("the store answers");
    assert!(results[0].duplicate);
    assert_eq!(results[0].message_id, first[0].message_id);
    assert_eq!(results[0].sequence_number, first[0].sequence_number);
    assert!(!results[1].duplicate);
    assert_eq!(bodies(&receive(store, queue, 10, NOW + 1_000).await), ["one", "three"]);
    // After the window the same key is a new message.
    let mut late = duplicate;
    late.deduplication_until_millis = NOW + 10 * MINUTE;
    let results = store
        .send_messages(queue, vec![late], NOW + 5 * MINUTE)
        .await
        .expect("the store answers");
    assert!(!results[0].duplicate);
    assert_eq!(results[0].message_id, "another-id");
}

async fn redrive_moves_messages_received_too_often(store: &dyn QueueStore) {
    let dead = create(store, "dead", false).await;
    let queue = create(store, "redriven", false).await;
    let redrive = Redrive {
        dead_letter_queue_id: dead,
        max_receive_count: 2,
        dead_letter_retention_millis: 14 * DAY,
    };
    send(store, queue, vec![message("poison", None, None)]).await;
    for round in 0..2 {
        let got = receive_with(store, queue, 10, NOW + round * 30_000, Some(redrive)).await;
        assert_eq!(bodies(&got), ["poison"], "receive {round}");
    }
    // The third receive would exceed the count: the message moves instead.
    assert!(
        receive_with(store, queue, 10, NOW + 60_000, Some(redrive))
            .await
            .is_empty()
    );
    let moved = receive(store, dead, 10, NOW + 60_000).await;
    assert_eq!(bodies(&moved), ["poison"]);
    assert_eq!(
        (
            moved[0].message_id.as_str(),
            moved[0].receive_count,
            moved[0].sent_millis
        ),
        ("id-poison", 1, NOW)
    );

    // FIFO: the head moves on and the group goes on in order.
    let dead_fifo = create(store, "dead.fifo", true).await;
    let fifo = create(store, "redriven.fifo", true).await;
    let redrive = Redrive {
        dead_letter_queue_id: dead_fifo,
        max_receive_count: 1,
        dead_letter_retention_millis: DAY,
    };
    send(
        store,
        fifo,
        vec![message("f1", Some("g"), None), message("f2", Some("g"), None)],
    )
    .await;
    assert_eq!(bodies(&receive_with(store, fifo, 1, NOW, Some(redrive)).await), ["f1"]);
    let next = receive_with(store, fifo, 10, NOW + 30_000, Some(redrive)).await;
    assert_eq!(bodies(&next), ["f2"]);
    let moved = receive(store, dead_fifo, 10, NOW + 30_000).await;
    assert_eq!(bodies(&moved), ["f1"]);
    assert_eq!(moved[0].group_id.as_deref(), Some("g"));
    assert!(moved[0].sequence_number.is_some());
}

async fn retention_and_purge_drop_messages(store: &dyn QueueStore) {
    let queue = create(store, "retention.fifo", true).await;
    let mut old = message("old", Some("g"), Some("k1"));
    old.expires_millis = NOW + MINUTE;
    send(store, queue, vec![old, message("young", Some("g"), Some("k2"))]).await;
    assert_eq!(store.expire(NOW + MINUTE).await.expect("the store answers"), 1);
    assert_eq!(bodies(&receive(store, queue, 10, NOW + MINUTE).await), ["young"]);
    // A shorter retention applies to messages already sent.
    let update = QueueUpdate {
        queue_id: queue,
        attributes: BTreeMap::new(),
        retention_millis: Some(MINUTE),
        now_millis: NOW,
    };
    store.update_queue(update).await.expect("the store answers");
    assert_eq!(store.expire(NOW + MINUTE).await.expect("the store answers"), 1);
    assert_eq!(
        store.queue_counts(queue, NOW).await.expect("the store answers"),
        QueueCounts::default()
    );

    let standard = create(store, "purged", false).await;
    send(
        store,
        standard,
        vec![message("p1", None, None), message("p2", None, None)],
    )
    .await;
    store.purge_queue(standard).await.expect("the store answers");
    assert!(receive(store, standard, 10, NOW).await.is_empty());
    assert!(
        store.queue("purged").await.expect("the store answers").is_some(),
        "a purged queue stays"
    );
}
