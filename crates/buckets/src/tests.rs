//! The buckets on a real SQLite store and the local folder: semantics, races, hostile keys,
//! notifications and sweeps.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde_json::Value;
use sluice_blob::Blobs;
use sluice_store::objects::{Condition, NotificationRule};
use sluice_store_sqlite::SqliteStore;

use crate::notify::{Targets, deliver_due};
use crate::{Buckets, Error, ListQuery, MetadataDirective, Options, PutObject};

struct Fixture {
    folder: tempfile::TempDir,
    buckets: Buckets,
}

fn fixture(options: Options) -> Fixture {
    let folder = tempfile::tempdir().expect("a folder");
    let store = SqliteStore::open(&folder.path().join("sluice.db")).expect("the store opens");
    let blobs = Blobs::local(&folder.path().join("blobs")).expect("the blobs open");
    let buckets = Buckets::new(Arc::new(store), blobs, options);
    Fixture { folder, buckets }
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn put(bucket: &str, key: &str, body: &str, condition: Condition) -> PutObject {
    PutObject {
        bucket: bucket.into(),
        key: key.into(),
        body: Bytes::from(body.to_owned()),
        content_type: Some("text/plain".into()),
        user_metadata: BTreeMap::from([("owner".to_owned(), "me".to_owned())]),
        headers: BTreeMap::new(),
        condition,
        now: now(),
    }
}

async fn read(buckets: &Buckets, bucket: &str, key: &str) -> String {
    let record = buckets.object(bucket, key).await.expect("the object");
    let mut stream = buckets.open(&record, None).await.expect("opened");
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.expect("bytes"));
    }
    String::from_utf8(bytes).expect("text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn puts_gets_copies_and_deletes_with_s3_errors() {
    let Fixture {
        buckets,
        folder: _folder,
    } = fixture(Options::default());
    buckets.create_bucket("docs", now()).await.expect("created");
    assert!(matches!(
        buckets.create_bucket("docs", now()).await,
        Err(Error::BucketAlreadyOwnedByYou { .. })
    ));
    assert!(matches!(
        buckets.create_bucket("Bad_Name", now()).await,
        Err(Error::InvalidBucketName { .. })
    ));
    let written = buckets
        .put_object(put("docs", "a.txt", "hello", Condition::Always))
        .await
        .expect("put");
    assert_eq!(written.etag, "5d41402abc4b2a76b9719d911017c592");
    assert_eq!(read(&buckets, "docs", "a.txt").await, "hello");
    assert!(matches!(
        buckets.put_object(put("nope", "a", "x", Condition::Always)).await,
        Err(Error::NoSuchBucket { .. })
    ));
    assert!(matches!(
        buckets.object("docs", "b.txt").await,
        Err(Error::NoSuchKey { .. })
    ));
    assert!(matches!(
        buckets.object("nope", "b.txt").await,
        Err(Error::NoSuchBucket { .. })
    ));
    // Conditional puts.
    assert!(matches!(
        buckets
            .put_object(put("docs", "a.txt", "x", Condition::IfNoneMatch))
            .await,
        Err(Error::PreconditionFailed {
            condition: "If-None-Match"
        })
    ));
    assert!(matches!(
        buckets
            .put_object(put("docs", "a.txt", "x", Condition::IfMatch("0".into())))
            .await,
        Err(Error::PreconditionFailed { condition: "If-Match" })
    ));
    assert!(matches!(
        buckets
            .put_object(put("docs", "new", "x", Condition::IfMatch("0".into())))
            .await,
        Err(Error::NoSuchKey { .. })
    ));
    buckets
        .put_object(put("docs", "a.txt", "world", Condition::IfMatch(written.etag.clone())))
        .await
        .expect("the matching put");
    assert_eq!(read(&buckets, "docs", "a.txt").await, "world");
    // Copies keep or replace metadata.
    let source = buckets.object("docs", "a.txt").await.expect("the source");
    let copy = buckets
        .copy_object(
            &source,
            "docs",
            "b.txt",
            MetadataDirective::Copy,
            Condition::Always,
            now(),
        )
        .await
        .expect("copied");
    assert_eq!(
        (copy.etag.as_str(), copy.user_metadata.get("owner").map(String::as_str)),
        (source.etag.as_str(), Some("me"))
    );
    let replaced = buckets
        .copy_object(
            &source,
            "docs",
            "c.txt",
            MetadataDirective::Replace {
                content_type: None,
                user_metadata: BTreeMap::new(),
                headers: BTreeMap::new(),
            },
            Condition::Always,
            now(),
        )
        .await
        .expect("copied");
    assert_eq!(replaced.content_type, crate::DEFAULT_CONTENT_TYPE);
    assert!(replaced.user_metadata.is_empty());
    assert_eq!(read(&buckets, "docs", "c.txt").await, "world");
    assert!(matches!(
        buckets.delete_bucket("docs").await,
        Err(Error::BucketNotEmpty { .. })
    ));
    for key in ["a.txt", "b.txt", "c.txt", "never"] {
        buckets
            .delete_object("docs", key, Condition::Always, now())
            .await
            .expect("deleted");
    }
    buckets
        .delete_bucket("docs")
        .await
        .expect("the empty bucket is deleted");
}

/// 32 writers race `If-None-Match: *` on one key, 200 rounds, on the local folder: exactly one
/// wins each round, the object holds the winner's bytes, and the losers leave no blob behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_creates_on_the_local_folder_have_one_winner() {
    let Fixture { buckets, folder } = fixture(Options::default());
    buckets.create_bucket("locks", now()).await.expect("created");
    for round in 0..200 {
        let key = format!("lock-{round}");
        let mut tasks = Vec::new();
        for writer in 0..32 {
            let buckets = buckets.clone();
            let put = put("locks", &key, &format!("writer {writer}"), Condition::IfNoneMatch);
            tasks.push(tokio::spawn(async move { (writer, buckets.put_object(put).await) }));
        }
        let mut winners = Vec::new();
        for task in tasks {
            match task.await.expect("the writer ran") {
                (writer, Ok(_)) => winners.push(writer),
                (_, Err(Error::PreconditionFailed { .. })) => {}
                (_, Err(other)) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        assert_eq!(read(&buckets, "locks", &key).await, format!("writer {}", winners[0]));
    }
    let blobs = std::fs::read_dir(folder.path().join("blobs/locks"))
        .expect("the bucket's blobs")
        .count();
    assert_eq!(blobs, 200, "one blob per winner, none per loser");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_keys_stay_keys_and_never_become_paths() {
    let Fixture { buckets, folder } = fixture(Options::default());
    buckets.create_bucket("safe", now()).await.expect("created");
    let hostile = [
        "../../escape",
        "/etc/passwd",
        "..\\..\\windows",
        "a/../../../b",
        "./.",
        "..",
        &"long/".repeat(204),
    ];
    for key in hostile {
        buckets
            .put_object(put("safe", key, key, Condition::Always))
            .await
            .expect("a valid S3 key is stored");
        assert_eq!(read(&buckets, "safe", key).await, key);
    }
    // Every file is a blob under blobs/safe/, named by this crate.
    let mut files = Vec::new();
    let mut folders = vec![folder.path().to_owned()];
    while let Some(next) = folders.pop() {
        for entry in std::fs::read_dir(&next).expect("a folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let blobs: Vec<_> = files
        .iter()
        .filter(|path| path.starts_with(folder.path().join("blobs")))
        .collect();
    assert_eq!(blobs.len(), hostile.len());
    assert!(
        blobs
            .iter()
            .all(|path| path.parent() == Some(&folder.path().join("blobs/safe")))
    );
    for (key, expected) in [
        (String::from("nul\0"), "InvalidArgument"),
        ("k".repeat(1025), "KeyTooLong"),
        (String::new(), "InvalidArgument"),
    ] {
        let error = buckets
            .put_object(put("safe", &key, "x", Condition::Always))
            .await
            .expect_err("refused");
        assert!(format!("{error:?}").starts_with(expected), "{error:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_roll_up_common_prefixes_and_resume() {
    let Fixture {
        buckets,
        folder: _folder,
    } = fixture(Options::default());
    buckets.create_bucket("tree", now()).await.expect("created");
    for key in ["a/1", "a/2", "b/1", "c", "d/x/1", "d/y", "e"] {
        buckets
            .put_object(put("tree", key, "x", Condition::Always))
            .await
            .expect("put");
    }
    let query = |delimiter: &str, after: &str, max_keys: usize| ListQuery {
        bucket: "tree".into(),
        prefix: String::new(),
        delimiter: delimiter.into(),
        after: after.into(),
        max_keys,
    };
    let page = buckets.list_objects(&query("/", "", 3)).await.expect("listed");
    assert_eq!(page.common_prefixes, ["a/", "b/"]);
    assert_eq!(page.objects.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), ["c"]);
    assert!(page.truncated);
    let next = page.next_after.expect("a next page");
    let page = buckets.list_objects(&query("/", &next, 3)).await.expect("listed");
    assert_eq!(page.common_prefixes, ["d/"]);
    assert_eq!(page.objects.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), ["e"]);
    assert!(!page.truncated);
    let flat = buckets.list_objects(&query("", "b/1", 100)).await.expect("listed");
    assert_eq!(flat.objects.len(), 4);
    let nested = ListQuery {
        prefix: "d/".into(),
        ..query("/", "", 10)
    };
    let page = buckets.list_objects(&nested).await.expect("listed");
    assert_eq!(page.common_prefixes, ["d/x/"]);
    assert_eq!(page.objects.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), ["d/y"]);
}

#[derive(Default)]
struct Recorder {
    delivered: Mutex<Vec<(String, Value)>>,
    fail_first: Mutex<bool>,
}

#[async_trait]
impl Targets for Recorder {
    fn check(&self, _arn: &str) -> Result<(), String> {
        Ok(())
    }

    async fn deliver(&self, arn: &str, event: &Value) -> Result<(), String> {
        let mut fail = self.fail_first.lock().expect("a lock");
        if *fail {
            *fail = false;
            return Err("the target is down".into());
        }
        self.delivered
            .lock()
            .expect("a lock")
            .push((arn.to_owned(), event.clone()));
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_acknowledged_changes_are_delivered_in_s3_shape_and_retried() {
    let Fixture {
        buckets,
        folder: _folder,
    } = fixture(Options::default());
    buckets.create_bucket("inbox", now()).await.expect("created");
    let rule = NotificationRule {
        id: "promote".into(),
        target: "arn:aws:lambda:us-east-1:123456789012:function:promoter".into(),
        events: vec!["s3:ObjectCreated:*".into()],
        prefix: "updates/".into(),
        suffix: String::new(),
    };
    buckets.set_notifications("inbox", vec![rule]).await.expect("set");
    buckets
        .put_object(put("inbox", "updates/my file.json", "{}", Condition::IfNoneMatch))
        .await
        .expect("put");
    let _refused = buckets
        .put_object(put("inbox", "updates/my file.json", "{}", Condition::IfNoneMatch))
        .await;
    buckets
        .put_object(put("inbox", "elsewhere", "{}", Condition::Always))
        .await
        .expect("put");
    let recorder = Recorder {
        fail_first: Mutex::new(true),
        ..Recorder::default()
    };
    assert_eq!(deliver_due(&buckets, &recorder, now()).await.expect("delivered"), 1);
    assert!(
        recorder.delivered.lock().expect("a lock").is_empty(),
        "the first attempt failed"
    );
    let later = now() + chrono::Duration::seconds(5);
    assert_eq!(deliver_due(&buckets, &recorder, later).await.expect("delivered"), 1);
    let delivered = recorder.delivered.lock().expect("a lock").clone();
    assert_eq!(delivered.len(), 1);
    let (arn, event) = &delivered[0];
    assert!(arn.ends_with(":function:promoter"));
    let record = &event["Records"][0];
    assert_eq!(record["eventName"], "ObjectCreated:Put");
    assert_eq!(record["s3"]["bucket"]["name"], "inbox");
    assert_eq!(record["s3"]["object"]["key"], "updates/my+file.json");
    assert_eq!(record["s3"]["object"]["size"], 2);
    assert_eq!(record["s3"]["object"]["eTag"], "99914b932bd37a50b983c5e7c90ae93b");
    assert_eq!(deliver_due(&buckets, &recorder, later).await.expect("nothing left"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaced_blobs_and_orphans_are_swept() {
    let options = Options {
        garbage_delay: Duration::from_secs(0),
        // A commit never names a blob older than half of this; the sweep takes only older ones.
        orphan_grace: Duration::from_secs(10),
        ..Options::default()
    };
    let Fixture { buckets, folder } = fixture(options);
    buckets.create_bucket("sweep", now()).await.expect("created");
    buckets
        .put_object(put("sweep", "k", "one", Condition::Always))
        .await
        .expect("put");
    buckets
        .put_object(put("sweep", "k", "two", Condition::Always))
        .await
        .expect("put");
    let blob_count = || {
        std::fs::read_dir(folder.path().join("blobs/sweep"))
            .map(|dir| dir.count())
            .unwrap_or(0)
    };
    assert_eq!(blob_count(), 2);
    let later = now() + chrono::Duration::seconds(1);
    assert_eq!(buckets.sweep_garbage(later).await.expect("swept"), 1);
    assert_eq!(blob_count(), 1);
    // A blob whose put never committed (a crash in between) is an orphan.
    let orphan = Blobs::new_name("sweep");
    Blobs::local(&folder.path().join("blobs"))
        .expect("opened")
        .write(&orphan, Bytes::from_static(b"lost"))
        .await
        .expect("written");
    assert_eq!(blob_count(), 2);
    assert_eq!(buckets.sweep_orphans(later).await.expect("too young"), 0);
    let past_grace = now() + chrono::Duration::seconds(11);
    assert_eq!(buckets.sweep_orphans(past_grace).await.expect("swept"), 1);
    assert_eq!(blob_count(), 1);
    assert_eq!(read(&buckets, "sweep", "k").await, "two");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_parts_are_not_orphans_and_go_when_completed_or_aborted() {
    let options = Options {
        garbage_delay: Duration::from_secs(0),
        orphan_grace: Duration::from_secs(10),
        ..Options::default()
    };
    let Fixture { buckets, folder } = fixture(options);
    buckets.create_bucket("parts", now()).await.expect("created");
    let blob_count = || {
        std::fs::read_dir(folder.path().join("blobs/parts"))
            .map(|dir| dir.count())
            .unwrap_or(0)
    };
    let create = |key: &str| crate::CreateUpload {
        bucket: "parts".into(),
        key: key.into(),
        content_type: None,
        user_metadata: BTreeMap::new(),
        headers: BTreeMap::new(),
        now: now(),
    };
    let kept = buckets.create_upload(create("kept")).await.expect("created");
    let part = buckets
        .upload_part("parts", "kept", &kept.upload_id, 1, Bytes::from_static(b"one"), now())
        .await
        .expect("uploaded");
    let dropped = buckets.create_upload(create("dropped")).await.expect("created");
    buckets
        .upload_part(
            "parts",
            "dropped",
            &dropped.upload_id,
            1,
            Bytes::from_static(b"x"),
            now(),
        )
        .await
        .expect("uploaded");
    assert_eq!(blob_count(), 2);
    let past_grace = now() + chrono::Duration::seconds(11);
    assert_eq!(
        buckets.sweep_orphans(past_grace).await.expect("swept"),
        0,
        "parts are in use"
    );
    buckets
        .abort_upload("parts", "dropped", &dropped.upload_id, now())
        .await
        .expect("aborted");
    let completed = buckets
        .complete_upload(
            "parts",
            "kept",
            &kept.upload_id,
            &[crate::CompletedPart {
                part_number: 1,
                etag: part.etag.clone(),
            }],
            Condition::IfNoneMatch,
            now(),
        )
        .await
        .expect("completed");
    assert_eq!(
        completed.etag,
        crate::multipart::multipart_etag([part.etag.as_str()].into_iter())
    );
    assert_eq!(read(&buckets, "parts", "kept").await, "one");
    // The aborted part and the completed upload's part are garbage; the joined blob stays.
    assert_eq!(buckets.sweep_garbage(past_grace).await.expect("swept"), 2);
    assert_eq!(blob_count(), 1);
    assert!(matches!(
        buckets.abort_upload("parts", "kept", &kept.upload_id, now()).await,
        Err(Error::NoSuchUpload { .. })
    ));
}
