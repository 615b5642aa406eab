//! Key condition expressions (Query): equality on the partition key and at most one condition
//! on the sort key, with helpers to scan an ordered index of encoded sort keys.
//!
//! Spec: "Key condition expressions for the Query operation"
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.KeyConditionExpressions.html>).

use std::cmp::Ordering;
use std::ops::Bound;

use crate::condition::scalar_order;
use crate::key::encode_sort_key;
use crate::value::{AttributeValue, Item};

/// A validated `KeyConditionExpression`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyCondition {
    /// The partition key's name.
    pub partition_key: String,
    /// The partition key value to match.
    pub partition_value: AttributeValue,
    /// The sort key condition, if any.
    pub sort: Option<SortKeyCondition>,
}

/// The condition on the sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SortKeyCondition {
    /// The sort key's name.
    pub name: String,
    /// What the sort key must satisfy.
    pub operator: SortKeyOperator,
}

/// The sort key operators Query allows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SortKeyOperator {
    /// `= v`
    Eq(AttributeValue),
    /// `< v`
    Lt(AttributeValue),
    /// `<= v`
    Le(AttributeValue),
    /// `> v`
    Gt(AttributeValue),
    /// `>= v`
    Ge(AttributeValue),
    /// `BETWEEN low AND high` (inclusive).
    Between(AttributeValue, AttributeValue),
    /// `begins_with(key, prefix)` (strings and binaries).
    BeginsWith(AttributeValue),
}

impl KeyCondition {
    /// Whether an item's key satisfies the condition.
    pub fn matches(&self, item: &Item) -> bool {
        item.get(&self.partition_key) == Some(&self.partition_value)
            && self
                .sort
                .as_ref()
                .is_none_or(|sort| item.get(&sort.name).is_some_and(|value| sort.operator.matches(value)))
    }
}

impl SortKeyOperator {
    /// Whether a sort key value satisfies the operator.
    pub fn matches(&self, value: &AttributeValue) -> bool {
        let order = |bound: &AttributeValue| scalar_order(value, bound);
        match self {
            SortKeyOperator::Eq(bound) => order(bound) == Some(Ordering::Equal),
            SortKeyOperator::Lt(bound) => order(bound) == Some(Ordering::Less),
            SortKeyOperator::Le(bound) => matches!(order(bound), Some(Ordering::Less | Ordering::Equal)),
            SortKeyOperator::Gt(bound) => order(bound) == Some(Ordering::Greater),
            SortKeyOperator::Ge(bound) => matches!(order(bound), Some(Ordering::Greater | Ordering::Equal)),
            SortKeyOperator::Between(low, high) => {
                matches!(order(low), Some(Ordering::Greater | Ordering::Equal))
                    && matches!(order(high), Some(Ordering::Less | Ordering::Equal))
            }
            SortKeyOperator::BeginsWith(prefix) => match (value, prefix) {
                (AttributeValue::S(text), AttributeValue::S(prefix)) => text.starts_with(prefix.as_str()),
                (AttributeValue::B(bytes), AttributeValue::B(prefix)) => bytes.starts_with(prefix),
                _ => false,
            },
        }
    }

    /// The range of encoded sort keys ([`encode_sort_key`]) that satisfy the operator, for a
    /// range scan over an ordered index. Exact: every key in the range matches.
    pub fn encoded_range(&self) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
        let encode = |value: &AttributeValue| encode_sort_key(value).unwrap_or_default();
        match self {
            SortKeyOperator::Eq(value) => (Bound::Included(encode(value)), Bound::Included(encode(value))),
            SortKeyOperator::Lt(value) => (Bound::Unbounded, Bound::Excluded(encode(value))),
            SortKeyOperator::Le(value) => (Bound::Unbounded, Bound::Included(encode(value))),
            SortKeyOperator::Gt(value) => (Bound::Excluded(encode(value)), Bound::Unbounded),
            SortKeyOperator::Ge(value) => (Bound::Included(encode(value)), Bound::Unbounded),
            SortKeyOperator::Between(low, high) => (Bound::Included(encode(low)), Bound::Included(encode(high))),
            SortKeyOperator::BeginsWith(prefix) => {
                let prefix = encode(prefix);
                let upper = prefix_successor(&prefix).map_or(Bound::Unbounded, Bound::Excluded);
                (Bound::Included(prefix), upper)
            }
        }
    }
}

/// The smallest byte string greater than every string with this prefix, if there is one.
fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut successor = prefix.to_vec();
    while let Some(last) = successor.pop() {
        if last < 0xFF {
            successor.push(last + 1);
            return Some(successor);
        }
    }
    None
}

#[cfg(test)]
mod tests;
