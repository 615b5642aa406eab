//! Tests of `ReferencePath`: parsing, reading and writing.

use expect_test::{Expect, expect};
use serde_json::{Value, json};

use super::ReferencePath;

/// Parses `text`, then shows what it gets from `document` and the document after setting
/// `"NEW"` there, or the error.
fn check(text: &str, document: Value, expected: Expect) {
    let actual = match ReferencePath::parse(text) {
        Ok(path) => {
            let got = path.get(&document).map_or("none".to_owned(), Value::to_string);
            match path.set(document, json!("NEW")) {
                Ok(set) => format!("get: {got}; set: {set}"),
                Err(error) => format!("get: {got}; set error: {error}"),
            }
        }
        Err(error) => format!("parse error: {error}"),
    };
    expected.assert_eq(&actual);
}

#[test]
fn root_replaces_the_document() {
    check("$", json!({"a": 1}), expect![[r#"get: {"a":1}; set: "NEW""#]]);
    check("$", json!(3), expect![[r#"get: 3; set: "NEW""#]]);
}

#[test]
fn set_adds_and_replaces_members_in_order() {
    check(
        "$.a",
        json!({"x": 1}),
        expect![[r#"get: none; set: {"x":1,"a":"NEW"}"#]],
    );
    check(
        "$.x",
        json!({"x": 1, "y": 2}),
        expect![[r#"get: 1; set: {"x":"NEW","y":2}"#]],
    );
    check(
        "$.a.b",
        json!({"x": 1}),
        expect![[r#"get: none; set: {"x":1,"a":{"b":"NEW"}}"#]],
    );
    check(
        "$.a.b.c",
        json!({"a": {"z": 0}, "y": 2}),
        expect![[r#"get: none; set: {"a":{"z":0,"b":{"c":"NEW"}},"y":2}"#]],
    );
    check(
        "$.detail.request-id",
        json!({"detail": {}}),
        expect![[r#"get: none; set: {"detail":{"request-id":"NEW"}}"#]],
    );
    check(
        "$['a b']['c']",
        json!({}),
        expect![[r#"get: none; set: {"a b":{"c":"NEW"}}"#]],
    );
}

#[test]
fn set_replaces_array_elements() {
    check(
        "$.a[1]",
        json!({"a": [1, 2, 3]}),
        expect![[r#"get: 2; set: {"a":[1,"NEW",3]}"#]],
    );
    check(
        "$.a[-1]",
        json!({"a": [1, 2, 3]}),
        expect![[r#"get: 3; set: {"a":[1,2,"NEW"]}"#]],
    );
    check(
        "$.a[0].b",
        json!({"a": [{"c": 1}]}),
        expect![[r#"get: none; set: {"a":[{"c":1,"b":"NEW"}]}"#]],
    );
    check("$[0]", json!([[1]]), expect![[r#"get: [1]; set: ["NEW"]"#]]);
}

#[test]
fn set_fails_on_the_wrong_kind_of_value() {
    check(
        "$.x.y",
        json!({"x": 1}),
        expect![[r#"get: none; set error: cannot set "$.x.y": $['x'] is a number, not an object"#]],
    );
    check(
        "$.x.y.z",
        json!({"x": "s"}),
        expect![[r#"get: none; set error: cannot set "$.x.y.z": $['x'] is a string, not an object"#]],
    );
    check(
        "$.x.y",
        json!({"x": null}),
        expect![[r#"get: none; set error: cannot set "$.x.y": $['x'] is null, not an object"#]],
    );
    check(
        "$.a",
        json!([1]),
        expect![[r#"get: none; set error: cannot set "$.a": $ is an array, not an object"#]],
    );
    check(
        "$.a[0]",
        json!({"a": {}}),
        expect![[r#"get: none; set error: cannot set "$.a[0]": $['a'] is an object, not an array"#]],
    );
    check(
        "$.a[0].b",
        json!({}),
        expect![[r#"get: none; set error: cannot set "$.a[0].b": $['a'] is an object, not an array"#]],
    );
    check(
        "$[0]",
        json!(true),
        expect![[r#"get: none; set error: cannot set "$[0]": $ is a boolean, not an array"#]],
    );
}

#[test]
fn set_fails_past_the_end_of_an_array() {
    check(
        "$.a[3]",
        json!({"a": [1, 2, 3]}),
        expect![[
            r#"get: none; set error: cannot set "$.a[3]": index 3 is out of bounds for $['a'], which has 3 elements"#
        ]],
    );
    check(
        "$.a[-4]",
        json!({"a": [1, 2, 3]}),
        expect![[
            r#"get: none; set error: cannot set "$.a[-4]": index -4 is out of bounds for $['a'], which has 3 elements"#
        ]],
    );
    check(
        "$.a[5].b",
        json!({"a": []}),
        expect![[
            r#"get: none; set error: cannot set "$.a[5].b": index 5 is out of bounds for $['a'], which has 0 elements"#
        ]],
    );
}

#[test]
fn only_reference_paths_parse() {
    check(
        "$.a[*]",
        json!({}),
        expect![[r#"parse error: a wildcard at 3 is not allowed in a reference path: "$.a[*]""#]],
    );
    check(
        "$.*",
        json!({}),
        expect![[r#"parse error: a wildcard at 1 is not allowed in a reference path: "$.*""#]],
    );
    check(
        "$..a",
        json!({}),
        expect![[r#"parse error: a descendant segment '..' at 1 is not allowed in a reference path: "$..a""#]],
    );
    check(
        "$.a[0:1]",
        json!({}),
        expect![[r#"parse error: a slice at 3 is not allowed in a reference path: "$.a[0:1]""#]],
    );
    check(
        "$.a[0,1]",
        json!({}),
        expect![[r#"parse error: a union at 3 is not allowed in a reference path: "$.a[0,1]""#]],
    );
    check(
        "$.a[?(@.b)]",
        json!({}),
        expect![[r#"parse error: a filter at 3 is not allowed in a reference path: "$.a[?(@.b)]""#]],
    );
    check(
        "$$.a",
        json!({}),
        expect![[r#"parse error: the context object root '$$' at 0 is not allowed in a reference path: "$$.a""#]],
    );
    check(
        "$v.a",
        json!({}),
        expect![[r#"parse error: a variable root at 0 is not allowed in a reference path: "$v.a""#]],
    );
    check(
        "a",
        json!({}),
        expect![[r#"parse error: a path must start with '$': "a""#]],
    );
    check(
        "$.a.#",
        json!({}),
        expect![[r#"parse error: unexpected character '#' at 4 in "$.a.#""#]],
    );
}

#[test]
fn accessors() {
    let path: ReferencePath = "$.a['b c'][2]".parse().unwrap();
    assert_eq!(path.as_str(), "$.a['b c'][2]");
    assert_eq!(path.to_string(), "$.a['b c'][2]");
    assert_eq!(format!("{path:?}"), r#"ReferencePath("$.a['b c'][2]")"#);
    assert_eq!(path.normalized(), "$['a']['b c'][2]");
    assert_eq!(path.steps().len(), 3);
    assert_eq!(path.clone(), path);
    let document = json!({"a": {"b c": [0, 1, 2]}});
    assert_eq!(path.select(&document), Ok(&json!(2)));
    let error = path.select(&json!({})).unwrap_err();
    assert_eq!(error.to_string(), "No results for path: $['a']['b c'][2]");
    let error = path.set(json!({"a": 1}), json!(0)).unwrap_err();
    assert_eq!(error.path(), "$.a['b c'][2]");
}
