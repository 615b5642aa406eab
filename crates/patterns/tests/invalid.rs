//! Invalid patterns: each is rejected with EventBridge's kind of message and the JSON pointer of
//! the offending value, and every problem in a pattern is reported, not only the first.

use sluice_patterns::{Error, MAX_BRANCHES, Pattern, test_event_pattern};

/// Checks that `pattern` is rejected with exactly these `pointer: message` diagnostics.
#[track_caller]
fn check(pattern: &str, expect: &[&str]) {
    let error = Pattern::parse(pattern).expect_err(pattern);
    let found: Vec<String> = error.diagnostics().iter().map(ToString::to_string).collect();
    assert_eq!(found, expect, "{pattern}");
}

#[test]
fn structure() {
    check("[]", &["Filter is not an object"]);
    check(r#""source""#, &["Filter is not an object"]);
    check("{}", &["Empty objects are not allowed"]);
    check(r#"{"detail": {}}"#, &["/detail: Empty objects are not allowed"]);
    check(
        r#"{"source": "aws.ec2"}"#,
        &[r#"/source: "source" must be an object or an array"#],
    );
    check(
        r#"{"detail": {"n": 5}}"#,
        &[r#"/detail/n: "n" must be an object or an array"#],
    );
    check(r#"{"source": []}"#, &["/source: Empty arrays are not allowed"]);
    check(
        r#"{"source": [["aws.ec2"]]}"#,
        &["/source/0: Match value must be String, number, true, false, or null"],
    );
    check(r#"{"a": [{}]}"#, &["/a/0: Match expression name not found"]);
    check(
        r#"{"a": [{"prefix": "x", "suffix": "y"}]}"#,
        &["/a/0: Only one key allowed in match expression"],
    );
    check(
        r#"{"a": [{"contains": "x"}]}"#,
        &["/a/0/contains: Unrecognized match type contains"],
    );
}

#[test]
fn string_operators() {
    check(
        r#"{"detail": {"state": [{"prefix": 5}]}}"#,
        &["/detail/state/0/prefix: prefix match pattern must be a string"],
    );
    check(
        r#"{"a": [{"suffix": null}]}"#,
        &["/a/0/suffix: suffix match pattern must be a string"],
    );
    check(
        r#"{"a": [{"equals-ignore-case": ["x"]}]}"#,
        &["/a/0/equals-ignore-case: equals-ignore-case match pattern must be a string"],
    );
    check(
        r#"{"a": [{"prefix": {"equals-ignore-case": 1}}]}"#,
        &["/a/0/prefix/equals-ignore-case: equals-ignore-case match pattern must be a string"],
    );
    check(
        r#"{"a": [{"prefix": {"wildcard": "x*"}}]}"#,
        &["/a/0/prefix: Unsupported prefix pattern: wildcard"],
    );
    check(
        r#"{"a": [{"suffix": {}}]}"#,
        &["/a/0/suffix: suffix match pattern must be a string"],
    );
    check(
        r#"{"a": [{"wildcard": 1}]}"#,
        &["/a/0/wildcard: wildcard match pattern must be a string"],
    );
    check(
        r#"{"a": [{"wildcard": "abc**def"}]}"#,
        &["/a/0/wildcard: Consecutive wildcard characters at pos 4"],
    );
    check(
        r#"{"a": [{"wildcard": "a*c\\def"}]}"#,
        &["/a/0/wildcard: Invalid escape character at pos 4"],
    );
    check(
        r#"{"a": [{"wildcard": "trailing\\"}]}"#,
        &["/a/0/wildcard: Invalid escape character at pos 9"],
    );
    check(
        r#"{"a": [{"cidr": 10}]}"#,
        &["/a/0/cidr: cidr match pattern must be a string"],
    );
    check(
        r#"{"a": [{"cidr": "10.0.0.0"}]}"#,
        &["/a/0/cidr: Malformed CIDR, one '/' required: 10.0.0.0"],
    );
    check(
        r#"{"a": [{"cidr": "10.0.0.0/33"}]}"#,
        &["/a/0/cidr: Invalid prefix length in CIDR: 10.0.0.0/33"],
    );
    check(
        r#"{"a": [{"cidr": "10.0.0/8"}]}"#,
        &["/a/0/cidr: Nonstandard IP address: 10.0.0"],
    );
    check(
        r#"{"a": [{"exists": "yes"}]}"#,
        &["/a/0/exists: exists match pattern must be either true or false."],
    );
}

#[test]
fn anything_but() {
    check(
        r#"{"a": [{"anything-but": true}]}"#,
        &["/a/0/anything-but: Value of anything-but must be an array or single string/number value."],
    );
    check(
        r#"{"a": [{"anything-but": []}]}"#,
        &["/a/0/anything-but: Empty arrays are not allowed"],
    );
    check(
        r#"{"a": [{"anything-but": ["x", 1]}]}"#,
        &[
            "/a/0/anything-but: Inside anything-but list, either all values are number or string, mixed type is not supported",
        ],
    );
    check(
        r#"{"a": [{"anything-but": ["x", null]}]}"#,
        &["/a/0/anything-but/1: Inside anything-but list, only strings and numbers are supported"],
    );
    check(
        r#"{"a": [{"anything-but": 6e9}]}"#,
        &["/a/0/anything-but: Value must be between -5.0E9 and 5.0E9, inclusive"],
    );
    check(
        r#"{"a": [{"anything-but": {"prefix": ""}}]}"#,
        &["/a/0/anything-but/prefix: Null prefix not allowed"],
    );
    check(
        r#"{"a": [{"anything-but": {"suffix": 1}}]}"#,
        &["/a/0/anything-but/suffix: suffix match pattern must be a string"],
    );
    check(
        r#"{"a": [{"anything-but": {"contains": "x"}}]}"#,
        &["/a/0/anything-but/contains: Unsupported anything-but pattern: contains"],
    );
    check(
        r#"{"a": [{"anything-but": {}}]}"#,
        &["/a/0/anything-but: Anything-but expression name not found"],
    );
    check(
        r#"{"a": [{"anything-but": {"prefix": "x", "suffix": "y"}}]}"#,
        &["/a/0/anything-but: Only one key allowed in match expression"],
    );
    check(
        r#"{"a": [{"anything-but": {"equals-ignore-case": ["x", 2]}}]}"#,
        &["/a/0/anything-but/equals-ignore-case/1: equals-ignore-case match pattern must be a string"],
    );
    check(
        r#"{"a": [{"anything-but": {"wildcard": ["ok*", "bad**"]}}]}"#,
        &["/a/0/anything-but/wildcard: Consecutive wildcard characters at pos 4"],
    );
}

#[test]
fn numeric() {
    check(
        r#"{"a": [{"numeric": 5}]}"#,
        &["/a/0/numeric: Value of numeric must be an array."],
    );
    check(
        r#"{"a": [{"numeric": []}]}"#,
        &["/a/0/numeric: Empty arrays are not allowed"],
    );
    check(
        r#"{"a": [{"numeric": [5]}]}"#,
        &["/a/0/numeric/0: Invalid member in numeric match: 5"],
    );
    check(
        r#"{"a": [{"numeric": ["!=", 5]}]}"#,
        &["/a/0/numeric/0: Unrecognized numeric range operator: !="],
    );
    check(
        r#"{"a": [{"numeric": [">"]}]}"#,
        &["/a/0/numeric: Value of > must be numeric"],
    );
    check(
        r#"{"a": [{"numeric": [">", "5"]}]}"#,
        &["/a/0/numeric/1: Value of > must be numeric"],
    );
    check(
        r#"{"a": [{"numeric": ["=", 1, 2]}]}"#,
        &["/a/0/numeric/2: Too many elements in numeric expression"],
    );
    check(
        r#"{"a": [{"numeric": ["<", 5, ">", 0]}]}"#,
        &["/a/0/numeric/2: Too many elements in numeric expression"],
    );
    check(
        r#"{"a": [{"numeric": [">", 0, ">", 5]}]}"#,
        &["/a/0/numeric/2: Bad numeric range operator: >"],
    );
    check(
        r#"{"a": [{"numeric": [">", 0, 5]}]}"#,
        &["/a/0/numeric/2: Bad value in numeric range: 5"],
    );
    check(
        r#"{"a": [{"numeric": [">", 0, "<", "x"]}]}"#,
        &["/a/0/numeric/3: Value of < must be numeric"],
    );
    check(
        r#"{"a": [{"numeric": [">", 0, "<", 5, 6]}]}"#,
        &["/a/0/numeric/4: Too many terms in numeric range expression"],
    );
    check(
        r#"{"a": [{"numeric": [">", 5, "<", 1]}]}"#,
        &["/a/0/numeric: Bottom must be less than top"],
    );
    check(
        r#"{"a": [{"numeric": [">=", 5, "<=", 5]}]}"#,
        &["/a/0/numeric: Bottom must be less than top"],
    );
    check(
        r#"{"a": [{"numeric": ["=", 1e10]}]}"#,
        &["/a/0/numeric/1: Value must be between -5.0E9 and 5.0E9, inclusive"],
    );
    check(
        r#"{"a": [{"numeric": [">", -5.1e9]}]}"#,
        &["/a/0/numeric/1: Value must be between -5.0E9 and 5.0E9, inclusive"],
    );
}

#[test]
fn or() {
    check(
        r#"{"$or": {"a": ["x"]}}"#,
        &["/$or: Value of $or must be an array of objects"],
    );
    check(
        r#"{"$or": [{"a": ["x"]}]}"#,
        &["/$or: There must be at least 2 objects in a $or relationship"],
    );
    check(
        r#"{"$or": [{"a": ["x"]}, "b"]}"#,
        &["/$or/1: Only JSON objects are allowed in a $or array"],
    );
    check(
        r#"{"$or": [{"a": ["x"]}, {}]}"#,
        &["/$or/1: Empty objects are not allowed"],
    );
    check(
        r#"{"$or": [{"prefix": ["x"]}, {"a": {"numeric": [1]}}]}"#,
        &[
            "/$or/0/prefix: prefix is a reserved field name and cannot be used inside $or",
            "/$or/1/a/numeric: numeric is a reserved field name and cannot be used inside $or",
        ],
    );
    // Outside $or, operator names are ordinary field names.
    assert!(Pattern::parse(r#"{"prefix": ["x"], "detail": {"numeric": [1]}}"#).is_ok());
    // Parallel $ors multiply; past the limit the pattern is refused.
    let or = r#"{"$or": [{"a": ["1"]}, {"b": ["2"]}]}"#;
    let mut pattern = String::from("{");
    let fields = (MAX_BRANCHES as f64).log2() as usize + 1;
    for index in 0..fields {
        pattern.push_str(&format!(r#""f{index}": {or},"#));
    }
    pattern.pop();
    pattern.push('}');
    let error = Pattern::parse(&pattern).unwrap_err();
    assert_eq!(
        error.diagnostics()[0].to_string(),
        format!(
            "/f{}: Event pattern is too complex: its $or alternatives combine into more than {MAX_BRANCHES} branches",
            fields - 1
        ),
    );
}

#[test]
fn pointers_escape_slash_and_tilde() {
    check(
        r#"{"a/b": {"c~d": [{"prefix": 1}]}}"#,
        &["/a~1b/c~0d/0/prefix: prefix match pattern must be a string"],
    );
}

#[test]
fn every_problem_is_reported() {
    check(
        r#"{"a": [{"prefix": 1}, {"numeric": [">", "x"]}], "b": [], "c": {}, "d": {"e": [{"exists": 1}]}}"#,
        &[
            "/a/0/prefix: prefix match pattern must be a string",
            "/a/1/numeric/1: Value of > must be numeric",
            "/b: Empty arrays are not allowed",
            "/c: Empty objects are not allowed",
            "/d/e/0/exists: exists match pattern must be either true or false.",
        ],
    );
}

#[test]
fn errors_display_like_aws() {
    let error = Pattern::parse(r#"{"detail": {"state": [{"prefix": 5}], "x": []}}"#).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Event pattern is not valid. Reason: /detail/state/0/prefix: prefix match pattern must be a string; \
         /detail/x: Empty arrays are not allowed"
    );
    let error = Pattern::parse(r#"{"source": ["#).unwrap_err();
    assert!(matches!(error, Error::Syntax { .. }), "{error:?}");
    assert!(
        error.to_string().starts_with("Event pattern is not valid JSON: "),
        "{error}"
    );
    assert!(error.diagnostics().is_empty());
}

#[test]
fn test_event_pattern_checks_both_inputs() {
    let pattern = r#"{"source": ["aws.ec2"], "detail": {"state": [{"anything-but": "pending"}]}}"#;
    assert_eq!(
        test_event_pattern(pattern, r#"{"source": "aws.ec2", "detail": {"state": "running"}}"#),
        Ok(true)
    );
    assert_eq!(
        test_event_pattern(pattern, r#"{"source": "aws.ec2", "detail": {"state": "pending"}}"#),
        Ok(false)
    );
    assert!(matches!(
        test_event_pattern(r#"{"source": "x"}"#, "{}"),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        test_event_pattern(pattern, "{"),
        Err(Error::InvalidEvent { .. })
    ));
    let error = test_event_pattern(pattern, "[1]").unwrap_err();
    assert_eq!(error.to_string(), "Event is not valid: the event must be a JSON object");
}
