//! Frames that end: the execution's end for the top frame, and for a branch or an iteration, the
//! parent's bookkeeping (the next iteration, the Parallel's or Map's result, or its failure).

use std::collections::VecDeque;

use serde_json::Value;
use sluice_asl::definition::{Graph, StateKind};
use sluice_asl::step::{self, ItemOutcome};
use sluice_asl::{Failure, StateMachine};

use super::{Action, End, Txn};
use crate::events;
use crate::snapshot::{Outcome, Waiting};

/// The graph at a frame's path: the top level, then (Parallel or Map state, branch index) steps.
pub(crate) fn graph_of<'m>(machine: &'m StateMachine, path: &[(String, usize)]) -> Option<&'m Graph> {
    let mut graph: &Graph = &machine.graph;
    for (state, index) in path {
        graph = match &graph.state(state)?.kind {
            StateKind::Parallel(parallel) => parallel.branches.get(*index)?,
            StateKind::Map(map) => &map.item_processor,
            _ => return None,
        };
    }
    Some(graph)
}

impl Txn<'_> {
    /// Starts the next pending iteration of a Map frame.
    pub(super) fn start_iteration(&mut self, frame: u64, queue: &mut VecDeque<Action>) {
        let Some(parent) = self.snapshot.frames.get_mut(&frame) else {
            return;
        };
        let name = parent.state.clone();
        let mut graph = parent.graph.clone();
        let Waiting::Children { pending, .. } = &mut parent.waiting else {
            return;
        };
        let Some((index, input)) = pending.pop_front() else {
            return;
        };
        graph.push((name.clone(), 0));
        let Some(start) = graph_of(self.machine, &graph).map(|graph| graph.start_at.clone()) else {
            return;
        };
        self.record(Some(frame), events::map_iteration("Started", &name, index));
        let child = self.new_frame(Some((frame, index)), graph);
        queue.push_back(Action::Enter {
            frame: child,
            state: start,
            input,
        });
    }

    pub(super) fn finished(&mut self, frame: u64, outcome: Outcome, queue: &mut VecDeque<Action>) {
        let Some(ended) = self.snapshot.frames.remove(&frame) else {
            return;
        };
        let Some((parent, index)) = ended.parent else {
            // The top frame: the execution ends.
            match outcome {
                Outcome::Succeeded(output) => {
                    self.record(None, events::execution_succeeded(&output));
                    self.end = Some(End::Succeeded(output));
                }
                Outcome::Failed { error, cause } => {
                    self.record(None, events::execution_failed(&error, cause.as_deref()));
                    self.end = Some(End::Failed(Failure { error, cause }));
                }
            }
            return;
        };
        let Some(parent_frame) = self.snapshot.frames.get_mut(&parent) else {
            return;
        };
        let parent_state = parent_frame.state.clone();
        let tolerant = self
            .find_state(parent, &parent_state)
            .is_some_and(|state| match &state.kind {
                StateKind::Map(map) => map.tolerance.count.is_some() || map.tolerance.percentage.is_some(),
                _ => false,
            });
        let Some(parent_frame) = self.snapshot.frames.get_mut(&parent) else {
            return;
        };
        let Waiting::Children {
            map, outcomes, pending, ..
        } = &mut parent_frame.waiting
        else {
            return;
        };
        let is_map = *map;
        if let Some(slot) = outcomes.get_mut(index) {
            *slot = Some(outcome.clone());
        }
        let all_done = outcomes.iter().all(Option::is_some) && pending.is_empty();
        let has_pending = !pending.is_empty();
        if is_map {
            let kind = if matches!(outcome, Outcome::Succeeded(_)) {
                "Succeeded"
            } else {
                "Failed"
            };
            self.record(Some(parent), events::map_iteration(kind, &parent_state, index));
        }
        if let Outcome::Failed { error, cause } = outcome
            && (!is_map || !tolerant)
        {
            // A failed branch or iteration fails its Parallel or Map at once; the others stop.
            self.cancel_children(parent);
            self.record(
                Some(parent),
                events::bare(if is_map {
                    "MapStateFailed"
                } else {
                    "ParallelStateFailed"
                }),
            );
            self.set_waiting(parent, Waiting::Nothing);
            let failure = Failure { error, cause };
            if let Some(step) = self.with_state(parent, |state, input, env| step::failed(state, input, failure, env)) {
                queue.push_back(Action::Apply { frame: parent, step });
            }
            return;
        }
        if has_pending {
            self.start_iteration(parent, queue);
            return;
        }
        if !all_done {
            return;
        }
        let Some(parent_frame) = self.snapshot.frames.get_mut(&parent) else {
            return;
        };
        let Waiting::Children { outcomes, .. } = std::mem::replace(&mut parent_frame.waiting, Waiting::Nothing) else {
            return;
        };
        let outcomes: Vec<Outcome> = outcomes.into_iter().flatten().collect();
        let step = if is_map {
            let failed = outcomes.iter().any(|outcome| matches!(outcome, Outcome::Failed { .. }));
            self.record(
                Some(parent),
                events::bare(if failed { "MapStateFailed" } else { "MapStateSucceeded" }),
            );
            let items = outcomes
                .into_iter()
                .map(|outcome| match outcome {
                    Outcome::Succeeded(output) => ItemOutcome::Succeeded(output),
                    Outcome::Failed { error, cause } => ItemOutcome::Failed(Failure { error, cause }),
                })
                .collect();
            self.with_state(parent, |state, input, env| {
                step::items_finished(state, input, items, env)
            })
        } else {
            self.record(Some(parent), events::bare("ParallelStateSucceeded"));
            let outputs: Vec<Value> = outcomes
                .into_iter()
                .filter_map(|outcome| match outcome {
                    Outcome::Succeeded(output) => Some(output),
                    Outcome::Failed { .. } => None,
                })
                .collect();
            self.with_state(parent, |state, input, env| {
                step::complete(state, input, Value::Array(outputs), env)
            })
        };
        if let Some(step) = step {
            queue.push_back(Action::Apply { frame: parent, step });
        }
    }

    /// Stops every child frame of `frame`, and theirs: their work, timers and tokens retire.
    fn cancel_children(&mut self, frame: u64) {
        let children: Vec<u64> = self
            .snapshot
            .frames
            .iter()
            .filter(|(_, child)| child.parent.is_some_and(|(parent, _)| parent == frame))
            .map(|(id, _)| *id)
            .collect();
        for child in children {
            self.cancel_children(child);
            if let Some(removed) = self.snapshot.frames.remove(&child) {
                if let Some(token) = removed.task_token {
                    self.remove_tokens.push(token);
                }
                match removed.waiting {
                    Waiting::Task { work_id, timers, .. } => {
                        self.done_work.push(work_id);
                        self.done_work.extend(timers);
                    }
                    Waiting::Timer { work_id, .. } => self.done_work.push(work_id),
                    Waiting::Children { .. } | Waiting::Nothing => {}
                }
            }
        }
    }
}
