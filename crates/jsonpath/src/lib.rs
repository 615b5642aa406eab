//! Paths as the Amazon States Language writes them: `$.a.b`, `$$.Execution.Id`, `$name.field`,
//! filters and slices, and reference paths that can be written to (`ResultPath`).
//!
//! Two types cover the two uses:
//!
//! - [`Path`] is any path. Its [`Root`] says which document it reads: `$` the state input,
//!   `$$` the context object, `$name` a variable. [`Path::select`] follows the rule Step
//!   Functions inherits from Jayway JSONPath: a *reference path* (only name and index
//!   selectors, like `$.a.b` or `$['a'][0]`) yields the one value it names, or
//!   [`SelectError::NoResults`] when the document does not have it; any other path
//!   (wildcard, filter, slice, descendant, union) yields an array of every match, possibly
//!   empty.
//! - [`ReferencePath`] is a reference path rooted at `$`, which can also be written to with
//!   [`ReferencePath::set`], as `ResultPath` does.
//!
//! The syntax accepted is Jayway's (which AWS uses) and RFC 9535's: `.name`, `['name']`,
//! `["name"]`, `[0]`, `[-1]`, `[*]`, `.*`, `..name`, `[0:2]`, `[::2]`, `[0,1]`,
//! `[?(@.price > 10)]` and `[?@.price > 10]`. Dot names may contain dashes and colons
//! (`$.detail.request-id`) and start with a digit, as Jayway allows.
//!
//! Reference paths are evaluated by walking their steps directly. Other paths are rewritten to
//! canonical RFC 9535 bracket notation and compiled once with `serde_json_path`.
//!
//! ```
//! use serde_json::json;
//! use sluice_jsonpath::{Path, ReferencePath};
//!
//! let input = json!({"items": [{"price": 5}, {"price": 15}], "detail": {"request-id": "r1"}});
//! let id: Path = "$.detail.request-id".parse().unwrap();
//! assert_eq!(id.select(&input).unwrap(), json!("r1"));
//! let expensive: Path = "$.items[?(@.price > 10)]".parse().unwrap();
//! assert_eq!(expensive.select(&input).unwrap(), json!([{"price": 15}]));
//! let missing: Path = "$.X".parse().unwrap();
//! assert_eq!(missing.select(&input).unwrap_err().to_string(), "No results for path: $['X']");
//!
//! let result: ReferencePath = "$.a.b".parse().unwrap();
//! assert_eq!(result.set(json!({"x": 1}), json!(2)).unwrap(), json!({"x": 1, "a": {"b": 2}}));
//! ```
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

mod error;
mod parse;
mod path;
mod reference;

pub use error::{Error, SelectError, SetError};
pub use path::Path;
pub use reference::{ReferencePath, Step};

/// What a [`Path`] starts from.
///
/// The set is closed by the language, so the enum is exhaustive: callers can match every root.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Root {
    /// `$`: the state input (or, inside a filter, the document being queried).
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: the variable `name`.
    Variable(String),
}
