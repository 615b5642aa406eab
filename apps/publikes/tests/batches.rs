//! The list's actions on real buckets (SQLite and a blob folder), without a server: duplicates,
//! closing, merging with late pages, crashes between steps, the lock, and inserts racing
//! rotations.

use std::sync::Arc;

use publikes::batches::{Inserting, close_batch, current, insert_status, merge_batch};
use publikes::layout::*;
use publikes::objects::Objects;
use publikes::{lock, reader};
use sluice_buckets::WriteCondition;

struct Fixture {
    objects: Objects,
    _directory: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let store =
        Arc::new(sluice_store_sqlite::SqliteStore::open(&directory.path().join("sluice.db")).expect("the store"));
    let blobs = sluice_blob::Blobs::local(&directory.path().join("blobs")).expect("the blob folder");
    let buckets = sluice_buckets::Buckets::new(store, blobs, sluice_buckets::Options::default());
    Fixture {
        objects: Objects::new(buckets),
        _directory: directory,
    }
}

async fn walk(objects: &Objects) -> Vec<String> {
    reader::walk(|key| {
        let objects = objects.clone();
        async move { objects.get_bytes(&key).await }
    })
    .await
    .expect("the list reads")
}

fn ids(range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|number| format!("{}", 1_000_000 + number)).collect()
}

#[tokio::test]
async fn a_status_is_stored_once_newest_first() {
    let fixture = fixture();
    let objects = &fixture.objects;
    assert!(walk(objects).await.is_empty(), "no current.json is an empty list");
    for (index, id) in ids(0..5).iter().enumerate() {
        let inserted = insert_status(objects, id, index as i64).await.unwrap();
        assert!(matches!(inserted, Inserting::Inserted { .. }), "{inserted:?}");
    }
    let again = insert_status(objects, "1000002", 99).await.unwrap();
    assert!(matches!(again, Inserting::Duplicate { .. }), "{again:?}");
    assert_eq!(
        walk(objects).await,
        ["1000004", "1000003", "1000002", "1000001", "1000000"]
    );
    let error = insert_status(objects, "../etc", 1).await.unwrap_err();
    assert_eq!(error.error_type(), "Publikes.Invalid");
}

#[tokio::test]
async fn close_then_merge_keeps_order_and_finds_late_pages() {
    let fixture = fixture();
    let objects = &fixture.objects;
    for (index, id) in ids(0..25).iter().enumerate() {
        insert_status(objects, id, 100 + index as i64).await.unwrap();
    }
    let (_, first_head) = current(objects).await.unwrap();
    // A head page that reached the bucket but not the batch (as the seed's lost updates leave).
    let late = Page {
        id: head_page_id(&first_head, "2000000"),
        statuses: vec![Entry {
            id: "2000000".into(),
            ts: 50,
        }],
        created_at: 0,
    };
    objects
        .put(&page_key(&late.id), &late, WriteCondition::IfNoneMatch, CACHE_SHORT)
        .await
        .unwrap();

    let closing = close_batch(objects, "rotation-1", false).await.unwrap();
    assert!(closing.closed);
    assert_eq!(closing.closed_head_id.as_deref(), Some(first_head.as_str()));
    // Run again (a retried task after a crash): the same answer, no second batch.
    let again = close_batch(objects, "rotation-1", false).await.unwrap();
    assert_eq!(again.new_head_id, closing.new_head_id);
    assert_eq!(again.closed_head_id, closing.closed_head_id);
    // Statuses liked meanwhile go to the new head.
    insert_status(objects, "3000000", 500).await.unwrap();

    let merged = merge_batch(objects, &first_head).await.unwrap();
    assert_eq!((merged.statuses, merged.late, merged.already_merged), (26, 1, false));
    let mut expected: Vec<String> = vec!["3000000".into(), "2000000".into()];
    expected.extend(ids(0..25).into_iter().rev());
    assert_eq!(walk(objects).await, expected);
    let batch = objects
        .get::<Batch>(&batch_key(&first_head))
        .await
        .unwrap()
        .unwrap()
        .value;
    assert!(!batch.head);
    assert_eq!(
        batch.pages,
        [0, 1, 2, 3].map(|number| merged_page_id(&first_head, number))
    );
    assert!(
        objects.list(&head_pages_prefix(&first_head)).await.unwrap().is_empty(),
        "the merged head pages are deleted"
    );
    // A retried merge only cleans up.
    let retried = merge_batch(objects, &first_head).await.unwrap();
    assert!(retried.already_merged);
    assert_eq!(walk(objects).await, expected);
    // An empty head batch is not rotated; a repeat of a merged status is still a duplicate.
    let _ = close_batch(objects, "rotation-2", false).await.unwrap();
    let empty = close_batch(objects, "rotation-3", false).await.unwrap();
    assert!(!empty.closed);
    assert!(matches!(
        insert_status(objects, "1000007", 1).await.unwrap(),
        Inserting::Duplicate { .. }
    ));
}

#[tokio::test]
async fn a_claim_left_by_a_crash_is_finished_by_the_retry() {
    let fixture = fixture();
    let objects = &fixture.objects;
    insert_status(objects, "1", 1).await.unwrap();
    let (_, head) = current(objects).await.unwrap();
    // The status was claimed for the head batch, then the process died before it joined.
    let claim = Inserted {
        id: "2".into(),
        ts: 2,
        batch: head.clone(),
        joined: false,
    };
    objects
        .put(&inserted_key("2"), &claim, WriteCondition::IfNoneMatch, CACHE_SHORT)
        .await
        .unwrap();
    // Meanwhile the batch was closed: the retry moves it to the new head.
    close_batch(objects, "rotation", false).await.unwrap();
    let retried = insert_status(objects, "2", 2).await.unwrap();
    let (_, new_head) = current(objects).await.unwrap();
    assert_eq!(retried, Inserting::Inserted { batch: new_head });
    merge_batch(objects, &head).await.unwrap();
    assert_eq!(walk(objects).await, ["2", "1"]);
}

#[tokio::test]
async fn the_lock_is_a_lease() {
    let fixture = fixture();
    let objects = &fixture.objects;
    let held = lock::acquire(objects, "a", 60_000).await.unwrap().expect("free");
    assert_eq!(lock::acquire(objects, "b", 60_000).await.unwrap(), None, "held by a");
    assert!(
        lock::acquire(objects, "a", 60_000).await.unwrap().is_some(),
        "a retried task takes it again"
    );
    assert!(
        !lock::release(objects, &held).await.unwrap(),
        "a stale ETag releases nothing"
    );
    assert!(lock::release_by_id(objects, "a").await.unwrap());
    let short = lock::acquire(objects, "c", 1).await.unwrap().expect("free again");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let taken = lock::acquire(objects, "d", 60_000)
        .await
        .unwrap()
        .expect("c's lease lapsed");
    assert!(!lock::release(objects, &short).await.unwrap(), "c no longer holds it");
    assert!(!lock::release_by_id(objects, "c").await.unwrap());
    assert!(lock::release(objects, &taken).await.unwrap());
}

/// Eight writers insert 400 statuses (each liked twice) while rotations close and merge the
/// head batch: every status is in the list exactly once, and each writer's statuses appear in
/// the order it wrote them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn inserts_racing_rotations_lose_and_repeat_nothing() {
    let fixture = fixture();
    let objects = fixture.objects.clone();
    let writers = (0..8u32)
        .map(|writer| {
            let objects = objects.clone();
            tokio::spawn(async move {
                for number in 0..50u32 {
                    let id = format!("{}", (writer + 1) * 1_000_000 + number);
                    insert_status(&objects, &id, i64::from(number)).await.unwrap();
                    if number % 7 == 0 {
                        let again = insert_status(&objects, &id, i64::from(number)).await.unwrap();
                        assert!(matches!(again, Inserting::Duplicate { .. }), "{again:?}");
                    }
                }
            })
        })
        .collect::<Vec<_>>();
    let rotations = {
        let objects = objects.clone();
        tokio::spawn(async move {
            let mut closed = Vec::new();
            for round in 0..12 {
                tokio::time::sleep(std::time::Duration::from_millis(40)).await;
                let closing = close_batch(&objects, &format!("rotation-{round}"), false)
                    .await
                    .unwrap();
                if let Some(batch) = closing.closed_head_id {
                    closed.push(batch);
                }
                // Merge the batch closed one round before, as the Wait in rotate-batch does.
                if closed.len() >= 2 {
                    let batch = closed[closed.len() - 2].clone();
                    merge_batch(&objects, &batch).await.unwrap();
                }
            }
            closed
        })
    };
    for writer in writers {
        writer.await.unwrap();
    }
    let closed = rotations.await.unwrap();
    assert!(closed.len() >= 2, "rotations ran while writing: {closed:?}");
    for batch in &closed {
        merge_batch(&objects, batch).await.unwrap();
    }
    let listed = walk(&objects).await;
    assert_eq!(listed.len(), 400, "every status once");
    let unique: std::collections::HashSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), 400, "no status twice");
    for writer in 0..8u32 {
        let base = (writer + 1) * 1_000_000;
        let mine: Vec<u32> = listed
            .iter()
            .filter_map(|id| id.parse::<u32>().ok())
            .filter(|id| id / 1_000_000 == writer + 1)
            .map(|id| id - base)
            .collect();
        let expected: Vec<u32> = (0..50).rev().collect();
        assert_eq!(mine, expected, "writer {writer}'s statuses, newest first");
    }
}
