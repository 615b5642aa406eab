//! Reference paths: parsing, reading and writing by walking name and index steps directly.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::parse::{self, Selector};
use crate::{Error, Root, SelectError, SetError};

/// One step of a reference path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Step {
    /// An object member, `.name` or `['name']`.
    Name(String),
    /// An array element, `[0]`; negative indices count from the end, `[-1]` is the last.
    Index(i64),
}

/// A reference path: `$`, `$.a.b`, `$['a'][0]`, rooted at the state input.
///
/// Reference paths have only name and index selectors, so they name at most one value and
/// can be written to (`ResultPath`). Cloning is cheap.
#[derive(Clone)]
pub struct ReferencePath {
    inner: Arc<Inner>,
}

struct Inner {
    text: Box<str>,
    steps: Box<[Step]>,
    normalized: Box<str>,
}

impl ReferencePath {
    /// Parses a reference path; filters, wildcards, slices, unions, `..`, `$$` and `$var`
    /// are rejected.
    pub fn parse(text: &str) -> Result<ReferencePath, Error> {
        let parsed = parse::parse(text)?;
        let not_reference = |what, offset| Error::NotReference {
            what,
            offset,
            text: text.to_owned(),
        };
        match parsed.root {
            Root::Input => {}
            Root::Context => return Err(not_reference("the context object root '$$'", 0)),
            Root::Variable(_) => return Err(not_reference("a variable root", 0)),
        }
        let steps = steps(&parsed.segments).map_err(|(what, offset)| not_reference(what, offset))?;
        Ok(ReferencePath::from_steps(text, steps))
    }

    pub(crate) fn from_steps(text: &str, steps: Vec<Step>) -> ReferencePath {
        let normalized = normalized(&steps).into_boxed_str();
        ReferencePath {
            inner: Arc::new(Inner {
                text: text.into(),
                steps: steps.into(),
                normalized,
            }),
        }
    }

    /// The value the path names, if the document has it.
    pub fn get<'v>(&self, document: &'v Value) -> Option<&'v Value> {
        get(&self.inner.steps, document)
    }

    /// The value the path names, or [`SelectError::NoResults`].
    pub fn select<'v>(&self, document: &'v Value) -> Result<&'v Value, SelectError> {
        self.get(document).ok_or_else(|| SelectError::NoResults {
            path: self.normalized().to_owned(),
        })
    }

    /// Writes `value` at the path and returns the document.
    ///
    /// `$` replaces the whole document. Objects missing on the way are created, and a new
    /// member goes after the existing ones. Writing a member of a non-object, or an index of a
    /// non-array or past its end, is a [`SetError`].
    pub fn set(&self, document: Value, value: Value) -> Result<Value, SetError> {
        set(&self.inner.text, &self.inner.steps, document, value)
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.inner.text
    }

    /// The steps after `$`; empty for `$`.
    pub fn steps(&self) -> &[Step] {
        &self.inner.steps
    }

    /// The normalized path, names in single quotes and indices bare: `$['a'][0]`.
    pub fn normalized(&self) -> &str {
        &self.inner.normalized
    }
}

impl fmt::Debug for ReferencePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReferencePath").field(&self.as_str()).finish()
    }
}

impl fmt::Display for ReferencePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for ReferencePath {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for ReferencePath {}

impl std::hash::Hash for ReferencePath {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl FromStr for ReferencePath {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ReferencePath::parse(text)
    }
}

/// The steps of a reference path, or what makes it not one and its character offset.
pub(crate) fn steps(segments: &[parse::Segment]) -> Result<Vec<Step>, (&'static str, usize)> {
    segments
        .iter()
        .map(|segment| {
            let what = match segment.selectors.as_slice() {
                _ if segment.descendant => "a descendant segment '..'",
                [Selector::Name(name)] => return Ok(Step::Name(name.clone())),
                [Selector::Index(index)] => return Ok(Step::Index(*index)),
                [Selector::Wildcard] => "a wildcard",
                [Selector::Slice(..)] => "a slice",
                [Selector::Filter(_)] => "a filter",
                _ => "a union",
            };
            Err((what, segment.offset))
        })
        .collect()
}

/// Writes the normalized form of steps: `$['a'][0]`.
pub(crate) fn normalized(steps: &[Step]) -> String {
    let mut out = String::from("$");
    for step in steps {
        out.push('[');
        match step {
            Step::Name(name) => parse::push_quoted(&mut out, name),
            Step::Index(index) => out.push_str(&index.to_string()),
        }
        out.push(']');
    }
    out
}

/// Walks the steps from `document`.
pub(crate) fn get<'v>(steps: &[Step], mut document: &'v Value) -> Option<&'v Value> {
    for step in steps {
        document = match (step, document) {
            (Step::Name(name), Value::Object(map)) => map.get(name)?,
            (Step::Index(index), Value::Array(items)) => items.get(resolve(*index, items.len())?)?,
            _ => return None,
        };
    }
    Some(document)
}

/// The position an index names in an array of `len` elements, if it is inside.
fn resolve(index: i64, len: usize) -> Option<usize> {
    let position = if index >= 0 {
        usize::try_from(index).ok()?
    } else {
        len.checked_sub(usize::try_from(index.unsigned_abs()).ok()?)?
    };
    (position < len).then_some(position)
}

/// What kind of value this is, for messages: "a number", "an object".
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn set(text: &str, steps: &[Step], mut document: Value, value: Value) -> Result<Value, SetError> {
    let Some((last, init)) = steps.split_last() else {
        return Ok(value);
    };
    let mut current = &mut document;
    for (depth, step) in init.iter().enumerate() {
        let at = || normalized(&steps[..depth]);
        current = match (step, current) {
            (Step::Name(name), Value::Object(map)) => {
                map.entry(name.as_str()).or_insert_with(|| Value::Object(Map::new()))
            }
            (Step::Index(index), Value::Array(items)) => {
                let len = items.len();
                match resolve(*index, len).and_then(|position| items.get_mut(position)) {
                    Some(item) => item,
                    None => return Err(out_of_bounds(text, at(), *index, len)),
                }
            }
            (step, other) => return Err(mismatch(text, at(), step, other)),
        };
    }
    let at = || normalized(init);
    match (last, current) {
        (Step::Name(name), Value::Object(map)) => {
            map.insert(name.clone(), value);
        }
        (Step::Index(index), Value::Array(items)) => {
            let len = items.len();
            match resolve(*index, len).and_then(|position| items.get_mut(position)) {
                Some(item) => *item = value,
                None => return Err(out_of_bounds(text, at(), *index, len)),
            }
        }
        (step, other) => return Err(mismatch(text, at(), step, other)),
    }
    Ok(document)
}

fn out_of_bounds(text: &str, at: String, index: i64, len: usize) -> SetError {
    SetError::IndexOutOfBounds {
        path: text.to_owned(),
        at,
        index,
        len,
    }
}

fn mismatch(text: &str, at: String, step: &Step, found: &Value) -> SetError {
    let (path, found) = (text.to_owned(), kind(found));
    match step {
        Step::Name(_) => SetError::NotAnObject { path, at, found },
        Step::Index(_) => SetError::NotAnArray { path, at, found },
    }
}

#[cfg(test)]
mod tests;
