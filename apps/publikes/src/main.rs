//! `publikes`: serve Sluice with the Publikes app deployed, read the list, insert a batch of
//! statuses under the rotation lock, or run a fake fxtwitter for tests.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// The Publikes collector on Sluice.
#[derive(Debug, Parser)]
#[command(name = "publikes", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve Sluice (the same flags as `sluice serve`) with the app deployed.
    Serve(Box<ServeArgs>),
    /// Print every stored status id, newest first, one a line.
    Read(ReadArgs),
    /// Insert statuses (newest first) as one batch behind the head batch, under the rotation
    /// lock, through the state machine `insert-batch`.
    InsertBatch(InsertBatchArgs),
    /// Serve a fake fxtwitter API on 127.0.0.1 for tests, within bounds.
    FakeFxtwitter(FakeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    serve: sluice::commands::serve::Args,
    /// The like route's shared secret (`X-Publikes-Secret`).
    #[arg(long, env = "PUBLIKES_SECRET", hide_env_values = true)]
    secret: String,
    /// The fxtwitter-compatible API.
    #[arg(long, env = "PUBLIKES_FXTWITTER_URL", default_value = "https://api.fxtwitter.com")]
    fxtwitter_url: String,
    /// Seconds between closing a batch and merging it.
    #[arg(long, default_value_t = 120)]
    merge_delay: u64,
    /// Tests only: a file naming a point (`close`, `merge`) at which the action pauses.
    #[arg(long, hide = true)]
    test_pause_file: Option<std::path::PathBuf>,
}

#[derive(Debug, clap::Args)]
struct ReadArgs {
    #[command(flatten)]
    connection: sluice::client::ConnectionArgs,
}

#[derive(Debug, clap::Args)]
struct InsertBatchArgs {
    #[command(flatten)]
    connection: sluice::client::ConnectionArgs,
    /// Status ids, newest first.
    ids: Vec<String>,
    /// A file of statuses, newest first, one a line: `ID` or `ID UNIX-SECONDS` (when it was
    /// liked); `-` for standard input.
    #[arg(long)]
    file: Option<std::path::PathBuf>,
    /// The batch to make, or to finish after a failed run (a new id by default).
    #[arg(long)]
    batch_id: Option<String>,
    /// How long to wait for the insertion to end, in seconds.
    #[arg(long, default_value_t = 600)]
    wait_seconds: u64,
}

#[derive(Debug, clap::Args)]
struct FakeArgs {
    /// The port on 127.0.0.1 (0 for any free one; the first line printed names it).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Stop after this many requests.
    #[arg(long, default_value_t = 100_000)]
    max_requests: usize,
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 600)]
    max_seconds: u64,
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Serve(args) => serve(*args),
        Command::Read(args) => read(args),
        Command::InsertBatch(args) => insert_batch(args),
        Command::FakeFxtwitter(args) => fake(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn serve(mut args: ServeArgs) -> anyhow::Result<ExitCode> {
    let folder = publikes::app_folder();
    let canonical = folder.canonicalize().ok();
    if !args.serve.apps.iter().any(|app| app.canonicalize().ok() == canonical) {
        args.serve.apps.push(folder);
    }
    let config = publikes::Config {
        secret: args.secret,
        fxtwitter_url: args.fxtwitter_url,
        merge_delay_seconds: args.merge_delay,
        test_pause_file: args.test_pause_file,
    };
    sluice::commands::serve::run_with(
        args.serve,
        sluice_engine::Functions::default(),
        Box::new(move |services| publikes::register(services, config)),
    )
}

fn read(args: ReadArgs) -> anyhow::Result<ExitCode> {
    let client = sluice::client::Client::new(args.connection)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let statuses = runtime.block_on(publikes::reader::walk(|key| {
        let client = client.clone();
        async move {
            client
                .get_object(publikes::objects::BUCKET, &key)
                .await
                .map_err(|error| publikes::Error::Storage(format!("{error:#}")))
        }
    }))?;
    let mut out = String::new();
    for status in statuses {
        out.push_str(&status);
        out.push('\n');
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// The most statuses one insert-batch takes: its execution's input stays under Step Functions'
/// 256 KiB.
const MAX_BATCH_STATUSES: usize = 4000;

fn insert_batch(args: InsertBatchArgs) -> anyhow::Result<ExitCode> {
    use anyhow::{anyhow, bail};
    use serde_json::json;

    let now = chrono::Utc::now().timestamp();
    let mut statuses = Vec::new();
    for id in &args.ids {
        statuses.push(json!({"id": id, "ts": now}));
    }
    if let Some(path) = &args.file {
        let text = if path.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
        } else {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?
        };
        for (number, line) in text.lines().enumerate() {
            let mut fields = line.split_whitespace();
            let Some(id) = fields.next() else { continue };
            let ts = match fields.next() {
                Some(ts) => ts
                    .parse::<i64>()
                    .map_err(|_| anyhow!("{}:{}: {ts:?} is not Unix seconds", path.display(), number + 1))?,
                None => now,
            };
            if fields.next().is_some() {
                bail!("{}:{}: a line is `ID` or `ID UNIX-SECONDS`", path.display(), number + 1);
            }
            statuses.push(json!({"id": id, "ts": ts}));
        }
    }
    if statuses.is_empty() {
        bail!("name at least one status id (arguments or --file)");
    }
    if let Some(bad) = statuses
        .iter()
        .find(|status| !status["id"].as_str().is_some_and(publikes::layout::is_status_id))
    {
        bail!("{} is not a status id (a string of digits)", bad["id"]);
    }
    if statuses.len() > MAX_BATCH_STATUSES {
        bail!(
            "{} statuses is more than one batch takes ({MAX_BATCH_STATUSES}); split the list",
            statuses.len()
        );
    }
    let batch_id = args.batch_id.unwrap_or_else(publikes::insert_batch::new_import_id);
    if !publikes::insert_batch::is_batch_id(&batch_id) {
        bail!("--batch-id {batch_id:?} must be 1 to 64 ASCII letters, digits and '-'");
    }
    let client = sluice::client::Client::new(args.connection)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let ended = runtime.block_on(async {
        let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:insert-batch";
        let name = format!(
            "insert-batch-{batch_id}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let input = json!({"batch_id": batch_id, "statuses": statuses}).to_string();
        let started = client
            .step_functions(
                "StartExecution",
                &json!({"stateMachineArn": machine, "name": name, "input": input}),
            )
            .await?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(args.wait_seconds);
        loop {
            let described = client
                .step_functions("DescribeExecution", &json!({"executionArn": started["executionArn"]}))
                .await?;
            if described["status"] != "RUNNING" {
                return anyhow::Ok(described);
            }
            if std::time::Instant::now() > deadline {
                bail!(
                    "{} is still running after {} s; see DescribeExecution",
                    started["executionArn"],
                    args.wait_seconds
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    })?;
    if ended["status"] != "SUCCEEDED" {
        bail!(
            "inserting batch {batch_id} ended {}: {} {}; run again with --batch-id {batch_id} to finish it",
            ended["status"].as_str().unwrap_or("?"),
            ended["error"].as_str().unwrap_or_default(),
            ended["cause"].as_str().unwrap_or_default(),
        );
    }
    let output: serde_json::Value =
        serde_json::from_str(ended["output"].as_str().unwrap_or("null")).context("the execution's output")?;
    let count = |field: &str| output[field].as_array().map_or(0, Vec::len);
    println!(
        "batch {batch_id}: {} inserted, {} stored before",
        count("inserted"),
        count("duplicates")
    );
    Ok(ExitCode::SUCCESS)
}

fn fake(args: FakeArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let bounds = publikes::fake_fxtwitter::Bounds {
            max_requests: args.max_requests,
            max_time: std::time::Duration::from_secs(args.max_seconds),
        };
        let (address, task) = publikes::fake_fxtwitter::spawn(args.port, bounds).await?;
        println!("http://{address}");
        task.await.context("the fake stopped")?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
