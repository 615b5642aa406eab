//! The functions Step Functions adds to JSONata, and deterministic `$now`, `$millis`,
//! `$random` and `$uuid`.
//!
//! Behaviours taken from AWS: a non-integer size, bound or step is truncated towards zero;
//! `$partition` with a size below one or an empty array, `$range` without a step or with a
//! step that leads away from the end, and `$hash` without an algorithm yield undefined;
//! `$range` of one element is that number, not an array.

use std::cell::Cell;
use std::rc::Rc;

use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError, HostFnResult};
use jsonata_core::parser;
use jsonata_core::value::JValue;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::convert::to_jvalue;

/// The most elements `$range` builds, AWS's measured bound.
const MAX_RANGE: f64 = 360_145.0;

/// The clock and the stream of random draws one evaluation shares across its expressions.
#[derive(Debug, Clone)]
pub(crate) struct Impure {
    pub(crate) now_millis: i64,
    pub(crate) seed: u64,
    /// How many values were drawn so far.
    pub(crate) draws: Rc<Cell<u64>>,
}

impl Impure {
    /// The next value of the stream, uniformly distributed over `u64`.
    fn draw(&self) -> u64 {
        let n = self.draws.get();
        self.draws.set(n.wrapping_add(1));
        splitmix64(self.seed.wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
    }
}

/// Registers the Step Functions functions and the deterministic impure ones on `ev`.
pub(crate) fn register(ev: &mut Evaluator, impure: &Impure) -> Result<(), EvaluatorError> {
    ev.register_fn("partition", partition)?;
    ev.register_fn("range", range)?;
    ev.register_fn("hash", hash)?;
    ev.register_fn("parse", parse)?;
    let state = impure.clone();
    ev.register_fn("uuid", move |_: &[JValue]| Ok(uuid(&state)))?;
    let state = impure.clone();
    ev.register_fn_override("random", move |args: &[JValue]| random(&state, args))?;
    let now = impure.now_millis;
    ev.register_fn_override("millis", move |_: &[JValue]| Ok(JValue::from(now)))?;
    ev.register_fn_override("now", move |args: &[JValue]| now_formatted(now, args))
}

fn fail(message: String) -> EvaluatorError {
    EvaluatorError::EvaluationError(message)
}

/// The argument at `i`, `None` when missing or undefined.
fn arg(args: &[JValue], i: usize) -> Option<&JValue> {
    args.get(i).filter(|v| !v.is_undefined())
}

/// The number argument at `i`, truncated towards zero.
fn integer(args: &[JValue], i: usize, function: &str) -> Result<Option<f64>, EvaluatorError> {
    match arg(args, i) {
        None => Ok(None),
        Some(JValue::Number(n)) if n.is_finite() => Ok(Some(n.trunc())),
        Some(_) => Err(fail(format!(
            "T0410: Argument {} of function \"{function}\" must be a number",
            i + 1
        ))),
    }
}

fn partition(args: &[JValue]) -> HostFnResult {
    let items = match arg(args, 0) {
        None => return Ok(JValue::Undefined),
        Some(JValue::Array(items)) => items.to_vec(),
        Some(single) => vec![single.clone()],
    };
    let Some(size) = integer(args, 1, "partition")? else {
        return Ok(JValue::Undefined);
    };
    if size < 1.0 || items.is_empty() {
        return Ok(JValue::Undefined);
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let size = size.min(usize::MAX as f64) as usize;
    let chunks = items.chunks(size).map(|chunk| JValue::array(chunk.to_vec())).collect();
    Ok(JValue::array(chunks))
}

fn range(args: &[JValue]) -> HostFnResult {
    let (Some(start), Some(end), Some(step)) = (
        integer(args, 0, "range")?,
        integer(args, 1, "range")?,
        integer(args, 2, "range")?,
    ) else {
        return Ok(JValue::Undefined);
    };
    if step == 0.0 || (end - start) * step < 0.0 {
        return Ok(JValue::Undefined);
    }
    let count = ((end - start) / step).floor() + 1.0;
    if count > MAX_RANGE {
        return Err(fail(
            "D1012: Expression evaluation memory limit exceeded: $range would build more than 360145 elements".into(),
        ));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let values: Vec<JValue> = (0..count as u64)
        .map(|i| JValue::Number(start + step * i as f64))
        .collect();
    Ok(match <[JValue; 1]>::try_from(values) {
        Ok([one]) => one,
        Err(values) => JValue::array(values),
    })
}

fn hash(args: &[JValue]) -> HostFnResult {
    let Some(value) = arg(args, 0) else {
        return Ok(JValue::Undefined);
    };
    let Some(text) = value.as_str() else {
        return Err(fail("T0410: Argument 1 of function \"hash\" must be a string".into()));
    };
    let Some(algorithm) = arg(args, 1) else {
        return Ok(JValue::Undefined);
    };
    let bytes = text.as_bytes();
    let digest: Vec<u8> = match algorithm.as_str() {
        Some("MD5") => Md5::digest(bytes).to_vec(),
        Some("SHA-1") => Sha1::digest(bytes).to_vec(),
        Some("SHA-256") => Sha256::digest(bytes).to_vec(),
        Some("SHA-384") => Sha384::digest(bytes).to_vec(),
        Some("SHA-512") => Sha512::digest(bytes).to_vec(),
        _ => {
            return Err(fail(
                "The hashing algorithm must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512".into(),
            ));
        }
    };
    Ok(JValue::from(hex(&digest)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse(args: &[JValue]) -> HostFnResult {
    let Some(value) = arg(args, 0) else {
        return Ok(JValue::Undefined);
    };
    let Some(text) = value.as_str() else {
        return Err(fail("T0410: Argument 1 of function \"parse\" must be a string".into()));
    };
    serde_json::from_str::<serde_json::Value>(text)
        .map(|v| to_jvalue(&v))
        .map_err(|e| fail(format!("D3140: $parse could not parse its argument as JSON: {e}")))
}

fn random(impure: &Impure, args: &[JValue]) -> HostFnResult {
    let value = match integer(args, 0, "random")? {
        None => unit(impure.draw()),
        #[allow(clippy::cast_possible_truncation)]
        Some(seed) => java_next_double(seed as i64),
    };
    Ok(JValue::Number(value))
}

/// A version 4 UUID drawn from the evaluation's stream.
fn uuid(impure: &Impure) -> JValue {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&impure.draw().to_be_bytes());
    bytes[8..].copy_from_slice(&impure.draw().to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h = hex(&bytes);
    JValue::from(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// `$now([picture [, timezone]])` at `now`: `$fromMillis` of it with the same arguments.
fn now_formatted(now: i64, args: &[JValue]) -> HostFnResult {
    let given = args.iter().take_while(|a| !a.is_undefined()).count().min(2);
    let source = ["$fromMillis($m)", "$fromMillis($m, $p)", "$fromMillis($m, $p, $t)"][given];
    let ast = parser::parse(source).map_err(|e| fail(e.to_string()))?;
    let mut context = Context::new();
    context.bind("m".into(), JValue::from(now));
    for (name, value) in ["p", "t"].into_iter().zip(args.iter().take(given)) {
        context.bind(name.into(), value.clone());
    }
    Evaluator::with_context(context).evaluate(&ast, &JValue::Null)
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `bits` mapped onto `[0, 1)` with 53 bits of precision.
#[allow(clippy::cast_precision_loss)]
fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// The first `nextDouble()` of `java.util.Random(seed)`: reproducible for a seed, and the
/// generator a Java service most plausibly uses (AWS's own sequence is not documented).
#[allow(clippy::cast_precision_loss, clippy::cast_sign_loss)]
fn java_next_double(seed: i64) -> f64 {
    const MULTIPLIER: u64 = 0x5_DEEC_E66D;
    const MASK: u64 = (1 << 48) - 1;
    let mut state = (seed as u64 ^ MULTIPLIER) & MASK;
    let mut next = |bits: u32| {
        state = (state.wrapping_mul(MULTIPLIER).wrapping_add(0xB)) & MASK;
        state >> (48 - bits)
    };
    let high = next(26);
    let low = next(27);
    ((high << 27) + low) as f64 / (1u64 << 53) as f64
}
