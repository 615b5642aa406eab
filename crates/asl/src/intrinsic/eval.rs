//! Running a parsed call: arguments first, left to right, then the function.

use serde_json::{Map, Value};

use super::function::Function;
use super::parse::{Arg, Node, Piece};
use super::{Resolve, array, encoding, json, math, string};
use crate::entropy::Entropy;
use crate::failure::Failure;

/// Evaluates the arguments of `node` (paths through `scope`, nested calls recursively), then the
/// function itself.
pub(super) fn evaluate(node: &Node, scope: &mut dyn Resolve, entropy: &mut dyn Entropy) -> Result<Value, Failure> {
    let mut values = Vec::with_capacity(node.args.len());
    let mut template: Option<&[Piece]> = None;
    for arg in &node.args {
        let value = match arg {
            Arg::Literal(value) => value.clone(),
            Arg::Template(pieces) => {
                template = Some(pieces);
                Value::Null
            }
            Arg::Path(path) => scope.resolve(path)?,
            Arg::Call(inner) => evaluate(inner, scope, entropy)?,
        };
        values.push(value);
    }
    let args = Args {
        function: node.function,
        values,
    };
    match node.function {
        Function::Array => Ok(Value::Array(args.values)),
        Function::ArrayContains => array::contains(&args),
        Function::ArrayGetItem => array::get_item(&args),
        Function::ArrayLength => array::length(&args),
        Function::ArrayPartition => array::partition(&args),
        Function::ArrayRange => array::range(&args),
        Function::ArrayUnique => array::unique(&args),
        Function::Base64Decode => encoding::base64_decode(&args),
        Function::Base64Encode => encoding::base64_encode(&args),
        Function::Format => string::format(&args, template),
        Function::Hash => encoding::hash(&args),
        Function::JsonMerge => json::merge(&args),
        Function::JsonToString => json::to_string(&args),
        Function::MathAdd => math::add(&args),
        Function::MathRandom => math::random(&args, entropy),
        Function::StringSplit => string::split(&args),
        Function::StringToJson => json::from_string(&args),
        Function::Uuid => Ok(Value::String(entropy.uuid())),
    }
}

/// The evaluated arguments of one call, with typed accessors whose failures name the function and
/// the argument.
#[derive(Debug)]
pub(super) struct Args {
    pub(super) function: Function,
    pub(super) values: Vec<Value>,
}

impl Args {
    /// The argument at `index`; `null` past the end (the parser checked the count).
    pub(super) fn get(&self, index: usize) -> &Value {
        self.values.get(index).unwrap_or(&Value::Null)
    }

    /// The `States.IntrinsicFailure` for an argument that is not what the function needs:
    /// "The value of the argument 'index' of States.ArrayGetItem must be …, got …".
    pub(super) fn invalid(&self, index: usize, requirement: &str) -> Failure {
        let parameters = self.function.parameters();
        let name = parameters.get(index).or(parameters.last()).copied().unwrap_or("value");
        Failure::intrinsic(format!(
            "The value of the argument '{name}' of {} must be {requirement}, got {}",
            self.function.name(),
            describe(self.get(index))
        ))
    }

    /// A cause naming the function: "States.X: …".
    pub(super) fn fail(&self, message: impl std::fmt::Display) -> Failure {
        Failure::intrinsic(format!("{}: {message}", self.function.name()))
    }

    pub(super) fn array(&self, index: usize) -> Result<&Vec<Value>, Failure> {
        self.get(index)
            .as_array()
            .ok_or_else(|| self.invalid(index, "an array"))
    }

    pub(super) fn object(&self, index: usize) -> Result<&Map<String, Value>, Failure> {
        self.get(index)
            .as_object()
            .ok_or_else(|| self.invalid(index, "an object"))
    }

    pub(super) fn string(&self, index: usize) -> Result<&str, Failure> {
        self.get(index).as_str().ok_or_else(|| self.invalid(index, "a string"))
    }

    pub(super) fn boolean(&self, index: usize) -> Result<bool, Failure> {
        self.get(index)
            .as_bool()
            .ok_or_else(|| self.invalid(index, "a boolean"))
    }

    /// A number rounded to the nearest integer, halves upwards (Java's `Math.round`): AWS rounds
    /// non-integer arguments of ArrayPartition, ArrayRange, MathRandom and MathAdd.
    pub(super) fn rounded(&self, index: usize) -> Result<i64, Failure> {
        let value = self.get(index);
        if let Some(integer) = value.as_i64() {
            return Ok(integer);
        }
        value
            .as_f64()
            .and_then(round_half_up)
            .ok_or_else(|| self.invalid(index, "a number in the 64-bit integer range"))
    }

    /// An integral number (`2` or `2.0`), never rounded.
    pub(super) fn integer(&self, index: usize, requirement: &str) -> Result<i64, Failure> {
        let value = self.get(index);
        if let Some(integer) = value.as_i64() {
            return Ok(integer);
        }
        value
            .as_f64()
            .filter(|float| float.fract() == 0.0)
            .and_then(round_half_up)
            .ok_or_else(|| self.invalid(index, requirement))
    }
}

/// Java's `Math.round` on a double: the nearest integer, halves towards positive infinity; `None`
/// outside the `i64` range.
fn round_half_up(float: f64) -> Option<i64> {
    let floor = float.floor();
    let rounded = if float - floor >= 0.5 { floor + 1.0 } else { floor };
    // `i64::MAX as f64` is 2^63, itself out of range.
    if rounded.is_finite() && rounded >= i64::MIN as f64 && rounded < i64::MAX as f64 {
        Some(rounded as i64)
    } else {
        None
    }
}

/// A short description of a value for a failure's cause.
pub(super) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(boolean) => boolean.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(_) => "a string".to_owned(),
        Value::Array(items) => format!("an array of {} items", items.len()),
        Value::Object(_) => "an object".to_owned(),
    }
}
