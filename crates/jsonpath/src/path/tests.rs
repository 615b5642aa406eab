//! Tests of `Path`: parsing and selecting with every syntax form.

use expect_test::{Expect, expect};
use serde_json::{Value, json};

use super::Path;

/// The document most tests select from.
fn store() -> Value {
    json!({
        "threshold": 10,
        "detail": {"request-id": "r-1", "aws:region": "eu-west-1"},
        "items": [
            {"name": "p1", "price": 5, "tags": ["a"]},
            {"name": "p2", "price": 15},
            {"name": "p3", "price": 25, "tags": []}
        ],
        "empty": {},
        "nothing": null
    })
}

/// Parses `text`, selects from `document`, and shows whether the path is a reference
/// path and the result (compact JSON) or the error.
fn check(text: &str, document: &Value, expected: Expect) {
    let actual = match Path::parse(text) {
        Ok(path) => {
            let kind = if path.is_reference() { "reference" } else { "query" };
            match path.select(document) {
                Ok(value) => format!("{kind}: {value}"),
                Err(error) => format!("{kind}: error: {error}"),
            }
        }
        Err(error) => format!("parse error: {error}"),
    };
    expected.assert_eq(&actual);
}

#[test]
fn reference_paths_select_one_value() {
    let doc = store();
    check("$", &json!({"a": 1}), expect![[r#"reference: {"a":1}"#]]);
    check("$.threshold", &doc, expect![[r#"reference: 10"#]]);
    check("$.items[1].name", &doc, expect![[r#"reference: "p2""#]]);
    check("$['items'][-1]['price']", &doc, expect![[r#"reference: 25"#]]);
    check("$.detail.request-id", &doc, expect![[r#"reference: "r-1""#]]);
    check("$.detail.aws:region", &doc, expect![[r#"reference: "eu-west-1""#]]);
    check("$.nothing", &doc, expect![[r#"reference: null"#]]);
    check("$.empty", &doc, expect![[r#"reference: {}"#]]);
}

#[test]
fn missing_values_are_no_results() {
    let doc = store();
    check(
        "$.X",
        &json!({}),
        expect![[r#"reference: error: No results for path: $['X']"#]],
    );
    check(
        "$.empty.a.b",
        &doc,
        expect![[r#"reference: error: No results for path: $['empty']['a']['b']"#]],
    );
    check(
        "$.items[3]",
        &doc,
        expect![[r#"reference: error: No results for path: $['items'][3]"#]],
    );
    check(
        "$.items[-4]",
        &doc,
        expect![[r#"reference: error: No results for path: $['items'][-4]"#]],
    );
    check(
        "$.threshold.a",
        &doc,
        expect![[r#"reference: error: No results for path: $['threshold']['a']"#]],
    );
    check(
        "$.items.a",
        &doc,
        expect![[r#"reference: error: No results for path: $['items']['a']"#]],
    );
    check(
        "$.detail[0]",
        &doc,
        expect![[r#"reference: error: No results for path: $['detail'][0]"#]],
    );
    check(
        "$.nothing.a",
        &doc,
        expect![[r#"reference: error: No results for path: $['nothing']['a']"#]],
    );
    check(
        "$['it\\'s']",
        &doc,
        expect![[r#"reference: error: No results for path: $['it\'s']"#]],
    );
}

#[test]
fn wildcards_select_every_match() {
    let doc = store();
    check("$.items[*].name", &doc, expect![[r#"query: ["p1","p2","p3"]"#]]);
    check("$.items.*.price", &doc, expect![[r#"query: [5,15,25]"#]]);
    check("$.detail.*", &doc, expect![[r#"query: ["r-1","eu-west-1"]"#]]);
    check("$.threshold.*", &doc, expect![[r#"query: []"#]]);
    check("$.missing[*]", &doc, expect![[r#"query: []"#]]);
}

#[test]
fn descendants_select_every_match() {
    let doc = store();
    check("$..name", &doc, expect![[r#"query: ["p1","p2","p3"]"#]]);
    check("$..request-id", &doc, expect![[r#"query: ["r-1"]"#]]);
    check("$..tags[0]", &doc, expect![[r#"query: ["a"]"#]]);
    check("$..missing", &doc, expect![[r#"query: []"#]]);
}

#[test]
fn slices_and_unions_select_every_match() {
    let doc = store();
    check("$.items[0:2].name", &doc, expect![[r#"query: ["p1","p2"]"#]]);
    check("$.items[-1:].name", &doc, expect![[r#"query: ["p3"]"#]]);
    check("$.items[::2].name", &doc, expect![[r#"query: ["p1","p3"]"#]]);
    check("$.items[0,2].name", &doc, expect![[r#"query: ["p1","p3"]"#]]);
    check("$.items[0,9].name", &doc, expect![[r#"query: ["p1"]"#]]);
    check(
        "$['threshold','detail']",
        &doc,
        expect![[r#"query: [10,{"request-id":"r-1","aws:region":"eu-west-1"}]"#]],
    );
}

#[test]
fn filters_select_every_match() {
    let doc = store();
    check(
        "$.items[?(@.price > 10)].name",
        &doc,
        expect![[r#"query: ["p2","p3"]"#]],
    );
    check("$.items[?@.price > 10].name", &doc, expect![[r#"query: ["p2","p3"]"#]]);
    check("$.items[?(@.name == 'p1')].price", &doc, expect![[r#"query: [5]"#]]);
    check(r#"$.items[?(@.name == "p2")].price"#, &doc, expect![[r#"query: [15]"#]]);
    check("$.items[?(@.tags)].name", &doc, expect![[r#"query: ["p1","p3"]"#]]);
    check("$.items[?(!@.tags)].name", &doc, expect![[r#"query: ["p2"]"#]]);
    check(
        "$.items[?(@.price > $.threshold)].name",
        &doc,
        expect![[r#"query: ["p2","p3"]"#]],
    );
    check(
        "$.items[?(@.price > 5 && @.price < 20)].name",
        &doc,
        expect![[r#"query: ["p2"]"#]],
    );
    check("$.items[?(@.price > 100)]", &doc, expect![[r#"query: []"#]]);
    check(
        "$.items[?length(@.tags) == 0].name",
        &doc,
        expect![[r#"query: ["p3"]"#]],
    );
    check("$.items[?(@.nope == 1)]", &doc, expect![[r#"query: []"#]]);
}

#[test]
fn unsupported_filters_are_parse_errors() {
    let doc = store();
    check(
        "$[?(@.a =~ /x/)]",
        &doc,
        expect![[
            r#"parse error: invalid path "$[?(@.a =~ /x/)]": in long-hand segment, parser error (in its RFC 9535 form "$[?(@['a'] =~ /x/)]")"#
        ]],
    );
    check(
        "$[?(@.a in ['x'])]",
        &doc,
        expect![[
            r#"parse error: invalid path "$[?(@.a in ['x'])]": in long-hand segment, parser error (in its RFC 9535 form "$[?(@['a'] in ['x'])]")"#
        ]],
    );
    check(
        "$[?nope(@.a)]",
        &doc,
        expect![[
            r#"parse error: invalid path "$[?nope(@.a)]": in long-hand segment, function name 'nope' is not defined (in its RFC 9535 form "$[?nope(@['a'])]")"#
        ]],
    );
}

#[test]
fn context_and_variable_roots_select_from_the_given_document() {
    let context = json!({"Execution": {"Id": "arn:x", "Input": {"a": 1}}});
    check("$$.Execution.Id", &context, expect![[r#"reference: "arn:x""#]]);
    check("$$.Execution.*", &context, expect![[r#"query: ["arn:x",{"a":1}]"#]]);
    check(
        "$$.Missing",
        &context,
        expect![[r#"reference: error: No results for path: $['Missing']"#]],
    );
    check("$myVar.a", &json!({"a": [1]}), expect![[r#"reference: [1]"#]]);
}

#[test]
fn accessors() {
    let path = Path::parse("$$.a[0]").unwrap();
    assert_eq!(path.root(), &super::Root::Context);
    assert_eq!(path.as_str(), "$$.a[0]");
    assert_eq!(path.to_string(), "$$.a[0]");
    assert_eq!(path.normalized(), "$['a'][0]");
    assert_eq!(format!("{path:?}"), r#"Path("$$.a[0]")"#);
    assert_eq!(
        path.steps(),
        Some(&[super::Step::Name("a".into()), super::Step::Index(0)][..])
    );
    assert_eq!(path.to_reference(), None);
    assert_eq!(path, "$$.a[0]".parse::<Path>().unwrap());
    assert_ne!(path, "$$['a'][0]".parse::<Path>().unwrap());
    let query = Path::parse("$.a[*]").unwrap();
    assert_eq!(query.steps(), None);
    assert_eq!(query.normalized(), "$['a'][*]");
    let reference = Path::parse("$.a").unwrap().to_reference().unwrap();
    assert_eq!(reference.normalized(), "$['a']");
    assert_eq!(Path::parse("$v").unwrap().root(), &super::Root::Variable("v".into()));
}

#[test]
fn select_cow_borrows_reference_results() {
    let doc = store();
    let path = Path::parse("$.detail").unwrap();
    assert!(matches!(path.select_cow(&doc), Ok(std::borrow::Cow::Borrowed(_))));
}
