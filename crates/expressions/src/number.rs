//! DynamoDB's number type: a decimal with up to 38 significant digits and a magnitude between
//! 1E-130 and 9.9999999999999999999999999999999999999E+125, kept normalised.
//!
//! The rules come from the DynamoDB developer guide, "Supported data types / Number"
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html>):
//! numbers travel as strings, leading and trailing zeroes are trimmed, and exceeding the precision
//! or the range is an error. No crate fits: `rust_decimal` holds only 28 digits, and `bigdecimal`
//! brings arbitrary precision (and `num-bigint`) where a `u128` coefficient is exactly enough.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// The most significant digits a number may have.
pub const MAX_PRECISION: usize = 38;
/// The largest decimal exponent of the leading digit (`9.99…E+125`).
pub const MAX_EXPONENT: i32 = 125;
/// The smallest decimal exponent of the leading digit (`1E-130`).
pub const MIN_EXPONENT: i32 = -130;

/// A DynamoDB number: `coefficient × 10^exponent`, with a sign.
///
/// Always normalised: the coefficient has no trailing zero digits (they move into the exponent),
/// and zero is positive with exponent 0. So two numbers are equal exactly when they are equal as
/// values (`1.50` = `1.5` = `15E-1`), which is what sets and comparisons need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    coefficient: u128,
    exponent: i32,
}

/// Why a string or a computation does not give a valid number; the messages are DynamoDB's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NumberError {
    /// The text is not a decimal number (`NaN`, `Infinity`, `dog`, `" 1"` are all refused).
    #[error("The parameter cannot be converted to a numeric value: {text}")]
    NotNumeric {
        /// The text as given.
        text: String,
    },
    /// More than 38 significant digits.
    #[error("Attempting to store more than 38 significant digits in a Number")]
    TooPrecise,
    /// The magnitude is above 9.99…E+125. DynamoDB also reports this when a sum or difference
    /// needs more than 38 digits.
    #[error("Number overflow. Attempting to store a number with magnitude larger than supported range")]
    Overflow,
    /// The magnitude is below 1E-130.
    #[error("Number underflow. Attempting to store a number with magnitude smaller than supported range")]
    Underflow,
}

impl Number {
    /// Zero.
    pub const ZERO: Number = Number {
        negative: false,
        coefficient: 0,
        exponent: 0,
    };

    /// Whether the number is below zero.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Whether the number is zero.
    pub fn is_zero(&self) -> bool {
        self.coefficient == 0
    }

    /// The number of significant digits (1 for zero).
    pub fn precision(&self) -> usize {
        digit_count(self.coefficient)
    }

    /// The decimal exponent of the leading digit, as in scientific notation (0 for zero).
    pub fn scientific_exponent(&self) -> i32 {
        if self.is_zero() {
            0
        } else {
            self.exponent + self.precision() as i32 - 1
        }
    }

    /// The sum, exact, or an error when it does not fit (as DynamoDB's `SET a = a + :v` and `ADD`).
    pub fn checked_add(&self, other: &Number) -> Result<Number, NumberError> {
        add(self, other)
    }

    /// The difference, exact, or an error when it does not fit.
    pub fn checked_sub(&self, other: &Number) -> Result<Number, NumberError> {
        add(self, &other.negated())
    }

    /// The same magnitude with the other sign (zero stays zero).
    pub fn negated(&self) -> Number {
        if self.is_zero() {
            *self
        } else {
            Number {
                negative: !self.negative,
                ..*self
            }
        }
    }

    /// The significant digits as ASCII digits, most significant first ("0" for zero).
    pub fn digits(&self) -> String {
        self.coefficient.to_string()
    }

    /// The exponent of the last significant digit: the value is `digits × 10^exponent`.
    pub fn exponent(&self) -> i32 {
        self.exponent
    }

    /// The bytes this number counts toward an item's size.
    ///
    /// The developer guide says "approximately 1 byte per two significant digits, plus 1 byte"
    /// (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html>).
    /// The digits are stored in pairs aligned on the decimal point (base 100), so this counts the
    /// pairs from the leading to the trailing significant digit, plus one byte for the exponent
    /// and one more for a negative number.
    pub fn size(&self) -> usize {
        if self.is_zero() {
            return 1;
        }
        let low = self.exponent;
        let high = self.scientific_exponent();
        let pairs = (high.div_euclid(2) - low.div_euclid(2) + 1) as usize;
        1 + pairs + usize::from(self.negative)
    }

    /// Builds a number from its parts, normalising and checking precision and range.
    fn from_parts(negative: bool, coefficient: u128, exponent: i64) -> Result<Number, NumberError> {
        if coefficient == 0 {
            return Ok(Number::ZERO);
        }
        let (mut coefficient, mut exponent) = (coefficient, exponent);
        while coefficient % 10 == 0 {
            coefficient /= 10;
            exponent += 1;
        }
        let digits = digit_count(coefficient);
        if digits > MAX_PRECISION {
            return Err(NumberError::TooPrecise);
        }
        let scientific = exponent + digits as i64 - 1;
        if scientific > i64::from(MAX_EXPONENT) {
            return Err(NumberError::Overflow);
        }
        if scientific < i64::from(MIN_EXPONENT) {
            return Err(NumberError::Underflow);
        }
        Ok(Number {
            negative,
            coefficient,
            exponent: exponent as i32,
        })
    }

    fn compare_magnitude(&self, other: &Number) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        let by_exponent = self.scientific_exponent().cmp(&other.scientific_exponent());
        if by_exponent != Ordering::Equal {
            return by_exponent;
        }
        // Same leading exponent: pad both coefficients to 38 digits and compare them.
        let left = self.coefficient * pow10(MAX_PRECISION - self.precision());
        let right = other.coefficient * pow10(MAX_PRECISION - other.precision());
        left.cmp(&right)
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.compare_magnitude(other),
            (true, true) => other.compare_magnitude(self),
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl FromStr for Number {
    type Err = NumberError;

    /// Parses the decimal syntax DynamoDB accepts: an optional sign, digits with an optional
    /// point (`.5` and `5.` included), and an optional exponent (`1e+5`, `-17.4E37`). Spaces,
    /// `NaN` and `Infinity` are refused.
    fn from_str(text: &str) -> Result<Number, NumberError> {
        let not_numeric = || NumberError::NotNumeric { text: text.to_owned() };
        let bytes = text.as_bytes();
        let mut position = 0;
        let negative = match bytes.first() {
            Some(b'-') => {
                position += 1;
                true
            }
            Some(b'+') => {
                position += 1;
                false
            }
            _ => false,
        };
        // The mantissa's significant digits (leading zeros dropped) and where the point is.
        let mut digits: Vec<u8> = Vec::new();
        let mut any_digit = false;
        let mut seen_point = false;
        let mut fraction_digits: i64 = 0;
        while position < bytes.len() {
            let byte = bytes[position];
            if byte.is_ascii_digit() {
                any_digit = true;
                if !(digits.is_empty() && byte == b'0') {
                    digits.push(byte - b'0');
                }
                if seen_point {
                    fraction_digits += 1;
                }
            } else if byte == b'.' && !seen_point {
                seen_point = true;
            } else {
                break;
            }
            position += 1;
        }
        if !any_digit {
            return Err(not_numeric());
        }
        let mut exponent: i64 = 0;
        if position < bytes.len() {
            if bytes[position] != b'e' && bytes[position] != b'E' {
                return Err(not_numeric());
            }
            position += 1;
            let exponent_negative = match bytes.get(position) {
                Some(b'-') => {
                    position += 1;
                    true
                }
                Some(b'+') => {
                    position += 1;
                    false
                }
                _ => false,
            };
            let start = position;
            while position < bytes.len() && bytes[position].is_ascii_digit() {
                // Saturate: any exponent this large is out of range unless the number is zero.
                exponent = (exponent * 10 + i64::from(bytes[position] - b'0')).min(1_000_000_000);
                position += 1;
            }
            if start == position || position != bytes.len() {
                return Err(not_numeric());
            }
            if exponent_negative {
                exponent = -exponent;
            }
        }
        // Trailing zeros carry no precision: fold them into the exponent.
        let mut scale = exponent - fraction_digits;
        while digits.last() == Some(&0) {
            digits.pop();
            scale += 1;
        }
        if digits.is_empty() {
            return Ok(Number::ZERO);
        }
        if digits.len() > MAX_PRECISION {
            return Err(NumberError::TooPrecise);
        }
        let coefficient = digits
            .iter()
            .fold(0u128, |value, digit| value * 10 + u128::from(*digit));
        Number::from_parts(negative, coefficient, scale)
    }
}

impl fmt::Display for Number {
    /// Plain notation without an exponent and without trailing zeros, as DynamoDB returns
    /// numbers: `15E-1` prints as `1.5`, `1E3` as `1000`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            formatter.write_str("-")?;
        }
        let digits = self.coefficient.to_string();
        if self.exponent >= 0 {
            formatter.write_str(&digits)?;
            for _ in 0..self.exponent {
                formatter.write_str("0")?;
            }
            return Ok(());
        }
        let fraction = (-self.exponent) as usize;
        if digits.len() > fraction {
            let (integer, decimals) = digits.split_at(digits.len() - fraction);
            write!(formatter, "{integer}.{decimals}")
        } else {
            formatter.write_str("0.")?;
            for _ in 0..fraction - digits.len() {
                formatter.write_str("0")?;
            }
            formatter.write_str(&digits)
        }
    }
}

impl From<i64> for Number {
    fn from(value: i64) -> Number {
        // An i64 has at most 19 digits, far inside the range.
        Number::from_parts(value < 0, u128::from(value.unsigned_abs()), 0).unwrap_or(Number::ZERO)
    }
}

fn digit_count(value: u128) -> usize {
    if value == 0 { 1 } else { value.ilog10() as usize + 1 }
}

fn pow10(exponent: usize) -> u128 {
    10u128.pow(exponent as u32)
}

/// Exact addition on decimal digit vectors (least significant first), then normalisation.
///
/// Operands are in range, so the widest intermediate has about 38 + 256 digits.
fn add(left: &Number, right: &Number) -> Result<Number, NumberError> {
    if left.is_zero() {
        return Ok(*right);
    }
    if right.is_zero() {
        return Ok(*left);
    }
    let exponent = left.exponent.min(right.exponent);
    let left_digits = shifted_digits(left.coefficient, (left.exponent - exponent) as usize);
    let right_digits = shifted_digits(right.coefficient, (right.exponent - exponent) as usize);
    let (negative, digits) = if left.negative == right.negative {
        (left.negative, add_digits(&left_digits, &right_digits))
    } else {
        match compare_digits(&left_digits, &right_digits) {
            Ordering::Equal => return Ok(Number::ZERO),
            Ordering::Greater => (left.negative, subtract_digits(&left_digits, &right_digits)),
            Ordering::Less => (right.negative, subtract_digits(&right_digits, &left_digits)),
        }
    };
    // Drop trailing zeros into the exponent and leading zeros altogether.
    let trailing = digits.iter().take_while(|digit| **digit == 0).count();
    let mut significant: Vec<u8> = digits[trailing..].to_vec();
    while significant.last() == Some(&0) {
        significant.pop();
    }
    if significant.len() > MAX_PRECISION {
        // DynamoDB reports a sum that needs more precision as an overflow.
        return Err(NumberError::Overflow);
    }
    let coefficient = significant
        .iter()
        .rev()
        .fold(0u128, |value, digit| value * 10 + u128::from(*digit));
    Number::from_parts(negative, coefficient, i64::from(exponent) + trailing as i64)
}

fn shifted_digits(coefficient: u128, shift: usize) -> Vec<u8> {
    let mut digits = vec![0u8; shift];
    let mut rest = coefficient;
    while rest > 0 {
        digits.push((rest % 10) as u8);
        rest /= 10;
    }
    digits
}

fn compare_digits(left: &[u8], right: &[u8]) -> Ordering {
    let length = |digits: &[u8]| digits.len() - digits.iter().rev().take_while(|digit| **digit == 0).count();
    let (left_length, right_length) = (length(left), length(right));
    left_length
        .cmp(&right_length)
        .then_with(|| left[..left_length].iter().rev().cmp(right[..right_length].iter().rev()))
}

fn add_digits(left: &[u8], right: &[u8]) -> Vec<u8> {
    let mut result = Vec::with_capacity(left.len().max(right.len()) + 1);
    let mut carry = 0;
    for index in 0..left.len().max(right.len()) {
        let sum = left.get(index).copied().unwrap_or(0) + right.get(index).copied().unwrap_or(0) + carry;
        result.push(sum % 10);
        carry = sum / 10;
    }
    if carry > 0 {
        result.push(carry);
    }
    result
}

/// `larger - smaller`, where `larger >= smaller`.
fn subtract_digits(larger: &[u8], smaller: &[u8]) -> Vec<u8> {
    let mut result = Vec::with_capacity(larger.len());
    let mut borrow = 0i8;
    for (index, digit) in larger.iter().enumerate() {
        let mut difference = *digit as i8 - smaller.get(index).copied().unwrap_or(0) as i8 - borrow;
        borrow = 0;
        if difference < 0 {
            difference += 10;
            borrow = 1;
        }
        result.push(difference as u8);
    }
    result
}

#[cfg(test)]
pub(crate) mod tests;
