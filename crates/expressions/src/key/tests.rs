use serde_json::json;

use super::*;
use crate::number::tests::Xorshift;
use crate::value::item_from_json;

fn schema() -> KeySchema {
    KeySchema {
        partition: KeyAttribute {
            name: "pk".into(),
            scalar_type: ScalarType::S,
        },
        sort: Some(KeyAttribute {
            name: "sk".into(),
            scalar_type: ScalarType::N,
        }),
    }
}

#[test]
fn number_encoding_sorts_numerically() {
    let mut random = Xorshift(0x0dd_ba11_cafe);
    let mut numbers: Vec<Number> = (0..3000).map(|_| random.number()).collect();
    for text in [
        "0", "1", "-1", "1e125", "-1e125", "1e-130", "-1e-130", "1.05", "-1.05", "10", "-10",
    ] {
        numbers.push(text.parse().unwrap());
    }
    for number in &numbers {
        let encoded = encode_sort_key(&AttributeValue::N(*number)).unwrap();
        assert_eq!(
            decode_sort_key(ScalarType::N, &encoded),
            Some(AttributeValue::N(*number)),
            "{number}"
        );
    }
    for pair in numbers.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (encoded_a, encoded_b) = (
            encode_sort_key(&AttributeValue::N(a)).unwrap(),
            encode_sort_key(&AttributeValue::N(b)).unwrap(),
        );
        assert_eq!(encoded_a.cmp(&encoded_b), a.cmp(&b), "{a} vs {b}");
    }
}

#[test]
fn strings_and_binaries_sort_by_bytes() {
    let encode = |value: AttributeValue| encode_sort_key(&value).unwrap();
    // UTF-8 byte order, not UTF-16: U+FF5E sorts before U+1F600.
    assert!(encode(AttributeValue::S("\u{ff5e}".into())) < encode(AttributeValue::S("\u{1f600}".into())));
    assert!(encode(AttributeValue::S("Z".into())) < encode(AttributeValue::S("a".into())));
    assert!(encode(AttributeValue::B(vec![0x7f])) < encode(AttributeValue::B(vec![0x80])));
    assert_eq!(encode_sort_key(&AttributeValue::Bool(true)), None);
}

#[test]
fn items_and_keys_are_validated_against_the_schema() {
    let schema = schema();
    let check = |item: serde_json::Value| match schema.validate_item(&item_from_json(&item).unwrap()) {
        Ok(()) => "ok".to_owned(),
        Err(error) => error.to_string(),
    };
    assert_eq!(
        check(json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"BOOL": true}})),
        "ok"
    );
    assert_eq!(
        check(json!({"pk": {"S": "a"}})),
        "One or more parameter values were invalid: Missing the key sk in the item"
    );
    assert_eq!(
        check(json!({"pk": {"N": "1"}, "sk": {"N": "1"}})),
        "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"
    );
    assert_eq!(
        check(json!({"pk": {"S": ""}, "sk": {"N": "1"}})),
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"
    );
    let key = |value: serde_json::Value| schema.validate_key(&item_from_json(&value).unwrap());
    assert_eq!(key(json!({"pk": {"S": "a"}, "sk": {"N": "1"}})), Ok(()));
    assert_eq!(key(json!({"pk": {"S": "a"}})), Err(KeyError::SchemaMismatch));
    assert_eq!(
        key(json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"N": "1"}})),
        Err(KeyError::SchemaMismatch)
    );
    assert_eq!(
        key(json!({"pk": {"S": "a"}, "sk": {"S": "1"}})),
        Err(KeyError::SchemaMismatch)
    );
}
