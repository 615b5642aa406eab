use serde_json::{Value as Json, json};

use super::*;
use crate::key::{KeyAttribute, KeySchema, ScalarType};

/// Which parser a case runs.
#[derive(Clone, Copy)]
enum Parse {
    Condition,
    Filter,
    Update,
    Projection,
    KeyCondition,
}

/// Parses `text` with the given placeholders and checks the outcome, including the unused
/// placeholder check: `"ok"` or the exact error message.
fn check(parse: Parse, text: &str, names: Json, values: Json, expected: &str) {
    let names = (!names.is_null()).then_some(&names);
    let values = (!values.is_null()).then_some(&values);
    let actual = match run(parse, text, names, values) {
        Ok(()) => "ok".to_owned(),
        Err(error) => error.to_string(),
    };
    assert_eq!(actual, expected, "{text:?}");
}

fn run(parse: Parse, text: &str, names: Option<&Json>, values: Option<&Json>) -> Result<(), Error> {
    let mut placeholders = Placeholders::from_json(names, values)?;
    let schema = KeySchema {
        partition: KeyAttribute {
            name: "pk".into(),
            scalar_type: ScalarType::S,
        },
        sort: Some(KeyAttribute {
            name: "sk".into(),
            scalar_type: ScalarType::N,
        }),
    };
    match parse {
        Parse::Condition => parse_condition(ExpressionKind::Condition, text, &mut placeholders).map(drop)?,
        Parse::Filter => parse_condition(ExpressionKind::Filter, text, &mut placeholders).map(drop)?,
        Parse::Update => parse_update(text, &mut placeholders).map(drop)?,
        Parse::Projection => parse_projection(text, &mut placeholders).map(drop)?,
        Parse::KeyCondition => parse_key_condition(text, &schema, &mut placeholders).map(drop)?,
    }
    placeholders.finish()
}

#[test]
fn placeholder_maps_are_checked_first() {
    let cases = [
        (json!({}), Json::Null, "ExpressionAttributeNames must not be empty"),
        (Json::Null, json!({}), "ExpressionAttributeValues must not be empty"),
        (
            json!({"a": "a"}),
            Json::Null,
            "ExpressionAttributeNames contains invalid key: Syntax error; key: \"a\"",
        ),
        (
            json!({"#a-b": "a"}),
            Json::Null,
            "ExpressionAttributeNames contains invalid key: Syntax error; key: \"#a-b\"",
        ),
        (
            Json::Null,
            json!({"a": {"S": "b"}}),
            "ExpressionAttributeValues contains invalid key: Syntax error; key: \"a\"",
        ),
        (
            Json::Null,
            json!({":v": {"SS": []}}),
            "ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: An string set  may not be empty for key :v",
        ),
        (
            Json::Null,
            json!({":o": {"N": "1e-131"}}),
            "ExpressionAttributeValues contains invalid value: Number underflow. Attempting to store a number with magnitude smaller than supported range for key :o",
        ),
    ];
    for (names, values, expected) in cases {
        check(Parse::Condition, "a = b", names, values, expected);
    }
}

#[test]
fn unused_placeholders_are_rejected_after_parsing() {
    check(
        Parse::Update,
        "SET a = :val1",
        Json::Null,
        json!({":val1": {"N": "3"}, ":val2": {"N": "4"}}),
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:val2}",
    );
    check(
        Parse::Update,
        "SET #one = #two",
        json!({"#one": "c", "#two": "a", "#three": "z"}),
        Json::Null,
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#three}",
    );
    check(
        Parse::Projection,
        "#a",
        json!({"#a": "x", "#b": "y", "#c": "z"}),
        json!({":v": {"S": "x"}}),
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b, #c}",
    );
    // Names and values used on the right-hand side count as used.
    check(
        Parse::Update,
        "SET #a = list_append(#b, :v)",
        json!({"#a": "x", "#b": "y"}),
        json!({":v": {"L": []}}),
        "ok",
    );
}

#[test]
fn syntax_errors_name_the_token_and_its_neighbours() {
    let cases = [
        (
            Parse::Update,
            "SET path = VALUE 1",
            "Invalid UpdateExpression: Syntax error; token: \"1\", near: \"VALUE 1\"",
        ),
        (
            Parse::Update,
            "INVALID SYNTAX HERE",
            "Invalid UpdateExpression: Syntax error; token: \"INVALID\", near: \"INVALID SYNTAX\"",
        ),
        (
            Parse::Update,
            "SET _123 = :v",
            "Invalid UpdateExpression: Syntax error; token: \"_\", near: \"SET _123\"",
        ),
        (
            Parse::Update,
            "ADD hits : incr",
            "Invalid UpdateExpression: Syntax error; token: \":\", near: \"hits : incr\"",
        ),
        (
            Parse::Update,
            "SET",
            "Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near: \"SET\"",
        ),
        (
            Parse::Update,
            "SET a = :v1 + :v2 + :v3",
            "Invalid UpdateExpression: Syntax error; token: \"+\", near: \":v2 + :v3\"",
        ),
        (
            Parse::Update,
            "SET c = if_not_exists(c, :v1+:v2)",
            "Invalid UpdateExpression: Syntax error; token: \"+\", near: \":v1+:v2\"",
        ),
        (
            Parse::Update,
            "SET a[:xyz] = :v",
            "Invalid UpdateExpression: Syntax error; token: \":xyz\", near: \"[:xyz]\"",
        ),
        (
            Parse::Update,
            "SET :a = :b",
            "Invalid UpdateExpression: Syntax error; token: \":a\", near: \"SET :a =\"",
        ),
        (
            Parse::Update,
            "HELLO b = :v",
            "Invalid UpdateExpression: Syntax error; token: \"HELLO\", near: \"HELLO b\"",
        ),
        (
            Parse::Update,
            "SET hi-there = :v",
            "Invalid UpdateExpression: Syntax error; token: \"-\", near: \"hi-there\"",
        ),
        (
            Parse::Condition,
            "a = ",
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"=\"",
        ),
        (
            Parse::Condition,
            "a = :v AND",
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"AND\"",
        ),
        (
            Parse::Condition,
            "(a = :v",
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \":v\"",
        ),
        (
            Parse::Condition,
            "a BETWEEN :v",
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \":v\"",
        ),
        (
            Parse::Projection,
            "!!",
            "Invalid ProjectionExpression: Syntax error; token: \"!\", near: \"!!\"",
        ),
        (
            Parse::Projection,
            "a,",
            "Invalid ProjectionExpression: Syntax error; token: \"<EOF>\", near: \",\"",
        ),
        (
            Parse::KeyCondition,
            "things are not gonna be ok",
            "Invalid KeyConditionExpression: Syntax error; token: \"are\", near: \"things are not\"",
        ),
    ];
    for (parse, text, expected) in cases {
        check(parse, text, Json::Null, json!({":v": {"N": "1"}, ":v1": {"N": "1"}, ":v2": {"N": "1"}, ":v3": {"N": "1"}, ":b": {"N": "1"}, ":xyz": {"N": "1"}}).clone(), expected);
    }
}

#[test]
fn empty_expressions_are_rejected() {
    check(
        Parse::Update,
        "",
        Json::Null,
        Json::Null,
        "Invalid UpdateExpression: The expression can not be empty;",
    );
    check(
        Parse::Filter,
        "  ",
        Json::Null,
        Json::Null,
        "Invalid FilterExpression: The expression can not be empty;",
    );
    check(
        Parse::Projection,
        "",
        Json::Null,
        Json::Null,
        "Invalid ProjectionExpression: The expression can not be empty;",
    );
}

#[test]
fn references_are_resolved_in_source_order() {
    let cases = [
        (
            Parse::Condition,
            "name = :v",
            Json::Null,
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name",
        ),
        (
            Parse::Update,
            "SET Status = :v",
            Json::Null,
            "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: Status",
        ),
        (
            Parse::Projection,
            "a.b.data",
            Json::Null,
            "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: data",
        ),
        (
            Parse::Update,
            "SET #x = :v",
            Json::Null,
            "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #x",
        ),
        (
            Parse::Update,
            "SET a = :nope",
            Json::Null,
            "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :nope",
        ),
        // An undefined value is reported before the misuse it takes part in.
        (
            Parse::Update,
            "SET b = if_not_exists(:nope, :v)",
            Json::Null,
            "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :nope",
        ),
        (
            Parse::KeyCondition,
            "#0 = :v",
            json!({"#1": "pk"}),
            "Invalid KeyConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #0",
        ),
    ];
    for (parse, text, names, expected) in cases {
        let names = if names.is_null() { Json::Null } else { names };
        check(parse, text, names, json!({":v": {"N": "1"}}), expected);
    }
    // Placeholders make reserved words and odd characters usable, and dots inside stay literal.
    check(
        Parse::Update,
        "SET #s = :v",
        json!({"#s": "status"}),
        json!({":v": {"N": "1"}}),
        "ok",
    );
    check(
        Parse::Update,
        "SET #123 = :_",
        json!({"#123": "3can include any character!.#="}),
        json!({":_": {"N": "1"}}),
        "ok",
    );
    // Functions are not reserved-word checked, and clause keywords are case-insensitive.
    check(
        Parse::Condition,
        "size(a) > :v",
        Json::Null,
        json!({":v": {"N": "1"}}),
        "ok",
    );
    check(
        Parse::Update,
        "sEt b = :v remove c",
        Json::Null,
        json!({":v": {"N": "1"}}),
        "ok",
    );
}

#[test]
fn update_semantics_are_checked() {
    let values = json!({
        ":n": {"N": "1"}, ":s": {"S": "x"}, ":l": {"L": []}, ":ss": {"SS": ["a"]}, ":m": {"M": {}}
    });
    let cases = [
        (
            "SET a = :n SET b = :n",
            "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;",
        ),
        (
            "SET a = :n REMOVE c SET b = :n",
            "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;",
        ),
        (
            "SET a = :n REMOVE a",
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]",
        ),
        (
            "SET a.b = :n, a = :s",
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a]",
        ),
        (
            "SET a[1][1] = :n, a[1] = :s",
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, [1], [1]], path two: [a, [1]]",
        ),
        (
            "SET a.b = :n, a[1] = :s",
            "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]",
        ),
        (
            "SET a.b.c = :n, a.b[2] = :s",
            "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b, c], path two: [a, b, [2]]",
        ),
        (
            "SET a = f(b, c, d)",
            "Invalid UpdateExpression: Invalid function name; function: f",
        ),
        (
            "SET a = LIST_APPEND(:l, :l)",
            "Invalid UpdateExpression: Invalid function name; function: LIST_APPEND",
        ),
        (
            "SET a = list_append(:l)",
            "Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1",
        ),
        (
            "SET a = list_append(:l, :l, :l)",
            "Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 3",
        ),
        (
            "SET a = list_append(:l, :s)",
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: S",
        ),
        (
            "SET a = list_append(:m, :l)",
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: M",
        ),
        (
            "SET a = list_append(list_append(:l, :l), :l)",
            "Invalid UpdateExpression: The function is not allowed to be used this way in an expression; function: list_append",
        ),
        (
            "SET b = if_not_exists(:n, :n)",
            "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists",
        ),
        (
            "SET b = if_not_exists(if_not_exists(a, :n), :n)",
            "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists",
        ),
        (
            "SET b = attribute_exists(a)",
            "Invalid UpdateExpression: The function is not allowed in an update expression; function: attribute_exists",
        ),
        (
            "SET b = size(a)",
            "Invalid UpdateExpression: The function is not allowed in an update expression; function: size",
        ),
        (
            "SET b = :s + :n",
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S",
        ),
        (
            "SET b = a - :l",
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: -, operand type: L",
        ),
        (
            "ADD a :s",
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING",
        ),
        (
            "ADD a :l",
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: LIST",
        ),
        (
            "DELETE a :n",
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER",
        ),
        (
            "ADD a b",
            "Invalid UpdateExpression: Syntax error; token: \"b\", near: \"a b\"",
        ),
    ];
    for (text, expected) in cases {
        // Each case uses only some values; judge the parse alone, not the unused check.
        let mut placeholders = Placeholders::from_json(None, Some(&values)).unwrap();
        let actual = match parse_update(text, &mut placeholders) {
            Ok(_) => "ok".to_owned(),
            Err(error) => error.to_string(),
        };
        assert_eq!(actual, expected, "{text:?}");
    }
    // Non-overlapping updates of one attribute are fine, as is reading what is written.
    for text in [
        "SET a.b = :n, a.c.d = :n, b.x = :n REMOVE a.x, b.y",
        "SET a[1] = :n, a[2] = :n",
        "REMOVE a SET b = a",
        "SET #l = list_append(if_not_exists(#l, :l), :l)",
        "SET b = if_not_exists(b, :n) + :n",
        "ADD hits :n, tags :ss DELETE labels :ss",
    ] {
        let mut placeholders = Placeholders::from_json(Some(&json!({"#l": "l"})), Some(&values)).unwrap();
        assert!(parse_update(text, &mut placeholders).is_ok(), "{text:?}");
    }
}

#[test]
fn condition_semantics_are_checked() {
    let values = json!({":n": {"N": "1"}, ":m": {"N": "10"}, ":s": {"S": "S"}, ":bad": {"S": "XX"}, ":l": {"L": []}});
    let cases = [
        (
            "attribute_exists(:n)",
            "Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists",
        ),
        (
            "begins_with(a)",
            "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1",
        ),
        (
            "begins_with(a, :n)",
            "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
        ),
        (
            "attribute_type(a, :n)",
            "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N",
        ),
        (
            "attribute_type(a, :bad)",
            "Invalid ConditionExpression: Invalid attribute type name found in type: XX",
        ),
        (
            "size(a)",
            "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: size",
        ),
        (
            "attribute_exists(a) = :n",
            "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: attribute_exists",
        ),
        (
            "if_not_exists(a, :n) = :n",
            "Invalid ConditionExpression: The function is not allowed in a condition expression; function: if_not_exists",
        ),
        (
            "frobnicate(a)",
            "Invalid ConditionExpression: Invalid function name; function: frobnicate",
        ),
        (
            "size(:l) > :n",
            "Invalid ConditionExpression: Operator or function requires a document path; operator or function: size",
        ),
        (
            "a BETWEEN :m AND :n",
            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:10}, upper bound operand: AttributeValue: {N:1}",
        ),
        (
            "a BETWEEN :n AND :s",
            "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:S}",
        ),
    ];
    for (text, expected) in cases {
        let mut placeholders = Placeholders::from_json(None, Some(&values)).unwrap();
        let actual = match parse_condition(ExpressionKind::Condition, text, &mut placeholders) {
            Ok(_) => "ok".to_owned(),
            Err(error) => error.to_string(),
        };
        assert_eq!(actual, expected, "{text:?}");
    }
    let many: Vec<String> = (0..101).map(|_| ":n".to_owned()).collect();
    let mut placeholders = Placeholders::from_json(None, Some(&values)).unwrap();
    let error = parse_condition(
        ExpressionKind::Filter,
        &format!("a IN ({})", many.join(", ")),
        &mut placeholders,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Invalid FilterExpression: The IN operator is provided with too many operands; number of operands: 101"
    );
}

#[test]
fn precedence_is_not_then_and_then_or() {
    use crate::condition::Condition;
    let mut placeholders = Placeholders::from_json(None, Some(&json!({":v": {"N": "1"}}))).unwrap();
    let parsed = parse_condition(
        ExpressionKind::Condition,
        "NOT a = :v AND b = :v OR c = :v",
        &mut placeholders,
    )
    .unwrap();
    let Condition::Or(left, _) = parsed else {
        panic!("OR should be outermost: {parsed:?}")
    };
    let Condition::And(not, _) = *left else {
        panic!("AND should bind tighter than OR")
    };
    assert!(matches!(*not, Condition::Not(_)), "NOT should bind tightest");
    let parsed = parse_condition(
        ExpressionKind::Condition,
        "a = :v AND (b = :v OR c = :v)",
        &mut placeholders,
    )
    .unwrap();
    assert!(matches!(parsed, Condition::And(..)), "parentheses group");
}

#[test]
fn key_conditions_follow_query_rules() {
    let values = json!({":a": {"S": "x"}, ":b": {"N": "1"}, ":c": {"N": "5"}, ":s": {"S": "p"}});
    let cases = [
        ("pk = :a", "ok"),
        ("pk = :a AND sk > :b", "ok"),
        (":b < sk AND pk = :a", "ok"),
        ("pk = :a AND sk BETWEEN :b AND :c", "ok"),
        (
            "pk = :a AND sk BETWEEN :c AND :b",
            "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {N:1}",
        ),
        (
            "pk = :a OR sk = :b",
            "Invalid operator used in KeyConditionExpression: OR",
        ),
        (
            "pk = :a AND NOT sk = :b",
            "Invalid operator used in KeyConditionExpression: NOT",
        ),
        ("pk IN (:a)", "Invalid operator used in KeyConditionExpression: IN"),
        ("pk <> :a", "Invalid operator used in KeyConditionExpression: <>"),
        (
            "attribute_exists(pk)",
            "Invalid operator used in KeyConditionExpression: attribute_exists",
        ),
        (
            "contains(pk, :a)",
            "Invalid operator used in KeyConditionExpression: contains",
        ),
        (
            "pk = :a AND :b BETWEEN sk AND :c",
            "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand",
        ),
        (
            "begins_with(:a, pk)",
            "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand",
        ),
        (
            "size(pk) > :b",
            "KeyConditionExpressions cannot contain nested operations",
        ),
        (
            "pk = :a AND sk BETWEEN size(x) AND :c",
            "KeyConditionExpressions cannot contain nested operations",
        ),
        (
            "pk.x = :a",
            "KeyConditionExpressions cannot have conditions on nested attributes",
        ),
        (
            "pk[0] = :a",
            "KeyConditionExpressions cannot have conditions on nested attributes",
        ),
        (
            "pk = sk",
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
        ),
        (
            "begins_with(pk, sk)",
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
        ),
        (
            ":a = :a",
            "Invalid condition in KeyConditionExpression: No key attribute specified",
        ),
        (
            "pk = :a AND pk = :a",
            "KeyConditionExpressions must only contain one condition per key",
        ),
        ("sk = :b", "Query condition missed key schema element: pk"),
        (
            "pk = :a AND extra = :b",
            "Query condition missed key schema element: sk",
        ),
        ("pk > :a", "Query key condition not supported"),
        (
            "pk = :b",
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        ),
        (
            "pk = :a AND sk = :a",
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        ),
        (
            "pk = :a AND begins_with(sk, :b)",
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
        ),
    ];
    for (text, expected) in cases {
        let mut placeholders = Placeholders::from_json(None, Some(&values)).unwrap();
        let schema = KeySchema {
            partition: KeyAttribute {
                name: "pk".into(),
                scalar_type: ScalarType::S,
            },
            sort: Some(KeyAttribute {
                name: "sk".into(),
                scalar_type: ScalarType::N,
            }),
        };
        let actual = match parse_key_condition(text, &schema, &mut placeholders) {
            Ok(_) => "ok".to_owned(),
            Err(error) => error.to_string(),
        };
        assert_eq!(actual, expected, "{text:?}");
    }
}

#[test]
fn projections_reject_overlaps() {
    check(Parse::Projection, "a, b.c[1], d", Json::Null, Json::Null, "ok");
    check(
        Parse::Projection,
        "a, a.b",
        Json::Null,
        Json::Null,
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]",
    );
    check(
        Parse::Projection,
        "a.b, a[0]",
        Json::Null,
        Json::Null,
        "Invalid ProjectionExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [0]]",
    );
}

#[test]
fn random_input_never_panics() {
    use crate::number::tests::Xorshift;
    let pieces = [
        "a",
        "b.c",
        "#n",
        ":v",
        ":l",
        "[0]",
        "[99999999999999999999999]",
        "(",
        ")",
        ",",
        "=",
        "<>",
        "<",
        ">=",
        "+",
        "-",
        "AND",
        "OR",
        "NOT",
        "BETWEEN",
        "IN",
        "SET",
        "REMOVE",
        "ADD",
        "DELETE",
        "size(",
        "list_append(",
        "if_not_exists(",
        "begins_with(",
        "attribute_type(",
        "contains(",
        "é",
        "!",
        "#",
        ":",
        ".",
        " ",
        "_",
    ];
    let values = json!({":v": {"N": "1"}, ":l": {"L": []}});
    let item = crate::value::item_from_json(&json!({"a": {"L": [{"N": "1"}]}, "b": {"M": {"c": {"S": "x"}}}})).unwrap();
    let mut random = Xorshift(0xfeed_f00d);
    for _ in 0..4000 {
        let length = 1 + (random.next() % 12) as usize;
        let text: String = (0..length)
            .map(|_| pieces[(random.next() % pieces.len() as u64) as usize])
            .collect::<Vec<_>>()
            .join(" ");
        let mut placeholders = Placeholders::from_json(Some(&json!({"#n": "a"})), Some(&values)).unwrap();
        if let Ok(condition) = parse_condition(ExpressionKind::Filter, &text, &mut placeholders) {
            condition.evaluate(Some(&item));
            condition.evaluate(None);
        }
        if let Ok(update) = parse_update(&text, &mut placeholders) {
            let _ = update.apply(Some(&item));
            let _ = update.apply(None);
        }
        let _ = parse_projection(&text, &mut placeholders);
        let schema = KeySchema {
            partition: KeyAttribute {
                name: "a".into(),
                scalar_type: ScalarType::N,
            },
            sort: None,
        };
        let _ = parse_key_condition(&text, &schema, &mut placeholders);
        let _ = placeholders.finish();
    }
}
