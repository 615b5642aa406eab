use super::*;

/// Parses `text` and compares the display form (or the error message) with `expected`.
fn check(text: &str, expected: &str) {
    let actual = match text.parse::<Number>() {
        Ok(number) => number.to_string(),
        Err(error) => error.to_string(),
    };
    assert_eq!(actual, expected, "parsing {text:?}");
}

#[test]
fn parsing_normalises() {
    for (text, expected) in [
        ("3", "3"),
        ("-7.1234", "-7.1234"),
        ("-17e5", "-1700000"),
        ("-17.4E37", "-174000000000000000000000000000000000000"),
        ("+3", "3"),
        (".123", "0.123"),
        ("0001.23", "1.23"),
        ("1e+5", "100000"),
        ("0e1000", "0"),
        ("-0", "0"),
        ("1.50", "1.5"),
        ("15E-1", "1.5"),
        ("5.", "5"),
        ("0.000", "0"),
        ("1E-130", &format!("0.{}1", "0".repeat(129))),
        ("1e125", &format!("1{}", "0".repeat(125))),
        (
            "3.1415926535897932384626433832795028841",
            "3.1415926535897932384626433832795028841",
        ),
        (
            "31415926535897932384626433832795028841e30",
            &format!("31415926535897932384626433832795028841{}", "0".repeat(30)),
        ),
        ("1.000000000000000000000000000000000000000000000", "1"),
    ] {
        check(text, expected);
    }
}

#[test]
fn parsing_rejects_what_dynamodb_rejects() {
    let not_numeric = |text: &str| format!("The parameter cannot be converted to a numeric value: {text}");
    for text in [
        "NaN",
        "Infinity",
        "-Infinity",
        "-NaN",
        "dog",
        "-dog",
        " 1",
        "1 ",
        "",
        ".",
        "-",
        "1e",
        "1e+",
        "1.2.3",
        "0x10",
        "1_000",
    ] {
        check(text, &not_numeric(text));
    }
    let too_precise = "Attempting to store more than 38 significant digits in a Number";
    check("3.14159265358979323846264338327950288419", too_precise);
    check("314159265358979323846.264338327950288419", too_precise);
    check("314159265358979323846264338327950288419e30", too_precise);
    let overflow = "Number overflow. Attempting to store a number with magnitude larger than supported range";
    check("1e126", overflow);
    check("11e125", overflow);
    check("-1e126", overflow);
    check("1e999999999999", overflow);
    let underflow = "Number underflow. Attempting to store a number with magnitude smaller than supported range";
    check("1e-131", underflow);
    check("0.9e-130", underflow);
    check("-1e-131", underflow);
    check(
        "9.9999999999999999999999999999999999999E+125",
        &format!("99999999999999999999999999999999999999{}", "0".repeat(88)),
    );
}

#[test]
fn arithmetic_is_exact_and_bounded() {
    let number = |text: &str| text.parse::<Number>().unwrap();
    let add = |left: &str, right: &str| match number(left).checked_add(&number(right)) {
        Ok(sum) => sum.to_string(),
        Err(error) => error.to_string(),
    };
    let subtract = |left: &str, right: &str| match number(left).checked_sub(&number(right)) {
        Ok(difference) => difference.to_string(),
        Err(error) => error.to_string(),
    };
    assert_eq!(add("1", "10000000000000000000000"), "10000000000000000000001");
    assert_eq!(subtract("10000000000000000000000", "1"), "9999999999999999999999");
    assert_eq!(add("0.1", "0.2"), "0.3");
    assert_eq!(add("-5", "3"), "-2");
    assert_eq!(add("5", "-5"), "0");
    assert_eq!(subtract("1.5", "2.25"), "-0.75");
    assert_eq!(
        add("99999999999999999999999999999999999999", "1"),
        format!("1{}", "0".repeat(38))
    );
    let overflow = "Number overflow. Attempting to store a number with magnitude larger than supported range";
    assert_eq!(add("9e125", "9e125"), overflow);
    assert_eq!(subtract("9e125", "-9e125"), overflow);
    // DynamoDB words a result needing more than 38 digits as an overflow too.
    assert_eq!(subtract("1e50", "1"), overflow);
    assert_eq!(add("1e50", "1"), overflow);
    assert_eq!(add("1e125", "1e-130"), overflow);
}

#[test]
fn size_counts_base_100_digit_pairs() {
    for (text, size) in [
        ("0", 1),
        ("1", 2),
        ("12", 2),
        ("123", 3),
        ("-123", 4),
        ("12.5", 3),
        ("0.5", 2),
        ("0.005", 2),
        ("100.5", 4),
        ("1e125", 2),
        ("1e-130", 2),
        ("99999999999999999999999999999999999999", 20),
    ] {
        assert_eq!(text.parse::<Number>().unwrap().size(), size, "{text}");
    }
}

/// A small deterministic generator, so property checks need no extra dependency.
pub(crate) struct Xorshift(pub(crate) u64);

impl Xorshift {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A random valid number, biased toward collisions (few digits, small exponents).
    pub(crate) fn number(&mut self) -> Number {
        let digits = 1 + (self.next() % 38) as usize;
        let mut text: String = (0..digits)
            .map(|_| char::from(b'0' + (self.next() % 10) as u8))
            .collect();
        if self.next().is_multiple_of(2) {
            text.truncate(1 + (self.next() % 3) as usize);
        }
        let exponent = match self.next() % 3 {
            0 => (self.next() % 5) as i64 - 2,
            _ => (self.next() % 200) as i64 - 120,
        };
        let sign = if self.next().is_multiple_of(2) { "-" } else { "" };
        format!("{sign}{text}e{exponent}").parse().unwrap_or(Number::ZERO)
    }
}

#[test]
fn display_round_trips_and_order_is_numeric() {
    let mut random = Xorshift(0x5eed_1234_abcd_ef01);
    for _ in 0..5000 {
        let (a, b) = (random.number(), random.number());
        // Display is a faithful, normalised representation.
        assert_eq!(a.to_string().parse::<Number>(), Ok(a));
        // Order agrees with subtraction where the difference is representable.
        if let Ok(difference) = a.checked_sub(&b) {
            let expected = if difference.is_zero() {
                Ordering::Equal
            } else if difference.is_negative() {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            assert_eq!(a.cmp(&b), expected, "{a} vs {b}");
        }
        // Antisymmetry and agreement with equality.
        assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        assert_eq!(a == b, a.cmp(&b) == Ordering::Equal);
        // Addition commutes, and a + b - b = a when both steps are representable.
        assert_eq!(a.checked_add(&b), b.checked_add(&a));
        if let Ok(sum) = a.checked_add(&b)
            && let Ok(back) = sum.checked_sub(&b)
        {
            assert_eq!(back, a, "({a} + {b}) - {b}");
        }
    }
}

#[test]
fn equal_values_are_equal_numbers() {
    let number = |text: &str| text.parse::<Number>().unwrap();
    assert_eq!(number("1"), number("1.0"));
    assert_eq!(number("100"), number("1e2"));
    assert_eq!(number("0.5"), number("5e-1"));
    assert_eq!(number("-0"), number("0"));
    assert!(number("-1") < number("-0.5"));
    assert!(number("-1e100") < number("-1"));
    assert!(number("1e-100") < number("1e-99"));
    assert!(number("0") < number("1e-130"));
}
