//! JsonMerge, StringToJson, JsonToString, MathRandom, MathAdd and UUID.

use serde_json::json;

use super::{Scope, check, fails, ok};
use crate::entropy::{Entropy, SeededEntropy};
use crate::intrinsic::Call;

#[test]
fn json_merge_docs_example() {
    let input = json!({"json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}});
    check(
        "States.JsonMerge($.json1, $.json2, false)",
        input,
        ok(json!({"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3})),
    );
}

#[test]
fn json_merge_keeps_key_order_of_the_first_object() {
    let call = Call::parse("States.JsonMerge($.x, $.y, false)").unwrap();
    let input = json!({"x": {"z": 1, "a": 2}, "y": {"m": 3, "z": 4}});
    let merged = call
        .evaluate(&mut Scope::new(input), &mut SeededEntropy::new(1))
        .unwrap();
    assert_eq!(merged.to_string(), r#"{"z":4,"a":2,"m":3}"#);
}

#[test]
fn json_merge_failures() {
    let input = json!({"o": {"a": 1}, "n": 1});
    check(
        "States.JsonMerge($.o, $.o, true)",
        input.clone(),
        fails("States.JsonMerge: deep merging (`true`) is not supported"),
    );
    check(
        "States.JsonMerge($.o, $.o, 'false')",
        input.clone(),
        fails("'deepMerge' of States.JsonMerge must be a boolean, got a string"),
    );
    check(
        "States.JsonMerge($.n, $.o, false)",
        input.clone(),
        fails("'json1' of States.JsonMerge must be an object, got 1"),
    );
    check(
        "States.JsonMerge($.o, $.n, false)",
        input,
        fails("'json2' of States.JsonMerge must be an object, got 1"),
    );
}

#[test]
fn string_to_json_docs_example() {
    check(
        "States.StringToJson($.escapedJsonString)",
        json!({"escapedJsonString": "{\"foo\": \"bar\"}"}),
        ok(json!({"foo": "bar"})),
    );
    check(
        "States.StringToJson('[1, 2.5, null]')",
        json!({}),
        ok(json!([1, 2.5, null])),
    );
    check("States.StringToJson(' 7 ')", json!({}), ok(json!(7)));
}

#[test]
fn string_to_json_failures() {
    check(
        "States.StringToJson('{oops')",
        json!({}),
        fails("States.StringToJson: the string is not JSON"),
    );
    check("States.StringToJson('')", json!({}), fails("the string is not JSON"));
    check(
        "States.StringToJson($.o)",
        json!({"o": {}}),
        fails("'string' of States.StringToJson must be a string, got an object"),
    );
}

#[test]
fn json_to_string_docs_example() {
    check(
        "States.JsonToString($.unescapedJson)",
        json!({"unescapedJson": {"foo": "bar"}}),
        ok(json!("{\"foo\":\"bar\"}")),
    );
    check(
        "States.JsonToString($.v)",
        json!({"v": [1, "a", null, 2.5]}),
        ok(json!("[1,\"a\",null,2.5]")),
    );
    check("States.JsonToString('text')", json!({}), ok(json!("\"text\"")));
    check(
        "States.StringToJson(States.JsonToString($))",
        json!({"b": 1, "a": [true]}),
        ok(json!({"b": 1, "a": [true]})),
    );
}

#[test]
fn math_add_docs_example() {
    check(
        "States.MathAdd($.value1, $.step)",
        json!({"value1": 111, "step": -1}),
        ok(json!(110)),
    );
}

#[test]
fn math_add_rounds_and_stays_in_range() {
    check("States.MathAdd(1.5, 1)", json!({}), ok(json!(3)));
    check("States.MathAdd(-1.5, 0)", json!({}), ok(json!(-1)));
    check("States.MathAdd(2.4, -2.6)", json!({}), ok(json!(-1)));
    check(
        "States.MathAdd(2147483647, 2147483647)",
        json!({}),
        ok(json!(4_294_967_294_i64)),
    );
    check(
        "States.MathAdd(-2147483648, 0)",
        json!({}),
        ok(json!(-2_147_483_648_i64)),
    );
    check(
        "States.MathAdd(2147483648, 0)",
        json!({}),
        fails("'value1' of States.MathAdd must be an integer between -2147483648 and 2147483647, got 2147483648"),
    );
    check(
        "States.MathAdd(0, -2147483649)",
        json!({}),
        fails("'value2' of States.MathAdd must be an integer between"),
    );
    check(
        "States.MathAdd('1', 2)",
        json!({}),
        fails("'value1' of States.MathAdd must be an integer between -2147483648 and 2147483647, got a string"),
    );
}

#[test]
fn math_random_is_in_range() {
    let call = Call::parse("States.MathRandom($.start, $.end)").unwrap();
    let mut entropy = SeededEntropy::new(42);
    for _ in 0..200 {
        let value = call
            .evaluate(&mut Scope::new(json!({"start": 1, "end": 999})), &mut entropy)
            .unwrap();
        let number = value.as_i64().unwrap();
        assert!((1..999).contains(&number), "{number}");
    }
    check("States.MathRandom(5, 6)", json!({}), ok(json!(5)));
    check("States.MathRandom(-3, -2, 99)", json!({}), ok(json!(-3)));
}

#[test]
fn math_random_draws_from_entropy_without_seed() {
    let mut entropy = SeededEntropy::new(7);
    let want = i64::try_from(entropy.random_u64() % 1000).unwrap();
    check("States.MathRandom(0, 1000)", json!({}), ok(json!(want)));
}

#[test]
fn math_random_with_seed_is_deterministic() {
    let mut state: u64 = 1234;
    let want = i64::try_from(crate::entropy::splitmix64(&mut state) % 999).unwrap() + 1;
    check("States.MathRandom(1, 1000, 1234)", json!({}), ok(json!(want)));
    let call = Call::parse("States.MathRandom(1, 1000000, $.seed)").unwrap();
    let run = |entropy_seed| {
        call.evaluate(
            &mut Scope::new(json!({"seed": 5})),
            &mut SeededEntropy::new(entropy_seed),
        )
        .unwrap()
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn math_random_failures() {
    check(
        "States.MathRandom(5, 5)",
        json!({}),
        fails("'end' of States.MathRandom must be greater than the start, 5, got 5"),
    );
    check(
        "States.MathRandom(5, 1)",
        json!({}),
        fails("must be greater than the start"),
    );
    check(
        "States.MathRandom('1', 5)",
        json!({}),
        fails("'start' of States.MathRandom must be a number"),
    );
    check(
        "States.MathRandom(1, 5, 'x')",
        json!({}),
        fails("'seed' of States.MathRandom must be a number"),
    );
    check(
        "States.MathRandom(-9223372036854775808, 9223372036854775807, 1)",
        json!({}),
        ok(json!(1_227_844_342_346_046_657_i64)),
    );
}

#[test]
fn uuid_comes_from_entropy() {
    let want = SeededEntropy::new(7).uuid();
    check("States.UUID()", json!({}), ok(json!(want)));
    check(
        "States.Format('id-{}', States.UUID())",
        json!({}),
        ok(json!(format!("id-{want}"))),
    );
}
