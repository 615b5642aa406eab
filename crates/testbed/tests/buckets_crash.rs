//! The buckets' crash test: owners walk their own keys through conditional creates, `If-Match`
//! updates, overwrites and deletes; racers race `If-None-Match: *` on shared keys; overwriters
//! overwrite shared keys; every change notifies a state machine; and the server is killed with
//! SIGKILL several times. Afterwards: every key holds what its last acknowledged (or, after a
//! lost answer, observed) write put there, with the right ETag and body; no race had two
//! acknowledged winners; no condition was refused that should have held; every acknowledged
//! put was notified at least once; and the blob folder holds exactly the current objects' blobs
//! (orphans of writes the kills cut off are swept).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sluice::client::{Client, S3Answer};
use sluice_testbed::Server;

const OWNERS: usize = 8;
const KEYS_PER_OWNER: usize = 3;
const STEPS_PER_OWNER: usize = 30;
const RACE_ROUNDS: usize = 30;
const RACERS: usize = 4;
const OVERWRITERS: usize = 3;
const OVERWRITES: usize = 30;
const KILLS: usize = 4;
const BUCKET: &str = "crash";
const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:observe";

type Endpoint = Arc<RwLock<String>>;

fn client_for(endpoint: &Endpoint) -> Client {
    sluice_testbed::client_at(&endpoint.read().unwrap())
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A body unique to this write, of a random size up to 192 KiB (so that kills land between a
/// blob's write and its commit too).
fn body(random: &mut rand::rngs::StdRng, label: &str) -> Vec<u8> {
    let mut bytes = format!("{label}:").into_bytes();
    let size = random.random_range(0..192 * 1024);
    bytes.extend((0..size).map(|at| b'a' + (at % 26) as u8));
    bytes
}

/// An answer, and whether an earlier attempt went unanswered (so it may have been applied).
struct Answered {
    answer: S3Answer,
    ambiguous: bool,
}

/// Sends until the server answers; a 5xx counts as no answer (the server may be going down).
async fn s3(endpoint: &Endpoint, method: &str, key: &str, headers: &[(&str, &str)], body: &[u8]) -> Answered {
    let path = format!("/{BUCKET}/{key}");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut ambiguous = false;
    loop {
        match client_for(endpoint).s3(method, &path, "", headers, body.to_vec()).await {
            Ok(answer) if answer.status < 500 => return Answered { answer, ambiguous },
            Ok(answer) => eprintln!(
                "{method} {key}: {} {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            ),
            Err(_) => {}
        }
        ambiguous = true;
        assert!(Instant::now() < deadline, "{method} {key} failed for two minutes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The key's current body, checked against its ETag; `None` when it has no object.
async fn read(endpoint: &Endpoint, key: &str) -> Option<Vec<u8>> {
    let got = s3(endpoint, "GET", key, &[], b"").await.answer;
    match got.status {
        200 => {
            let etag = got.header("etag").unwrap_or_default().trim_matches('"').to_owned();
            assert_eq!(etag, md5_hex(&got.body), "{key}: the ETag is the body's MD5");
            Some(got.body)
        }
        404 => {
            assert_eq!(got.code().as_deref(), Some("NoSuchKey"), "{key}");
            None
        }
        other => panic!("GET {key}: {other} {}", String::from_utf8_lossy(&got.body)),
    }
}

/// What the clients saw.
#[derive(Default)]
struct Record {
    /// Writes acknowledged (200, 204), for the kills to be timed by.
    acknowledged: usize,
    /// (key, ETag) of every acknowledged put: each must be notified.
    puts: Vec<(String, String)>,
    /// What each owned key must hold at the end.
    owned: BTreeMap<String, Option<Vec<u8>>>,
    /// The writers whose `If-None-Match: *` each race key acknowledged.
    race_winners: BTreeMap<String, Vec<usize>>,
    /// Every body sent to a race key or a shared key.
    attempted: BTreeMap<String, HashSet<Vec<u8>>>,
}

fn acknowledge(record: &Mutex<Record>, key: &str, written: &[u8]) {
    let mut record = record.lock().unwrap();
    record.acknowledged += 1;
    record.puts.push((key.to_owned(), md5_hex(written)));
}

/// One owner walks its keys: create (`If-None-Match: *`) when absent; else update with
/// `If-Match`, overwrite, or delete. A refusal after a lost answer is resolved by reading.
async fn own(endpoint: Endpoint, record: Arc<Mutex<Record>>, owner: usize) {
    let mut random = rand::rngs::StdRng::seed_from_u64(owner as u64);
    let mut state: Vec<Option<Vec<u8>>> = vec![None; KEYS_PER_OWNER];
    for step in 0..STEPS_PER_OWNER {
        let slot = random.random_range(0..KEYS_PER_OWNER);
        let key = format!("own/{owner}/{slot}");
        let choice = random.random_range(0..10);
        match &state[slot] {
            Some(_) if choice >= 8 => {
                let done = s3(&endpoint, "DELETE", &key, &[], b"").await;
                assert_eq!(done.answer.status, 204, "DELETE {key}");
                record.lock().unwrap().acknowledged += 1;
                state[slot] = None;
            }
            current => {
                let new = body(&mut random, &format!("{key}:{step}"));
                let etag = current.as_ref().map(|body| format!("\"{}\"", md5_hex(body)));
                let condition: Vec<(&str, &str)> = match (&etag, choice) {
                    (None, _) => vec![("if-none-match", "*")],
                    (Some(_), 6 | 7) => Vec::new(),
                    (Some(etag), _) => vec![("if-match", etag.as_str())],
                };
                let done = s3(&endpoint, "PUT", &key, &condition, &new).await;
                match done.answer.status {
                    200 => {
                        let answered = done
                            .answer
                            .header("etag")
                            .unwrap_or_default()
                            .trim_matches('"')
                            .to_owned();
                        assert_eq!(answered, md5_hex(&new), "PUT {key}: the answered ETag");
                        acknowledge(&record, &key, &new);
                    }
                    412 if done.ambiguous => {
                        // The attempt whose answer was lost must have been applied: no one else
                        // writes this key.
                        assert_eq!(
                            read(&endpoint, &key).await.as_deref(),
                            Some(&new[..]),
                            "{key} after a lost answer"
                        );
                    }
                    other => panic!(
                        "PUT {key} {condition:?}: {other} {} (the condition should have held)",
                        String::from_utf8_lossy(&done.answer.body)
                    ),
                }
                state[slot] = Some(new);
            }
        }
    }
    let mut record = record.lock().unwrap();
    for (slot, content) in state.into_iter().enumerate() {
        record.owned.insert(format!("own/{owner}/{slot}"), content);
    }
}

/// Racers create `race/N` with `If-None-Match: *`, all at once, round after round.
async fn race(endpoint: Endpoint, record: Arc<Mutex<Record>>, racer: usize, round: Arc<AtomicUsize>) {
    let mut random = rand::rngs::StdRng::seed_from_u64(1000 + racer as u64);
    for number in 0..RACE_ROUNDS {
        // Start each round together, give or take a few milliseconds.
        while round.load(Ordering::SeqCst) < number * RACERS {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let key = format!("race/{number}");
        let new = body(&mut random, &format!("{key}:{racer}"));
        record
            .lock()
            .unwrap()
            .attempted
            .entry(key.clone())
            .or_default()
            .insert(new.clone());
        let done = s3(&endpoint, "PUT", &key, &[("if-none-match", "*")], &new).await;
        match done.answer.status {
            200 => {
                acknowledge(&record, &key, &new);
                record.lock().unwrap().race_winners.entry(key).or_default().push(racer);
            }
            412 => assert_eq!(done.answer.code().as_deref(), Some("PreconditionFailed")),
            other => panic!("race PUT {key}: {other}"),
        }
        round.fetch_add(1, Ordering::SeqCst);
    }
}

/// Overwriters put `shared/N` with no condition.
async fn overwrite(endpoint: Endpoint, record: Arc<Mutex<Record>>, writer: usize) {
    let mut random = rand::rngs::StdRng::seed_from_u64(2000 + writer as u64);
    for step in 0..OVERWRITES {
        let key = format!("shared/{}", step % 3);
        let new = body(&mut random, &format!("{key}:{writer}:{step}"));
        record
            .lock()
            .unwrap()
            .attempted
            .entry(key.clone())
            .or_default()
            .insert(new.clone());
        let done = s3(&endpoint, "PUT", &key, &[], &new).await;
        assert_eq!(done.answer.status, 200, "PUT {key}");
        acknowledge(&record, &key, &new);
    }
}

fn app(folder: &std::path::Path) -> PathBuf {
    let app = folder.join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("sluice.toml"),
        format!(
            "[app]\nname = \"crash-buckets\"\n\n[state_machines.observe]\ndefinition = \"observe.asl.json\"\n\n\
             [buckets.{BUCKET}]\n[[buckets.{BUCKET}.notifications]]\nid = \"all\"\n\
             events = [\"s3:ObjectCreated:*\", \"s3:ObjectRemoved:*\"]\nstate_machine = \"observe\"\n"
        ),
    )
    .unwrap();
    std::fs::write(
        app.join("observe.asl.json"),
        r#"{"StartAt": "Seen", "States": {"Seen": {"Type": "Pass", "End": true}}}"#,
    )
    .unwrap();
    app
}

#[test]
fn acknowledged_object_writes_survive_kill_9() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_sluice-testbed"));
    let folder = tempfile::tempdir().unwrap();
    let app = app(folder.path());
    // Short sweeps, so that the orphans the kills leave are gone by the end.
    let sweeps = [
        "--blob-orphan-grace-seconds",
        "4",
        "--blob-sweep-seconds",
        "1",
        "--blob-garbage-delay-seconds",
        "1",
    ];
    let mut server = Server::start_with(&binary, folder.path(), &[app], &sweeps);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let endpoint: Endpoint = Arc::new(RwLock::new(server.endpoint()));
    let record = Arc::new(Mutex::new(Record::default()));
    let writers = {
        let (endpoint, record) = (endpoint.clone(), record.clone());
        runtime.spawn(async move {
            let mut tasks = Vec::new();
            for owner in 0..OWNERS {
                tasks.push(tokio::spawn(own(endpoint.clone(), record.clone(), owner)));
            }
            let round = Arc::new(AtomicUsize::new(0));
            for racer in 0..RACERS {
                tasks.push(tokio::spawn(race(
                    endpoint.clone(),
                    record.clone(),
                    racer,
                    round.clone(),
                )));
            }
            for writer in 0..OVERWRITERS {
                tasks.push(tokio::spawn(overwrite(endpoint.clone(), record.clone(), writer)));
            }
            for task in tasks {
                task.await.unwrap();
            }
        })
    };

    // Each kill waits for a share of the writes to be acknowledged, plus a random moment.
    let mut random = rand::rngs::StdRng::seed_from_u64(0xb0c);
    let total = OWNERS * STEPS_PER_OWNER + RACE_ROUNDS + OVERWRITERS * OVERWRITES;
    let mut at_kills = Vec::new();
    for kill in 0..KILLS {
        let share = total * (kill + 1) / (KILLS + 2);
        let deadline = Instant::now() + Duration::from_secs(180);
        while record.lock().unwrap().acknowledged < share {
            assert!(
                Instant::now() < deadline,
                "writes stalled before kill {}\n{}",
                kill + 1,
                server.logs()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(random.random_range(0..50)));
        at_kills.push(record.lock().unwrap().acknowledged);
        server.kill();
        std::thread::sleep(Duration::from_millis(random.random_range(0..300)));
        server.restart();
        *endpoint.write().unwrap() = server.endpoint();
        eprintln!("kill {} of {KILLS} done", kill + 1);
    }
    runtime.block_on(writers).unwrap();
    eprintln!("writes acknowledged before each kill: {at_kills:?}");
    // One last kill with nothing in flight: what was acknowledged is on disk.
    server.restart();
    *endpoint.write().unwrap() = server.endpoint();

    let record = record.lock().unwrap();
    runtime.block_on(async {
        // Owned keys hold their last write; a deleted key has no object.
        for (key, expected) in &record.owned {
            assert_eq!(&read(&endpoint, key).await, expected, "{key}");
        }
        // A race has at most one acknowledged winner, and the key holds its body.
        for number in 0..RACE_ROUNDS {
            let key = format!("race/{number}");
            let winners = record.race_winners.get(&key).cloned().unwrap_or_default();
            assert!(winners.len() <= 1, "{key} had two acknowledged winners: {winners:?}");
            let stored = read(&endpoint, &key).await.expect("every race created its key");
            assert!(
                record.attempted[&key].contains(&stored),
                "{key} holds a body no racer sent"
            );
            if let Some(winner) = winners.first() {
                let prefix = format!("{key}:{winner}:");
                assert!(stored.starts_with(prefix.as_bytes()), "{key} holds the winner's body");
            }
        }
        for number in 0..3 {
            let key = format!("shared/{number}");
            let stored = read(&endpoint, &key).await.expect("overwritten keys exist");
            assert!(
                record.attempted[&key].contains(&stored),
                "{key} holds a body no one sent"
            );
        }
        // The listing has exactly the keys that hold objects.
        let mut expected: BTreeSet<String> = record
            .owned
            .iter()
            .filter(|(_, content)| content.is_some())
            .map(|(key, _)| key.clone())
            .collect();
        expected.extend((0..RACE_ROUNDS).map(|number| format!("race/{number}")));
        expected.extend((0..3).map(|number| format!("shared/{number}")));
        let listed = list_keys(&endpoint).await;
        assert_eq!(listed, expected);

        // Every acknowledged put was notified (at least once).
        let client = client_for(&endpoint);
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut notified: HashSet<(String, String)> = HashSet::new();
        let mut described: HashSet<String> = HashSet::new();
        loop {
            let executions = client
                .step_functions_all(
                    "ListExecutions",
                    &json!({"stateMachineArn": MACHINE}),
                    "executions",
                    100_000,
                )
                .await
                .unwrap();
            for execution in executions {
                let arn = execution["executionArn"].as_str().unwrap().to_owned();
                if !described.insert(arn.clone()) {
                    continue;
                }
                let described = client
                    .step_functions("DescribeExecution", &json!({"executionArn": arn}))
                    .await
                    .unwrap();
                let input: Value = serde_json::from_str(described["input"].as_str().unwrap()).unwrap();
                let object = &input["Records"][0]["s3"]["object"];
                if let (Some(key), Some(etag)) = (object["key"].as_str(), object["eTag"].as_str()) {
                    notified.insert((key.to_owned(), etag.to_owned()));
                }
            }
            let missing: Vec<&(String, String)> = record.puts.iter().filter(|put| !notified.contains(put)).collect();
            if missing.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} acknowledged puts never notified, such as {:?}",
                missing.len(),
                missing.first()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        eprintln!(
            "{} acknowledged puts, {} executions started by notifications",
            record.puts.len(),
            described.len()
        );
    });

    // The sweeps leave exactly the current objects' blobs: orphans of cut-off writes and the
    // blobs of replaced versions go.
    let objects = runtime.block_on(list_keys(&endpoint)).len();
    let blobs = || {
        std::fs::read_dir(server.data().join("blobs").join(BUCKET))
            .map(|dir| dir.count())
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while blobs() != objects {
        assert!(
            Instant::now() < deadline,
            "{} blobs for {objects} objects after the sweeps",
            blobs()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Every key of the bucket, from ListObjectsV2 pages.
async fn list_keys(endpoint: &Endpoint) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let query = match &token {
            Some(token) => format!("continuation-token={token}&list-type=2"),
            None => "list-type=2".to_owned(),
        };
        let page = client_for(endpoint)
            .s3("GET", &format!("/{BUCKET}"), &query, &[], Vec::new())
            .await
            .unwrap();
        assert_eq!(page.status, 200, "{}", String::from_utf8_lossy(&page.body));
        let text = String::from_utf8(page.body).unwrap();
        for piece in text.split("<Key>").skip(1) {
            keys.insert(piece.split("</Key>").next().unwrap().to_owned());
        }
        match text
            .split("<NextContinuationToken>")
            .nth(1)
            .and_then(|rest| rest.split("</NextContinuationToken>").next())
        {
            Some(next) => token = Some(next.to_owned()),
            None => return keys,
        }
    }
}
