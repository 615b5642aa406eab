//! Condition and filter expressions: the parsed form and its evaluation against an item.
//!
//! Spec: "Comparison operator and function reference"
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html>).

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::number::Number;
use crate::path::DocumentPath;
use crate::value::{AttributeType, AttributeValue, Item};

/// A comparator: `=`, `<>`, `<`, `<=`, `>`, `>=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comparator {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// Something a condition compares: a path, a value from `ExpressionAttributeValues`, or
/// `size(path)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operand {
    /// The value at a document path (absent if the item lacks it).
    Path(DocumentPath),
    /// A literal value.
    Value(AttributeValue),
    /// `size(path)`: a string's length, a binary's bytes, a set's, list's or map's element count.
    Size(DocumentPath),
}

/// A parsed condition (`ConditionExpression`, `FilterExpression`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Condition {
    /// `a <comparator> b`.
    Compare {
        /// The left operand.
        left: Operand,
        /// The comparator.
        comparator: Comparator,
        /// The right operand.
        right: Operand,
    },
    /// `a BETWEEN lower AND upper` (inclusive).
    Between {
        /// The operand tested.
        operand: Operand,
        /// The lower bound.
        lower: Operand,
        /// The upper bound.
        upper: Operand,
    },
    /// `a IN (b, c, …)`.
    In {
        /// The operand tested.
        operand: Operand,
        /// The candidates (at most 100).
        candidates: Vec<Operand>,
    },
    /// `attribute_exists(path)`.
    AttributeExists(DocumentPath),
    /// `attribute_not_exists(path)`.
    AttributeNotExists(DocumentPath),
    /// `attribute_type(path, :type)`.
    AttributeType(DocumentPath, AttributeType),
    /// `begins_with(a, prefix)`: strings and binaries.
    BeginsWith(Operand, Operand),
    /// `contains(a, b)`: substring, set member, or list element.
    Contains(Operand, Operand),
    /// `NOT c`.
    Not(Box<Condition>),
    /// `c AND d`.
    And(Box<Condition>, Box<Condition>),
    /// `c OR d`.
    Or(Box<Condition>, Box<Condition>),
}

impl Condition {
    /// Evaluates the condition against an item, or against no item (`None`: the item does not
    /// exist, so every path is absent). DynamoDB semantics: comparisons with an absent operand
    /// are false (except `<>`, which is true), `<`/`<=`/`>`/`>=` and `BETWEEN` only hold between
    /// two strings, two numbers or two binaries.
    pub fn evaluate(&self, item: Option<&Item>) -> bool {
        match self {
            Condition::Compare {
                left,
                comparator,
                right,
            } => compare(
                left.resolve(item).as_deref(),
                *comparator,
                right.resolve(item).as_deref(),
            ),
            Condition::Between { operand, lower, upper } => {
                let value = operand.resolve(item);
                let lower = lower.resolve(item);
                let upper = upper.resolve(item);
                compare(value.as_deref(), Comparator::Ge, lower.as_deref())
                    && compare(value.as_deref(), Comparator::Le, upper.as_deref())
            }
            Condition::In { operand, candidates } => {
                let value = operand.resolve(item);
                candidates
                    .iter()
                    .any(|candidate| compare(value.as_deref(), Comparator::Eq, candidate.resolve(item).as_deref()))
            }
            Condition::AttributeExists(path) => item.and_then(|item| path.get(item)).is_some(),
            Condition::AttributeNotExists(path) => item.and_then(|item| path.get(item)).is_none(),
            Condition::AttributeType(path, expected) => item
                .and_then(|item| path.get(item))
                .is_some_and(|value| value.attribute_type() == *expected),
            Condition::BeginsWith(value, prefix) => {
                match (value.resolve(item).as_deref(), prefix.resolve(item).as_deref()) {
                    (Some(AttributeValue::S(text)), Some(AttributeValue::S(prefix))) => {
                        text.starts_with(prefix.as_str())
                    }
                    (Some(AttributeValue::B(bytes)), Some(AttributeValue::B(prefix))) => bytes.starts_with(prefix),
                    _ => false,
                }
            }
            Condition::Contains(haystack, needle) => {
                let (Some(haystack), Some(needle)) = (haystack.resolve(item), needle.resolve(item)) else {
                    return false;
                };
                contains(&haystack, &needle)
            }
            Condition::Not(inner) => !inner.evaluate(item),
            Condition::And(left, right) => left.evaluate(item) && right.evaluate(item),
            Condition::Or(left, right) => left.evaluate(item) || right.evaluate(item),
        }
    }

    /// Every document path the condition reads, in source order.
    pub fn paths(&self) -> Vec<&DocumentPath> {
        let mut paths = Vec::new();
        self.collect_paths(&mut paths);
        paths
    }

    fn collect_paths<'a>(&'a self, paths: &mut Vec<&'a DocumentPath>) {
        let operand = |operand: &'a Operand, paths: &mut Vec<&'a DocumentPath>| {
            if let Operand::Path(path) | Operand::Size(path) = operand {
                paths.push(path);
            }
        };
        match self {
            Condition::Compare { left, right, .. } => {
                operand(left, paths);
                operand(right, paths);
            }
            Condition::Between {
                operand: value,
                lower,
                upper,
            } => {
                operand(value, paths);
                operand(lower, paths);
                operand(upper, paths);
            }
            Condition::In {
                operand: value,
                candidates,
            } => {
                operand(value, paths);
                for candidate in candidates {
                    operand(candidate, paths);
                }
            }
            Condition::AttributeExists(path)
            | Condition::AttributeNotExists(path)
            | Condition::AttributeType(path, _) => paths.push(path),
            Condition::BeginsWith(left, right) | Condition::Contains(left, right) => {
                operand(left, paths);
                operand(right, paths);
            }
            Condition::Not(inner) => inner.collect_paths(paths),
            Condition::And(left, right) | Condition::Or(left, right) => {
                left.collect_paths(paths);
                right.collect_paths(paths);
            }
        }
    }
}

impl Operand {
    /// The operand's value for an item; `None` when a path is absent (or `size` of a type
    /// without a size).
    pub fn resolve<'a>(&'a self, item: Option<&'a Item>) -> Option<Cow<'a, AttributeValue>> {
        match self {
            Operand::Value(value) => Some(Cow::Borrowed(value)),
            Operand::Path(path) => item.and_then(|item| path.get(item)).map(Cow::Borrowed),
            Operand::Size(path) => {
                let size = match item.and_then(|item| path.get(item))? {
                    AttributeValue::S(text) => text.chars().count(),
                    AttributeValue::B(bytes) => bytes.len(),
                    AttributeValue::M(map) => map.len(),
                    AttributeValue::L(list) => list.len(),
                    AttributeValue::Ss(set) => set.len(),
                    AttributeValue::Ns(set) => set.len(),
                    AttributeValue::Bs(set) => set.len(),
                    AttributeValue::N(_) | AttributeValue::Bool(_) | AttributeValue::Null => return None,
                };
                Some(Cow::Owned(AttributeValue::N(Number::from(size as i64))))
            }
        }
    }
}

/// Orders two values of the same scalar type (`S` by UTF-8 bytes, `N` numerically, `B` by
/// bytes); `None` for anything else.
pub fn scalar_order(left: &AttributeValue, right: &AttributeValue) -> Option<Ordering> {
    match (left, right) {
        (AttributeValue::S(a), AttributeValue::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (AttributeValue::N(a), AttributeValue::N(b)) => Some(a.cmp(b)),
        (AttributeValue::B(a), AttributeValue::B(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

fn compare(left: Option<&AttributeValue>, comparator: Comparator, right: Option<&AttributeValue>) -> bool {
    let (Some(left), Some(right)) = (left, right) else {
        return comparator == Comparator::Ne;
    };
    match comparator {
        Comparator::Eq => left == right,
        Comparator::Ne => left != right,
        Comparator::Lt => scalar_order(left, right) == Some(Ordering::Less),
        Comparator::Le => matches!(scalar_order(left, right), Some(Ordering::Less | Ordering::Equal)),
        Comparator::Gt => scalar_order(left, right) == Some(Ordering::Greater),
        Comparator::Ge => matches!(scalar_order(left, right), Some(Ordering::Greater | Ordering::Equal)),
    }
}

fn contains(haystack: &AttributeValue, needle: &AttributeValue) -> bool {
    match (haystack, needle) {
        (AttributeValue::S(text), AttributeValue::S(part)) => text.contains(part.as_str()),
        (AttributeValue::B(bytes), AttributeValue::B(part)) => {
            part.is_empty() || bytes.windows(part.len()).any(|window| window == part.as_slice())
        }
        (AttributeValue::Ss(set), AttributeValue::S(member)) => set.contains(member),
        (AttributeValue::Ns(set), AttributeValue::N(member)) => set.contains(member),
        (AttributeValue::Bs(set), AttributeValue::B(member)) => set.contains(member),
        (AttributeValue::L(list), element) => list.contains(element),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
