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
//! - `triple` (command): `{"n": x}` → `{"n": 3x}`.

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
    functions
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
