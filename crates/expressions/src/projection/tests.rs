use serde_json::json;

use crate::parse::{Placeholders, parse_projection};
use crate::value::{item_from_json, item_to_json};

fn check(text: &str, item: serde_json::Value, expected: serde_json::Value) {
    let mut placeholders = Placeholders::from_json(Some(&json!({"#n": "name"})), None).unwrap();
    let projection = parse_projection(text, &mut placeholders).unwrap();
    let item = item_from_json(&item).unwrap();
    assert_eq!(item_to_json(&projection.apply(&item)), expected, "{text:?}");
}

#[test]
fn projections_keep_nesting_and_compact_lists() {
    let item = json!({
        "a": {"S": "x"},
        "name": {"S": "n"},
        "doc": {"M": {"b": {"N": "1"}, "c": {"N": "2"}, "l": {"L": [{"S": "l0"}, {"M": {"z": {"S": "deep"}, "w": {"S": "no"}}}]}}},
        "things": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}]}
    });
    check("a", item.clone(), json!({"a": {"S": "x"}}));
    check("#n, absent", item.clone(), json!({"name": {"S": "n"}}));
    check("doc.b", item.clone(), json!({"doc": {"M": {"b": {"N": "1"}}}}));
    check(
        "doc.l[1].z",
        item.clone(),
        json!({"doc": {"M": {"l": {"L": [{"M": {"z": {"S": "deep"}}}]}}}}),
    );
    check(
        "things[3], things[1]",
        item.clone(),
        json!({"things": {"L": [{"N": "1"}, {"N": "3"}]}}),
    );
    check("things[9], doc.zz", item.clone(), json!({}));
    check(
        "a, doc.c, things[0]",
        item,
        json!({"a": {"S": "x"}, "doc": {"M": {"c": {"N": "2"}}}, "things": {"L": [{"N": "0"}]}}),
    );
}
