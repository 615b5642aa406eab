//! Where an execution stands, as the engine stores it beside the execution: every frame (the top
//! level, each running Parallel branch and Map iteration), the state it is in, and what it waits
//! for. A frame is always waiting: on a task, a timer, or its children.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The whole snapshot of one execution.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// The id the next history event gets.
    pub next_event_id: u64,
    /// The next id for frames, tasks and work of this execution.
    pub next_id: u64,
    /// The frames; frame 0 is the top level.
    pub frames: BTreeMap<u64, Frame>,
    /// An Express execution: only its start and end go into the history, not each step.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub express: bool,
    /// The parent to tell when this execution ends (a `startExecution.sync` task).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<ParentTask>,
}

/// A task of another execution that waits for this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentTask {
    /// The waiting execution.
    pub execution_arn: String,
    /// Its waiting frame.
    pub frame: u64,
    /// Its waiting task.
    pub task_id: String,
    /// How the result is shaped (`.sync` gives the output as a string, `.sync:2` as JSON).
    pub output_as_json: bool,
}

/// One running graph: the top level, a branch or an iteration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Frame {
    /// The frame that runs this one, and this one's branch or item index there.
    pub parent: Option<(u64, usize)>,
    /// How to find this frame's graph from the top: (Parallel or Map state, branch index).
    pub graph: Vec<(String, usize)>,
    /// The variables this frame assigned (outer frames' are read through `parent`).
    pub variables: Map<String, Value>,
    /// The state the frame is in.
    pub state: String,
    /// That state's raw input.
    pub input: Value,
    /// When the state was entered.
    pub entered_millis: i64,
    /// The id of the `…StateEntered` event.
    pub entered_event_id: u64,
    /// The last event of this frame, which the next one follows.
    pub last_event_id: u64,
    /// How often each retrier of the state has retried.
    pub retries: Vec<u64>,
    /// The task token of a `.waitForTaskToken` Task state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_token: Option<String>,
    /// What the frame waits for.
    pub waiting: Waiting,
}

/// What a frame waits for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Waiting {
    /// Nothing yet (only while a step is being applied).
    Nothing,
    /// A task's result.
    Task {
        /// The task's id.
        task_id: String,
        /// The invocation work item.
        work_id: String,
        /// The resource invoked.
        resource: String,
        /// The timeout and heartbeat timers.
        timers: Vec<String>,
        /// When it was scheduled.
        scheduled_millis: i64,
    },
    /// A timer: a Wait state, or a retry delay.
    Timer {
        /// The timer's work item.
        work_id: String,
        /// What happens when it fires.
        then: Then,
    },
    /// Child frames: Parallel branches or Map iterations.
    Children {
        /// Whether the children are Map iterations (else Parallel branches).
        map: bool,
        /// Each child's outcome, once it has one.
        outcomes: Vec<Option<Outcome>>,
        /// Iterations not started yet (Map with a concurrency limit).
        pending: VecDeque<(usize, Value)>,
        /// The concurrency limit (0: none).
        max_concurrency: usize,
    },
}

/// What a fired timer does.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Then {
    /// A Wait state ends: go to `next`, or end the frame when absent.
    Transition {
        /// The next state.
        next: Option<String>,
        /// The output.
        output: Value,
        /// Variables assigned by the Wait state.
        assigned: Option<Map<String, Value>>,
    },
    /// A retry delay ends: enter the state again with this retrier's count up by one.
    Retry {
        /// The retrier.
        retrier: usize,
    },
}

/// How a child frame ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Outcome {
    /// Its output.
    Succeeded(Value),
    /// Its error and cause.
    Failed {
        /// The error name.
        error: String,
        /// The cause.
        cause: Option<String>,
    },
}

/// A work item's payload: what to do when it is due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum WorkPayload {
    /// Invoke a task's resource.
    Invoke {
        /// The frame that waits.
        frame: u64,
        /// The task's id.
        task_id: String,
        /// The resource ARN.
        resource: String,
        /// The task's input.
        parameters: Value,
        /// The task token, for `.waitForTaskToken`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
    },
    /// A Wait state's or a retry's timer.
    Timer {
        /// The frame that waits.
        frame: u64,
    },
    /// A task ran past its `TimeoutSeconds`.
    TaskTimeout {
        /// The frame that waits.
        frame: u64,
        /// The task's id.
        task_id: String,
    },
    /// A task missed its heartbeat.
    HeartbeatTimeout {
        /// The frame that waits.
        frame: u64,
        /// The task's id.
        task_id: String,
    },
    /// The execution ran past the machine's `TimeoutSeconds`.
    ExecutionTimeout,
}
