//! Conversion between `serde_json::Value` and jsonata-core's `JValue`.
//!
//! JSONata computes with JavaScript numbers (`f64`); results are written the way
//! `JSON.stringify` would, as AWS does: a whole number as an integer, a non-finite number as
//! the string JavaScript names it by (`"Infinity"`, `"NaN"`), an undefined or function value
//! left out of an object and written as `null` in an array.

use std::rc::Rc;

use jsonata_core::value::{JArray, JMap, JValue};
use serde_json::{Map, Number, Value};

/// `value` as JSONata sees it.
pub(crate) fn to_jvalue(value: &Value) -> JValue {
    match value {
        Value::Null => JValue::Null,
        Value::Bool(b) => JValue::Bool(*b),
        Value::Number(n) => JValue::Number(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => JValue::string(s.as_str()),
        Value::Array(items) => {
            // Input arrays are flat when they hold no array, as jsonata-core's own reader marks.
            let flat = !items.iter().any(Value::is_array);
            JValue::Array(JArray::new_flat(items.iter().map(to_jvalue).collect(), flat))
        }
        Value::Object(members) => JValue::Object(Rc::new(
            members.iter().map(|(k, v)| (k.clone(), to_jvalue(v))).collect::<JMap>(),
        )),
    }
}

/// `value` as JSON, or `None` for undefined (and for a function, which JSON cannot hold).
pub(crate) fn from_jvalue(value: &JValue) -> Option<Value> {
    Some(match value {
        JValue::Null => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => number(*n),
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| from_jvalue(item).unwrap_or(Value::Null))
                .collect(),
        ),
        JValue::Object(members) => Value::Object(
            members
                .iter()
                .filter_map(|(k, v)| from_jvalue(v).map(|v| (k.clone(), v)))
                .collect::<Map<_, _>>(),
        ),
        _ => return None,
    })
}

/// The largest magnitude below which every whole `f64` is an exact integer (2^53).
const MAX_SAFE: f64 = 9_007_199_254_740_992.0;

fn number(n: f64) -> Value {
    if n.is_nan() {
        return Value::String("NaN".into());
    }
    if n.is_infinite() {
        return Value::String(if n > 0.0 { "Infinity" } else { "-Infinity" }.into());
    }
    if n.fract() == 0.0 && n.abs() <= MAX_SAFE {
        // Exact: |n| ≤ 2^53 fits an i64 without loss.
        #[allow(clippy::cast_possible_truncation)]
        return Value::Number(Number::from(n as i64));
    }
    Number::from_f64(n).map_or(Value::Null, Value::Number)
}
