//! `Retry` and `Catch`: what a failed Task, Parallel or Map does,
//! <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html>.
//!
//! The first retrier whose `ErrorEquals` matches decides: it retries while its count is below
//! `MaxAttempts`, and once it is spent the catchers apply. The first matching catcher sends the
//! error output to its `Next`; with none, the graph fails.

use serde_json::Value;

use super::{Env, Step, flow};
use crate::Failure;
use crate::definition::{Catcher, Jitter, QueryLanguage, Retrier, State, StateKind};
use crate::scope::Scope;

pub(super) fn recover(state: &State, input: &Value, failure: Failure, env: &mut Env<'_>) -> Step {
    let (retriers, catchers): (&[Retrier], &[Catcher]) = match &state.kind {
        StateKind::Task(task) => (&task.retry, &task.catch),
        StateKind::Parallel(parallel) => (&parallel.retry, &parallel.catch),
        StateKind::Map(map) => (&map.retry, &map.catch),
        _ => (&[], &[]),
    };
    let matching = |names: &[String]| names.iter().any(|name| failure.is_matched_by(name));
    if let Some((index, retrier)) = retriers
        .iter()
        .enumerate()
        .find(|(_, retrier)| matching(&retrier.error_equals))
    {
        let done = env.retries.get(index).copied().unwrap_or(0);
        if done < retrier.max_attempts {
            let mut delay_millis = retrier.delay_millis(done + 1);
            if retrier.jitter == Jitter::Full {
                delay_millis = env.entropy.random_u64() % (delay_millis + 1);
            }
            return Step::Retry {
                delay_millis,
                retrier: index,
                failure,
            };
        }
    }
    match catchers.iter().find(|catcher| matching(&catcher.error_equals)) {
        Some(catcher) => catch(state, catcher, input, failure, env).unwrap_or_else(Step::Fail),
        None => Step::Fail(failure),
    }
}

/// The catcher's step: its `Assign`, the error output placed by `ResultPath` (or its JSONata
/// `Output`), and its `Next`.
fn catch(
    state: &State,
    catcher: &Catcher,
    input: &Value,
    failure: Failure,
    env: &mut Env<'_>,
) -> Result<Step, Failure> {
    let error_output = failure.to_error_output();
    let (assigned, output) = match state.query_language {
        QueryLanguage::JsonPath => {
            let assigned = match &catcher.assign {
                Some(template) => {
                    let scope = Scope::new(&error_output, env.context, env.variables);
                    flow::assign_in(template, state, &scope, env)?
                }
                None => None,
            };
            (assigned, flow::place_result(&catcher.result_path, input, error_output)?)
        }
        QueryLanguage::Jsonata => {
            let mut scope = Scope::new(input, env.context, env.variables);
            scope.error_output = Some(&error_output);
            let assigned = match &catcher.assign {
                Some(template) => flow::assign_in(template, state, &scope, env)?,
                None => None,
            };
            let output = match &catcher.output {
                Some(template) => template.evaluate(&scope, env.entropy)?,
                None => error_output.clone(),
            };
            (assigned, output)
        }
    };
    flow::check_size(&output, state, "an output")?;
    Ok(Step::Next {
        state: catcher.next.clone(),
        output,
        assigned,
    })
}
