//! The conformance suite of [`BusStore`]: call [`run_all`] with a fresh store. Each check panics
//! with what it expected.

use crate::Error;
use crate::bus::{
    AfterFire, BusRecord, BusStore, Deleted, Delivery, RuleRecord, ScheduleFire, ScheduleRecord, ScheduledFire,
    TargetRecord,
};

/// Runs every check against `store`, which must be empty.
pub async fn run_all(store: &dyn BusStore) {
    buses(store).await;
    rules_and_targets(store).await;
    deliveries_are_claimed_when_due_and_leased(store).await;
    a_schedule_fires_once_per_expected_time(store).await;
    schedules_are_created_once_and_replaced(store).await;
    a_scheduler_fire_is_written_once_and_may_delete(store).await;
}

fn bus(name: &str) -> BusRecord {
    BusRecord {
        name: name.to_owned(),
        arn: format!("arn:aws:events:us-east-1:123456789012:event-bus/{name}"),
        created_millis: 1_000,
    }
}

fn rule(bus: &str, name: &str, next_fire_millis: Option<i64>) -> RuleRecord {
    RuleRecord {
        bus: bus.to_owned(),
        name: name.to_owned(),
        arn: format!("arn:aws:events:us-east-1:123456789012:rule/{bus}/{name}"),
        event_pattern: Some(r#"{"source":["a"]}"#.to_owned()),
        schedule: next_fire_millis.map(|_| "rate(1 minute)".to_owned()),
        enabled: true,
        description: None,
        role_arn: None,
        next_fire_millis,
    }
}

fn target(bus: &str, rule: &str, id: &str) -> TargetRecord {
    TargetRecord {
        bus: bus.to_owned(),
        rule: rule.to_owned(),
        id: id.to_owned(),
        arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{id}"),
        definition: format!(r#"{{"Id":"{id}"}}"#),
    }
}

/// A delivery due at `due_millis`.
pub fn delivery(id: &str, due_millis: i64) -> Delivery {
    Delivery {
        id: id.to_owned(),
        bus: "default".to_owned(),
        rule: "r".to_owned(),
        target_id: "t".to_owned(),
        target_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".to_owned(),
        payload: "{}".to_owned(),
        event_millis: due_millis,
        due_millis,
        attempts: 0,
        policy: "{}".to_owned(),
        lease_until_millis: 0,
    }
}

async fn buses(store: &dyn BusStore) {
    store.create_bus(bus("orders")).await.expect("a new bus is created");
    let again = store.create_bus(bus("orders")).await;
    assert!(
        matches!(again, Err(Error::AlreadyExists { .. })),
        "a taken name: {again:?}"
    );
    store.create_bus(bus("billing")).await.expect("a second bus");
    let names: Vec<String> = store
        .list_buses()
        .await
        .expect("a list")
        .into_iter()
        .map(|bus| bus.name)
        .collect();
    assert_eq!(names, ["billing", "orders"], "buses are listed in name order");
    assert_eq!(store.bus("orders").await.expect("a read"), Some(bus("orders")));
    store.put_rule(rule("billing", "r", None)).await.expect("a rule");
    assert_eq!(store.delete_bus("billing").await.expect("a delete"), Deleted::InUse);
    assert_eq!(
        store.delete_rule("billing", "r").await.expect("a delete"),
        Deleted::Deleted
    );
    assert_eq!(store.delete_bus("billing").await.expect("a delete"), Deleted::Deleted);
    assert_eq!(store.delete_bus("billing").await.expect("a delete"), Deleted::Missing);
    assert_eq!(store.bus("billing").await.expect("a read"), None);
}

async fn rules_and_targets(store: &dyn BusStore) {
    let missing_bus = store.put_rule(rule("nowhere", "r", None)).await;
    assert!(matches!(missing_bus, Err(Error::NotFound { .. })), "{missing_bus:?}");
    store.put_rule(rule("orders", "b", None)).await.expect("a rule");
    store.put_rule(rule("orders", "a", None)).await.expect("a rule");
    let mut replaced = rule("orders", "a", None);
    replaced.enabled = false;
    replaced.description = Some("changed".to_owned());
    store.put_rule(replaced.clone()).await.expect("a rule is replaced");
    assert_eq!(store.rule("orders", "a").await.expect("a read"), Some(replaced));
    let names: Vec<String> = store
        .list_rules(Some("orders"))
        .await
        .expect("a list")
        .into_iter()
        .map(|rule| rule.name)
        .collect();
    assert_eq!(names, ["a", "b"]);

    let missing_rule = store.put_targets(vec![target("orders", "zzz", "t1")]).await;
    assert!(matches!(missing_rule, Err(Error::NotFound { .. })), "{missing_rule:?}");
    store
        .put_targets(vec![target("orders", "a", "t2"), target("orders", "a", "t1")])
        .await
        .expect("targets");
    let mut changed = target("orders", "a", "t1");
    changed.arn = "arn:aws:states:us-east-1:123456789012:stateMachine:m".to_owned();
    store
        .put_targets(vec![changed.clone()])
        .await
        .expect("a target is replaced");
    let targets = store.targets("orders", "a").await.expect("a read");
    assert_eq!(
        targets,
        vec![changed, target("orders", "a", "t2")],
        "targets in id order"
    );
    assert_eq!(
        store.delete_rule("orders", "a").await.expect("a delete"),
        Deleted::InUse
    );
    let removed = store
        .remove_targets("orders", "a", vec!["t1".into(), "t9".into(), "t2".into()])
        .await
        .expect("a removal");
    assert_eq!(removed, ["t1", "t2"], "only existing targets are removed");
    assert_eq!(
        store.delete_rule("orders", "a").await.expect("a delete"),
        Deleted::Deleted
    );
    assert_eq!(
        store.delete_rule("orders", "a").await.expect("a delete"),
        Deleted::Missing
    );
    assert_eq!(
        store.delete_rule("orders", "b").await.expect("a delete"),
        Deleted::Deleted
    );
}

async fn deliveries_are_claimed_when_due_and_leased(store: &dyn BusStore) {
    store
        .enqueue_deliveries(vec![delivery("d2", 200), delivery("d1", 100), delivery("d3", 300)])
        .await
        .expect("deliveries");
    assert_eq!(store.pending_deliveries().await.expect("a count"), 3);
    assert_eq!(store.next_delivery_due().await.expect("a read"), Some(100));
    let claimed = store.claim_deliveries(250, 1_250, 10).await.expect("a claim");
    let ids: Vec<&str> = claimed.iter().map(|delivery| delivery.id.as_str()).collect();
    assert_eq!(ids, ["d1", "d2"], "due deliveries, earliest first");
    assert!(
        claimed.iter().all(|delivery| delivery.attempts == 1),
        "a claim counts an attempt"
    );
    assert!(
        store
            .claim_deliveries(250, 1_250, 10)
            .await
            .expect("a claim")
            .is_empty(),
        "leased deliveries are not claimed again"
    );
    assert_eq!(store.next_delivery_due().await.expect("a read"), Some(300));
    store.finish_delivery("d1").await.expect("a finish");
    store.retry_delivery("d2", 400).await.expect("a retry");
    let claimed = store.claim_deliveries(1_300, 2_000, 10).await.expect("a claim");
    let ids: Vec<&str> = claimed.iter().map(|delivery| delivery.id.as_str()).collect();
    assert_eq!(ids, ["d3", "d2"], "a retried delivery is due at its new time");
    assert_eq!(claimed[1].attempts, 2);
    store.release_delivery_leases().await.expect("a release");
    let claimed = store.claim_deliveries(1_300, 2_000, 1).await.expect("a claim");
    assert_eq!(
        claimed.len(),
        1,
        "released leases make deliveries claimable again, up to the limit"
    );
    store.finish_delivery("d2").await.expect("a finish");
    store.finish_delivery("d3").await.expect("a finish");
    assert_eq!(store.pending_deliveries().await.expect("a count"), 0);
    assert_eq!(store.next_delivery_due().await.expect("a read"), None);
}

async fn a_schedule_fires_once_per_expected_time(store: &dyn BusStore) {
    store
        .put_rule(rule("orders", "tick", Some(60_000)))
        .await
        .expect("a rule");
    let fire = |expected, next, id: &str| ScheduleFire {
        bus: "orders".to_owned(),
        rule: "tick".to_owned(),
        expected_next_millis: expected,
        next_millis: next,
        deliveries: vec![delivery(id, expected)],
    };
    assert!(
        store
            .fire_schedule(fire(60_000, Some(120_000), "f1"))
            .await
            .expect("a fire")
    );
    assert!(
        !store
            .fire_schedule(fire(60_000, Some(120_000), "f1-again"))
            .await
            .expect("a fire"),
        "the same fire time is written once"
    );
    let stored = store.rule("orders", "tick").await.expect("a read").expect("the rule");
    assert_eq!(stored.next_fire_millis, Some(120_000));
    assert!(store.fire_schedule(fire(120_000, None, "f2")).await.expect("a fire"));
    let missing = ScheduleFire {
        rule: "gone".to_owned(),
        ..fire(0, None, "f3")
    };
    assert!(
        !store.fire_schedule(missing).await.expect("a fire"),
        "a missing rule does not fire"
    );
    let claimed = store
        .claim_deliveries(i64::MAX / 2, i64::MAX / 2, 10)
        .await
        .expect("a claim");
    let ids: Vec<&str> = claimed.iter().map(|delivery| delivery.id.as_str()).collect();
    assert_eq!(ids, ["f1", "f2"], "only written fires have deliveries");
    for delivery in claimed {
        store.finish_delivery(&delivery.id).await.expect("a finish");
    }
    store.delete_rule("orders", "tick").await.expect("a delete");
}

fn schedule(name: &str, next_fire_millis: Option<i64>) -> ScheduleRecord {
    ScheduleRecord {
        group: "default".to_owned(),
        name: name.to_owned(),
        arn: format!("arn:aws:scheduler:us-east-1:123456789012:schedule/default/{name}"),
        definition: r#"{"ScheduleExpression":"rate(1 minute)"}"#.to_owned(),
        enabled: next_fire_millis.is_some(),
        created_millis: 1_000,
        modified_millis: 1_000,
        next_fire_millis,
    }
}

async fn schedules_are_created_once_and_replaced(store: &dyn BusStore) {
    store
        .create_schedule(schedule("b", Some(60_000)))
        .await
        .expect("a schedule");
    store.create_schedule(schedule("a", None)).await.expect("a schedule");
    assert!(
        matches!(
            store.create_schedule(schedule("a", Some(1))).await,
            Err(Error::AlreadyExists { .. })
        ),
        "a name is taken once per group"
    );
    let replaced = ScheduleRecord {
        definition: "{}".to_owned(),
        modified_millis: 2_000,
        created_millis: 5,
        ..schedule("a", Some(90_000))
    };
    store.update_schedule(replaced.clone()).await.expect("an update");
    let stored = store
        .schedule("default", "a")
        .await
        .expect("a read")
        .expect("the schedule");
    assert_eq!(
        stored,
        ScheduleRecord {
            created_millis: 1_000,
            ..replaced
        },
        "an update keeps the creation time"
    );
    assert!(matches!(
        store.update_schedule(schedule("missing", None)).await,
        Err(Error::NotFound { .. })
    ));
    let names: Vec<String> = store
        .list_schedules()
        .await
        .expect("a list")
        .into_iter()
        .map(|schedule| schedule.name)
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert!(store.delete_schedule("default", "a").await.expect("a delete"));
    assert!(!store.delete_schedule("default", "a").await.expect("a delete"));
    assert!(store.schedule("default", "a").await.expect("a read").is_none());
    assert!(store.delete_schedule("default", "b").await.expect("a delete"));
}

async fn a_scheduler_fire_is_written_once_and_may_delete(store: &dyn BusStore) {
    store
        .create_schedule(schedule("tick", Some(60_000)))
        .await
        .expect("a schedule");
    let fire = |expected, after, id: &str| ScheduledFire {
        group: "default".to_owned(),
        name: "tick".to_owned(),
        expected_next_millis: expected,
        after,
        deliveries: vec![delivery(id, expected)],
    };
    assert!(
        store
            .fire_scheduled(fire(60_000, AfterFire::Next(Some(120_000)), "s1"))
            .await
            .expect("a fire")
    );
    assert!(
        !store
            .fire_scheduled(fire(60_000, AfterFire::Next(Some(120_000)), "s1-again"))
            .await
            .expect("a fire"),
        "the same fire time is written once"
    );
    let stored = store
        .schedule("default", "tick")
        .await
        .expect("a read")
        .expect("the schedule");
    assert_eq!(stored.next_fire_millis, Some(120_000));
    assert!(
        store
            .fire_scheduled(fire(120_000, AfterFire::Next(None), "s2"))
            .await
            .expect("a fire")
    );
    let stored = store
        .schedule("default", "tick")
        .await
        .expect("a read")
        .expect("the schedule");
    assert_eq!(
        stored.next_fire_millis, None,
        "a complete schedule is kept without a next fire"
    );
    store
        .update_schedule(schedule("tick", Some(180_000)))
        .await
        .expect("an update");
    assert!(
        store
            .fire_scheduled(fire(180_000, AfterFire::Delete, "s3"))
            .await
            .expect("a fire")
    );
    assert!(
        store.schedule("default", "tick").await.expect("a read").is_none(),
        "ActionAfterCompletion DELETE removes the schedule with its last fire"
    );
    assert!(
        !store
            .fire_scheduled(fire(180_000, AfterFire::Delete, "s4"))
            .await
            .expect("a fire"),
        "a missing schedule does not fire"
    );
    let claimed = store
        .claim_deliveries(i64::MAX / 2, i64::MAX / 2, 10)
        .await
        .expect("a claim");
    let ids: Vec<&str> = claimed.iter().map(|delivery| delivery.id.as_str()).collect();
    assert_eq!(ids, ["s1", "s2", "s3"], "only written fires have deliveries");
    for delivery in claimed {
        store.finish_delivery(&delivery.id).await.expect("a finish");
    }
}
