//! Matching one event against 10, 1,000 and 10,000 rules: the compiled [`RuleSet`] against the
//! naive loop that evaluates every rule's [`Pattern::matches`].
//!
//! The rules are generated deterministically and look like a bus's rules: most select on `source`
//! and `detail-type`, others on a state list, a customer id prefix, an amount range, an
//! `anything-but`, a file wildcard, an `exists`, or a `$or`. The event matches a handful of them.
//!
//! Run with `cargo bench -p sluice-patterns`.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use sluice_patterns::{Pattern, RuleSet};

/// The `index`th rule of the generated set.
fn rule(index: usize) -> Value {
    let source = format!("app.{}", index % 200);
    let kind = format!("Type {}", (index / 7) % 20);
    match index % 20 {
        0..=7 => json!({"source": [source], "detail-type": [kind]}),
        8..=10 => {
            json!({"source": [source], "detail": {"state": [format!("s{}", index % 50), format!("s{}", index % 31)]}})
        }
        11..=12 => json!({"detail": {"customer": {"id": [{"prefix": format!("cust-{}", index % 997)}]}}}),
        13..=14 => {
            let low = (index % 500) as f64;
            json!({"detail-type": [kind], "detail": {"amount": [{"numeric": [">", low, "<=", low + 25.0]}]}})
        }
        15 => {
            json!({"source": [source], "detail": {"state": [{"anything-but": ["s1", "s2", format!("s{}", index % 50)]}]}})
        }
        16 => json!({"detail": {"file": [{"wildcard": format!("*/k{}/*.png", index % 300)}]}}),
        17 => {
            json!({"source": [source], "detail": {"deletedAt": [{"exists": false}], "items": {"sku": [format!("sku-{}", index % 100)]}}})
        }
        18 => {
            json!({"detail": {"region": [{"equals-ignore-case": format!("EU-WEST-{}", index % 3)}], "ip": [{"cidr": format!("10.{}.0.0/16", index % 256)}]}})
        }
        _ => json!({"$or": [{"source": [source]}, {"detail": {"customer": {"tier": [format!("t{}", index % 40)]}}}]}),
    }
}

fn event() -> Value {
    json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "Type 1",
        "source": "app.7",
        "account": "111122223333",
        "time": "2026-11-23T18:43:48Z",
        "region": "us-west-1",
        "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
        "detail": {
            "state": "s7",
            "amount": 123.45,
            "customer": {"id": "cust-42-x", "tier": "t9"},
            "file": "/uploads/k17/photo.png",
            "region": "eu-west-1",
            "ip": "10.7.1.2",
            "items": [{"sku": "sku-7", "qty": 2}, {"sku": "sku-44", "qty": 1}, {"sku": "sku-9", "qty": 5}]
        }
    })
}

fn matching(criterion: &mut Criterion) {
    let event = event();
    let mut group = criterion.benchmark_group("match_one_event");
    group.throughput(Throughput::Elements(1));
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    for count in [10, 1_000, 10_000] {
        let patterns: Vec<Pattern> = (0..count)
            .map(|index| Pattern::from_value(&rule(index)).unwrap_or_else(|error| panic!("rule {index}: {error}")))
            .collect();
        let mut rules = RuleSet::new();
        for (index, pattern) in patterns.iter().enumerate() {
            rules.insert(index, pattern.clone());
        }
        // Both sides must find the same rules, or the comparison means nothing.
        let mut compiled: Vec<usize> = rules.matching(&event).into_iter().copied().collect();
        compiled.sort_unstable();
        let naive: Vec<usize> = (0..count).filter(|&index| patterns[index].matches(&event)).collect();
        assert_eq!(compiled, naive, "{count} rules");
        eprintln!("{count} rules: the event matches {}", naive.len());

        group.bench_with_input(BenchmarkId::new("compiled", count), &rules, |bencher, rules| {
            bencher.iter(|| rules.matching(&event).len())
        });
        group.bench_with_input(BenchmarkId::new("naive", count), &patterns, |bencher, patterns| {
            bencher.iter(|| patterns.iter().filter(|pattern| pattern.matches(&event)).count())
        });
    }
    group.finish();
}

criterion_group!(benches, matching);
criterion_main!(benches);
