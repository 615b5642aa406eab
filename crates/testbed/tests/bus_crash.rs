//! The event bus's crash test: events are put (ten per `PutEvents`) while the server is killed
//! with SIGKILL at random moments and started again on the same data. Every event whose
//! `PutEvents` was acknowledged must reach the rule's state machine target after the restarts,
//! and each exactly once (the execution is named after the delivery, so a redelivery after a
//! crash starts nothing new).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sluice::client::Client;
use sluice_testbed::Server;

const BATCHES: usize = 60;
const KILLS: usize = 3;
const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:record";

fn write_app(folder: &Path) -> PathBuf {
    let app = folder.join("app");
    std::fs::create_dir_all(&app).unwrap();
    let manifest = "[app]\nname = \"bus-crash\"\n\n[state_machines.record]\ndefinition = \"record.asl.json\"\n\n\
                    [rules.all]\npattern = { source = [\"crash\"] }\ntargets = [{ state_machine = \"record\" }]\n";
    std::fs::write(app.join("sluice.toml"), manifest).unwrap();
    let definition = json!({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": true}}});
    std::fs::write(app.join("record.asl.json"), definition.to_string()).unwrap();
    app
}

/// Puts batch `batch` until one attempt is acknowledged; answers the acknowledged event ids with
/// the entry each carries. Unacknowledged attempts may have been written too: their events are
/// delivered as well, which the checks allow.
async fn put_batch(endpoint: &Arc<Mutex<String>>, batch: usize) -> Vec<(String, usize)> {
    let entries: Vec<Value> = (0..10)
        .map(|index| {
            json!({"Source": "crash", "DetailType": "Tick", "Detail": json!({"n": batch * 10 + index}).to_string()})
        })
        .collect();
    let request = json!({ "Entries": entries });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let client = sluice_testbed::client_at(&endpoint.lock().unwrap().clone());
        match client.events("PutEvents", &request).await {
            Ok(answer) => {
                assert_eq!(answer["FailedEntryCount"], json!(0), "{answer}");
                return answer["Entries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .enumerate()
                    .map(|(index, entry)| (entry["EventId"].as_str().unwrap().to_owned(), batch * 10 + index))
                    .collect();
            }
            Err(error) if Instant::now() < deadline => {
                let _ = error;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("batch {batch} could not be put: {error:#}"),
        }
    }
}

/// Event id → how many executions of `record` carry it, and which entry it was.
async fn delivered(client: &Client) -> BTreeMap<String, (usize, u64)> {
    let mut found: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let mut request = json!({"stateMachineArn": MACHINE, "maxResults": 1000});
        if let Some(token) = &token {
            request["nextToken"] = json!(token);
        }
        let page = client.step_functions("ListExecutions", &request).await.unwrap();
        for execution in page["executions"].as_array().unwrap() {
            let described = client
                .step_functions("DescribeExecution", &json!({"executionArn": execution["executionArn"]}))
                .await
                .unwrap();
            let input: Value = serde_json::from_str(described["input"].as_str().unwrap()).unwrap();
            let id = input["id"].as_str().unwrap().to_owned();
            let n = input["detail"]["n"].as_u64().unwrap();
            found.entry(id).or_insert((0, n)).0 += 1;
        }
        token = page.get("nextToken").and_then(Value::as_str).map(str::to_owned);
        if token.is_none() {
            return found;
        }
    }
}

#[test]
fn acknowledged_events_are_delivered_once_across_kill_9() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_sluice-testbed"));
    let folder = tempfile::tempdir().unwrap();
    let app = write_app(folder.path());
    let mut server = Server::start(&binary, folder.path(), &[app]);
    let endpoint = Arc::new(Mutex::new(server.endpoint()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let putter = {
        let endpoint = endpoint.clone();
        runtime.spawn(async move {
            let mut acknowledged = Vec::new();
            for batch in 0..BATCHES {
                acknowledged.extend(put_batch(&endpoint, batch).await);
            }
            acknowledged
        })
    };
    let mut random = rand::rngs::StdRng::seed_from_u64(4);
    for _ in 0..KILLS {
        std::thread::sleep(Duration::from_millis(random.random_range(200..900)));
        server.kill();
        server.restart();
        *endpoint.lock().unwrap() = server.endpoint();
    }
    let acknowledged = runtime.block_on(putter).unwrap();
    assert_eq!(acknowledged.len(), BATCHES * 10);
    let client = sluice_testbed::client_at(&server.endpoint());
    let deadline = Instant::now() + Duration::from_secs(120);
    let found = loop {
        let found = runtime.block_on(delivered(&client));
        let missing = acknowledged.iter().filter(|(id, _)| !found.contains_key(id)).count();
        if missing == 0 {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} acknowledged events were not delivered; logs:\n{}",
            server.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    for (id, n) in &acknowledged {
        let (count, delivered_n) = found[id];
        assert_eq!(count, 1, "event {id} was delivered {count} times");
        assert_eq!(delivered_n, *n as u64, "event {id} carries its own detail");
    }
    for (id, (count, _)) in &found {
        assert_eq!(
            *count, 1,
            "event {id} (maybe unacknowledged) was delivered {count} times"
        );
    }
}
