//! `publikes serve` as a process: the like route's answers, the FIFO queue it feeds, store-status
//! against the fake fxtwitter (retries, the recorded failure), and rotate-batch on demand.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sluice::client::Client;
use sluice_testbed::Server;

const SECRET: &str = "s3cret";

fn start(folder: &std::path::Path, fxtwitter: &str) -> Server {
    Server::start_with(
        &PathBuf::from(env!("CARGO_BIN_EXE_publikes")),
        folder,
        &[],
        &["--secret", SECRET, "--fxtwitter-url", fxtwitter, "--merge-delay", "1"],
    )
}

async fn like(server: &Server, secret: Option<&str>, body: &str) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/publikes/likes", server.endpoint()))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(secret) = secret {
        request = request.header("x-publikes-secret", secret);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let body = response.json().await.expect("a JSON body");
    (status, body)
}

/// Starts an execution and waits for its end; answers its description.
async fn run(client: &Client, machine: &str, name: &str, input: Value) -> Value {
    let arn = format!("arn:aws:states:us-east-1:123456789012:stateMachine:{machine}");
    let started = client
        .step_functions(
            "StartExecution",
            &json!({"stateMachineArn": arn, "name": name, "input": input.to_string()}),
        )
        .await
        .expect("started");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let described = client
            .step_functions("DescribeExecution", &json!({"executionArn": started["executionArn"]}))
            .await
            .expect("described");
        if described["status"] != "RUNNING" {
            return described;
        }
        assert!(Instant::now() < deadline, "{name} did not end: {described}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn object(client: &Client, key: &str) -> Option<Value> {
    client
        .get_object("publikes", key)
        .await
        .expect("GetObject answers")
        .map(|bytes| serde_json::from_slice(&bytes).expect("JSON"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_route_the_queue_store_status_and_rotation() {
    let folder = tempfile::tempdir().expect("a temporary directory");
    let bounds = publikes::fake_fxtwitter::Bounds {
        max_requests: 100,
        max_time: Duration::from_secs(120),
    };
    let (fxtwitter, _fake) = publikes::fake_fxtwitter::spawn(0, bounds).await.expect("the fake");
    let server = start(folder.path(), &format!("http://{fxtwitter}"));
    let client = server.client();

    // rotate-batch on an empty list (before any like): it takes and releases the lock and rotates nothing.
    let ended = run(&client, "rotate-batch", "empty", json!({})).await;
    assert_eq!(ended["status"], "SUCCEEDED", "{ended}");
    assert_eq!(
        object(&client, "data/private/locks/current").await,
        None,
        "the lock is released"
    );
    let output: Value = serde_json::from_str(ended["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["close"]["closed"], false, "{output}");

    // The route: 401 without or with a wrong secret, 400 for a bad body, 202 otherwise.
    let (status, body) = like(&server, None, r#"{"id":"1"}"#).await;
    assert_eq!((status, &body["error"]["code"]), (401, &json!("unauthorized")));
    let (status, _) = like(&server, Some("wrong"), r#"{"id":"1"}"#).await;
    assert_eq!(status, 401);
    for bad in ["{", r#"{"id":1}"#, r#"{"id":"12a"}"#, r#"{"url":"x"}"#] {
        let (status, body) = like(&server, Some(SECRET), bad).await;
        assert_eq!((status, &body["error"]["code"]), (400, &json!("bad_request")), "{bad}");
    }
    let (status, body) = like(&server, Some(SECRET), r#"{"id":"1790000000000000001"}"#).await;
    assert_eq!((status, body), (202, json!({"ok": true, "id": "1790000000000000001"})));
    // The queue feeds insert-status (the manifest's event source mapping), which claims the
    // status, puts its head page and starts store-status, which completes it.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let stored = object(&client, "data/private/statuses/1790000000000000001.json").await;
        if stored.as_ref().is_some_and(|stored| stored["complete"] == json!(true)) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the like was never stored: {stored:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        object(&client, "data/private/inserted/1790000000000000001.json")
            .await
            .is_some(),
        "insert-status claimed the status"
    );

    // store-status: upstream errors are retried with back-off; a status that keeps failing is
    // recorded; a gone status is complete with no data.
    let ended = run(&client, "store-status", "flaky", json!({"status_id": "42503"})).await;
    assert_eq!(ended["status"], "SUCCEEDED", "{ended}");
    let stored = object(&client, "data/private/statuses/42503.json")
        .await
        .expect("stored");
    assert_eq!(
        (&stored["complete"], &stored["fxtwitter_data"]["tweet"]["id"]),
        (&json!(true), &json!("42503"))
    );
    let ended = run(&client, "store-status", "broken", json!({"status_id": "42500"})).await;
    assert_eq!(ended["status"], "FAILED", "{ended}");
    let recorded = object(&client, "data/private/statuses/42500.json")
        .await
        .expect("recorded");
    assert_eq!(recorded["complete"], false);
    assert_eq!(recorded["error"]["Error"], "Publikes.Upstream", "{recorded}");
    let ended = run(&client, "store-status", "gone", json!({"status_id": "42404"})).await;
    assert_eq!(ended["status"], "SUCCEEDED", "{ended}");
    let gone = object(&client, "data/private/statuses/42404.json")
        .await
        .expect("stored");
    assert_eq!(
        (&gone["complete"], &gone["fxtwitter_data"]),
        (&json!(true), &Value::Null)
    );
}
