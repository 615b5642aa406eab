//! Notification rules, checked as S3 checks a `PutBucketNotificationConfiguration`: known event
//! names, filters within S3's limits, a destination that exists, unique ids, and no two rules
//! that could both claim one event (S3's "Configuration is ambiguously defined"). The same
//! checks serve the S3 API and an app's `[buckets.NAME]`, which reports every problem at once.
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-filtering.html>)

use sluice_store::objects::NotificationRule;

/// The longest prefix or suffix a filter rule may hold, in bytes (S3's key length).
pub const MAX_FILTER_BYTES: usize = 1024;

/// The event names a rule may ask for: the families Sluice emits, and their wildcards.
pub const EVENT_NAMES: &[&str] = &[
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
];

/// One thing wrong with a set of rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The rule's position in the set.
    pub index: usize,
    /// The field at fault: `events`, `prefix`, `suffix`, `target`, `id`.
    pub field: &'static str,
    /// What is wrong, as a sentence.
    pub message: String,
}

/// Checks a bucket's whole set of rules; `target_exists` answers whether events can go to an
/// ARN (a message naming what is wrong otherwise). Every problem is reported, in rule order.
pub fn check(rules: &[NotificationRule], target_exists: &dyn Fn(&str) -> Result<(), String>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        let mut problem = |field, message: String| problems.push(Problem { index, field, message });
        if rule.events.is_empty() {
            problem("events", "a notification rule needs at least one event".into());
        }
        for event in &rule.events {
            if !EVENT_NAMES.contains(&event.as_str()) {
                problem(
                    "events",
                    format!(
                        "the event {event:?} is not supported for notifications; use one of {}",
                        EVENT_NAMES.join(", ")
                    ),
                );
            }
        }
        for (field, value) in [("prefix", &rule.prefix), ("suffix", &rule.suffix)] {
            if value.len() > MAX_FILTER_BYTES {
                problem(
                    field,
                    format!(
                        "the {field} filter is {} bytes long; the most is {MAX_FILTER_BYTES}",
                        value.len()
                    ),
                );
            }
        }
        if rule.target.is_empty() {
            problem("target", "a notification rule needs a destination ARN".into());
        } else if let Err(message) = target_exists(&rule.target) {
            problem(
                "target",
                format!("Unable to validate the destination {}: {message}", rule.target),
            );
        }
        if rule.id.len() > 255 {
            problem("id", "a notification rule's id is at most 255 characters".into());
        }
        if rules[..index].iter().any(|earlier| earlier.id == rule.id) {
            problem(
                "id",
                format!("the id {:?} is used by more than one notification rule", rule.id),
            );
        }
        if let Some(earlier) = rules[..index].iter().position(|earlier| overlap(earlier, rule)) {
            problem(
                "prefix",
                format!(
                    "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the prefixes are overlapping for the same event type (rules {} and {})",
                    rules[earlier].id, rule.id
                ),
            );
        }
    }
    problems
}

/// Whether one event could match both rules: a shared event name (a wildcard covers its
/// family), prefixes one of which starts the other, suffixes one of which ends the other.
fn overlap(first: &NotificationRule, second: &NotificationRule) -> bool {
    let shared_event = first.events.iter().any(|one| {
        second
            .events
            .iter()
            .any(|other| covers(one, other) || covers(other, one))
    });
    let prefixes = first.prefix.starts_with(&second.prefix) || second.prefix.starts_with(&first.prefix);
    let suffixes = first.suffix.ends_with(&second.suffix) || second.suffix.ends_with(&first.suffix);
    shared_event && prefixes && suffixes
}

/// Whether the event pattern `wide` takes every event `narrow` takes.
fn covers(wide: &str, narrow: &str) -> bool {
    match wide.strip_suffix('*') {
        Some(family) => narrow.starts_with(family),
        None => wide == narrow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, events: &[&str], prefix: &str, suffix: &str) -> NotificationRule {
        NotificationRule {
            id: id.into(),
            target: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
            events: events.iter().map(|event| (*event).to_owned()).collect(),
            prefix: prefix.into(),
            suffix: suffix.into(),
        }
    }

    fn fields(rules: &[NotificationRule]) -> Vec<(usize, &'static str)> {
        let exists = |arn: &str| {
            if arn.ends_with(":function:f") {
                Ok(())
            } else {
                Err("no such function".to_owned())
            }
        };
        check(rules, &exists)
            .into_iter()
            .map(|problem| (problem.index, problem.field))
            .collect()
    }

    #[test]
    fn good_rules_pass() {
        let rules = [
            rule("a", &["s3:ObjectCreated:*"], "images/", ".jpg"),
            rule("b", &["s3:ObjectCreated:*"], "images/", ".png"),
            rule("c", &["s3:ObjectRemoved:*"], "images/", ".jpg"),
            rule("d", &["s3:ObjectCreated:Put"], "docs/", ""),
        ];
        assert_eq!(fields(&rules), []);
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let mut unknown_target = rule("t", &["s3:ObjectCreated:Put"], "t/", "");
        unknown_target.target = "arn:aws:lambda:us-east-1:123456789012:function:nobody".into();
        let rules = [
            rule("e", &["s3:ObjectCreated:Put", "s3:Nonsense"], "x/", ""),
            rule("none", &[], "y/", ""),
            rule("long", &["s3:ObjectRemoved:*"], &"p".repeat(1025), ""),
            unknown_target,
            rule("e", &["s3:ObjectRemoved:Delete"], "z/", ""),
        ];
        assert_eq!(
            fields(&rules),
            [(0, "events"), (1, "events"), (2, "prefix"), (3, "target"), (4, "id")]
        );
    }

    #[test]
    fn overlapping_rules_for_one_event_are_ambiguous() {
        let wildcard_and_exact = [
            rule("a", &["s3:ObjectCreated:*"], "in/", ""),
            rule("b", &["s3:ObjectCreated:Copy"], "in/sub/", ".json"),
        ];
        assert_eq!(fields(&wildcard_and_exact), [(1, "prefix")]);
        let disjoint_suffixes = [
            rule("a", &["s3:ObjectCreated:*"], "in/", ".json"),
            rule("b", &["s3:ObjectCreated:*"], "in/", ".csv"),
        ];
        assert_eq!(fields(&disjoint_suffixes), []);
        let disjoint_prefixes = [
            rule("a", &["s3:ObjectCreated:*"], "in/", ""),
            rule("b", &["s3:ObjectCreated:*"], "out/", ""),
        ];
        assert_eq!(fields(&disjoint_prefixes), []);
    }
}
