//! Golden tests of the `sluice` binary's command line (issue 2): `sluice validate` and `sluice local run`.
//!
//! Every test goes through [`Sandbox`]: a temporary folder holding the files of one test, in which the
//! real binary runs. The fixtures `LambdaSQSIntegration.json` and `MockConfigFile.json` follow AWS's
//! Step Functions Local mock example,
//! <https://docs.aws.amazon.com/step-functions/latest/dg/sfn-local-mock-cfg-file.html>.

use std::io::{ErrorKind, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// AWS's example state machine: a retried Lambda call, then an SQS message.
const LAMBDA_SQS_DEFINITION: &str = include_str!("fixtures/LambdaSQSIntegration.json");
/// AWS's example mock configuration, with the test cases `HappyPath`, `RetryPath` and `HybridPath`.
const AWS_MOCK_CONFIG: &str = include_str!("fixtures/MockConfigFile.json");
/// What `MockedSQSSuccess` returns, and so what every successful run of the example outputs.
fn sqs_success() -> Value {
    json!({
        "MD5OfMessageBody": "3bcb6e8e-7h85-4375-b0bc-1a59812c6e51",
        "MessageId": "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51",
    })
}

#[test]
fn validate_prints_every_problem_with_its_pointer() {
    let sandbox = Sandbox::new().file(
        "rotate.json",
        r#"{
            "StartAt": "Rotate",
            "States": {
                "Rotate": {"Type": "Pass", "Next": "Merge"},
                "Orphan": {"Type": "Succeed"}
            }
        }"#,
    );
    let run = sandbox.sluice(&["validate", "rotate.json"]);
    assert_eq!(
        run.stdout,
        "/States/Rotate/Next: no state named \"Merge\"\n\
         /States/Orphan: state \"Orphan\" is not reachable from \"StartAt\"\n"
    );
    assert_eq!(run.stderr, "");
    assert_eq!(run.code, 1);
}

#[test]
fn validate_is_silent_on_a_valid_definition() {
    let sandbox = Sandbox::new().file("LambdaSQSIntegration.json", LAMBDA_SQS_DEFINITION);
    let run = sandbox.sluice(&["validate", "LambdaSQSIntegration.json"]);
    assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (0, "", ""));
}

#[test]
fn validate_names_the_file_and_position_of_bad_json() {
    let sandbox = Sandbox::new().file("broken.json", "{\n  \"StartAt\": \"A\",\n  \"States\" {}\n}\n");
    let run = sandbox.sluice(&["validate", "broken.json"]);
    run.assert_usage_error(&["broken.json", "not valid JSON", "line 3 column 12"]);
}

#[test]
fn validate_reports_a_missing_file() {
    let run = Sandbox::new().sluice(&["validate", "missing.json"]);
    run.assert_usage_error(&["cannot read missing.json"]);
}

#[test]
fn local_run_answers_tasks_from_the_aws_example_mocks() {
    let run = Sandbox::aws_example().sluice(&[
        "local",
        "run",
        "LambdaSQSIntegration.json",
        "--input",
        "input.json",
        "--mocks",
        "MockConfigFile.json",
        "--test-case",
        "HappyPath",
    ]);
    assert_eq!(run.json(), json!({"status": "SUCCEEDED", "output": sqs_success()}));
    assert_eq!(
        run.stdout.lines().count(),
        1,
        "one JSON object on one line: {}",
        run.stdout
    );
}

#[test]
fn local_run_takes_one_response_per_invocation_and_retries_on_the_virtual_clock() {
    // `MockedLambdaRetry` throws on invocations 0, 1 and 2 ("0", "1-2") and returns on 3; the
    // definition retries three times, 2 + 4 + 8 seconds apart, which must not be slept.
    let started = Instant::now();
    let run = Sandbox::aws_example().sluice(&[
        "local",
        "run",
        "LambdaSQSIntegration.json",
        "--mocks",
        "MockConfigFile.json",
        "--test-case",
        "RetryPath",
    ]);
    assert_eq!(run.json(), json!({"status": "SUCCEEDED", "output": sqs_success()}));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn local_run_reports_the_last_thrown_error_when_retries_run_out() {
    let definition = LAMBDA_SQS_DEFINITION.replace("\"MaxAttempts\": 3", "\"MaxAttempts\": 2");
    let run = Sandbox::aws_example()
        .file("LambdaSQSIntegration.json", &definition)
        .sluice(&[
            "local",
            "run",
            "LambdaSQSIntegration.json",
            "--mocks",
            "MockConfigFile.json",
            "--test-case",
            "RetryPath",
        ]);
    assert_eq!(
        run.json(),
        json!({"status": "FAILED", "error": "Lambda.TimeoutException", "cause": "Lambda timed out."})
    );
    assert_eq!(run.code, 0);
}

#[test]
fn local_run_fails_a_task_that_has_no_mock() {
    // `HybridPath` mocks `LambdaState` only: Step Functions Local would call the real SQS here.
    let run = Sandbox::aws_example().sluice(&[
        "local",
        "run",
        "LambdaSQSIntegration.json",
        "--mocks",
        "MockConfigFile.json",
        "--test-case",
        "HybridPath",
    ]);
    let output = run.json();
    assert_eq!(
        (output["status"].as_str(), output["error"].as_str()),
        (Some("FAILED"), Some("States.Runtime"))
    );
    let cause = output["cause"].as_str().unwrap_or_default();
    for part in [
        "\"SQSState\"",
        "no mocked response",
        "\"HybridPath\"",
        "\"LambdaSQSIntegration\"",
    ] {
        assert!(cause.contains(part), "the cause {cause:?} does not mention {part}");
    }
    assert_eq!(run.code, 0);
}

#[test]
fn local_run_without_mocks_fails_the_first_task() {
    let run = Sandbox::aws_example().sluice(&["local", "run", "LambdaSQSIntegration.json"]);
    assert_eq!(
        run.json(),
        json!({
            "status": "FAILED",
            "error": "States.Runtime",
            "cause": "the Task state \"LambdaState\" has no mocked response (no mocks were given)",
        })
    );
}

#[test]
fn local_run_fails_an_invocation_the_mock_has_no_entry_for() {
    // AWS: "When you mock a Task, you must specify a mocked response for every invocation ... If
    // you do not specify a mocked response, the state machine execution will fail." Step Functions
    // Local fails it with States.Runtime, which no Retry or Catch handles.
    let mocks = json!({
        "StateMachines": {"LambdaSQSIntegration": {"TestCases": {"NotReady": {
            "LambdaState": "LambdaMockedResourceNotReady",
            "SQSState": "MockedSQSSuccess",
        }}}},
        "MockedResponses": {
            "LambdaMockedResourceNotReady": {"0": {"Throw": {
                "Error": "Lambda.ResourceNotReadyException",
                "Cause": "Lambda resource is not ready.",
            }}},
            "MockedSQSSuccess": {"0": {"Return": sqs_success()}},
        },
    });
    let run = Sandbox::aws_example().file("mocks.json", &mocks.to_string()).sluice(&[
        "local",
        "run",
        "LambdaSQSIntegration.json",
        "--mocks",
        "mocks.json",
        "--test-case",
        "NotReady",
    ]);
    let output = run.json();
    assert_eq!(
        (output["status"].as_str(), output["error"].as_str()),
        (Some("FAILED"), Some("States.Runtime"))
    );
    let cause = output["cause"].as_str().unwrap_or_default();
    assert!(cause.contains("no entry for invocation 1"), "{cause:?}");
}

#[test]
fn local_run_takes_the_state_machine_name_from_the_file_stem() {
    // The definition's stem, "machine", is not the mocks' state machine name: without --name the
    // test case is not found, and the error names both.
    let sandbox = Sandbox::aws_example().file("machine.json", LAMBDA_SQS_DEFINITION);
    let args = [
        "local",
        "run",
        "machine.json",
        "--mocks",
        "MockConfigFile.json",
        "--test-case",
        "HappyPath",
    ];
    let run = sandbox.sluice(&args);
    run.assert_usage_error(&["MockConfigFile.json", "\"machine\"", "\"HappyPath\""]);

    let run = sandbox.sluice(&[&args[..], &["--name", "LambdaSQSIntegration"]].concat());
    assert_eq!(run.json(), json!({"status": "SUCCEEDED", "output": sqs_success()}));
}

#[test]
fn local_run_names_an_unknown_test_case() {
    let run = Sandbox::aws_example().sluice(&[
        "local",
        "run",
        "LambdaSQSIntegration.json",
        "--mocks",
        "MockConfigFile.json",
        "--test-case",
        "SadPath",
    ]);
    run.assert_usage_error(&["MockConfigFile.json", "\"LambdaSQSIntegration\"", "\"SadPath\""]);
}

#[test]
fn local_run_sets_the_state_machine_name() {
    let sandbox = Sandbox::new().file(
        "name.json",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"name.$": "$$.StateMachine.Name"}, "End": true}}}"#,
    );
    let run = sandbox.sluice(&["local", "run", "name.json"]);
    assert_eq!(run.json(), json!({"status": "SUCCEEDED", "output": {"name": "name"}}));
    let run = sandbox.sluice(&["local", "run", "name.json", "--name", "Orders"]);
    assert_eq!(run.json(), json!({"status": "SUCCEEDED", "output": {"name": "Orders"}}));
}

#[test]
fn local_run_reads_the_input_from_a_file_or_standard_input() {
    let input = json!({"order": {"id": 7, "items": ["a", "b"]}});
    let sandbox = Sandbox::new()
        .file(
            "echo.json",
            r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
        )
        .file("input.json", &input.to_string());
    let run = sandbox.sluice(&["local", "run", "echo.json", "--input", "input.json"]);
    assert_eq!(run.json(), json!({"status": "SUCCEEDED", "output": input}));
    let run = sandbox.sluice_with_stdin(&["local", "run", "echo.json", "--input", "-"], &input.to_string());
    assert_eq!(run.json(), json!({"status": "SUCCEEDED", "output": input}));
    let run = sandbox.sluice(&["local", "run", "echo.json"]);
    assert_eq!(run.json(), json!({"status": "SUCCEEDED", "output": {}}));
}

#[test]
fn local_run_names_the_file_and_position_of_bad_json() {
    let broken = "{\n  \"a\": [1, 2,\n}\n";
    let sandbox = Sandbox::aws_example().file("broken.json", broken);
    let cases: [(&[&str], &[&str]); 4] = [
        (&["broken.json"], &["broken.json", "line 3 column 1"]),
        (
            &["LambdaSQSIntegration.json", "--input", "broken.json"],
            &["broken.json", "line 3 column 1"],
        ),
        (
            &[
                "LambdaSQSIntegration.json",
                "--mocks",
                "broken.json",
                "--test-case",
                "HappyPath",
            ],
            &["broken.json", "line 3 column 1"],
        ),
        (
            &["LambdaSQSIntegration.json", "--input", "-"],
            &["standard input", "line 3 column 1"],
        ),
    ];
    for (args, expected) in cases {
        let run = sandbox.sluice_with_stdin(&[&["local", "run"][..], args].concat(), broken);
        run.assert_usage_error(&[&["not valid JSON"][..], expected].concat());
    }
}

#[test]
fn local_run_reports_a_missing_definition() {
    let run = Sandbox::new().sluice(&["local", "run", "missing.json"]);
    run.assert_usage_error(&["cannot read missing.json"]);
}

#[test]
fn local_run_prints_the_problems_of_an_invalid_definition_on_stderr() {
    let sandbox = Sandbox::new().file(
        "invalid.json",
        r#"{"StartAt": "Rotate", "States": {"Rotate": {"Type": "Pass", "Next": "Merge"}}}"#,
    );
    let run = sandbox.sluice(&["local", "run", "invalid.json"]);
    assert_eq!(
        run.stderr,
        "/States/Rotate/Next: no state named \"Merge\"\n\
         /States: no terminal state: at least one state must be a Succeed or Fail state or have \"End\": true\n"
    );
    assert_eq!((run.code, run.stdout.as_str()), (1, ""));
}

#[test]
fn local_run_with_a_seed_is_repeatable() {
    let sandbox = Sandbox::new().file(
        "ids.json",
        r#"{
            "StartAt": "Ids",
            "States": {
                "Ids": {
                    "Type": "Pass",
                    "Parameters": {
                        "uuid.$": "States.UUID()",
                        "execution.$": "$$.Execution.Name",
                        "start.$": "$$.Execution.StartTime"
                    },
                    "End": true
                }
            }
        }"#,
    );
    let first = sandbox.sluice(&["local", "run", "ids.json", "--seed", "42"]);
    let again = sandbox.sluice(&["local", "run", "ids.json", "--seed", "42"]);
    let other = sandbox.sluice(&["local", "run", "ids.json", "--seed", "43"]);
    assert_eq!(first.json()["status"], "SUCCEEDED");
    assert_eq!(first.stdout, again.stdout);
    assert_ne!(first.json()["output"]["uuid"], other.json()["output"]["uuid"]);
    assert_ne!(first.json()["output"]["execution"], other.json()["output"]["execution"]);
    // A seeded run starts at a fixed instant, unless --start-time says otherwise.
    assert_eq!(first.json()["output"]["start"], "2026-01-01T00:00:00.000Z");
    let started = sandbox.sluice(&[
        "local",
        "run",
        "ids.json",
        "--seed",
        "42",
        "--start-time",
        "2030-05-06T07:08:09Z",
    ]);
    assert_eq!(started.json()["output"]["start"], "2030-05-06T07:08:09.000Z");
    assert_eq!(started.json()["output"]["uuid"], first.json()["output"]["uuid"]);
}

#[test]
fn local_run_waits_a_year_on_the_virtual_clock() {
    let sandbox = Sandbox::new().file(
        "year.json",
        r#"{
            "StartAt": "Year",
            "States": {
                "Year": {"Type": "Wait", "Seconds": 31536000, "Next": "After"},
                "After": {"Type": "Pass", "Parameters": {"entered.$": "$$.State.EnteredTime"}, "End": true}
            }
        }"#,
    );
    let started = Instant::now();
    let run = sandbox.sluice(&["local", "run", "year.json", "--seed", "1"]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        run.json(),
        json!({"status": "SUCCEEDED", "output": {"entered": "2027-01-01T00:00:00.000Z"}})
    );
}

#[test]
fn local_run_times_out_when_a_wait_outlasts_timeout_seconds() {
    let sandbox = Sandbox::new().file(
        "timeout.json",
        r#"{
            "TimeoutSeconds": 60,
            "StartAt": "Hour",
            "States": {"Hour": {"Type": "Wait", "Seconds": 3600, "End": true}}
        }"#,
    );
    let run = sandbox.sluice(&["local", "run", "timeout.json"]);
    let output = run.json();
    assert_eq!(
        (output["status"].as_str(), output["error"].as_str()),
        (Some("TIMED_OUT"), Some("States.Timeout"))
    );
    assert_eq!(run.code, 0);
}

#[test]
fn local_run_wants_mocks_and_test_case_together() {
    let sandbox = Sandbox::aws_example();
    let run = sandbox.sluice(&[
        "local",
        "run",
        "LambdaSQSIntegration.json",
        "--mocks",
        "MockConfigFile.json",
    ]);
    run.assert_usage_error(&["--test-case"]);
    let run = sandbox.sluice(&["local", "run", "LambdaSQSIntegration.json", "--test-case", "HappyPath"]);
    run.assert_usage_error(&["--mocks"]);
}

/// A temporary folder with the files of one test, in which `sluice` runs.
struct Sandbox {
    dir: tempfile::TempDir,
}

/// What one run of `sluice` did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    /// A sandbox holding AWS's example definition, its mock configuration and an input.
    fn aws_example() -> Sandbox {
        Sandbox::new()
            .file("LambdaSQSIntegration.json", LAMBDA_SQS_DEFINITION)
            .file("MockConfigFile.json", AWS_MOCK_CONFIG)
            .file("input.json", r#"{"message": "hello"}"#)
    }

    /// Writes `contents` to the file `name` of the sandbox.
    fn file(self, name: &str, contents: &str) -> Sandbox {
        std::fs::write(self.dir.path().join(name), contents).expect("a writable temporary folder");
        self
    }

    /// Runs `sluice ARGS` in the sandbox, with nothing on standard input.
    fn sluice(&self, args: &[&str]) -> Run {
        self.sluice_with_stdin(args, "")
    }

    /// Runs `sluice ARGS` in the sandbox, with `stdin` on standard input.
    fn sluice_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the sluice binary starts");
        let mut pipe = child.stdin.take().expect("a piped stdin");
        // A run that does not read its standard input may be gone before this write: that is fine.
        if let Err(error) = pipe.write_all(stdin.as_bytes())
            && error.kind() != ErrorKind::BrokenPipe
        {
            panic!("cannot write to sluice's standard input: {error}");
        }
        drop(pipe);
        let output = child.wait_with_output().expect("sluice runs to its end");
        Run {
            code: output.status.code().expect("sluice exits with a code"),
            stdout: String::from_utf8(output.stdout).expect("UTF-8 on stdout"),
            stderr: String::from_utf8(output.stderr).expect("UTF-8 on stderr"),
        }
    }
}

impl Run {
    /// The one JSON object a successful `sluice local run` prints; it must exit 0 and print nothing else.
    fn json(&self) -> Value {
        assert_eq!(self.code, 0, "{self:?}");
        assert_eq!(self.stderr, "", "{self:?}");
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("stdout is not one JSON value ({error}): {self:?}"))
    }

    /// Checks that the run failed with exit code 2, printed nothing on stdout, and said every part on stderr.
    fn assert_usage_error(&self, parts: &[&str]) {
        assert_eq!((self.code, self.stdout.as_str()), (2, ""), "{self:?}");
        for part in parts {
            assert!(self.stderr.contains(part), "stderr does not mention {part:?}: {self:?}");
        }
    }
}
