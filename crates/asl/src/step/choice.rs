//! Choice states: rules tried in order, the first match wins,
//! <https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html>.
//!
//! A comparison on a value of the wrong type is false, not an error; a `Variable` path that finds
//! nothing is a `States.Runtime` failure, except under `IsPresent`.

use std::cmp::Ordering;

use serde_json::Value;

use super::{Env, Step, flow};
use crate::Failure;
use crate::definition::{Choice, Comparison, Condition, Operand, QueryLanguage, State};
use crate::failure::names;
use crate::scope::Scope;

pub(super) fn enter(state: &State, choice: &Choice, input: &Value, env: &mut Env<'_>) -> Result<Step, Failure> {
    let effective = flow::effective_input(state, input, env)?;
    let mut chosen = None;
    for rule in &choice.choices {
        if holds(&rule.condition, state, input, &effective, env)? {
            chosen = Some(rule);
            break;
        }
    }
    let (next, rule_assign, rule_output) = match chosen {
        Some(rule) => (rule.next.as_str(), rule.assign.as_ref(), rule.output.as_ref()),
        None => match &choice.default {
            Some(default) => (default.as_str(), None, None),
            None => {
                return Err(Failure {
                    error: names::NO_CHOICE_MATCHED.to_owned(),
                    cause: Some(no_match_cause(state, input)),
                });
            }
        },
    };
    let mut assigned = flow::assign(state.assign.as_ref(), state, input, input, None, env)?;
    if let Some(rule_assigned) = flow::assign(rule_assign, state, input, input, None, env)? {
        assigned.get_or_insert_with(Default::default).extend(rule_assigned);
    }
    let output = match (rule_output, state.query_language) {
        (Some(template), QueryLanguage::Jsonata) => flow::evaluate(template, state, input, input, env)?,
        _ => flow::output(state, input, &effective, None, env)?,
    };
    Ok(Step::Next {
        state: next.to_owned(),
        output,
        assigned,
    })
}

fn no_match_cause(state: &State, input: &Value) -> String {
    format!(
        "No Choice rule of the state '{}' matched the input '{input}' and there is no Default",
        state.name
    )
}

/// Whether a condition holds for the effective input.
fn holds(
    condition: &Condition,
    state: &State,
    input: &Value,
    effective: &Value,
    env: &mut Env<'_>,
) -> Result<bool, Failure> {
    match condition {
        Condition::And(conditions) => {
            for inner in conditions {
                if !holds(inner, state, input, effective, env)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Condition::Or(conditions) => {
            for inner in conditions {
                if holds(inner, state, input, effective, env)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Condition::Not(inner) => Ok(!holds(inner, state, input, effective, env)?),
        Condition::Expression(template) => match flow::evaluate(template, state, input, input, env)? {
            Value::Bool(flag) => Ok(flag),
            other => Err(Failure::new(
                names::QUERY_EVALUATION_ERROR,
                format!(
                    "The Condition of a Choice rule of the state '{}' must evaluate to a boolean, not {other}",
                    state.name
                ),
            )),
        },
        Condition::Test { variable, comparison } => {
            let scope = Scope::new(effective, env.context, env.variables);
            let value = scope.select(variable);
            match (comparison, value) {
                (Comparison::IsPresent(expected), value) => Ok(value.is_some() == *expected),
                (_, None) => Err(Failure::runtime(format!(
                    "{}Invalid path '{variable}': The choice state's condition path references an invalid value.",
                    env.context.cause_prefix()
                ))),
                (comparison, Some(value)) => {
                    let operand = |operand: &Operand| -> Result<Value, Failure> {
                        match operand {
                            Operand::Value(literal) => Ok(literal.clone()),
                            Operand::Path(path) => scope.select(path).ok_or_else(|| {
                                Failure::runtime(format!(
                                    "{}Invalid path '{path}': The choice state's condition path references an invalid value.",
                                    env.context.cause_prefix()
                                ))
                            }),
                        }
                    };
                    compare(comparison, &value, operand)
                }
            }
        }
    }
}

fn compare(
    comparison: &Comparison,
    value: &Value,
    operand: impl Fn(&Operand) -> Result<Value, Failure>,
) -> Result<bool, Failure> {
    use Comparison as C;
    Ok(match comparison {
        C::StringEquals(right) => strings(value, &operand(right)?, Ordering::is_eq),
        C::StringLessThan(right) => strings(value, &operand(right)?, Ordering::is_lt),
        C::StringGreaterThan(right) => strings(value, &operand(right)?, Ordering::is_gt),
        C::StringLessThanEquals(right) => strings(value, &operand(right)?, Ordering::is_le),
        C::StringGreaterThanEquals(right) => strings(value, &operand(right)?, Ordering::is_ge),
        C::StringMatches(pattern) => value.as_str().is_some_and(|text| string_matches(text, pattern)),
        C::NumericEquals(right) => numbers(value, &operand(right)?, Ordering::is_eq),
        C::NumericLessThan(right) => numbers(value, &operand(right)?, Ordering::is_lt),
        C::NumericGreaterThan(right) => numbers(value, &operand(right)?, Ordering::is_gt),
        C::NumericLessThanEquals(right) => numbers(value, &operand(right)?, Ordering::is_le),
        C::NumericGreaterThanEquals(right) => numbers(value, &operand(right)?, Ordering::is_ge),
        C::BooleanEquals(right) => match (value, operand(right)?) {
            (Value::Bool(left), Value::Bool(right)) => *left == right,
            _ => false,
        },
        C::TimestampEquals(right) => timestamps(value, &operand(right)?, Ordering::is_eq),
        C::TimestampLessThan(right) => timestamps(value, &operand(right)?, Ordering::is_lt),
        C::TimestampGreaterThan(right) => timestamps(value, &operand(right)?, Ordering::is_gt),
        C::TimestampLessThanEquals(right) => timestamps(value, &operand(right)?, Ordering::is_le),
        C::TimestampGreaterThanEquals(right) => timestamps(value, &operand(right)?, Ordering::is_ge),
        C::IsNull(expected) => value.is_null() == *expected,
        C::IsPresent(expected) => *expected,
        C::IsNumeric(expected) => value.is_number() == *expected,
        C::IsString(expected) => value.is_string() == *expected,
        C::IsBoolean(expected) => value.is_boolean() == *expected,
        C::IsTimestamp(expected) => value.as_str().and_then(crate::timestamp::parse).is_some() == *expected,
    })
}

fn strings(left: &Value, right: &Value, accept: fn(Ordering) -> bool) -> bool {
    match (left, right) {
        (Value::String(left), Value::String(right)) => accept(left.as_str().cmp(right.as_str())),
        _ => false,
    }
}

fn numbers(left: &Value, right: &Value, accept: fn(Ordering) -> bool) -> bool {
    let ordering = match (left, right) {
        (Value::Number(left), Value::Number(right)) => match (left.as_i64(), right.as_i64()) {
            (Some(left), Some(right)) => Some(left.cmp(&right)),
            _ => left
                .as_f64()
                .zip(right.as_f64())
                .and_then(|(left, right)| left.partial_cmp(&right)),
        },
        _ => None,
    };
    ordering.is_some_and(accept)
}

fn timestamps(left: &Value, right: &Value, accept: fn(Ordering) -> bool) -> bool {
    let parse = |value: &Value| value.as_str().and_then(crate::timestamp::parse);
    match (parse(left), parse(right)) {
        (Some(left), Some(right)) => accept(left.cmp(&right)),
        _ => false,
    }
}

/// `StringMatches`: `*` matches any run of characters (including none); `\*` is a literal star
/// and `\\` a literal backslash.
pub fn string_matches(text: &str, pattern: &str) -> bool {
    // The pattern as literal pieces separated by wildcards.
    let mut pieces: Vec<String> = vec![String::new()];
    let mut characters = pattern.chars();
    while let Some(character) = characters.next() {
        match character {
            '\\' => match characters.next() {
                Some(escaped) => pieces.last_mut().map(|piece| piece.push(escaped)).unwrap_or_default(),
                None => pieces.last_mut().map(|piece| piece.push('\\')).unwrap_or_default(),
            },
            '*' => pieces.push(String::new()),
            other => pieces.last_mut().map(|piece| piece.push(other)).unwrap_or_default(),
        }
    }
    let (first, rest) = pieces
        .split_first()
        .map(|(first, rest)| (first.as_str(), rest))
        .unwrap_or(("", &[]));
    if rest.is_empty() {
        return text == first;
    }
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let (last, middle) = rest
        .split_last()
        .map(|(last, middle)| (last.as_str(), middle))
        .unwrap_or(("", &[]));
    for piece in middle {
        match remaining.find(piece.as_str()) {
            Some(position) => remaining = &remaining[position + piece.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::string_matches;

    fn check(text: &str, pattern: &str, expected: bool) {
        assert_eq!(string_matches(text, pattern), expected, "{text:?} against {pattern:?}");
    }

    #[test]
    fn string_matches_follows_the_aws_examples() {
        // From the Choice state documentation: "log-*.txt" matches "log-2024-01.txt".
        check("log-2024-01.txt", "log-*.txt", true);
        check("log.txt", "log-*.txt", false);
        check("foo23no", "foo*", true);
        check("zebra", "*", true);
        check("", "*", true);
        check("abc", "a*b*c", true);
        check("acb", "a*b*c", false);
        check("a*c", "a\\*c", true);
        check("abc", "a\\*c", false);
        check("aaa", "a*a", true);
        check("a", "a*a", false);
    }
}
