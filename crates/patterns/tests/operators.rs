//! Matching, operator by operator, with the examples of the EventBridge documentation
//! (<https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html>,
//! `eb-event-patterns-arrays`, `eb-event-patterns-null-values`) and the edge cases around them.
//! Every case runs through both the reference matcher and a compiled [`RuleSet`].

use serde_json::{Value, json};
use sluice_patterns::{Pattern, RuleSet};

/// Checks that `pattern` matches `event` exactly when `expect`, both ways.
#[track_caller]
fn check(pattern: Value, event: Value, expect: bool) {
    let parsed = Pattern::from_value(&pattern).unwrap_or_else(|error| panic!("{pattern}: {error}"));
    assert_eq!(parsed.matches(&event), expect, "reference: {pattern} against {event}");
    let mut rules = RuleSet::new();
    rules.insert("rule", parsed);
    assert_eq!(
        !rules.matching(&event).is_empty(),
        expect,
        "compiled: {pattern} against {event}"
    );
}

/// The EC2 state-change event the EventBridge documentation uses throughout.
fn ec2_event() -> Value {
    json!({
        "version": "0",
        "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": "012345679012",
        "time": "2017-10-02T16:24:49Z",
        "region": "us-east-1",
        "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
        "detail": {
            "c-count": 5,
            "d-count": 3,
            "x-limit": 301.8,
            "source-ip": "10.0.0.33",
            "instance-id": "i-000000aaaaaa00000",
            "state": "running"
        }
    })
}

fn detail(fields: Value) -> Value {
    json!({"source": "test", "detail": fields})
}

#[test]
fn exact_values() {
    let event = ec2_event();
    check(
        json!({
            "detail-type": ["EC2 Instance State-change Notification"],
            "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
            "detail": {"state": ["initializing", "running"]}
        }),
        event.clone(),
        true,
    );
    check(json!({"source": ["aws.ec2", "aws.fargate"]}), event.clone(), true);
    check(json!({"source": ["aws.s3"]}), event.clone(), false);
    check(json!({"source": ["AWS.EC2"]}), event.clone(), false);
    check(json!({"detail": {"state": ["terminated"]}}), event.clone(), false);
    check(json!({"detail": {"missing": ["x"]}}), event.clone(), false);
    // Every field named must be there.
    check(
        json!({"source": ["aws.ec2"], "detail": {"state": ["running"], "other": ["x"]}}),
        event,
        false,
    );
}

#[test]
fn numbers_booleans_and_null_match_by_value_and_type() {
    check(json!({"detail": {"n": [300]}}), detail(json!({"n": 3.0e2})), true);
    check(json!({"detail": {"n": [3.018e2]}}), detail(json!({"n": 301.8})), true);
    check(json!({"detail": {"n": [300]}}), detail(json!({"n": "300"})), false);
    check(json!({"detail": {"n": ["300"]}}), detail(json!({"n": 300})), false);
    check(
        json!({"detail": {"n": [123456789012_i64]}}),
        detail(json!({"n": 123456789012_i64})),
        true,
    );
    check(
        json!({"detail": {"n": [123456789012_i64]}}),
        detail(json!({"n": 123456789013_i64})),
        false,
    );
    check(json!({"detail": {"b": [true]}}), detail(json!({"b": true})), true);
    check(json!({"detail": {"b": [false]}}), detail(json!({"b": true})), false);
    check(json!({"detail": {"b": [true]}}), detail(json!({"b": "true"})), false);
}

#[test]
fn null_and_empty_string_are_different() {
    let event = json!({
        "detail-type": "EC2 Instance Launch Successful",
        "source": "aws.autoscaling",
        "resources": [],
        "detail": {"eventVersion": "", "responseElements": null}
    });
    check(json!({"detail": {"eventVersion": [""]}}), event.clone(), true);
    check(json!({"detail": {"responseElements": [null]}}), event.clone(), true);
    check(json!({"detail": {"eventVersion": [null]}}), event.clone(), false);
    check(json!({"detail": {"responseElements": [""]}}), event.clone(), false);
    check(json!({"detail": {"missing": [null]}}), event, false);
}

#[test]
fn prefix() {
    let event = ec2_event();
    check(json!({"time": [{"prefix": "2017-10-02"}]}), event.clone(), true);
    check(json!({"time": [{"prefix": "2017-10-03"}]}), event.clone(), false);
    check(json!({"time": [{"prefix": ""}]}), event.clone(), true);
    // Strings only.
    check(json!({"detail": {"c-count": [{"prefix": "5"}]}}), event, false);
    check(
        json!({"Region": [{"prefix": "us-"}]}),
        json!({"Region": "us-east-1"}),
        true,
    );
    check(
        json!({"Region": [{"prefix": "us-"}]}),
        json!({"Region": "eu-west-1"}),
        false,
    );
    check(json!({"Region": [{"prefix": "us-"}]}), json!({"Region": "us"}), false);
}

#[test]
fn prefix_ignoring_case() {
    let pattern = json!({"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}});
    check(pattern.clone(), detail(json!({"service": "EventBridge"})), true);
    check(pattern.clone(), detail(json!({"service": "eventbridge"})), true);
    check(pattern.clone(), detail(json!({"service": "EVENTBRIDGE"})), true);
    check(pattern.clone(), detail(json!({"service": "Amazon EventBridge"})), false);
    check(pattern, detail(json!({"service": 5})), false);
}

#[test]
fn suffix() {
    check(
        json!({"FileName": [{"suffix": ".png"}]}),
        json!({"FileName": "image.png"}),
        true,
    );
    check(
        json!({"FileName": [{"suffix": ".png"}]}),
        json!({"FileName": "image.PNG"}),
        false,
    );
    check(
        json!({"FileName": [{"suffix": ".png"}]}),
        json!({"FileName": "image.png.jpg"}),
        false,
    );
    check(json!({"source": [{"suffix": "ec2"}]}), ec2_event(), true);
    let ignore_case = json!({"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}});
    check(ignore_case.clone(), detail(json!({"FileName": "IMAGE.PNG"})), true);
    check(ignore_case.clone(), detail(json!({"FileName": "image.Png"})), true);
    check(ignore_case, detail(json!({"FileName": "image.jpg"})), false);
}

#[test]
fn equals_ignore_case() {
    check(
        json!({"Name": [{"equals-ignore-case": "alice"}]}),
        json!({"Name": "Alice"}),
        true,
    );
    check(
        json!({"Name": [{"equals-ignore-case": "alice"}]}),
        json!({"Name": "ALICE"}),
        true,
    );
    check(
        json!({"Name": [{"equals-ignore-case": "alice"}]}),
        json!({"Name": "Alicia"}),
        false,
    );
    check(
        json!({"source": [{"equals-ignore-case": "AWS.EC2"}]}),
        ec2_event(),
        true,
    );
    check(
        json!({"Name": [{"equals-ignore-case": "straße"}]}),
        json!({"Name": "STRAßE"}),
        true,
    );
}

#[test]
fn wildcard() {
    let pattern = json!({"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]});
    check(
        pattern.clone(),
        json!({"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/default"}),
        true,
    );
    check(
        pattern.clone(),
        json!({"EventBusArn": "arn:aws:events:us-west-2:123456789012:event-bus/default"}),
        false,
    );
    check(pattern, json!({"EventBusArn": 5}), false);
    check(
        json!({"source": [{"wildcard": "Simple*Service"}]}),
        json!({"source": "Simple Queue Service"}),
        true,
    );
    check(
        json!({"source": [{"wildcard": "Simple*Service"}]}),
        json!({"source": "Simple Queue"}),
        false,
    );
    check(
        json!({"key": [{"wildcard": "*.png"}]}),
        json!({"key": "dir/file.png"}),
        true,
    );
    check(
        json!({"key": [{"wildcard": "*Title*"}]}),
        json!({"key": "The Title Page"}),
        true,
    );
    check(
        json!({"key": [{"wildcard": "*Title*"}]}),
        json!({"key": "The title page"}),
        false,
    );
    check(json!({"key": [{"wildcard": r"a\*b"}]}), json!({"key": "a*b"}), true);
    check(json!({"key": [{"wildcard": r"a\*b"}]}), json!({"key": "aXb"}), false);
    check(
        json!({"key": [{"wildcard": r"a\\*"}]}),
        json!({"key": r"a\anything"}),
        true,
    );
    check(json!({"key": [{"wildcard": "exact"}]}), json!({"key": "exact"}), true);
}

#[test]
fn anything_but_values() {
    let event = ec2_event();
    check(
        json!({"detail": {"state": [{"anything-but": "initializing"}]}}),
        event.clone(),
        true,
    );
    check(
        json!({"detail": {"state": [{"anything-but": "running"}]}}),
        event.clone(),
        false,
    );
    check(
        json!({"detail": {"x-limit": [{"anything-but": 123}]}}),
        event.clone(),
        true,
    );
    check(
        json!({"detail": {"x-limit": [{"anything-but": 301.8}]}}),
        event.clone(),
        false,
    );
    check(
        json!({"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}),
        event.clone(),
        true,
    );
    check(
        json!({"detail": {"state": [{"anything-but": ["stopped", "running"]}]}}),
        event.clone(),
        false,
    );
    check(
        json!({"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}),
        event.clone(),
        true,
    );
    check(
        json!({"detail": {"c-count": [{"anything-but": [4, 5.0]}]}}),
        event.clone(),
        false,
    );
    // Never a missing field.
    check(json!({"detail": {"missing": [{"anything-but": "x"}]}}), event, false);
    // Other types are "anything but" the strings listed.
    check(json!({"a": [{"anything-but": "x"}]}), json!({"a": 5}), true);
    check(json!({"a": [{"anything-but": "x"}]}), json!({"a": null}), true);
    check(json!({"a": [{"anything-but": 5}]}), json!({"a": "5"}), true);
}

#[test]
fn anything_but_forms() {
    let prefix = json!({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}});
    check(prefix.clone(), detail(json!({"state": "running"})), true);
    check(prefix.clone(), detail(json!({"state": "initializing"})), false);
    check(prefix, detail(json!({"state": 5})), true);
    check(
        json!({"Region": [{"anything-but": {"prefix": "us-"}}]}),
        json!({"Region": "eu-west-1"}),
        true,
    );

    let suffix = json!({"FileName": [{"anything-but": {"suffix": ".png"}}]});
    check(suffix.clone(), json!({"FileName": "notes.txt"}), true);
    check(suffix, json!({"FileName": "image.png"}), false);

    let ignore_case = json!({"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]});
    check(ignore_case.clone(), json!({"state": "INITIALIZING"}), false);
    check(ignore_case.clone(), json!({"state": "Initializing"}), false);
    check(ignore_case, json!({"state": "running"}), true);
    let ignore_case_list = json!({"state": [{"anything-but": {"equals-ignore-case": ["Stopped", "OVERLOADED"]}}]});
    check(ignore_case_list.clone(), json!({"state": "stopped"}), false);
    check(ignore_case_list.clone(), json!({"state": "overloaded"}), false);
    check(ignore_case_list, json!({"state": "running"}), true);

    let wildcard = json!({"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]});
    check(wildcard.clone(), json!({"FilePath": "/usr/lib/libc.so"}), false);
    check(wildcard.clone(), json!({"FilePath": "/usr/bin/ls"}), true);
    let wildcards = json!({"FilePath": [{"anything-but": {"wildcard": ["*/lib/*", "*/bin/*"]}}]});
    check(wildcards.clone(), json!({"FilePath": "/usr/bin/ls"}), false);
    check(wildcards, json!({"FilePath": "/etc/hosts"}), true);
}

#[test]
fn numeric() {
    let event = ec2_event();
    let pattern = json!({
        "detail": {
            "c-count": [{"numeric": [">", 0, "<=", 5]}],
            "d-count": [{"numeric": ["<", 10]}],
            "x-limit": [{"numeric": ["=", 3.018e2]}]
        }
    });
    check(pattern, event.clone(), true);
    let range = |value: Value| detail(json!({"c-count": value}));
    let pattern = json!({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}});
    check(pattern.clone(), range(json!(5)), true);
    check(pattern.clone(), range(json!(0.000001)), true);
    check(pattern.clone(), range(json!(0)), false);
    check(pattern.clone(), range(json!(5.000001)), false);
    check(pattern.clone(), range(json!(-1)), false);
    check(pattern.clone(), range(json!("3")), false);
    check(pattern, range(json!(null)), false);
    check(
        json!({"detail": {"c-count": [{"numeric": [">=", 5, "<", 6]}]}}),
        range(json!(5)),
        true,
    );
    check(
        json!({"detail": {"c-count": [{"numeric": [">=", 5, "<", 6]}]}}),
        range(json!(6)),
        false,
    );
    check(
        json!({"detail": {"c-count": [{"numeric": [">", 5]}]}}),
        range(json!(5)),
        false,
    );
    check(
        json!({"detail": {"c-count": [{"numeric": [">=", 5]}]}}),
        range(json!(5)),
        true,
    );
    check(
        json!({"detail": {"c-count": [{"numeric": ["<=", -5]}]}}),
        range(json!(-5)),
        true,
    );
    check(
        json!({"detail": {"c-count": [{"numeric": ["=", 5]}]}}),
        range(json!(5.0)),
        true,
    );
    // Compared at six decimal places: 1.0000001 is 1.
    check(
        json!({"detail": {"c-count": [{"numeric": [">", 1]}]}}),
        range(json!(1.0000001)),
        false,
    );
    check(
        json!({"detail": {"c-count": [{"numeric": [">", 1]}]}}),
        range(json!(1.000001)),
        true,
    );
    // Out of range in the event: never a numeric match.
    check(
        json!({"detail": {"c-count": [{"numeric": [">", 0]}]}}),
        range(json!(6.0e9)),
        false,
    );
    check(
        json!({"detail": {"c-count": [{"numeric": ["<=", 5.0e9]}]}}),
        range(json!(5.0e9)),
        true,
    );
}

#[test]
fn cidr() {
    let event = ec2_event();
    check(
        json!({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}),
        event.clone(),
        true,
    );
    check(
        json!({"detail": {"source-ip": [{"cidr": "10.0.0.0/8"}]}}),
        event.clone(),
        true,
    );
    check(
        json!({"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}),
        event.clone(),
        false,
    );
    check(json!({"detail": {"state": [{"cidr": "10.0.0.0/8"}]}}), event, false);
    let v6 = json!({"detail": {"sourceIPAddress": [{"cidr": "2001:db8::/32"}]}});
    check(v6.clone(), detail(json!({"sourceIPAddress": "2001:db8:1::5"})), true);
    check(v6.clone(), detail(json!({"sourceIPAddress": "2001:db9::5"})), false);
    check(v6, detail(json!({"sourceIPAddress": "10.0.0.1"})), false);
}

#[test]
fn exists() {
    let event = json!({
        "detail-type": "EC2 Instance State-change Notification",
        "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],
        "detail": {"state": ["initializing", "running"]}
    });
    let absent = json!({"detail": {"c-count": [{"exists": false}]}});
    let present = json!({"detail": {"c-count": [{"exists": true}]}});
    check(absent.clone(), event.clone(), true);
    check(present.clone(), event, false);
    // `c-count` is an object, not a leaf: it does not "exist" for exists matching.
    let nested = json!({"detail": {"state": ["running"], "c-count": {"c1": 100}}});
    check(absent.clone(), nested.clone(), true);
    check(present.clone(), nested, false);
    check(present.clone(), json!({"detail": {"c-count": 5}}), true);
    check(present.clone(), json!({"detail": {"c-count": null}}), true);
    check(absent.clone(), json!({"detail": {"c-count": null}}), false);
    // An empty array has no leaves.
    check(present.clone(), json!({"detail": {"c-count": []}}), false);
    check(absent.clone(), json!({"detail": {"c-count": []}}), true);
    check(present, json!({"detail": {"c-count": [1, 2]}}), true);
    check(absent, json!({"detail": 5}), true);
    // With other values: absent, or one of them.
    let absent_or_x = json!({"a": [{"exists": false}, "x"]});
    check(absent_or_x.clone(), json!({"b": 1}), true);
    check(absent_or_x.clone(), json!({"a": "x"}), true);
    check(absent_or_x, json!({"a": "y"}), false);
}

#[test]
fn or() {
    let pattern = json!({
        "source": ["aws.cloudwatch"],
        "$or": [
            {"metricName": ["CPUUtilization", "ReadLatency"]},
            {"namespace": ["AWS/EC2", "AWS/ES"]}
        ]
    });
    check(
        pattern.clone(),
        json!({"source": "aws.cloudwatch", "metricName": "CPUUtilization"}),
        true,
    );
    check(
        pattern.clone(),
        json!({"source": "aws.cloudwatch", "namespace": "AWS/ES"}),
        true,
    );
    check(
        pattern.clone(),
        json!({"source": "aws.cloudwatch", "namespace": "AWS/S3"}),
        false,
    );
    check(
        pattern,
        json!({"source": "aws.s3", "metricName": "CPUUtilization"}),
        false,
    );

    let parallel = json!({
        "$or": [
            {"metricName": ["CPUUtilization", "ReadLatency"]},
            {"namespace": ["AWS/EC2", "AWS/ES"]}
        ],
        "detail": {
            "$or": [
                {"source": ["aws.cloudwatch"]},
                {"detail-type": ["CloudWatch Alarm State Change"]}
            ]
        }
    });
    check(
        parallel.clone(),
        json!({"namespace": "AWS/EC2", "detail": {"source": "aws.cloudwatch"}}),
        true,
    );
    check(
        parallel.clone(),
        json!({"metricName": "ReadLatency", "detail": {"detail-type": "CloudWatch Alarm State Change"}}),
        true,
    );
    check(
        parallel,
        json!({"namespace": "AWS/EC2", "detail": {"source": "aws.s3"}}),
        false,
    );

    let nested = json!({
        "source": ["aws.cloudwatch"],
        "$or": [
            {"metricName": ["CPUUtilization", "ReadLatency"]},
            {
                "metricType": ["MetricType"],
                "namespace": ["AWS/EC2", "AWS/ES"],
                "$or": [{"metricId": [1234]}, {"spaceId": [1000]}]
            },
            {"scope": ["Service"]}
        ]
    });
    let event = |fields: Value| {
        let mut event = json!({"source": "aws.cloudwatch"});
        event
            .as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        event
    };
    check(nested.clone(), event(json!({"scope": "Service"})), true);
    check(
        nested.clone(),
        event(json!({"metricType": "MetricType", "namespace": "AWS/ES", "spaceId": 1000})),
        true,
    );
    check(
        nested.clone(),
        event(json!({"metricType": "MetricType", "namespace": "AWS/ES"})),
        false,
    );
    check(
        nested,
        event(json!({"metricType": "MetricType", "metricId": 1234})),
        false,
    );

    // Operators inside $or branches.
    let operators = json!({"$or": [{"a": [{"numeric": [">", 10]}]}, {"b": [{"exists": false}]}]});
    check(operators.clone(), json!({"a": 11, "b": 1}), true);
    check(operators.clone(), json!({"a": 5}), true);
    check(operators, json!({"a": 5, "b": 1}), false);
}

#[test]
fn arrays_in_events() {
    // Any element of an event array may match.
    check(
        json!({"resources": ["arn:x", "arn:y"]}),
        json!({"resources": ["arn:a", "arn:y"]}),
        true,
    );
    check(
        json!({"resources": ["arn:x"]}),
        json!({"resources": ["arn:a", "arn:y"]}),
        false,
    );
    check(json!({"resources": ["arn:x"]}), json!({"resources": []}), false);
    check(
        json!({"resources": [{"prefix": "arn:y"}]}),
        json!({"resources": ["a", "arn:yes"]}),
        true,
    );
    check(
        json!({"state": [{"anything-but": "stopped"}]}),
        json!({"state": ["stopped", "running"]}),
        true,
    );
    check(
        json!({"state": [{"anything-but": "stopped"}]}),
        json!({"state": ["stopped"]}),
        false,
    );

    // Objects inside arrays are "crushed out"; fields from different elements never combine.
    let employees = json!({"employees": [
        {"firstName": "John", "lastName": "Doe"},
        {"firstName": "Anna", "lastName": "Smith"},
        {"firstName": "Peter", "lastName": "Jones"}
    ]});
    check(json!({"employees": {"firstName": ["Anna"]}}), employees.clone(), true);
    check(
        json!({"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}),
        employees.clone(),
        true,
    );
    check(
        json!({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}),
        employees.clone(),
        false,
    );
    check(
        json!({"employees": {"firstName": ["Anna", "Peter"], "lastName": ["Jones"]}}),
        employees.clone(),
        true,
    );
    let nested_arrays = json!({"employees": [
        [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}],
        [{"firstName": "Peter", "lastName": "Jones"}]
    ]});
    check(
        json!({"employees": {"firstName": ["Anna"]}}),
        nested_arrays.clone(),
        true,
    );
    check(
        json!({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}),
        nested_arrays.clone(),
        false,
    );
    check(
        json!({"employees": {"firstName": ["Peter"], "lastName": ["Jones"]}}),
        nested_arrays,
        true,
    );
    // A field outside the array combines with any element.
    check(
        json!({"team": ["a"], "employees": {"firstName": ["Anna"]}}),
        json!({"team": "a", "employees": [{"firstName": "John"}, {"firstName": "Anna"}]}),
        true,
    );
    // $or branches on the same element.
    check(
        json!({"items": {"kind": ["book"], "$or": [{"price": [{"numeric": ["<", 10]}]}, {"sale": [true]}]}}),
        json!({"items": [{"kind": "book", "price": 20}, {"kind": "pen", "price": 1, "sale": true}]}),
        false,
    );
    check(
        json!({"items": {"kind": ["book"], "$or": [{"price": [{"numeric": ["<", 10]}]}, {"sale": [true]}]}}),
        json!({"items": [{"kind": "pen", "price": 20}, {"kind": "book", "price": 1}]}),
        true,
    );
    // exists: false means no leaf at that path in any element.
    let elements = json!({"a": [{"b": 1}, {"c": 2}]});
    check(json!({"a": {"c": [{"exists": false}]}}), elements.clone(), false);
    check(json!({"a": {"d": [{"exists": false}]}}), elements.clone(), true);
    check(json!({"a": {"b": [1], "d": [{"exists": false}]}}), elements, true);
}

#[test]
fn rule_sets_report_each_matching_rule_once() {
    let mut rules = RuleSet::new();
    let parse = |value: Value| Pattern::from_value(&value).unwrap();
    rules.insert("ec2", parse(json!({"source": ["aws.ec2"]})));
    rules.insert("running", parse(json!({"detail": {"state": ["running", "pending"]}})));
    rules.insert(
        "or",
        parse(json!({"$or": [{"source": ["aws.ec2"]}, {"detail": {"c-count": [5]}}]})),
    );
    rules.insert("s3", parse(json!({"source": ["aws.s3"]})));
    let mut matched = rules.matching(&ec2_event());
    matched.sort();
    assert_eq!(matched, [&"ec2", &"or", &"running"]);

    assert!(rules.remove(&"or").is_some());
    assert!(rules.remove(&"or").is_none());
    let replaced = rules.insert("ec2", parse(json!({"source": ["aws.lambda"]})));
    assert!(replaced.is_some());
    assert_eq!(rules.matching(&ec2_event()), [&"running"]);
    assert_eq!(rules.len(), 3);
    assert!(rules.get(&"s3").is_some());
    assert!(rules.matching(&json!("not an object")).is_empty());
}

#[test]
fn rule_sets_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<RuleSet<String>>();
    shareable::<Pattern>();
}
