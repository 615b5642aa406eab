//! The index of one field path: from a leaf value to the matchers that accept it, by hash lookups
//! (exact values, case-folded values, prefixes and suffixes by their length), interval stabbing
//! (`numeric`, `cidr`) and, for `wildcard`, a check of only the wildcards whose literal start fits.
//!
//! `anything-but` is indexed by what it excludes: a leaf is accepted by every `anything-but` of the
//! field except those whose exclusions it hits.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::ops::Bound;

use serde_json::Value;

use super::interval::IntervalIndex;
use crate::cidr::{Address, Cidr};
use crate::number::{NumberKey, NumericRange, scaled};
use crate::pattern::{Affix, Exclusion, Literal, Matcher, fold};
use crate::wildcard::Wildcard;

/// Everything the rules say about one field path. Targets are condition ids.
#[derive(Debug, Default)]
pub(crate) struct FieldIndex {
    accepted: ValueIndex,
    /// What each `anything-but` excludes; targets are slots of `anything_but`.
    excluded: ValueIndex,
    /// The condition of each `anything-but`, by slot; `None` for a freed slot.
    anything_but: Vec<Option<u32>>,
    free_anything_but: Vec<u32>,
    /// Conditions with `exists: false`, satisfied when the event has no leaf here.
    pub(crate) absent: Vec<u32>,
}

impl FieldIndex {
    pub(crate) fn insert(&mut self, matcher: &Matcher, condition: u32) {
        match matcher {
            Matcher::Exists(false) => self.absent.push(condition),
            Matcher::AnythingBut(exclusion) => {
                let slot = match self.free_anything_but.pop() {
                    Some(slot) => {
                        self.anything_but[slot as usize] = Some(condition);
                        slot
                    }
                    None => {
                        self.anything_but.push(Some(condition));
                        (self.anything_but.len() - 1) as u32
                    }
                };
                for key in exclusion_keys(exclusion) {
                    self.excluded.insert(key, slot);
                }
            }
            positive => {
                if let Some(key) = positive_key(positive) {
                    self.accepted.insert(key, condition);
                }
            }
        }
    }

    pub(crate) fn remove(&mut self, matcher: &Matcher, condition: u32) {
        match matcher {
            Matcher::Exists(false) => remove_one(&mut self.absent, condition),
            Matcher::AnythingBut(exclusion) => {
                // The slot is one whose condition is ours and whose exclusions are these; any
                // such slot will do, as they are interchangeable.
                let keys = exclusion_keys(exclusion);
                let Some(slot) = (0..self.anything_but.len() as u32).find(|&slot| {
                    self.anything_but[slot as usize] == Some(condition) && self.excluded.holds(&keys, slot)
                }) else {
                    return;
                };
                for key in keys {
                    self.excluded.remove(key, slot);
                }
                self.anything_but[slot as usize] = None;
                self.free_anything_but.push(slot);
            }
            positive => {
                if let Some(key) = positive_key(positive) {
                    self.accepted.remove(key, condition);
                }
            }
        }
    }

    /// Reports every condition one leaf value satisfies (possibly more than once).
    pub(crate) fn lookup(&self, value: &Value, report: &mut impl FnMut(u32)) {
        self.accepted.lookup(value, report);
        if self.anything_but.len() > self.free_anything_but.len() {
            let mut hit = Vec::new();
            self.excluded.lookup(value, &mut |slot| hit.push(slot));
            hit.sort_unstable();
            for (slot, condition) in self.anything_but.iter().enumerate() {
                if let Some(condition) = condition
                    && hit.binary_search(&(slot as u32)).is_err()
                {
                    report(*condition);
                }
            }
        }
    }
}

/// One thing a [`ValueIndex`] can hold.
#[derive(Debug, Clone, Copy)]
enum Key<'p> {
    Literal(&'p Literal),
    Prefix(&'p Affix),
    Suffix(&'p Affix),
    Folded(&'p str),
    Wildcard(&'p Wildcard),
    Numeric(&'p NumericRange),
    Cidr(&'p Cidr),
    Any,
}

fn positive_key(matcher: &Matcher) -> Option<Key<'_>> {
    Some(match matcher {
        Matcher::Exact(literal) => Key::Literal(literal),
        Matcher::Prefix(affix) => Key::Prefix(affix),
        Matcher::Suffix(affix) => Key::Suffix(affix),
        Matcher::EqualsIgnoreCase(folded) => Key::Folded(folded),
        Matcher::Wildcard(wildcard) => Key::Wildcard(wildcard),
        Matcher::Numeric(range) => Key::Numeric(range),
        Matcher::Cidr(cidr) => Key::Cidr(cidr),
        Matcher::Exists(true) => Key::Any,
        Matcher::Exists(false) | Matcher::AnythingBut(_) => return None,
    })
}

/// What an `anything-but` excludes, as keys to index.
fn exclusion_keys(exclusion: &Exclusion) -> Vec<Key<'_>> {
    match exclusion {
        Exclusion::Values(literals) => literals.iter().map(Key::Literal).collect(),
        Exclusion::Prefix(affix) => vec![Key::Prefix(affix)],
        Exclusion::Suffix(affix) => vec![Key::Suffix(affix)],
        Exclusion::EqualsIgnoreCase(folded) => folded.iter().map(|text| Key::Folded(text)).collect(),
        Exclusion::Wildcards(wildcards) => wildcards.iter().map(Key::Wildcard).collect(),
    }
}

/// Strings keyed by their own text, for exact and folded lookups.
type Table<T> = HashMap<Box<str>, Vec<T>>;

/// Targets keyed by a prefix (or suffix) text, with the distinct lengths present, so that a lookup
/// is one hash probe per distinct length rather than a scan of every affix.
#[derive(Debug)]
struct Affixes<T> {
    by_text: Table<T>,
    lengths: BTreeMap<usize, usize>,
}

impl<T> Default for Affixes<T> {
    fn default() -> Self {
        Affixes {
            by_text: HashMap::new(),
            lengths: BTreeMap::new(),
        }
    }
}

impl<T: PartialEq> Affixes<T> {
    fn insert(&mut self, text: &str, item: T) {
        self.by_text.entry(text.into()).or_default().push(item);
        *self.lengths.entry(text.len()).or_default() += 1;
    }

    fn remove(&mut self, text: &str, matches: impl Fn(&T) -> bool) -> Option<T> {
        let items = self.by_text.get_mut(text)?;
        let position = items.iter().position(matches)?;
        let item = items.swap_remove(position);
        if items.is_empty() {
            self.by_text.remove(text);
        }
        if let Some(count) = self.lengths.get_mut(&text.len()) {
            *count -= 1;
            if *count == 0 {
                self.lengths.remove(&text.len());
            }
        }
        Some(item)
    }

    fn contains(&self, text: &str, matches: impl Fn(&T) -> bool) -> bool {
        self.by_text.get(text).is_some_and(|items| items.iter().any(matches))
    }

    /// The items of every text that occurs in `value`, each once: one probe per distinct window of
    /// each length present.
    fn each_substring_of<'a>(&'a self, value: &'a str) -> impl Iterator<Item = &'a Vec<T>> + 'a {
        let mut windows: Vec<&'a str> = Vec::new();
        for &length in self.lengths.keys().take_while(|&&length| length <= value.len()) {
            let first = windows.len();
            windows.extend((0..=value.len() - length).filter_map(|start| value.get(start..start + length)));
            windows[first..].sort_unstable();
            let mut kept = first;
            for index in first..windows.len() {
                if index == first || windows[index] != windows[kept - 1] {
                    windows[kept] = windows[index];
                    kept += 1;
                }
            }
            windows.truncate(kept);
        }
        windows.into_iter().filter_map(|window| self.by_text.get(window))
    }

    /// The items of every text that starts (`suffix == false`) or ends `value`.
    fn each_affix_of<'a>(&'a self, value: &'a str, suffix: bool) -> impl Iterator<Item = &'a Vec<T>> + 'a {
        self.lengths
            .keys()
            .take_while(move |&&length| length <= value.len())
            .filter_map(move |&length| {
                let part = if suffix {
                    value.get(value.len() - length..)
                } else {
                    value.get(..length)
                };
                self.by_text.get(part?)
            })
    }
}

/// Leaf values to targets, for one kind of use (accepting matchers, or `anything-but` exclusions).
#[derive(Debug, Default)]
struct ValueIndex {
    strings: Table<u32>,
    numbers: HashMap<NumberKey, Vec<u32>>,
    /// `null`, `false`, `true`.
    scalars: [Vec<u32>; 3],
    folded: Table<u32>,
    prefixes: Affixes<u32>,
    suffixes: Affixes<u32>,
    folded_prefixes: Affixes<u32>,
    folded_suffixes: Affixes<u32>,
    /// Keyed by the wildcard's longest literal piece, so only wildcards whose piece occurs in the
    /// value are tried.
    wildcards: Affixes<(Wildcard, u32)>,
    numeric: IntervalIndex<i64>,
    cidr_v4: IntervalIndex<u32>,
    cidr_v6: IntervalIndex<u128>,
    any: Vec<u32>,
    /// How many entries need the folded form of a string, so it is computed only when needed.
    folding: usize,
}

fn scalar_slot(literal: &Literal) -> Option<usize> {
    match literal {
        Literal::Null => Some(0),
        Literal::Bool(false) => Some(1),
        Literal::Bool(true) => Some(2),
        _ => None,
    }
}

fn remove_one(targets: &mut Vec<u32>, target: u32) {
    if let Some(position) = targets.iter().position(|&item| item == target) {
        targets.swap_remove(position);
    }
}

fn remove_keyed<K: Hash + Eq + ?Sized>(map: &mut HashMap<Box<K>, Vec<u32>>, key: &K, target: u32)
where
    Box<K>: std::borrow::Borrow<K>,
{
    if let Some(targets) = map.get_mut(key) {
        remove_one(targets, target);
        if targets.is_empty() {
            map.remove(key);
        }
    }
}

impl ValueIndex {
    fn insert(&mut self, key: Key<'_>, target: u32) {
        match key {
            Key::Literal(Literal::String(text)) => self.strings.entry(text.as_str().into()).or_default().push(target),
            Key::Literal(Literal::Number(number)) => self.numbers.entry(*number).or_default().push(target),
            Key::Literal(literal) => {
                if let Some(slot) = scalar_slot(literal) {
                    self.scalars[slot].push(target);
                }
            }
            Key::Prefix(affix) if affix.ignore_case => {
                self.folding += 1;
                self.folded_prefixes.insert(&affix.text, target);
            }
            Key::Prefix(affix) => self.prefixes.insert(&affix.text, target),
            Key::Suffix(affix) if affix.ignore_case => {
                self.folding += 1;
                self.folded_suffixes.insert(&affix.text, target);
            }
            Key::Suffix(affix) => self.suffixes.insert(&affix.text, target),
            Key::Folded(text) => {
                self.folding += 1;
                self.folded.entry(text.into()).or_default().push(target);
            }
            Key::Wildcard(wildcard) => self
                .wildcards
                .insert(wildcard.longest_piece(), (wildcard.clone(), target)),
            Key::Numeric(range) => self.numeric.insert(range.low, range.high, target),
            Key::Cidr(Cidr::V4 { low, high }) => {
                self.cidr_v4
                    .insert(Bound::Included(*low), Bound::Included(*high), target)
            }
            Key::Cidr(Cidr::V6 { low, high }) => {
                self.cidr_v6
                    .insert(Bound::Included(*low), Bound::Included(*high), target)
            }
            Key::Any => self.any.push(target),
        }
    }

    fn remove(&mut self, key: Key<'_>, target: u32) {
        match key {
            Key::Literal(Literal::String(text)) => remove_keyed(&mut self.strings, text.as_str(), target),
            Key::Literal(Literal::Number(number)) => {
                if let Some(targets) = self.numbers.get_mut(number) {
                    remove_one(targets, target);
                    if targets.is_empty() {
                        self.numbers.remove(number);
                    }
                }
            }
            Key::Literal(literal) => {
                if let Some(slot) = scalar_slot(literal) {
                    remove_one(&mut self.scalars[slot], target);
                }
            }
            Key::Prefix(affix) if affix.ignore_case => {
                if self
                    .folded_prefixes
                    .remove(&affix.text, |&item| item == target)
                    .is_some()
                {
                    self.folding -= 1;
                }
            }
            Key::Prefix(affix) => drop(self.prefixes.remove(&affix.text, |&item| item == target)),
            Key::Suffix(affix) if affix.ignore_case => {
                if self
                    .folded_suffixes
                    .remove(&affix.text, |&item| item == target)
                    .is_some()
                {
                    self.folding -= 1;
                }
            }
            Key::Suffix(affix) => drop(self.suffixes.remove(&affix.text, |&item| item == target)),
            Key::Folded(text) => {
                if self.folded.get(text).is_some_and(|targets| targets.contains(&target)) {
                    self.folding -= 1;
                }
                remove_keyed(&mut self.folded, text, target);
            }
            Key::Wildcard(wildcard) => drop(self.wildcards.remove(wildcard.longest_piece(), |(held, item)| {
                *item == target && held == wildcard
            })),
            Key::Numeric(range) => self.numeric.remove(range.low, range.high, target),
            Key::Cidr(Cidr::V4 { low, high }) => {
                self.cidr_v4
                    .remove(Bound::Included(*low), Bound::Included(*high), target)
            }
            Key::Cidr(Cidr::V6 { low, high }) => {
                self.cidr_v6
                    .remove(Bound::Included(*low), Bound::Included(*high), target)
            }
            Key::Any => remove_one(&mut self.any, target),
        }
    }

    /// Whether every key is held for `target` (used to find an `anything-but` slot to remove).
    fn holds(&self, keys: &[Key<'_>], target: u32) -> bool {
        keys.iter().all(|key| match key {
            Key::Literal(Literal::String(text)) => self.strings.get(text.as_str()).is_some_and(|t| t.contains(&target)),
            Key::Literal(Literal::Number(number)) => self.numbers.get(number).is_some_and(|t| t.contains(&target)),
            Key::Literal(literal) => scalar_slot(literal).is_some_and(|slot| self.scalars[slot].contains(&target)),
            Key::Prefix(affix) if affix.ignore_case => self.folded_prefixes.contains(&affix.text, |&t| t == target),
            Key::Prefix(affix) => self.prefixes.contains(&affix.text, |&t| t == target),
            Key::Suffix(affix) if affix.ignore_case => self.folded_suffixes.contains(&affix.text, |&t| t == target),
            Key::Suffix(affix) => self.suffixes.contains(&affix.text, |&t| t == target),
            Key::Folded(text) => self.folded.get(*text).is_some_and(|t| t.contains(&target)),
            Key::Wildcard(wildcard) => self
                .wildcards
                .contains(wildcard.longest_piece(), |(held, t)| *t == target && held == *wildcard),
            // Not used for exclusions.
            Key::Numeric(_) | Key::Cidr(_) | Key::Any => false,
        })
    }

    fn lookup(&self, value: &Value, report: &mut impl FnMut(u32)) {
        match value {
            Value::String(text) => {
                if let Some(targets) = self.strings.get(text.as_str()) {
                    emit(targets, report);
                }
                self.prefixes
                    .each_affix_of(text, false)
                    .for_each(|targets| emit(targets, report));
                self.suffixes
                    .each_affix_of(text, true)
                    .for_each(|targets| emit(targets, report));
                if self.folding > 0 {
                    let folded = fold(text);
                    if let Some(targets) = self.folded.get(folded.as_str()) {
                        emit(targets, report);
                    }
                    self.folded_prefixes
                        .each_affix_of(&folded, false)
                        .for_each(|targets| emit(targets, report));
                    self.folded_suffixes
                        .each_affix_of(&folded, true)
                        .for_each(|targets| emit(targets, report));
                }
                for wildcards in self.wildcards.each_substring_of(text) {
                    for (wildcard, target) in wildcards {
                        if wildcard.matches(text) {
                            report(*target);
                        }
                    }
                }
                if !(self.cidr_v4.is_empty() && self.cidr_v6.is_empty()) {
                    match Address::parse(text) {
                        Some(Address::V4(address)) => self.cidr_v4.stab(address, report),
                        Some(Address::V6(address)) => self.cidr_v6.stab(address, report),
                        None => {}
                    }
                }
            }
            Value::Number(number) => {
                let Some(number) = number.as_f64() else { return };
                if let Some(targets) = self.numbers.get(&NumberKey::of(number)) {
                    emit(targets, report);
                }
                if let Some(millionths) = scaled(number) {
                    self.numeric.stab(millionths, report);
                }
            }
            Value::Null => emit(&self.scalars[0], report),
            Value::Bool(boolean) => emit(&self.scalars[usize::from(*boolean) + 1], report),
            Value::Array(_) | Value::Object(_) => return,
        }
        emit(&self.any, report);
    }
}

fn emit(targets: &[u32], report: &mut impl FnMut(u32)) {
    for &target in targets {
        report(target);
    }
}
