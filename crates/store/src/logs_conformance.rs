//! The conformance suite of [`LogStore`]: call [`run_all`] with a fresh store. Each check panics
//! with what it expected.

use crate::Error;
use crate::logs::{LogAppend, LogGroupRecord, LogQuery, LogStore, NewLogEvent};

/// Runs every check against `store`, which must be empty.
pub async fn run_all(store: &dyn LogStore) {
    groups_and_streams(store).await;
    appends_are_ordered_and_idempotent(store).await;
}

fn group(name: &str) -> LogGroupRecord {
    LogGroupRecord {
        name: name.to_owned(),
        arn: format!("arn:aws:logs:us-east-1:123456789012:log-group:{name}"),
        created_millis: 1_000,
    }
}

fn append(group: &str, stream: &str, events: &[(i64, &str)], key: Option<&str>) -> LogAppend {
    LogAppend {
        group: group.to_owned(),
        stream: stream.to_owned(),
        events: events
            .iter()
            .map(|(timestamp_millis, message)| NewLogEvent {
                timestamp_millis: *timestamp_millis,
                message: (*message).to_owned(),
            })
            .collect(),
        ingestion_millis: 9_000,
        create_with_arn: None,
        idempotency_key: key.map(str::to_owned),
    }
}

async fn groups_and_streams(store: &dyn LogStore) {
    store.create_log_group(group("/b")).await.expect("a group");
    store.create_log_group(group("/a")).await.expect("a group");
    assert!(matches!(
        store.create_log_group(group("/a")).await,
        Err(Error::AlreadyExists { .. })
    ));
    let names: Vec<String> = store
        .log_groups()
        .await
        .expect("a list")
        .into_iter()
        .map(|group| group.name)
        .collect();
    assert_eq!(names, ["/a", "/b"]);
    store.create_log_stream("/a", "s", 2_000).await.expect("a stream");
    assert!(matches!(
        store.create_log_stream("/a", "s", 2_000).await,
        Err(Error::AlreadyExists { .. })
    ));
    assert!(matches!(
        store.create_log_stream("/missing", "s", 2_000).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.append_log_events(append("/a", "other", &[(1, "x")], None)).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.log_streams("/missing").await,
        Err(Error::NotFound { .. })
    ));
    assert!(store.delete_log_group("/a").await.expect("a delete"));
    assert!(!store.delete_log_group("/a").await.expect("a delete"));
    assert!(store.delete_log_group("/b").await.expect("a delete"));
}

async fn appends_are_ordered_and_idempotent(store: &dyn LogStore) {
    let created = LogAppend {
        create_with_arn: Some(group("/g").arn),
        ..append("/g", "one", &[(300, "c"), (100, "a")], Some("delivery-1"))
    };
    let last = store.append_log_events(created.clone()).await.expect("an append");
    assert!(last.is_some(), "the group and stream are created with the first append");
    assert_eq!(
        store.append_log_events(created).await.expect("an append"),
        None,
        "a used idempotency key appends nothing"
    );
    store
        .append_log_events(append("/g", "one", &[(200, "b")], None))
        .await
        .expect("an append");
    store.create_log_stream("/g", "two", 1).await.expect("a stream");
    store
        .append_log_events(append("/g", "two", &[(150, "a2")], None))
        .await
        .expect("an append");
    let read = |query: LogQuery| async move {
        store
            .log_events(query)
            .await
            .expect("a read")
            .into_iter()
            .map(|event| event.message)
            .collect::<Vec<_>>()
    };
    let all = LogQuery {
        group: "/g".to_owned(),
        limit: 100,
        ..LogQuery::default()
    };
    assert_eq!(
        read(all.clone()).await,
        ["a", "a2", "b", "c"],
        "by timestamp across streams"
    );
    let one = LogQuery {
        streams: vec!["one".to_owned()],
        ..all.clone()
    };
    assert_eq!(read(one.clone()).await, ["a", "b", "c"]);
    let window = LogQuery {
        start_millis: Some(150),
        end_millis: Some(300),
        ..all.clone()
    };
    assert_eq!(read(window).await, ["a2", "b"], "the end is exclusive");
    let first_two = store
        .log_events(LogQuery {
            limit: 2,
            ..all.clone()
        })
        .await
        .expect("a read");
    let last = first_two.last().expect("two events");
    let rest = LogQuery {
        after: Some((last.timestamp_millis, last.sequence)),
        ..all.clone()
    };
    assert_eq!(read(rest).await, ["b", "c"], "resumes after a position");
    let backward = LogQuery {
        backward: true,
        limit: 2,
        ..one
    };
    assert_eq!(read(backward).await, ["c", "b"], "newest first");
    let prefixed = LogQuery {
        stream_prefix: Some("tw".to_owned()),
        ..all
    };
    assert_eq!(read(prefixed).await, ["a2"]);
    let streams = store.log_streams("/g").await.expect("a list");
    assert_eq!(streams.len(), 2);
    assert_eq!(
        (streams[0].first_event_millis, streams[0].last_event_millis),
        (Some(100), Some(300))
    );
    assert!(store.delete_log_group("/g").await.expect("a delete"));
}
