//! The straightforward evaluation of one pattern against one event: find the leaves at each
//! condition's path, test each matcher on them, and look for a consistent choice. This is what
//! [`crate::test_event_pattern`] uses, and what the compiled [`crate::RuleSet`] must agree with.

use serde_json::Value;

use crate::event::{self, Step, Visitor, consistent};
use crate::pattern::{Branch, Pattern};

impl Pattern {
    /// Whether `event` matches this pattern, per EventBridge's rules: every field named must be
    /// present (unless `exists: false`) with an allowed value; a field whose value is an array
    /// matches when any element does; and fields inside objects in different elements of one array
    /// never combine into a match.
    pub fn matches(&self, event: &Value) -> bool {
        let mut leaves = AllLeaves {
            paths: vec![Vec::new()],
            leaves: Vec::new(),
            traces: Vec::new(),
        };
        event::walk(event, 0, &mut leaves);
        self.branches.iter().any(|branch| branch_matches(branch, &leaves))
    }
}

fn branch_matches(branch: &Branch, leaves: &AllLeaves<'_>) -> bool {
    let mut choices: Vec<Vec<usize>> = Vec::with_capacity(branch.conditions.len());
    for condition in &branch.conditions {
        let mut present = false;
        let mut accepted = Vec::new();
        for (index, leaf) in leaves.leaves.iter().enumerate() {
            if leaves.paths[leaf.path].iter().eq(condition.path.iter()) {
                present = true;
                if condition.matchers.iter().any(|matcher| matcher.accepts(leaf.value)) {
                    accepted.push(index);
                }
            }
        }
        if !accepted.is_empty() {
            choices.push(accepted);
        } else if present || !condition.allows_absence() {
            return false;
        }
    }
    let trace_of = |leaf: usize| {
        let (start, end) = leaves.leaves[leaf].trace;
        &leaves.traces[start..end]
    };
    consistent(&choices, &trace_of)
}

struct Leaf<'e> {
    path: usize,
    value: &'e Value,
    trace: (usize, usize),
}

/// Every leaf of the event with its full path.
struct AllLeaves<'e> {
    paths: Vec<Vec<&'e str>>,
    leaves: Vec<Leaf<'e>>,
    traces: Vec<Step>,
}

impl<'e> Visitor<'e> for AllLeaves<'e> {
    type Node = usize;

    fn child(&mut self, node: usize, key: &'e str) -> Option<usize> {
        let mut path = self.paths[node].clone();
        path.push(key);
        self.paths.push(path);
        Some(self.paths.len() - 1)
    }

    fn leaf(&mut self, node: usize, value: &'e Value, trace: &[Step]) {
        let start = self.traces.len();
        self.traces.extend_from_slice(trace);
        self.leaves.push(Leaf {
            path: node,
            value,
            trace: (start, self.traces.len()),
        });
    }
}
