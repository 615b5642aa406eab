//! What the engine counts, through the `metrics` facade: executions started and ended, state
//! transitions, task latency and timer fires. Recording is a no-op until the binary installs a
//! recorder (`sluice serve` installs a Prometheus one, rendered on `/metrics`).
//!
//! Every figure is recorded after the change it counts is committed, so a transition that was
//! undone (a version conflict) is not counted, and one replayed after a crash is counted once per
//! process that committed it.

use std::time::Duration;

use sluice_store::{ExecutionStatus, MachineType};

/// Executions started, by state machine type (`sluice_executions_started_total`).
pub const EXECUTIONS_STARTED: &str = "sluice_executions_started_total";
/// Executions ended, by state machine type and status (`sluice_executions_ended_total`).
pub const EXECUTIONS_ENDED: &str = "sluice_executions_ended_total";
/// States entered, by state machine type (`sluice_state_transitions_total`).
pub const STATE_TRANSITIONS: &str = "sluice_state_transitions_total";
/// How long function invocations took, by function kind and outcome (`sluice_task_duration_seconds`).
pub const TASK_DURATION: &str = "sluice_task_duration_seconds";
/// Durable timers that fired and applied, by kind (`sluice_timers_fired_total`).
pub const TIMERS_FIRED: &str = "sluice_timers_fired_total";

/// The bucket bounds of [`TASK_DURATION`], in seconds: from an in-process call (tens of
/// microseconds) to a long command or HTTP function.
pub const TASK_DURATION_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0, 30.0, 60.0,
];

/// Describes the metrics to the installed recorder (help text and units). Call once after
/// installing it; recording works without it.
pub fn describe() {
    metrics::describe_counter!(EXECUTIONS_STARTED, "Executions started, by state machine type.");
    metrics::describe_counter!(
        EXECUTIONS_ENDED,
        "Executions ended, by state machine type and status (SUCCEEDED, FAILED, ABORTED, TIMED_OUT)."
    );
    metrics::describe_counter!(
        STATE_TRANSITIONS,
        "States entered (state transitions), by state machine type."
    );
    metrics::describe_histogram!(
        TASK_DURATION,
        metrics::Unit::Seconds,
        "How long function invocations took, by function kind (in_process, command, http) and outcome."
    );
    metrics::describe_counter!(
        TIMERS_FIRED,
        "Durable timers that fired and applied, by kind (timer: a Wait or a Retry delay; task_timeout; heartbeat_timeout; execution_timeout)."
    );
}

/// The label value of a state machine type.
fn machine_type(express: bool) -> &'static str {
    if express {
        MachineType::Express.as_str()
    } else {
        MachineType::Standard.as_str()
    }
}

pub(crate) fn execution_started(express: bool) {
    metrics::counter!(EXECUTIONS_STARTED, "type" => machine_type(express)).increment(1);
}

pub(crate) fn execution_ended(express: bool, status: ExecutionStatus) {
    metrics::counter!(EXECUTIONS_ENDED, "type" => machine_type(express), "status" => status.as_str()).increment(1);
}

pub(crate) fn states_entered(express: bool, count: u64) {
    if count > 0 {
        metrics::counter!(STATE_TRANSITIONS, "type" => machine_type(express)).increment(count);
    }
}

pub(crate) fn task_finished(kind: &'static str, succeeded: bool, took: Duration) {
    let outcome = if succeeded { "succeeded" } else { "failed" };
    metrics::histogram!(TASK_DURATION, "kind" => kind, "outcome" => outcome).record(took.as_secs_f64());
}

pub(crate) fn timer_fired(kind: &'static str) {
    metrics::counter!(TIMERS_FIRED, "kind" => kind).increment(1);
}
