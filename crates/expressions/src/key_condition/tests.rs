use std::ops::RangeBounds;

use serde_json::json;

use super::*;
use crate::key::{KeyAttribute, KeySchema, ScalarType};
use crate::parse::{Placeholders, parse_key_condition};
use crate::value::item_from_json;

fn parse(text: &str, sort_type: ScalarType, values: serde_json::Value) -> KeyCondition {
    let schema = KeySchema {
        partition: KeyAttribute {
            name: "pk".into(),
            scalar_type: ScalarType::S,
        },
        sort: Some(KeyAttribute {
            name: "sk".into(),
            scalar_type: sort_type,
        }),
    };
    let mut placeholders = Placeholders::from_json(None, Some(&values)).unwrap();
    let condition = parse_key_condition(text, &schema, &mut placeholders).unwrap();
    placeholders.finish().unwrap();
    condition
}

/// The matches by `matches` and by the encoded range agree, on every candidate sort key.
fn check(condition: &KeyCondition, candidates: &[AttributeValue], expected: &[bool]) {
    let sort = condition.sort.as_ref().unwrap();
    let range = sort.operator.encoded_range();
    for (candidate, expected) in candidates.iter().zip(expected) {
        let mut item = Item::new();
        item.insert("pk".into(), condition.partition_value.clone());
        item.insert("sk".into(), candidate.clone());
        assert_eq!(condition.matches(&item), *expected, "{candidate:?}");
        let encoded = encode_sort_key(candidate).unwrap();
        assert_eq!(range.contains(&encoded), *expected, "range for {candidate:?}");
    }
}

#[test]
fn numeric_sort_key_operators() {
    let number = |text: &str| AttributeValue::N(text.parse().unwrap());
    let candidates: Vec<AttributeValue> = ["-10", "-1", "0", "1", "1.5", "2", "10", "100"]
        .iter()
        .map(|text| number(text))
        .collect();
    let values = json!({":p": {"S": "p"}, ":lo": {"N": "1"}, ":hi": {"N": "10"}});
    let cases = [
        (
            "pk = :p AND sk = :lo",
            [false, false, false, true, false, false, false, false],
        ),
        (
            "pk = :p AND sk < :lo",
            [true, true, true, false, false, false, false, false],
        ),
        (
            "pk = :p AND sk <= :lo",
            [true, true, true, true, false, false, false, false],
        ),
        (
            "pk = :p AND sk > :lo",
            [false, false, false, false, true, true, true, true],
        ),
        (
            "pk = :p AND sk >= :lo",
            [false, false, false, true, true, true, true, true],
        ),
        (
            "pk = :p AND sk BETWEEN :lo AND :hi",
            [false, false, false, true, true, true, true, false],
        ),
    ];
    for (text, expected) in cases {
        let mut values = values.clone();
        if !text.contains(":hi") {
            values.as_object_mut().unwrap().remove(":hi");
        }
        check(&parse(text, ScalarType::N, values), &candidates, &expected);
    }
}

#[test]
fn begins_with_on_strings_and_binaries() {
    let text = |value: &str| AttributeValue::S(value.into());
    let condition = parse(
        "pk = :p AND begins_with(sk, :prefix)",
        ScalarType::S,
        json!({":p": {"S": "p"}, ":prefix": {"S": "ab"}}),
    );
    check(
        &condition,
        &[text("a"), text("ab"), text("abc"), text("ac"), text("b")],
        &[false, true, true, false, false],
    );
    let bytes = |value: &[u8]| AttributeValue::B(value.to_vec());
    let condition = parse(
        "pk = :p AND begins_with(sk, :prefix)",
        ScalarType::B,
        json!({":p": {"S": "p"}, ":prefix": {"B": "/w=="}}),
    );
    check(
        &condition,
        &[bytes(&[0xfe]), bytes(&[0xff]), bytes(&[0xff, 0]), bytes(&[0xff, 0xff])],
        &[false, true, true, true],
    );
}

#[test]
fn the_partition_key_must_match() {
    let condition = parse("pk = :p", ScalarType::S, json!({":p": {"S": "p"}}));
    assert!(condition.matches(&item_from_json(&json!({"pk": {"S": "p"}, "sk": {"S": "x"}})).unwrap()));
    assert!(!condition.matches(&item_from_json(&json!({"pk": {"S": "q"}, "sk": {"S": "x"}})).unwrap()));
    assert_eq!(condition.sort, None);
}
