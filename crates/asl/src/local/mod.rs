//! Running a whole state machine in process, without I/O: tasks answer from mocks, waits and
//! retry delays advance a virtual clock, and randomness comes from a seed. This is what
//! `sluice local run` and the conformance corpus use; the durable engine drives the same step
//! function with real effects.

mod mocks;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::definition::{Graph, State, StateKind};
use crate::scope::{Context, Execution, Variables};
use crate::step::{self, Env, ItemOutcome, Step};
use crate::{Entropy, Failure, SeededEntropy, StateMachine};

pub use mocks::{Error as MockError, Mocks, Response};

/// How a local run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The execution succeeded with this output.
    Succeeded(Value),
    /// The execution failed.
    Failed(Failure),
    /// The execution ran past the machine's `TimeoutSeconds` (on the virtual clock).
    TimedOut(Failure),
}

impl Outcome {
    /// The result as `sluice local run` prints it.
    pub fn to_json(&self) -> Value {
        let failure = |status: &str, failure: &Failure| {
            let mut object = json!({ "status": status, "error": failure.error });
            if let Some(cause) = &failure.cause {
                object["cause"] = json!(cause);
            }
            object
        };
        match self {
            Outcome::Succeeded(output) => json!({ "status": "SUCCEEDED", "output": output }),
            Outcome::Failed(error) => failure("FAILED", error),
            Outcome::TimedOut(error) => failure("TIMED_OUT", error),
        }
    }
}

/// What a local run needs besides the definition and the input.
#[derive(Debug, Clone)]
pub struct Options {
    /// The state machine's name (`$$.StateMachine.Name`).
    pub name: String,
    /// The execution's name (`$$.Execution.Name`).
    pub execution_name: String,
    /// When the execution starts on the virtual clock.
    pub start_time: DateTime<Utc>,
    /// The seed of every random value of the run.
    pub seed: u64,
    /// The mocked task responses.
    pub mocks: Mocks,
}

/// Runs `machine` on `input` to its end.
pub fn run(machine: &StateMachine, input: Value, options: Options) -> Outcome {
    let execution = Arc::new(Execution {
        id: format!(
            "arn:aws:states:us-east-1:123456789012:execution:{}:{}",
            options.name, options.execution_name
        ),
        name: options.execution_name.clone(),
        input: input.clone(),
        start_time: options.start_time,
        role_arn: "arn:aws:iam::123456789012:role/sluice-local".to_owned(),
        state_machine_id: format!("arn:aws:states:us-east-1:123456789012:stateMachine:{}", options.name),
        state_machine_name: options.name.clone(),
    });
    let deadline = machine
        .timeout_seconds
        .map(|seconds| options.start_time + Duration::seconds(seconds as i64));
    let mut runner = Runner {
        execution,
        mocks: options.mocks,
        invocations: HashMap::new(),
        clock: options.start_time,
        deadline,
        entropy: SeededEntropy::new(options.seed),
        event_id: 1,
    };
    let mut variables = Variables::default();
    match runner.graph(&machine.graph, input, &mut variables) {
        Ok(output) => Outcome::Succeeded(output),
        Err(Stop::Failed(failure)) => Outcome::Failed(failure),
        Err(Stop::TimedOut) => Outcome::TimedOut(Failure::new(
            crate::failure::names::TIMEOUT,
            "The execution ran longer than the state machine's TimeoutSeconds",
        )),
    }
}

/// Why a graph stopped without an output.
enum Stop {
    Failed(Failure),
    TimedOut,
}

struct Runner {
    execution: Arc<Execution>,
    mocks: Mocks,
    invocations: HashMap<String, u64>,
    clock: DateTime<Utc>,
    deadline: Option<DateTime<Utc>>,
    entropy: SeededEntropy,
    event_id: u64,
}

impl Runner {
    fn graph(&mut self, graph: &Graph, input: Value, variables: &mut Variables) -> Result<Value, Stop> {
        let mut state = graph
            .start()
            .ok_or_else(|| Stop::Failed(Failure::runtime("the graph has no start state")))?;
        let mut input = input;
        // One context for the whole graph, updated as each state is entered, so that entering a
        // state allocates nothing.
        let mut context = Context {
            execution: self.execution.clone(),
            state_name: String::new(),
            entered_time: self.clock,
            retry_count: 0,
            task_token: None,
            map_item: None,
            entered_event_id: None,
        };
        loop {
            let (next, output) = self.state(state, &input, variables, &mut context)?;
            match next {
                Some(name) => {
                    state = graph
                        .state(&name)
                        .ok_or_else(|| Stop::Failed(Failure::runtime(format!("no state named \"{name}\""))))?;
                    input = output;
                }
                None => return Ok(output),
            }
        }
    }

    /// Runs one state to its end: the next state's name (none when the graph ends) and the output.
    fn state(
        &mut self,
        state: &State,
        input: &Value,
        variables: &mut Variables,
        context: &mut Context,
    ) -> Result<(Option<String>, Value), Stop> {
        self.event_id += 1;
        let mut retries: Vec<u64> = Vec::new();
        context.state_name.clone_from(&state.name);
        context.entered_time = self.clock;
        context.retry_count = 0;
        context.task_token = None;
        context.map_item = None;
        context.entered_event_id = Some(self.event_id);
        if let StateKind::Task(task) = &state.kind
            && task.resource.pattern == crate::definition::IntegrationPattern::WaitForTaskToken
        {
            context.task_token = Some(self.entropy.uuid());
        }
        let mut step = step::enter(state, input, &mut self.env(context, variables, &retries));
        loop {
            self.event_id += 1;
            step = match step {
                Step::Next {
                    state: next,
                    output,
                    assigned,
                } => {
                    if let Some(assigned) = assigned {
                        variables.assign(assigned);
                    }
                    return Ok((Some(next), output));
                }
                Step::End { output, assigned } => {
                    if let Some(assigned) = assigned {
                        variables.assign(assigned);
                    }
                    return Ok((None, output));
                }
                Step::Fail(failure) => return Err(Stop::Failed(failure)),
                Step::Wait { until, then } => {
                    self.advance_to(until)?;
                    *then
                }
                Step::RunTask(request) => {
                    // The request is what a real task would receive; mocks answer by state name.
                    drop(request);
                    let response = self.invoke(&state.name);
                    let mut env = self.env(context, variables, &retries);
                    match response {
                        Ok(Response::Return(result)) => step::complete(state, input, result, &mut env),
                        Ok(Response::Throw(failure)) => step::failed(state, input, failure, &mut env),
                        Err(message) => return Err(Stop::Failed(Failure::runtime(message))),
                    }
                }
                Step::RunBranches {
                    input: branch_input,
                    count,
                } => {
                    let StateKind::Parallel(parallel) = &state.kind else {
                        return Err(Stop::Failed(Failure::runtime(
                            "branches asked of a state that is not Parallel",
                        )));
                    };
                    let outer = Arc::new(variables.clone());
                    let mut outputs = Vec::with_capacity(count);
                    let mut failure = None;
                    for branch in &parallel.branches {
                        let mut branch_variables = Variables::inside(outer.clone());
                        match self.graph(branch, branch_input.clone(), &mut branch_variables) {
                            Ok(output) => outputs.push(output),
                            Err(Stop::Failed(branch_failure)) => {
                                failure = Some(branch_failure);
                                break;
                            }
                            Err(Stop::TimedOut) => return Err(Stop::TimedOut),
                        }
                    }
                    let mut env = self.env(context, variables, &retries);
                    match failure {
                        Some(failure) => step::failed(state, input, failure, &mut env),
                        None => step::complete(state, input, Value::Array(outputs), &mut env),
                    }
                }
                Step::RunItems(request) => {
                    let StateKind::Map(map) = &state.kind else {
                        return Err(Stop::Failed(Failure::runtime("items asked of a state that is not Map")));
                    };
                    let outer = Arc::new(variables.clone());
                    let mut outcomes = Vec::with_capacity(request.inputs.len());
                    for item in request.inputs {
                        let mut item_variables = Variables::inside(outer.clone());
                        outcomes.push(match self.graph(&map.item_processor, item, &mut item_variables) {
                            Ok(output) => ItemOutcome::Succeeded(output),
                            Err(Stop::Failed(failure)) => ItemOutcome::Failed(failure),
                            Err(Stop::TimedOut) => return Err(Stop::TimedOut),
                        });
                    }
                    step::items_finished(state, input, outcomes, &mut self.env(context, variables, &retries))
                }
                Step::Retry {
                    delay_millis, retrier, ..
                } => {
                    self.advance_to(self.clock + Duration::milliseconds(delay_millis as i64))?;
                    if retries.len() <= retrier {
                        retries.resize(retrier + 1, 0);
                    }
                    retries[retrier] += 1;
                    context.retry_count = retries.iter().sum();
                    step::enter(state, input, &mut self.env(context, variables, &retries))
                }
            };
        }
    }

    fn env<'a>(&'a mut self, context: &'a Context, variables: &'a Variables, retries: &'a [u64]) -> Env<'a> {
        Env {
            context,
            variables,
            retries,
            entropy: &mut self.entropy,
        }
    }

    /// The mocked response of the next invocation of a Task state.
    fn invoke(&mut self, state: &str) -> Result<Response, String> {
        let count = self.invocations.entry(state.to_owned()).or_insert(0);
        let invocation = *count;
        *count += 1;
        self.mocks.respond(state, invocation)
    }

    /// Moves the virtual clock forward, stopping the run at the execution's deadline.
    fn advance_to(&mut self, instant: DateTime<Utc>) -> Result<(), Stop> {
        if let Some(deadline) = self.deadline
            && instant > deadline
        {
            self.clock = deadline;
            return Err(Stop::TimedOut);
        }
        self.clock = self.clock.max(instant);
        Ok(())
    }
}
