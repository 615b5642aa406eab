use serde_json::{Value as Json, json};

use super::*;
use crate::parse::{Placeholders, parse_update};
use crate::return_values::ReturnValues;
use crate::value::{item_from_json, item_to_json};

fn parse(text: &str, names: Json, values: Json) -> UpdateExpression {
    let names = (!names.is_null()).then_some(&names);
    let values = (!values.is_null()).then_some(&values);
    let mut placeholders = Placeholders::from_json(names, values).unwrap();
    let update = parse_update(text, &mut placeholders).unwrap();
    placeholders.finish().unwrap();
    update
}

/// Applies `text` to `item` (`null`: no item) and compares the new item's JSON, or the error
/// message.
fn check(text: &str, values: Json, item: Json, expected: Json) {
    let update = parse(text, Json::Null, used_values(text, values));
    let item = (!item.is_null()).then(|| item_from_json(&item).unwrap());
    let actual = match update.apply(item.as_ref()) {
        Ok(outcome) => item_to_json(&outcome.item),
        Err(error) => Json::String(error.to_string()),
    };
    assert_eq!(actual, expected, "{text:?}");
}

/// The values a case's expression refers to, so shared value maps pass the unused check.
fn used_values(text: &str, values: Json) -> Json {
    let Json::Object(values) = values else {
        return Json::Null;
    };
    let used: serde_json::Map<String, Json> = values
        .into_iter()
        .filter(|(key, _)| {
            text.match_indices(key.as_str())
                .any(|(at, _)| !text[at + key.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
        })
        .collect();
    if used.is_empty() {
        Json::Null
    } else {
        Json::Object(used)
    }
}

fn n(value: &str) -> Json {
    json!({"N": value})
}

fn s(value: &str) -> Json {
    json!({"S": value})
}

#[test]
fn set_writes_and_reads_the_old_item() {
    let values = json!({":v": n("4"), ":w": s("hi")});
    check("SET b = :v", values.clone(), Json::Null, json!({"b": n("4")}));
    check(
        "SET x = :v, y = :v",
        values.clone(),
        json!({}),
        json!({"x": n("4"), "y": n("4")}),
    );
    check(
        "SET b = a",
        json!(null),
        json!({"a": s("hello")}),
        json!({"a": s("hello"), "b": s("hello")}),
    );
    check(
        "SET c = z",
        json!(null),
        json!({"a": s("hello")}),
        json!("The provided expression refers to an attribute that does not exist in the item"),
    );
    // Right-hand sides see the item before the update.
    check(
        "SET x = :v, y = x",
        values.clone(),
        json!({}),
        json!("The provided expression refers to an attribute that does not exist in the item"),
    );
    check(
        "REMOVE a SET b = a",
        json!(null),
        json!({"a": s("hello")}),
        json!({"b": s("hello")}),
    );
    check(
        "SET a = a",
        json!(null),
        json!({"a": s("hello")}),
        json!({"a": s("hello")}),
    );
}

#[test]
fn arithmetic_and_functions() {
    let values = json!({":three": n("3"), ":four": n("4"), ":l": {"L": [s("x")]}, ":s": s("dog")});
    check(
        "SET a = a + :three",
        values.clone(),
        json!({"a": n("2")}),
        json!({"a": n("5")}),
    );
    check(
        "SET b = :four - a",
        values.clone(),
        json!({"a": n("2")}),
        json!({"a": n("2"), "b": n("2")}),
    );
    check(
        "SET a = a + :three",
        values.clone(),
        json!({"a": s("x")}),
        json!("An operand in the update expression has an incorrect data type"),
    );
    check(
        "SET a = b + :three",
        values.clone(),
        json!({}),
        json!("The provided expression refers to an attribute that does not exist in the item"),
    );
    check(
        "SET a = if_not_exists(a, :three)",
        values.clone(),
        json!({}),
        json!({"a": n("3")}),
    );
    check(
        "SET a = if_not_exists(a, :three)",
        values.clone(),
        json!({"a": n("2")}),
        json!({"a": n("2")}),
    );
    check(
        "SET b = if_not_exists(b, :three) + :four",
        values.clone(),
        json!({}),
        json!({"b": n("7")}),
    );
    check(
        "SET a = list_append(a, :l)",
        values.clone(),
        json!({"a": {"L": [n("1")]}}),
        json!({"a": {"L": [n("1"), s("x")]}}),
    );
    check(
        "SET a = list_append(:l, a)",
        values.clone(),
        json!({"a": {"L": [n("1")]}}),
        json!({"a": {"L": [s("x"), n("1")]}}),
    );
    check(
        "SET a = list_append(a, :l)",
        values.clone(),
        json!({"a": s("x")}),
        json!("An operand in the update expression has an incorrect data type"),
    );
    check(
        "SET a = list_append(a, :l)",
        values,
        json!({}),
        json!("The provided expression refers to an attribute that does not exist in the item"),
    );
    let big = json!({":big": n("9e125")});
    check(
        "SET a = :big + :big",
        big,
        json!({}),
        json!("Number overflow. Attempting to store a number with magnitude larger than supported range"),
    );
}

#[test]
fn add_and_delete() {
    let values = json!({":one": n("1"), ":pig": {"SS": ["pig"]}, ":dog": {"SS": ["dog", "cat"]}, ":ns": {"NS": ["1"]}});
    check("ADD a :one", values.clone(), json!({"a": n("3")}), json!({"a": n("4")}));
    check("ADD b :one", values.clone(), Json::Null, json!({"b": n("1")}));
    check(
        "ADD a :pig",
        values.clone(),
        json!({"a": {"SS": ["dog"]}}),
        json!({"a": {"SS": ["dog", "pig"]}}),
    );
    check(
        "ADD a :dog",
        values.clone(),
        json!({"a": {"SS": ["dog"]}}),
        json!({"a": {"SS": ["cat", "dog"]}}),
    );
    check("ADD a :pig", values.clone(), Json::Null, json!({"a": {"SS": ["pig"]}}));
    check(
        "ADD a :one",
        values.clone(),
        json!({"a": s("hi")}),
        json!("An operand in the update expression has an incorrect data type"),
    );
    check(
        "ADD a :ns",
        values.clone(),
        json!({"a": {"SS": ["x"]}}),
        json!("An operand in the update expression has an incorrect data type"),
    );
    check(
        "DELETE a :dog",
        values.clone(),
        json!({"a": {"SS": ["dog", "cat", "mouse"]}}),
        json!({"a": {"SS": ["mouse"]}}),
    );
    check(
        "DELETE a :pig",
        values.clone(),
        json!({"a": {"SS": ["dog"]}}),
        json!({"a": {"SS": ["dog"]}}),
    );
    // Emptying a set removes the attribute; deleting from nothing does nothing.
    check(
        "DELETE a :dog",
        values.clone(),
        json!({"a": {"SS": ["dog"]}, "b": s("hi")}),
        json!({"b": s("hi")}),
    );
    check(
        "DELETE a :dog",
        values.clone(),
        json!({"b": s("hi")}),
        json!({"b": s("hi")}),
    );
    check(
        "DELETE a :dog",
        values,
        json!({"a": {"NS": ["1"]}}),
        json!("An operand in the update expression has an incorrect data type"),
    );
}

#[test]
fn nested_paths() {
    let values = json!({":v": n("9"), ":w": s("dog"), ":x": s("hello")});
    check(
        "SET a.c = :v",
        values.clone(),
        json!({"a": {"M": {"b": n("3"), "c": n("4")}}}),
        json!({"a": {"M": {"b": n("3"), "c": n("9")}}}),
    );
    check(
        "SET a.c[1].x.y[1] = :v",
        values.clone(),
        json!({"a": {"M": {"c": {"L": [s("hi"), {"M": {"x": {"M": {"y": {"L": [n("3"), n("5"), n("7")]}}}}}]}}}}),
        json!({"a": {"M": {"c": {"L": [s("hi"), {"M": {"x": {"M": {"y": {"L": [n("3"), n("9"), n("7")]}}}}}]}}}}),
    );
    let invalid = json!("The document path provided in the update expression is invalid for update");
    for (text, item) in [
        ("SET a.c = :v", json!({"a": s("hello")})),
        ("SET b.c = :v", json!({"b": {"L": [s("hi")]}})),
        ("SET c.c = :v", json!({})),
        ("SET c.c = :v", Json::Null),
        ("SET a[0] = :v", json!({"a": s("hello")})),
        ("SET b[0] = :v", Json::Null),
        ("REMOVE a.c", json!({"a": s("hello")})),
        ("REMOVE c.c", json!({"a": s("hello")})),
        ("REMOVE a[0]", json!({"a": s("hello")})),
        ("ADD a.b :v", json!({})),
    ] {
        let values = if text.contains(":v") {
            json!({":v": n("9")})
        } else {
            Json::Null
        };
        check(text, values, item, invalid.clone());
    }
    // But REMOVE of a nested path on an item that does not exist does nothing.
    check("REMOVE x.y", Json::Null, Json::Null, json!({}));
    // A missing key in an existing map is simply not there to remove.
    check(
        "REMOVE a.zz",
        Json::Null,
        json!({"a": {"M": {"b": n("1")}}}),
        json!({"a": {"M": {"b": n("1")}}}),
    );
    check(
        "REMOVE a.b",
        Json::Null,
        json!({"a": {"M": {"b": n("1")}}}),
        json!({"a": {"M": {}}}),
    );
}

#[test]
fn list_indexes_refer_to_the_old_list() {
    let list = |values: &[&str]| json!({"a": {"L": values.iter().map(|value| n(value)).collect::<Vec<_>>()}});
    let values = json!({":val": n("17")});
    check(
        "REMOVE a[1] SET a[3] = :val",
        values.clone(),
        list(&["2", "3", "4", "5", "6", "7"]),
        list(&["2", "4", "17", "6", "7"]),
    );
    check(
        "SET a[3] = :val REMOVE a[1]",
        values.clone(),
        list(&["2", "3", "4", "5", "6", "7"]),
        list(&["2", "4", "17", "6", "7"]),
    );
    check(
        "REMOVE a[1], a[3]",
        Json::Null,
        list(&["0", "1", "2", "3", "4"]),
        list(&["0", "2", "4"]),
    );
    check(
        "REMOVE a[17]",
        Json::Null,
        list(&["4", "5", "6"]),
        list(&["4", "5", "6"]),
    );
    check("REMOVE a[0]", Json::Null, list(&["1"]), list(&[]));
    check(
        "SET a[7] = :val",
        values,
        list(&["1", "2", "3"]),
        list(&["1", "2", "3", "17"]),
    );
    // Several appends land in index order.
    let values = json!({":a1": s("a1"), ":a2": s("a2"), ":a3": s("a3"), ":a4": s("a4")});
    check(
        "SET a[84] = :a1, a[37] = :a2, a[17] = :a3, a[50] = :a4",
        values,
        json!({"a": {"L": [s("one")]}}),
        json!({"a": {"L": [s("one"), s("a3"), s("a2"), s("a4"), s("a1")]}}),
    );
}

#[test]
fn seed_003_appends_without_losing_updates() {
    // `SET #l = list_append(if_not_exists(#l, :empty), :new)`: two appends in a row both land,
    // where the seed's read-push-write loses one of two concurrent updates.
    let update = parse(
        "SET #l = list_append(if_not_exists(#l, :empty), :new)",
        json!({"#l": "data"}),
        json!({":empty": {"L": []}, ":new": {"L": [s("us-east-1")]}}),
    );
    let first = update.apply(None).unwrap();
    assert_eq!(item_to_json(&first.item), json!({"data": {"L": [s("us-east-1")]}}));
    let second = update.apply(Some(&first.item)).unwrap();
    assert_eq!(
        item_to_json(&second.item),
        json!({"data": {"L": [s("us-east-1"), s("us-east-1")]}})
    );
    // The fix the seed notes suggest: a string set of regions, with the new value returned.
    let update = parse(
        "ADD #r :region",
        json!({"#r": "readyRegions"}),
        json!({":region": {"SS": ["eu-west-1"]}}),
    );
    let old =
        item_from_json(&json!({"id": s("aggregator-ready-regions"), "readyRegions": {"SS": ["us-east-1"]}})).unwrap();
    let outcome = update.apply(Some(&old)).unwrap();
    let returned = ReturnValues::UpdatedNew.for_update(Some(&old), &outcome).unwrap();
    assert_eq!(
        item_to_json(&returned),
        json!({"readyRegions": {"SS": ["eu-west-1", "us-east-1"]}})
    );
}

#[test]
fn counters_with_add() {
    let update = parse("ADD hits :one", Json::Null, json!({":one": n("1")}));
    let mut item = None;
    for _ in 0..10 {
        item = Some(update.apply(item.as_ref()).unwrap().item);
    }
    assert_eq!(item_to_json(&item.unwrap()), json!({"hits": n("10")}));
}

#[test]
fn return_values_select_the_written_parts() {
    let update = parse(
        "SET a.b = :v, c = :v, l[1] = :v REMOVE d",
        Json::Null,
        json!({":v": n("9")}),
    );
    let old = item_from_json(&json!({
        "a": {"M": {"b": n("1"), "keep": n("2")}},
        "d": s("gone"),
        "e": s("untouched"),
        "l": {"L": [n("0"), n("1"), n("2")]}
    }))
    .unwrap();
    let outcome = update.apply(Some(&old)).unwrap();
    let returned = |mode: ReturnValues| mode.for_update(Some(&old), &outcome).map(|item| item_to_json(&item));
    assert_eq!(returned(ReturnValues::None), None);
    assert_eq!(returned(ReturnValues::AllOld), Some(item_to_json(&old)));
    assert_eq!(returned(ReturnValues::AllNew), Some(item_to_json(&outcome.item)));
    assert_eq!(
        returned(ReturnValues::UpdatedOld),
        Some(json!({"a": {"M": {"b": n("1")}}, "d": s("gone"), "l": {"L": [n("1")]}}))
    );
    assert_eq!(
        returned(ReturnValues::UpdatedNew),
        Some(json!({"a": {"M": {"b": n("9")}}, "c": n("9"), "l": {"L": [n("9")]}}))
    );
    // A new item has no old values.
    let outcome = update.apply(None);
    assert_eq!(outcome.unwrap_err(), Error::InvalidDocumentPath);
    let fresh = parse("SET c = :v", Json::Null, json!({":v": n("9")}))
        .apply(None)
        .unwrap();
    assert_eq!(ReturnValues::UpdatedOld.for_update(None, &fresh), None);
    assert_eq!(ReturnValues::AllOld.for_update(None, &fresh), None);
    assert_eq!("UPDATED_NEW".parse::<ReturnValues>(), Ok(ReturnValues::UpdatedNew));
    assert!("SOME".parse::<ReturnValues>().is_err());
}

#[test]
fn updated_new_follows_elements_moved_by_removals() {
    let update = parse(
        "REMOVE a[0] SET a[2] = :v, a[9] = :w",
        Json::Null,
        json!({":v": s("x"), ":w": s("y")}),
    );
    let old = item_from_json(&json!({"a": {"L": [n("0"), n("1"), n("2")]}})).unwrap();
    let outcome = update.apply(Some(&old)).unwrap();
    assert_eq!(
        item_to_json(&outcome.item),
        json!({"a": {"L": [n("1"), s("x"), s("y")]}})
    );
    let returned = ReturnValues::UpdatedNew.for_update(Some(&old), &outcome).unwrap();
    assert_eq!(item_to_json(&returned), json!({"a": {"L": [s("x"), s("y")]}}));
}

#[test]
fn key_attributes_cannot_be_updated() {
    use crate::key::{KeyAttribute, KeySchema, ScalarType};
    let schema = KeySchema {
        partition: KeyAttribute {
            name: "id".into(),
            scalar_type: ScalarType::S,
        },
        sort: None,
    };
    let update = parse("SET a = :v REMOVE id", Json::Null, json!({":v": n("1")}));
    assert_eq!(
        update.check_key_attributes(&schema).unwrap_err().to_string(),
        "One or more parameter values were invalid: Cannot update attribute id. This attribute is part of the key"
    );
    assert!(
        parse("SET a = :v", Json::Null, json!({":v": n("1")}))
            .check_key_attributes(&schema)
            .is_ok()
    );
}

#[test]
fn oversized_results_are_refused() {
    let half = "x".repeat(MAX_ITEM_SIZE / 2 + 10);
    let update = parse("SET b = a", Json::Null, Json::Null);
    let item = item_from_json(&json!({"a": s(&half)})).unwrap();
    assert_eq!(
        update.apply(Some(&item)).unwrap_err().to_string(),
        "Item size to update has exceeded the maximum allowed size"
    );
}
