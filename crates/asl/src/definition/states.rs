//! The fields of each state type, after parsing.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;
use sluice_jsonpath::{Path, ReferencePath};

use super::{Dynamic, Graph, ResultPath};
use crate::payload::Template;

/// A Pass state, <https://docs.aws.amazon.com/step-functions/latest/dg/state-pass.html>.
#[derive(Debug, Clone)]
pub struct Pass {
    /// `Result`: a literal that stands in for a task's result (`.$` keys are not evaluated).
    pub result: Option<Arc<Value>>,
}

/// A Task state, <https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html>.
#[derive(Debug, Clone)]
pub struct Task {
    /// `Resource`, with its integration pattern.
    pub resource: Resource,
    /// `TimeoutSeconds` / `TimeoutSecondsPath`.
    pub timeout_seconds: Option<Dynamic<u64>>,
    /// `HeartbeatSeconds` / `HeartbeatSecondsPath`.
    pub heartbeat_seconds: Option<Dynamic<u64>>,
    /// `Credentials`: parsed and carried, not used by Sluice.
    pub credentials: Option<Template>,
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
}

/// A Task's `Resource`: an ARN and the way Step Functions waits for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The resource as written.
    pub arn: String,
    /// The integration pattern the suffix selects.
    pub pattern: IntegrationPattern,
}

/// How a Task waits for its resource,
/// <https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html>.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegrationPattern {
    /// Call and take the response.
    RequestResponse,
    /// `.sync` (or `.sync:2`): wait for the job to complete.
    Sync,
    /// `.waitForTaskToken`: wait for `SendTaskSuccess` / `SendTaskFailure` with the token.
    WaitForTaskToken,
}

impl Resource {
    /// Splits the integration suffix off an ARN.
    pub fn new(arn: &str) -> Resource {
        let pattern = if arn.ends_with(".waitForTaskToken") {
            IntegrationPattern::WaitForTaskToken
        } else if arn.ends_with(".sync") || arn.ends_with(".sync:2") {
            IntegrationPattern::Sync
        } else {
            IntegrationPattern::RequestResponse
        };
        Resource {
            arn: arn.to_owned(),
            pattern,
        }
    }

    /// The ARN without its integration suffix.
    pub fn base(&self) -> &str {
        let arn = self.arn.as_str();
        arn.strip_suffix(".waitForTaskToken")
            .or_else(|| arn.strip_suffix(".sync:2"))
            .or_else(|| arn.strip_suffix(".sync"))
            .unwrap_or(arn)
    }
}

/// A `Retry` entry, <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html>.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    /// `ErrorEquals`.
    pub error_equals: Vec<String>,
    /// `IntervalSeconds` (default 1).
    pub interval_seconds: u64,
    /// `MaxAttempts` (default 3; 0 means never retry).
    pub max_attempts: u64,
    /// `BackoffRate` (default 2.0).
    pub backoff_rate: f64,
    /// `MaxDelaySeconds`: caps the delay.
    pub max_delay_seconds: Option<u64>,
    /// `JitterStrategy`.
    pub jitter: Jitter,
}

/// `JitterStrategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// `NONE` (the default): the computed delay.
    None,
    /// `FULL`: a random delay between 0 and the computed delay.
    Full,
}

/// A `Catch` entry.
#[derive(Debug, Clone)]
pub struct Catcher {
    /// `ErrorEquals`.
    pub error_equals: Vec<String>,
    /// `Next`.
    pub next: String,
    /// `ResultPath`: where the error output goes (default: it replaces the input).
    pub result_path: ResultPath,
    /// `Assign`.
    pub assign: Option<Template>,
    /// JSONata `Output`.
    pub output: Option<Template>,
}

/// A Choice state, <https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html>.
#[derive(Debug, Clone)]
pub struct Choice {
    /// `Choices`, tried in order.
    pub choices: Vec<ChoiceRule>,
    /// `Default`: where to go when no rule matches.
    pub default: Option<String>,
}

/// A top-level Choice rule.
#[derive(Debug, Clone)]
pub struct ChoiceRule {
    /// The condition that selects this rule.
    pub condition: Condition,
    /// `Next`.
    pub next: String,
    /// `Assign`, evaluated when this rule is taken.
    pub assign: Option<Template>,
    /// JSONata `Output`, when this rule is taken.
    pub output: Option<Template>,
}

/// A Choice condition.
#[derive(Debug, Clone)]
pub enum Condition {
    /// `And`: all must hold.
    And(Vec<Condition>),
    /// `Or`: one must hold.
    Or(Vec<Condition>),
    /// `Not`.
    Not(Box<Condition>),
    /// `Variable` and one comparison operator.
    Test {
        /// The `Variable` path.
        variable: Path,
        /// The operator and its operand.
        comparison: Comparison,
    },
    /// JSONata `Condition`.
    Expression(Template),
}

/// A comparison operator of a data-test rule, with its operand.
#[derive(Debug, Clone)]
pub enum Comparison {
    /// `StringEquals` / `StringEqualsPath`.
    StringEquals(Operand),
    /// `StringLessThan` / `…Path`.
    StringLessThan(Operand),
    /// `StringGreaterThan` / `…Path`.
    StringGreaterThan(Operand),
    /// `StringLessThanEquals` / `…Path`.
    StringLessThanEquals(Operand),
    /// `StringGreaterThanEquals` / `…Path`.
    StringGreaterThanEquals(Operand),
    /// `StringMatches`: a pattern where `*` matches any run of characters.
    StringMatches(String),
    /// `NumericEquals` / `…Path`.
    NumericEquals(Operand),
    /// `NumericLessThan` / `…Path`.
    NumericLessThan(Operand),
    /// `NumericGreaterThan` / `…Path`.
    NumericGreaterThan(Operand),
    /// `NumericLessThanEquals` / `…Path`.
    NumericLessThanEquals(Operand),
    /// `NumericGreaterThanEquals` / `…Path`.
    NumericGreaterThanEquals(Operand),
    /// `BooleanEquals` / `…Path`.
    BooleanEquals(Operand),
    /// `TimestampEquals` / `…Path`.
    TimestampEquals(Operand),
    /// `TimestampLessThan` / `…Path`.
    TimestampLessThan(Operand),
    /// `TimestampGreaterThan` / `…Path`.
    TimestampGreaterThan(Operand),
    /// `TimestampLessThanEquals` / `…Path`.
    TimestampLessThanEquals(Operand),
    /// `TimestampGreaterThanEquals` / `…Path`.
    TimestampGreaterThanEquals(Operand),
    /// `IsNull`.
    IsNull(bool),
    /// `IsPresent`.
    IsPresent(bool),
    /// `IsNumeric`.
    IsNumeric(bool),
    /// `IsString`.
    IsString(bool),
    /// `IsBoolean`.
    IsBoolean(bool),
    /// `IsTimestamp`.
    IsTimestamp(bool),
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone)]
pub enum Operand {
    /// A literal of the operator's type.
    Value(Value),
    /// The `…Path` form: a path into the effective input.
    Path(Path),
}

/// A Wait state, <https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html>.
#[derive(Debug, Clone)]
pub struct Wait {
    /// How long, or until when.
    pub wait_for: WaitFor,
}

/// The one wait field a Wait state has.
#[derive(Debug, Clone)]
pub enum WaitFor {
    /// `Seconds` / `SecondsPath` / a JSONata `Seconds`.
    Seconds(Dynamic<u64>),
    /// `Timestamp` / `TimestampPath` / a JSONata `Timestamp`.
    Timestamp(Dynamic<DateTime<FixedOffset>>),
}

/// A Succeed state.
#[derive(Debug, Clone)]
pub struct Succeed {}

/// A Fail state, <https://docs.aws.amazon.com/step-functions/latest/dg/state-fail.html>.
#[derive(Debug, Clone)]
pub struct Fail {
    /// `Error` / `ErrorPath`.
    pub error: Option<Dynamic<String>>,
    /// `Cause` / `CausePath`.
    pub cause: Option<Dynamic<String>>,
}

/// A Parallel state, <https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html>.
#[derive(Debug, Clone)]
pub struct Parallel {
    /// `Branches`, each run with the same input.
    pub branches: Vec<Arc<Graph>>,
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
}

/// A Map state in inline mode, <https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html>.
#[derive(Debug, Clone)]
pub struct Map {
    /// `ItemProcessor` (or the older `Iterator`).
    pub item_processor: Arc<Graph>,
    /// `ItemsPath`: a reference path to the array (default `$`).
    pub items_path: Option<ReferencePath>,
    /// JSONata `Items`.
    pub items: Option<Template>,
    /// `ItemSelector` (or the older `Parameters`): builds each iteration's input.
    pub item_selector: Option<Template>,
    /// `MaxConcurrency` / `MaxConcurrencyPath` (0: no limit).
    pub max_concurrency: Option<Dynamic<u64>>,
    /// `ToleratedFailurePercentage` / `ToleratedFailureCount` and their `…Path` forms.
    pub tolerance: Tolerance,
    /// `ItemBatcher`: `MaxItemsPerBatch` / `MaxInputBytesPerBatch` / `BatchInput`.
    pub item_batcher: Option<ItemBatcher>,
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
}

/// How many failed iterations a Map tolerates.
#[derive(Debug, Clone, Default)]
pub struct Tolerance {
    /// `ToleratedFailureCount` / `…Path`.
    pub count: Option<Dynamic<u64>>,
    /// `ToleratedFailurePercentage` / `…Path`.
    pub percentage: Option<Dynamic<f64>>,
}

/// `ItemBatcher`: iterations take batches of items instead of one item.
#[derive(Debug, Clone)]
pub struct ItemBatcher {
    /// `MaxItemsPerBatch` / `…Path`.
    pub max_items_per_batch: Option<Dynamic<u64>>,
    /// `MaxInputBytesPerBatch` / `…Path`.
    pub max_input_bytes_per_batch: Option<Dynamic<u64>>,
    /// `BatchInput`: a template added to every batch as `BatchInput`.
    pub batch_input: Option<Template>,
}

impl Retrier {
    /// The delay before retry number `attempt` (1 for the first retry), before jitter:
    /// `IntervalSeconds × BackoffRate^(attempt-1)`, capped by `MaxDelaySeconds`, in milliseconds.
    pub fn delay_millis(&self, attempt: u64) -> u64 {
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let seconds = self.interval_seconds as f64 * self.backoff_rate.powi(exponent);
        let capped = match self.max_delay_seconds {
            Some(max) => seconds.min(max as f64),
            None => seconds,
        };
        // A year is far beyond any delay a definition can ask for; the cap keeps the cast exact.
        (capped.min(31_622_400.0 * 4.0) * 1000.0).round() as u64
    }
}

/// Not public: `ResultPath` of a catcher defaults to replacing the input.
pub(crate) fn default_result_path() -> ResultPath {
    ResultPath::Replace
}
