//! The conformance suite of [`ArchiveStore`]: call [`run_all`] with a fresh store. Each check
//! panics with what it expected.

use crate::Error;
use crate::archives::{ArchiveRecord, ArchiveStore, ArchivedEvent, ReplayRecord, ReplayStep};
use crate::bus_conformance::delivery;

/// Runs every check against `store`, which must be empty (and be a `BusStore` too).
pub async fn run_all(store: &dyn ArchiveStore) {
    archives_keep_events_with_their_deliveries(store).await;
    a_replay_step_is_written_once(store).await;
}

fn archive(name: &str, retention_days: u32) -> ArchiveRecord {
    ArchiveRecord {
        name: name.to_owned(),
        arn: format!("arn:aws:events:us-east-1:123456789012:archive/{name}"),
        source_arn: "arn:aws:events:us-east-1:123456789012:event-bus/default".to_owned(),
        bus: "default".to_owned(),
        event_pattern: None,
        description: None,
        retention_days,
        created_millis: 1_000,
    }
}

fn archived(archive: &str, event_millis: i64, archived_millis: i64) -> ArchivedEvent {
    ArchivedEvent {
        archive: archive.to_owned(),
        sequence: 0,
        event_millis,
        archived_millis,
        event: format!(r#"{{"time":{event_millis}}}"#),
    }
}

async fn archives_keep_events_with_their_deliveries(store: &dyn ArchiveStore) {
    store.create_archive(archive("keep", 0)).await.expect("an archive");
    store.create_archive(archive("week", 7)).await.expect("an archive");
    assert!(matches!(
        store.create_archive(archive("keep", 1)).await,
        Err(Error::AlreadyExists { .. })
    ));
    let updated = ArchiveRecord {
        description: Some("kept".to_owned()),
        ..archive("keep", 3)
    };
    store.update_archive(updated.clone()).await.expect("an update");
    assert!(matches!(
        store.update_archive(archive("missing", 1)).await,
        Err(Error::NotFound { .. })
    ));
    let archives = store.list_archives().await.expect("a list");
    assert_eq!(archives, [updated, archive("week", 7)]);
    let day = 86_400_000;
    store
        .enqueue_archived(
            vec![],
            vec![
                archived("keep", 100, 10 * day),
                archived("week", 200, 10 * day),
                archived("keep", 300, 12 * day),
            ],
        )
        .await
        .expect("an append");
    assert_eq!(store.archive_size("keep").await.expect("a size").0, 2);
    let events = store.archived_events("keep", 0, 0, 1_000, 10).await.expect("a read");
    let times: Vec<i64> = events.iter().map(|event| event.event_millis).collect();
    assert_eq!(times, [100, 300]);
    assert!(events[0].sequence < events[1].sequence);
    let later = store
        .archived_events("keep", events[0].sequence, 0, 1_000, 10)
        .await
        .expect("a read");
    assert_eq!(later.len(), 1);
    assert!(
        store
            .archived_events("keep", 0, 150, 300, 10)
            .await
            .expect("a read")
            .is_empty(),
        "the end is exclusive"
    );
    // At day 14, the 3-day archive drops the event archived on day 10; the 7-day one keeps its own.
    assert_eq!(store.expire_archived(14 * day).await.expect("an expiry"), 1);
    assert_eq!(store.archive_size("keep").await.expect("a size").0, 1);
    assert_eq!(store.archive_size("week").await.expect("a size").0, 1);
    assert!(store.delete_archive("week").await.expect("a delete"));
    assert!(!store.delete_archive("week").await.expect("a delete"));
    assert_eq!(store.archive_size("week").await.expect("a size").0, 0);
}

async fn a_replay_step_is_written_once(store: &dyn ArchiveStore) {
    let replay = ReplayRecord {
        name: "again".to_owned(),
        arn: "arn:aws:events:us-east-1:123456789012:replay/again".to_owned(),
        archive_arn: "arn:aws:events:us-east-1:123456789012:archive/keep".to_owned(),
        archive: "keep".to_owned(),
        description: None,
        state: "RUNNING".to_owned(),
        state_reason: None,
        event_start_millis: 0,
        event_end_millis: 1_000,
        destination_arn: "arn:aws:events:us-east-1:123456789012:event-bus/default".to_owned(),
        filter_arns: vec!["arn:aws:events:us-east-1:123456789012:rule/r".to_owned()],
        replay_start_millis: 5,
        replay_end_millis: None,
        last_replayed_millis: None,
        position: 0,
    };
    store.create_replay(replay.clone()).await.expect("a replay");
    assert!(matches!(
        store.create_replay(replay.clone()).await,
        Err(Error::AlreadyExists { .. })
    ));
    let step = |expected, position, id: &str| ReplayStep {
        name: "again".to_owned(),
        expected_position: expected,
        position,
        last_replayed_millis: Some(300),
        deliveries: vec![delivery(id, 1)],
    };
    assert!(store.advance_replay(step(0, 7, "r1")).await.expect("a step"));
    assert!(
        !store.advance_replay(step(0, 7, "r1-again")).await.expect("a step"),
        "a step is written once"
    );
    let stored = store.list_replays().await.expect("a list");
    assert_eq!((stored[0].position, stored[0].last_replayed_millis), (7, Some(300)));
    assert_eq!(stored[0].filter_arns, replay.filter_arns);
    let cancelled = ReplayRecord {
        state: "CANCELLED".to_owned(),
        replay_end_millis: Some(9),
        ..stored[0].clone()
    };
    store.update_replay(cancelled).await.expect("an update");
    assert!(
        !store.advance_replay(step(7, 8, "r2")).await.expect("a step"),
        "a replay that is not running does not move"
    );
    assert_eq!(
        store.list_replays().await.expect("a list")[0].position,
        7,
        "an update keeps the position"
    );
}
