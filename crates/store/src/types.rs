//! The records the store keeps. JSON payloads (definitions, inputs, snapshots, event details) are
//! kept as text: the store never looks inside them.

use serde::{Deserialize, Serialize};

/// Standard (recorded step by step) or Express (not recorded, at-least-once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MachineType {
    /// `STANDARD`.
    Standard,
    /// `EXPRESS`.
    Express,
}

impl MachineType {
    /// The name AWS uses: `STANDARD` or `EXPRESS`.
    pub fn as_str(self) -> &'static str {
        match self {
            MachineType::Standard => "STANDARD",
            MachineType::Express => "EXPRESS",
        }
    }

    /// Parses AWS's name.
    pub fn parse(text: &str) -> Option<MachineType> {
        match text {
            "STANDARD" => Some(MachineType::Standard),
            "EXPRESS" => Some(MachineType::Express),
            _ => None,
        }
    }
}

/// A state machine, at its latest revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateMachineRecord {
    /// `arn:aws:states:{region}:{account}:stateMachine:{name}`.
    pub arn: String,
    /// The name.
    pub name: String,
    /// Standard or Express.
    pub machine_type: MachineType,
    /// The definition's JSON text.
    pub definition: String,
    /// The IAM role ARN given at creation (kept, not used).
    pub role_arn: String,
    /// The revision number, from 1; each update adds one.
    pub revision: u64,
    /// When it was created, in milliseconds since the epoch.
    pub created_millis: i64,
}

/// A change to a state machine; absent fields stay as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateMachineUpdate {
    /// The state machine.
    pub arn: String,
    /// A new definition.
    pub definition: Option<String>,
    /// A new role.
    pub role_arn: Option<String>,
}

/// The status of an execution, with AWS's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecutionStatus {
    /// `RUNNING`.
    Running,
    /// `SUCCEEDED`.
    Succeeded,
    /// `FAILED`.
    Failed,
    /// `TIMED_OUT`.
    TimedOut,
    /// `ABORTED`.
    Aborted,
}

impl ExecutionStatus {
    /// AWS's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Running => "RUNNING",
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
        }
    }

    /// Parses AWS's name.
    pub fn parse(text: &str) -> Option<ExecutionStatus> {
        Some(match text {
            "RUNNING" => ExecutionStatus::Running,
            "SUCCEEDED" => ExecutionStatus::Succeeded,
            "FAILED" => ExecutionStatus::Failed,
            "TIMED_OUT" => ExecutionStatus::TimedOut,
            "ABORTED" => ExecutionStatus::Aborted,
            _ => return None,
        })
    }
}

/// An execution: what `DescribeExecution` shows, and the snapshot the engine resumes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionRecord {
    /// `arn:aws:states:{region}:{account}:execution:{machine}:{name}`.
    pub arn: String,
    /// The state machine's ARN.
    pub state_machine_arn: String,
    /// The revision of the definition it runs.
    pub revision: u64,
    /// The execution's name, unique per state machine.
    pub name: String,
    /// Its status.
    pub status: ExecutionStatus,
    /// The input's JSON text.
    pub input: String,
    /// The output's JSON text, once succeeded.
    pub output: Option<String>,
    /// The error, once failed.
    pub error: Option<String>,
    /// The cause, once failed.
    pub cause: Option<String>,
    /// When it started.
    pub start_millis: i64,
    /// When it stopped.
    pub stop_millis: Option<i64>,
    /// Grows with each advance; an advance applies only at the version it read.
    pub version: u64,
    /// The engine's snapshot of where the execution stands (JSON text).
    pub snapshot: String,
    /// The execution that started this one, for `startExecution` tasks.
    pub parent_arn: Option<String>,
}

/// A new execution, with what its start writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionStart {
    /// The execution, at version 1.
    pub record: ExecutionRecord,
    /// Its first history events.
    pub events: Vec<HistoryEvent>,
    /// Its first work.
    pub work: Vec<Work>,
    /// Task tokens its first states hand out.
    pub tokens: Vec<TaskTokenRecord>,
}

/// What [`crate::Store::start_execution`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// The execution is new and was written.
    New,
    /// An execution of that name exists already; nothing was written.
    Existing(Box<ExecutionRecord>),
}

/// One atomic step of an execution: its new status and snapshot, the events it appends, and the
/// work and tokens it adds and retires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advance {
    /// The execution.
    pub arn: String,
    /// The version it was read at; the advance fails with `VersionConflict` otherwise.
    pub expected_version: u64,
    /// The status after the advance.
    pub status: ExecutionStatus,
    /// The output, when it succeeded.
    pub output: Option<String>,
    /// The error, when it failed.
    pub error: Option<String>,
    /// The cause, when it failed.
    pub cause: Option<String>,
    /// When it stopped, when it did.
    pub stop_millis: Option<i64>,
    /// The new snapshot.
    pub snapshot: String,
    /// History events to append (their ids continue the execution's).
    pub events: Vec<HistoryEvent>,
    /// Work to add.
    pub add_work: Vec<Work>,
    /// Ids of work that is done (deleted; a missing id is not an error).
    pub done_work: Vec<String>,
    /// Task tokens to add.
    pub add_tokens: Vec<TaskTokenRecord>,
    /// Task tokens to retire.
    pub remove_tokens: Vec<String>,
}

/// One history event, in AWS's shape: the details object is the event type's `…EventDetails`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEvent {
    /// From 1, in order.
    pub id: u64,
    /// The event this one follows (0 for the first).
    pub previous_event_id: u64,
    /// When it happened.
    pub timestamp_millis: i64,
    /// AWS's event type, e.g. `TaskStateEntered`.
    pub event_type: String,
    /// The details as JSON text (`{}` when none).
    pub details: String,
}

/// Durable work: a task to invoke, or a timer to fire, for an execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Work {
    /// Unique id, chosen by the engine.
    pub id: String,
    /// The execution it belongs to.
    pub execution_arn: String,
    /// When it is due.
    pub due_millis: i64,
    /// What it is, as JSON text the engine reads.
    pub payload: String,
    /// How many times it was claimed before (0 on the first claim).
    pub attempts: u32,
    /// Until when the node that wrote it holds it (0: free for any node to claim when due).
    pub lease_until_millis: i64,
}

/// A task token handed out by a `.waitForTaskToken` task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTokenRecord {
    /// The token.
    pub token: String,
    /// The execution waiting on it.
    pub execution_arn: String,
    /// The engine's id of the waiting task.
    pub task_id: String,
}

/// Which executions to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutionFilter {
    /// Only this state machine's.
    pub state_machine_arn: Option<String>,
    /// Only with this status.
    pub status: Option<ExecutionStatus>,
    /// Only after this one in the listing order (newest first): `(start_millis, arn)`.
    pub after: Option<(i64, String)>,
    /// At most this many.
    pub limit: usize,
}

/// An execution as `ListExecutions` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionSummary {
    /// The execution's ARN.
    pub arn: String,
    /// The state machine's ARN.
    pub state_machine_arn: String,
    /// The name.
    pub name: String,
    /// The status.
    pub status: ExecutionStatus,
    /// When it started.
    pub start_millis: i64,
    /// When it stopped.
    pub stop_millis: Option<i64>,
}

/// Which history events to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryPage {
    /// Start after this event id (in the reading direction); none: from the start (or the end).
    pub after_event_id: Option<u64>,
    /// Newest first.
    pub reverse: bool,
    /// At most this many.
    pub limit: usize,
}
