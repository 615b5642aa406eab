use serde_json::{Value as Json, json};

use crate::error::ExpressionKind;
use crate::parse::{Placeholders, parse_condition};
use crate::value::item_from_json;

/// Evaluates `text` with these values against `item` (`null` for a missing item).
fn check(text: &str, values: Json, item: Json, expected: bool) {
    let mut placeholders = Placeholders::from_json(None, Some(&values)).unwrap();
    let condition = parse_condition(ExpressionKind::Condition, text, &mut placeholders).unwrap();
    let item = (!item.is_null()).then(|| item_from_json(&item).unwrap());
    assert_eq!(condition.evaluate(item.as_ref()), expected, "{text:?} on {item:?}");
}

fn item() -> Json {
    json!({
        "id": {"S": "lock"},
        "hits": {"N": "5"},
        "price": {"N": "10.50"},
        "label": {"S": "héllo world"},
        "bin": {"B": "AAECAw=="},
        "flag": {"BOOL": true},
        "nothing": {"NULL": true},
        "tags": {"SS": ["a", "b"]},
        "scores": {"NS": ["1", "2.5"]},
        "things": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"S": "y"}}}]},
        "doc": {"M": {"inner": {"N": "3"}, "part": {"M": {"leaf": {"S": "z"}}}}}
    })
}

#[test]
fn comparisons_follow_dynamodb_types() {
    let values = json!({
        ":five": {"N": "5"}, ":fives": {"S": "5"}, ":ten5": {"N": "10.5"}, ":a": {"S": "a"}, ":z": {"S": "z"},
        ":bin": {"B": "AAECAw=="}, ":true": {"BOOL": true}, ":tags": {"SS": ["b", "a"]}, ":x": {"S": "x"}
    });
    for (text, expected) in [
        ("price = :ten5", true),
        ("price > :five", true),
        ("price <= :five", false),
        ("price = :fives", false),
        ("price <> :fives", true),
        ("id > :a", true),
        ("id < :z", true),
        ("id >= :z", false),
        ("bin = :bin", true),
        ("flag = :true", true),
        ("flag > :true", false),
        ("tags = :tags", true),
        ("things[0] = :x", true),
        ("doc.part.leaf = :z", true),
        ("absent = :five", false),
        ("absent <> :five", true),
        ("absent < :five", false),
        ("price BETWEEN :five AND :ten5", true),
        ("id BETWEEN :a AND :z", true),
        ("price BETWEEN :a AND :z", false),
        ("price IN (:five, :ten5)", true),
        ("id IN (:a, :z)", false),
        ("NOT price = :five", true),
        ("price = :five OR id = :a", false),
        ("price = :ten5 AND (id = :a OR flag = :true)", true),
    ] {
        check(text, values.clone(), item(), expected);
    }
}

#[test]
fn functions_follow_dynamodb_semantics() {
    let values = json!({
        ":S": {"S": "S"}, ":N": {"S": "N"}, ":NULL": {"S": "NULL"}, ":SS": {"S": "SS"}, ":L": {"S": "L"},
        ":he": {"S": "hé"}, ":world": {"S": "world"}, ":a": {"S": "a"}, ":c": {"S": "c"}, ":twohalf": {"N": "2.5"},
        ":x": {"S": "x"}, ":one": {"N": "1"}, ":two": {"N": "2"}, ":eleven": {"N": "11"}, ":three": {"N": "3"},
        ":prefix": {"B": "AAE="}, ":sub": {"B": "AQI="}
    });
    for (text, expected) in [
        ("attribute_exists(id)", true),
        ("attribute_exists(doc.part.leaf)", true),
        ("attribute_exists(things[5])", false),
        ("attribute_not_exists(absent)", true),
        ("attribute_not_exists(id)", false),
        ("attribute_type(id, :S)", true),
        ("attribute_type(hits, :N)", true),
        ("attribute_type(nothing, :NULL)", true),
        ("attribute_type(tags, :SS)", true),
        ("attribute_type(things, :L)", true),
        ("attribute_type(id, :N)", false),
        ("attribute_type(absent, :S)", false),
        ("begins_with(label, :he)", true),
        ("begins_with(label, :world)", false),
        ("begins_with(bin, :prefix)", true),
        ("begins_with(hits, :he)", false),
        ("contains(label, :world)", true),
        ("contains(tags, :a)", true),
        ("contains(tags, :c)", false),
        ("contains(scores, :twohalf)", true),
        ("contains(things, :x)", true),
        ("contains(things, :one)", true),
        ("contains(bin, :sub)", true),
        ("contains(hits, :one)", false),
        // size() counts characters of strings, bytes of binaries, and elements.
        ("size(label) = :eleven", true),
        ("size(bin) > :three", true),
        ("size(tags) = :two", true),
        ("size(things) = :three", true),
        ("size(doc) = :two", true),
        ("size(hits) = :one", false),
        ("size(absent) = :one", false),
    ] {
        check(text, values.clone(), item(), expected);
    }
}

#[test]
fn a_missing_item_has_no_attributes() {
    let values = json!({":v": {"S": "x"}});
    check("attribute_not_exists(id)", values.clone(), Json::Null, true);
    check("attribute_exists(id)", values.clone(), Json::Null, false);
    check("id = :v", values.clone(), Json::Null, false);
    check("id <> :v", values, Json::Null, true);
}

#[test]
fn seed_000_lock_is_a_conditional_put() {
    // Take the lock only if nobody holds it, or the holder's lease has expired.
    let values = json!({":now": {"N": "1000"}});
    let text = "attribute_not_exists(id) OR expires_at < :now";
    check(text, values.clone(), Json::Null, true);
    check(
        text,
        values.clone(),
        json!({"id": {"S": "lock"}, "expires_at": {"N": "1500"}}),
        false,
    );
    check(
        text,
        values,
        json!({"id": {"S": "lock"}, "expires_at": {"N": "999"}}),
        true,
    );
}

#[test]
fn paths_are_listed_in_source_order() {
    let mut placeholders = Placeholders::from_json(None, Some(&json!({":v": {"N": "1"}}))).unwrap();
    let condition = parse_condition(
        ExpressionKind::Filter,
        "a = :v AND size(b.c) > :v OR attribute_exists(d[1])",
        &mut placeholders,
    )
    .unwrap();
    let paths: Vec<String> = condition.paths().iter().map(ToString::to_string).collect();
    assert_eq!(paths, ["a", "b.c", "d[1]"]);
}
