//! `States.Format` (generic operation) and `States.StringSplit` (string operation).
//!
//! See "Intrinsic functions for JSONPath states", sections "Intrinsic for generic operation" and
//! "Intrinsic for String operation":
//! <https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-generic>.

use serde_json::Value;

use super::eval::Args;
use super::parse::Piece;
use crate::failure::Failure;

/// `States.Format(template, value…)`: the template with each `{}` replaced by the next value.
///
/// `template` is the template written as a literal, already split by the parser (so that `\{` and
/// `\}` are plain braces); when the template comes from a path, every `{}` in the string is a
/// placeholder. There must be exactly as many values as placeholders. A string value is inserted
/// as it is, a number, boolean or null as its JSON text; objects and arrays are refused.
pub(super) fn format(args: &Args, template: Option<&[Piece]>) -> Result<Value, Failure> {
    let pieces = match template {
        Some(pieces) => pieces.to_vec(),
        None => split_template(args.string(0)?),
    };
    let placeholders = pieces.iter().filter(|piece| **piece == Piece::Placeholder).count();
    let values = args.values.len() - 1;
    if placeholders != values {
        return Err(args.fail(format!(
            "the template has {placeholders} placeholder{} but {values} value{} given",
            if placeholders == 1 { "" } else { "s" },
            if values == 1 { " was" } else { "s were" }
        )));
    }
    let mut output = String::new();
    let mut next = 1;
    for piece in &pieces {
        match piece {
            Piece::Text(text) => output.push_str(text),
            Piece::Placeholder => {
                match args.get(next) {
                    Value::String(text) => output.push_str(text),
                    Value::Array(_) | Value::Object(_) => {
                        return Err(args.invalid(next, "a string, number, boolean or null"));
                    }
                    scalar => output.push_str(&scalar.to_string()),
                }
                next += 1;
            }
        }
    }
    Ok(Value::String(output))
}

/// A template taken from a path: every `{}` is a placeholder, everything else is text.
fn split_template(template: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    for (position, text) in template.split("{}").enumerate() {
        if position > 0 {
            pieces.push(Piece::Placeholder);
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text.to_owned()));
        }
    }
    pieces
}

/// `States.StringSplit(string, delimiters)`: the parts between any of the delimiter characters,
/// without empty parts (`"a,,b"` split on `","` gives `["a","b"]`).
pub(super) fn split(args: &Args) -> Result<Value, Failure> {
    let text = args.string(0)?;
    let delimiters: Vec<char> = args.string(1)?.chars().collect();
    let parts = text
        .split(|c: char| delimiters.contains(&c))
        .filter(|part| !part.is_empty())
        .map(|part| Value::String(part.to_owned()))
        .collect();
    Ok(Value::Array(parts))
}
