//! `sluice-testbed`: the `sluice` command line with a few in-process functions registered, the way
//! an application embeds Sluice. The crash test and the benchmarks run it.
//!
//! `sluice-testbed function NAME` is also a command function: it reads the event as JSON on
//! standard input and prints the result, so one binary serves both kinds.
//!
//! The functions:
//! - `add` (in process): `{"v": n}` → `{"v": n + 1}`.
//! - `double` (in process): `{"n": x}` → `{"n": 2x}`.
//! - `flaky` (in process): fails with `Flaky` the first time it sees a `key` in this process, then
//!   answers `{"key": key, "ok": true}`; a Retry gets it through.
//! - `record` (in process): an SQS event source mapping's consumer. It appends one JSON line per
//!   record (`body`, `messageId`, `receiveCount`, `group`, `ok`) to the file `SLUICE_TESTBED_RECORD`
//!   names, synced before it answers, and reports as failed (`batchItemFailures`) the records
//!   whose body starts with `poison`, those starting with `fail-once` on their first receive, and
//!   the records of a FIFO group after one that failed (it stops processing the group there).
//! - `triple` (command): `{"n": x}` → `{"n": 3x}`.
//! - `append` (command): appends the event as one JSON line to the file `SLUICE_TESTBED_RECORD`
//!   names and answers `{}`, so a test can see what a function target was handed.

use std::collections::HashSet;
use std::io::Read;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use sluice_engine::{Function, FunctionError, Functions};

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().collect();
    if arguments.get(1).map(String::as_str) == Some("function") {
        return command_function(arguments.get(2).map(String::as_str).unwrap_or_default());
    }
    sluice::main(functions())
}

fn functions() -> Functions {
    let functions = Functions::default();
    functions.register(
        "add",
        Function::in_process(|event| async move { Ok(json!({"v": number(&event, "v")? + 1})) }),
    );
    functions.register(
        "double",
        Function::in_process(|event| async move { Ok(json!({"n": number(&event, "n")? * 2})) }),
    );
    let seen = Arc::new(Mutex::new(HashSet::new()));
    functions.register(
        "flaky",
        Function::in_process(move |event| {
            let seen = seen.clone();
            async move {
                let key = event.get("key").cloned().unwrap_or(Value::Null).to_string();
                let first = seen
                    .lock()
                    .map_err(|_| FunctionError::new("Poisoned", "the set is poisoned"))?
                    .insert(key);
                if first {
                    return Err(FunctionError::new("Flaky", "fails the first time it sees a key"));
                }
                Ok(json!({"key": event.get("key"), "ok": true}))
            }
        }),
    );
    functions.register(
        "record",
        Function::in_process(|event| async move {
            // A little work per batch, so that a crash test's kills find batches in flight.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            record(&event)
        }),
    );
    functions
}

/// The `record` function: see the crate's documentation.
fn record(event: &Value) -> Result<Value, FunctionError> {
    use std::io::Write;
    let records = event["Records"].as_array().cloned().unwrap_or_default();
    let mut lines = String::new();
    let mut failures = Vec::new();
    // As a FIFO consumer should, it stops processing a group at its first failure.
    let mut failed_groups = HashSet::new();
    for record in &records {
        let body = record["body"].as_str().unwrap_or_default();
        let receive_count = record["attributes"]["ApproximateReceiveCount"]
            .as_str()
            .unwrap_or_default();
        let group = record["attributes"]["MessageGroupId"].as_str();
        let failed = body.starts_with("poison")
            || (body.starts_with("fail-once") && receive_count == "1")
            || group.is_some_and(|group| failed_groups.contains(group));
        if let (true, Some(group)) = (failed, group) {
            failed_groups.insert(group.to_owned());
        }
        if failed {
            failures.push(json!({"itemIdentifier": record["messageId"]}));
        }
        let line = json!({
            "body": body, "messageId": record["messageId"], "receiveCount": receive_count,
            "group": record["attributes"]["MessageGroupId"], "ok": !failed,
        });
        lines.push_str(&line.to_string());
        lines.push('\n');
    }
    let path = std::env::var("SLUICE_TESTBED_RECORD")
        .map_err(|_| FunctionError::new("NoRecordFile", "SLUICE_TESTBED_RECORD is not set"))?;
    let io = |error: std::io::Error| FunctionError::new("RecordFailed", error.to_string());
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    file.write_all(lines.as_bytes()).map_err(io)?;
    file.sync_data().map_err(io)?;
    Ok(json!({ "batchItemFailures": failures }))
}

/// Reads a whole-number field of an event.
fn number(event: &Value, field: &str) -> Result<i64, FunctionError> {
    event.get(field).and_then(Value::as_i64).ok_or_else(|| {
        FunctionError::new(
            "InvalidInput",
            format!("the event has no integer field {field:?}: {event}"),
        )
    })
}

/// The `append` command function: see the crate's documentation.
fn append(event: &Value) -> Result<Value, FunctionError> {
    use std::io::Write;
    let path = std::env::var("SLUICE_TESTBED_RECORD")
        .map_err(|_| FunctionError::new("NoRecordFile", "SLUICE_TESTBED_RECORD is not set"))?;
    let io = |error: std::io::Error| FunctionError::new("RecordFailed", error.to_string());
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    // One write of the whole line: O_APPEND keeps it whole beside concurrent invocations, where
    // `writeln!` on a `File` would write the JSON in many pieces that interleave.
    file.write_all(format!("{event}\n").as_bytes()).map_err(io)?;
    Ok(json!({}))
}

/// `sluice-testbed function NAME`: one invocation of a command function.
fn command_function(name: &str) -> ExitCode {
    let mut text = String::new();
    let event: Value = match std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|error| error.to_string())
        .and_then(|_| serde_json::from_str(&text).map_err(|error| format!("the event is not JSON: {error}")))
    {
        Ok(event) => event,
        Err(message) => {
            println!("{}", json!({"errorType": "InvalidInput", "errorMessage": message}));
            return ExitCode::FAILURE;
        }
    };
    let result = match name {
        "triple" => number(&event, "n").map(|n| json!({"n": n * 3})),
        "append" => append(&event),
        other => Err(FunctionError::new(
            "UnknownFunction",
            format!("no command function named {other:?}"),
        )),
    };
    match result {
        Ok(value) => {
            println!("{value}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            println!(
                "{}",
                json!({"errorType": error.error_type, "errorMessage": error.message})
            );
            ExitCode::FAILURE
        }
    }
}
