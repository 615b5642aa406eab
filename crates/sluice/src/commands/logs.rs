//! `sluice logs tail GROUP [--follow]`: print a log group's events (a bus rule's log target, or
//! what `PutLogEvents` wrote) from a running server, oldest first, and with `--follow` keep
//! printing new ones as they arrive.

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::client::{Client, ConnectionArgs};

/// Arguments of `sluice logs`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Print a log group's events, oldest first.
    Tail(TailArgs),
}

#[derive(Debug, clap::Args)]
struct TailArgs {
    /// The log group's name.
    group: String,
    /// Keep printing new events until interrupted.
    #[arg(long, short = 'f')]
    follow: bool,
    /// Only events from this long ago on: `30s`, `10m`, `2h` or `1d` (all of them when absent).
    #[arg(long)]
    since: Option<String>,
    /// Only events matching this filter pattern (terms, "quoted phrases", -excluded, ?optional).
    #[arg(long)]
    filter: Option<String>,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Runs `sluice logs`.
pub fn run(args: Args) -> Result<ExitCode> {
    let Command::Tail(args) = args.command;
    let start = match &args.since {
        Some(text) => Some(Utc::now().timestamp_millis() - duration_millis(text)?),
        None => None,
    };
    let client = Client::new(args.connection.clone())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(tail(&client, &args, start))?;
    Ok(ExitCode::SUCCESS)
}

async fn tail(client: &Client, args: &TailArgs, start: Option<i64>) -> Result<()> {
    // Events already printed at the latest timestamp seen, so a follow-up read from that
    // timestamp prints each once.
    let mut latest = start.unwrap_or(0);
    let mut printed_at_latest: HashSet<String> = HashSet::new();
    loop {
        let mut token: Option<String> = None;
        loop {
            let mut request = json!({ "logGroupName": args.group, "startTime": latest });
            if let Some(pattern) = &args.filter {
                request["filterPattern"] = json!(pattern);
            }
            if let Some(token) = &token {
                request["nextToken"] = json!(token);
            }
            let page = client.logs("FilterLogEvents", &request).await?;
            for event in page["events"].as_array().into_iter().flatten() {
                let id = event["eventId"].as_str().unwrap_or_default().to_owned();
                let timestamp = event["timestamp"].as_i64().unwrap_or_default();
                if timestamp == latest && printed_at_latest.contains(&id) {
                    continue;
                }
                if timestamp > latest {
                    latest = timestamp;
                    printed_at_latest.clear();
                }
                printed_at_latest.insert(id);
                println!("{}", line(event));
            }
            match page["nextToken"].as_str() {
                Some(next) => token = Some(next.to_owned()),
                None => break,
            }
        }
        if !args.follow {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// One event as a line: its time, its stream, its message.
fn line(event: &Value) -> String {
    let time = event["timestamp"]
        .as_i64()
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .map(|time| time.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default();
    format!(
        "{time} {} {}",
        event["logStreamName"].as_str().unwrap_or_default(),
        event["message"].as_str().unwrap_or_default()
    )
}

/// `30s`, `10m`, `2h`, `1d` in milliseconds.
fn duration_millis(text: &str) -> Result<i64> {
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let Ok(number) = number.parse::<i64>() else {
        bail!("--since {text:?}: write a number and a unit, as in 10m");
    };
    let unit_millis = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => bail!("--since {text:?}: the unit must be s, m, h or d"),
    };
    Ok(number.saturating_mul(unit_millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_millis("10m").unwrap(), 600_000);
        assert_eq!(duration_millis("2h").unwrap(), 7_200_000);
        assert!(duration_millis("10").is_err());
        assert!(duration_millis("m").is_err());
    }
}
