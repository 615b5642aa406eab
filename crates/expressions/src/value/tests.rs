use serde_json::json;

use super::*;

/// Parses DynamoDB JSON and compares the re-serialised JSON (or the error message).
fn check(input: Json, expected: Json) {
    let actual = match AttributeValue::from_json(&input) {
        Ok(value) => value.to_json(),
        Err(error) => Json::String(error.to_string()),
    };
    assert_eq!(actual, expected, "input {input}");
}

#[test]
fn round_trips_every_type() {
    for value in [
        json!({"S": "x"}),
        json!({"S": ""}),
        json!({"N": "1.5"}),
        json!({"B": "AAEC"}),
        json!({"B": ""}),
        json!({"BOOL": false}),
        json!({"NULL": true}),
        json!({"M": {"a": {"S": "b"}, "c": {"L": []}}}),
        json!({"M": {}}),
        json!({"L": [{"N": "1"}, {"S": "two"}]}),
        json!({"SS": ["", "a", "b"]}),
        json!({"NS": ["-1", "2.5"]}),
        json!({"BS": ["AA==", "AQ=="]}),
    ] {
        check(value.clone(), value);
    }
}

#[test]
fn normalises_numbers_and_orders_sets() {
    check(json!({"N": "01.50"}), json!({"N": "1.5"}));
    check(json!({"NS": ["10", "-2", "3e0"]}), json!({"NS": ["-2", "3", "10"]}));
    check(json!({"SS": ["b", "a"]}), json!({"SS": ["a", "b"]}));
}

#[test]
fn rejects_invalid_values_with_dynamodb_messages() {
    let cases = [
        (
            json!({}),
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ),
        (
            json!({"S": "a", "N": "1"}),
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
        ),
        (json!({"N": 123}), "NUMBER_VALUE cannot be converted to String"),
        (
            json!({"N": "abc"}),
            "The parameter cannot be converted to a numeric value: abc",
        ),
        (
            json!({"SS": []}),
            "One or more parameter values were invalid: An string set  may not be empty",
        ),
        (
            json!({"NS": []}),
            "One or more parameter values were invalid: An number set  may not be empty",
        ),
        (
            json!({"BS": []}),
            "One or more parameter values were invalid: An binary set  may not be empty",
        ),
        (
            json!({"SS": ["x", "x"]}),
            "One or more parameter values were invalid: Input collection [x, x] contains duplicates.",
        ),
        (json!({"NS": ["1", "1.0"]}), "Input collection contains duplicates"),
        (json!({"BS": ["AA==", "AA=="]}), "Input collection contains duplicates"),
        (
            json!({"NULL": false}),
            "One or more parameter values were invalid: Null attribute value types must have the value of true",
        ),
        (
            json!({"B": "not base64!"}),
            "Invalid Base64 value for a binary attribute: not base64!",
        ),
        (json!({"X": "1"}), "Unknown AttributeValue type: X"),
        (
            json!({"M": {"a": {"NS": []}}}),
            "One or more parameter values were invalid: An number set  may not be empty",
        ),
    ];
    for (input, message) in cases {
        check(input, Json::String(message.to_owned()));
    }
}

#[test]
fn nesting_is_limited_to_32_levels() {
    let nested = |levels: usize| (0..levels).fold(json!({"S": "leaf"}), |inner, _| json!({"L": [inner]}));
    assert!(AttributeValue::from_json(&nested(32)).is_ok());
    assert_eq!(AttributeValue::from_json(&nested(33)), Err(ValueError::TooDeep));
}

#[test]
fn serde_uses_dynamodb_json() {
    let item: BTreeMap<String, AttributeValue> =
        serde_json::from_value(json!({"id": {"S": "a"}, "n": {"N": "2"}})).unwrap();
    assert_eq!(item["n"], AttributeValue::N(Number::from(2)));
    assert_eq!(
        serde_json::to_value(&item).unwrap(),
        json!({"id": {"S": "a"}, "n": {"N": "2"}})
    );
    let error = serde_json::from_value::<AttributeValue>(json!({"SS": []})).unwrap_err();
    assert_eq!(
        error.to_string(),
        "One or more parameter values were invalid: An string set  may not be empty"
    );
}

#[test]
fn sizes_follow_the_documented_rules() {
    let size = |value: Json| AttributeValue::from_json(&value).unwrap().size();
    assert_eq!(size(json!({"S": "héllo"})), 6);
    assert_eq!(size(json!({"B": "AAEC"})), 3);
    assert_eq!(size(json!({"BOOL": true})), 1);
    assert_eq!(size(json!({"NULL": true})), 1);
    assert_eq!(size(json!({"N": "123"})), 3);
    assert_eq!(size(json!({"L": []})), 3);
    assert_eq!(size(json!({"M": {}})), 3);
    // 3 for the list, 1 per element plus the element.
    assert_eq!(size(json!({"L": [{"S": "aa"}, {"S": "b"}]})), 3 + (1 + 2) + (1 + 1));
    // 3 for the map, per entry the key, the value and 1.
    assert_eq!(size(json!({"M": {"key": {"S": "v"}}})), 3 + 3 + 1 + 1);
    assert_eq!(size(json!({"SS": ["ab", "c"]})), 3);
    assert_eq!(size(json!({"NS": ["1", "123"]})), 2 + 3);
    let item = item_from_json(&json!({"id": {"S": "abc"}, "count": {"N": "7"}})).unwrap();
    assert_eq!(item_size(&item), (2 + 3) + (5 + 2));
}

#[test]
fn items_over_400_kb_are_refused() {
    let fits = "x".repeat(MAX_ITEM_SIZE - 2);
    assert!(item_from_json(&json!({"id": {"S": fits}})).is_ok());
    let too_big = "x".repeat(MAX_ITEM_SIZE - 1);
    assert_eq!(
        item_from_json(&json!({"id": {"S": too_big}})),
        Err(ValueError::ItemTooLarge)
    );
}

#[test]
fn describe_matches_dynamodb_messages() {
    assert_eq!(AttributeValue::N(Number::from(10)).describe(), "AttributeValue: {N:10}");
    assert_eq!(AttributeValue::S("b".into()).describe(), "AttributeValue: {S:b}");
}
