//! Archives and replays on the real SQLite store with a test clock.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use serde_json::json;

use super::{ArchiveInput, ReplayInput};
use crate::tests::{open, start};
use crate::{Error, RuleInput, Target};

const BUS: &str = "arn:aws:events:us-east-1:123456789012:event-bus/default";

#[tokio::test]
async fn archived_events_are_replayed_once_to_the_chosen_rules() {
    let folder = tempfile::tempdir().unwrap();
    let fixture = open(folder.path(), Arc::new(Mutex::new(start()))).await;
    fixture.bus.attach_archives(fixture.store.clone()).await.unwrap();
    let archive = fixture
        .bus
        .create_archive(ArchiveInput {
            name: "orders".to_owned(),
            event_source_arn: Some(BUS.to_owned()),
            event_pattern: Some(r#"{"source": ["shop"]}"#.to_owned()),
            ..ArchiveInput::default()
        })
        .await
        .unwrap();
    for (name, source) in [("record", "shop"), ("other", "shop")] {
        fixture
            .bus
            .put_rule(RuleInput {
                name: name.to_owned(),
                bus: None,
                event_pattern: Some(format!(r#"{{"source": ["{source}"]}}"#)),
                schedule: None,
                state: None,
                description: None,
                role_arn: None,
            })
            .await
            .unwrap();
    }
    let target: Target =
        serde_json::from_str(r#"{"Id": "record", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:record"}"#)
            .unwrap();
    fixture.bus.put_targets(None, "record", vec![target]).await.unwrap();
    fixture.put("shop", json!({"n": 1})).await;
    fixture.put("elsewhere", json!({"n": 2})).await;
    fixture.advance(Duration::minutes(1));
    fixture.put("shop", json!({"n": 3})).await;
    while fixture.bus.deliver_due().await.unwrap() > 0 {}
    assert_eq!(fixture.calls().len(), 2);
    let view = fixture.bus.describe_archive("orders").await.unwrap();
    assert_eq!(view.event_count, 2, "only the events the pattern matches");

    let record_rule = fixture.bus.describe_rule(None, "record").unwrap().arn;
    let replay = fixture
        .bus
        .start_replay(ReplayInput {
            name: "again".to_owned(),
            description: None,
            event_source_arn: archive.arn.clone(),
            event_start: start() - Duration::minutes(1),
            event_end: start() + Duration::seconds(30),
            destination_arn: BUS.to_owned(),
            filter_arns: vec![record_rule],
        })
        .await
        .unwrap();
    assert_eq!(replay.state, "STARTING");
    let mut replayed = 0;
    for _ in 0..4 {
        replayed += fixture.bus.replay_due().await.unwrap();
    }
    assert_eq!(replayed, 1, "only the event inside the window, once");
    assert_eq!(fixture.bus.describe_replay("again").await.unwrap().state, "COMPLETED");
    while fixture.bus.deliver_due().await.unwrap() > 0 {}
    let calls = fixture.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[2]["replay-name"], json!("again"));
    assert_eq!(calls[2]["detail"], json!({"n": 1}));
    assert_eq!(
        fixture.bus.describe_archive("orders").await.unwrap().event_count,
        2,
        "replayed events are not archived again"
    );
    assert!(matches!(
        fixture.bus.cancel_replay("again").await,
        Err(Error::IllegalStatus { .. })
    ));
    let cross_bus = fixture
        .bus
        .start_replay(ReplayInput {
            name: "elsewhere".to_owned(),
            description: None,
            event_source_arn: archive.arn,
            event_start: start(),
            event_end: start() + Duration::hours(1),
            destination_arn: "arn:aws:events:us-east-1:123456789012:event-bus/other".to_owned(),
            filter_arns: Vec::new(),
        })
        .await;
    assert!(matches!(cross_bus, Err(Error::Validation { .. })));
}
