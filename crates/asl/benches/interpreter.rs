//! The interpreter's throughput on one core: one Criterion group per corpus file in `benches/asl/`.
//!
//! A corpus file is `{"definition", "input", "mocks"?, "expected"}`, like a conformance case.
//! Every group runs the definition through the local runner (`local_run`). When the step function
//! alone can walk the definition (every state answers `Next` or `End`, as a chain of Pass states
//! does), the group also measures that walk (`step`), and both report states entered per second;
//! otherwise the group reports executions per second.
//!
//! Run with `cargo bench -p sluice-asl`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use sluice_asl::definition::Graph;
use sluice_asl::local::{self, Mocks, Options};
use sluice_asl::scope::{Context, Execution, Variables};
use sluice_asl::step::{self, Env, Step};
use sluice_asl::{SeededEntropy, StateMachine};

/// One corpus file, parsed.
struct Case {
    name: String,
    machine: StateMachine,
    input: Value,
    mocks: Mocks,
    expected: Value,
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/asl")
}

fn cases() -> Vec<Case> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("the bench corpus folder")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|path| load(path)).collect()
}

fn load(path: &Path) -> Case {
    let text = std::fs::read_to_string(path).expect("a readable corpus file");
    let file: Value = serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let machine = sluice_asl::parse(&file["definition"]).unwrap_or_else(|diagnostics| {
        panic!("{} does not validate:\n{diagnostics}", path.display());
    });
    let mocks = match file.get("mocks") {
        None => Mocks::default(),
        Some(Value::Object(by_state)) => {
            let test_case: serde_json::Map<String, Value> =
                by_state.keys().map(|state| (state.clone(), json!(state))).collect();
            let config = json!({
                "StateMachines": {"bench": {"TestCases": {"bench": test_case}}},
                "MockedResponses": by_state,
            });
            Mocks::from_config(&config, "bench", "bench").unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        }
        Some(_) => panic!("{}: \"mocks\" must be an object", path.display()),
    };
    Case {
        name: path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .expect("a file name")
            .to_owned(),
        machine,
        input: file.get("input").cloned().unwrap_or_else(|| json!({})),
        mocks,
        expected: file["expected"].clone(),
    }
}

fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid instant")
}

fn options(case: &Case) -> Options {
    Options {
        name: "bench".to_owned(),
        execution_name: "execution".to_owned(),
        start_time: start_time(),
        seed: 7,
        mocks: case.mocks.clone(),
    }
}

/// Checks the local run's result against `expected` (its status, and its output when given), so
/// that a bench never measures a run that went wrong.
fn check(case: &Case) {
    let actual = local::run(&case.machine, case.input.clone(), options(case)).to_json();
    assert_eq!(actual["status"], case.expected["status"], "{}: {actual}", case.name);
    if let Some(output) = case.expected.get("output") {
        assert_eq!(&actual["output"], output, "{}", case.name);
    }
}

/// Walks a graph with the step function alone, as an engine would: enter a state, take its
/// `Next`. Answers how many states were entered, or `None` when a state asks for more than a
/// `Next` or an `End` (a task, a wait, branches, items).
fn walk(graph: &Graph, input: &Value, context: &mut Context, entropy: &mut SeededEntropy) -> Option<u64> {
    let mut state = graph.start()?;
    let mut variables = Variables::default();
    let mut input = input.clone();
    let mut entered = 0;
    loop {
        context.state_name.clone_from(&state.name);
        let mut env = Env {
            context,
            variables: &variables,
            retries: &[],
            entropy,
        };
        let step = step::enter(state, &input, &mut env);
        entered += 1;
        match step {
            Step::Next {
                state: next,
                output,
                assigned,
            } => {
                if let Some(assigned) = assigned {
                    variables.assign(assigned);
                }
                state = graph.state(&next)?;
                input = output;
            }
            Step::End { .. } => return Some(entered),
            _ => return None,
        }
    }
}

fn context() -> Context {
    let execution = Arc::new(Execution {
        id: "arn:aws:states:us-east-1:123456789012:execution:bench:execution".to_owned(),
        name: "execution".to_owned(),
        input: json!({}),
        start_time: start_time(),
        role_arn: "arn:aws:iam::123456789012:role/sluice-local".to_owned(),
        state_machine_id: "arn:aws:states:us-east-1:123456789012:stateMachine:bench".to_owned(),
        state_machine_name: "bench".to_owned(),
    });
    Context {
        execution,
        state_name: String::new(),
        entered_time: start_time(),
        retry_count: 0,
        task_token: None,
        map_item: None,
        entered_event_id: None,
    }
}

fn interpreter(criterion: &mut Criterion) {
    for case in cases() {
        check(&case);
        let mut context = context();
        let mut entropy = SeededEntropy::new(7);
        let entered = walk(&case.machine.graph, &case.input, &mut context, &mut entropy);
        let mut group = criterion.benchmark_group(&case.name);
        group
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .sample_size(30);
        group.throughput(Throughput::Elements(entered.unwrap_or(1)));
        if entered.is_some() {
            group.bench_function("step", |bencher| {
                bencher.iter(|| walk(&case.machine.graph, &case.input, &mut context, &mut entropy))
            });
        }
        group.bench_function("local_run", |bencher| {
            bencher.iter_batched(
                || (case.input.clone(), options(&case)),
                |(input, options)| local::run(&case.machine, input, options),
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, interpreter);
criterion_main!(benches);
