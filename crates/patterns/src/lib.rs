//! EventBridge event patterns: parse and validate a pattern, test it against an event, and match
//! events against many rules at once through a compiled index.
//!
//! - [`Pattern`] is a valid pattern, parsed once from JSON text ([`Pattern::parse`]) or a
//!   [`serde_json::Value`] ([`Pattern::from_value`]). An invalid pattern is an [`Error::Invalid`]
//!   listing every problem with the JSON pointer where it is, in EventBridge's words, e.g.
//!   `/detail/state/0/prefix: prefix match pattern must be a string`.
//! - [`Pattern::matches`] evaluates one pattern against one event, straightforwardly.
//! - [`RuleSet`] holds many patterns under ids and answers which match an event without
//!   evaluating each; it agrees with [`Pattern::matches`] on every rule.
//! - [`test_event_pattern`] is the TestEventPattern API on JSON text.
//!
//! The syntax is EventBridge's (see the [operators]): exact strings, numbers, booleans and null;
//! arrays as "any of"; `prefix` and `suffix` (also with `equals-ignore-case`); `equals-ignore-case`;
//! `wildcard`; `anything-but` (a value, a list, `prefix`, `suffix`, `equals-ignore-case`,
//! `wildcard`); `numeric`; `exists`; `cidr`; `$or`; nested objects.
//!
//! Matching follows EventBridge (and its open-source core, Event Ruler):
//! - Only leaves (strings, numbers, booleans, null) are matched. A field whose value is an object
//!   is not a leaf, so `exists: true` does not match it and `exists: false` does.
//! - A field whose value is an array matches when any element matches; an empty array has no
//!   leaves. Fields inside objects in *different* elements of one array never combine.
//! - `exists: false` holds when the event has no leaf at that path anywhere, including inside any
//!   array element.
//! - Numbers are compared at six decimal places between -5.0e9 and 5.0e9 (`300` equals `3.0e2`);
//!   `numeric` never matches a number outside that range or a string.
//! - `anything-but` matches any leaf except the ones it lists, including leaves of other types
//!   (`{"anything-but": "x"}` matches `5` and `null`), but never a missing field.
//! - `null` and `""` are different values.
//!
//! [operators]: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
//!
//! ```
//! use serde_json::json;
//! use sluice_patterns::{Pattern, test_event_pattern};
//!
//! let pattern = Pattern::parse(r#"{"detail": {"state": [{"anything-but": "initializing"}]}}"#).unwrap();
//! assert!(pattern.matches(&json!({"detail": {"state": "running"}})));
//!
//! let error = Pattern::parse(r#"{"detail": {"state": [{"prefix": 5}]}}"#).unwrap_err();
//! assert_eq!(error.diagnostics()[0].to_string(), "/detail/state/0/prefix: prefix match pattern must be a string");
//!
//! assert_eq!(test_event_pattern(r#"{"source": ["aws.ec2"]}"#, r#"{"source": "aws.ec2"}"#), Ok(true));
//! ```
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

mod cidr;
mod error;
mod event;
mod number;
mod parse;
mod pattern;
mod reference;
mod ruleset;
mod wildcard;

use std::str::FromStr;

use serde_json::Value;

pub use error::{Diagnostic, Error, PatternError};
pub use parse::MAX_BRANCHES;
pub use pattern::Pattern;
pub use ruleset::RuleSet;

impl Pattern {
    /// Parses and validates a pattern written as JSON text.
    pub fn parse(text: &str) -> Result<Pattern, Error> {
        let value: Value = serde_json::from_str(text).map_err(|error| Error::Syntax {
            message: error.to_string(),
        })?;
        Pattern::from_value(&value)
    }

    /// Validates a pattern already parsed as JSON.
    pub fn from_value(value: &Value) -> Result<Pattern, Error> {
        parse::parse(value)
    }
}

impl FromStr for Pattern {
    type Err = Error;

    fn from_str(text: &str) -> Result<Pattern, Error> {
        Pattern::parse(text)
    }
}

/// EventBridge's TestEventPattern: whether `event` (a JSON object, as text) matches `pattern` (as
/// text). An invalid pattern or an event that is not a JSON object is an error.
pub fn test_event_pattern(pattern: &str, event: &str) -> Result<bool, Error> {
    let pattern = Pattern::parse(pattern)?;
    let event: Value = serde_json::from_str(event).map_err(|error| Error::InvalidEvent {
        message: error.to_string(),
    })?;
    if !event.is_object() {
        return Err(Error::InvalidEvent {
            message: "the event must be a JSON object".to_owned(),
        });
    }
    Ok(pattern.matches(&event))
}
