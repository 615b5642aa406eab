//! Intrinsics for JSON data manipulation: JsonMerge, StringToJson and JsonToString.
//!
//! See "Intrinsic functions for JSONPath states", section "Intrinsics for JSON data manipulation":
//! <https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-json-manipulate>.

use serde_json::Value;

use super::eval::Args;
use crate::failure::Failure;

/// `States.JsonMerge(json1, json2, false)`: `json1` with each key of `json2` set over it (a key in
/// both keeps its place in `json1` and takes the value of `json2`). Only this shallow mode exists:
/// AWS requires the third argument to be `false`.
pub(super) fn merge(args: &Args) -> Result<Value, Failure> {
    let first = args.object(0)?;
    let second = args.object(1)?;
    if args.boolean(2)? {
        return Err(args.fail("deep merging (`true`) is not supported; the third argument must be false"));
    }
    let mut merged = first.clone();
    for (key, value) in second {
        merged.insert(key.clone(), value.clone());
    }
    Ok(Value::Object(merged))
}

/// `States.StringToJson(string)`: the JSON value the string holds.
pub(super) fn from_string(args: &Args) -> Result<Value, Failure> {
    let text = args.string(0)?;
    serde_json::from_str(text).map_err(|error| args.fail(format!("the string is not JSON: {error}")))
}

/// `States.JsonToString(value)`: the value as compact JSON text, keys in their order.
pub(super) fn to_string(args: &Args) -> Result<Value, Failure> {
    Ok(Value::String(args.get(0).to_string()))
}
