//! `loadgen`: the closed-loop load generator of `scripts/bench-restate`. The same client drives
//! both peers: a fixed number of executions in flight, each waited for to its end and checked
//! (`{"v": 0}` in, `{"v": 3}` out), and the next started as soon as one ends.
//!
//! - `loadgen standard ENDPOINT ARN`: Sluice, a Standard state machine. `StartExecution`, then
//!   `DescribeExecution` with Sluice's `X-Sluice-Wait-Seconds` header, which answers once the
//!   execution has ended. Requests are SigV4-signed with the development keys (`test`/`test`).
//! - `loadgen express ENDPOINT ARN`: Sluice, an Express state machine, with `StartSyncExecution`.
//! - `loadgen post URL`: POST `{"v": 0}` and read the JSON answer (Restate's ingress, which
//!   answers when the invocation has ended).
//! - `loadgen table FILE`: the results (one JSON object a line, as the others print) as a table,
//!   with each Sluice run's ratio to the Restate run of the same variant.
//!
//! The client runs on one thread (a current-thread runtime), so it takes at most one of the
//! machine's cores from the servers it measures, the same for every peer.

use std::process::ExitCode;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use sluice_api::sigv4::{Parts, authorization_header};

/// A closed-loop load generator for Sluice and its peers.
#[derive(Debug, Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sluice, Standard: StartExecution, then DescribeExecution waiting for the end.
    Standard {
        /// The Sluice endpoint (`http://127.0.0.1:4566`).
        endpoint: String,
        /// The state machine's ARN.
        state_machine_arn: String,
        #[command(flatten)]
        load: Load,
    },
    /// Sluice, Express: StartSyncExecution.
    Express {
        /// The Sluice endpoint.
        endpoint: String,
        /// The state machine's ARN.
        state_machine_arn: String,
        #[command(flatten)]
        load: Load,
    },
    /// POST `{"v": 0}` to a URL that answers with the result (Restate's ingress).
    Post {
        /// The URL (`http://127.0.0.1:8080/steps/run`).
        url: String,
        #[command(flatten)]
        load: Load,
    },
    /// Print the results in FILE (one JSON object a line) as a table, with ratios.
    Table {
        /// The results file.
        file: std::path::PathBuf,
    },
}

/// How much load, and how the result line is labelled.
#[derive(Debug, Clone, clap::Args)]
struct Load {
    /// Executions in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Executions measured.
    #[arg(long, default_value_t = 2000)]
    executions: usize,
    /// Executions run first and not measured.
    #[arg(long, default_value_t = 200)]
    warmup: usize,
    /// The peer, for the table (`sluice`, `restate`).
    #[arg(long)]
    peer: String,
    /// The variant, for the table (`in-process`, `http`, `express`).
    #[arg(long)]
    variant: String,
}

/// The development key pair a loopback Sluice accepts.
const ACCESS_KEY: &str = "test";
const SECRET_KEY: &str = "test";
const REGION: &str = "us-east-1";
/// What every execution starts with and must end with.
const INPUT: &str = r#"{"v":0}"#;
const OUTPUT: &str = r#"{"v":3}"#;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Table { file } => table(&file),
        Command::Standard {
            endpoint,
            state_machine_arn,
            load,
        } => drive(
            Target::Standard {
                endpoint,
                state_machine_arn,
            },
            load,
        ),
        Command::Express {
            endpoint,
            state_machine_arn,
            load,
        } => drive(
            Target::Express {
                endpoint,
                state_machine_arn,
            },
            load,
        ),
        Command::Post { url, load } => drive(Target::Post { url }, load),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("loadgen: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What one execution is sent to.
#[derive(Debug)]
enum Target {
    Standard {
        endpoint: String,
        state_machine_arn: String,
    },
    Express {
        endpoint: String,
        state_machine_arn: String,
    },
    Post {
        url: String,
    },
}

/// Runs the closed loop and prints the result line.
fn drive(target: Target, load: Load) -> Result<(), String> {
    if load.concurrency == 0 || load.executions == 0 {
        return Err("--concurrency and --executions must be at least 1".into());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the runtime: {error}"))?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(load.concurrency)
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|error| format!("cannot build the HTTP client: {error}"))?;
    let run_id = format!("{:x}", chrono::Utc::now().timestamp_micros());
    let driver = Rc::new(Driver {
        target,
        client,
        run_id,
        next: AtomicUsize::new(0),
    });
    let local = tokio::task::LocalSet::new();
    let (seconds, mut latencies) = local.block_on(&runtime, async {
        // 1. Warm up: connections, caches, the servers' first allocations.
        run_loop(&driver, load.warmup, load.concurrency).await?;
        // 2. Measure.
        let began = Instant::now();
        let latencies = run_loop(&driver, load.executions, load.concurrency).await?;
        Ok::<_, String>((began.elapsed().as_secs_f64(), latencies))
    })?;
    latencies.sort_unstable();
    let percentile = |fraction: f64| {
        let rank = ((latencies.len() as f64 * fraction).ceil() as usize).clamp(1, latencies.len());
        latencies[rank - 1].as_secs_f64() * 1000.0
    };
    let result = json!({
        "peer": load.peer,
        "variant": load.variant,
        "concurrency": load.concurrency,
        "executions": latencies.len(),
        "seconds": round(seconds, 3),
        "per_second": round(latencies.len() as f64 / seconds, 1),
        "p50_ms": round(percentile(0.50), 2),
        "p90_ms": round(percentile(0.90), 2),
        "p99_ms": round(percentile(0.99), 2),
        "max_ms": round(percentile(1.0), 2),
    });
    println!("{result}");
    Ok(())
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

struct Driver {
    target: Target,
    client: reqwest::Client,
    /// Makes execution names unique across runs on the same data.
    run_id: String,
    next: AtomicUsize,
}

/// Runs `count` executions, `concurrency` at a time, and answers each one's latency.
async fn run_loop(driver: &Rc<Driver>, count: usize, concurrency: usize) -> Result<Vec<Duration>, String> {
    let remaining = Rc::new(AtomicUsize::new(count));
    let mut workers = Vec::new();
    for _ in 0..concurrency.min(count.max(1)) {
        let driver = driver.clone();
        let remaining = remaining.clone();
        workers.push(tokio::task::spawn_local(async move {
            let mut latencies = Vec::new();
            while remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(1))
                .is_ok()
            {
                let number = driver.next.fetch_add(1, Ordering::Relaxed);
                let began = Instant::now();
                driver.execute(number).await?;
                latencies.push(began.elapsed());
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut all = Vec::with_capacity(count);
    for worker in workers {
        let latencies = worker.await.map_err(|error| format!("a worker failed: {error}"))??;
        all.extend(latencies);
    }
    Ok(all)
}

impl Driver {
    /// Runs execution `number` to its end and checks its output.
    async fn execute(&self, number: usize) -> Result<(), String> {
        let output = match &self.target {
            Target::Standard {
                endpoint,
                state_machine_arn,
            } => {
                let name = format!("{}-{number}", self.run_id);
                let request = json!({"stateMachineArn": state_machine_arn, "name": name, "input": INPUT});
                let started = self.aws(endpoint, "StartExecution", &request, false).await?;
                let arn = started["executionArn"]
                    .as_str()
                    .ok_or_else(|| format!("StartExecution answered no executionArn: {started}"))?;
                let described = self
                    .aws(endpoint, "DescribeExecution", &json!({"executionArn": arn}), true)
                    .await?;
                check_status(&described)?;
                described["output"].clone()
            }
            Target::Express {
                endpoint,
                state_machine_arn,
            } => {
                let request = json!({"stateMachineArn": state_machine_arn, "input": INPUT});
                let answered = self.aws(endpoint, "StartSyncExecution", &request, false).await?;
                check_status(&answered)?;
                answered["output"].clone()
            }
            Target::Post { url } => {
                let response = self
                    .client
                    .post(url)
                    .header("content-type", "application/json")
                    .body(INPUT)
                    .send()
                    .await
                    .map_err(|error| format!("POST {url} failed: {error}"))?;
                let status = response.status();
                let text = response
                    .text()
                    .await
                    .map_err(|error| format!("reading the answer of {url} failed: {error}"))?;
                if !status.is_success() {
                    return Err(format!("POST {url} answered {status}: {text}"));
                }
                Value::String(text)
            }
        };
        let text = output.as_str().unwrap_or_default();
        let parsed: Value =
            serde_json::from_str(text).map_err(|error| format!("the output {output} is not JSON: {error}"))?;
        let expected: Value = serde_json::from_str(OUTPUT).map_err(|error| error.to_string())?;
        if parsed != expected {
            return Err(format!("execution {number} answered {text}, not {OUTPUT}"));
        }
        Ok(())
    }

    /// One signed AWS JSON 1.0 call to Step Functions.
    async fn aws(&self, endpoint: &str, operation: &str, request: &Value, wait: bool) -> Result<Value, String> {
        let body = request.to_string().into_bytes();
        let host = endpoint
            .split("://")
            .nth(1)
            .unwrap_or(endpoint)
            .trim_end_matches('/')
            .to_owned();
        let mut headers = HeaderMap::new();
        let header =
            |text: &str| HeaderValue::from_str(text).map_err(|error| format!("a bad header value {text:?}: {error}"));
        headers.insert("host", header(&host)?);
        headers.insert("content-type", HeaderValue::from_static("application/x-amz-json-1.0"));
        headers.insert("x-amz-target", header(&format!("AWSStepFunctions.{operation}"))?);
        let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        headers.insert("x-amz-date", header(&amz_date)?);
        let signed_headers = "content-type;host;x-amz-date;x-amz-target";
        let parts = Parts {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: &body,
        };
        let authorization = authorization_header(
            &parts,
            ACCESS_KEY,
            SECRET_KEY,
            REGION,
            "states",
            &amz_date,
            signed_headers,
        );
        headers.insert("authorization", header(&authorization)?);
        if wait {
            headers.insert(sluice_api::wait::WAIT_HEADER, HeaderValue::from_static("60"));
        }
        let response = self
            .client
            .post(format!("{}/", endpoint.trim_end_matches('/')))
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(|error| format!("{operation} failed: {error}"))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|error| format!("reading the answer of {operation} failed: {error}"))?;
        if !status.is_success() {
            return Err(format!("{operation} answered {status}: {text}"));
        }
        serde_json::from_str(&text)
            .map_err(|error| format!("{operation} answered something not JSON ({error}): {text}"))
    }
}

fn check_status(answer: &Value) -> Result<(), String> {
    match answer["status"].as_str() {
        Some("SUCCEEDED") => Ok(()),
        _ => Err(format!("the execution did not succeed: {answer}")),
    }
}

/// `loadgen table FILE`.
fn table(file: &std::path::Path) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|error| format!("cannot read {}: {error}", file.display()))?;
    let rows: Vec<Value> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line)
                .map_err(|error| format!("{}: a line is not JSON ({error}): {line}", file.display()))
        })
        .collect::<Result<_, _>>()?;
    println!(
        "| variant | peer | concurrency | executions | exec/s | p50 ms | p90 ms | p99 ms | max ms | throughput vs Restate | p99 vs Restate |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for row in &rows {
        let restate = rows.iter().find(|other| {
            other["peer"] == "restate" && other["variant"] == "in-process" && other["concurrency"] == row["concurrency"]
        });
        let restate_same_variant = rows.iter().find(|other| {
            other["peer"] == "restate"
                && other["variant"] == row["variant"]
                && other["concurrency"] == row["concurrency"]
        });
        let baseline = restate_same_variant.or(restate);
        let ratio = |field: &str| match (baseline, row["peer"] != "restate") {
            (Some(baseline), true) => {
                let ours = row[field].as_f64().unwrap_or(0.0);
                let theirs = baseline[field].as_f64().unwrap_or(0.0);
                if theirs > 0.0 {
                    format!("{:.2}×", ours / theirs)
                } else {
                    "–".to_owned()
                }
            }
            _ => "–".to_owned(),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            text_of(&row["variant"]),
            text_of(&row["peer"]),
            row["concurrency"],
            row["executions"],
            row["per_second"],
            row["p50_ms"],
            row["p90_ms"],
            row["p99_ms"],
            row["max_ms"],
            ratio("per_second"),
            ratio("p99_ms"),
        );
    }
    Ok(())
}

fn text_of(value: &Value) -> String {
    value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string())
}
