//! `sluice deploy` and `sluice exec …` against a running server (through `sluice-testbed`, which
//! is the `sluice` command line with in-process functions registered).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use sluice_testbed::Server;

const BINARY: &str = env!("CARGO_BIN_EXE_sluice-testbed");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|error| panic!("{error}: {}", self.stdout))
    }
}

fn sluice(server: &Server, arguments: &[&str]) -> Run {
    let output = Command::new(BINARY)
        .args(arguments)
        .env("SLUICE_ENDPOINT", server.endpoint())
        .env_remove("SLUICE_ACCESS_KEY_ID")
        .env_remove("SLUICE_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn write_app(folder: &Path, definition: &Value) -> PathBuf {
    std::fs::create_dir_all(folder).unwrap();
    std::fs::write(
        folder.join("sluice.toml"),
        "[app]\nname = \"calc\"\n\n[state_machines.calc]\ndefinition = \"calc.asl.json\"\n",
    )
    .unwrap();
    std::fs::write(folder.join("calc.asl.json"), definition.to_string()).unwrap();
    folder.to_owned()
}

fn doubling() -> Value {
    json!({"StartAt": "Double", "States": {"Double": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "double", "Payload.$": "$"}, "OutputPath": "$.Payload", "End": true}}})
}

#[test]
fn deploy_then_start_describe_list_and_read_the_history() {
    let folder = tempfile::tempdir().unwrap();
    let server = Server::start(Path::new(BINARY), folder.path(), &[]);
    let app = write_app(&folder.path().join("app"), &doubling());

    let deployed = sluice(&server, &["deploy", app.to_str().unwrap(), "--json"]);
    assert_eq!(deployed.code, 0, "{}", deployed.stderr);
    assert_eq!(
        deployed.json(),
        json!({"app": "calc", "functions": [], "stateMachines": [
            {"name": "calc", "revision": 1, "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:calc"}]})
    );

    let started = sluice(
        &server,
        &[
            "exec",
            "start",
            "calc",
            "--input-json",
            r#"{"n": 21}"#,
            "--name",
            "first",
            "--wait",
            "--json",
        ],
    );
    assert_eq!(started.code, 0, "{}", started.stderr);
    let ended = started.json();
    assert_eq!(
        (ended["status"].as_str(), ended["output"].as_str()),
        (Some("SUCCEEDED"), Some(r#"{"n":42}"#))
    );

    let arn = "arn:aws:states:us-east-1:123456789012:execution:calc:first";
    let described = sluice(&server, &["exec", "describe", arn]);
    assert_eq!(described.code, 0, "{}", described.stderr);
    assert!(described.stdout.starts_with("FIELD"), "{}", described.stdout);
    assert!(
        described
            .stdout
            .lines()
            .any(|line| line.split_whitespace().eq(["status", "SUCCEEDED"])),
        "{}",
        described.stdout
    );

    let listed = sluice(&server, &["exec", "list", "calc", "--json"]);
    let listed = listed.json();
    let names: Vec<&str> = listed["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["first"]);

    let history = sluice(&server, &["exec", "history", arn, "--json"]);
    let types: Vec<String> = history.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let table = sluice(&server, &["exec", "history", arn, "--reverse"]);
    let first_row = table.stdout.lines().nth(1).unwrap_or_default();
    assert!(
        first_row.starts_with("7 ") && first_row.contains("ExecutionSucceeded"),
        "{}",
        table.stdout
    );

    // A failed execution: --wait exits 1 and says why.
    let failed = sluice(
        &server,
        &["exec", "start", "calc", "--input-json", r#"{"n": "x"}"#, "--wait"],
    );
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(
        failed
            .stdout
            .lines()
            .any(|line| line.split_whitespace().eq(["error", "InvalidInput"])),
        "{}",
        failed.stdout
    );
}

#[test]
fn stop_aborts_and_errors_name_the_aws_code() {
    let folder = tempfile::tempdir().unwrap();
    let waiting = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": true}}});
    let app = write_app(&folder.path().join("app"), &waiting);
    let server = Server::start(Path::new(BINARY), folder.path(), &[app]);
    let started = sluice(&server, &["exec", "start", "calc", "--name", "long", "--json"]);
    assert_eq!(started.code, 0, "{}", started.stderr);
    let arn = started.json()["executionArn"].as_str().unwrap().to_owned();
    let stopped = sluice(
        &server,
        &[
            "exec",
            "stop",
            &arn,
            "--error",
            "Operator",
            "--cause",
            "no longer needed",
        ],
    );
    assert_eq!(stopped.code, 0, "{}", stopped.stderr);
    let described = sluice(&server, &["exec", "describe", &arn, "--json"]).json();
    assert_eq!(
        (
            described["status"].as_str(),
            described["error"].as_str(),
            described["cause"].as_str()
        ),
        (Some("ABORTED"), Some("Operator"), Some("no longer needed"))
    );

    let missing = sluice(
        &server,
        &[
            "exec",
            "describe",
            "arn:aws:states:us-east-1:123456789012:execution:calc:nothing",
        ],
    );
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("ExecutionDoesNotExist"), "{}", missing.stderr);
    let unknown = sluice(&server, &["exec", "start", "nothing"]);
    assert!(
        unknown.stderr.contains("no state machine named \"nothing\""),
        "{}",
        unknown.stderr
    );
    let bad_input = sluice(&server, &["exec", "start", "calc", "--input-json", "{oops"]);
    assert!(
        bad_input.stderr.contains("--input-json is not valid JSON"),
        "{}",
        bad_input.stderr
    );
}

#[test]
fn a_wrong_secret_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let server = Server::start(Path::new(BINARY), folder.path(), &[]);
    let run = sluice(&server, &["exec", "list", "anything", "--secret-key", "wrong"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("InvalidSignatureException"), "{}", run.stderr);
}

#[test]
fn an_app_with_a_broken_definition_deploys_nothing_and_survives_restarts() {
    let folder = tempfile::tempdir().unwrap();
    let mut server = Server::start(Path::new(BINARY), folder.path(), &[]);
    let app = folder.path().join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("sluice.toml"),
        "[app]\nname = \"mixed\"\n\n[functions.echo]\ncommand = [\"/bin/cat\"]\n\n\
         [state_machines.good]\ndefinition = \"good.asl.json\"\n\n[state_machines.bad]\ndefinition = \"bad.asl.json\"\n",
    )
    .unwrap();
    std::fs::write(app.join("good.asl.json"), doubling().to_string()).unwrap();
    std::fs::write(
        app.join("bad.asl.json"),
        r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#,
    )
    .unwrap();

    let refused = sluice(&server, &["deploy", app.to_str().unwrap()]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("/States/A/Next"),
        "the error names the place: {}",
        refused.stderr
    );
    let machines = server_machines(&server);
    assert!(machines.is_empty(), "nothing deployed: {machines:?}");

    // Fixed, deployed, and still there (with its command function) after a kill -9.
    std::fs::write(app.join("bad.asl.json"), r#"{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo", "End": true}}}"#).unwrap();
    assert_eq!(sluice(&server, &["deploy", app.to_str().unwrap()]).code, 0);
    server.restart();
    assert_eq!(server_machines(&server), ["bad", "good"]);
    let echoed = sluice(
        &server,
        &[
            "exec",
            "start",
            "bad",
            "--input-json",
            r#"{"k": 1}"#,
            "--wait",
            "--json",
        ],
    );
    assert_eq!(echoed.code, 0, "{} {}", echoed.stdout, echoed.stderr);
    assert_eq!(echoed.json()["output"], json!(r#"{"k":1}"#));
}

fn server_machines(server: &Server) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listed = runtime
        .block_on(server.client().step_functions("ListStateMachines", &json!({})))
        .unwrap();
    let mut names: Vec<String> = listed["stateMachines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|machine| machine["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}
