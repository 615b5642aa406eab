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

    // rotate-batch on an empty list (before any like): it takes and releases the lock (the lease
    // publikes-rotation) and rotates nothing; the next rotation gets the lock, with a newer token.
    let ended = run(&client, "rotate-batch", "empty", json!({})).await;
    assert_eq!(ended["status"], "SUCCEEDED", "{ended}");
    let output: Value = serde_json::from_str(ended["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["close"]["closed"], false, "{output}");
    let first_token = output["lock"]["Token"].as_u64().expect("a fencing token");
    let again = run(&client, "rotate-batch", "empty-again", json!({})).await;
    let output: Value = serde_json::from_str(again["output"].as_str().unwrap()).unwrap();
    assert_eq!(
        output["lock"]["Token"],
        json!(first_token + 1),
        "the lock was released: {output}"
    );

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

    // insert-batch, the CLI: the statuses become a batch behind the head batch, under the lock.
    let inserted = std::process::Command::new(env!("CARGO_BIN_EXE_publikes"))
        .args([
            "insert-batch",
            "--endpoint",
            &server.endpoint(),
            "--batch-id",
            "1700000000-import",
        ])
        .args(["1790000000000000003", "1790000000000000002", "1790000000000000001"])
        .output()
        .expect("publikes insert-batch runs");
    let said = String::from_utf8_lossy(&inserted.stdout);
    assert!(
        inserted.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&inserted.stderr)
    );
    assert_eq!(said.trim(), "batch 1700000000-import: 2 inserted, 1 stored before");
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_publikes"))
        .args(["insert-batch", "--endpoint", &server.endpoint(), "12x"])
        .output()
        .expect("publikes insert-batch runs");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("\"12x\" is not a status id"));

    // The page and the public list read with plain GETs; nothing else does.
    let plain = reqwest::Client::new();
    let page = plain
        .get(format!("{}/publikes/index.html", server.endpoint()))
        .send()
        .await
        .expect("GET");
    assert_eq!(page.status().as_u16(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert!(page.text().await.unwrap().contains("data/public/current.json"));
    let head = plain
        .head(format!("{}/publikes/index.html", server.endpoint()))
        .send()
        .await
        .expect("HEAD");
    assert_eq!(head.status().as_u16(), 200);
    let walked = publikes::reader::walk(|key| {
        let plain = plain.clone();
        let url = format!("{}/publikes/{key}", server.endpoint());
        async move {
            let response = plain
                .get(url)
                .send()
                .await
                .map_err(|error| publikes::Error::Storage(error.to_string()))?;
            assert_eq!(response.status().as_u16(), 200, "{key}");
            Ok(Some(response.bytes().await.unwrap().to_vec()))
        }
    })
    .await
    .expect("the list reads unsigned");
    assert_eq!(
        walked,
        ["1790000000000000001", "1790000000000000003", "1790000000000000002"]
    );
    for (method, path) in [
        ("GET", "/publikes/data/private/statuses/1790000000000000001.json"),
        ("GET", "/publikes/data/public/nothing-here.json"),
        ("GET", "/publikes?list-type=2&prefix=data/public/"),
        ("GET", "/publikes/data/public/current.json?versionId=1"),
        ("PUT", "/publikes/data/public/current.json"),
        ("DELETE", "/publikes/index.html"),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let answer = plain
            .request(method.clone(), format!("{}{path}", server.endpoint()))
            .send()
            .await
            .expect("answered");
        let status = answer.status().as_u16();
        let body = answer.text().await.unwrap();
        assert_eq!(status, 403, "{method} {path}: {body}");
        assert!(body.contains("<Code>AccessDenied</Code>"), "{method} {path}: {body}");
    }
    assert!(
        object(&client, "data/public/current.json").await.is_some(),
        "still there"
    );
}
