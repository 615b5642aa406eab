//! The bus's semantics on the real SQLite store with a test clock: matching to deliveries,
//! disabled rules, retries with back-off, giving up, and schedules that fire once across
//! reopenings.

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};
use sluice_engine::{Engine, Function, FunctionError, Functions};
use sluice_store::BusStore;
use sluice_store_sqlite::SqliteStore;

use crate::{Bus, Clock, EntryResult, EventEntry, Options, RuleInput, RuleState, Target};

/// A bus on a store in `folder`, a clock the test moves, and what the function `record` got.
pub(crate) struct Fixture {
    pub(crate) bus: Bus,
    pub(crate) store: Arc<SqliteStore>,
    now: Arc<Mutex<DateTime<Utc>>>,
    calls: Arc<Mutex<Vec<Value>>>,
    /// How many calls of `record` fail before it succeeds.
    failures: Arc<Mutex<u32>>,
}

pub(crate) fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 30).single().unwrap()
}

pub(crate) async fn open(folder: &Path, now: Arc<Mutex<DateTime<Utc>>>) -> Fixture {
    let store = Arc::new(SqliteStore::open(&folder.join("sluice.db")).unwrap());
    let calls = Arc::new(Mutex::new(Vec::new()));
    let failures = Arc::new(Mutex::new(0));
    let functions = Functions::default();
    let (recorded, failing) = (calls.clone(), failures.clone());
    functions.register(
        "record",
        Function::in_process(move |event| {
            let (recorded, failing) = (recorded.clone(), failing.clone());
            async move {
                let mut left = failing.lock().unwrap();
                if *left > 0 {
                    *left -= 1;
                    return Err(FunctionError::new("Boom", "failing on purpose"));
                }
                recorded.lock().unwrap().push(event);
                Ok(json!({}))
            }
        }),
    );
    let engine = Engine::new(store.clone(), functions, sluice_engine::Options::default());
    let clock_now = now.clone();
    let bus = Bus::open(
        store.clone(),
        engine,
        None,
        Options::default(),
        Clock::from_fn(move || *clock_now.lock().unwrap()),
    )
    .await
    .unwrap();
    Fixture {
        bus,
        store,
        now,
        calls,
        failures,
    }
}

impl Fixture {
    pub(crate) fn advance(&self, by: Duration) {
        *self.now.lock().unwrap() += by;
    }

    pub(crate) async fn pending(&self) -> u64 {
        self.store.pending_deliveries().await.unwrap()
    }

    pub(crate) fn calls(&self) -> Vec<Value> {
        self.calls.lock().unwrap().clone()
    }

    async fn rule(&self, name: &str, pattern: Option<&str>, schedule: Option<&str>, target: &str) {
        self.bus
            .put_rule(RuleInput {
                name: name.to_owned(),
                bus: None,
                event_pattern: pattern.map(str::to_owned),
                schedule: schedule.map(str::to_owned),
                state: None,
                description: None,
                role_arn: None,
            })
            .await
            .unwrap();
        let target: Target = serde_json::from_str(target).unwrap();
        let failures = self.bus.put_targets(None, name, vec![target]).await.unwrap();
        assert!(failures.is_empty(), "{failures:?}");
    }

    pub(crate) async fn put(&self, source: &str, detail: Value) -> Vec<EntryResult> {
        let entry = EventEntry {
            source: Some(source.to_owned()),
            detail_type: Some("Test".to_owned()),
            detail: Some(detail.to_string()),
            ..EventEntry::default()
        };
        self.bus.put_events(vec![entry]).await.unwrap()
    }
}

const RECORD: &str = r#"{"Id": "record", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:record"}"#;

#[tokio::test]
async fn matching_events_become_durable_deliveries() {
    let folder = tempfile::tempdir().unwrap();
    let fixture = open(folder.path(), Arc::new(Mutex::new(start()))).await;
    fixture
        .rule("orders", Some(r#"{"source": ["shop"]}"#), None, RECORD)
        .await;
    let results = fixture.put("shop", json!({"n": 1})).await;
    let EntryResult::Accepted { event_id } = &results[0] else {
        panic!("{results:?}");
    };
    fixture.put("elsewhere", json!({"n": 2})).await;
    assert_eq!(
        fixture.pending().await,
        1,
        "the matching event is written before it is delivered"
    );
    assert_eq!(fixture.bus.deliver_due().await.unwrap(), 1);
    assert_eq!(fixture.pending().await, 0);
    let calls = fixture.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["id"], json!(event_id));
    assert_eq!(calls[0]["detail"], json!({"n": 1}));
    assert_eq!(calls[0]["time"], json!("2026-11-23T12:00:30Z"));
    assert_eq!(calls[0]["source"], json!("shop"));
}

#[tokio::test]
async fn disabled_rules_match_nothing() {
    let folder = tempfile::tempdir().unwrap();
    let fixture = open(folder.path(), Arc::new(Mutex::new(start()))).await;
    fixture
        .rule("orders", Some(r#"{"source": ["shop"]}"#), None, RECORD)
        .await;
    fixture
        .bus
        .set_rule_state(None, "orders", RuleState::Disabled)
        .await
        .unwrap();
    fixture.put("shop", json!({})).await;
    assert_eq!(fixture.pending().await, 0);
    fixture
        .bus
        .set_rule_state(None, "orders", RuleState::Enabled)
        .await
        .unwrap();
    fixture.put("shop", json!({})).await;
    assert_eq!(fixture.pending().await, 1);
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_back_off() {
    let folder = tempfile::tempdir().unwrap();
    let fixture = open(folder.path(), Arc::new(Mutex::new(start()))).await;
    fixture
        .rule("orders", Some(r#"{"source": ["shop"]}"#), None, RECORD)
        .await;
    *fixture.failures.lock().unwrap() = 2;
    fixture.put("shop", json!({})).await;
    assert_eq!(fixture.bus.deliver_due().await.unwrap(), 1, "the first attempt fails");
    assert_eq!(fixture.bus.deliver_due().await.unwrap(), 0, "the retry waits a second");
    fixture.advance(Duration::seconds(1));
    assert_eq!(fixture.bus.deliver_due().await.unwrap(), 1, "the second attempt fails");
    fixture.advance(Duration::seconds(1));
    assert_eq!(
        fixture.bus.deliver_due().await.unwrap(),
        0,
        "the next retry waits two seconds"
    );
    fixture.advance(Duration::seconds(1));
    assert_eq!(
        fixture.bus.deliver_due().await.unwrap(),
        1,
        "the third attempt succeeds"
    );
    assert_eq!(fixture.calls().len(), 1);
    assert_eq!(fixture.pending().await, 0);
}

#[tokio::test]
async fn retries_stop_where_the_policy_says() {
    let folder = tempfile::tempdir().unwrap();
    let fixture = open(folder.path(), Arc::new(Mutex::new(start()))).await;
    let target = r#"{"Id": "record", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:record",
                     "RetryPolicy": {"MaximumRetryAttempts": 1}}"#;
    fixture
        .rule("orders", Some(r#"{"source": ["shop"]}"#), None, target)
        .await;
    *fixture.failures.lock().unwrap() = 100;
    fixture.put("shop", json!({})).await;
    fixture.bus.deliver_due().await.unwrap();
    fixture.advance(Duration::seconds(1));
    fixture.bus.deliver_due().await.unwrap();
    assert_eq!(fixture.pending().await, 0, "given up after one retry");
    assert_eq!(*fixture.failures.lock().unwrap(), 98);

    // The event age ends retries too: 60 seconds, with back-off doubling from one second.
    let target = r#"{"Id": "record", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:record",
                     "RetryPolicy": {"MaximumEventAgeInSeconds": 60}}"#;
    fixture
        .rule("aged", Some(r#"{"source": ["aged"]}"#), None, target)
        .await;
    fixture.put("aged", json!({})).await;
    let mut attempts = 0;
    while fixture.pending().await > 0 {
        attempts += fixture.bus.deliver_due().await.unwrap();
        fixture.advance(Duration::seconds(1));
    }
    // Attempts at 0, 1, 3, 7, 15 and 31 seconds; the next (63 s) would be past the age.
    assert_eq!(attempts, 6);
}

#[tokio::test]
async fn a_schedule_fires_once_per_time_across_reopening() {
    let folder = tempfile::tempdir().unwrap();
    let now = Arc::new(Mutex::new(start()));
    let fixture = open(folder.path(), now.clone()).await;
    fixture.rule("tick", None, Some("rate(1 minute)"), RECORD).await;
    assert_eq!(fixture.bus.fire_due().await.unwrap(), 0, "not yet");
    fixture.advance(Duration::seconds(60));
    assert_eq!(fixture.bus.fire_due().await.unwrap(), 1);
    assert_eq!(fixture.bus.fire_due().await.unwrap(), 0, "a fire time fires once");

    // Another bus on the same store (a restart) does not fire that time again.
    let reopened = open(folder.path(), now.clone()).await;
    assert_eq!(reopened.bus.fire_due().await.unwrap(), 0);
    assert_eq!(fixture.bus.fire_due().await.unwrap(), 0);

    // Down for five minutes: the missed fires happen once, then the schedule goes on.
    reopened.advance(Duration::minutes(5));
    assert_eq!(
        reopened.bus.fire_due().await.unwrap(),
        1,
        "missed fires are not backfilled"
    );
    assert_eq!(reopened.bus.fire_due().await.unwrap(), 0);
    let rule = reopened.bus.describe_rule(None, "tick").unwrap();
    assert_eq!(
        rule.next_fire_millis,
        Some((start() + Duration::seconds(60 * 7)).timestamp_millis()),
        "the next fire is the first period boundary after now"
    );
    while reopened.bus.deliver_due().await.unwrap() > 0 {}
    let calls = reopened.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["detail-type"], json!("Scheduled Event"));
    assert_eq!(calls[0]["source"], json!("aws.events"));
    assert_eq!(
        calls[0]["resources"],
        json!(["arn:aws:events:us-east-1:123456789012:rule/tick"])
    );
    let mut times: Vec<&str> = calls.iter().map(|call| call["time"].as_str().unwrap()).collect();
    times.sort();
    assert_eq!(times, ["2026-11-23T12:01:30Z", "2026-11-23T12:02:30Z"]);
}

#[tokio::test]
async fn cron_schedules_start_at_their_next_time() {
    let folder = tempfile::tempdir().unwrap();
    let fixture = open(folder.path(), Arc::new(Mutex::new(start()))).await;
    fixture.rule("noon", None, Some("cron(0 12 * * ? *)"), RECORD).await;
    let rule = fixture.bus.describe_rule(None, "noon").unwrap();
    let tomorrow = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).single().unwrap();
    assert_eq!(rule.next_fire_millis, Some(tomorrow.timestamp_millis()));
    fixture
        .bus
        .set_rule_state(None, "noon", RuleState::Disabled)
        .await
        .unwrap();
    assert_eq!(fixture.bus.describe_rule(None, "noon").unwrap().next_fire_millis, None);
}

#[tokio::test]
async fn a_log_group_target_appends_each_event_once() {
    use sluice_store::LogStore;
    use sluice_store::logs::LogQuery;

    let folder = tempfile::tempdir().unwrap();
    let fixture = open(folder.path(), Arc::new(Mutex::new(start()))).await;
    let target = r#"{"Id": "audit", "Arn": "arn:aws:logs:us-east-1:123456789012:log-group:/audit:*"}"#;
    fixture
        .bus
        .put_rule(RuleInput {
            name: "audit".to_owned(),
            bus: None,
            event_pattern: Some(r#"{"source": ["shop"]}"#.to_owned()),
            schedule: None,
            state: None,
            description: None,
            role_arn: None,
        })
        .await
        .unwrap();
    let refused = fixture
        .bus
        .put_targets(None, "audit", vec![serde_json::from_str(target).unwrap()])
        .await
        .unwrap();
    assert_eq!(refused.len(), 1, "no log group targets without logs attached");
    fixture.bus.attach_logs(fixture.store.clone());
    fixture
        .rule("audit", Some(r#"{"source": ["shop"]}"#), None, target)
        .await;
    let results = fixture.put("shop", json!({"n": 1})).await;
    let EntryResult::Accepted { event_id } = &results[0] else {
        panic!("{results:?}");
    };
    let claimed = fixture.store.claim_deliveries(i64::MAX / 2, 0, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    // A delivery made twice (a crash between the append and the delivery's removal) appends once.
    let logs = fixture.bus.logs().unwrap();
    for _ in 0..2 {
        logs.deliver("/audit", &claimed[0].id, &claimed[0].payload)
            .await
            .unwrap();
    }
    let events = fixture
        .store
        .log_events(LogQuery {
            group: "/audit".to_owned(),
            limit: 10,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(&events[0].stream, event_id, "the stream is named after the event");
    assert_eq!(events[0].timestamp_millis, start().timestamp_millis() / 1000 * 1000);
    let message: Value = serde_json::from_str(&events[0].message).unwrap();
    assert_eq!(message["detail"], json!({"n": 1}));
}

#[tokio::test]
async fn a_bus_target_routes_the_event_by_the_other_bus_rules() {
    let folder = tempfile::tempdir().unwrap();
    let fixture = open(folder.path(), Arc::new(Mutex::new(start()))).await;
    fixture.bus.create_event_bus("orders").await.unwrap();
    fixture
        .rule(
            "relay",
            Some(r#"{"source": ["shop"]}"#),
            None,
            r#"{"Id": "orders", "Arn": "arn:aws:events:us-east-1:123456789012:event-bus/orders"}"#,
        )
        .await;
    fixture
        .bus
        .put_rule(RuleInput {
            name: "record".to_owned(),
            bus: Some("orders".to_owned()),
            event_pattern: Some(r#"{"detail": {"n": [{"numeric": [">", 1]}]}}"#.to_owned()),
            schedule: None,
            state: None,
            description: None,
            role_arn: None,
        })
        .await
        .unwrap();
    let target: Target = serde_json::from_str(RECORD).unwrap();
    fixture
        .bus
        .put_targets(Some("orders"), "record", vec![target])
        .await
        .unwrap();
    let results = fixture.put("shop", json!({"n": 2})).await;
    fixture.put("shop", json!({"n": 1})).await;
    let EntryResult::Accepted { event_id } = &results[0] else {
        panic!("{results:?}");
    };
    while fixture.bus.deliver_due().await.unwrap() > 0 {}
    let calls = fixture.calls();
    assert_eq!(calls.len(), 1, "only the event the other bus's rule matches: {calls:?}");
    assert_eq!(&calls[0]["id"], event_id, "the event keeps its id");
    assert_eq!(calls[0]["detail"], json!({"n": 2}));
}
