//! The syntax: literals, escapes, paths, nesting, arity and the offsets of errors.

use serde_json::json;

use super::{check, offset_of, ok, rejected};

#[test]
fn literals_of_every_kind() {
    check(
        "States.Array('a', 1, -2, 3.5, -0.25, 1e3, true, false, null)",
        json!({}),
        ok(json!(["a", 1, -2, 3.5, -0.25, 1000.0, true, false, null])),
    );
}

#[test]
fn integers_stay_integers() {
    let value = super::super::Call::parse("States.Array(9007199254740993)").unwrap();
    let result = value
        .evaluate(&mut super::Scope::new(json!({})), &mut crate::SeededEntropy::new(1))
        .unwrap();
    assert_eq!(result.to_string(), "[9007199254740993]");
}

#[test]
fn no_arguments_and_whitespace() {
    check("States.Array()", json!({}), ok(json!([])));
    check("States.Array( )", json!({}), ok(json!([])));
    check(
        "  States.Array(  1 ,2  ,  $.a )  ",
        json!({"a": 3}),
        ok(json!([1, 2, 3])),
    );
}

#[test]
fn string_escapes() {
    check(r"States.Array('it\'s')", json!({}), ok(json!(["it's"])));
    check(r"States.Array('\{\}')", json!({}), ok(json!(["{}"])));
    check(r"States.Array('back\\slash')", json!({}), ok(json!(["back\\slash"])));
    check("States.Array('a, b)')", json!({}), ok(json!(["a, b)"])));
    check("States.Array('')", json!({}), ok(json!([""])));
    check("States.Array('{}')", json!({}), ok(json!(["{}"])));
}

#[test]
fn invalid_escape_is_rejected() {
    check(r"States.Array('a\nb')", json!({}), rejected(r"invalid escape `\n`"));
    assert_eq!(offset_of(r"States.Array('a\nb')"), 15);
}

#[test]
fn paths_of_every_root() {
    check("States.Array($)", json!({"a": 1}), ok(json!([{"a": 1}])));
    check("States.Array($.a.b)", json!({"a": {"b": 2}}), ok(json!([2])));
    check(
        "States.Array($$.Execution.Id)",
        json!({}),
        ok(json!(["arn:aws:states:exec:1"])),
    );
    check("States.Array($count, $name)", json!({}), ok(json!([3, "Ada"])));
}

#[test]
fn paths_with_brackets_filters_and_quotes() {
    let input = json!({"items": [{"p": 5}, {"p": 15}, {"p": 25}], "a b": 1, "x,y": 2});
    check("States.Array($.items[0].p)", input.clone(), ok(json!([5])));
    check(
        "States.Array($.items[?(@.p > 10)].p, 1)",
        input.clone(),
        ok(json!([[15, 25], 1])),
    );
    check("States.Array($['a b'], $['x,y'])", input.clone(), ok(json!([1, 2])));
    check("States.ArrayLength($.items[?(@.p > 10)])", input, ok(json!(2)));
}

#[test]
fn invalid_path_is_rejected_at_its_offset() {
    check("States.Array(1, $.a[)", json!({}), rejected("invalid path"));
    assert_eq!(offset_of("States.Array(1, $.a..)"), 16);
}

#[test]
fn nested_calls() {
    check(
        "States.Format('{}.{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(\
         States.StringSplit($.Arn, '/'), 2), '.'), 0), States.ArrayGetItem(States.StringSplit(\
         States.ArrayGetItem(States.StringSplit($.Arn, '/'), 2), '.'), 1), States.ArrayLength(\
         States.Array(1, 2)))",
        json!({"Arn": "arn:aws:imagebuilder:us-east-1:123:image-recipe/my-recipe/2023.11.5"}),
        ok(json!("2023.11.2")),
    );
}

/// `depth` calls of `States.Array`, one inside the other, around `1`.
fn nested(depth: usize) -> String {
    format!("{}1{}", "States.Array(".repeat(depth), ")".repeat(depth))
}

#[test]
fn ten_levels_nest_and_eleven_do_not() {
    let mut want = json!(1);
    for _ in 0..10 {
        want = json!([want]);
    }
    check(&nested(10), json!({}), ok(want));
    check(&nested(11), json!({}), rejected("nest at most 10 deep"));
    assert_eq!(offset_of(&nested(11)), 10 * "States.Array(".len());
}

#[test]
fn unknown_function_is_rejected() {
    check(
        "States.Frobnicate(1)",
        json!({}),
        rejected("unknown intrinsic function `States.Frobnicate`"),
    );
    check(
        "States.format('x')",
        json!({}),
        rejected("unknown intrinsic function `States.format`"),
    );
    assert_eq!(offset_of("States.Array(States.Nope())"), 13);
}

#[test]
fn wrong_argument_counts_are_rejected() {
    let cases = [
        (
            "States.UUID(1)",
            "`States.UUID` takes exactly 0 arguments, but 1 was given",
        ),
        (
            "States.Format()",
            "`States.Format` takes at least 1 argument, but 0 were given",
        ),
        (
            "States.ArrayGetItem($.a)",
            "`States.ArrayGetItem` takes exactly 2 arguments, but 1 was given",
        ),
        (
            "States.MathRandom(1)",
            "`States.MathRandom` takes 2 to 3 arguments, but 1 was given",
        ),
        (
            "States.MathRandom(1, 2, 3, 4)",
            "takes 2 to 3 arguments, but 4 were given",
        ),
        (
            "States.JsonMerge($.a, $.b)",
            "`States.JsonMerge` takes exactly 3 arguments",
        ),
        (
            "States.ArrayRange(1, 2)",
            "`States.ArrayRange` takes exactly 3 arguments",
        ),
        ("States.Hash('a')", "`States.Hash` takes exactly 2 arguments"),
        (
            "States.StringToJson()",
            "`States.StringToJson` takes exactly 1 argument,",
        ),
    ];
    for (expression, message) in cases {
        check(expression, json!({}), rejected(message));
    }
}

#[test]
fn malformed_calls_are_rejected() {
    let cases = [
        ("", 0, "expected an intrinsic function call"),
        ("$.a", 0, "expected an intrinsic function call"),
        ("States.", 7, "expected a function name"),
        ("States.Array", 12, "expected `(` after `States.Array`"),
        ("States.Array(1", 14, "unterminated call of `States.Array`"),
        ("States.Array(1 2)", 15, "expected `,` or `)`, found `2`"),
        ("States.Array(1,)", 15, "expected an argument, found `)`"),
        ("States.Array(,1)", 13, "expected an argument, found `,`"),
        ("States.Array('abc)", 13, "unterminated string literal"),
        ("States.Array(True)", 13, "unexpected `True`"),
        ("States.Array(1) x", 16, "unexpected `x` after the call"),
        ("States.Array(-)", 14, "expected a digit"),
        ("States.Array(1.)", 15, "expected a digit"),
        ("States.Array(\"a\")", 13, "expected an argument, found `\"`"),
        ("States.Array($['a)", 13, "unterminated quote in a path"),
    ];
    for (expression, offset, message) in cases {
        check(expression, json!({}), rejected(message));
        assert_eq!(offset_of(expression), offset, "{expression}");
    }
}

#[test]
fn parse_error_display_names_the_offset() {
    let error = super::super::Call::parse("States.Array(1 2)").unwrap_err();
    assert_eq!(error.to_string(), "at character 15: expected `,` or `)`, found `2`");
}

#[test]
fn offsets_count_characters_not_bytes() {
    assert_eq!(offset_of("States.Array('é', x)"), 18);
}
