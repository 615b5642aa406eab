//! States.Format and States.StringSplit, with the AWS documentation's examples.

use serde_json::json;

use super::{check, fails, ok};

#[test]
fn format_docs_examples() {
    let input = json!({"name": "Arnav", "template": "Hello, my name is {}."});
    check(
        "States.Format('Hello, my name is {}.', $.name)",
        input.clone(),
        ok(json!("Hello, my name is Arnav.")),
    );
    check(
        "States.Format($.template, $.name)",
        input,
        ok(json!("Hello, my name is Arnav.")),
    );
}

#[test]
fn format_inserts_strings_raw_and_scalars_as_json() {
    check(
        "States.Format('{}|{}|{}|{}|{}|{}', 'text', 42, -1.5, true, null, $.s)",
        json!({"s": "quote\"d"}),
        ok(json!("text|42|-1.5|true|null|quote\"d")),
    );
    check(
        "States.Format('no placeholders')",
        json!({}),
        ok(json!("no placeholders")),
    );
    check("States.Format('{}{}', 'a', 'b')", json!({}), ok(json!("ab")));
    check(
        "States.Format('{}', States.ArrayLength($.a))",
        json!({"a": [1, 2]}),
        ok(json!("2")),
    );
}

#[test]
fn format_escaped_braces_are_text() {
    check(
        r"States.Format('\{}', 'x')",
        json!({}),
        fails("the template has 0 placeholders but 1 value was given"),
    );
    check(r"States.Format('\{\} is {}', 'x')", json!({}), ok(json!("{} is x")));
    check(
        r"States.Format('{\}', 'x')",
        json!({}),
        fails("0 placeholders but 1 value"),
    );
    check(r"States.Format('{ {} }', 1)", json!({}), ok(json!("{ 1 }")));
    check(
        r"States.Format('it\'s {}\\{}', 'a', 'b')",
        json!({}),
        ok(json!(r"it's a\b")),
    );
    check(r"States.Format('{\\}')", json!({}), ok(json!(r"{\}")));
}

#[test]
fn format_template_from_a_path_has_no_escapes() {
    check(
        "States.Format($.t, 1)",
        json!({"t": "{}\\{}{"}),
        fails("the template has 2 placeholders but 1 value was given"),
    );
    check("States.Format($.t, 1, 2)", json!({"t": "{}\\{}{"}), ok(json!("1\\2{")));
}

#[test]
fn format_counts_must_match() {
    check(
        "States.Format('{} {}', 'a')",
        json!({}),
        fails("States.Format: the template has 2 placeholders but 1 value was given"),
    );
    check(
        "States.Format('{}', 'a', 'b')",
        json!({}),
        fails("the template has 1 placeholder but 2 values were given"),
    );
    check(
        "States.Format('x', 'a')",
        json!({}),
        fails("0 placeholders but 1 value was given"),
    );
}

#[test]
fn format_refuses_objects_arrays_and_non_string_templates() {
    check(
        "States.Format('{}', $.o)",
        json!({"o": {"a": 1}}),
        fails(
            "The value of the argument 'value' of States.Format must be a string, number, boolean or null, got an object",
        ),
    );
    check(
        "States.Format('{} {}', 1, $.a)",
        json!({"a": [1]}),
        fails("'value' of States.Format must be a string, number, boolean or null, got an array of 1 items"),
    );
    check(
        "States.Format($.t)",
        json!({"t": 5}),
        fails("'template' of States.Format must be a string, got 5"),
    );
    check(
        "States.Format(1)",
        json!({}),
        fails("'template' of States.Format must be a string"),
    );
}

#[test]
fn split_docs_examples() {
    check(
        "States.StringSplit($.inputString, $.splitter)",
        json!({"inputString": "1,2,3,4,5", "splitter": ","}),
        ok(json!(["1", "2", "3", "4", "5"])),
    );
    check(
        "States.StringSplit($.inputString, $.splitter)",
        json!({"inputString": "This.is+a,test=string", "splitter": ".+,="}),
        ok(json!(["This", "is", "a", "test", "string"])),
    );
    check(
        "States.StringSplit('1,2,3,4,5', ',')",
        json!({}),
        ok(json!(["1", "2", "3", "4", "5"])),
    );
}

#[test]
fn split_drops_empty_parts() {
    check("States.StringSplit(',a,,b,', ',')", json!({}), ok(json!(["a", "b"])));
    check("States.StringSplit('', ',')", json!({}), ok(json!([])));
    check("States.StringSplit('abc', '')", json!({}), ok(json!(["abc"])));
    check(
        "States.StringSplit('a b\tc', ' \t')",
        json!({}),
        ok(json!(["a", "b", "c"])),
    );
    check(
        "States.StringSplit('héllo wörld', 'ö')",
        json!({}),
        ok(json!(["héllo w", "rld"])),
    );
}

#[test]
fn split_needs_strings() {
    check(
        "States.StringSplit(1, ',')",
        json!({}),
        fails("'string' of States.StringSplit must be a string, got 1"),
    );
    check(
        "States.StringSplit('a', $.d)",
        json!({"d": [","]}),
        fails("'delimiters' of States.StringSplit must be a string"),
    );
}
