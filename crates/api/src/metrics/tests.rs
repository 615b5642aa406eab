//! `/metrics` on a real engine: run executions, scrape, and see the counters move.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use sluice_engine::{Engine, Function, Functions};
use sluice_store_sqlite::SqliteStore;
use tower::ServiceExt;

use super::{PrometheusHandle, install_recorder};
use crate::EngineService;
use crate::router::{Options, router};
use crate::testing::{ENGINE, ROLE, call, options};

/// The recorder is process-wide: the tests of this binary share one.
fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| install_recorder().expect("the only recorder of this test binary"))
        .clone()
}

fn app(engine: Engine, metrics: Option<PrometheusHandle>) -> Router {
    router(Options {
        metrics,
        ..options(Arc::new(EngineService::new(engine)))
    })
}

async fn scrape(app: &Router) -> (u16, String, String) {
    let request = Request::get("/metrics").body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, content_type, String::from_utf8(bytes.to_vec()).unwrap())
}

/// The value of the sample `name{labels}` in a scrape, 0 when absent. `labels` is the exact
/// label set as rendered (sorted by the exporter in the order they were given).
fn sample(text: &str, name_and_labels: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name_and_labels)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

async fn create(app: &Router, name: &str, machine_type: &str, definition: Value) -> String {
    let (status, body) = call(
        app,
        "CreateStateMachine",
        json!({"name": name, "definition": definition.to_string(), "roleArn": ROLE, "type": machine_type}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["stateMachineArn"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_move_the_counters() {
    let _one_engine_at_a_time = ENGINE.lock().await;
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&directory.path().join("sluice.db")).unwrap();
    let functions = Functions::default();
    functions.register(
        "add",
        Function::in_process(|event| async move { Ok(json!({"v": event["v"].as_i64().unwrap_or(0) + 1})) }),
    );
    let engine = Engine::new(Arc::new(store), functions, sluice_engine::Options::default());
    engine.start().await.unwrap();
    let app = app(engine.clone(), Some(handle()));
    let before = scrape(&app).await.2;

    // A Standard machine: a Pass, a Task calling an in-process function, a Wait (a durable timer).
    let standard = create(
        &app,
        "metered",
        "STANDARD",
        json!({"StartAt": "Begin", "States": {
            "Begin": {"Type": "Pass", "Next": "Add"},
            "Add": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:add", "Next": "Pause"},
            "Pause": {"Type": "Wait", "Seconds": 1, "End": true}
        }}),
    )
    .await;
    let failing = create(
        &app,
        "metered-fail",
        "EXPRESS",
        json!({"StartAt": "Stop", "States": {"Stop": {"Type": "Fail", "Error": "Nope"}}}),
    )
    .await;
    for name in ["one", "two"] {
        let (status, body) = call(
            &app,
            "StartExecution",
            json!({"stateMachineArn": standard, "name": name, "input": "{\"v\":1}"}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let record = engine
            .await_execution(body["executionArn"].as_str().unwrap())
            .await
            .unwrap();
        assert_eq!(record.output.as_deref(), Some("{\"v\":2}"));
    }
    let (status, body) = call(&app, "StartSyncExecution", json!({"stateMachineArn": failing})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("FAILED")), "{body}");

    let (status, content_type, after) = scrape(&app).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let moved = |name_and_labels: &str| sample(&after, name_and_labels) - sample(&before, name_and_labels);
    assert_eq!(
        moved(r#"sluice_executions_started_total{type="STANDARD"}"#),
        2.0,
        "{after}"
    );
    assert_eq!(
        moved(r#"sluice_executions_started_total{type="EXPRESS"}"#),
        1.0,
        "{after}"
    );
    assert_eq!(
        moved(r#"sluice_executions_ended_total{type="STANDARD",status="SUCCEEDED"}"#),
        2.0,
        "{after}"
    );
    assert_eq!(
        moved(r#"sluice_executions_ended_total{type="EXPRESS",status="FAILED"}"#),
        1.0,
        "{after}"
    );
    assert_eq!(
        moved(r#"sluice_state_transitions_total{type="STANDARD"}"#),
        6.0,
        "{after}"
    );
    assert_eq!(
        moved(r#"sluice_state_transitions_total{type="EXPRESS"}"#),
        1.0,
        "{after}"
    );
    assert_eq!(moved(r#"sluice_timers_fired_total{kind="timer"}"#), 2.0, "{after}");
    assert_eq!(
        moved(r#"sluice_task_duration_seconds_count{kind="in_process",outcome="succeeded"}"#),
        2.0,
        "{after}"
    );
    assert!(
        after.contains(r#"sluice_task_duration_seconds_bucket{kind="in_process",outcome="succeeded",le="0.001"}"#),
        "a histogram with buckets, not a summary: {after}"
    );
    assert!(after.contains("# HELP sluice_state_transitions_total"), "{after}");
}

#[tokio::test]
async fn without_a_recorder_metrics_are_not_found() {
    let _one_engine_at_a_time = ENGINE.lock().await;
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&directory.path().join("sluice.db")).unwrap();
    let engine = Engine::new(Arc::new(store), Functions::default(), sluice_engine::Options::default());
    let (status, _, text) = scrape(&app(engine, None)).await;
    assert_eq!((status, text.as_str()), (404, "this server records no metrics\n"));
}
