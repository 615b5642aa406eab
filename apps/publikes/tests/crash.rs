//! kill -9 during a rotation's close and during its merge: the server is stopped at each moment
//! by the test pause (`--test-pause-file`, see `publikes::testing`), killed, and started again;
//! the rotation then completes, and the list holds every liked status once, newest first.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sluice::client::Client;
use sluice_testbed::Server;

const SECRET: &str = "s3cret";
/// Generous: CI's machine is small and slow; every wait polls and ends as soon as it can.
const DEADLINE: Duration = Duration::from_secs(300);

async fn like(server: &Server, id: &str) {
    let response = reqwest::Client::new()
        .post(format!("{}/publikes/likes", server.endpoint()))
        .header("x-publikes-secret", SECRET)
        .body(json!({ "id": id }).to_string())
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status().as_u16(), 202, "liking {id}");
}

async fn read(client: &Client) -> Vec<String> {
    publikes::reader::walk(|key| {
        let client = client.clone();
        async move {
            client
                .get_object("publikes", &key)
                .await
                .map_err(|error| publikes::Error::Storage(format!("{error:#}")))
        }
    })
    .await
    .expect("the list reads")
}

/// Waits until the list holds `count` statuses.
async fn wait_for_list(client: &Client, count: usize) -> Vec<String> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let listed = read(client).await;
        if listed.len() >= count {
            return listed;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {count} statuses were listed",
            listed.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the server logged that it paused at `point` (since its last start).
fn wait_for_pause(server: &Server, point: &str) {
    let deadline = Instant::now() + DEADLINE;
    let needle = format!("publikes paused at {point}");
    while !server
        .logs()
        .rsplit("--- restart ---")
        .next()
        .unwrap_or_default()
        .contains(&needle)
    {
        assert!(
            Instant::now() < deadline,
            "the server never paused at {point}:\n{}",
            server.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn describe(client: &Client, arn: &Value) -> Value {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let described = client
            .step_functions("DescribeExecution", &json!({ "executionArn": arn }))
            .await
            .expect("described");
        if described["status"] != "RUNNING" {
            return described;
        }
        assert!(Instant::now() < deadline, "{arn} did not end: {described}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn rotate(client: &Client, name: &str) -> Value {
    let started = client
        .step_functions(
            "StartExecution",
            &json!({
                "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:rotate-batch",
                "name": name,
                "input": "{}",
            }),
        )
        .await
        .expect("started");
    started["executionArn"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_killed_during_its_close_and_its_merge_completes() {
    let folder = tempfile::tempdir().expect("a temporary directory");
    let bounds = publikes::fake_fxtwitter::Bounds {
        max_requests: 1000,
        max_time: Duration::from_secs(900),
    };
    let (fxtwitter, _fake) = publikes::fake_fxtwitter::spawn(0, bounds).await.expect("the fake");
    let pause = folder.path().join("pause");
    std::fs::write(&pause, "").expect("the pause file");
    let fxtwitter = format!("http://{fxtwitter}");
    let pause_arg = pause.to_string_lossy().into_owned();
    let mut server = Server::start_with(
        &PathBuf::from(env!("CARGO_BIN_EXE_publikes")),
        folder.path(),
        &[],
        &[
            "--secret",
            SECRET,
            "--fxtwitter-url",
            &fxtwitter,
            "--merge-delay",
            "1",
            "--test-pause-file",
            &pause_arg,
        ],
    );
    let mut liked: Vec<String> = Vec::new();
    for number in 0..30 {
        let id = format!("{}", 5_000_000 + number);
        like(&server, &id).await;
        liked.push(id);
    }
    wait_for_list(&server.client(), liked.len()).await;

    // 1. Killed while closing: the head batch is marked closed, the new head not made yet.
    std::fs::write(&pause, "close").expect("pause at close");
    let rotation = rotate(&server.client(), "killed-twice").await;
    wait_for_pause(&server, "close");
    server.kill();

    // 2. Started again, the rotation finishes its close (likes go to the new head batch) and is
    // killed while merging: the merged pages are written, the batch not replaced yet.
    std::fs::write(&pause, "merge").expect("pause at merge");
    server.restart();
    for number in 30..40 {
        let id = format!("{}", 5_000_000 + number);
        like(&server, &id).await;
        liked.push(id);
    }
    wait_for_pause(&server, "merge");
    server.kill();

    // 3. Started again without pauses, the rotation merges and ends.
    std::fs::write(&pause, "").expect("no pause");
    server.restart();
    let client = server.client();
    let ended = describe(&client, &rotation).await;
    assert_eq!(ended["status"], "SUCCEEDED", "{ended}\n{}", server.logs());
    let output: Value = serde_json::from_str(ended["output"].as_str().expect("an output")).expect("JSON");
    let closed = output["close"]["closed_head_id"]
        .as_str()
        .expect("a batch was closed")
        .to_owned();
    assert_eq!(output["merge"]["statuses"], json!(30), "{output}");

    // Every like once, newest first (one client, one after another), and nothing left unmerged.
    let listed = wait_for_list(&client, liked.len()).await;
    let expected: Vec<String> = liked.iter().rev().cloned().collect();
    assert_eq!(listed, expected);
    let batch: Value = serde_json::from_slice(
        &client
            .get_object("publikes", &format!("data/public/batches/{closed}.json"))
            .await
            .expect("GetObject")
            .expect("the closed batch"),
    )
    .expect("JSON");
    assert_eq!(batch["head"], json!(false), "{batch}");
    let listing = client
        .s3(
            "GET",
            "/publikes",
            &format!("list-type=2&prefix=data%2Fpublic%2Fpages%2Fhead%2F{closed}%2F"),
            &[],
            Vec::new(),
        )
        .await
        .expect("ListObjectsV2");
    assert!(
        !String::from_utf8_lossy(&listing.body).contains("<Key>"),
        "the merged head pages are gone: {}",
        String::from_utf8_lossy(&listing.body)
    );
    // A rotation afterwards closes and merges the rest.
    let again = describe(&client, &rotate(&client, "after").await).await;
    assert_eq!(again["status"], "SUCCEEDED", "{again}");
    assert_eq!(read(&client).await, expected);
}
