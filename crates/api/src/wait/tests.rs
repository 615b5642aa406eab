//! `DescribeExecution` with `X-Sluice-Wait-Seconds` on a real engine.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::HeaderValue;
use serde_json::{Value, json};
use sluice_engine::{Engine, Functions};
use sluice_store_sqlite::SqliteStore;

use crate::EngineService;
use crate::router::router;
use crate::testing::{ENGINE, GOOD, ROLE, call, options, request, send};

async fn app(directory: &std::path::Path) -> Router {
    let store = SqliteStore::open(&directory.join("sluice.db")).unwrap();
    let engine = Engine::new(Arc::new(store), Functions::default(), sluice_engine::Options::default());
    engine.start().await.unwrap();
    router(options(Arc::new(EngineService::new(engine))))
}

/// Starts an execution of a machine that waits `seconds`, and answers its ARN.
async fn start_waiting(app: &Router, seconds: u64) -> String {
    let definition =
        json!({"StartAt": "Pause", "States": {"Pause": {"Type": "Wait", "Seconds": seconds, "End": true}}});
    let (status, body) = call(
        app,
        "CreateStateMachine",
        json!({"name": format!("pause-{seconds}"), "definition": definition.to_string(), "roleArn": ROLE}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        app,
        "StartExecution",
        json!({"stateMachineArn": body["stateMachineArn"], "input": "{\"a\":1}"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["executionArn"].as_str().unwrap().to_owned()
}

async fn describe(app: &Router, arn: &str, wait: Option<&str>) -> (u16, Value) {
    let body = json!({ "executionArn": arn }).to_string().into_bytes();
    let mut request = request("AWSStepFunctions.DescribeExecution", body, Some(GOOD));
    if let Some(wait) = wait {
        request
            .headers_mut()
            .insert("x-sluice-wait-seconds", HeaderValue::from_str(wait).unwrap());
    }
    send(app, request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_waits_for_the_end_when_asked() {
    let _one_engine_at_a_time = ENGINE.lock().await;
    let directory = tempfile::tempdir().unwrap();
    let app = app(directory.path()).await;
    let arn = start_waiting(&app, 1).await;
    let (status, body) = describe(&app, &arn, None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("RUNNING")), "{body}");
    let (status, body) = describe(&app, &arn, Some("30")).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("SUCCEEDED")), "{body}");
    assert_eq!(body["output"], "{\"a\":1}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_answers_running_when_the_wait_runs_out() {
    let _one_engine_at_a_time = ENGINE.lock().await;
    let directory = tempfile::tempdir().unwrap();
    let app = app(directory.path()).await;
    let arn = start_waiting(&app, 30).await;
    let began = Instant::now();
    let (status, body) = describe(&app, &arn, Some("1")).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("RUNNING")), "{body}");
    assert!(began.elapsed() >= Duration::from_millis(900), "{:?}", began.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_wait_or_an_unknown_execution_is_refused_clearly() {
    let _one_engine_at_a_time = ENGINE.lock().await;
    let directory = tempfile::tempdir().unwrap();
    let app = app(directory.path()).await;
    let arn = start_waiting(&app, 30).await;
    for bad in ["61", "-1", "soon"] {
        let (status, body) = describe(&app, &arn, Some(bad)).await;
        assert_eq!(
            (status, body["__type"].as_str()),
            (400, Some("ValidationException")),
            "{body}"
        );
        assert!(
            body["message"].as_str().unwrap().contains("X-Sluice-Wait-Seconds"),
            "{body}"
        );
    }
    let missing = arn.replace(":pause-30:", ":pause-31:");
    let (status, body) = describe(&app, &missing, Some("5")).await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("ExecutionDoesNotExist")),
        "{body}"
    );
}
