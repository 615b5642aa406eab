//! The array intrinsics, with the AWS documentation's examples.

use serde_json::json;

use super::{check, fails, ok};

#[test]
fn array_of_paths_and_literals() {
    check("States.Array($.Id)", json!({"Id": 123456}), ok(json!([123456])));
    check(
        "States.Array($.o, 'x')",
        json!({"o": {"a": [1]}}),
        ok(json!([{"a": [1]}, "x"])),
    );
}

#[test]
fn partition_docs_examples() {
    let input = json!({"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]});
    check(
        "States.ArrayPartition($.inputArray,4)",
        input,
        ok(json!([[1, 2, 3, 4], [5, 6, 7, 8], [9]])),
    );
    check(
        "States.ArrayPartition($.a, 4)",
        json!({"a": [1, 2, 3, 4, 5, 6, 7]}),
        ok(json!([[1, 2, 3, 4], [5, 6, 7]])),
    );
}

#[test]
fn partition_edges() {
    check(
        "States.ArrayPartition($.a, 10)",
        json!({"a": [1, 2]}),
        ok(json!([[1, 2]])),
    );
    check("States.ArrayPartition($.a, 1)", json!({"a": []}), ok(json!([])));
    check(
        "States.ArrayPartition($.a, 1.6)",
        json!({"a": [1, 2, 3]}),
        ok(json!([[1, 2], [3]])),
    );
    check(
        "States.ArrayPartition($.a, 0)",
        json!({"a": [1]}),
        fails("'chunkSize' of States.ArrayPartition must be a positive integer, got 0"),
    );
    check(
        "States.ArrayPartition($.a, -1)",
        json!({"a": [1]}),
        fails("must be a positive integer, got -1"),
    );
    check(
        "States.ArrayPartition($.a, 0.4)",
        json!({"a": [1]}),
        fails("must be a positive integer"),
    );
    check(
        "States.ArrayPartition($.a, '2')",
        json!({"a": [1]}),
        fails("'chunkSize' of States.ArrayPartition must be a number"),
    );
    check(
        "States.ArrayPartition($.a, 2)",
        json!({"a": "x"}),
        fails("'array' of States.ArrayPartition must be an array, got a string"),
    );
}

#[test]
fn contains_docs_example_and_deep_values() {
    let input = json!({"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "lookingFor": 5});
    check(
        "States.ArrayContains($.inputArray, $.lookingFor)",
        input,
        ok(json!(true)),
    );
    check("States.ArrayContains($.a, 10)", json!({"a": [1, 2]}), ok(json!(false)));
    check("States.ArrayContains($.a, 2.0)", json!({"a": [1, 2]}), ok(json!(true)));
    check(
        "States.ArrayContains($.a, $.o)",
        json!({"a": [{"x": [1, "y"]}], "o": {"x": [1, "y"]}}),
        ok(json!(true)),
    );
    check("States.ArrayContains($.a, null)", json!({"a": [null]}), ok(json!(true)));
    check("States.ArrayContains($.a, '1')", json!({"a": [1]}), ok(json!(false)));
    check(
        "States.ArrayContains($.a, 1)",
        json!({"a": {"x": 1}}),
        fails("'array' of States.ArrayContains must be an array, got an object"),
    );
}

#[test]
fn range_docs_example() {
    check("States.ArrayRange(1, 9, 2)", json!({}), ok(json!([1, 3, 5, 7, 9])));
}

#[test]
fn range_directions_and_rounding() {
    check("States.ArrayRange(1, 8, 3)", json!({}), ok(json!([1, 4, 7])));
    check("States.ArrayRange(5, 1, -2)", json!({}), ok(json!([5, 3, 1])));
    check("States.ArrayRange(3, 3, 1)", json!({}), ok(json!([3])));
    check("States.ArrayRange(3, 1, 1)", json!({}), ok(json!([])));
    check("States.ArrayRange(1, 3, -1)", json!({}), ok(json!([])));
    check("States.ArrayRange(0.5, 2.4, 1)", json!({}), ok(json!([1, 2])));
    check("States.ArrayRange(-1.5, 0, 1)", json!({}), ok(json!([-1, 0])));
    check(
        "States.ArrayRange($.s, $.e, $.d)",
        json!({"s": 0, "e": 10, "d": 5}),
        ok(json!([0, 5, 10])),
    );
}

#[test]
fn range_limits() {
    let call = super::super::Call::parse("States.ArrayRange(1, 1000, 1)").unwrap();
    let thousand = call
        .evaluate(&mut super::Scope::new(json!({})), &mut crate::SeededEntropy::new(1))
        .unwrap();
    assert_eq!(thousand.as_array().map(Vec::len), Some(1000));
    check(
        "States.ArrayRange(0, 1000, 1)",
        json!({}),
        fails("States.ArrayRange: the range would hold 1001 items, more than the 1000 allowed"),
    );
    check(
        "States.ArrayRange(-9223372036854775808, 9223372036854775807, 1)",
        json!({}),
        fails("more than the 1000 allowed"),
    );
    check(
        "States.ArrayRange(1, 9, 0)",
        json!({}),
        fails("'step' of States.ArrayRange must be a non-zero integer, got 0"),
    );
    check(
        "States.ArrayRange(1, 9, 0.4)",
        json!({}),
        fails("'step' of States.ArrayRange must be a non-zero integer"),
    );
    check(
        "States.ArrayRange('1', 9, 1)",
        json!({}),
        fails("'start' of States.ArrayRange must be a number"),
    );
    check(
        "States.ArrayRange(1, null, 1)",
        json!({}),
        fails("'end' of States.ArrayRange must be a number"),
    );
    check(
        "States.ArrayRange(1, 1e300, 1)",
        json!({}),
        fails("'end' of States.ArrayRange must be a number in the 64-bit integer range"),
    );
}

#[test]
fn get_item_docs_example() {
    let input = json!({"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "index": 5});
    check("States.ArrayGetItem($.inputArray, $.index)", input, ok(json!(6)));
}

#[test]
fn get_item_checks_the_index() {
    let input = json!({"a": ["x", {"y": 1}]});
    check("States.ArrayGetItem($.a, 1)", input.clone(), ok(json!({"y": 1})));
    check("States.ArrayGetItem($.a, 1.0)", input.clone(), ok(json!({"y": 1})));
    check(
        "States.ArrayGetItem($.a, 2)",
        input.clone(),
        fails("States.ArrayGetItem: index 2 is out of bounds for an array of 2 items"),
    );
    check(
        "States.ArrayGetItem($.a, -1)",
        input.clone(),
        fails("The value of the argument 'index' of States.ArrayGetItem must be a non-negative integer, got -1"),
    );
    check(
        "States.ArrayGetItem($.a, 0.5)",
        input.clone(),
        fails("'index' of States.ArrayGetItem must be a non-negative integer, got 0.5"),
    );
    check(
        "States.ArrayGetItem($.a, '0')",
        input,
        fails("must be a non-negative integer, got a string"),
    );
    check(
        "States.ArrayGetItem($.s, 0)",
        json!({"s": "abc"}),
        fails("'array' of States.ArrayGetItem must be an array"),
    );
}

#[test]
fn length_docs_example() {
    check(
        "States.ArrayLength($.inputArray)",
        json!({"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]}),
        ok(json!(9)),
    );
    check("States.ArrayLength($.a)", json!({"a": []}), ok(json!(0)));
    check(
        "States.ArrayLength($.a)",
        json!({"a": null}),
        fails("'array' of States.ArrayLength must be an array, got null"),
    );
}

#[test]
fn unique_docs_example_and_order() {
    check(
        "States.ArrayUnique($.inputArray)",
        json!({"inputArray": [1, 2, 3, 3, 3, 3, 3, 3, 4]}),
        ok(json!([1, 2, 3, 4])),
    );
    check(
        "States.ArrayUnique($.a)",
        json!({"a": [3, "3", {"k": 1}, 3.0, {"k": 1}, [1], [1], null, null, 1]}),
        ok(json!([3, "3", {"k": 1}, [1], null, 1])),
    );
    check(
        "States.ArrayUnique($.a)",
        json!({"a": 7}),
        fails("'array' of States.ArrayUnique must be an array, got 7"),
    );
}
