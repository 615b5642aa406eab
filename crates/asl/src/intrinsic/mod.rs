//! Intrinsic functions of JSONPath states: `States.Format(…)` and the other seventeen.
//!
//! A `.$` field whose value [`looks_like_call`] holds an intrinsic call rather than a path. The
//! call is parsed once with [`Call::parse`] (when the definition is loaded: AWS rejects unknown
//! function names, wrong argument counts and malformed calls when the state machine is created) and
//! run with [`Call::evaluate`] every time the field is built. Wrong argument types and values are a
//! `States.IntrinsicFailure` [`Failure`] at run time.
//!
//! Arguments are string literals in single quotes (escapes `\'`, `\{`, `\}`, `\\`), numbers,
//! `true`, `false`, `null`, paths (`$.x`, `$$.x`, `$name.x`, with filters and brackets) and nested
//! calls, at most 10 calls deep.
//!
//! See "Intrinsic functions for JSONPath states in Step Functions",
//! <https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html>.

mod array;
mod encoding;
mod eval;
mod function;
mod json;
mod math;
mod parse;
mod string;
#[cfg(test)]
mod tests;

use serde_json::Value;
use sluice_jsonpath::Path;

use crate::entropy::Entropy;
use crate::failure::Failure;

pub use parse::ParseError;

/// A parsed intrinsic call such as `States.Format('{}-{}', $.a, States.UUID())`.
#[derive(Debug, Clone)]
pub struct Call {
    text: String,
    root: parse::Node,
}

impl Call {
    /// Parses a whole `.$` value as one call.
    ///
    /// Unknown function names, wrong argument counts, malformed literals and paths, calls nested
    /// more than 10 deep and trailing text are errors, each with the character offset where it was
    /// found.
    pub fn parse(text: &str) -> Result<Call, ParseError> {
        let root = parse::parse(text)?;
        Ok(Call {
            text: text.to_owned(),
            root,
        })
    }

    /// Runs the call: paths are resolved through `scope`, `States.UUID()` and unseeded
    /// `States.MathRandom` draw from `entropy`.
    ///
    /// A failure is either what `scope` returned for a path, or `States.IntrinsicFailure` for an
    /// argument of the wrong type or value.
    pub fn evaluate(&self, scope: &mut dyn Resolve, entropy: &mut dyn Entropy) -> Result<Value, Failure> {
        eval::evaluate(&self.root, scope, entropy)
    }

    /// The call as it was written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for Call {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.text)
    }
}

/// Whether a `.$` value is an intrinsic call (`States.` followed by a name and `(`) rather than a
/// path. Leading and trailing whitespace is ignored; the call itself may still fail to parse.
pub fn looks_like_call(text: &str) -> bool {
    let Some(rest) = text.trim_start().strip_prefix("States.") else {
        return false;
    };
    let after_name = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric());
    after_name.len() < rest.len() && after_name.trim_start().starts_with('(')
}

/// Resolves the path arguments of a call: `$…` against the effective input, `$$…` against the
/// context object, `$name…` against a variable.
pub trait Resolve {
    /// The value `path` selects, or the failure to raise when it selects nothing.
    fn resolve(&mut self, path: &Path) -> Result<Value, Failure>;
}
