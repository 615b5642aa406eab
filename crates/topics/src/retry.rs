//! SNS's delivery retry policies: when the retries of a failed delivery happen, and when they
//! run out. A retry policy has four phases, in order: retries without delay, retries at the
//! minimum delay, a back-off from the minimum to the maximum delay, and retries at the maximum
//! delay (see "Amazon SNS message delivery retries" in the SNS developer guide).
//!
//! AWS-managed endpoints (`sqs`, `lambda`, and Sluice's `sluice-states`) use SNS's fixed policy:
//! 3 immediate retries, 2 at 1 second, 10 backing off exponentially from 1 to 20 seconds and
//! 100,000 at 20 seconds (about 23 days). HTTP endpoints use the subscription's
//! `DeliveryPolicy.healthyRetryPolicy`, else the topic's
//! `DeliveryPolicy.http.defaultHealthyRetryPolicy`, else SNS's default: 3 retries 20 seconds
//! apart.

use serde_json::Value;

/// How the back-off phase moves from the minimum to the maximum delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    /// In equal steps.
    Linear,
    /// Equal steps as well (SNS's `arithmetic`, which it draws as a straight line).
    Arithmetic,
    /// Quadratically.
    Geometric,
    /// By a constant factor.
    Exponential,
}

/// A retry policy, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries in all (0–100,015 for AWS-managed endpoints; HTTP: 0–100).
    pub num_retries: u32,
    /// Retries without delay, first.
    pub num_no_delay_retries: u32,
    /// Retries at the minimum delay, next.
    pub num_min_delay_retries: u32,
    /// Retries at the maximum delay, last.
    pub num_max_delay_retries: u32,
    /// The minimum delay.
    pub min_delay_seconds: u32,
    /// The maximum delay.
    pub max_delay_seconds: u32,
    /// The back-off between them.
    pub backoff: Backoff,
}

impl RetryPolicy {
    /// SNS's policy for AWS-managed endpoints.
    pub const MANAGED: RetryPolicy = RetryPolicy {
        num_retries: 100_015,
        num_no_delay_retries: 3,
        num_min_delay_retries: 2,
        num_max_delay_retries: 100_000,
        min_delay_seconds: 1,
        max_delay_seconds: 20,
        backoff: Backoff::Exponential,
    };

    /// SNS's default policy for HTTP endpoints.
    pub const HTTP_DEFAULT: RetryPolicy = RetryPolicy {
        num_retries: 3,
        num_no_delay_retries: 0,
        num_min_delay_retries: 0,
        num_max_delay_retries: 0,
        min_delay_seconds: 20,
        max_delay_seconds: 20,
        backoff: Backoff::Linear,
    };

    /// Reads a `healthyRetryPolicy` object, checking SNS's limits for HTTP endpoints.
    pub fn from_json(value: &Value) -> Result<RetryPolicy, String> {
        let Value::Object(object) = value else {
            return Err("healthyRetryPolicy must be an object".to_owned());
        };
        let number = |name: &str, default: u32, max: u32| -> Result<u32, String> {
            match object.get(name) {
                None => Ok(default),
                Some(value) => value
                    .as_u64()
                    .filter(|number| *number <= u64::from(max))
                    .map(|number| number as u32)
                    .ok_or_else(|| format!("{name} must be an integer from 0 to {max}")),
            }
        };
        let min_delay_seconds = number("minDelayTarget", 20, 3_600)?.max(1);
        let max_delay_seconds = number("maxDelayTarget", 20, 3_600)?.max(1);
        if min_delay_seconds > max_delay_seconds {
            return Err("minDelayTarget must not be greater than maxDelayTarget".to_owned());
        }
        let policy = RetryPolicy {
            num_retries: number("numRetries", 3, 100)?,
            num_no_delay_retries: number("numNoDelayRetries", 0, 100)?,
            num_min_delay_retries: number("numMinDelayRetries", 0, 100)?,
            num_max_delay_retries: number("numMaxDelayRetries", 0, 100)?,
            min_delay_seconds,
            max_delay_seconds,
            backoff: match object.get("backoffFunction").and_then(Value::as_str) {
                None | Some("linear") => Backoff::Linear,
                Some("arithmetic") => Backoff::Arithmetic,
                Some("geometric") => Backoff::Geometric,
                Some("exponential") => Backoff::Exponential,
                Some(other) => {
                    return Err(format!(
                        "backoffFunction must be linear, arithmetic, geometric or exponential, not {other}"
                    ));
                }
            },
        };
        if policy.num_no_delay_retries + policy.num_min_delay_retries + policy.num_max_delay_retries
            > policy.num_retries
        {
            return Err(
                "numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries must not exceed numRetries".to_owned(),
            );
        }
        Ok(policy)
    }

    /// The delay before retry `retry` (1-based), in milliseconds; none once the retries are
    /// spent.
    pub fn delay_millis(&self, retry: u32) -> Option<i64> {
        if retry == 0 || retry > self.num_retries {
            return None;
        }
        let min = f64::from(self.min_delay_seconds);
        let max = f64::from(self.max_delay_seconds);
        let no_delay_end = self.num_no_delay_retries;
        let min_end = no_delay_end + self.num_min_delay_retries;
        let backoff_count = self.num_retries - min_end - self.num_max_delay_retries;
        let seconds = if retry <= no_delay_end {
            0.0
        } else if retry <= min_end {
            min
        } else if retry > min_end + backoff_count {
            max
        } else {
            let step = f64::from(retry - min_end) / f64::from(backoff_count.max(1));
            match self.backoff {
                Backoff::Linear | Backoff::Arithmetic => min + (max - min) * step,
                Backoff::Geometric => min + (max - min) * step * step,
                Backoff::Exponential => min * (max / min).powf(step),
            }
        };
        Some((seconds * 1_000.0).round() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_endpoints_back_off_to_twenty_seconds() {
        let policy = RetryPolicy::MANAGED;
        let delays: Vec<i64> = (1..=6).map(|retry| policy.delay_millis(retry).unwrap()).collect();
        assert_eq!(delays[..5], [0, 0, 0, 1_000, 1_000]);
        assert!(delays[5] > 1_000 && delays[5] < 20_000, "{delays:?}");
        assert_eq!(policy.delay_millis(15), Some(20_000));
        assert_eq!(policy.delay_millis(100_015), Some(20_000));
        assert_eq!(policy.delay_millis(100_016), None);
    }

    #[test]
    fn http_policies_are_read_and_checked() {
        let default = RetryPolicy::HTTP_DEFAULT;
        assert_eq!(
            (1..=4).map(|retry| default.delay_millis(retry)).collect::<Vec<_>>(),
            [Some(20_000), Some(20_000), Some(20_000), None]
        );
        let policy = RetryPolicy::from_json(&serde_json::json!({
            "minDelayTarget": 1, "maxDelayTarget": 4, "numRetries": 4,
            "numNoDelayRetries": 1, "backoffFunction": "linear"
        }))
        .unwrap();
        assert_eq!(
            (1..=5).map(|retry| policy.delay_millis(retry)).collect::<Vec<_>>(),
            [Some(0), Some(2_000), Some(3_000), Some(4_000), None]
        );
        let refused = |value: Value| RetryPolicy::from_json(&value).unwrap_err();
        assert!(refused(serde_json::json!({"numRetries": 101})).contains("numRetries"));
        assert!(refused(serde_json::json!({"minDelayTarget": 5, "maxDelayTarget": 2})).contains("minDelayTarget"));
        assert!(refused(serde_json::json!({"backoffFunction": "cubic"})).contains("backoffFunction"));
        assert!(refused(serde_json::json!({"numRetries": 1, "numNoDelayRetries": 2})).contains("exceed"));
    }
}
