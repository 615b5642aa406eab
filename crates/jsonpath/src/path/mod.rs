//! `Path`: any ASL path, evaluated by walking steps (reference paths) or by serde_json_path.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde_json::Value;
use serde_json_path::JsonPath;

use crate::parse::{self, write_segments};
use crate::reference::{self, Step};
use crate::{Error, Root, SelectError};

/// Any ASL path: `$.a.b`, `$$.Execution.Id`, `$name.field`, `$.items[?(@.price > 10)]`.
///
/// Parsed once and evaluated many times; cloning is cheap.
#[derive(Clone)]
pub struct Path {
    inner: Arc<Inner>,
}

struct Inner {
    text: Box<str>,
    root: Root,
    /// The RFC 9535 form with bracket notation: `$['a'][0]`.
    normalized: Box<str>,
    body: Body,
}

enum Body {
    /// Only name and index selectors: walked directly.
    Reference(Box<[Step]>),
    /// Anything else: compiled by serde_json_path.
    Query(JsonPath),
}

impl Path {
    /// Parses a path in Jayway or RFC 9535 syntax.
    pub fn parse(text: &str) -> Result<Path, Error> {
        let parsed = parse::parse(text)?;
        let mut normalized = String::from("$");
        write_segments(&mut normalized, &parsed.segments);
        let body = match reference::steps(&parsed.segments) {
            Ok(steps) => Body::Reference(steps.into()),
            Err(_) => Body::Query(JsonPath::parse(&normalized).map_err(|error| Error::InvalidQuery {
                message: error.message().to_owned(),
                canonical: normalized.clone(),
                text: text.to_owned(),
            })?),
        };
        let inner = Inner {
            text: text.into(),
            root: parsed.root,
            normalized: normalized.into(),
            body,
        };
        Ok(Path { inner: Arc::new(inner) })
    }

    /// What the path starts from: the input, the context object, or a variable.
    pub fn root(&self) -> &Root {
        &self.inner.root
    }

    /// Whether the path has only name and index selectors, so it names at most one value.
    pub fn is_reference(&self) -> bool {
        matches!(self.inner.body, Body::Reference(_))
    }

    /// Selects from `document`, the value the root names (the input, the context object, or
    /// the variable's value).
    ///
    /// A reference path yields the one value or [`SelectError::NoResults`]; any other path
    /// yields an array of every match, possibly empty, as Jayway and Step Functions do.
    pub fn select(&self, document: &Value) -> Result<Value, SelectError> {
        self.select_cow(document).map(Cow::into_owned)
    }

    /// Like [`Path::select`], but borrows the value a reference path names instead of
    /// cloning it.
    pub fn select_cow<'v>(&self, document: &'v Value) -> Result<Cow<'v, Value>, SelectError> {
        match &self.inner.body {
            Body::Reference(steps) => match reference::get(steps, document) {
                Some(value) => Ok(Cow::Borrowed(value)),
                None => Err(SelectError::NoResults {
                    path: self.normalized().to_owned(),
                }),
            },
            Body::Query(query) => Ok(Cow::Owned(Value::Array(
                query.query(document).all().into_iter().cloned().collect(),
            ))),
        }
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.inner.text
    }

    /// The steps after the root, for a reference path.
    pub fn steps(&self) -> Option<&[Step]> {
        match &self.inner.body {
            Body::Reference(steps) => Some(steps),
            Body::Query(_) => None,
        }
    }

    /// The path in RFC 9535 bracket notation after the root, which is always written `$`:
    /// `$['a'][0]` for `$.a[0]` and for `$$.a[0]`. For a reference path this is the normalized
    /// path that [`SelectError::NoResults`] carries.
    pub fn normalized(&self) -> &str {
        &self.inner.normalized
    }

    /// This path as a [`ReferencePath`](crate::ReferencePath), if it is a reference path rooted at `$`.
    pub fn to_reference(&self) -> Option<crate::ReferencePath> {
        match (&self.inner.root, &self.inner.body) {
            (Root::Input, Body::Reference(steps)) => {
                Some(crate::ReferencePath::from_steps(self.as_str(), steps.to_vec()))
            }
            _ => None,
        }
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Path").field(&self.as_str()).finish()
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for Path {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Path {}

impl std::hash::Hash for Path {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl FromStr for Path {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Path::parse(text)
    }
}

#[cfg(test)]
mod tests;
