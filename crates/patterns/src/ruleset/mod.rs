//! The compiled matcher: many rules, each an id and a [`Pattern`], answering "which rules match
//! this event" without evaluating every rule.
//!
//! How a lookup goes:
//! 1. The event is walked only along field paths some rule names (a trie of path segments), so
//!    fields no rule mentions cost nothing beyond skipping them.
//! 2. Each leaf is looked up in its path's [`index::FieldIndex`], which reports the conditions
//!    (a condition is one field's list in one branch of one rule) the value satisfies.
//! 3. Conditions with `exists: false` on paths the event lacks are satisfied too.
//! 4. A branch whose indexed conditions are all satisfied is a candidate. Its other conditions are
//!    checked directly, and the leaves that satisfied them are checked not to come from different
//!    elements of one array (only when the event has objects inside arrays). A rule matches when
//!    any of its branches does.
//!
//! Which conditions are indexed: `anything-but` and `exists` accept almost every value, so
//! indexing them would report nearly every such condition for every event. In a branch that also
//! has a selective condition (an exact value, `prefix`, `numeric`, ...), they are left out of the
//! index and checked only when the selective ones have matched. A branch made only of them is
//! indexed as it is, and costs a little for every event, as it would matched one by one.
//!
//! The work is thus proportional to the event's size and to the number of selective conditions it
//! satisfies, not to the number of rules.

mod index;
mod interval;

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hash;

use serde_json::Value;

use crate::event::{self, Step, Visitor, consistent};
use crate::pattern::{Condition, Matcher, Pattern};
use index::FieldIndex;

/// A set of rules, each a [`Pattern`] under an id, compiled into an index for matching.
///
/// ```
/// use serde_json::json;
/// use sluice_patterns::{Pattern, RuleSet};
///
/// let mut rules = RuleSet::new();
/// rules.insert("ec2", Pattern::parse(r#"{"source": ["aws.ec2"]}"#).unwrap());
/// rules.insert("big", Pattern::parse(r#"{"detail": {"size": [{"numeric": [">", 100]}]}}"#).unwrap());
/// let event = json!({"source": "aws.ec2", "detail": {"size": 7}});
/// assert_eq!(rules.matching(&event), [&"ec2"]);
/// ```
#[derive(Debug)]
pub struct RuleSet<Id> {
    rules: HashMap<Id, Rule>,
    /// The id of each rule slot.
    ids: Slab<Id>,
    branches: Slab<BranchSlot>,
    conditions: Slab<ConditionSlot>,
    paths: Vec<PathNode>,
    fields: Vec<FieldIndex>,
    /// Fields with `exists: false` conditions, checked after the walk.
    absence_fields: Vec<u32>,
}

#[derive(Debug)]
struct Rule {
    pattern: Pattern,
    slot: u32,
    branches: Vec<u32>,
}

#[derive(Debug)]
struct BranchSlot {
    rule: u32,
    /// The indexed conditions: (condition slot, position in the branch).
    indexed: Vec<(u32, usize)>,
    /// The conditions checked directly on candidates, with their field.
    verify: Vec<(u32, Condition)>,
}

/// Whether a condition is worth indexing: it accepts only some values.
fn selective(condition: &Condition) -> bool {
    condition
        .matchers
        .iter()
        .all(|matcher| !matches!(matcher, Matcher::AnythingBut(_) | Matcher::Exists(_)))
}

#[derive(Debug)]
struct ConditionSlot {
    branch: u32,
    field: u32,
    /// How many indexed conditions the branch has.
    needed: u32,
}

/// A node of the trie of field paths. Node 0 is the root.
#[derive(Debug, Default)]
struct PathNode {
    children: HashMap<Box<str>, u32>,
    field: Option<u32>,
}

impl<Id> Default for RuleSet<Id> {
    fn default() -> Self {
        RuleSet {
            rules: HashMap::new(),
            ids: Slab::default(),
            branches: Slab::default(),
            conditions: Slab::default(),
            paths: vec![PathNode::default()],
            fields: Vec::new(),
            absence_fields: Vec::new(),
        }
    }
}

impl<Id: Clone + Eq + Hash> RuleSet<Id> {
    /// An empty rule set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The pattern of rule `id`.
    pub fn get(&self, id: &Id) -> Option<&Pattern> {
        self.rules.get(id).map(|rule| &rule.pattern)
    }

    /// Adds rule `id`, or replaces its pattern, returning the old one.
    pub fn insert(&mut self, id: Id, pattern: Pattern) -> Option<Pattern> {
        let previous = self.remove(&id);
        let slot = self.ids.insert(id.clone());
        let mut branch_slots = Vec::with_capacity(pattern.branches.len());
        for branch in &pattern.branches {
            let any_selective = branch.conditions.iter().any(selective);
            let needed = if any_selective {
                branch
                    .conditions
                    .iter()
                    .filter(|condition| selective(condition))
                    .count()
            } else {
                branch.conditions.len()
            } as u32;
            let mut entry = BranchSlot {
                rule: slot,
                indexed: Vec::new(),
                verify: Vec::new(),
            };
            let branch_slot = self.branches.next_slot();
            for (position, condition) in branch.conditions.iter().enumerate() {
                let field = self.field(&condition.path);
                if any_selective && !selective(condition) {
                    entry.verify.push((field, condition.clone()));
                    continue;
                }
                let condition_slot = self.conditions.insert(ConditionSlot {
                    branch: branch_slot,
                    field,
                    needed,
                });
                for matcher in &condition.matchers {
                    self.fields[field as usize].insert(matcher, condition_slot);
                }
                entry.indexed.push((condition_slot, position));
            }
            branch_slots.push(self.branches.insert(entry));
        }
        self.rules.insert(
            id,
            Rule {
                pattern,
                slot,
                branches: branch_slots,
            },
        );
        self.refresh_absence_fields();
        previous
    }

    /// Removes rule `id`, returning its pattern.
    pub fn remove(&mut self, id: &Id) -> Option<Pattern> {
        let rule = self.rules.remove(id)?;
        for (branch, branch_slot) in rule.pattern.branches.iter().zip(&rule.branches) {
            let Some(slot) = self.branches.remove(*branch_slot) else {
                continue;
            };
            for (condition_slot, position) in slot.indexed {
                let Some(condition_entry) = self.conditions.remove(condition_slot) else {
                    continue;
                };
                for matcher in &branch.conditions[position].matchers {
                    self.fields[condition_entry.field as usize].remove(matcher, condition_slot);
                }
            }
        }
        self.ids.remove(rule.slot);
        self.refresh_absence_fields();
        Some(rule.pattern)
    }

    /// The ids of the rules `event` matches, each once, in no particular order.
    pub fn matching(&self, event: &Value) -> Vec<&Id> {
        if self.rules.is_empty() {
            return Vec::new();
        }
        // 1. Walk the event along known paths.
        let mut walk = Walk {
            paths: &self.paths,
            leaves: Vec::new(),
            traces: Vec::new(),
        };
        event::walk(event, 0, &mut walk);
        let Walk { leaves, traces, .. } = walk;

        let needs_consistency = !traces.is_empty();
        let trace_of = |leaf: u32| {
            let (start, end) = leaves[leaf as usize].trace;
            &traces[start as usize..end as usize]
        };

        // 2. Look each leaf up, counting the distinct conditions satisfied per branch. The
        //    (branch, condition, leaf) hits are kept only when array consistency must be checked.
        let mut candidates: Vec<u32> = Vec::new();
        let mut hits: Vec<(u32, u32, u32)> = Vec::new();
        let mut leaves_per_field: HashMap<u32, Vec<u32>> = HashMap::new();
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            scratch.begin(self.conditions.slots(), self.branches.slots());
            let mut record = |condition: u32, leaf: u32| {
                let Some(entry) = self.conditions.get(condition) else {
                    return;
                };
                if needs_consistency {
                    hits.push((entry.branch, condition, leaf));
                }
                if scratch.first_time(condition) && scratch.count(entry.branch) == entry.needed {
                    candidates.push(entry.branch);
                }
            };
            for (leaf_number, leaf) in leaves.iter().enumerate() {
                leaves_per_field.entry(leaf.field).or_default().push(leaf_number as u32);
                self.fields[leaf.field as usize]
                    .lookup(leaf.value, &mut |condition| record(condition, leaf_number as u32));
            }
            // 3. Absent fields satisfy their `exists: false` conditions, binding no leaf.
            for &field in &self.absence_fields {
                if !leaves_per_field.contains_key(&field) {
                    for &condition in &self.fields[field as usize].absent {
                        record(condition, NO_LEAF);
                    }
                }
            }
        });

        // 4. Candidates: check the conditions left out of the index, then array consistency.
        candidates.sort_unstable();
        if needs_consistency {
            hits.retain(|hit| candidates.binary_search(&hit.0).is_ok());
            hits.sort_unstable();
            hits.dedup();
        }
        let mut groups = hits.chunk_by(|left, right| left.0 == right.0);
        let mut matched: Vec<u32> = Vec::new();
        for &branch in &candidates {
            let Some(slot) = self.branches.get(branch) else {
                continue;
            };
            let mut choices: Vec<Vec<u32>> = Vec::new();
            if needs_consistency {
                let group = groups.next().unwrap_or_default();
                choices.extend(
                    group
                        .chunk_by(|left, right| left.1 == right.1)
                        .map(|condition| {
                            condition
                                .iter()
                                .map(|hit| hit.2)
                                .filter(|&leaf| leaf != NO_LEAF)
                                .collect()
                        })
                        .filter(|leaves: &Vec<u32>| !leaves.is_empty()),
                );
            }
            let verified = slot.verify.iter().all(|(field, condition)| {
                let present = leaves_per_field.get(field).map_or(&[][..], Vec::as_slice);
                let accepted: Vec<u32> = present
                    .iter()
                    .copied()
                    .filter(|&leaf| {
                        condition
                            .matchers
                            .iter()
                            .any(|matcher| matcher.accepts(leaves[leaf as usize].value))
                    })
                    .collect();
                if accepted.is_empty() {
                    return present.is_empty() && condition.allows_absence();
                }
                if needs_consistency {
                    choices.push(accepted);
                }
                true
            });
            if !verified || (needs_consistency && !consistent(&choices, &trace_of)) {
                continue;
            }
            matched.push(slot.rule);
        }
        matched.sort_unstable();
        matched.dedup();
        matched.into_iter().filter_map(|rule| self.ids.get(rule)).collect()
    }

    /// The field id of a path, creating trie nodes and the field as needed.
    fn field(&mut self, path: &[String]) -> u32 {
        let mut node = 0usize;
        for segment in path {
            node = match self.paths[node].children.get(segment.as_str()) {
                Some(&child) => child as usize,
                None => {
                    self.paths.push(PathNode::default());
                    let child = self.paths.len() - 1;
                    self.paths[node].children.insert(segment.as_str().into(), child as u32);
                    child
                }
            };
        }
        match self.paths[node].field {
            Some(field) => field,
            None => {
                self.fields.push(FieldIndex::default());
                let field = (self.fields.len() - 1) as u32;
                self.paths[node].field = Some(field);
                field
            }
        }
    }

    fn refresh_absence_fields(&mut self) {
        self.absence_fields = (0..self.fields.len() as u32)
            .filter(|&field| !self.fields[field as usize].absent.is_empty())
            .collect();
    }
}

thread_local! {
    /// Per-thread counters for [`RuleSet::matching`], reused across calls so that a lookup neither
    /// allocates nor clears arrays sized by the number of rules.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Counters indexed by condition and branch slot, valid only where their stamp is the current
/// generation; starting a lookup is incrementing the generation.
#[derive(Debug, Default)]
struct Scratch {
    generation: u32,
    condition_stamps: Vec<u32>,
    branch_stamps: Vec<u32>,
    branch_counts: Vec<u32>,
}

impl Scratch {
    fn begin(&mut self, conditions: usize, branches: usize) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.condition_stamps.fill(0);
            self.branch_stamps.fill(0);
            self.generation = 1;
        }
        if self.condition_stamps.len() < conditions {
            self.condition_stamps.resize(conditions, 0);
        }
        if self.branch_stamps.len() < branches {
            self.branch_stamps.resize(branches, 0);
            self.branch_counts.resize(branches, 0);
        }
    }

    /// Whether this is the first report of `condition` in this lookup.
    fn first_time(&mut self, condition: u32) -> bool {
        let stamp = &mut self.condition_stamps[condition as usize];
        let first = *stamp != self.generation;
        *stamp = self.generation;
        first
    }

    /// Counts one more satisfied condition of `branch`, returning the count.
    fn count(&mut self, branch: u32) -> u32 {
        let index = branch as usize;
        if self.branch_stamps[index] != self.generation {
            self.branch_stamps[index] = self.generation;
            self.branch_counts[index] = 0;
        }
        self.branch_counts[index] += 1;
        self.branch_counts[index]
    }
}

/// The leaf number of a condition satisfied by absence.
const NO_LEAF: u32 = u32::MAX;

struct Leaf<'e> {
    field: u32,
    value: &'e Value,
    trace: (u32, u32),
}

/// The walk of one event along the trie, collecting leaves at fields.
struct Walk<'r, 'e> {
    paths: &'r [PathNode],
    leaves: Vec<Leaf<'e>>,
    traces: Vec<Step>,
}

impl<'e> Visitor<'e> for Walk<'_, 'e> {
    type Node = u32;

    fn child(&mut self, node: u32, key: &'e str) -> Option<u32> {
        self.paths[node as usize].children.get(key).copied()
    }

    fn leaf(&mut self, node: u32, value: &'e Value, trace: &[Step]) {
        if let Some(field) = self.paths[node as usize].field {
            let start = self.traces.len() as u32;
            self.traces.extend_from_slice(trace);
            self.leaves.push(Leaf {
                field,
                value,
                trace: (start, self.traces.len() as u32),
            });
        }
    }
}

/// A vector of reusable slots addressed by `u32`.
#[derive(Debug)]
struct Slab<T> {
    items: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slab<T> {
    /// The number of slots, used or free.
    fn slots(&self) -> usize {
        self.items.len()
    }

    /// The slot the next [`Slab::insert`] will use.
    fn next_slot(&self) -> u32 {
        self.free.last().copied().unwrap_or(self.items.len() as u32)
    }

    fn insert(&mut self, item: T) -> u32 {
        match self.free.pop() {
            Some(slot) => {
                self.items[slot as usize] = Some(item);
                slot
            }
            None => {
                self.items.push(Some(item));
                (self.items.len() - 1) as u32
            }
        }
    }

    fn remove(&mut self, slot: u32) -> Option<T> {
        let item = self.items.get_mut(slot as usize)?.take();
        if item.is_some() {
            self.free.push(slot);
        }
        item
    }

    fn get(&self, slot: u32) -> Option<&T> {
        self.items.get(slot as usize)?.as_ref()
    }
}
