//! Intrinsics for arrays: ArrayPartition, ArrayContains, ArrayRange, ArrayGetItem, ArrayLength and
//! ArrayUnique (`States.Array` needs no code of its own).
//!
//! See "Intrinsic functions for JSONPath states", section "Intrinsics for arrays":
//! <https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-arrays>.

use serde_json::Value;

use super::eval::Args;
use crate::failure::Failure;

/// The most elements `States.ArrayRange` may produce.
pub(super) const MAX_RANGE_LENGTH: i128 = 1000;

/// `States.ArrayPartition(array, chunkSize)`: chunks of `chunkSize` items, the last possibly
/// shorter. The chunk size is rounded to the nearest integer and must be positive.
pub(super) fn partition(args: &Args) -> Result<Value, Failure> {
    let items = args.array(0)?;
    let size = args.rounded(1)?;
    let size = usize::try_from(size)
        .ok()
        .filter(|size| *size > 0)
        .ok_or_else(|| args.invalid(1, "a positive integer"))?;
    Ok(Value::Array(
        items.chunks(size).map(|chunk| Value::Array(chunk.to_vec())).collect(),
    ))
}

/// `States.ArrayContains(array, value)`: whether some item equals `value`.
pub(super) fn contains(args: &Args) -> Result<Value, Failure> {
    let items = args.array(0)?;
    let wanted = args.get(1);
    Ok(Value::Bool(items.iter().any(|item| json_equal(item, wanted))))
}

/// `States.ArrayRange(start, end, step)`: `start`, `start + step`, … up to and including `end`.
/// The arguments are rounded to the nearest integer, `step` must not be 0, and the result holds at
/// most 1000 items. A step that moves away from `end` gives an empty array.
pub(super) fn range(args: &Args) -> Result<Value, Failure> {
    let start = args.rounded(0)?;
    let end = args.rounded(1)?;
    let step = args.rounded(2)?;
    if step == 0 {
        return Err(args.invalid(2, "a non-zero integer"));
    }
    let distance = i128::from(end) - i128::from(start);
    let count = if distance != 0 && (distance > 0) != (step > 0) {
        0
    } else {
        distance / i128::from(step) + 1
    };
    if count > MAX_RANGE_LENGTH {
        return Err(args.fail(format!(
            "the range would hold {count} items, more than the {MAX_RANGE_LENGTH} allowed"
        )));
    }
    let items = (0..count)
        .map(|position| Value::Number(i64_of(i128::from(start) + position * i128::from(step))))
        .collect();
    Ok(Value::Array(items))
}

/// `States.ArrayGetItem(array, index)`: the item at a zero-based index inside the array.
pub(super) fn get_item(args: &Args) -> Result<Value, Failure> {
    let items = args.array(0)?;
    let index = args.integer(1, "a non-negative integer")?;
    let index = usize::try_from(index).map_err(|_| args.invalid(1, "a non-negative integer"))?;
    items.get(index).cloned().ok_or_else(|| {
        args.fail(format!(
            "index {index} is out of bounds for an array of {} items",
            items.len()
        ))
    })
}

/// `States.ArrayLength(array)`: the number of items.
pub(super) fn length(args: &Args) -> Result<Value, Failure> {
    Ok(Value::Number(args.array(0)?.len().into()))
}

/// `States.ArrayUnique(array)`: the items without repeats, each where it first appears.
pub(super) fn unique(args: &Args) -> Result<Value, Failure> {
    let mut kept: Vec<Value> = Vec::new();
    for item in args.array(0)? {
        if !kept.iter().any(|seen| json_equal(seen, item)) {
            kept.push(item.clone());
        }
    }
    Ok(Value::Array(kept))
}

/// JSON equality in which numbers compare by value: `1` equals `1.0`.
pub(super) fn json_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => a == b,
            _ => match (a.as_u64(), b.as_u64()) {
                (Some(a), Some(b)) => a == b,
                _ => a.as_f64() == b.as_f64(),
            },
        },
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| json_equal(a, b)),
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, value)| b.get(key).is_some_and(|other| json_equal(value, other)))
        }
        _ => left == right,
    }
}

/// An item of a range, which lies between two `i64` values and so fits.
fn i64_of(value: i128) -> serde_json::Number {
    i64::try_from(value).map_or_else(|_| serde_json::Number::from(0), serde_json::Number::from)
}
