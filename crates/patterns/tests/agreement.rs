//! The compiled [`RuleSet`] agrees with the reference [`Pattern::matches`] on many random rules and
//! events, drawn from a small vocabulary so that matches are frequent, including after rules are
//! removed and replaced. The generator is a seeded SplitMix64, so every run is the same run.

use serde_json::{Map, Value, json};
use sluice_patterns::{Pattern, RuleSet};

/// SplitMix64: tiny, seedable, good enough to pick test cases.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const STRINGS: [&str; 16] = [
    "aws.ec2",
    "aws.s3",
    "running",
    "Running",
    "stopped",
    "init",
    "initializing",
    "a.png",
    "b.PNG",
    "10.0.0.5",
    "10.1.2.3",
    "2001:db8::1",
    "x",
    "",
    "EventBridge",
    "a*b",
];
const NUMBERS: [f64; 9] = [0.0, 1.0, 5.0, 5.5, 10.0, -3.0, 1000.0, 301.8, 5.0000001];
const CIDRS: [&str; 4] = ["10.0.0.0/8", "10.0.0.0/24", "2001:db8::/32", "0.0.0.0/0"];

/// Leaf paths patterns use; none is a prefix of another.
const PATHS: [&[&str]; 14] = [
    &["source"],
    &["region"],
    &["resources"],
    &["detail", "state"],
    &["detail", "count"],
    &["detail", "size"],
    &["detail", "ip"],
    &["detail", "name"],
    &["detail", "flag"],
    &["detail", "tags"],
    &["detail", "items", "kind"],
    &["detail", "items", "price"],
    &["detail", "items", "sale"],
    &["detail", "missing"],
];

fn scalar(random: &mut Random) -> Value {
    match random.below(10) {
        0..=5 => json!(random.pick(&STRINGS)),
        6..=8 => json!(random.pick(&NUMBERS)),
        _ => [json!(true), json!(false), Value::Null][random.below(3)].clone(),
    }
}

/// A piece of a vocabulary string, for prefixes, suffixes and wildcards.
fn piece(random: &mut Random, from_end: bool) -> String {
    let text: Vec<char> = random.pick(&STRINGS).chars().collect();
    let length = random.below(text.len() + 1);
    if from_end {
        text[text.len() - length..].iter().collect()
    } else {
        text[..length].iter().collect()
    }
}

fn wildcard(random: &mut Random) -> String {
    let text: Vec<char> = random.pick(&STRINGS).chars().collect();
    let start = random.below(text.len() + 1);
    let end = start + random.below(text.len() - start + 1);
    let escape = |chars: &[char]| -> String {
        chars
            .iter()
            .map(|c| if *c == '*' { "\\*".to_owned() } else { c.to_string() })
            .collect()
    };
    let mut value = escape(&text[..start]);
    value.push('*');
    value.push_str(&escape(&text[end..]));
    if random.chance(20) {
        value.insert(0, '*');
        if value.starts_with("**") {
            value.remove(0);
        }
    }
    value
}

fn numeric(random: &mut Random) -> Value {
    let low = *random.pick(&NUMBERS);
    match random.below(4) {
        0 => json!(["=", low]),
        1 => json!([random.pick(&["<", "<="]), low]),
        2 => json!([random.pick(&[">", ">="]), low]),
        _ => json!([
            random.pick(&[">", ">="]),
            low,
            random.pick(&["<", "<="]),
            low + 1.0 + random.below(10) as f64
        ]),
    }
}

fn matcher(random: &mut Random) -> Value {
    match random.below(16) {
        0..=3 => scalar(random),
        4 => json!({"prefix": piece(random, false)}),
        5 => json!({"prefix": {"equals-ignore-case": piece(random, false).to_uppercase()}}),
        6 => json!({"suffix": piece(random, true)}),
        7 => json!({"suffix": {"equals-ignore-case": piece(random, true)}}),
        8 => json!({"equals-ignore-case": random.pick(&STRINGS).to_uppercase()}),
        9 => json!({"wildcard": wildcard(random)}),
        10 => json!({"numeric": numeric(random)}),
        11 => json!({"exists": random.chance(50)}),
        12 => json!({"cidr": random.pick(&CIDRS)}),
        _ => {
            let operand = match random.below(7) {
                0 => json!(random.pick(&STRINGS)),
                1 => json!(random.pick(&NUMBERS)),
                2 => json!([random.pick(&STRINGS), random.pick(&STRINGS)]),
                3 => json!({"prefix": random.pick(&["a", "init", "10.", "aws."])}),
                4 => json!({"suffix": random.pick(&[".png", "ing", "3"])}),
                5 => json!({"equals-ignore-case": [random.pick(&STRINGS), random.pick(&STRINGS)]}),
                _ => json!({"wildcard": wildcard(random)}),
            };
            json!({"anything-but": operand})
        }
    }
}

/// Sets `path` in `object` to `value`, creating objects on the way.
fn put(object: &mut Map<String, Value>, path: &[&str], value: Value) {
    let (last, parents) = path.split_last().unwrap();
    let mut current = object;
    for parent in parents {
        current = current
            .entry(*parent)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .unwrap();
    }
    current.insert((*last).to_owned(), value);
}

fn conditions(random: &mut Random, object: &mut Map<String, Value>, count: usize) {
    for _ in 0..count {
        let matchers: Vec<Value> = (0..1 + random.below(3)).map(|_| matcher(random)).collect();
        let path = PATHS[random.below(PATHS.len())];
        put(object, path, Value::Array(matchers));
    }
}

fn random_pattern(random: &mut Random) -> Value {
    let mut object = Map::new();
    let count = 1 + random.below(3);
    conditions(random, &mut object, count);
    if random.chance(25) {
        let alternatives: Vec<Value> = (0..2 + random.below(2))
            .map(|_| {
                let mut alternative = Map::new();
                let count = 1 + random.below(2);
                conditions(random, &mut alternative, count);
                Value::Object(alternative)
            })
            .collect();
        object.insert("$or".to_owned(), Value::Array(alternatives));
    }
    Value::Object(object)
}

fn leaf_or_array(random: &mut Random) -> Value {
    match random.below(10) {
        0 => Value::Array((0..random.below(4)).map(|_| scalar(random)).collect()),
        1 => json!({"nested": scalar(random)}),
        _ => scalar(random),
    }
}

fn event(random: &mut Random) -> Value {
    let mut event = Map::new();
    event.insert("source".to_owned(), json!(random.pick(&["aws.ec2", "aws.s3", "x"])));
    if random.chance(70) {
        event.insert("region".to_owned(), leaf_or_array(random));
    }
    event.insert(
        "resources".to_owned(),
        Value::Array((0..random.below(4)).map(|_| scalar(random)).collect()),
    );
    let mut detail = Map::new();
    for key in ["state", "count", "size", "ip", "name", "flag", "tags"] {
        if random.chance(60) {
            detail.insert(key.to_owned(), leaf_or_array(random));
        }
    }
    if random.chance(60) {
        let items: Vec<Value> = (0..random.below(4))
            .map(|_| {
                let mut item = Map::new();
                for key in ["kind", "price", "sale"] {
                    if random.chance(70) {
                        item.insert(key.to_owned(), leaf_or_array(random));
                    }
                }
                Value::Object(item)
            })
            .collect();
        detail.insert("items".to_owned(), Value::Array(items));
    }
    event.insert("detail".to_owned(), Value::Object(detail));
    Value::Object(event)
}

/// Compares the rule set with the reference on each event; returns how many (rule, event) pairs matched.
fn compare(rules: &RuleSet<usize>, patterns: &[(usize, Pattern)], events: &[Value]) -> usize {
    let mut matches = 0;
    for event in events {
        let mut compiled: Vec<usize> = rules.matching(event).into_iter().copied().collect();
        compiled.sort_unstable();
        let expected: Vec<usize> = patterns
            .iter()
            .filter(|(_, pattern)| pattern.matches(event))
            .map(|(id, _)| *id)
            .collect();
        if compiled != expected {
            let differing: Vec<_> = patterns
                .iter()
                .filter(|(id, _)| compiled.contains(id) != expected.contains(id))
                .map(|(id, pattern)| (id, pattern))
                .collect();
            panic!("event {event}\ncompiled {compiled:?}\nexpected {expected:?}\ndiffering: {differing:#?}");
        }
        matches += expected.len();
    }
    matches
}

/// Rules of one matcher on one path, so that each operator's index alone decides each match.
#[test]
fn each_operator_index_agrees_with_the_reference() {
    let mut random = Random(0x0BE7_A70B);
    let mut patterns: Vec<(usize, Pattern)> = Vec::new();
    while patterns.len() < 1500 {
        let mut object = Map::new();
        let path = PATHS[random.below(PATHS.len())];
        put(&mut object, path, json!([matcher(&mut random)]));
        if let Ok(pattern) = Pattern::from_value(&Value::Object(object)) {
            patterns.push((patterns.len(), pattern));
        }
    }
    let events: Vec<Value> = (0..300).map(|_| event(&mut random)).collect();
    let mut rules = RuleSet::new();
    for (id, pattern) in &patterns {
        rules.insert(*id, pattern.clone());
    }
    let matched = compare(&rules, &patterns, &events);
    assert!(
        matched > 20_000,
        "the vocabulary should make matches common, got {matched}"
    );
}

#[test]
fn compiled_matcher_agrees_with_the_reference() {
    let mut random = Random(0x5EED_F51C);
    let mut patterns: Vec<(usize, Pattern)> = Vec::new();
    let mut rejected = 0;
    while patterns.len() < 400 {
        match Pattern::from_value(&random_pattern(&mut random)) {
            Ok(pattern) => patterns.push((patterns.len(), pattern)),
            Err(_) => rejected += 1,
        }
    }
    assert!(
        rejected < 100,
        "the generator should mostly make valid patterns, {rejected} rejected"
    );
    let events: Vec<Value> = (0..400).map(|_| event(&mut random)).collect();

    let mut rules = RuleSet::new();
    for (id, pattern) in &patterns {
        rules.insert(*id, pattern.clone());
    }
    let matched = compare(&rules, &patterns, &events);
    assert!(
        matched > 2000,
        "the vocabulary should make matches common, got {matched}"
    );

    // Remove every third rule, replace every fifth with a fresh pattern, and compare again.
    let mut remaining = Vec::new();
    for (id, pattern) in patterns {
        if id % 3 == 0 {
            assert!(rules.remove(&id).is_some());
        } else if id % 5 == 0 {
            let fresh = loop {
                if let Ok(fresh) = Pattern::from_value(&random_pattern(&mut random)) {
                    break fresh;
                }
            };
            assert!(rules.insert(id, fresh.clone()).is_some());
            remaining.push((id, fresh));
        } else {
            remaining.push((id, pattern));
        }
    }
    assert_eq!(rules.len(), remaining.len());
    compare(&rules, &remaining, &events);

    // Removing everything leaves a rule set that matches nothing.
    for (id, _) in &remaining {
        rules.remove(id);
    }
    assert!(rules.is_empty());
    assert!(events.iter().all(|event| rules.matching(event).is_empty()));
}
