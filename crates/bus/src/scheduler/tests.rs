//! Schedules on the real SQLite store with a test clock: one-time schedules in a zone, deletion
//! after completion, missed fires across a restart, and the errors of the control operations.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use serde_json::json;

use super::{Definition, FlexibleTimeWindow, ScheduleInput, ScheduleTarget};
use crate::tests::{open, start};
use crate::{Error, Schedule};

const RECORD_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:record";

fn schedule(name: &str, expression: &str, zone: Option<&str>) -> ScheduleInput {
    ScheduleInput {
        name: name.to_owned(),
        group: None,
        enabled: true,
        definition: Definition {
            schedule_expression: expression.to_owned(),
            schedule_expression_timezone: zone.map(str::to_owned),
            start_date: None,
            end_date: None,
            description: None,
            flexible_time_window: FlexibleTimeWindow {
                mode: "OFF".to_owned(),
                maximum_window_in_minutes: None,
            },
            target: ScheduleTarget {
                arn: RECORD_ARN.to_owned(),
                role_arn: "arn:aws:iam::123456789012:role/scheduler".to_owned(),
                input: Some(
                    r#"{"at": "<aws.scheduler.scheduled-time>", "by": "<aws.scheduler.schedule-arn>"}"#.to_owned(),
                ),
                retry_policy: None,
                dead_letter_config: None,
                sqs_parameters: None,
                event_bridge_parameters: None,
            },
            action_after_completion: None,
            kms_key_arn: None,
        },
    }
}

#[tokio::test]
async fn a_one_time_schedule_fires_once_in_its_zone_and_may_delete_itself() {
    let folder = tempfile::tempdir().unwrap();
    let now = Arc::new(Mutex::new(start()));
    let fixture = open(folder.path(), now.clone()).await;
    // 21:30 in Tokyo is 12:30 UTC, half an hour after the test starts.
    let mut input = schedule("once", "at(2026-11-23T21:30:00)", Some("Asia/Tokyo"));
    input.definition.action_after_completion = Some("DELETE".to_owned());
    let arn = fixture.bus.create_schedule(input.clone()).await.unwrap();
    assert_eq!(arn, "arn:aws:scheduler:us-east-1:123456789012:schedule/default/once");
    let view = fixture.bus.get_schedule(None, "once").unwrap();
    assert_eq!(
        view.record.next_fire_millis,
        Some((start() + Duration::seconds(29 * 60 + 30)).timestamp_millis())
    );
    assert!(matches!(
        fixture.bus.create_schedule(input).await,
        Err(Error::Conflict { .. })
    ));

    fixture.advance(Duration::minutes(29));
    assert_eq!(fixture.bus.fire_schedules_due().await.unwrap(), 0, "not yet");
    fixture.advance(Duration::minutes(1));
    assert_eq!(fixture.bus.fire_schedules_due().await.unwrap(), 1);
    assert_eq!(fixture.bus.fire_schedules_due().await.unwrap(), 0, "once");
    assert!(
        matches!(
            fixture.bus.get_schedule(None, "once"),
            Err(Error::ResourceNotFound { .. })
        ),
        "ActionAfterCompletion DELETE removes it after its fire"
    );
    let reopened = open(folder.path(), now.clone()).await;
    assert_eq!(
        reopened.bus.fire_schedules_due().await.unwrap(),
        0,
        "not again after a restart"
    );
    assert!(reopened.bus.get_schedule(None, "once").is_err());

    while fixture.bus.deliver_due().await.unwrap() > 0 {}
    assert_eq!(
        fixture.calls(),
        [json!({"at": "2026-11-23T12:30:00Z", "by": arn})],
        "the input, with the context attributes filled in"
    );
}

#[tokio::test]
async fn a_recurring_schedule_fires_once_per_time_and_not_for_missed_times() {
    let folder = tempfile::tempdir().unwrap();
    let now = Arc::new(Mutex::new(start()));
    let fixture = open(folder.path(), now.clone()).await;
    // Every day at 13:00 in Paris (12:00 UTC in winter): the first is tomorrow.
    fixture
        .bus
        .create_schedule(schedule("daily", "cron(0 13 * * ? *)", Some("Europe/Paris")))
        .await
        .unwrap();
    assert_eq!(fixture.bus.fire_schedules_due().await.unwrap(), 0);
    fixture.advance(Duration::days(1));
    assert_eq!(fixture.bus.fire_schedules_due().await.unwrap(), 1);
    assert_eq!(fixture.bus.fire_schedules_due().await.unwrap(), 0);

    // Down for three days: the missed fires happen once at start, then it goes on from now.
    let reopened = open(folder.path(), now.clone()).await;
    reopened.advance(Duration::days(3));
    assert_eq!(reopened.bus.fire_schedules_due().await.unwrap(), 1);
    assert_eq!(reopened.bus.fire_schedules_due().await.unwrap(), 0);
    let view = reopened.bus.get_schedule(None, "daily").unwrap();
    assert_eq!(
        view.record.next_fire_millis,
        Some((start() + Duration::days(5) - Duration::seconds(30)).timestamp_millis()),
        "the next fire is the first after now"
    );
    assert_eq!(reopened.pending().await, 2);

    // Disabled, it does not fire; an update replaces it whole.
    let mut disabled = schedule("daily", "rate(1 hour)", None);
    disabled.enabled = false;
    reopened.bus.update_schedule(disabled).await.unwrap();
    reopened.advance(Duration::days(2));
    assert_eq!(reopened.bus.fire_schedules_due().await.unwrap(), 0);
    let view = reopened.bus.get_schedule(None, "daily").unwrap();
    assert_eq!(view.definition.schedule_expression, "rate(1 hour)");
    assert_eq!(view.record.next_fire_millis, None);
    reopened.bus.delete_schedule(None, "daily").await.unwrap();
    assert!(matches!(
        reopened.bus.delete_schedule(None, "daily").await,
        Err(Error::ResourceNotFound { .. })
    ));
}

#[tokio::test]
async fn schedules_are_checked_whole() {
    let folder = tempfile::tempdir().unwrap();
    let fixture = open(folder.path(), Arc::new(Mutex::new(start()))).await;
    let refused = |input: ScheduleInput, fragment: &'static str| {
        let bus = fixture.bus.clone();
        async move {
            let error = bus.create_schedule(input).await.unwrap_err();
            assert!(error.to_string().contains(fragment), "{error}");
            error
        }
    };
    refused(schedule("a", "at(tomorrow)", None), "at(yyyy-mm-ddThh:mm:ss)").await;
    refused(
        schedule("a", "rate(1 hour)", Some("Europe/Atlantis")),
        "ScheduleExpressionTimezone",
    )
    .await;
    refused(schedule("a b", "rate(1 hour)", None), "Schedule name").await;
    let mut input = schedule("a", "rate(1 hour)", None);
    input.group = Some("other".to_owned());
    let error = refused(input, "Schedule group other").await;
    assert!(matches!(error, Error::ResourceNotFound { .. }));
    let mut input = schedule("a", "rate(1 hour)", None);
    input.definition.flexible_time_window.mode = "FLEXIBLE".to_owned();
    refused(input, "MaximumWindowInMinutes").await;
    let mut input = schedule("a", "rate(1 hour)", None);
    input.definition.target.arn = "arn:aws:events:us-east-1:123456789012:event-bus/default".to_owned();
    refused(input, "EventBridgeParameters").await;
    let mut input = schedule("a", "rate(1 hour)", None);
    input.definition.target.input = Some("not json".to_owned());
    refused(input, "Target.Input").await;
    let mut input = schedule("a", "rate(1 hour)", None);
    input.definition.start_date = Some(start().timestamp_millis());
    input.definition.end_date = Some(start().timestamp_millis());
    refused(input, "EndDate").await;
    assert!(matches!(
        fixture
            .bus
            .update_schedule(schedule("missing", "rate(1 hour)", None))
            .await,
        Err(Error::ResourceNotFound { .. })
    ));
    assert!(
        fixture
            .bus
            .list_schedules(None, None, None, None, 10)
            .unwrap()
            .items
            .is_empty()
    );
    // A rule's schedule expression is not a Scheduler one: at() is Scheduler's alone.
    assert!(Schedule::parse("at(2026-12-01T10:00:00)").is_err());
}

#[tokio::test]
async fn schedules_are_listed_in_pages() {
    let folder = tempfile::tempdir().unwrap();
    let fixture = open(folder.path(), Arc::new(Mutex::new(start()))).await;
    for name in ["c", "a", "b"] {
        fixture
            .bus
            .create_schedule(schedule(name, "rate(1 day)", None))
            .await
            .unwrap();
    }
    let first = fixture.bus.list_schedules(None, None, None, None, 2).unwrap();
    let names: Vec<&str> = first.items.iter().map(|view| view.record.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    let rest = fixture
        .bus
        .list_schedules(None, None, Some(true), first.next_token.as_deref(), 2)
        .unwrap();
    let names: Vec<&str> = rest.items.iter().map(|view| view.record.name.as_str()).collect();
    assert_eq!((names, rest.next_token), (vec!["c"], None));
    let prefixed = fixture.bus.list_schedules(None, Some("b"), None, None, 10).unwrap();
    assert_eq!(prefixed.items.len(), 1);
    let disabled = fixture.bus.list_schedules(None, None, Some(false), None, 10).unwrap();
    assert!(disabled.items.is_empty());
}
