//! Map states in inline mode: the items, each iteration's input, and the iterations' outcome,
//! <https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html>.

use serde_json::{Map as JsonMap, Value, json};

use super::{Env, ItemsRequest, Step, flow};
use crate::Failure;
use crate::definition::{Dynamic, Map, QueryLanguage, State, StateKind};
use crate::failure::names;
use crate::scope::{Context, Scope};

/// How one iteration ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemOutcome {
    /// The iteration's output.
    Succeeded(Value),
    /// The iteration's failure.
    Failed(Failure),
}

pub(super) fn enter(state: &State, map: &Map, input: &Value, env: &mut Env<'_>) -> Result<Step, Failure> {
    let effective = flow::effective_input(state, input, env)?;
    let items = items(state, map, input, &effective, env)?;
    let mut inputs = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let iteration_input = match &map.item_selector {
            Some(template) => {
                let context = Context {
                    map_item: Some((index, item)),
                    ..env.context.clone()
                };
                let mut scope = Scope::new(&effective, &context, env.variables);
                scope.raw_input = Some(input);
                template.evaluate(&scope, env.entropy)?
            }
            None => item,
        };
        inputs.push(iteration_input);
    }
    if let Some(batcher) = &map.item_batcher {
        let max_items = flow::resolve_count(
            &batcher.max_items_per_batch,
            "MaxItemsPerBatchPath",
            state,
            input,
            &effective,
            env,
        )?;
        let max_bytes = flow::resolve_count(
            &batcher.max_input_bytes_per_batch,
            "MaxInputBytesPerBatchPath",
            state,
            input,
            &effective,
            env,
        )?;
        let batch_input = match &batcher.batch_input {
            Some(template) => Some(flow::evaluate(template, state, input, &effective, env)?),
            None => None,
        };
        inputs = batches(inputs, max_items, max_bytes, batch_input);
    }
    let max_concurrency = flow::resolve_count(
        &map.max_concurrency,
        "MaxConcurrencyPath",
        state,
        input,
        &effective,
        env,
    )?
    .unwrap_or(0);
    Ok(Step::RunItems(ItemsRequest {
        inputs,
        max_concurrency,
    }))
}

/// The array a Map iterates over: `ItemsPath` in the effective input, or JSONata `Items`.
fn items(state: &State, map: &Map, input: &Value, effective: &Value, env: &mut Env<'_>) -> Result<Vec<Value>, Failure> {
    let value = match state.query_language {
        QueryLanguage::JsonPath => match &map.items_path {
            Some(path) => path.get(effective).cloned().ok_or_else(|| {
                Failure::runtime(format!(
                    "{}Invalid path '{path}' : No results for path: {} (in the field 'ItemsPath')",
                    env.context.cause_prefix(),
                    path.normalized()
                ))
            })?,
            None => effective.clone(),
        },
        QueryLanguage::Jsonata => match &map.items {
            Some(template) => flow::evaluate(template, state, input, input, env)?,
            None => input.clone(),
        },
    };
    match value {
        Value::Array(items) => Ok(items),
        other => {
            let error = match state.query_language {
                QueryLanguage::JsonPath => names::RUNTIME,
                QueryLanguage::Jsonata => names::QUERY_EVALUATION_ERROR,
            };
            Err(Failure::new(
                error,
                format!(
                    "{}Map state input must be an array but was: {other}",
                    env.context.cause_prefix()
                ),
            ))
        }
    }
}

/// Groups iteration inputs into `{"Items": [...], "BatchInput": ...}` batches, by count and by
/// size.
fn batches(
    inputs: Vec<Value>,
    max_items: Option<u64>,
    max_bytes: Option<u64>,
    batch_input: Option<Value>,
) -> Vec<Value> {
    let max_items = max_items
        .filter(|&count| count > 0)
        .map_or(usize::MAX, |count| count as usize);
    let max_bytes = max_bytes
        .filter(|&bytes| bytes > 0)
        .map_or(usize::MAX, |bytes| bytes as usize);
    let mut batches = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    let mut current_bytes = 0usize;
    let close = |current: &mut Vec<Value>, batches: &mut Vec<Value>| {
        if current.is_empty() {
            return;
        }
        let mut batch = JsonMap::new();
        if let Some(batch_input) = &batch_input {
            batch.insert("BatchInput".into(), batch_input.clone());
        }
        batch.insert("Items".into(), Value::Array(std::mem::take(current)));
        batches.push(Value::Object(batch));
    };
    for item in inputs {
        let bytes = item.to_string().len();
        if !current.is_empty() && (current.len() >= max_items || current_bytes + bytes > max_bytes) {
            close(&mut current, &mut batches);
            current_bytes = 0;
        }
        current_bytes += bytes;
        current.push(item);
    }
    close(&mut current, &mut batches);
    batches
}

/// The Map's result from its iterations: their outputs in order, unless failures exceed what
/// the state tolerates.
pub(super) fn finish(
    state: &State,
    input: &Value,
    outcomes: Vec<ItemOutcome>,
    env: &mut Env<'_>,
) -> Result<Value, Failure> {
    let StateKind::Map(map) = &state.kind else {
        return Err(Failure::runtime(format!(
            "the state '{}' is not a Map state",
            state.name
        )));
    };
    let total = outcomes.len();
    let failed = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, ItemOutcome::Failed(_)))
        .count();
    if failed == 0 {
        return Ok(Value::Array(
            outcomes
                .into_iter()
                .filter_map(|outcome| match outcome {
                    ItemOutcome::Succeeded(output) => Some(output),
                    ItemOutcome::Failed(_) => None,
                })
                .collect(),
        ));
    }
    let effective = flow::effective_input(state, input, env)?;
    let count = flow::resolve_count(
        &map.tolerance.count,
        "ToleratedFailureCountPath",
        state,
        input,
        &effective,
        env,
    )?;
    let percentage = match &map.tolerance.percentage {
        None => None,
        Some(Dynamic::Fixed(percentage)) => Some(*percentage),
        Some(Dynamic::Path(path)) => {
            let scope = Scope::new(&effective, env.context, env.variables);
            let value = scope
                .select(path)
                .and_then(|value| value.as_f64())
                .filter(|value| (0.0..=100.0).contains(value));
            Some(value.ok_or_else(|| {
                Failure::runtime(format!(
                    "{}The ToleratedFailurePercentagePath value must be a number from 0 to 100",
                    env.context.cause_prefix()
                ))
            })?)
        }
        Some(Dynamic::Expression(template)) => {
            let value = flow::evaluate(template, state, input, input, env)?;
            Some(
                value
                    .as_f64()
                    .ok_or_else(|| Failure::runtime("ToleratedFailurePercentage must be a number"))?,
            )
        }
    };
    if count.is_none() && percentage.is_none() {
        let first = outcomes.into_iter().find_map(|outcome| match outcome {
            ItemOutcome::Failed(failure) => Some(failure),
            ItemOutcome::Succeeded(_) => None,
        });
        return Err(first.unwrap_or_else(|| Failure::runtime("a Map iteration failed")));
    }
    let over_count = count.is_some_and(|count| failed as u64 > count);
    let over_percentage = percentage.is_some_and(|percentage| failed as f64 * 100.0 / total as f64 > percentage);
    if over_count || over_percentage {
        return Err(Failure::new(
            names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
            format!("The specified tolerated failure threshold was exceeded: {failed} of {total} iterations failed"),
        ));
    }
    Ok(Value::Array(
        outcomes
            .into_iter()
            .map(|outcome| match outcome {
                ItemOutcome::Succeeded(output) => output,
                ItemOutcome::Failed(failure) => json!(failure.to_error_output()),
            })
            .collect(),
    ))
}
