//! Interval stabbing for `numeric` ranges and `cidr` blocks: which of many ranges contain a value.
//!
//! Ranges are kept in a list, and a segment tree over their distinct end points is built on the
//! first lookup after a change (rule sets change rarely and are read often). A lookup walks from
//! one leaf of the tree to the root, so it costs O(log n) plus the ranges it reports; each range
//! is stored at O(log n) nodes.

use std::ops::Bound;
use std::sync::OnceLock;

#[derive(Debug)]
pub(crate) struct IntervalIndex<K> {
    ranges: Vec<(Bound<K>, Bound<K>, u32)>,
    tree: OnceLock<Tree<K>>,
}

impl<K> Default for IntervalIndex<K> {
    fn default() -> Self {
        IntervalIndex {
            ranges: Vec::new(),
            tree: OnceLock::new(),
        }
    }
}

impl<K: Ord + Copy> IntervalIndex<K> {
    pub(crate) fn insert(&mut self, low: Bound<K>, high: Bound<K>, target: u32) {
        self.ranges.push((low, high, target));
        self.tree = OnceLock::new();
    }

    pub(crate) fn remove(&mut self, low: Bound<K>, high: Bound<K>, target: u32) {
        if let Some(position) = self.ranges.iter().position(|range| *range == (low, high, target)) {
            self.ranges.swap_remove(position);
            self.tree = OnceLock::new();
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Reports the target of every range containing `key`.
    pub(crate) fn stab(&self, key: K, report: &mut impl FnMut(u32)) {
        if self.ranges.is_empty() {
            return;
        }
        self.tree.get_or_init(|| Tree::build(&self.ranges)).stab(key, report);
    }
}

/// Slots alternate between gaps and points: slot `2i` is the gap below `points[i]`, slot `2i + 1`
/// is `points[i]` itself, and the last slot is the gap above every point.
#[derive(Debug)]
struct Tree<K> {
    points: Vec<K>,
    /// The number of leaves: a power of two at least the number of slots.
    width: usize,
    /// Node `1` is the root; node `n` has children `2n` and `2n + 1`; leaves start at `width`.
    nodes: Vec<Vec<u32>>,
}

impl<K: Ord + Copy> Tree<K> {
    fn build(ranges: &[(Bound<K>, Bound<K>, u32)]) -> Self {
        let mut points: Vec<K> = ranges
            .iter()
            .flat_map(|(low, high, _)| [low, high])
            .filter_map(|bound| match bound {
                Bound::Included(point) | Bound::Excluded(point) => Some(*point),
                Bound::Unbounded => None,
            })
            .collect();
        points.sort_unstable();
        points.dedup();
        let slots = 2 * points.len() + 1;
        let width = slots.next_power_of_two();
        let mut tree = Tree {
            points,
            width,
            nodes: vec![Vec::new(); 2 * width],
        };
        for &(low, high, target) in ranges {
            let first = match low {
                Bound::Unbounded => 0,
                Bound::Included(point) => 2 * tree.position(point) + 1,
                Bound::Excluded(point) => 2 * tree.position(point) + 2,
            };
            let last = match high {
                Bound::Unbounded => slots - 1,
                Bound::Included(point) => 2 * tree.position(point) + 1,
                Bound::Excluded(point) => 2 * tree.position(point),
            };
            if first <= last {
                tree.cover(first, last, target);
            }
        }
        tree
    }

    fn position(&self, point: K) -> usize {
        self.points.binary_search(&point).unwrap_or_else(|insertion| insertion)
    }

    /// Stores `target` at the nodes that exactly cover slots `first..=last`.
    fn cover(&mut self, first: usize, last: usize, target: u32) {
        let (mut left, mut right) = (first + self.width, last + self.width + 1);
        while left < right {
            if left & 1 == 1 {
                self.nodes[left].push(target);
                left += 1;
            }
            if right & 1 == 1 {
                right -= 1;
                self.nodes[right].push(target);
            }
            left >>= 1;
            right >>= 1;
        }
    }

    fn stab(&self, key: K, report: &mut impl FnMut(u32)) {
        let slot = match self.points.binary_search(&key) {
            Ok(index) => 2 * index + 1,
            Err(index) => 2 * index,
        };
        let mut node = slot + self.width;
        while node >= 1 {
            for &target in &self.nodes[node] {
                report(target);
            }
            node >>= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::RangeBounds;

    fn stab(index: &IntervalIndex<i64>, key: i64) -> Vec<u32> {
        let mut found = Vec::new();
        index.stab(key, &mut |target| found.push(target));
        found.sort_unstable();
        found
    }

    #[test]
    fn reports_the_ranges_containing_a_key() {
        let mut index = IntervalIndex::default();
        index.insert(Bound::Excluded(0), Bound::Included(5), 1);
        index.insert(Bound::Unbounded, Bound::Excluded(10), 2);
        index.insert(Bound::Included(5), Bound::Included(5), 3);
        index.insert(Bound::Included(7), Bound::Unbounded, 4);
        assert_eq!(stab(&index, -3), [2]);
        assert_eq!(stab(&index, 0), [2]);
        assert_eq!(stab(&index, 1), [1, 2]);
        assert_eq!(stab(&index, 5), [1, 2, 3]);
        assert_eq!(stab(&index, 6), [2]);
        assert_eq!(stab(&index, 7), [2, 4]);
        assert_eq!(stab(&index, 10), [4]);
        index.remove(Bound::Unbounded, Bound::Excluded(10), 2);
        assert_eq!(stab(&index, 7), [4]);
        assert_eq!(stab(&index, -3), Vec::<u32>::new());
    }

    #[test]
    fn agrees_with_a_scan() {
        // Deterministic ranges over a small domain, checked at every key.
        let mut index = IntervalIndex::default();
        let mut ranges = Vec::new();
        let mut seed = 7u64;
        for target in 0..200u32 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let a = (seed >> 33) as i64 % 50;
            let b = a + (seed >> 40) as i64 % 20;
            let low = if seed & 1 == 0 {
                Bound::Included(a)
            } else {
                Bound::Excluded(a)
            };
            let high = if seed & 2 == 0 {
                Bound::Included(b)
            } else {
                Bound::Excluded(b)
            };
            let low = if seed & 12 == 12 { Bound::Unbounded } else { low };
            index.insert(low, high, target);
            ranges.push((low, high, target));
        }
        for key in -5..80 {
            let mut expected: Vec<u32> = ranges
                .iter()
                .filter(|(low, high, _)| (*low, *high).contains(&key))
                .map(|(_, _, target)| *target)
                .collect();
            expected.sort_unstable();
            assert_eq!(stab(&index, key), expected, "key {key}");
        }
    }
}
