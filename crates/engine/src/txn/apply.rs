//! Entering states and applying the steps the language answers.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::Duration;
use serde_json::Value;
use sluice_asl::definition::{IntegrationPattern, State, StateKind};
use sluice_asl::scope::{Context, Variables};
use sluice_asl::step::{self, Env, Step};

use super::{Action, Txn, graph_of};
use crate::events;
use crate::snapshot::{Outcome, Then, Waiting, WorkPayload};

/// Map iterations run at most this many at once, as AWS's inline Map does.
const INLINE_MAP_CONCURRENCY: usize = 40;

impl<'a> Txn<'a> {
    /// The state a frame is in, found in the frame's graph.
    pub(super) fn find_state(&self, frame: u64, name: &str) -> Option<&'a State> {
        let path = &self.snapshot.frames.get(&frame)?.graph;
        graph_of(self.machine, path)?.state(name)
    }

    /// The variables a frame sees: its own over its ancestors'.
    fn variables(&self, frame: u64) -> Variables {
        let mut chain = Vec::new();
        let mut current = self.snapshot.frames.get(&frame);
        while let Some(frame) = current {
            chain.push(&frame.variables);
            current = frame.parent.and_then(|(parent, _)| self.snapshot.frames.get(&parent));
        }
        let mut variables = Variables::default();
        for (depth, values) in chain.into_iter().rev().enumerate() {
            if depth > 0 {
                variables = Variables::inside(Arc::new(variables));
            }
            variables.assign(values.clone());
        }
        variables
    }

    /// Calls the language with the frame's state, raw input and environment.
    pub(super) fn with_state<T>(
        &mut self,
        frame: u64,
        call: impl FnOnce(&State, &Value, &mut Env<'_>) -> T,
    ) -> Option<T> {
        let snapshot_frame = self.snapshot.frames.get(&frame)?;
        let state = graph_of(self.machine, &snapshot_frame.graph)?.state(&snapshot_frame.state)?;
        let input = snapshot_frame.input.clone();
        let retries = snapshot_frame.retries.clone();
        let context = Context {
            execution: self.execution.clone(),
            state_name: state.name.clone(),
            entered_time: chrono::DateTime::from_timestamp_millis(snapshot_frame.entered_millis).unwrap_or(self.now),
            retry_count: retries.iter().sum(),
            task_token: snapshot_frame.task_token.clone(),
            map_item: None,
            entered_event_id: Some(snapshot_frame.entered_event_id),
        };
        let variables = self.variables(frame);
        let mut env = Env {
            context: &context,
            variables: &variables,
            retries: &retries,
            entropy: &mut *self.entropy,
        };
        Some(call(state, &input, &mut env))
    }

    pub(super) fn enter(&mut self, frame: u64, name: String, input: Value, queue: &mut VecDeque<Action>) {
        let Some(state) = self.find_state(frame, &name) else {
            let failure = sluice_asl::Failure::runtime(format!("no state named \"{name}\""));
            queue.push_back(Action::Finished {
                frame,
                outcome: Outcome::from(failure),
            });
            return;
        };
        let type_name = state.kind.type_name();
        let wants_token = matches!(&state.kind, StateKind::Task(task) if task.resource.pattern == IntegrationPattern::WaitForTaskToken);
        let token = wants_token.then(|| self.entropy.uuid());
        let now = self.now_millis();
        if let Some(snapshot_frame) = self.snapshot.frames.get_mut(&frame) {
            snapshot_frame.state = name.clone();
            snapshot_frame.input = input.clone();
            snapshot_frame.entered_millis = now;
            snapshot_frame.retries.clear();
            snapshot_frame.task_token = token;
            snapshot_frame.waiting = Waiting::Nothing;
        }
        let entered = self.record(Some(frame), events::state_entered(type_name, &name, &input));
        self.entered += 1;
        if let Some(snapshot_frame) = self.snapshot.frames.get_mut(&frame) {
            snapshot_frame.entered_event_id = entered;
        }
        if let Some(step) = self.with_state(frame, step::enter) {
            queue.push_back(Action::Apply { frame, step });
        }
    }

    pub(super) fn apply(&mut self, frame: u64, step: Step, queue: &mut VecDeque<Action>) {
        let Some(snapshot_frame) = self.snapshot.frames.get(&frame) else {
            return;
        };
        let name = snapshot_frame.state.clone();
        let Some(state) = self.find_state(frame, &name) else {
            return;
        };
        let type_name = state.kind.type_name();
        match step {
            Step::Next {
                state: next,
                output,
                assigned,
            } => {
                self.record(
                    Some(frame),
                    events::state_exited(type_name, &name, &output, assigned.as_ref()),
                );
                self.assign(frame, assigned);
                queue.push_back(Action::Enter {
                    frame,
                    state: next,
                    input: output,
                });
            }
            Step::End { output, assigned } => {
                self.record(
                    Some(frame),
                    events::state_exited(type_name, &name, &output, assigned.as_ref()),
                );
                self.assign(frame, assigned);
                queue.push_back(Action::Finished {
                    frame,
                    outcome: Outcome::Succeeded(output),
                });
            }
            Step::Fail(failure) => queue.push_back(Action::Finished {
                frame,
                outcome: Outcome::from(failure),
            }),
            Step::Wait { until, then } => {
                if until <= self.now {
                    queue.push_back(Action::Apply { frame, step: *then });
                    return;
                }
                let then = match *then {
                    Step::Next {
                        state,
                        output,
                        assigned,
                    } => Then::Transition {
                        next: Some(state),
                        output,
                        assigned,
                    },
                    Step::End { output, assigned } => Then::Transition {
                        next: None,
                        output,
                        assigned,
                    },
                    other => {
                        queue.push_back(Action::Apply { frame, step: other });
                        return;
                    }
                };
                let work_id = self.schedule(WorkPayload::Timer { frame }, until.timestamp_millis(), false);
                self.set_waiting(frame, Waiting::Timer { work_id, then });
            }
            Step::Retry {
                delay_millis, retrier, ..
            } => {
                let due = self.now + Duration::milliseconds(delay_millis as i64);
                let work_id = self.schedule(WorkPayload::Timer { frame }, due.timestamp_millis(), false);
                self.set_waiting(
                    frame,
                    Waiting::Timer {
                        work_id,
                        then: Then::Retry { retrier },
                    },
                );
            }
            Step::RunTask(request) => {
                let task_id = format!("task-{}", self.next_id());
                let token = self
                    .snapshot
                    .frames
                    .get(&frame)
                    .and_then(|frame| frame.task_token.clone());
                let scheduled = events::task_scheduled(
                    &request.resource,
                    &request.parameters,
                    request.timeout_seconds,
                    request.heartbeat_seconds,
                );
                self.record(Some(frame), scheduled);
                let mut timers = Vec::new();
                if let Some(seconds) = request.timeout_seconds {
                    let payload = WorkPayload::TaskTimeout {
                        frame,
                        task_id: task_id.clone(),
                    };
                    timers.push(self.schedule(payload, self.now_millis() + seconds as i64 * 1000, false));
                }
                if let Some(seconds) = request.heartbeat_seconds {
                    let payload = WorkPayload::HeartbeatTimeout {
                        frame,
                        task_id: task_id.clone(),
                    };
                    timers.push(self.schedule(payload, self.now_millis() + seconds as i64 * 1000, false));
                }
                if let Some(token) = &token {
                    self.add_tokens.push(sluice_store::TaskTokenRecord {
                        token: token.clone(),
                        execution_arn: self.execution.id.clone(),
                        task_id: format!("{frame}/{task_id}"),
                    });
                }
                let payload = WorkPayload::Invoke {
                    frame,
                    task_id: task_id.clone(),
                    resource: request.resource.clone(),
                    parameters: request.parameters,
                    token,
                };
                let work_id = self.schedule(payload, self.now_millis(), true);
                let scheduled_millis = self.now_millis();
                self.set_waiting(
                    frame,
                    Waiting::Task {
                        task_id,
                        work_id,
                        resource: request.resource,
                        timers,
                        scheduled_millis,
                    },
                );
            }
            Step::RunBranches { input, count } => {
                self.record(Some(frame), events::bare("ParallelStateStarted"));
                let waiting = Waiting::Children {
                    map: false,
                    outcomes: vec![None; count],
                    pending: VecDeque::new(),
                    max_concurrency: 0,
                };
                self.set_waiting(frame, waiting);
                let StateKind::Parallel(parallel) = &state.kind else {
                    return;
                };
                let starts: Vec<String> = parallel.branches.iter().map(|branch| branch.start_at.clone()).collect();
                let path = self
                    .snapshot
                    .frames
                    .get(&frame)
                    .map(|frame| frame.graph.clone())
                    .unwrap_or_default();
                for (index, start) in starts.into_iter().enumerate() {
                    let mut graph = path.clone();
                    graph.push((name.clone(), index));
                    let child = self.new_frame(Some((frame, index)), graph);
                    queue.push_back(Action::Enter {
                        frame: child,
                        state: start,
                        input: input.clone(),
                    });
                }
            }
            Step::RunItems(request) => {
                let count = request.inputs.len();
                self.record(Some(frame), events::map_state_started(count));
                if count == 0 {
                    self.record(Some(frame), events::bare("MapStateSucceeded"));
                    if let Some(step) = self.with_state(frame, |state, input, env| {
                        step::items_finished(state, input, vec![], env)
                    }) {
                        queue.push_back(Action::Apply { frame, step });
                    }
                    return;
                }
                let limit = match request.max_concurrency as usize {
                    0 => INLINE_MAP_CONCURRENCY,
                    limit => limit.min(INLINE_MAP_CONCURRENCY),
                };
                let pending = request.inputs.into_iter().enumerate().collect();
                let waiting = Waiting::Children {
                    map: true,
                    outcomes: vec![None; count],
                    pending,
                    max_concurrency: limit,
                };
                self.set_waiting(frame, waiting);
                for _ in 0..limit.min(count) {
                    self.start_iteration(frame, queue);
                }
            }
        }
    }

    fn assign(&mut self, frame: u64, assigned: Option<serde_json::Map<String, Value>>) {
        if let (Some(assigned), Some(frame)) = (assigned, self.snapshot.frames.get_mut(&frame)) {
            frame.variables.extend(assigned);
        }
    }

    pub(super) fn set_waiting(&mut self, frame: u64, waiting: Waiting) {
        if let Some(frame) = self.snapshot.frames.get_mut(&frame) {
            frame.waiting = waiting;
        }
    }

    /// Stops waiting for a task: retires its work, timers and token. Answers the resource and
    /// when it was scheduled, or nothing when the frame does not wait for that task.
    pub(super) fn release_task(&mut self, frame: u64, task_id: &str) -> Option<(String, i64)> {
        let snapshot_frame = self.snapshot.frames.get_mut(&frame)?;
        let Waiting::Task {
            task_id: waiting_for,
            work_id,
            resource,
            timers,
            scheduled_millis,
        } = &snapshot_frame.waiting
        else {
            return None;
        };
        if waiting_for != task_id {
            return None;
        }
        let released = (resource.clone(), *scheduled_millis);
        let mut done = vec![work_id.clone()];
        done.extend(timers.iter().cloned());
        snapshot_frame.waiting = Waiting::Nothing;
        if let Some(token) = snapshot_frame.task_token.take() {
            self.remove_tokens.push(token);
        }
        self.done_work.extend(done);
        Some(released)
    }
}

impl From<sluice_asl::Failure> for Outcome {
    fn from(failure: sluice_asl::Failure) -> Outcome {
        Outcome::Failed {
            error: failure.error,
            cause: failure.cause,
        }
    }
}
