//! Intrinsics for Math operations: MathRandom and MathAdd.
//!
//! See "Intrinsic functions for JSONPath states", section "Intrinsics for Math operations":
//! <https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-math-operation>.

use serde_json::Value;

use super::eval::Args;
use crate::entropy::{Entropy, splitmix64};
use crate::failure::Failure;

/// `States.MathRandom(start, end[, seed])`: an integer from `start` (inclusive) to `end`
/// (exclusive). Non-integer bounds and seeds are rounded to the nearest integer. With a seed the
/// number depends on the seed alone (one SplitMix64 step from it); without one it comes from
/// `entropy`, so that a replay sees the same number.
pub(super) fn random(args: &Args, entropy: &mut dyn Entropy) -> Result<Value, Failure> {
    let start = args.rounded(0)?;
    let end = args.rounded(1)?;
    if end <= start {
        return Err(args.invalid(1, &format!("greater than the start, {start}")));
    }
    let bits = if args.values.len() > 2 {
        let mut state = args.rounded(2)?.cast_unsigned();
        splitmix64(&mut state)
    } else {
        entropy.random_u64()
    };
    let span = u128::from(end.abs_diff(start));
    let offset = u128::from(bits) % span;
    // start <= start + offset < end, so the sum fits.
    let number = i64::try_from(i128::from(start) + offset.cast_signed()).unwrap_or(start);
    Ok(Value::Number(number.into()))
}

/// `States.MathAdd(value1, value2)`: the sum of two integers in the 32-bit range
/// (-2147483648 to 2147483647); non-integer values are rounded to the nearest integer first.
pub(super) fn add(args: &Args) -> Result<Value, Failure> {
    let first = int32(args, 0)?;
    let second = int32(args, 1)?;
    Ok(Value::Number((i64::from(first) + i64::from(second)).into()))
}

fn int32(args: &Args, index: usize) -> Result<i32, Failure> {
    let requirement = "an integer between -2147483648 and 2147483647";
    let value = args.rounded(index).map_err(|_| args.invalid(index, requirement))?;
    i32::try_from(value).map_err(|_| args.invalid(index, requirement))
}
