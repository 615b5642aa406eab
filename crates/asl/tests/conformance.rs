//! The conformance corpus: every case under `tests/conformance/asl/` at the workspace root, run by
//! this one test, which reports every failing case at once.
//!
//! A case in `ok/` is `{"definition", "input", "mocks"?, "expected"}`: it must validate, and the
//! local run must print `expected` (`{"status": "SUCCEEDED", "output": …}` or
//! `{"status": "FAILED", "error": …, "cause"?: …}`). `mocks` maps a Task state's name to its
//! mocked response entry (`{"0": {"Return": …}, "1-2": {"Throw": …}}`). A case in `err/` is
//! `{"definition", "diagnostics": ["/pointer: message", …]}`: validation must report exactly those.

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use sluice_asl::local::{self, Mocks, Options};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/asl")
}

fn cases(folder: &str) -> Vec<(String, Value)> {
    let directory = corpus().join(folder);
    let mut cases: Vec<(String, Value)> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", directory.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "json"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("a readable case");
            let value = serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            (
                format!(
                    "{folder}/{}",
                    path.file_name().and_then(|name| name.to_str()).unwrap_or_default()
                ),
                value,
            )
        })
        .collect();
    cases.sort_by(|left, right| left.0.cmp(&right.0));
    cases
}

/// Runs one `ok/` case: `None` when it passes, the reason when it does not.
fn run_ok(case: &Value) -> Option<String> {
    let machine = match sluice_asl::parse(&case["definition"]) {
        Ok(machine) => machine,
        Err(diagnostics) => return Some(format!("does not validate:\n{diagnostics}")),
    };
    let mocks = match case.get("mocks") {
        None => Mocks::default(),
        Some(Value::Object(by_state)) => {
            let test_case: serde_json::Map<String, Value> =
                by_state.keys().map(|state| (state.clone(), json!(state))).collect();
            let config = json!({
                "StateMachines": {"case": {"TestCases": {"case": test_case}}},
                "MockedResponses": by_state,
            });
            match Mocks::from_config(&config, "case", "case") {
                Ok(mocks) => mocks,
                Err(error) => return Some(format!("bad mocks: {error}")),
            }
        }
        Some(_) => return Some("\"mocks\" must be an object".to_owned()),
    };
    let options = Options {
        name: "case".to_owned(),
        execution_name: "execution".to_owned(),
        start_time: Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("a valid instant"),
        seed: case.get("seed").and_then(Value::as_u64).unwrap_or(7),
        mocks,
    };
    let input = case.get("input").cloned().unwrap_or_else(|| json!({}));
    let actual = local::run(&machine, input, options).to_json();
    let expected = &case["expected"];
    // A case may leave out the cause of a failure; when it gives one, it must match.
    let matches = match (expected.get("cause"), actual.get("cause")) {
        (None, Some(_)) if expected["status"] != "SUCCEEDED" => {
            let mut without_cause = actual.clone();
            if let Some(object) = without_cause.as_object_mut() {
                object.remove("cause");
            }
            &without_cause == expected
        }
        _ => &actual == expected,
    };
    (!matches).then(|| format!("expected {expected}\n   actual {actual}"))
}

/// Runs one `err/` case.
fn run_err(case: &Value) -> Option<String> {
    let expected: Vec<String> = case["diagnostics"]
        .as_array()
        .map(|list| list.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    match sluice_asl::parse(&case["definition"]) {
        Ok(_) => Some(format!("validated, but expected:\n{}", expected.join("\n"))),
        Err(diagnostics) => {
            let actual: Vec<String> = diagnostics.0.iter().map(ToString::to_string).collect();
            (actual != expected).then(|| {
                format!(
                    "expected:\n  {}\nactual:\n  {}",
                    expected.join("\n  "),
                    actual.join("\n  ")
                )
            })
        }
    }
}

#[test]
fn conformance_corpus() {
    let mut failures = Vec::new();
    let mut count = 0;
    for (name, case) in cases("ok") {
        count += 1;
        if let Some(reason) = run_ok(&case) {
            failures.push(format!("{name}: {reason}"));
        }
    }
    for (name, case) in cases("err") {
        count += 1;
        if let Some(reason) = run_err(&case) {
            failures.push(format!("{name}: {reason}"));
        }
    }
    assert!(count > 0, "the corpus at {} is empty", corpus().display());
    assert!(
        failures.is_empty(),
        "{} of {count} conformance cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
