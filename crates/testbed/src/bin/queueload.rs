//! `queueload`: Sluice's side of `scripts/bench-queues`, the same closed loop as the peers'
//! (`bench/queue-bullmq.mjs`, `bench/queue-graphile.mjs`). It creates a FIFO queue; `--producers`
//! producers each keep one `SendMessageBatch` of `--batch` messages in flight until `--messages`
//! are sent, each producer owning its share of `--groups` message groups; `--consumers` consumers
//! each loop `ReceiveMessage` (up to `--batch`, long polling) then `DeleteMessageBatch` until every
//! message is deleted. The clock runs from the first send to the last acknowledged delete. It
//! checks that every message was deleted once and that each group was received in the order it
//! was sent, then prints one JSON line. Requests go through `sluice::client`, signed with the
//! development keys.
//!
//! The client runs on one thread (a current-thread runtime), like the peers' single Node process.

use std::cell::RefCell;
use std::collections::HashMap;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Instant;

use clap::Parser;
use serde_json::{Value, json};
use sluice::client::Client;

/// Sluice's FIFO queues under a closed loop of producers and consumers.
#[derive(Debug, Parser)]
struct Cli {
    /// The Sluice endpoint (`http://127.0.0.1:4566`).
    endpoint: String,
    /// Messages sent, received and deleted.
    #[arg(long, default_value_t = 20_000)]
    messages: usize,
    /// Producers, each with one SendMessageBatch in flight.
    #[arg(long, default_value_t = 5)]
    producers: usize,
    /// Consumers, each with one ReceiveMessage or DeleteMessageBatch in flight.
    #[arg(long, default_value_t = 5)]
    consumers: usize,
    /// Messages per SendMessageBatch, and most messages per ReceiveMessage (1 to 10).
    #[arg(long, default_value_t = 10)]
    batch: usize,
    /// Message groups, shared out among the producers.
    #[arg(long, default_value_t = 100)]
    groups: usize,
    /// The queue's name (`.fifo` is added); a fresh name per run keeps runs apart.
    #[arg(long, default_value = "bench")]
    queue: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match drive(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("queueload: {message}");
            ExitCode::FAILURE
        }
    }
}

fn drive(cli: &Cli) -> Result<(), String> {
    if cli.messages == 0 || cli.producers == 0 || cli.consumers == 0 || !cli.groups.is_multiple_of(cli.producers) {
        return Err("--messages, --producers and --consumers must be at least 1, and --groups a multiple of --producers (one producer per group)".into());
    }
    if !(1..=10).contains(&cli.batch) {
        return Err("--batch must be between 1 and 10, as SQS allows".into());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the runtime: {error}"))?;
    let sqs = Rc::new(Sqs(sluice_testbed::client_at(&cli.endpoint)));
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, run(cli, sqs))
}

/// What the consumers saw.
#[derive(Default)]
struct Seen {
    /// The last index received per group, to check the order.
    last_per_group: HashMap<usize, usize>,
    /// Messages deleted so far.
    deleted: usize,
    /// Messages received more than once (a visibility timeout ran out).
    redelivered: usize,
}

async fn run(cli: &Cli, sqs: Rc<Sqs>) -> Result<(), String> {
    let name = format!("{}.fifo", cli.queue);
    let created = sqs
        .call(
            "CreateQueue",
            &json!({"QueueName": name, "Attributes": {"FifoQueue": "true", "VisibilityTimeout": "30"}}),
        )
        .await?;
    let url = created["QueueUrl"]
        .as_str()
        .ok_or_else(|| format!("CreateQueue answered no QueueUrl: {created}"))?
        .to_owned();
    let seen = Rc::new(RefCell::new(Seen::default()));
    let began = Instant::now();
    let mut tasks = Vec::new();
    for producer in 0..cli.producers {
        // Producer p sends the messages whose index is p modulo the producer count, each to
        // group index modulo the group count, so each group is sent by one producer, in order.
        let (sqs, url) = (sqs.clone(), url.clone());
        let (producers, messages, batch, groups) = (cli.producers, cli.messages, cli.batch, cli.groups);
        tasks.push(tokio::task::spawn_local(async move {
            let mine: Vec<usize> = (producer..messages).step_by(producers).collect();
            for chunk in mine.chunks(batch) {
                let entries: Vec<Value> = chunk
                    .iter()
                    .enumerate()
                    .map(|(entry, index)| {
                        json!({
                            "Id": format!("e{entry}"), "MessageBody": format!("{}:{index}", index % groups),
                            "MessageGroupId": format!("g{}", index % groups),
                            "MessageDeduplicationId": format!("m{index}"),
                        })
                    })
                    .collect();
                let answer = sqs
                    .call("SendMessageBatch", &json!({"QueueUrl": url, "Entries": entries}))
                    .await?;
                if answer["Failed"].as_array().is_some_and(|failed| !failed.is_empty()) {
                    return Err(format!("SendMessageBatch failed entries: {answer}"));
                }
            }
            Ok(())
        }));
    }
    for _ in 0..cli.consumers {
        let (sqs, url, seen) = (sqs.clone(), url.clone(), seen.clone());
        let (messages, batch) = (cli.messages, cli.batch);
        tasks.push(tokio::task::spawn_local(async move {
            while seen.borrow().deleted < messages {
                let request =
                    json!({"QueueUrl": url, "MaxNumberOfMessages": batch, "WaitTimeSeconds": 1});
                let answer = sqs.call("ReceiveMessage", &request).await?;
                let received = answer["Messages"].as_array().cloned().unwrap_or_default();
                if received.is_empty() {
                    continue;
                }
                for message in &received {
                    let body = message["Body"].as_str().unwrap_or_default();
                    let (group, index) = body
                        .split_once(':')
                        .and_then(|(group, index)| Some((group.parse().ok()?, index.parse().ok()?)))
                        .ok_or_else(|| format!("a body not sent here: {body}"))?;
                    let mut seen = seen.borrow_mut();
                    match seen.last_per_group.insert(group, index) {
                        Some(last) if last > index => {
                            return Err(format!("group {group}: message {index} received after {last}"));
                        }
                        Some(last) if last == index => seen.redelivered += 1,
                        _ => {}
                    }
                }
                let entries: Vec<Value> = received
                    .iter()
                    .enumerate()
                    .map(|(entry, message)| json!({"Id": format!("d{entry}"), "ReceiptHandle": message["ReceiptHandle"]}))
                    .collect();
                let answer = sqs
                    .call("DeleteMessageBatch", &json!({"QueueUrl": url, "Entries": entries}))
                    .await?;
                let deleted = answer["Successful"].as_array().map_or(0, Vec::len);
                seen.borrow_mut().deleted += deleted;
            }
            Ok(())
        }));
    }
    for task in tasks {
        task.await.map_err(|error| format!("a task failed: {error}"))??;
    }
    let seconds = began.elapsed().as_secs_f64();
    let seen = seen.borrow();
    if seen.deleted != cli.messages {
        return Err(format!("{} messages deleted, not {}", seen.deleted, cli.messages));
    }
    let result = json!({
        "peer": "sluice",
        "messages": cli.messages,
        "producers": cli.producers,
        "batch": cli.batch,
        "consumers": cli.consumers,
        "groups": cli.groups,
        "redelivered": seen.redelivered,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "per_second": (cli.messages as f64 / seconds * 10.0).round() / 10.0,
    });
    println!("{result}");
    Ok(())
}

/// Sluice's own signed client, with its errors as text.
struct Sqs(Client);

impl Sqs {
    async fn call(&self, operation: &str, request: &Value) -> Result<Value, String> {
        self.0
            .sqs(operation, request)
            .await
            .map_err(|error| format!("{operation} failed: {error:#}"))
    }
}
