//! Projection expressions: which attributes (and nested parts) to return.
//!
//! Spec: "Using projection expressions in DynamoDB"
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ProjectionExpressions.html>).
//! Parts of a list come back as a shorter list, in index order (`a[3], a[1]` gives the two
//! elements, second then fourth); paths the item does not have are left out.

use std::collections::BTreeMap;

use crate::path::{DocumentPath, PathElement};
use crate::value::{AttributeValue, Item};

/// A parsed `ProjectionExpression`: non-overlapping paths, in source order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Projection {
    pub(crate) paths: Vec<DocumentPath>,
}

impl Projection {
    /// The paths, in source order.
    pub fn paths(&self) -> &[DocumentPath] {
        &self.paths
    }

    /// The item reduced to the projected paths.
    pub fn apply(&self, item: &Item) -> Item {
        project(item, &self.paths)
    }
}

/// The parts of `item` at `paths`, keeping their nesting. Used for projections and for
/// `UPDATED_OLD`/`UPDATED_NEW`.
pub fn project<'a>(item: &Item, paths: impl IntoIterator<Item = &'a DocumentPath>) -> Item {
    let mut tree: BTreeMap<String, Node> = BTreeMap::new();
    for path in paths {
        let Some(value) = path.get(item) else { continue };
        let Some((PathElement::Name(name), rest)) = path.elements().split_first() else {
            continue;
        };
        let node = tree.entry(name.clone()).or_insert_with(|| Node::for_step(rest.first()));
        node.insert(rest, value);
    }
    tree.into_iter().map(|(name, node)| (name, node.into_value())).collect()
}

/// A partial copy of a value: the projected parts of maps and lists.
enum Node {
    Whole(AttributeValue),
    Map(BTreeMap<String, Node>),
    List(BTreeMap<usize, Node>),
}

impl Node {
    fn for_step(step: Option<&PathElement>) -> Node {
        match step {
            Some(PathElement::Name(_)) => Node::Map(BTreeMap::new()),
            Some(PathElement::Index(_)) => Node::List(BTreeMap::new()),
            None => Node::Whole(AttributeValue::Null),
        }
    }

    fn insert(&mut self, rest: &[PathElement], value: &AttributeValue) {
        let Some((step, deeper)) = rest.split_first() else {
            *self = Node::Whole(value.clone());
            return;
        };
        match (self, step) {
            (Node::Map(children), PathElement::Name(key)) => children
                .entry(key.clone())
                .or_insert_with(|| Node::for_step(deeper.first()))
                .insert(deeper, value),
            (Node::List(children), PathElement::Index(index)) => children
                .entry(*index)
                .or_insert_with(|| Node::for_step(deeper.first()))
                .insert(deeper, value),
            // Paths are checked not to overlap or conflict, so a node is never both.
            _ => {}
        }
    }

    fn into_value(self) -> AttributeValue {
        match self {
            Node::Whole(value) => value,
            Node::Map(children) => AttributeValue::M(
                children
                    .into_iter()
                    .map(|(key, node)| (key, node.into_value()))
                    .collect(),
            ),
            Node::List(children) => AttributeValue::L(children.into_values().map(Node::into_value).collect()),
        }
    }
}

#[cfg(test)]
mod tests;
