//! `sluice exec start|describe|history|stop|list`: executions on a running server, through the
//! Step Functions API. Tables for people by default; `--json` prints the API's answers as they are.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::client::{Client, ConnectionArgs};
use crate::input::read_json;
use crate::table::Table;

/// Arguments of `sluice exec`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    connection: ConnectionArgs,
    /// Print the API's JSON answers instead of tables.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Start an execution.
    Start {
        /// The state machine: its name or its ARN.
        state_machine: String,
        /// The input, a JSON file; `-` reads standard input. Defaults to `{}`.
        #[arg(long, conflicts_with = "input_json")]
        input: Option<PathBuf>,
        /// The input as JSON text on the command line.
        #[arg(long)]
        input_json: Option<String>,
        /// The execution's name (a UUID when not given). Starting again with the same name and
        /// input gives the same execution.
        #[arg(long)]
        name: Option<String>,
        /// Wait for the execution to end and print how it ended; exit 1 unless it succeeded.
        #[arg(long)]
        wait: bool,
    },
    /// Describe an execution.
    Describe {
        /// The execution's ARN.
        execution: String,
    },
    /// Print an execution's history.
    History {
        /// The execution's ARN.
        execution: String,
        /// Newest first.
        #[arg(long)]
        reverse: bool,
    },
    /// Stop a running execution (and the executions it started).
    Stop {
        /// The execution's ARN.
        execution: String,
        /// The error to record.
        #[arg(long)]
        error: Option<String>,
        /// The cause to record.
        #[arg(long)]
        cause: Option<String>,
    },
    /// List a state machine's executions, newest first.
    List {
        /// The state machine: its name or its ARN.
        state_machine: String,
        /// Only executions of this status (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED).
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        max: usize,
    },
}

/// Runs `sluice exec …`.
pub fn run(args: Args) -> Result<ExitCode> {
    let client = Client::new(args.connection.clone())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(execute(&client, args.command, args.json))
}

async fn execute(client: &Client, command: Command, json: bool) -> Result<ExitCode> {
    match command {
        Command::Start {
            state_machine,
            input,
            input_json,
            name,
            wait,
        } => {
            let input = match (input, input_json) {
                (Some(path), _) => read_json(&path)?,
                (None, Some(text)) => serde_json::from_str(&text).context("--input-json is not valid JSON")?,
                (None, None) => json!({}),
            };
            let mut request = json!({
                "stateMachineArn": state_machine_arn(client, &state_machine).await?,
                "input": input.to_string(),
            });
            if let Some(name) = name {
                request["name"] = json!(name);
            }
            let started = client.step_functions("StartExecution", &request).await?;
            if !wait {
                print_answer(json, &started, || {
                    let mut table = Table::new(&["execution", "started"]);
                    table.row(vec![text(&started, "executionArn"), time(&started, "startDate")]);
                    table.render()
                });
                return Ok(ExitCode::SUCCESS);
            }
            let arn = text(&started, "executionArn");
            let ended = loop {
                let described = client
                    .step_functions("DescribeExecution", &json!({"executionArn": arn}))
                    .await?;
                if described.get("status").and_then(Value::as_str) != Some("RUNNING") {
                    break described;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            print_answer(json, &ended, || describe_table(&ended));
            let succeeded = ended.get("status").and_then(Value::as_str) == Some("SUCCEEDED");
            Ok(if succeeded {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Describe { execution } => {
            let described = client
                .step_functions("DescribeExecution", &json!({"executionArn": execution}))
                .await?;
            print_answer(json, &described, || describe_table(&described));
            Ok(ExitCode::SUCCESS)
        }
        Command::History { execution, reverse } => {
            let request = json!({"executionArn": execution, "reverseOrder": reverse});
            let events = client
                .step_functions_all("GetExecutionHistory", &request, "events", usize::MAX)
                .await?;
            let answer = json!({"events": events});
            print_answer(json, &answer, || {
                let mut table = Table::new(&["id", "previous", "time", "type", "detail"]);
                for event in &events {
                    table.row(vec![
                        number(event, "id"),
                        number(event, "previousEventId"),
                        time(event, "timestamp"),
                        text(event, "type"),
                        event_detail(event),
                    ]);
                }
                table.render()
            });
            Ok(ExitCode::SUCCESS)
        }
        Command::Stop {
            execution,
            error,
            cause,
        } => {
            let mut request = json!({"executionArn": execution});
            if let Some(error) = error {
                request["error"] = json!(error);
            }
            if let Some(cause) = cause {
                request["cause"] = json!(cause);
            }
            let stopped = client.step_functions("StopExecution", &request).await?;
            print_answer(json, &stopped, || {
                let mut table = Table::new(&["execution", "stopped"]);
                table.row(vec![execution.clone(), time(&stopped, "stopDate")]);
                table.render()
            });
            Ok(ExitCode::SUCCESS)
        }
        Command::List {
            state_machine,
            status,
            max,
        } => {
            let arn = state_machine_arn(client, &state_machine).await?;
            let mut request = json!({"stateMachineArn": arn});
            if let Some(status) = &status {
                request["statusFilter"] = json!(status);
            }
            let executions = client
                .step_functions_all("ListExecutions", &request, "executions", max)
                .await?;
            let answer = json!({"executions": executions});
            print_answer(json, &answer, || {
                let mut table = Table::new(&["name", "status", "started", "stopped"]);
                for execution in &executions {
                    table.row(vec![
                        text(execution, "name"),
                        text(execution, "status"),
                        time(execution, "startDate"),
                        time(execution, "stopDate"),
                    ]);
                }
                table.render()
            });
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The ARN of a state machine named by its name or its ARN.
pub async fn state_machine_arn(client: &Client, name_or_arn: &str) -> Result<String> {
    if name_or_arn.starts_with("arn:") {
        return Ok(name_or_arn.to_owned());
    }
    let machines = client
        .step_functions_all("ListStateMachines", &json!({}), "stateMachines", usize::MAX)
        .await?;
    match machines
        .iter()
        .find(|machine| machine.get("name").and_then(Value::as_str) == Some(name_or_arn))
    {
        Some(machine) => Ok(text(machine, "stateMachineArn")),
        None => bail!("StateMachineDoesNotExist: no state machine named {name_or_arn:?} on the server"),
    }
}

/// Prints `answer` as JSON, or the table `render` makes of it.
pub fn print_answer(json: bool, answer: &Value, render: impl FnOnce() -> String) {
    if json {
        println!("{answer}");
    } else {
        print!("{}", render());
    }
}

fn describe_table(described: &Value) -> String {
    let mut table = Table::new(&["field", "value"]);
    for (label, field) in [
        ("execution", "executionArn"),
        ("state machine", "stateMachineArn"),
        ("name", "name"),
        ("status", "status"),
        ("started", "startDate"),
        ("stopped", "stopDate"),
        ("input", "input"),
        ("output", "output"),
        ("error", "error"),
        ("cause", "cause"),
    ] {
        if described.get(field).is_some() {
            let value = if field.ends_with("Date") {
                time(described, field)
            } else {
                text(described, field)
            };
            table.row(vec![label.to_owned(), value]);
        }
    }
    table.render()
}

/// A short description of what an event is about: its state, or its error.
fn event_detail(event: &Value) -> String {
    let Some(details) = event.as_object().and_then(|members| {
        members
            .iter()
            .find(|(key, _)| key.ends_with("EventDetails"))
            .map(|(_, details)| details)
    }) else {
        return String::new();
    };
    let mut parts = Vec::new();
    for field in ["name", "resource", "error", "cause", "index"] {
        if let Some(value) = details.get(field) {
            let value = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            parts.push(if field == "name" {
                value
            } else {
                format!("{field}={value}")
            });
        }
    }
    let detail = parts.join(" ");
    if detail.chars().count() > 100 {
        format!("{}…", detail.chars().take(99).collect::<String>())
    } else {
        detail
    }
}

/// A string member, or the JSON text of any other member, or nothing.
fn text(value: &Value, field: &str) -> String {
    match value.get(field) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

fn number(value: &Value, field: &str) -> String {
    value.get(field).map(Value::to_string).unwrap_or_default()
}

/// A timestamp member (epoch seconds, as AWS JSON sends them) in RFC 3339.
fn time(value: &Value, field: &str) -> String {
    value
        .get(field)
        .and_then(Value::as_f64)
        .and_then(|seconds| chrono::DateTime::from_timestamp_millis((seconds * 1000.0).round() as i64))
        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}
