//! The one conformance suite every backend runs: call [`run_all`] with a fresh store. Each check
//! panics with what it expected, so a backend's test fails on the first broken promise.

pub mod queues;

use crate::{
    Advance, Error, ExecutionFilter, ExecutionRecord, ExecutionStart, ExecutionStatus, HistoryEvent, HistoryPage,
    MachineType, Started, StateMachineRecord, StateMachineUpdate, Store, TaskTokenRecord, Work,
};

const MACHINE_ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:conformance";

/// Runs every check against `store`, which must be empty.
pub async fn run_all(store: &dyn Store) {
    state_machines(store).await;
    executions_start_once(store).await;
    advances_check_the_version(store).await;
    concurrent_advances_of_one_execution_have_one_winner(store).await;
    many_executions_advance_together(store).await;
    queued_advances_commit_in_order(store).await;
    work_is_claimed_when_due_and_leased(store).await;
    history_pages_both_ways(store).await;
    executions_list_newest_first_with_filters(store).await;
    stopping_retires_work_and_tokens(store).await;
}

/// Creates the sample state machine (for tests of reopening a store).
pub async fn create_sample_machine(store: &dyn Store) {
    store
        .create_state_machine(machine("sample", "{}"))
        .await
        .expect("the sample machine is created");
}

/// Checks that the sample state machine is there.
pub async fn sample_machine_exists(store: &dyn Store) {
    let found = store.state_machine(&arn_of("sample")).await.expect("a read");
    assert_eq!(found.map(|machine| machine.name), Some("sample".to_owned()));
}

fn arn_of(name: &str) -> String {
    format!("arn:aws:states:us-east-1:123456789012:stateMachine:{name}")
}

fn machine(name: &str, definition: &str) -> StateMachineRecord {
    StateMachineRecord {
        arn: arn_of(name),
        name: name.to_owned(),
        machine_type: MachineType::Standard,
        definition: definition.to_owned(),
        role_arn: "arn:aws:iam::123456789012:role/r".to_owned(),
        revision: 1,
        created_millis: 1_000,
    }
}

fn execution(name: &str, start_millis: i64) -> ExecutionRecord {
    ExecutionRecord {
        arn: format!("arn:aws:states:us-east-1:123456789012:execution:conformance:{name}"),
        state_machine_arn: MACHINE_ARN.to_owned(),
        revision: 1,
        name: name.to_owned(),
        status: ExecutionStatus::Running,
        input: "{}".to_owned(),
        output: None,
        error: None,
        cause: None,
        start_millis,
        stop_millis: None,
        version: 1,
        snapshot: "{\"step\":0}".to_owned(),
        parent_arn: None,
    }
}

fn event(id: u64, event_type: &str) -> HistoryEvent {
    HistoryEvent {
        id,
        previous_event_id: id.saturating_sub(1),
        timestamp_millis: 1_000 + id as i64,
        event_type: event_type.to_owned(),
        details: "{}".to_owned(),
    }
}

fn work(id: &str, arn: &str, due_millis: i64) -> Work {
    Work {
        id: id.to_owned(),
        execution_arn: arn.to_owned(),
        due_millis,
        payload: "{}".to_owned(),
        attempts: 0,
        lease_until_millis: 0,
    }
}

async fn start(store: &dyn Store, record: ExecutionRecord, work: Vec<Work>) -> ExecutionRecord {
    let start = ExecutionStart {
        record: record.clone(),
        events: vec![event(1, "ExecutionStarted")],
        work,
        tokens: vec![],
    };
    assert_eq!(store.start_execution(start).await.expect("a start"), Started::New);
    record
}

fn advance(record: &ExecutionRecord, version: u64, events: Vec<HistoryEvent>) -> Advance {
    Advance {
        arn: record.arn.clone(),
        expected_version: version,
        status: ExecutionStatus::Running,
        output: None,
        error: None,
        cause: None,
        stop_millis: None,
        snapshot: format!("{{\"step\":{version}}}"),
        events,
        add_work: vec![],
        done_work: vec![],
        add_tokens: vec![],
        remove_tokens: vec![],
    }
}

async fn state_machines(store: &dyn Store) {
    store
        .create_state_machine(machine("conformance", "{\"v\":1}"))
        .await
        .expect("created");
    let again = store.create_state_machine(machine("conformance", "{\"v\":1}")).await;
    assert!(
        matches!(again, Err(Error::AlreadyExists { .. })),
        "a second create is refused: {again:?}"
    );
    let update = StateMachineUpdate {
        arn: MACHINE_ARN.to_owned(),
        definition: Some("{\"v\":2}".into()),
        role_arn: None,
    };
    let updated = store.update_state_machine(update).await.expect("updated");
    assert_eq!((updated.revision, updated.definition.as_str()), (2, "{\"v\":2}"));
    assert_eq!(
        store.revision(MACHINE_ARN, 1).await.expect("a read").as_deref(),
        Some("{\"v\":1}")
    );
    store
        .create_state_machine(machine("other", "{}"))
        .await
        .expect("created");
    let names: Vec<String> = store
        .list_state_machines(None, 10)
        .await
        .expect("a list")
        .into_iter()
        .map(|machine| machine.name)
        .collect();
    assert_eq!(names, ["conformance", "other"]);
    let after: Vec<String> = store
        .list_state_machines(Some("conformance"), 10)
        .await
        .expect("a list")
        .into_iter()
        .map(|machine| machine.name)
        .collect();
    assert_eq!(after, ["other"]);
    store.delete_state_machine(&arn_of("other")).await.expect("deleted");
    assert!(store.state_machine(&arn_of("other")).await.expect("a read").is_none());
    let missing = store.delete_state_machine(&arn_of("other")).await;
    assert!(
        matches!(missing, Err(Error::NotFound { .. })),
        "deleting twice: {missing:?}"
    );
}

async fn executions_start_once(store: &dyn Store) {
    let record = start(store, execution("once", 2_000), vec![]).await;
    let mut other = record.clone();
    other.input = "{\"different\":true}".into();
    let again = ExecutionStart {
        record: other,
        events: vec![event(1, "ExecutionStarted")],
        work: vec![],
        tokens: vec![],
    };
    match store.start_execution(again).await.expect("a start") {
        Started::Existing(existing) => assert_eq!(*existing, record),
        Started::New => panic!("a second start of the same name must return the existing execution"),
    }
    let history = store
        .history(
            &record.arn,
            HistoryPage {
                after_event_id: None,
                reverse: false,
                limit: 10,
            },
        )
        .await;
    assert_eq!(history.expect("a read").len(), 1, "the refused start wrote nothing");
}

async fn advances_check_the_version(store: &dyn Store) {
    let record = start(store, execution("versioned", 3_000), vec![]).await;
    let results = store
        .advance(vec![advance(&record, 1, vec![event(2, "PassStateEntered")])])
        .await
        .expect("a commit");
    assert!(results[0].is_ok(), "{results:?}");
    let stale = store
        .advance(vec![advance(&record, 1, vec![event(3, "PassStateExited")])])
        .await
        .expect("a commit");
    assert!(
        matches!(
            stale[0],
            Err(Error::VersionConflict {
                expected: 1,
                actual: 2,
                ..
            })
        ),
        "{stale:?}"
    );
    let stored = store
        .execution(&record.arn)
        .await
        .expect("a read")
        .expect("the execution");
    assert_eq!((stored.version, stored.snapshot.as_str()), (2, "{\"step\":1}"));
    let duplicate = store
        .advance(vec![advance(&stored, 2, vec![event(2, "Again")])])
        .await
        .expect("a commit");
    assert!(
        matches!(duplicate[0], Err(Error::AlreadyExists { .. })),
        "an event id is written once: {duplicate:?}"
    );
    let after = store
        .execution(&record.arn)
        .await
        .expect("a read")
        .expect("the execution");
    assert_eq!(after.version, 2, "a refused advance changes nothing");
}

async fn concurrent_advances_of_one_execution_have_one_winner(store: &dyn Store) {
    let record = start(store, execution("contended", 4_000), vec![]).await;
    let attempts = (0..16).map(|attempt| {
        let mut contender = advance(&record, 1, vec![event(2, "TaskStateEntered")]);
        contender.snapshot = format!("{{\"winner\":{attempt}}}");
        store.advance(vec![contender])
    });
    let results = futures_join_all(attempts).await;
    let winners = results
        .iter()
        .filter(|result| matches!(result.as_deref(), Ok([Ok(())])))
        .count();
    assert_eq!(winners, 1, "exactly one of 16 advances at the same version wins");
}

async fn many_executions_advance_together(store: &dyn Store) {
    let mut records = Vec::new();
    for index in 0..50 {
        records.push(start(store, execution(&format!("many-{index}"), 5_000 + index), vec![]).await);
    }
    let advances = records
        .iter()
        .map(|record| store.advance(vec![advance(record, 1, vec![event(2, "PassStateEntered")])]));
    for result in futures_join_all(advances).await {
        assert!(matches!(result.as_deref(), Ok([Ok(())])), "{result:?}");
    }
}

async fn queued_advances_commit_in_order(store: &dyn Store) {
    let record = start(store, execution("queued", 5_500), vec![]).await;
    // Each advance is queued before the one it follows is committed.
    let first = store.queue_advance(vec![advance(&record, 1, vec![event(2, "TaskStateEntered")])]);
    let second = store.queue_advance(vec![advance(&record, 2, vec![event(3, "TaskScheduled")])]);
    let stale = store.queue_advance(vec![advance(&record, 2, vec![event(4, "TaskStarted")])]);
    assert!(matches!(first.await.as_deref(), Ok([Ok(())])));
    assert!(matches!(second.await.as_deref(), Ok([Ok(())])));
    assert!(
        matches!(
            stale.await.as_deref(),
            Ok([Err(Error::VersionConflict { actual: 3, .. })])
        ),
        "an advance queued behind another at the same version is refused"
    );
    let history = store
        .history(
            &record.arn,
            HistoryPage {
                after_event_id: None,
                reverse: false,
                limit: 10,
            },
        )
        .await
        .expect("the history");
    let ids: Vec<u64> = history.iter().map(|event| event.id).collect();
    assert_eq!(ids, [1, 2, 3], "{history:?}");
}

async fn work_is_claimed_when_due_and_leased(store: &dyn Store) {
    let record = execution("worker", 6_000);
    let mut held = work("held", &record.arn, 50);
    held.lease_until_millis = 1_000_000;
    let items = vec![
        work("due-early", &record.arn, 100),
        work("due-late", &record.arn, 200),
        work("future", &record.arn, 10_000),
        held,
    ];
    start(store, record.clone(), items).await;
    let claimed = store.claim_due_work("node-a", 500, 1_500, 10).await.expect("a claim");
    let ids: Vec<&str> = claimed.iter().map(|item| item.id.as_str()).collect();
    assert_eq!(ids, ["due-early", "due-late"], "due work, earliest first");
    assert!(claimed.iter().all(|item| item.attempts == 0));
    assert!(
        store
            .claim_due_work("node-b", 600, 1_600, 10)
            .await
            .expect("a claim")
            .is_empty(),
        "leased work is held"
    );
    let reclaimed = store.claim_due_work("node-b", 1_500, 2_500, 10).await.expect("a claim");
    assert_eq!(reclaimed.len(), 2, "an expired lease frees the work");
    assert!(
        reclaimed.iter().all(|item| item.attempts == 1),
        "the attempts count the claims"
    );
    let mut done = advance(&record, 1, vec![]);
    done.done_work = vec!["due-early".into(), "due-late".into()];
    assert!(store.advance(vec![done]).await.expect("a commit")[0].is_ok());
    assert_eq!(
        store.next_due().await.expect("a read"),
        Some(10_000),
        "held work is not due while leased"
    );
    store.release_leases().await.expect("leases released");
    assert_eq!(
        store.next_due().await.expect("a read"),
        Some(50),
        "released work is due again"
    );
    let claimed = store.claim_due_work("node-c", 60, 70, 10).await.expect("a claim");
    assert_eq!(
        claimed.iter().map(|item| item.id.as_str()).collect::<Vec<_>>(),
        ["held"]
    );
    // A live node renews what it holds; a lease that is not renewed runs out.
    store
        .renew_leases(vec!["held".into(), "future".into()], 5_000)
        .await
        .expect("renewed");
    assert!(
        store
            .claim_due_work("node-d", 100, 200, 10)
            .await
            .expect("a claim")
            .is_empty(),
        "renewed work is held"
    );
    let taken = store.claim_due_work("node-d", 5_000, 6_000, 10).await.expect("a claim");
    assert_eq!(
        taken.iter().map(|item| item.id.as_str()).collect::<Vec<_>>(),
        ["held"],
        "unleased work is not leased by a renewal, and a lapsed renewal frees the work"
    );
}

async fn history_pages_both_ways(store: &dyn Store) {
    let record = start(store, execution("paged", 7_000), vec![]).await;
    let events = (2..=10).map(|id| event(id, "PassStateEntered")).collect();
    assert!(
        store
            .advance(vec![advance(&record, 1, events)])
            .await
            .expect("a commit")[0]
            .is_ok()
    );
    let ids = |events: Vec<HistoryEvent>| events.into_iter().map(|event| event.id).collect::<Vec<_>>();
    let page = |after_event_id, reverse| HistoryPage {
        after_event_id,
        reverse,
        limit: 4,
    };
    assert_eq!(
        ids(store.history(&record.arn, page(None, false)).await.expect("a read")),
        [1, 2, 3, 4]
    );
    assert_eq!(
        ids(store.history(&record.arn, page(Some(4), false)).await.expect("a read")),
        [5, 6, 7, 8]
    );
    assert_eq!(
        ids(store.history(&record.arn, page(None, true)).await.expect("a read")),
        [10, 9, 8, 7]
    );
    assert_eq!(
        ids(store.history(&record.arn, page(Some(7), true)).await.expect("a read")),
        [6, 5, 4, 3]
    );
}

async fn executions_list_newest_first_with_filters(store: &dyn Store) {
    let first = start(store, execution("listed-a", 9_000_000), vec![]).await;
    let second = start(store, execution("listed-b", 9_000_001), vec![]).await;
    let filter = ExecutionFilter {
        state_machine_arn: Some(MACHINE_ARN.into()),
        limit: 2,
        ..Default::default()
    };
    let names: Vec<String> = store
        .list_executions(filter)
        .await
        .expect("a list")
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["listed-b", "listed-a"]);
    let filter = ExecutionFilter {
        state_machine_arn: Some(MACHINE_ARN.into()),
        after: Some((second.start_millis, second.arn.clone())),
        limit: 1,
        ..Default::default()
    };
    let names: Vec<String> = store
        .list_executions(filter)
        .await
        .expect("a list")
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["listed-a"]);
    let mut stop = advance(&first, 1, vec![]);
    stop.status = ExecutionStatus::Succeeded;
    stop.output = Some("{}".into());
    stop.stop_millis = Some(9_000_002);
    assert!(store.advance(vec![stop]).await.expect("a commit")[0].is_ok());
    let filter = ExecutionFilter {
        status: Some(ExecutionStatus::Succeeded),
        limit: 10,
        ..Default::default()
    };
    let names: Vec<String> = store
        .list_executions(filter)
        .await
        .expect("a list")
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["listed-a"]);
}

async fn stopping_retires_work_and_tokens(store: &dyn Store) {
    let record = execution("stopped", 10_000);
    let token = TaskTokenRecord {
        token: "token-1".into(),
        execution_arn: record.arn.clone(),
        task_id: "task-1".into(),
    };
    let started = ExecutionStart {
        record: record.clone(),
        events: vec![event(1, "ExecutionStarted")],
        work: vec![work("timer-1", &record.arn, 20_000_000)],
        tokens: vec![token.clone()],
    };
    assert_eq!(store.start_execution(started).await.expect("a start"), Started::New);
    assert_eq!(store.task_token("token-1").await.expect("a read"), Some(token));
    assert!(store.running_executions().await.expect("a read").contains(&record.arn));
    let mut abort = advance(&record, 1, vec![event(2, "ExecutionAborted")]);
    abort.status = ExecutionStatus::Aborted;
    abort.stop_millis = Some(10_001);
    assert!(store.advance(vec![abort]).await.expect("a commit")[0].is_ok());
    assert_eq!(store.task_token("token-1").await.expect("a read"), None);
    assert!(
        store
            .claim_due_work("node", 30_000_000, 30_000_001, 100)
            .await
            .expect("a claim")
            .iter()
            .all(|w| w.id != "timer-1")
    );
    assert!(!store.running_executions().await.expect("a read").contains(&record.arn));
}

/// Awaits every future concurrently, in order (a tiny `join_all`, to keep this crate free of
/// an executor dependency).
pub(crate) async fn futures_join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(context) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
