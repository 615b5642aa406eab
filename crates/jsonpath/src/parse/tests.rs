//! Tests of the front end: what each syntax form becomes, and parse errors.

use expect_test::{Expect, expect};

use super::{parse, write_segments};

/// Parses `text` and shows its root and canonical segments, or the error.
fn check(text: &str, expected: Expect) {
    let actual = match parse(text) {
        Ok(parsed) => {
            let mut out = format!("{:?} $", parsed.root);
            write_segments(&mut out, &parsed.segments);
            out
        }
        Err(error) => format!("error: {error}"),
    };
    expected.assert_eq(&actual);
}

#[test]
fn roots() {
    check("$", expect![[r#"Input $"#]]);
    check("$$", expect![[r#"Context $"#]]);
    check("$$.Execution.Id", expect![[r#"Context $['Execution']['Id']"#]]);
    check("$myVar", expect![[r#"Variable("myVar") $"#]]);
    check("$_x1.field", expect![[r#"Variable("_x1") $['field']"#]]);
    check("$v['a'][0]", expect![[r#"Variable("v") $['a'][0]"#]]);
}

#[test]
fn names() {
    check("$.a.b", expect![[r#"Input $['a']['b']"#]]);
    check("$['a'][\"b\"]", expect![[r#"Input $['a']['b']"#]]);
    check("$.detail.request-id", expect![[r#"Input $['detail']['request-id']"#]]);
    check("$.a.b-c:d", expect![[r#"Input $['a']['b-c:d']"#]]);
    check("$.0.1x", expect![[r#"Input $['0']['1x']"#]]);
    check("$.größe", expect![[r#"Input $['größe']"#]]);
    check("$['a b']['it\\'s']", expect![[r#"Input $['a b']['it\'s']"#]]);
    check(r#"$["say \"hi\""]"#, expect![[r#"Input $['say "hi"']"#]]);
    check(r"$['\u00e9\n\\']", expect![[r#"Input $['é\n\\']"#]]);
    check(r"$['\ud83d\ude00']", expect![[r#"Input $['😀']"#]]);
    check("$['']", expect![[r#"Input $['']"#]]);
}

#[test]
fn indices_slices_unions() {
    check("$[0]", expect![[r#"Input $[0]"#]]);
    check("$.a[-1]", expect![[r#"Input $['a'][-1]"#]]);
    check("$[0:2]", expect![[r#"Input $[0:2]"#]]);
    check("$[-1:]", expect![[r#"Input $[-1:]"#]]);
    check("$[:2]", expect![[r#"Input $[:2]"#]]);
    check("$[::-1]", expect![[r#"Input $[::-1]"#]]);
    check("$[ 1 : 5 : 2 ]", expect![[r#"Input $[1:5:2]"#]]);
    check("$[0,1]", expect![[r#"Input $[0,1]"#]]);
    check("$['a', \"b\", 2]", expect![[r#"Input $['a','b',2]"#]]);
}

#[test]
fn wildcards_and_descendants() {
    check("$.*", expect![[r#"Input $[*]"#]]);
    check("$[*].id", expect![[r#"Input $[*]['id']"#]]);
    check("$..name", expect![[r#"Input $..['name']"#]]);
    check("$..*", expect![[r#"Input $..[*]"#]]);
    check("$..[0]", expect![[r#"Input $..[0]"#]]);
    check("$.a..b-c", expect![[r#"Input $['a']..['b-c']"#]]);
}

#[test]
fn filters() {
    check(
        "$.items[?(@.price > 10)]",
        expect![[r#"Input $['items'][?(@['price'] > 10)]"#]],
    );
    check("$.items[?@.price>10]", expect![[r#"Input $['items'][?@['price']>10]"#]]);
    check("$[?(@.name == 'p1')]", expect![[r#"Input $[?(@['name'] == 'p1')]"#]]);
    check(
        r#"$[?(@.name == "p]1")]"#,
        expect![[r#"Input $[?(@['name'] == 'p]1')]"#]],
    );
    check("$[?(@.tags)]", expect![[r#"Input $[?(@['tags'])]"#]]);
    check(
        "$[?(@.price > $.threshold)]",
        expect![[r#"Input $[?(@['price'] > $['threshold'])]"#]],
    );
    check(
        "$[?(@.request-id == 'x')]",
        expect![[r#"Input $[?(@['request-id'] == 'x')]"#]],
    );
    check(
        "$[?(@.a && !@.b || length(@.c) > 1)]",
        expect![[r#"Input $[?(@['a'] && !@['b'] || length(@['c']) > 1)]"#]],
    );
    check("$[?@.a[?@.b], 0]", expect![[r#"Input $[?@['a'][?@['b']],0]"#]]);
    check("$[?@ == 1]", expect![[r#"Input $[?@ == 1]"#]]);
}

#[test]
fn filters_with_brackets_inside() {
    check("$[?(@['a b'] == 1)]", expect![[r#"Input $[?(@['a b'] == 1)]"#]]);
    check("$[?(@.a[0] == 'x')]", expect![[r#"Input $[?(@['a'][0] == 'x')]"#]]);
    check(
        "$$.a[?(@.b == 'c,d')].e",
        expect!["Context $['a'][?(@['b'] == 'c,d')]['e']"],
    );
    check("$[?(@.a in ['x', 'y'])]", expect!["Input $[?(@['a'] in ['x', 'y'])]"]);
}

#[test]
fn syntax_errors() {
    check("", expect![[r#"error: a path must start with '$': """#]]);
    check("a.b", expect![[r#"error: a path must start with '$': "a.b""#]]);
    check("$.a.#", expect![[r#"error: unexpected character '#' at 4 in "$.a.#""#]]);
    check("$.a.", expect![[r#"error: empty name at 4 in "$.a.""#]]);
    check("$.", expect![[r#"error: empty name at 2 in "$.""#]]);
    check(
        "$..",
        expect![[r#"error: unexpected end at 3 in "$..": expected a name, '*' or '[' after '..'"#]],
    );
    check("$a b", expect![[r#"error: unexpected character ' ' at 2 in "$a b""#]]);
    check("$.a b", expect![[r#"error: unexpected character ' ' at 3 in "$.a b""#]]);
    check("$1", expect![[r#"error: unexpected character '1' at 1 in "$1""#]]);
    check("$.é.#", expect![[r#"error: unexpected character '#' at 4 in "$.é.#""#]]);
    check(
        "$['a",
        expect![[r#"error: unterminated string starting at 2 in "$['a""#]],
    );
    check("$['a'", expect![[r#"error: unterminated '[' at 1 in "$['a'""#]]);
    check("$.x[0", expect![[r#"error: unterminated '[' at 3 in "$.x[0""#]]);
    check("$[", expect![[r#"error: unterminated '[' at 1 in "$[""#]]);
    check("$[]", expect![[r#"error: unexpected character ']' at 2 in "$[]""#]]);
    check("$[a]", expect![[r#"error: unexpected character 'a' at 2 in "$[a]""#]]);
    check(
        "$[0 1]",
        expect![[r#"error: unexpected character '1' at 4 in "$[0 1]""#]],
    );
    check("$[-]", expect![[r#"error: unexpected character ']' at 3 in "$[-]""#]]);
    check(
        r"$['\x']",
        expect![[r#"error: invalid escape sequence at 3 in "$['\\x']""#]],
    );
    check(
        r"$['\ud83d']",
        expect![[r#"error: invalid escape sequence at 3 in "$['\\ud83d']""#]],
    );
    check(
        "$[9007199254740992]",
        expect![[r#"error: invalid integer at 2 in "$[9007199254740992]": it must be within ±(2^53 - 1)"#]],
    );
    check(
        "$[?(@.a > 1]",
        expect![[r#"error: unexpected character ']' at 11 in "$[?(@.a > 1]""#]],
    );
    check(
        "$[?@.a > 1)]",
        expect![[r#"error: unexpected character ')' at 10 in "$[?@.a > 1)]""#]],
    );
    check(
        "$[?(@.a > 1)",
        expect![[r#"error: unterminated '[' at 1 in "$[?(@.a > 1)""#]],
    );
    check(
        "$[?$$.a]",
        expect![[r#"error: unexpected character '$' at 4 in "$[?$$.a]""#]],
    );
}
