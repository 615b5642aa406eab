//! The step function: given a state, its input and its environment, what happens next.
//!
//! The interpreter never performs work. It answers with a [`Step`]: go to a state with an output,
//! end the graph, fail, wait until an instant, run a task, run branches or items, or retry after a
//! delay. The caller (the durable engine, or the local runner) performs the step, records it, and
//! reports back through [`complete`] (the work succeeded), [`failed`] (it failed) or
//! [`items_finished`] (a Map's iterations ended). The clock is the state's `EnteredTime` and the
//! randomness is the [`Entropy`] passed in, so a step replays exactly.

mod choice;
mod flow;
mod map;
mod recovery;

use chrono::{DateTime, Utc};
use serde_json::{Map as JsonMap, Value};

use crate::definition::{Dynamic, QueryLanguage, State, StateKind, Transition, WaitFor};
use crate::failure::names;
use crate::scope::{Context, Scope, Variables};
use crate::{Entropy, Failure};

pub use map::ItemOutcome;

/// What a state does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Go to the named state with this input.
    Next {
        /// The next state.
        state: String,
        /// The output of this state, the input of the next.
        output: Value,
        /// Variables the state assigned, to set before the next state runs.
        assigned: Option<JsonMap<String, Value>>,
    },
    /// The graph (the execution, a branch or an iteration) ends with this output.
    End {
        /// The output of the graph.
        output: Value,
        /// Variables the state assigned.
        assigned: Option<JsonMap<String, Value>>,
    },
    /// The graph fails.
    Fail(Failure),
    /// Wait until `until`, then take `then` (a `Next` or an `End`).
    Wait {
        /// When the wait ends.
        until: DateTime<Utc>,
        /// What happens when it does.
        then: Box<Step>,
    },
    /// Run a task; report with [`complete`] or [`failed`].
    RunTask(TaskRequest),
    /// Run each branch of a Parallel state with this input; report the outputs, in branch
    /// order, as an array with [`complete`], or the first failure with [`failed`].
    RunBranches {
        /// The input every branch starts with.
        input: Value,
        /// How many branches there are.
        count: usize,
    },
    /// Run a Map's item processor once per input; report with [`items_finished`].
    RunItems(ItemsRequest),
    /// The state failed and a retrier applies: enter the state again after the delay, with the
    /// retrier's count increased by one.
    Retry {
        /// How long to wait before the next attempt.
        delay_millis: u64,
        /// The index of the retrier whose count goes up.
        retrier: usize,
        /// The failure being retried.
        failure: Failure,
    },
}

/// A task to run: a resource and its input.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRequest {
    /// The `Resource` ARN as written.
    pub resource: String,
    /// The task's input: `Parameters` (JSONPath) or `Arguments` (JSONata) applied.
    pub parameters: Value,
    /// `TimeoutSeconds`, resolved.
    pub timeout_seconds: Option<u64>,
    /// `HeartbeatSeconds`, resolved.
    pub heartbeat_seconds: Option<u64>,
    /// `Credentials`, resolved (carried, not used).
    pub credentials: Option<Value>,
}

/// A Map's iterations to run.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemsRequest {
    /// The input of each iteration, in item order.
    pub inputs: Vec<Value>,
    /// At most this many iterations run at once; 0 means no limit.
    pub max_concurrency: u64,
}

/// What a state can read besides its input.
pub struct Env<'a> {
    /// The context object (the state's name, entered time, retry count, …).
    pub context: &'a Context,
    /// The variables in scope.
    pub variables: &'a Variables,
    /// How many times each retrier of the state has retried so far.
    pub retries: &'a [u64],
    /// Randomness, recorded by the caller for replay.
    pub entropy: &'a mut dyn Entropy,
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Env")
            .field("state", &self.context.state_name)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

/// Enters a state with its raw input.
pub fn enter(state: &State, input: &Value, env: &mut Env<'_>) -> Step {
    match enter_inner(state, input, env) {
        Ok(step) => step,
        Err(failure) => failed(state, input, failure, env),
    }
}

fn enter_inner(state: &State, input: &Value, env: &mut Env<'_>) -> Result<Step, Failure> {
    match &state.kind {
        StateKind::Pass(pass) => {
            let result = match (&pass.result, state.query_language) {
                (Some(result), QueryLanguage::JsonPath) => Value::clone(result),
                _ => flow::parameters(state, input, env)?,
            };
            Ok(flow::finish(state, input, result, env))
        }
        StateKind::Task(task) => {
            let parameters = flow::parameters(state, input, env)?;
            let effective = flow::effective_input(state, input, env)?;
            let timeout_seconds = flow::resolve_count(
                &task.timeout_seconds,
                "TimeoutSecondsPath",
                state,
                input,
                &effective,
                env,
            )?;
            let heartbeat_seconds = flow::resolve_count(
                &task.heartbeat_seconds,
                "HeartbeatSecondsPath",
                state,
                input,
                &effective,
                env,
            )?;
            let credentials = match &task.credentials {
                Some(template) => Some(flow::evaluate(template, state, input, &effective, env)?),
                None => None,
            };
            flow::check_size(&parameters, state, "the task input")?;
            Ok(Step::RunTask(TaskRequest {
                resource: task.resource.arn.clone(),
                parameters,
                timeout_seconds,
                heartbeat_seconds,
                credentials,
            }))
        }
        StateKind::Choice(choice) => choice::enter(state, choice, input, env),
        StateKind::Wait(wait) => {
            let effective = flow::effective_input(state, input, env)?;
            let until = wait_until(&wait.wait_for, state, input, &effective, env)?;
            let then = flow::finish_passing(state, input, &effective, env);
            Ok(Step::Wait {
                until,
                then: Box::new(then),
            })
        }
        StateKind::Succeed(_) => {
            let effective = flow::effective_input(state, input, env)?;
            let output = flow::output(state, input, &effective, None, env)?;
            Ok(Step::End { output, assigned: None })
        }
        StateKind::Fail(fail) => {
            let error = flow::resolve_text(&fail.error, "ErrorPath", state, input, env)?;
            let cause = flow::resolve_text(&fail.cause, "CausePath", state, input, env)?;
            Ok(Step::Fail(Failure {
                error: error.unwrap_or_default(),
                cause,
            }))
        }
        StateKind::Parallel(parallel) => {
            let branch_input = flow::parameters(state, input, env)?;
            Ok(Step::RunBranches {
                input: branch_input,
                count: parallel.branches.len(),
            })
        }
        StateKind::Map(map) => map::enter(state, map, input, env),
    }
}

/// The state's work (a task, the branches of a Parallel, or the iterations of a Map) succeeded
/// with `result`. A result over 256 KiB is `States.DataLimitExceeded`, which goes through the
/// state's catchers like any failure (only a catcher naming it matches).
pub fn complete(state: &State, input: &Value, result: Value, env: &mut Env<'_>) -> Step {
    if let Err(failure) = flow::check_size(&result, state, "the result") {
        return failed(state, input, failure, env);
    }
    flow::finish(state, input, result, env)
}

/// The state's work failed: retry, catch, or fail the graph.
pub fn failed(state: &State, input: &Value, failure: Failure, env: &mut Env<'_>) -> Step {
    recovery::recover(state, input, failure, env)
}

/// A Map's iterations ended: each one's output or failure, in item order.
pub fn items_finished(state: &State, input: &Value, outcomes: Vec<ItemOutcome>, env: &mut Env<'_>) -> Step {
    match map::finish(state, input, outcomes, env) {
        Ok(result) => complete(state, input, result, env),
        Err(failure) => failed(state, input, failure, env),
    }
}

/// When a Wait state's wait ends.
fn wait_until(
    wait_for: &WaitFor,
    state: &State,
    input: &Value,
    effective: &Value,
    env: &mut Env<'_>,
) -> Result<DateTime<Utc>, Failure> {
    let entered = env.context.entered_time;
    match wait_for {
        WaitFor::Seconds(seconds) => {
            let seconds =
                flow::resolve_count(&Some(seconds.clone()), "SecondsPath", state, input, effective, env)?.unwrap_or(0);
            let seconds = i64::try_from(seconds).map_err(|_| Failure::runtime("the wait is too long"))?;
            Ok(entered + chrono::Duration::seconds(seconds))
        }
        WaitFor::Timestamp(Dynamic::Fixed(instant)) => Ok(instant.with_timezone(&Utc)),
        WaitFor::Timestamp(Dynamic::Path(path)) => {
            let scope = Scope::new(effective, env.context, env.variables);
            let value = scope.select(path).ok_or_else(|| {
                Failure::runtime(format!(
                    "{}The TimestampPath parameter does not reference a valid input: '{path}'",
                    env.context.cause_prefix()
                ))
            })?;
            parse_timestamp_value(&value, env.context)
        }
        WaitFor::Timestamp(Dynamic::Expression(template)) => {
            let value = flow::evaluate(template, state, input, effective, env)?;
            parse_timestamp_value(&value, env.context)
        }
    }
}

fn parse_timestamp_value(value: &Value, context: &Context) -> Result<DateTime<Utc>, Failure> {
    value
        .as_str()
        .and_then(crate::timestamp::parse)
        .map(|instant| instant.with_timezone(&Utc))
        .ok_or_else(|| {
            Failure::runtime(format!(
                "{}The value {value} is not a valid timestamp",
                context.cause_prefix()
            ))
        })
}

/// Where a state goes once it has its output: the `Next` or `End` step.
fn transition(state: &State, output: Value, assigned: Option<JsonMap<String, Value>>) -> Step {
    match &state.transition {
        Transition::Next(next) => Step::Next {
            state: next.clone(),
            output,
            assigned,
        },
        Transition::End | Transition::Choice => Step::End { output, assigned },
    }
}

/// `States.DataLimitExceeded` with AWS's cause.
fn data_limit(state: &State, what: &str) -> Failure {
    Failure::new(
        names::DATA_LIMIT_EXCEEDED,
        format!(
            "The state '{}' produced {what} with a size exceeding the maximum number of bytes service limit.",
            state.name
        ),
    )
}
