//! EventBridge Scheduler on the bus's store and delivery outbox: schedules with one target each,
//! `at()`, `rate()` and `cron()` expressions in a named time zone, start and end dates, and
//! `ActionAfterCompletion`.
//!
//! - A schedule keeps its next fire time in the store. A fire writes the target's delivery and
//!   the schedule's next fire time (or its deletion) in one commit, only if the schedule still
//!   expects that fire: **each fire time is written once**, across restarts too.
//! - Fires missed while the server was down are not made up: the first missed one happens once at
//!   start, and a recurring schedule goes on from the first fire time after now. A one-time
//!   schedule whose time has passed when it is written fires at once.
//! - The delivery is the bus's: at-least-once, with the target's `RetryPolicy` and
//!   `DeadLetterConfig`. A flexible time window is accepted and the target invoked at the start
//!   of it.
//! - Only the `default` schedule group exists.

mod control;
mod fire;
pub mod timing;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use sluice_store::bus::ScheduleRecord;

use crate::target::{DeadLetterConfig, RetryPolicy, SqsParameters};

pub use control::{ScheduleInput, ScheduleView};

/// The schedule group that always exists.
pub const DEFAULT_GROUP: &str = "default";

/// A schedule's settings, as stored (AWS's member names; dates in milliseconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Definition {
    /// `at(...)`, `rate(...)` or `cron(...)`.
    pub schedule_expression: String,
    /// The IANA zone the expression is read in (`UTC` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_expression_timezone: Option<String>,
    /// No recurring fire before this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<i64>,
    /// No recurring fire after this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<i64>,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `OFF`, or `FLEXIBLE` with a window.
    pub flexible_time_window: FlexibleTimeWindow,
    /// What it invokes.
    pub target: ScheduleTarget,
    /// `NONE` (default) or `DELETE`: what happens to the schedule after its last fire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_after_completion: Option<String>,
    /// The key given (kept, not used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
}

/// `FlexibleTimeWindow`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlexibleTimeWindow {
    /// `OFF` or `FLEXIBLE`.
    pub mode: String,
    /// 1 to 1440 minutes, with `FLEXIBLE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_window_in_minutes: Option<u32>,
}

/// A schedule's `Target`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleTarget {
    /// A state machine, a function, an event bus, or what the bus's sink takes (queues).
    pub arn: String,
    /// The role to invoke as (kept, not used).
    #[serde(default)]
    pub role_arn: String,
    /// What the target receives (`{}` when absent); may hold `<aws.scheduler.*>` attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// How long and how often to retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    /// Where the input goes when retries run out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetterConfig>,
    /// The message group of a FIFO queue target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqs_parameters: Option<SqsParameters>,
    /// The event's `detail-type` and `source` for an event bus target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_bridge_parameters: Option<EventBridgeParameters>,
}

/// `EventBridgeParameters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventBridgeParameters {
    /// The event's `detail-type`.
    pub detail_type: String,
    /// The event's `source`.
    pub source: String,
}

/// One schedule in memory: as stored, its settings and its parsed timing.
#[derive(Debug, Clone)]
pub(crate) struct ScheduleEntry {
    pub record: ScheduleRecord,
    pub definition: Definition,
    pub timing: timing::Timing,
}
