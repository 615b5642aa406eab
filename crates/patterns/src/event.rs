//! Events as EventBridge sees them: leaves (scalars) at field paths, where array elements share
//! their array's path. Each leaf remembers which element of which array it sits in (its *trace*),
//! so that a match never combines fields from different elements of one array.
//!
//! Only elements that are objects or arrays enter the trace: two scalars of one array are the same
//! field, and a pattern that lists two values for it is satisfied by either element.

use serde_json::Value;

/// One array element a leaf is inside: (array number within the event, element index).
pub(crate) type Step = (u32, u32);

/// Decides which object keys to descend into and receives the leaves.
pub(crate) trait Visitor<'e> {
    /// A position in the visitor's own tree of paths.
    type Node: Copy;
    /// The node for `key` under `node`, or `None` to skip that subtree.
    fn child(&mut self, node: Self::Node, key: &'e str) -> Option<Self::Node>;
    /// A leaf at `node`, inside the array elements listed in `trace`.
    fn leaf(&mut self, node: Self::Node, value: &'e Value, trace: &[Step]);
}

/// Walks `event`, telling `visitor` about every leaf it does not prune.
pub(crate) fn walk<'e, V: Visitor<'e>>(event: &'e Value, root: V::Node, visitor: &mut V) {
    let mut walker = Walker {
        trace: Vec::new(),
        arrays: 0,
    };
    walker.value(event, root, visitor);
}

struct Walker {
    trace: Vec<Step>,
    arrays: u32,
}

impl Walker {
    fn value<'e, V: Visitor<'e>>(&mut self, value: &'e Value, node: V::Node, visitor: &mut V) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    if let Some(child_node) = visitor.child(node, key) {
                        self.value(child, child_node, visitor);
                    }
                }
            }
            Value::Array(items) => {
                let array = self.arrays;
                self.arrays += 1;
                for (index, item) in items.iter().enumerate() {
                    if item.is_object() || item.is_array() {
                        self.trace.push((array, index as u32));
                        self.value(item, node, visitor);
                        self.trace.pop();
                    } else {
                        visitor.leaf(node, item, &self.trace);
                    }
                }
            }
            scalar => visitor.leaf(node, scalar, &self.trace),
        }
    }
}

/// Whether one leaf can be chosen from each list so that no two chosen leaves sit in different
/// elements of the same array. `trace_of` gives a leaf's trace. A plain backtracking search: the
/// lists are the leaves that satisfied each condition of one branch, so they are short.
pub(crate) fn consistent<'t, L: Copy>(choices: &[Vec<L>], trace_of: &impl Fn(L) -> &'t [Step]) -> bool {
    let mut bound: Vec<Step> = Vec::new();
    choose(choices, trace_of, &mut bound)
}

fn choose<'t, L: Copy>(choices: &[Vec<L>], trace_of: &impl Fn(L) -> &'t [Step], bound: &mut Vec<Step>) -> bool {
    let Some((first, rest)) = choices.split_first() else {
        return true;
    };
    for &leaf in first {
        let trace = trace_of(leaf);
        let compatible = trace.iter().all(|&(array, index)| {
            bound
                .iter()
                .all(|&(bound_array, bound_index)| bound_array != array || bound_index == index)
        });
        if !compatible {
            continue;
        }
        let length = bound.len();
        for &step in trace {
            if !bound[..length].contains(&step) {
                bound.push(step);
            }
        }
        if choose(rest, trace_of, bound) {
            return true;
        }
        bound.truncate(length);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Collects `path=value trace` lines.
    struct Collect(Vec<String>, Vec<String>);

    impl<'e> Visitor<'e> for Collect {
        type Node = usize;
        fn child(&mut self, node: usize, key: &'e str) -> Option<usize> {
            let path = if self.0[node].is_empty() {
                key.to_owned()
            } else {
                format!("{}.{key}", self.0[node])
            };
            self.0.push(path);
            Some(self.0.len() - 1)
        }
        fn leaf(&mut self, node: usize, value: &'e Value, trace: &[Step]) {
            self.1.push(format!("{}={value} {trace:?}", self.0[node]));
        }
    }

    #[test]
    fn leaves_carry_their_array_elements() {
        let event = json!({"a": [1, {"b": 2}, [3, {"c": 4}]], "d": {"e": null}, "f": []});
        let mut collect = Collect(vec![String::new()], Vec::new());
        walk(&event, 0, &mut collect);
        assert_eq!(
            collect.1,
            [
                "a=1 []",
                "a.b=2 [(0, 1)]",
                "a=3 [(0, 2)]",
                "a.c=4 [(0, 2), (1, 1)]",
                "d.e=null []"
            ]
        );
    }

    #[test]
    fn choices_from_different_elements_conflict() {
        let traces: Vec<Vec<Step>> = vec![vec![(0, 0)], vec![(0, 1)], vec![], vec![(0, 1), (1, 0)]];
        let trace_of = |leaf: usize| traces[leaf].as_slice();
        assert!(consistent(&[vec![0], vec![2]], &trace_of));
        assert!(!consistent(&[vec![0], vec![1]], &trace_of));
        assert!(consistent(&[vec![0, 1], vec![3]], &trace_of));
        assert!(!consistent(&[vec![0], vec![3]], &trace_of));
        assert!(consistent(&[], &trace_of));
    }
}
