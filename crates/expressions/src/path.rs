//! Document paths (`a.b[1].c`): a top-level attribute name followed by map keys and list
//! indexes, with placeholders already resolved.
//!
//! Spec: "Specifying item attributes when using expressions"
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.Attributes.html>).

use std::fmt;

use crate::value::{AttributeValue, Item};

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathElement {
    /// A map key (or, first, the attribute name). May contain any character, even `.`.
    Name(String),
    /// A list index.
    Index(usize),
}

/// A resolved document path. The first element is always a [`PathElement::Name`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentPath {
    elements: Vec<PathElement>,
}

/// How two paths relate, for DynamoDB's "overlap" and "conflict" rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Relation {
    /// Neither is a prefix of the other and they agree on how shared attributes are used.
    Disjoint,
    /// One is the other or one of its ancestors.
    Overlap,
    /// They use the same attribute once as a map and once as a list.
    Conflict,
}

impl DocumentPath {
    /// A path to a top-level attribute.
    pub fn attribute(name: impl Into<String>) -> DocumentPath {
        DocumentPath {
            elements: vec![PathElement::Name(name.into())],
        }
    }

    /// This path extended by a map key.
    pub fn key(mut self, name: impl Into<String>) -> DocumentPath {
        self.elements.push(PathElement::Name(name.into()));
        self
    }

    /// This path extended by a list index.
    pub fn index(mut self, index: usize) -> DocumentPath {
        self.elements.push(PathElement::Index(index));
        self
    }

    /// The steps, starting with the attribute name.
    pub fn elements(&self) -> &[PathElement] {
        &self.elements
    }

    /// The top-level attribute name.
    pub fn attribute_name(&self) -> &str {
        match self.elements.first() {
            Some(PathElement::Name(name)) => name,
            _ => "",
        }
    }

    /// Whether the path is just an attribute name.
    pub fn is_top_level(&self) -> bool {
        self.elements.len() == 1
    }

    /// The value at this path, if the item has one.
    pub fn get<'a>(&self, item: &'a Item) -> Option<&'a AttributeValue> {
        let (first, rest) = self.elements.split_first()?;
        let PathElement::Name(name) = first else { return None };
        let mut value = item.get(name)?;
        for element in rest {
            value = match (element, value) {
                (PathElement::Name(key), AttributeValue::M(map)) => map.get(key)?,
                (PathElement::Index(index), AttributeValue::L(list)) => list.get(*index)?,
                _ => return None,
            };
        }
        Some(value)
    }

    /// How DynamoDB prints a path in error messages: `[a, b, [1]]`.
    pub fn aws_display(&self) -> String {
        let parts: Vec<String> = self
            .elements
            .iter()
            .map(|element| match element {
                PathElement::Name(name) => name.clone(),
                PathElement::Index(index) => format!("[{index}]"),
            })
            .collect();
        format!("[{}]", parts.join(", "))
    }

    pub(crate) fn from_elements(elements: Vec<PathElement>) -> DocumentPath {
        DocumentPath { elements }
    }

    pub(crate) fn relation(&self, other: &DocumentPath) -> Relation {
        for (mine, theirs) in self.elements.iter().zip(&other.elements) {
            match (mine, theirs) {
                (PathElement::Name(a), PathElement::Name(b)) if a == b => {}
                (PathElement::Index(a), PathElement::Index(b)) if a == b => {}
                (PathElement::Name(_), PathElement::Name(_)) | (PathElement::Index(_), PathElement::Index(_)) => {
                    return Relation::Disjoint;
                }
                _ => return Relation::Conflict,
            }
        }
        Relation::Overlap
    }
}

impl fmt::Display for DocumentPath {
    /// Expression syntax: `a.b[1]` (names are printed as they are, without placeholders).
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, element) in self.elements.iter().enumerate() {
            match element {
                PathElement::Name(name) if position == 0 => formatter.write_str(name)?,
                PathElement::Name(name) => write!(formatter, ".{name}")?,
                PathElement::Index(index) => write!(formatter, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Checks a list of paths pairwise for overlaps and conflicts, in order.
pub(crate) fn check_disjoint(kind: crate::ExpressionKind, paths: &[&DocumentPath]) -> Result<(), crate::Error> {
    for (position, later) in paths.iter().enumerate() {
        for earlier in &paths[..position] {
            let (one, two) = (earlier.aws_display(), later.aws_display());
            match earlier.relation(later) {
                Relation::Disjoint => {}
                Relation::Overlap => return Err(crate::Error::PathsOverlap { kind, one, two }),
                Relation::Conflict => return Err(crate::Error::PathsConflict { kind, one, two }),
            }
        }
    }
    Ok(())
}
