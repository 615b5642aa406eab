//! Numbers as EventBridge compares them: JSON numbers between -5.0e9 and +5.0e9 inclusive, at six
//! digits to the right of the decimal point.
//!
//! A number inside that range becomes an integer count of millionths ([`scaled`]), so that equal
//! numbers written differently (`300`, `3.0e2`, `300.0000001`) compare equal and numeric ranges are
//! integer comparisons. A number outside the range can still be matched exactly (an AWS account
//! number, say), by its floating-point value, but never by a `numeric` range.

use std::ops::Bound;

/// The largest magnitude numeric matching accepts.
pub(crate) const LIMIT: f64 = 5.0e9;

/// The message EventBridge gives for a number out of range in a pattern.
pub(crate) const OUT_OF_RANGE: &str = "Value must be between -5.0E9 and 5.0E9, inclusive";

/// A number in millionths, or `None` outside ±5.0e9 (and for NaN).
pub(crate) fn scaled(value: f64) -> Option<i64> {
    if (-LIMIT..=LIMIT).contains(&value) {
        // At most 5e15 in magnitude: exact in an i64 and within f64's 53-bit integer range.
        Some((value * 1e6).round() as i64)
    } else {
        None
    }
}

/// The identity of a number for exact matching (exact values and `anything-but` lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum NumberKey {
    /// In range: millionths.
    Scaled(i64),
    /// Out of range: the bits of the f64.
    Outside(u64),
}

impl NumberKey {
    pub(crate) fn of(value: f64) -> Self {
        match scaled(value) {
            Some(millionths) => NumberKey::Scaled(millionths),
            None => NumberKey::Outside(value.to_bits()),
        }
    }
}

/// A `numeric` match: a range of millionths, bounded on one or both sides, or a single point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NumericRange {
    pub(crate) low: Bound<i64>,
    pub(crate) high: Bound<i64>,
}

impl NumericRange {
    pub(crate) fn contains(&self, millionths: i64) -> bool {
        let above_low = match self.low {
            Bound::Included(low) => millionths >= low,
            Bound::Excluded(low) => millionths > low,
            Bound::Unbounded => true,
        };
        let below_high = match self.high {
            Bound::Included(high) => millionths <= high,
            Bound::Excluded(high) => millionths < high,
            Bound::Unbounded => true,
        };
        above_low && below_high
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_numbers_written_differently_have_one_key() {
        assert_eq!(NumberKey::of(300.0), NumberKey::of(3.018e2 - 1.8));
        assert_eq!(NumberKey::of(0.1 + 0.2), NumberKey::of(0.3));
        assert_eq!(NumberKey::of(5.0e9), NumberKey::Scaled(5_000_000_000_000_000));
        assert_ne!(NumberKey::of(1.000001), NumberKey::of(1.000002));
        // Beyond six decimal places, numbers are the same.
        assert_eq!(NumberKey::of(1.0000001), NumberKey::of(1.0));
        assert!(matches!(NumberKey::of(123456789012.0), NumberKey::Outside(_)));
        assert_eq!(scaled(f64::NAN), None);
        assert_eq!(scaled(-5.000001e9), None);
    }
}
