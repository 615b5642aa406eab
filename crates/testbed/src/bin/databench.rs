//! `databench`: how many conditional writes the tables and the buckets take per second on the
//! embedded store (SQLite, group commit, `synchronous=FULL`) and the local blob folder, measured
//! in process (no HTTP), with a number of concurrent writers. Four phases, each for `--seconds`:
//!
//! - `PutItem` of a new key with `ConditionExpression: attribute_not_exists(pk)`;
//! - `UpdateItem` `ADD n :one` on one of 1,000 keys with `ConditionExpression:
//!   attribute_not_exists(n) OR n < :most`;
//! - S3 `PUT` of a new 4 KiB object with `If-None-Match: *`;
//! - S3 `GET` of one of the objects written before, read to its end.
//!
//! `cargo run --release -p sluice-testbed --bin databench -- --seconds 10 --writers 32`
//! prints one line per phase (operations, operations per second, mean latency) and a JSON line.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::StreamExt;
use serde_json::json;

/// Conditional writes per second on the tables and the buckets.
#[derive(Debug, Parser)]
struct Cli {
    /// How long each phase runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent writers (tasks on a multi-threaded runtime).
    #[arg(long, default_value_t = 32)]
    writers: usize,
    /// The data directory (removed at the end); a fresh temporary one by default.
    #[arg(long)]
    data: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let outcome = tokio::runtime::Runtime::new()
        .map_err(|error| error.to_string())
        .and_then(|runtime| runtime.block_on(run(cli)));
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("databench: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let folder = cli
        .data
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("sluice-databench-{}", std::process::id())));
    std::fs::create_dir_all(&folder).map_err(|error| format!("{}: {error}", folder.display()))?;
    let store =
        Arc::new(sluice_store_sqlite::SqliteStore::open(&folder.join("sluice.db")).map_err(|error| error.to_string())?);
    let blobs = sluice_blob::Blobs::local(&folder.join("blobs")).map_err(|error| error.to_string())?;
    let tables = sluice_tables::Tables::new(store.clone(), sluice_tables::Options::default());
    let buckets = sluice_buckets::Buckets::new(store, blobs, sluice_buckets::Options::default());
    tables
        .call(
            "CreateTable",
            json!({
                "TableName": "bench",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            }),
        )
        .await
        .map_err(|error| error.to_string())?;
    buckets
        .create_bucket("bench", chrono::Utc::now())
        .await
        .map_err(|error| error.to_string())?;
    let duration = Duration::from_secs(cli.seconds);
    let mut results = BTreeMap::new();

    let put_items = {
        let tables = tables.clone();
        phase(cli.writers, duration, move |writer, n| {
            let tables = tables.clone();
            async move {
                tables
                    .call(
                        "PutItem",
                        json!({
                            "TableName": "bench",
                            "Item": {"pk": {"S": format!("item-{writer}-{n}")}, "v": {"N": n.to_string()}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }),
                    )
                    .await
                    .map(drop)
                    .map_err(|error| error.to_string())
            }
        })
        .await?
    };
    results.insert("conditional PutItem", put_items);

    let update_items = {
        let tables = tables.clone();
        phase(cli.writers, duration, move |writer, n| {
            let tables = tables.clone();
            async move {
                tables
                    .call(
                        "UpdateItem",
                        json!({
                            "TableName": "bench",
                            "Key": {"pk": {"S": format!("counter-{}", (writer * 7919 + n as usize) % 1000)}},
                            "UpdateExpression": "ADD n :one",
                            "ConditionExpression": "attribute_not_exists(n) OR n < :most",
                            "ExpressionAttributeValues": {":one": {"N": "1"}, ":most": {"N": "1000000000"}},
                        }),
                    )
                    .await
                    .map(drop)
                    .map_err(|error| error.to_string())
            }
        })
        .await?
    };
    results.insert("conditional UpdateItem", update_items);

    let body = bytes::Bytes::from(vec![b'x'; 4096]);
    let puts = {
        let buckets = buckets.clone();
        phase(cli.writers, duration, move |writer, n| {
            let (buckets, body) = (buckets.clone(), body.clone());
            async move {
                buckets
                    .put_object(sluice_buckets::PutObject {
                        bucket: "bench".into(),
                        key: format!("object-{writer}-{n}"),
                        body,
                        content_type: None,
                        user_metadata: BTreeMap::new(),
                        headers: BTreeMap::new(),
                        condition: sluice_buckets::WriteCondition::IfNoneMatch,
                        now: chrono::Utc::now(),
                    })
                    .await
                    .map(drop)
                    .map_err(|error| error.to_string())
            }
        })
        .await?
    };
    results.insert("S3 PUT 4 KiB (If-None-Match)", puts);

    // Every writer wrote at least its first ten objects; read those back.
    let gets = {
        let buckets = buckets.clone();
        phase(cli.writers, duration, move |writer, n| {
            let buckets = buckets.clone();
            async move {
                let object = buckets
                    .object("bench", &format!("object-{writer}-{}", n % 10))
                    .await
                    .map_err(|error| error.to_string())?;
                let mut stream = buckets.open(&object, None).await.map_err(|error| error.to_string())?;
                let mut size = 0;
                while let Some(chunk) = stream.next().await {
                    size += chunk.map_err(|error| error.to_string())?.len();
                }
                if size != 4096 {
                    return Err(format!("read {size} bytes, not 4096"));
                }
                Ok(())
            }
        })
        .await?
    };
    results.insert("S3 GET 4 KiB", gets);

    for (name, (operations, elapsed, mean)) in &results {
        println!(
            "{name:<32} {operations:>8} ops  {:>10.0} ops/s  mean {:>7.2} ms",
            *operations as f64 / elapsed.as_secs_f64(),
            mean.as_secs_f64() * 1000.0
        );
    }
    let line: BTreeMap<&str, f64> = results
        .iter()
        .map(|(name, (operations, elapsed, _))| (*name, (*operations as f64 / elapsed.as_secs_f64()).round()))
        .collect();
    println!(
        "{}",
        json!({"writers": cli.writers, "seconds": cli.seconds, "ops_per_second": line})
    );
    if cli.data.is_none() {
        let _ = std::fs::remove_dir_all(&folder);
    }
    Ok(())
}

/// Runs `operation(writer, n)` in `writers` closed loops for `duration`; answers the operations
/// done, the time taken and the mean latency.
async fn phase<F, Fut>(writers: usize, duration: Duration, operation: F) -> Result<(u64, Duration, Duration), String>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let began = Instant::now();
    let deadline = began + duration;
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let operation = operation.clone();
        tasks.push(tokio::spawn(async move {
            let (mut done, mut busy) = (0u64, Duration::ZERO);
            while Instant::now() < deadline {
                let started = Instant::now();
                operation(writer, done).await?;
                busy += started.elapsed();
                done += 1;
            }
            Ok::<_, String>((done, busy))
        }));
    }
    let (mut operations, mut busy) = (0, Duration::ZERO);
    for task in tasks {
        let (done, time) = task.await.map_err(|error| error.to_string())??;
        operations += done;
        busy += time;
    }
    let mean = if operations == 0 {
        Duration::ZERO
    } else {
        busy / operations as u32
    };
    Ok((operations, began.elapsed(), mean))
}
