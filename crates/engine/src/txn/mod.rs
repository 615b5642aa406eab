//! One atomic advance of an execution: a snapshot, the steps the language answers, and what they
//! write (events, work, tokens) and end. The engine commits a `Txn` with one `Store::advance`.
//!
//! Steps are applied from a queue, not by recursion: entering a state, applying its step, and a
//! frame finishing are queued actions, so deep graphs and many Map iterations use no stack.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map as JsonMap, Value};
use sluice_asl::definition::StateKind;
use sluice_asl::scope::Execution;
use sluice_asl::step::{self, Step};
use sluice_asl::{Entropy, Failure, StateMachine};
use sluice_store::{HistoryEvent, TaskTokenRecord, Work};

use crate::events::{self, Event};
use crate::snapshot::{Frame, Outcome, Snapshot, Then, Waiting, WorkPayload};

/// How an execution ended in this advance.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// With this output.
    Succeeded(Value),
    /// With this failure.
    Failed(Failure),
    /// Past its `TimeoutSeconds`.
    TimedOut(Failure),
    /// Stopped by `StopExecution`.
    Aborted(Failure),
}

/// What one advance writes.
pub struct Txn<'a> {
    machine: &'a StateMachine,
    execution: Arc<Execution>,
    now: DateTime<Utc>,
    /// The snapshot being changed.
    pub snapshot: Snapshot,
    /// Events to append.
    pub events: Vec<HistoryEvent>,
    /// Work to add.
    pub add_work: Vec<Work>,
    /// Work that is done.
    pub done_work: Vec<String>,
    /// Tokens to add.
    pub add_tokens: Vec<TaskTokenRecord>,
    /// Tokens to retire.
    pub remove_tokens: Vec<String>,
    /// Invocations to run as soon as the advance is committed.
    pub dispatch: Vec<Work>,
    /// Set when the execution ended.
    pub end: Option<End>,
    /// How many states this advance entered (state transitions), for the metrics.
    pub entered: u64,
    entropy: &'a mut (dyn Entropy + Send),
    lease_until_millis: i64,
}

enum Action {
    Enter { frame: u64, state: String, input: Value },
    Apply { frame: u64, step: Step },
    Finished { frame: u64, outcome: Outcome },
}

impl<'a> Txn<'a> {
    /// A transaction on `snapshot`, at `now`. Invocations it schedules are leased to this node
    /// until `lease_until_millis`, since it runs them itself.
    pub fn new(
        machine: &'a StateMachine,
        execution: Arc<Execution>,
        snapshot: Snapshot,
        now: DateTime<Utc>,
        entropy: &'a mut (dyn Entropy + Send),
        lease_until_millis: i64,
    ) -> Txn<'a> {
        Txn {
            machine,
            execution,
            now,
            snapshot,
            events: Vec::new(),
            add_work: Vec::new(),
            done_work: Vec::new(),
            add_tokens: Vec::new(),
            remove_tokens: Vec::new(),
            dispatch: Vec::new(),
            end: None,
            entered: 0,
            entropy,
            lease_until_millis,
        }
    }

    fn now_millis(&self) -> i64 {
        self.now.timestamp_millis()
    }

    /// Starts the execution: `ExecutionStarted`, the execution timeout, and the first state.
    pub fn start(&mut self, input: Value) {
        self.snapshot.next_event_id = 1;
        let started = events::execution_started(&input, &self.execution.role_arn);
        self.record(None, started);
        if let Some(seconds) = self.machine.timeout_seconds {
            let due = self.now_millis() + seconds as i64 * 1000;
            self.schedule(WorkPayload::ExecutionTimeout, due, false);
        }
        let root = self.new_frame(None, Vec::new());
        let start_at = self.machine.graph.start_at.clone();
        self.run(Action::Enter {
            frame: root,
            state: start_at,
            input,
        });
    }

    /// A task's result arrived. Stale results (of a task the frame no longer waits for) are
    /// ignored; the answer says whether it applied.
    pub fn task_result(&mut self, frame: u64, task_id: &str, result: Result<Value, Failure>) -> bool {
        let Some((resource, scheduled_millis)) = self.release_task(frame, task_id) else {
            return false;
        };
        let started = events::task_started(&resource);
        let started_id = self.record(Some(frame), started);
        if let Some(event) = self.events.iter_mut().find(|event| event.id == started_id) {
            event.timestamp_millis = scheduled_millis.max(event.timestamp_millis.min(scheduled_millis));
        }
        let event = match &result {
            Ok(output) => events::task_succeeded(&resource, output),
            Err(failure) => events::task_failed(&resource, &failure.error, failure.cause.as_deref()),
        };
        self.record(Some(frame), event);
        let step = self.with_state(frame, |state, input, env| match result {
            Ok(output) => step::complete(state, input, output, env),
            Err(failure) => step::failed(state, input, failure, env),
        });
        if let Some(step) = step {
            self.run(Action::Apply { frame, step });
        }
        true
    }

    /// A task ran past its timeout or missed its heartbeat.
    pub fn task_timed_out(&mut self, frame: u64, task_id: &str, heartbeat: bool) -> bool {
        let Some((resource, _)) = self.release_task(frame, task_id) else {
            return false;
        };
        let failure = if heartbeat {
            Failure::new(
                sluice_asl::failure::names::HEARTBEAT_TIMEOUT,
                "The task missed its heartbeat",
            )
        } else {
            Failure::new(
                sluice_asl::failure::names::TIMEOUT,
                "The task ran longer than its TimeoutSeconds",
            )
        };
        self.record(
            Some(frame),
            events::task_timed_out(&resource, &failure.error, failure.cause.as_deref()),
        );
        let step = self.with_state(frame, |state, input, env| step::failed(state, input, failure, env));
        if let Some(step) = step {
            self.run(Action::Apply { frame, step });
        }
        true
    }

    /// A timer fired: a Wait state ends, or a retry starts.
    pub fn timer(&mut self, frame: u64, work_id: &str) -> bool {
        let then = match self.snapshot.frames.get_mut(&frame) {
            Some(Frame {
                waiting:
                    Waiting::Timer {
                        work_id: waiting_for,
                        then,
                    },
                ..
            }) if waiting_for == work_id => {
                let then = then.clone();
                if let Some(frame) = self.snapshot.frames.get_mut(&frame) {
                    frame.waiting = Waiting::Nothing;
                }
                then
            }
            _ => return false,
        };
        self.done_work.push(work_id.to_owned());
        match then {
            Then::Transition { next, output, assigned } => {
                let step = match next {
                    Some(state) => Step::Next {
                        state,
                        output,
                        assigned,
                    },
                    None => Step::End { output, assigned },
                };
                self.run(Action::Apply { frame, step });
            }
            Then::Retry { retrier } => {
                if let Some(frame) = self.snapshot.frames.get_mut(&frame) {
                    if frame.retries.len() <= retrier {
                        frame.retries.resize(retrier + 1, 0);
                    }
                    frame.retries[retrier] += 1;
                }
                let step = self.with_state(frame, step::enter);
                if let Some(step) = step {
                    self.run(Action::Apply { frame, step });
                }
            }
        }
        true
    }

    /// The execution ran past its `TimeoutSeconds`.
    pub fn timed_out(&mut self) {
        let failure = Failure::new(
            sluice_asl::failure::names::TIMEOUT,
            "The execution ran longer than its TimeoutSeconds",
        );
        self.record(
            None,
            events::execution_timed_out(&failure.error, failure.cause.as_deref()),
        );
        self.end = Some(End::TimedOut(failure));
    }

    /// `StopExecution`.
    pub fn abort(&mut self, error: Option<String>, cause: Option<String>) {
        self.record(None, events::execution_aborted(error.as_deref(), cause.as_deref()));
        self.end = Some(End::Aborted(Failure {
            error: error.unwrap_or_default(),
            cause,
        }));
    }

    /// A heartbeat of a `.waitForTaskToken` task: its heartbeat timer starts again.
    pub fn heartbeat(&mut self, frame: u64, task_id: &str) -> bool {
        let Some(snapshot_frame) = self.snapshot.frames.get(&frame) else {
            return false;
        };
        let Waiting::Task {
            task_id: waiting_for, ..
        } = &snapshot_frame.waiting
        else {
            return false;
        };
        if waiting_for != task_id {
            return false;
        }
        let heartbeat = match self.find_state(frame, &snapshot_frame.state).map(|state| &state.kind) {
            Some(StateKind::Task(task)) => task.heartbeat_seconds.clone(),
            _ => return false,
        };
        let Some(sluice_asl::definition::Dynamic::Fixed(seconds)) = heartbeat else {
            return true;
        };
        let due = self.now_millis() + seconds as i64 * 1000;
        let new_timer = self.schedule(
            WorkPayload::HeartbeatTimeout {
                frame,
                task_id: task_id.to_owned(),
            },
            due,
            false,
        );
        let mut retired = Vec::new();
        if let Some(Frame {
            waiting: Waiting::Task { timers, .. },
            ..
        }) = self.snapshot.frames.get_mut(&frame)
        {
            // The old heartbeat timer goes; the timeout timer (if any) stays.
            retired = timers
                .iter()
                .filter(|timer| timer.starts_with("hb-"))
                .cloned()
                .collect();
            timers.retain(|timer| !timer.starts_with("hb-"));
            timers.push(new_timer);
        }
        self.done_work.extend(retired);
        true
    }

    /// Records an event, numbered after the last, following the frame's previous event.
    fn record(&mut self, frame: Option<u64>, event: Event) -> u64 {
        let id = self.snapshot.next_event_id.max(1);
        self.snapshot.next_event_id = id + 1;
        let previous = match frame.and_then(|frame| self.snapshot.frames.get(&frame)) {
            Some(frame) => frame.last_event_id,
            None => id - 1,
        };
        if let Some(frame) = frame.and_then(|frame| self.snapshot.frames.get_mut(&frame)) {
            frame.last_event_id = id;
        }
        if self.snapshot.express && frame.is_some() {
            // Express executions are not recorded step by step.
            return id;
        }
        self.events.push(HistoryEvent {
            id,
            previous_event_id: previous,
            timestamp_millis: self.now.timestamp_millis(),
            event_type: event.event_type,
            details: event.details.to_string(),
        });
        id
    }

    fn next_id(&mut self) -> u64 {
        self.snapshot.next_id += 1;
        self.snapshot.next_id
    }

    fn new_frame(&mut self, parent: Option<(u64, usize)>, graph: Vec<(String, usize)>) -> u64 {
        let id = if parent.is_none() { 0 } else { self.next_id() };
        let last_event_id = match parent.and_then(|(frame, _)| self.snapshot.frames.get(&frame)) {
            Some(frame) => frame.last_event_id,
            None => self.snapshot.next_event_id.saturating_sub(1),
        };
        let frame = Frame {
            parent,
            graph,
            variables: JsonMap::new(),
            state: String::new(),
            input: Value::Null,
            entered_millis: self.now_millis(),
            entered_event_id: 0,
            last_event_id,
            retries: Vec::new(),
            task_token: None,
            waiting: Waiting::Nothing,
        };
        self.snapshot.frames.insert(id, frame);
        id
    }

    /// Adds a work item; an invocation is leased to this node and dispatched after the commit.
    fn schedule(&mut self, payload: WorkPayload, due_millis: i64, dispatch: bool) -> String {
        let prefix = match payload {
            WorkPayload::Invoke { .. } => "invoke",
            WorkPayload::Timer { .. } => "timer",
            WorkPayload::TaskTimeout { .. } => "timeout",
            WorkPayload::HeartbeatTimeout { .. } => "hb",
            WorkPayload::ExecutionTimeout => "deadline",
        };
        let id = format!("{prefix}-{}-{}", self.next_id(), self.execution.id);
        let payload = serde_json::to_string(&payload).unwrap_or_default();
        let lease_until_millis = if dispatch { self.lease_until_millis } else { 0 };
        let work = Work {
            id: id.clone(),
            execution_arn: self.execution.id.clone(),
            due_millis,
            payload,
            attempts: 0,
            lease_until_millis,
        };
        if dispatch {
            self.dispatch.push(work.clone());
        }
        self.add_work.push(work);
        id
    }

    fn run(&mut self, first: Action) {
        let mut queue = VecDeque::from([first]);
        while let Some(action) = queue.pop_front() {
            if self.end.is_some() {
                return;
            }
            match action {
                Action::Enter { frame, state, input } => self.enter(frame, state, input, &mut queue),
                Action::Apply { frame, step } => self.apply(frame, step, &mut queue),
                Action::Finished { frame, outcome } => self.finished(frame, outcome, &mut queue),
            }
        }
    }
}

mod apply;
mod children;

pub(crate) use children::graph_of;
