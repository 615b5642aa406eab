//! Tests of templates, the Step Functions functions, undefined handling and determinism.

use serde_json::{Value, json};

use crate::{Bindings, Error, Expression, Template, is_expression};

const NOW: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00.000Z

fn evaluate_with(template: &Value, states: &Value, seed: u64) -> Result<Value, Error> {
    let variables = |name: &str| match name {
        "customerName" => Some(json!("Ada")),
        "limits" => Some(json!({"max": 10})),
        _ => None,
    };
    let bindings = Bindings {
        states,
        variables: &variables,
        now_millis: NOW,
        random_seed: seed,
    };
    Template::parse(template)
        .unwrap_or_else(|e| panic!("{template} does not parse: {e:?}"))
        .evaluate(&bindings)
}

fn evaluate(template: Value, input: Value) -> Result<Value, Error> {
    evaluate_with(&template, &json!({"input": input, "context": {}}), 7)
}

/// Evaluates `template` with `$states.input` = `input` and compares with `expected`.
fn check(template: Value, input: Value, expected: Value) {
    match evaluate(template.clone(), input) {
        Ok(got) => assert_eq!(got, expected, "{template}"),
        Err(e) => panic!("{template} failed: {e}"),
    }
}

fn expr(source: &str) -> Value {
    Value::String(format!("{{% {source} %}}"))
}

fn parse_errors(template: Value) -> Vec<(String, String)> {
    match Template::parse(&template) {
        Ok(_) => panic!("{template} parsed"),
        Err(errors) => errors.into_iter().map(|e| (e.pointer, e.message)).collect(),
    }
}

#[test]
fn recognises_expressions() {
    assert!(is_expression("{% 1 %}"));
    assert!(is_expression("{%1%}"));
    assert!(!is_expression(" {% 1 %}"));
    assert!(!is_expression("{% 1 %} "));
    assert!(!is_expression("{%}"));
    assert!(!is_expression("$states.input"));
}

#[test]
fn copies_literals_and_evaluates_nested_expressions() {
    let input = json!({"title": "Doctor", "items": [{"price": 5}, {"price": 12}]});
    check(
        json!({
            "static": "Hello",
            "title": "{% $states.input.title %}",
            "name": "{% $customerName %}",
            "not-evaluated": "$customerName",
            "padded": " {% 1 %}",
            "deep": {"list": [1, "{% $sum($states.input.items.price) %}", {"max": "{% $limits.max %}"}]},
        }),
        input,
        json!({
            "static": "Hello",
            "title": "Doctor",
            "name": "Ada",
            "not-evaluated": "$customerName",
            "padded": " {% 1 %}",
            "deep": {"list": [1, 17, {"max": 10}]},
        }),
    );
}

#[test]
fn evaluates_common_jsonata() {
    let input = json!({"x": 1, "name": "Ada", "n": 1234567.891, "nul": null,
        "items": [{"price": 5, "qty": 2}, {"price": 12, "qty": 1}, {"price": 30, "qty": 3}]});
    let cases = [
        ("$states.input.items[price>10].price", json!([12, 30])),
        ("$states.input.items[price>20].price", json!(30)),
        ("$sum($states.input.items.(price*qty))", json!(112)),
        ("{'name': $states.input.name, 'n': 1}", json!({"name": "Ada", "n": 1})),
        ("'Hello ' & $states.input.name", json!("Hello Ada")),
        ("$states.input.x > 0 ? 'pos' : 'neg'", json!("pos")),
        ("$count($states.input.items)", json!(3)),
        ("$exists($states.input.nope)", json!(false)),
        ("$string($states.input.x)", json!("1")),
        ("$map([1,2], function($v){$v*2})", json!([2, 4])),
        ("$formatNumber($states.input.n, '#,##0.00')", json!("1,234,567.89")),
        ("$match('a.b@example.com', /@(\\w+)/).groups", json!(["example"])),
        ("1/4", json!(0.25)),
        ("$states.input.items[0]", json!({"price": 5, "qty": 2})),
        ("$states.input.nul", json!(null)),
    ];
    for (source, expected) in cases {
        check(expr(source), input.clone(), expected);
    }
}

#[test]
fn partition_splits_into_chunks() {
    check(
        expr("$partition([1,2,3,4,5,6,7], 3)"),
        json!({}),
        json!([[1, 2, 3], [4, 5, 6], [7]]),
    );
    check(expr("$partition([1,2,3], 2.9)"), json!({}), json!([[1, 2], [3]]));
}

#[test]
fn range_is_inclusive() {
    check(expr("$range(0, 10, 2)"), json!({}), json!([0, 2, 4, 6, 8, 10]));
    check(expr("$range(5, 1, -2)"), json!({}), json!([5, 3, 1]));
    check(expr("$range(-1.7, 2, 1)"), json!({}), json!([-1, 0, 1, 2]));
    check(expr("$range(3, 3, 1)"), json!({}), json!(3));
    assert!(matches!(
        evaluate(expr("$range(1, 5, -1)"), json!({})),
        Err(Error::Undefined { .. })
    ));
    assert!(evaluate(expr("$range(1, 1000000, 1)"), json!({})).is_err());
}

#[test]
fn hash_answers_lowercase_hex() {
    check(
        expr("$hash('abc', 'MD5')"),
        json!({}),
        json!("900150983cd24fb0d6963f7d28e17f72"),
    );
    check(
        expr("$hash('abc', 'SHA-1')"),
        json!({}),
        json!("a9993e364706816aba3e25717850c26c9cd0d89d"),
    );
    check(
        expr("$hash('abc', 'SHA-256')"),
        json!({}),
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    );
    check(expr("$length($hash('abc', 'SHA-384'))"), json!({}), json!(96));
    check(expr("$length($hash('abc', 'SHA-512'))"), json!({}), json!(128));
    assert!(matches!(
        evaluate(expr("$hash('abc', 'sha-256')"), json!({})),
        Err(Error::Evaluation { .. })
    ));
}

#[test]
fn parse_reads_json_text() {
    check(
        expr("$parse($states.input.s)"),
        json!({"s": "{\"a\":[1,2]}"}),
        json!({"a": [1, 2]}),
    );
    assert!(matches!(
        evaluate(expr("$parse('{')"), json!({})),
        Err(Error::Evaluation { .. })
    ));
}

#[test]
fn impure_functions_derive_from_bindings() {
    check(expr("$now()"), json!({}), json!("2024-01-01T00:00:00.000Z"));
    check(expr("$millis()"), json!({}), json!(NOW));
    check(expr("$now('[Y0001]-[M01]-[D01]')"), json!({}), json!("2024-01-01"));
    let random = evaluate(expr("$random()"), json!({})).unwrap();
    assert!((0.0..1.0).contains(&random.as_f64().unwrap()), "{random}");
    let uuid = evaluate(expr("$uuid()"), json!({})).unwrap();
    let uuid = uuid.as_str().unwrap();
    assert_eq!(uuid.len(), 36);
    assert_eq!(&uuid[14..15], "4");
    assert!("89ab".contains(&uuid[19..20]), "{uuid}");
}

#[test]
fn evaluation_is_deterministic_per_seed() {
    let template = json!({"a": "{% $uuid() %}", "b": "{% $uuid() %}", "r": "{% [$random(), $random()] %}"});
    let states = json!({"input": {}, "context": {}});
    let first = evaluate_with(&template, &states, 1).unwrap();
    assert_eq!(first, evaluate_with(&template, &states, 1).unwrap());
    assert_ne!(first, evaluate_with(&template, &states, 2).unwrap());
    assert_ne!(first["a"], first["b"], "successive draws differ");
    assert_ne!(first["r"][0], first["r"][1]);
    // A seed argument fixes the value whatever the binding's seed.
    let seeded = expr("$random(42)");
    assert_eq!(
        evaluate_with(&seeded, &states, 1).unwrap(),
        evaluate_with(&seeded, &states, 2).unwrap()
    );
    assert_eq!(evaluate_with(&seeded, &states, 1).unwrap(), json!(0.7275636800328681));
}

#[test]
fn undefined_fails_naming_the_field() {
    let error = evaluate(expr("$states.input.absent"), json!({})).unwrap_err();
    assert_eq!(
        error.clone().in_field("Output").to_string(),
        "The JSONata expression '$states.input.absent' specified for the field 'Output' returned nothing (undefined)."
    );
    let error = evaluate(json!({"a": {"b": [1, "{% $nope %}"]}}), json!({})).unwrap_err();
    assert_eq!(error.field(), "/a/b[1]");
    assert_eq!(error.expression(), "$nope");
    assert_eq!(error.in_field("Arguments").field(), "Arguments/a/b[1]");
}

#[test]
fn null_is_a_value() {
    check(
        json!({"v": "{% $states.input.bar %}"}),
        json!({"bar": null}),
        json!({"v": null}),
    );
}

#[test]
fn evaluation_errors_carry_the_message() {
    let error = evaluate(json!({"v": "{% 'a' + 1 %}"}), json!({})).unwrap_err();
    let Error::Evaluation { field, message, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(field, "/v");
    assert!(message.starts_with("T2001"), "{message}");
}

#[test]
fn non_finite_numbers_are_written_as_strings() {
    check(expr("$parseInteger('abc', '0')"), json!({}), json!("NaN"));
}

#[test]
fn parse_errors_name_every_bad_expression() {
    let errors = parse_errors(json!({"a": "{% 1 + %}", "b": ["ok", "{% $eval('1') %}"], "c/d": "{% phone %}"}));
    let pointers: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(pointers, ["/a", "/b/1", "/c~1d"]);
    assert!(errors[1].1.contains("$parse"), "{}", errors[1].1);
    assert_eq!(errors[2].1, "Reference to 'phone' at the top level is not supported");
    assert_eq!(parse_errors(expr("$$.x"))[0].0, "");
}

#[test]
fn refuses_only_top_level_context_references() {
    for bad in [
        "phone",
        "$",
        "$.a",
        "$$",
        "$count(items)",
        "$map($states.input.a, function($x){ b })",
    ] {
        assert!(Expression::new(bad).is_err(), "{bad} parsed");
    }
    for good in [
        "$states.input.items[value > 3].name",
        "$states.input.items^(>price).name",
        "$states.input.items{name: price}",
        "$states.input.items.(price * qty)",
        "$map($states.input.a, function($x){ $x.b })",
        "($a := 1; $a + 1)",
        "$states.input ~> |items|{'seen': true}|",
    ] {
        assert!(
            Expression::new(good).is_ok(),
            "{good}: {:?}",
            Expression::new(good).err()
        );
    }
}

#[test]
fn lists_mentioned_variables() {
    let expression = Expression::new("$a + $states.input.x + $count($b) + $a").unwrap();
    assert_eq!(expression.variables(), ["a", "b"]);
}

#[test]
fn templates_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Template>();
    assert_send_sync::<Expression>();
}
