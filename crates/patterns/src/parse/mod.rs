//! Parsing a pattern: the object structure, `$or`, and leaf lists, collecting every problem with its
//! JSON pointer. The operators inside `{...}` entries of a list are in [`operator`].
//!
//! The rules are EventBridge's: the pattern is an object; a field's value is an object (a nested
//! pattern) or a non-empty array of matchers; objects are never empty; `$or` takes an array of at
//! least two objects, whose `$or`s multiply out into branches.

mod operator;

use serde_json::{Map, Value};

use crate::error::{Diagnostic, Error};
use crate::pattern::{Branch, Condition, Literal, Matcher, Pattern};

/// The most branches `$or`s may multiply out to. AWS documents no figure; this bounds memory and
/// matching work for patterns of nested, parallel `$or`s.
pub const MAX_BRANCHES: usize = 1024;

/// Field names that are operators, and so cannot be field names inside `$or`.
const OPERATORS: [&str; 8] = [
    "prefix",
    "suffix",
    "equals-ignore-case",
    "wildcard",
    "anything-but",
    "numeric",
    "exists",
    "cidr",
];

pub(crate) fn parse(value: &Value) -> Result<Pattern, Error> {
    let mut parser = Parser {
        pointer: String::new(),
        path: Vec::new(),
        diagnostics: Vec::new(),
    };
    let branches = match value {
        Value::Object(map) => parser.object(map, false),
        _ => {
            parser.error("Filter is not an object");
            Vec::new()
        }
    };
    if parser.diagnostics.is_empty() {
        Ok(Pattern { branches })
    } else {
        Err(Error::Invalid {
            diagnostics: parser.diagnostics,
        })
    }
}

/// The walk's state: where in the pattern it is, and what it has found wrong so far.
struct Parser {
    /// The JSON pointer of the value being parsed.
    pointer: String,
    /// The event field path of the object being parsed.
    path: Vec<String>,
    diagnostics: Vec<Diagnostic>,
}

impl Parser {
    fn error(&mut self, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::new(&self.pointer, message));
    }

    /// Runs `body` with the pointer extended by one reference token, escaped per RFC 6901.
    fn at<T>(&mut self, token: &str, body: impl FnOnce(&mut Self) -> T) -> T {
        let length = self.pointer.len();
        self.pointer.push('/');
        for character in token.chars() {
            match character {
                '~' => self.pointer.push_str("~0"),
                '/' => self.pointer.push_str("~1"),
                other => self.pointer.push(other),
            }
        }
        let result = body(self);
        self.pointer.truncate(length);
        result
    }

    fn at_index<T>(&mut self, index: usize, body: impl FnOnce(&mut Self) -> T) -> T {
        self.at(&index.to_string(), body)
    }

    /// An object of the pattern: the AND of its fields, as branches.
    fn object(&mut self, map: &Map<String, Value>, inside_or: bool) -> Vec<Branch> {
        if map.is_empty() {
            self.error("Empty objects are not allowed");
            return Vec::new();
        }
        let mut branches = vec![Branch::default()];
        for (key, value) in map {
            self.at(key, |parser| {
                if key == "$or" {
                    let alternatives = parser.or(value);
                    branches = parser.multiply(std::mem::take(&mut branches), alternatives);
                    return;
                }
                if inside_or && OPERATORS.contains(&key.as_str()) {
                    parser.error(format!("{key} is a reserved field name and cannot be used inside $or"));
                }
                match value {
                    Value::Object(inner) => {
                        parser.path.push(key.clone());
                        let inner = parser.object(inner, inside_or);
                        parser.path.pop();
                        branches = parser.multiply(std::mem::take(&mut branches), inner);
                    }
                    Value::Array(items) => {
                        let matchers = parser.matchers(items);
                        let mut path = parser.path.clone();
                        path.push(key.clone());
                        let condition = Condition { path, matchers };
                        for branch in &mut branches {
                            branch.conditions.push(condition.clone());
                        }
                    }
                    _ => parser.error(format!("\"{key}\" must be an object or an array")),
                }
            });
        }
        branches
    }

    /// The value of a `$or` key: the alternatives, each already multiplied out.
    fn or(&mut self, value: &Value) -> Vec<Branch> {
        let Value::Array(items) = value else {
            self.error("Value of $or must be an array of objects");
            return Vec::new();
        };
        if items.len() < 2 {
            self.error("There must be at least 2 objects in a $or relationship");
        }
        let mut alternatives = Vec::new();
        for (index, item) in items.iter().enumerate() {
            self.at_index(index, |parser| match item {
                Value::Object(map) => alternatives.extend(parser.object(map, true)),
                _ => parser.error("Only JSON objects are allowed in a $or array"),
            });
        }
        alternatives
    }

    /// The AND of two ORs of branches: every pair, concatenated.
    fn multiply(&mut self, left: Vec<Branch>, right: Vec<Branch>) -> Vec<Branch> {
        if left.len().saturating_mul(right.len()) > MAX_BRANCHES {
            self.error(format!(
                "Event pattern is too complex: its $or alternatives combine into more than {MAX_BRANCHES} branches"
            ));
            return left;
        }
        let mut product = Vec::with_capacity(left.len() * right.len());
        for first in &left {
            for second in &right {
                let mut conditions = first.conditions.clone();
                conditions.extend(second.conditions.iter().cloned());
                product.push(Branch { conditions });
            }
        }
        product
    }

    /// A field's array: any of these matchers.
    fn matchers(&mut self, items: &[Value]) -> Vec<Matcher> {
        if items.is_empty() {
            self.error("Empty arrays are not allowed");
        }
        let mut matchers = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            self.at_index(index, |parser| {
                let matcher = match item {
                    Value::Object(operator) => parser.operator(operator),
                    Value::Array(_) => {
                        parser.error("Match value must be String, number, true, false, or null");
                        None
                    }
                    scalar => Literal::of(scalar).map(Matcher::Exact),
                };
                matchers.extend(matcher);
            });
        }
        matchers
    }
}
