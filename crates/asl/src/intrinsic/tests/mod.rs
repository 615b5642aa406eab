//! Tests of the intrinsic functions through one `check` helper: parse, evaluate against an input,
//! compare with the expected value, failure or parse error.

mod array;
mod encoding;
mod json_math;
mod parse;
mod string;

use serde_json::{Map, Value, json};
use sluice_jsonpath::{Path, Root};

use super::{Call, Resolve};
use crate::entropy::SeededEntropy;
use crate::failure::{Failure, names};

/// What a call should come to.
#[derive(Debug)]
pub(super) enum Expect {
    /// This value.
    Json(Value),
    /// A `States.IntrinsicFailure` whose cause contains this text.
    Fails(&'static str),
    /// A parse error whose display contains this text.
    Rejected(&'static str),
}

pub(super) fn ok(value: Value) -> Expect {
    Expect::Json(value)
}

pub(super) fn fails(cause: &'static str) -> Expect {
    Expect::Fails(cause)
}

pub(super) fn rejected(message: &'static str) -> Expect {
    Expect::Rejected(message)
}

/// Resolves `$` against the input, `$$` against a small context object and `$name` against the
/// variables `count` (3) and `name` ("Ada").
pub(super) struct Scope {
    input: Value,
    context: Value,
    variables: Map<String, Value>,
}

impl Scope {
    pub(super) fn new(input: Value) -> Scope {
        let variables = json!({"count": 3, "name": "Ada"});
        Scope {
            input,
            context: json!({"Execution": {"Id": "arn:aws:states:exec:1", "Input": {"k": "v"}}}),
            variables: variables.as_object().cloned().unwrap_or_default(),
        }
    }
}

impl Resolve for Scope {
    fn resolve(&mut self, path: &Path) -> Result<Value, Failure> {
        let document = match path.root() {
            Root::Input => &self.input,
            Root::Context => &self.context,
            Root::Variable(name) => self
                .variables
                .get(name)
                .ok_or_else(|| Failure::runtime(format!("no variable {name}")))?,
        };
        path.select(document)
            .map_err(|error| Failure::runtime(error.to_string()))
    }
}

/// Runs `expression` on `input` with a seeded entropy and checks the outcome.
#[track_caller]
pub(super) fn check(expression: &str, input: Value, expected: Expect) {
    let outcome = Call::parse(expression).map(|call| {
        assert_eq!(call.as_str(), expression);
        call.evaluate(&mut Scope::new(input), &mut SeededEntropy::new(7))
    });
    match (expected, outcome) {
        (Expect::Json(want), Ok(Ok(got))) => assert_eq!(got, want, "{expression}"),
        (Expect::Fails(cause), Ok(Err(failure))) => {
            assert_eq!(failure.error, names::INTRINSIC_FAILURE, "{expression}: {failure:?}");
            let got = failure.cause.unwrap_or_default();
            assert!(got.contains(cause), "{expression}: cause {got:?} lacks {cause:?}");
        }
        (Expect::Rejected(message), Err(error)) => {
            let got = error.to_string();
            assert!(got.contains(message), "{expression}: error {got:?} lacks {message:?}");
        }
        (expected, outcome) => panic!("{expression}: expected {expected:?}, got {outcome:?}"),
    }
}

/// The offset a parse error reports.
#[track_caller]
pub(super) fn offset_of(expression: &str) -> usize {
    match Call::parse(expression) {
        Ok(call) => panic!("{expression} parsed: {call:?}"),
        Err(error) => error.offset,
    }
}

#[test]
fn looks_like_call_tells_calls_from_paths() {
    use super::looks_like_call;
    assert!(looks_like_call("States.Format('{}', $.a)"));
    assert!(looks_like_call("  States.UUID()"));
    assert!(looks_like_call("States.Nope ()"));
    assert!(!looks_like_call("$.States.Format"));
    assert!(!looks_like_call("States.(1)"));
    assert!(!looks_like_call("States.Format"));
    assert!(!looks_like_call("$$.Execution.Id"));
    assert!(!looks_like_call("States"));
}

#[test]
fn path_failure_passes_through_unchanged() {
    let call = Call::parse("States.Array($.missing)").unwrap();
    let failure = call
        .evaluate(&mut Scope::new(json!({})), &mut SeededEntropy::new(1))
        .unwrap_err();
    assert_eq!(failure.error, names::RUNTIME);
}

#[test]
fn display_is_the_text() {
    let call = Call::parse(" States.UUID() ").unwrap();
    assert_eq!(call.to_string(), " States.UUID() ");
}
