//! Input and output processing, in AWS's order,
//! <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-input-output-filtering.html>:
//! `InputPath` → `Parameters` → work → `ResultSelector` → `ResultPath` → `OutputPath` in JSONPath
//! states, and `Arguments` → work → `Output` in JSONata states. `Assign` sees the variables as
//! they were before the state.

use std::borrow::Cow;

use serde_json::{Map as JsonMap, Value};

use super::{Env, Step, data_limit, recovery, transition};
use crate::Failure;
use crate::definition::{Dynamic, QueryLanguage, ResultPath, Selection, State, StateKind};
use crate::failure::names;
use crate::payload::Template;
use crate::scope::Scope;

/// The largest payload AWS accepts: 256 KiB of UTF-8.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// `InputPath` applied to the raw input (JSONata states take the raw input as it is). Borrowed
/// when it is the input or a part of it, so that a state that only reads it copies nothing.
pub(super) fn effective_input<'v>(state: &State, input: &'v Value, env: &Env<'_>) -> Result<Cow<'v, Value>, Failure> {
    if state.query_language == QueryLanguage::Jsonata {
        return Ok(Cow::Borrowed(input));
    }
    select(&state.io.input_path, input, env, "InputPath")
}

/// `InputPath` then `Parameters` (JSONPath), or `Arguments` (JSONata): the input of the work.
pub(super) fn parameters(state: &State, input: &Value, env: &mut Env<'_>) -> Result<Value, Failure> {
    match state.query_language {
        QueryLanguage::JsonPath => {
            let effective = effective_input(state, input, env)?;
            match &state.io.parameters {
                Some(template) => evaluate(template, state, input, &effective, env),
                None => Ok(effective.into_owned()),
            }
        }
        QueryLanguage::Jsonata => match &state.io.arguments {
            Some(template) => evaluate(template, state, input, input, env),
            None => Ok(input.clone()),
        },
    }
}

/// Evaluates a template with `$` as `dollar` and `$states.input` as the raw input.
pub(super) fn evaluate(
    template: &Template,
    _state: &State,
    input: &Value,
    dollar: &Value,
    env: &mut Env<'_>,
) -> Result<Value, Failure> {
    let mut scope = Scope::new(dollar, env.context, env.variables);
    scope.raw_input = Some(input);
    template.evaluate(&scope, env.entropy)
}

/// The state's work produced `result`: select, assign, place and filter it, then transition.
/// A failure on the way goes through the state's retriers and catchers.
pub(super) fn finish(state: &State, input: &Value, result: Value, env: &mut Env<'_>) -> Step {
    match finish_inner(state, input, result, env) {
        Ok(step) => step,
        Err(failure) => recovery::recover(state, input, failure, env),
    }
}

fn finish_inner(state: &State, input: &Value, result: Value, env: &mut Env<'_>) -> Result<Step, Failure> {
    match state.query_language {
        QueryLanguage::JsonPath => {
            let selected = match &state.io.result_selector {
                Some(template) => evaluate(template, state, input, &result, env)?,
                None => result,
            };
            let assign_dollar = match state.kind {
                StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_) => &selected,
                _ => input,
            };
            let assigned = assign(state.assign.as_ref(), state, input, assign_dollar, None, env)?;
            let combined = place_result(&state.io.result_path, input, selected)?;
            let output = select_owned(&state.io.output_path, combined, env, "OutputPath")?;
            check_size(&output, state, "an output")?;
            Ok(transition(state, output, assigned))
        }
        QueryLanguage::Jsonata => {
            let is_pass = matches!(state.kind, StateKind::Pass(_));
            let result_binding = if is_pass { None } else { Some(&result) };
            let assigned = assign(state.assign.as_ref(), state, input, input, result_binding, env)?;
            let output = match &state.io.output {
                Some(template) => jsonata_output(template, input, result_binding, env)?,
                None if is_pass => input.clone(),
                None => result,
            };
            check_size(&output, state, "an output")?;
            Ok(transition(state, output, assigned))
        }
    }
}

/// A Wait or Choice state passes its (effective) input on, after `Assign` and `OutputPath`.
pub(super) fn finish_passing(state: &State, input: &Value, effective: &Value, env: &mut Env<'_>) -> Step {
    let step = (|| {
        let assigned = assign(state.assign.as_ref(), state, input, input, None, env)?;
        let output = output(state, input, effective, None, env)?;
        Ok(transition(state, output, assigned))
    })();
    step.unwrap_or_else(Step::Fail)
}

/// The output of a state that does no work: `OutputPath` of the effective input, or JSONata's
/// `Output` (the raw input when absent).
pub(super) fn output(
    state: &State,
    input: &Value,
    effective: &Value,
    result: Option<&Value>,
    env: &mut Env<'_>,
) -> Result<Value, Failure> {
    let output = match state.query_language {
        QueryLanguage::JsonPath => select(&state.io.output_path, effective, env, "OutputPath")?.into_owned(),
        QueryLanguage::Jsonata => match &state.io.output {
            Some(template) => jsonata_output(template, input, result, env)?,
            None => input.clone(),
        },
    };
    check_size(&output, state, "an output")?;
    Ok(output)
}

fn jsonata_output(
    template: &Template,
    input: &Value,
    result: Option<&Value>,
    env: &mut Env<'_>,
) -> Result<Value, Failure> {
    let mut scope = Scope::new(input, env.context, env.variables);
    scope.result = result;
    template.evaluate(&scope, env.entropy)
}

/// Evaluates an `Assign` field into the variables it sets.
pub(super) fn assign(
    template: Option<&Template>,
    state: &State,
    input: &Value,
    dollar: &Value,
    result: Option<&Value>,
    env: &mut Env<'_>,
) -> Result<Option<JsonMap<String, Value>>, Failure> {
    let Some(template) = template else { return Ok(None) };
    let mut scope = Scope::new(dollar, env.context, env.variables);
    scope.raw_input = Some(input);
    scope.result = result;
    assign_in(template, state, &scope, env)
}

/// Evaluates an `Assign` field in a prepared scope (a catcher's, where `$` is the error output).
pub(super) fn assign_in(
    template: &Template,
    state: &State,
    scope: &Scope<'_>,
    env: &mut Env<'_>,
) -> Result<Option<JsonMap<String, Value>>, Failure> {
    match template.evaluate(scope, env.entropy)? {
        Value::Object(values) => {
            if exceeds(&Value::Object(values.clone()), MAX_PAYLOAD_BYTES) {
                return Err(data_limit(state, "an Assign field"));
            }
            Ok(Some(values))
        }
        other => Err(Failure::new(
            names::QUERY_EVALUATION_ERROR,
            format!("The Assign field must evaluate to an object, not {other}"),
        )),
    }
}

/// `InputPath` or `OutputPath`, borrowing what it selects when it can.
fn select<'v>(selection: &Selection, value: &'v Value, env: &Env<'_>, field: &str) -> Result<Cow<'v, Value>, Failure> {
    match selection {
        Selection::Whole => Ok(Cow::Borrowed(value)),
        Selection::Discard => Ok(Cow::Owned(Value::Object(JsonMap::new()))),
        Selection::Path(path) => path.select_cow(value).map_err(|error| {
            Failure::runtime(format!(
                "{}Invalid path '{path}' : {error} (in the field '{field}')",
                env.context.cause_prefix()
            ))
        }),
    }
}

/// `OutputPath` of a value the state owns: the whole value is passed on without a copy.
fn select_owned(selection: &Selection, value: Value, env: &Env<'_>, field: &str) -> Result<Value, Failure> {
    match selection {
        Selection::Whole => Ok(value),
        _ => select(selection, &value, env, field).map(Cow::into_owned),
    }
}

/// `ResultPath`: the result placed into the raw input.
pub(super) fn place_result(result_path: &ResultPath, input: &Value, result: Value) -> Result<Value, Failure> {
    match result_path {
        ResultPath::Replace => Ok(result),
        ResultPath::Discard => Ok(input.clone()),
        ResultPath::Path(path) => path.set(input.clone(), result).map_err(|error| {
            Failure::new(
                names::RESULT_PATH_MATCH_FAILURE,
                format!("Unable to apply ResultPath \"{path}\" to input \"{input}\": {error}"),
            )
        }),
    }
}

/// A count (`TimeoutSeconds`, `MaxConcurrency`, …) from its literal, its `…Path` in the effective
/// input, or its JSONata expression.
pub(super) fn resolve_count(
    field: &Option<Dynamic<u64>>,
    path_field: &str,
    state: &State,
    input: &Value,
    effective: &Value,
    env: &mut Env<'_>,
) -> Result<Option<u64>, Failure> {
    let value = match field {
        None => return Ok(None),
        Some(Dynamic::Fixed(count)) => return Ok(Some(*count)),
        Some(Dynamic::Path(path)) => {
            let scope = Scope::new(effective, env.context, env.variables);
            scope.select(path).ok_or_else(|| {
                Failure::runtime(format!(
                    "{}The {path_field} parameter does not reference a valid input: '{path}'",
                    env.context.cause_prefix()
                ))
            })?
        }
        Some(Dynamic::Expression(template)) => evaluate(template, state, input, effective, env)?,
    };
    match value.as_u64() {
        Some(count) => Ok(Some(count)),
        None => Err(Failure::runtime(format!(
            "{}The {path_field} value {value} must be a non-negative integer",
            env.context.cause_prefix()
        ))),
    }
}

/// A Fail state's `Error` or `Cause`, from its literal, its `…Path` (a path or an intrinsic
/// function on the raw input), or its JSONata expression.
pub(super) fn resolve_text(
    field: &Option<Dynamic<String>>,
    path_field: &str,
    state: &State,
    input: &Value,
    env: &mut Env<'_>,
) -> Result<Option<String>, Failure> {
    let value = match field {
        None => return Ok(None),
        Some(Dynamic::Fixed(text)) => return Ok(Some(text.clone())),
        Some(Dynamic::Path(path)) => {
            let scope = Scope::new(input, env.context, env.variables);
            scope.select_for_field(path, path_field)?
        }
        Some(Dynamic::Expression(template)) => evaluate(template, state, input, input, env)?,
    };
    match value {
        Value::String(text) => Ok(Some(text)),
        other => Err(Failure::runtime(format!(
            "{}The {path_field} value {other} must be a string",
            env.context.cause_prefix()
        ))),
    }
}

/// Fails with `States.DataLimitExceeded` when a payload is over 256 KiB.
pub(super) fn check_size(value: &Value, state: &State, what: &str) -> Result<(), Failure> {
    if exceeds(value, MAX_PAYLOAD_BYTES) {
        Err(data_limit(state, what))
    } else {
        Ok(())
    }
}

/// Whether the JSON text of `value` is longer than `limit` bytes. Walks the value without
/// serializing it and stops as soon as the limit is passed; strings are counted without their
/// escapes, which only matters within a few bytes of the limit.
///
/// The first walk counts every float as the longest a float can be written, so that it formats
/// no number; only a value it finds over the limit is walked again with the floats' real lengths.
pub fn exceeds(value: &Value, limit: usize) -> bool {
    fn size(value: &Value, budget: &mut isize, exact_floats: bool) {
        if *budget < 0 {
            return;
        }
        *budget -= match value {
            Value::Null => 4,
            Value::Bool(_) => 5,
            Value::Number(number) => number_length(number, exact_floats),
            Value::String(text) => text.len() as isize + 2,
            Value::Array(elements) => {
                for element in elements {
                    size(element, budget, exact_floats);
                }
                elements.len() as isize + 1
            }
            Value::Object(members) => {
                for (key, member) in members {
                    *budget -= key.len() as isize + 3;
                    size(member, budget, exact_floats);
                }
                members.len() as isize + 1
            }
        };
    }
    let over = |exact_floats| {
        let mut budget = limit as isize;
        size(value, &mut budget, exact_floats);
        budget < 0
    };
    over(false) && over(true)
}

/// The longest JSON text of a finite `f64`, such as `-2.2250738585072014e-308`.
const MAX_FLOAT_LENGTH: isize = 24;

/// The length of a number's JSON text; for a float, at most its length unless `exact`.
fn number_length(number: &serde_json::Number, exact: bool) -> isize {
    if let Some(unsigned) = number.as_u64() {
        unsigned.checked_ilog10().unwrap_or(0) as isize + 1
    } else if let Some(signed) = number.as_i64() {
        signed.unsigned_abs().checked_ilog10().unwrap_or(0) as isize + 2
    } else if exact {
        number.to_string().len() as isize
    } else {
        MAX_FLOAT_LENGTH
    }
}
