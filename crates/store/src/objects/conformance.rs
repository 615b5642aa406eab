//! The conformance suite of [`BucketStore`]: call [`run_all`] with a fresh store. Races are
//! tested by each backend, which knows how to run writers at once.

use std::collections::BTreeMap;

use super::{
    BucketDeleted, BucketRecord, BucketStore, Condition, KeyRange, NotificationRule, ObjectDelete, ObjectRecord,
    ObjectWrite, Outcome, PartRecord, UploadCompletion, UploadRange, UploadRecord,
};
use crate::Error;

/// Runs every check against `store`, which must have no buckets.
pub async fn run_all(store: &dyn BucketStore) {
    buckets_are_created_listed_and_deleted(store).await;
    conditional_writes_are_decided_in_the_commit(store).await;
    deletes_follow_their_condition(store).await;
    events_follow_the_rules_and_only_for_what_was_written(store).await;
    replaced_blobs_become_garbage_after_their_delay(store).await;
    listing_is_in_byte_order_with_prefix_and_after(store).await;
    multipart_uploads_hold_parts_and_complete_in_one_commit(store).await;
    multipart_uploads_are_listed_aborted_and_go_with_their_bucket(store).await;
}

/// A bucket record with no rules.
pub fn bucket(name: &str) -> BucketRecord {
    BucketRecord {
        name: name.to_owned(),
        created_millis: 1_000,
        notifications: Vec::new(),
    }
}

/// A write of `key` in `bucket` with this ETag and blob, under `condition`.
pub fn write(bucket: &str, key: &str, etag: &str, blob: &str, condition: Condition) -> ObjectWrite {
    ObjectWrite {
        record: ObjectRecord {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            etag: etag.to_owned(),
            size: 3,
            content_type: "text/plain".to_owned(),
            user_metadata: BTreeMap::from([("colour".to_owned(), "blue".to_owned())]),
            headers: BTreeMap::new(),
            blob: blob.to_owned(),
            modified_millis: 2_000,
        },
        condition,
        event_name: "ObjectCreated:Put".to_owned(),
        garbage_delay_millis: 0,
    }
}

fn delete(bucket: &str, key: &str, condition: Condition) -> ObjectDelete {
    ObjectDelete {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        condition,
        now_millis: 3_000,
        garbage_delay_millis: 0,
    }
}

async fn buckets_are_created_listed_and_deleted(store: &dyn BucketStore) {
    store.create_bucket(bucket("b-two")).await.expect("created");
    store.create_bucket(bucket("b-one")).await.expect("created");
    let again = store.create_bucket(bucket("b-one")).await;
    assert!(matches!(again, Err(Error::AlreadyExists { .. })), "{again:?}");
    let names: Vec<String> = store
        .list_buckets()
        .await
        .expect("listed")
        .into_iter()
        .map(|bucket| bucket.name)
        .collect();
    assert_eq!(names, ["b-one", "b-two"]);
    assert_eq!(store.bucket("b-one").await.expect("read"), Some(bucket("b-one")));
    assert_eq!(store.bucket("nope").await.expect("read"), None);
    put(store, write("b-one", "k", "e1", "blob-k", Condition::Always)).await;
    assert_eq!(
        store.delete_bucket("b-one").await.expect("answered"),
        BucketDeleted::NotEmpty
    );
    assert_eq!(
        store.delete_bucket("nope").await.expect("answered"),
        BucketDeleted::NoSuchBucket
    );
    assert_eq!(
        store.delete_bucket("b-two").await.expect("answered"),
        BucketDeleted::Deleted
    );
    let rules = vec![rule("all", "", "")];
    assert!(store.set_notifications("b-one", rules.clone()).await.expect("set"));
    assert!(!store.set_notifications("nope", rules.clone()).await.expect("answered"));
    let read = store.bucket("b-one").await.expect("read").expect("there");
    assert_eq!(read.notifications, rules);
    store.set_notifications("b-one", Vec::new()).await.expect("cleared");
    store
        .delete_object(delete("b-one", "k", Condition::Always))
        .await
        .expect("deleted");
    store.forget_garbage(vec!["blob-k".into()]).await.expect("forgotten");
    drain_events(store).await;
    assert_eq!(
        store.delete_bucket("b-one").await.expect("answered"),
        BucketDeleted::Deleted
    );
}

async fn conditional_writes_are_decided_in_the_commit(store: &dyn BucketStore) {
    store.create_bucket(bucket("cond")).await.expect("created");
    let missing = store
        .put_object(write("none", "k", "e", "x", Condition::Always))
        .await
        .expect("answered");
    assert_eq!(missing, Outcome::NoSuchBucket);
    // If-None-Match: * creates once.
    let first = put(store, write("cond", "k", "e1", "blob-1", Condition::IfNoneMatch)).await;
    assert_eq!(first, Outcome::Done(None));
    let second = put(store, write("cond", "k", "e2", "blob-2", Condition::IfNoneMatch)).await;
    assert_eq!(second, Outcome::PreconditionFailed);
    let current = store.object("cond", "k").await.expect("read").expect("there");
    assert_eq!((current.etag.as_str(), current.blob.as_str()), ("e1", "blob-1"));
    assert_eq!(current.user_metadata.get("colour").map(String::as_str), Some("blue"));
    // If-Match replaces only the version named.
    let stale = put(
        store,
        write("cond", "k", "e3", "blob-3", Condition::IfMatch("e0".into())),
    )
    .await;
    assert_eq!(stale, Outcome::PreconditionFailed);
    let fresh = put(
        store,
        write("cond", "k", "e3", "blob-3", Condition::IfMatch("e1".into())),
    )
    .await;
    assert!(
        matches!(&fresh, Outcome::Done(Some(old)) if old.etag == "e1"),
        "{fresh:?}"
    );
    let absent = put(
        store,
        write("cond", "gone", "e", "blob-4", Condition::IfMatch("e".into())),
    )
    .await;
    assert_eq!(absent, Outcome::NoSuchKey);
    assert_eq!(store.object("cond", "gone").await.expect("read"), None);
    // No condition overwrites.
    let overwrite = put(store, write("cond", "k", "e5", "blob-5", Condition::Always)).await;
    assert!(
        matches!(&overwrite, Outcome::Done(Some(old)) if old.etag == "e3"),
        "{overwrite:?}"
    );
}

async fn deletes_follow_their_condition(store: &dyn BucketStore) {
    store.create_bucket(bucket("del")).await.expect("created");
    put(store, write("del", "k", "e1", "blob-d", Condition::Always)).await;
    let stale = store
        .delete_object(delete("del", "k", Condition::IfMatch("e0".into())))
        .await
        .expect("answered");
    assert_eq!(stale, Outcome::PreconditionFailed);
    let done = store
        .delete_object(delete("del", "k", Condition::IfMatch("e1".into())))
        .await
        .expect("answered");
    assert!(
        matches!(&done, Outcome::Done(Some(old)) if old.blob == "blob-d"),
        "{done:?}"
    );
    let again = store
        .delete_object(delete("del", "k", Condition::Always))
        .await
        .expect("answered");
    assert_eq!(again, Outcome::Done(None));
    let no_bucket = store
        .delete_object(delete("none", "k", Condition::Always))
        .await
        .expect("answered");
    assert_eq!(no_bucket, Outcome::NoSuchBucket);
}

fn rule(id: &str, prefix: &str, suffix: &str) -> NotificationRule {
    NotificationRule {
        id: id.to_owned(),
        target: format!("arn:aws:lambda:us-east-1:123456789012:function:{id}"),
        events: vec!["s3:ObjectCreated:*".into(), "s3:ObjectRemoved:*".into()],
        prefix: prefix.to_owned(),
        suffix: suffix.to_owned(),
    }
}

async fn drain_events(store: &dyn BucketStore) {
    for event in store
        .claim_object_events("drain", i64::MAX / 2, i64::MAX / 2, 10_000)
        .await
        .expect("claimed")
    {
        store.finish_object_event(event.id).await.expect("finished");
    }
}

async fn events_follow_the_rules_and_only_for_what_was_written(store: &dyn BucketStore) {
    drain_events(store).await;
    store.create_bucket(bucket("ev")).await.expect("created");
    let rules = vec![rule("jsons", "in/", ".json"), rule("everything", "", "")];
    store.set_notifications("ev", rules).await.expect("set");
    put(store, write("ev", "in/a.json", "e1", "blob-e1", Condition::IfNoneMatch)).await;
    put(store, write("ev", "in/a.json", "e2", "blob-e2", Condition::IfNoneMatch)).await; // refused
    put(store, write("ev", "out/b.txt", "e3", "blob-e3", Condition::Always)).await;
    store
        .delete_object(delete("ev", "in/a.json", Condition::Always))
        .await
        .expect("deleted");
    store
        .delete_object(delete("ev", "never-there", Condition::Always))
        .await
        .expect("deleted");
    let events = store
        .claim_object_events("node-a", 10_000, 20_000, 100)
        .await
        .expect("claimed");
    let seen: Vec<(String, String, String)> = events
        .iter()
        .map(|event| (event.rule_id.clone(), event.event_name.clone(), event.key.clone()))
        .collect();
    let expected = [
        ("jsons", "ObjectCreated:Put", "in/a.json"),
        ("everything", "ObjectCreated:Put", "in/a.json"),
        ("everything", "ObjectCreated:Put", "out/b.txt"),
        ("jsons", "ObjectRemoved:Delete", "in/a.json"),
        ("everything", "ObjectRemoved:Delete", "in/a.json"),
    ];
    let mut seen_sorted = seen.clone();
    seen_sorted.sort();
    let mut expected_sorted: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
        .collect();
    expected_sorted.sort();
    assert_eq!(seen_sorted, expected_sorted);
    let created = events
        .iter()
        .find(|event| event.key == "in/a.json" && event.event_name == "ObjectCreated:Put")
        .expect("the created event");
    assert_eq!((created.etag.as_str(), created.size), ("e1", 3));
    let removed = events
        .iter()
        .find(|event| event.event_name == "ObjectRemoved:Delete")
        .expect("the removed event");
    assert!(removed.sequencer > created.sequencer, "{removed:?} after {created:?}");
    assert_eq!(removed.time_millis, 3_000);
    // Leased events are not claimed again until the lease ends.
    let during = store
        .claim_object_events("node-b", 15_000, 25_000, 100)
        .await
        .expect("claimed");
    assert!(during.is_empty(), "{during:?}");
    let first = &events[0];
    store.retry_object_event(first.id, 30_000).await.expect("retried");
    for event in &events[1..] {
        store.finish_object_event(event.id).await.expect("finished");
    }
    let early = store
        .claim_object_events("node-b", 29_000, 40_000, 100)
        .await
        .expect("claimed");
    assert!(early.is_empty(), "{early:?}");
    let due = store
        .claim_object_events("node-b", 30_000, 40_000, 100)
        .await
        .expect("claimed");
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].id, due[0].attempts), (first.id, 1));
    store.release_object_event_leases().await.expect("released");
    let released = store
        .claim_object_events("node-c", 31_000, 40_000, 100)
        .await
        .expect("claimed");
    assert_eq!(released.len(), 1);
    store.finish_object_event(first.id).await.expect("finished");
}

async fn replaced_blobs_become_garbage_after_their_delay(store: &dyn BucketStore) {
    store.create_bucket(bucket("gc")).await.expect("created");
    let before = store.due_garbage(i64::MAX / 2, 10_000).await.expect("read");
    store.forget_garbage(before).await.expect("forgotten");
    put(store, write("gc", "k", "e1", "gc-1", Condition::Always)).await;
    let mut replace = write("gc", "k", "e2", "gc-2", Condition::Always);
    replace.garbage_delay_millis = 60_000;
    replace.record.modified_millis = 5_000;
    put(store, replace).await;
    assert!(store.blob_in_use("gc-2").await.expect("read"));
    assert!(!store.blob_in_use("gc-1").await.expect("read"));
    assert!(store.due_garbage(64_999, 10).await.expect("read").is_empty());
    assert_eq!(store.due_garbage(65_000, 10).await.expect("read"), ["gc-1"]);
    store.forget_garbage(vec!["gc-1".into()]).await.expect("forgotten");
    assert!(store.due_garbage(65_000, 10).await.expect("read").is_empty());
}

async fn listing_is_in_byte_order_with_prefix_and_after(store: &dyn BucketStore) {
    store.create_bucket(bucket("list")).await.expect("created");
    let keys = ["a/1", "a/2", "a/b/3", "b", "a/é", "a/z", "a/\u{1F600}", "ab"];
    for (index, key) in keys.iter().enumerate() {
        put(
            store,
            write("list", key, "e", &format!("list-{index}"), Condition::Always),
        )
        .await;
    }
    let listed = |prefix: &str, after: &str, limit: usize| KeyRange {
        bucket: "list".into(),
        prefix: prefix.into(),
        after: after.into(),
        limit,
    };
    let names = |records: Vec<ObjectRecord>| records.into_iter().map(|record| record.key).collect::<Vec<_>>();
    let all = names(store.list_objects(listed("", "", 100)).await.expect("listed"));
    let mut sorted: Vec<String> = keys.iter().map(|key| (*key).to_owned()).collect();
    sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(all, sorted);
    let in_a = names(store.list_objects(listed("a/", "a/2", 2)).await.expect("listed"));
    assert_eq!(in_a, ["a/b/3", "a/z"]);
    let tail = names(store.list_objects(listed("a/", "a/z", 10)).await.expect("listed"));
    assert_eq!(tail, ["a/é", "a/\u{1F600}"]);
    let like_wildcards = names(store.list_objects(listed("a%", "", 10)).await.expect("listed"));
    assert!(like_wildcards.is_empty(), "prefixes are literal: {like_wildcards:?}");
}

async fn put(store: &dyn BucketStore, write: ObjectWrite) -> Outcome {
    store.put_object(write).await.expect("the put is answered")
}

fn upload(bucket: &str, key: &str, id: &str) -> UploadRecord {
    UploadRecord {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        upload_id: id.to_owned(),
        content_type: "text/csv".to_owned(),
        user_metadata: BTreeMap::from([("source".to_owned(), "upload".to_owned())]),
        headers: BTreeMap::new(),
        initiated_millis: 1_500,
    }
}

fn part(id: &str, number: u32, blob: &str) -> PartRecord {
    PartRecord {
        upload_id: id.to_owned(),
        part_number: number,
        etag: format!("etag-{blob}"),
        size: 5,
        blob: blob.to_owned(),
        modified_millis: 1_600,
    }
}

fn completion(bucket: &str, key: &str, id: &str, parts: &[(u32, &str)], condition: Condition) -> UploadCompletion {
    let mut write = write(bucket, key, "multi-2", &format!("{id}-joined"), condition);
    write.event_name = "ObjectCreated:CompleteMultipartUpload".to_owned();
    UploadCompletion {
        upload_id: id.to_owned(),
        write,
        parts: parts
            .iter()
            .map(|(number, blob)| (*number, (*blob).to_owned()))
            .collect(),
    }
}

async fn forget_all_garbage(store: &dyn BucketStore) {
    let before = store.due_garbage(i64::MAX / 2, 10_000).await.expect("read");
    store.forget_garbage(before).await.expect("forgotten");
}

async fn multipart_uploads_hold_parts_and_complete_in_one_commit(store: &dyn BucketStore) {
    store.create_bucket(bucket("mp")).await.expect("created");
    forget_all_garbage(store).await;
    assert!(!store.create_upload(upload("none", "k", "u0")).await.expect("answered"));
    assert!(store.create_upload(upload("mp", "k", "u1")).await.expect("created"));
    assert_eq!(
        store.upload("mp", "k", "u1").await.expect("read"),
        Some(upload("mp", "k", "u1"))
    );
    assert_eq!(store.upload("mp", "other", "u1").await.expect("read"), None);
    assert!(store.put_part("mp", "k", part("u1", 1, "p1"), 0).await.expect("put"));
    assert!(
        store
            .put_part("mp", "k", part("u1", 2, "p2-old"), 0)
            .await
            .expect("put")
    );
    assert!(store.put_part("mp", "k", part("u1", 2, "p2"), 0).await.expect("put"));
    assert!(
        !store
            .put_part("mp", "k", part("u-none", 1, "px"), 0)
            .await
            .expect("answered")
    );
    assert_eq!(store.due_garbage(i64::MAX / 2, 10).await.expect("read"), ["p2-old"]);
    assert!(store.blob_in_use("p1").await.expect("read"), "a part's blob is in use");
    let parts = store.list_parts("u1", 0, 10).await.expect("listed");
    assert_eq!(parts, [part("u1", 1, "p1"), part("u1", 2, "p2")]);
    assert_eq!(
        store.list_parts("u1", 1, 10).await.expect("listed"),
        [part("u1", 2, "p2")]
    );
    // A completion that read a part since replaced, or under a failed condition, changes nothing.
    let stale = completion("mp", "k", "u1", &[(1, "p1"), (2, "p2-old")], Condition::Always);
    assert_eq!(
        store.complete_upload(stale).await.expect("answered"),
        Outcome::InvalidPart
    );
    put(store, write("mp", "k", "before", "mp-before", Condition::Always)).await;
    let refused = completion("mp", "k", "u1", &[(1, "p1"), (2, "p2")], Condition::IfNoneMatch);
    assert_eq!(
        store.complete_upload(refused).await.expect("answered"),
        Outcome::PreconditionFailed
    );
    assert_eq!(store.list_parts("u1", 0, 10).await.expect("listed").len(), 2);
    let wrong_key = completion("mp", "elsewhere", "u1", &[(1, "p1")], Condition::Always);
    assert_eq!(
        store.complete_upload(wrong_key).await.expect("answered"),
        Outcome::NoSuchUpload
    );
    store
        .set_notifications("mp", vec![rule("mp", "", "")])
        .await
        .expect("set");
    drain_events(store).await;
    let done = completion(
        "mp",
        "k",
        "u1",
        &[(1, "p1"), (2, "p2")],
        Condition::IfMatch("before".into()),
    );
    let outcome = store.complete_upload(done).await.expect("answered");
    assert!(
        matches!(&outcome, Outcome::Done(Some(old)) if old.etag == "before"),
        "{outcome:?}"
    );
    let object = store.object("mp", "k").await.expect("read").expect("there");
    assert_eq!((object.etag.as_str(), object.blob.as_str()), ("multi-2", "u1-joined"));
    assert_eq!(store.upload("mp", "k", "u1").await.expect("read"), None);
    assert!(store.list_parts("u1", 0, 10).await.expect("listed").is_empty());
    assert!(!store.blob_in_use("p1").await.expect("read"));
    let mut garbage = store.due_garbage(i64::MAX / 2, 10).await.expect("read");
    garbage.sort();
    assert_eq!(garbage, ["mp-before", "p1", "p2", "p2-old"]);
    let events = store
        .claim_object_events("mp", i64::MAX / 2, i64::MAX / 2, 10)
        .await
        .expect("claimed");
    let names: Vec<&str> = events.iter().map(|event| event.event_name.as_str()).collect();
    assert_eq!(names, ["ObjectCreated:CompleteMultipartUpload"]);
    for event in &events {
        store.finish_object_event(event.id).await.expect("finished");
    }
    let again = completion("mp", "k", "u1", &[(1, "p1"), (2, "p2")], Condition::Always);
    assert_eq!(
        store.complete_upload(again).await.expect("answered"),
        Outcome::NoSuchUpload
    );
    store.set_notifications("mp", Vec::new()).await.expect("cleared");
    forget_all_garbage(store).await;
}

async fn multipart_uploads_are_listed_aborted_and_go_with_their_bucket(store: &dyn BucketStore) {
    store.create_bucket(bucket("mpl")).await.expect("created");
    forget_all_garbage(store).await;
    for (key, id) in [("b", "u2"), ("a", "u3"), ("b", "u1"), ("c/d", "u4"), ("c/e", "u5")] {
        assert!(store.create_upload(upload("mpl", key, id)).await.expect("created"));
    }
    let range = |prefix: &str, after_key: &str, after_id: Option<&str>, limit| UploadRange {
        bucket: "mpl".into(),
        prefix: prefix.into(),
        after_key: after_key.into(),
        after_upload_id: after_id.map(str::to_owned),
        limit,
    };
    let listed = |uploads: Vec<UploadRecord>| {
        uploads
            .into_iter()
            .map(|upload| format!("{}:{}", upload.key, upload.upload_id))
            .collect::<Vec<_>>()
    };
    let all = listed(store.list_uploads(range("", "", None, 10)).await.expect("listed"));
    assert_eq!(all, ["a:u3", "b:u1", "b:u2", "c/d:u4", "c/e:u5"]);
    let after = listed(store.list_uploads(range("", "b", Some("u1"), 2)).await.expect("listed"));
    assert_eq!(after, ["b:u2", "c/d:u4"]);
    let past_key = listed(store.list_uploads(range("", "b", None, 10)).await.expect("listed"));
    assert_eq!(past_key, ["c/d:u4", "c/e:u5"]);
    let prefixed = listed(store.list_uploads(range("c/", "", None, 10)).await.expect("listed"));
    assert_eq!(prefixed, ["c/d:u4", "c/e:u5"]);
    assert!(
        store
            .put_part("mpl", "a", part("u3", 1, "mpl-a1"), 0)
            .await
            .expect("put")
    );
    assert!(!store.abort_upload("mpl", "b", "u3", 5_000).await.expect("answered"));
    assert!(store.abort_upload("mpl", "a", "u3", 5_000).await.expect("aborted"));
    assert!(!store.abort_upload("mpl", "a", "u3", 5_000).await.expect("answered"));
    assert_eq!(store.due_garbage(5_000, 10).await.expect("read"), ["mpl-a1"]);
    assert!(
        !store
            .put_part("mpl", "a", part("u3", 2, "mpl-a2"), 0)
            .await
            .expect("answered")
    );
    // Deleting the bucket aborts what is left.
    assert!(
        store
            .put_part("mpl", "b", part("u1", 1, "mpl-b1"), 0)
            .await
            .expect("put")
    );
    assert_eq!(
        store.delete_bucket("mpl").await.expect("answered"),
        BucketDeleted::Deleted
    );
    assert_eq!(store.upload("mpl", "b", "u1").await.expect("read"), None);
    assert!(
        store
            .due_garbage(i64::MAX / 2, 10)
            .await
            .expect("read")
            .contains(&"mpl-b1".to_owned())
    );
    forget_all_garbage(store).await;
}
