//! The parsed pattern: a disjunction of branches (the `$or`s multiplied out), each a conjunction of
//! conditions on one field path, each an "any of" list of matchers. Also what each matcher says
//! about one leaf value of an event: the reference semantics the compiled index must agree with.

use serde_json::Value;

use crate::cidr::{Address, Cidr};
use crate::number::{NumberKey, NumericRange, scaled};
use crate::wildcard::Wildcard;

/// A valid EventBridge event pattern, parsed once.
///
/// Build one with [`Pattern::parse`] (JSON text) or [`Pattern::from_value`]; test one event with
/// [`Pattern::matches`], or put many into a [`crate::RuleSet`].
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// The pattern matches when any branch does. Never empty.
    pub(crate) branches: Vec<Branch>,
}

/// One way for the pattern to match: every condition must hold, on leaves that are not in different
/// elements of one event array.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Branch {
    pub(crate) conditions: Vec<Condition>,
}

/// A field path and the values allowed there: the condition holds when some leaf at the path is
/// accepted by some matcher, or when there is no leaf at the path and a matcher is `exists: false`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    pub(crate) path: Vec<String>,
    pub(crate) matchers: Vec<Matcher>,
}

impl Condition {
    /// Whether `{"exists": false}` is among the matchers.
    pub(crate) fn allows_absence(&self) -> bool {
        self.matchers.contains(&Matcher::Exists(false))
    }
}

/// A JSON scalar from a pattern, compared with event leaves by value (numbers by [`NumberKey`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Literal {
    Null,
    Bool(bool),
    Number(NumberKey),
    String(String),
}

impl Literal {
    /// The literal an event leaf is; `None` for objects and arrays, which are not leaves.
    pub(crate) fn of(value: &Value) -> Option<Literal> {
        Some(match value {
            Value::Null => Literal::Null,
            Value::Bool(boolean) => Literal::Bool(*boolean),
            Value::Number(number) => Literal::Number(NumberKey::of(number.as_f64()?)),
            Value::String(string) => Literal::String(string.clone()),
            Value::Array(_) | Value::Object(_) => return None,
        })
    }
}

/// `prefix` or `suffix` text; folded to lower case when it came with `equals-ignore-case`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Affix {
    pub(crate) text: String,
    pub(crate) ignore_case: bool,
}

/// One entry of a condition's list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Matcher {
    /// A string, number, boolean or null, written as itself.
    Exact(Literal),
    Prefix(Affix),
    Suffix(Affix),
    /// Folded to lower case.
    EqualsIgnoreCase(String),
    Wildcard(Wildcard),
    Numeric(NumericRange),
    Cidr(Cidr),
    Exists(bool),
    AnythingBut(Exclusion),
}

/// What an `anything-but` excludes; it accepts every other leaf, of any type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Exclusion {
    /// Strings only or numbers only.
    Values(Vec<Literal>),
    /// Case-sensitive.
    Prefix(Affix),
    /// Case-sensitive.
    Suffix(Affix),
    /// Folded to lower case.
    EqualsIgnoreCase(Vec<String>),
    Wildcards(Vec<Wildcard>),
}

/// Case folding for the `equals-ignore-case` forms.
pub(crate) fn fold(text: &str) -> String {
    text.to_lowercase()
}

impl Matcher {
    /// Whether this matcher accepts one leaf (a scalar) of the event. `exists: false` accepts no
    /// leaf: it is satisfied by the absence of leaves, which the caller checks.
    pub(crate) fn accepts(&self, value: &Value) -> bool {
        match self {
            Matcher::Exact(literal) => Literal::of(value).as_ref() == Some(literal),
            Matcher::Prefix(affix) => value.as_str().is_some_and(|text| {
                if affix.ignore_case {
                    fold(text).starts_with(&affix.text)
                } else {
                    text.starts_with(&affix.text)
                }
            }),
            Matcher::Suffix(affix) => value.as_str().is_some_and(|text| {
                if affix.ignore_case {
                    fold(text).ends_with(&affix.text)
                } else {
                    text.ends_with(&affix.text)
                }
            }),
            Matcher::EqualsIgnoreCase(folded) => value.as_str().is_some_and(|text| fold(text) == *folded),
            Matcher::Wildcard(wildcard) => value.as_str().is_some_and(|text| wildcard.matches(text)),
            Matcher::Numeric(range) => value
                .as_f64()
                .and_then(scaled)
                .is_some_and(|millionths| range.contains(millionths)),
            Matcher::Cidr(cidr) => value
                .as_str()
                .and_then(Address::parse)
                .is_some_and(|address| cidr.contains(address)),
            Matcher::Exists(exists) => *exists,
            Matcher::AnythingBut(exclusion) => !exclusion.excludes(value),
        }
    }
}

impl Exclusion {
    pub(crate) fn excludes(&self, value: &Value) -> bool {
        match self {
            Exclusion::Values(literals) => Literal::of(value).is_some_and(|literal| literals.contains(&literal)),
            Exclusion::Prefix(prefix) => value
                .as_str()
                .is_some_and(|text| text.starts_with(prefix.text.as_str())),
            Exclusion::Suffix(suffix) => value.as_str().is_some_and(|text| text.ends_with(suffix.text.as_str())),
            Exclusion::EqualsIgnoreCase(folded) => value.as_str().is_some_and(|text| folded.contains(&fold(text))),
            Exclusion::Wildcards(wildcards) => value
                .as_str()
                .is_some_and(|text| wildcards.iter().any(|wildcard| wildcard.matches(text))),
        }
    }
}
