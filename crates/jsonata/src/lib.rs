//! JSONata expressions as the Amazon States Language embeds them (`{% … %}`).
//!
//! In a state with `"QueryLanguage": "JSONata"`, a string value that starts with `{%` and ends
//! with `%}` (no whitespace outside them) is an expression, wherever it sits in a field: the
//! whole field, an object member or an array element, at any depth. [`Template`] parses such a
//! value once and evaluates it against [`Bindings`]; [`Expression`] is one such string.
//!
//! Evaluation follows Step Functions (JSONata 2.0.6):
//!
//! - `$states` is bound to `{input, result?, errorOutput?, context}`; other `$name`s are the
//!   workflow variables, looked up through [`Bindings::variables`].
//! - The six functions Step Functions adds are registered: `$partition`, `$range`, `$hash`,
//!   `$random([seed])`, `$uuid()`, `$parse`. `$eval` is refused when the template is parsed.
//! - `$now()`, `$millis()`, `$random()` and `$uuid()` derive from [`Bindings::now_millis`] and
//!   [`Bindings::random_seed`], so a replayed run computes the same values.
//! - An expression that yields nothing (undefined) fails with [`Error::Undefined`], naming
//!   the field as AWS does (`Output/a/b[0]`), wherever the expression sits.
//! - Like AWS, parsing refuses a bare field name at the top level of an expression (`phone`
//!   instead of `$states.input.phone`), `$` at the top level, and `$$`.
//!
//! ```
//! use serde_json::json;
//! use sluice_jsonata::{Bindings, Template};
//!
//! let template = Template::parse(&json!({"total": "{% $sum($states.input.items.price) %}"}))
//!     .unwrap();
//! let states = json!({"input": {"items": [{"price": 5}, {"price": 7}]}, "context": {}});
//! let no_variables = |_: &str| None;
//! let bindings = Bindings { states: &states, variables: &no_variables, now_millis: 0, random_seed: 1 };
//! assert_eq!(template.evaluate(&bindings).unwrap(), json!({"total": 12}));
//! ```
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

mod check;
mod convert;
mod error;
mod expression;
mod functions;
mod template;
#[cfg(test)]
mod tests;

pub use error::{Error, ParseError};
pub use expression::Expression;
pub use template::Template;

use serde_json::Value;

/// What an expression can read: `$states`, the workflow variables, and the clock and random
/// seed its impure functions derive from.
#[derive(Clone, Copy)]
pub struct Bindings<'a> {
    /// The value of `$states`: `{input, result?, errorOutput?, context}`.
    pub states: &'a Value,
    /// Looks up a workflow variable by name (without the `$`). Only the names an expression
    /// mentions are looked up, once per evaluation of that expression.
    pub variables: &'a dyn Fn(&str) -> Option<Value>,
    /// What `$now()` and `$millis()` answer, in milliseconds since the Unix epoch.
    pub now_millis: i64,
    /// The seed of `$random()` without an argument and of `$uuid()`. Successive calls within
    /// one [`Template::evaluate`] or [`Expression::evaluate`] draw successive values, so give
    /// each evaluation (each state attempt) its own seed.
    pub random_seed: u64,
}

impl std::fmt::Debug for Bindings<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bindings")
            .field("states", self.states)
            .field("now_millis", &self.now_millis)
            .field("random_seed", &self.random_seed)
            .finish_non_exhaustive()
    }
}

/// Whether `text` is an expression: it starts with `{%` and ends with `%}`.
///
/// No whitespace is allowed outside the delimiters (`" {% 1 %}"` is a literal string), as on
/// AWS; whitespace inside them is trimmed from the expression.
pub fn is_expression(text: &str) -> bool {
    text.len() >= 4 && text.starts_with("{%") && text.ends_with("%}")
}

/// The expression inside `text`, trimmed, if `text` is one.
fn expression_body(text: &str) -> Option<&str> {
    if is_expression(text) {
        text.get(2..text.len() - 2).map(str::trim)
    } else {
        None
    }
}
