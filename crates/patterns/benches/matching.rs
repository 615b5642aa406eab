//! Matching one event against 10, 1,000, 10,000 and 100,000 rules: the compiled [`RuleSet`]
//! against the naive loop that evaluates every rule's [`Pattern::matches`] (up to 10,000 rules:
//! at 100,000 one naive match takes about a second).
//!
//! The rules are generated deterministically and look like a bus's rules: most select on `source`
//! and `detail-type`, others on a state list, a customer id prefix, an amount range, an
//! `anything-but`, a file wildcard, an `exists`, an `equals-ignore-case` with a `cidr`, or a
//! `$or`. As on a real bus with more rules, the values they name grow with their number (more
//! sources, more customers, more ranges): about ten rules share a source, so the event matches a
//! few dozen rules whatever their number, and the matched count is printed beside each size.
//!
//! Run with `cargo bench -p sluice-patterns`.

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use sluice_patterns::{Pattern, RuleSet};

/// The `index`th rule of a generated set of `count`.
fn rule(index: usize, count: usize) -> Value {
    // How many distinct values of each kind the set names: about one per ten rules.
    let scale = (count / 10).max(8);
    let source = format!("app.{}", index % scale);
    let kind = format!("Type {}", (index / 7) % 20);
    match index % 20 {
        0..=7 => json!({"source": [source], "detail-type": [kind]}),
        8..=10 => {
            let (first, second) = (index % (scale * 5 / 8), index % (scale * 3 / 8 + 1));
            json!({"source": [source], "detail": {"state": [format!("s{first}"), format!("s{second}")]}})
        }
        11..=12 => json!({"detail": {"customer": {"id": [{"prefix": format!("cust-{}-", index % scale)}]}}}),
        13..=14 => {
            // Ranges 25 wide, starting every half unit over a span that grows with the set.
            let low = (index % (scale * 5)) as f64 * 0.5;
            json!({"detail-type": [kind], "detail": {"amount": [{"numeric": [">", low, "<=", low + 25.0]}]}})
        }
        15 => {
            json!({"source": [source], "detail": {"state": [{"anything-but": ["s1", "s2", format!("s{}", index % 50)]}]}})
        }
        16 => json!({"detail": {"file": [{"wildcard": format!("*/k{}/*.png", index % scale)}]}}),
        17 => {
            json!({"source": [source], "detail": {"deletedAt": [{"exists": false}], "items": {"sku": [format!("sku-{}", index % scale)]}}})
        }
        18 => {
            let block = index % scale.min(65_536);
            let cidr = format!("10.{}.{}.0/24", block / 256, block % 256);
            json!({"detail": {"region": [{"equals-ignore-case": format!("EU-WEST-{}", index % 3)}], "ip": [{"cidr": cidr}]}})
        }
        _ => {
            json!({"$or": [{"source": [source]}, {"detail": {"customer": {"tier": [format!("t{}", index % scale)]}}}]})
        }
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
            "ip": "10.0.7.2",
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
    for count in [10, 1_000, 10_000, 100_000] {
        let patterns: Vec<Pattern> = (0..count)
            .map(|index| {
                Pattern::from_value(&rule(index, count)).unwrap_or_else(|error| panic!("rule {index}: {error}"))
            })
            .collect();
        let resident_before = resident_kib();
        let building = Instant::now();
        let mut rules = RuleSet::new();
        for (index, pattern) in patterns.iter().enumerate() {
            rules.insert(index, pattern.clone());
        }
        let built = building.elapsed();
        let resident_after = resident_kib();
        // Both sides must find the same rules, or the comparison means nothing.
        let mut compiled: Vec<usize> = rules.matching(&event).into_iter().copied().collect();
        compiled.sort_unstable();
        let naive: Vec<usize> = (0..count).filter(|&index| patterns[index].matches(&event)).collect();
        assert_eq!(compiled, naive, "{count} rules");
        eprintln!(
            "{count} rules: the event matches {}; built in {:.1} ms; the process grew by {} KiB while building",
            naive.len(),
            built.as_secs_f64() * 1000.0,
            resident_after.saturating_sub(resident_before),
        );

        group.bench_with_input(BenchmarkId::new("compiled", count), &rules, |bencher, rules| {
            bencher.iter(|| rules.matching(&event).len())
        });
        if count <= 10_000 {
            group.bench_with_input(BenchmarkId::new("naive", count), &patterns, |bencher, patterns| {
                bencher.iter(|| patterns.iter().filter(|pattern| pattern.matches(&event)).count())
            });
        }
        // One plain figure per size, beside criterion's: events matched per second over a second.
        let timing = Instant::now();
        let mut events = 0_u64;
        while timing.elapsed() < Duration::from_secs(1) {
            for _ in 0..100 {
                std::hint::black_box(rules.matching(std::hint::black_box(&event)).len());
            }
            events += 100;
        }
        eprintln!(
            "{count} rules: {:.0} events/s through the compiled set",
            events as f64 / timing.elapsed().as_secs_f64()
        );
    }
    group.finish();
}

/// The process's resident memory in KiB (`VmRSS` on Linux; 0 elsewhere).
fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

criterion_group!(benches, matching);
criterion_main!(benches);
