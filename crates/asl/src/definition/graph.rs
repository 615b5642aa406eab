//! Checks of a graph as a whole: every transition names a state of the same graph, every state
//! is reachable from `StartAt`, and the graph can end.

use std::collections::VecDeque;

use super::fields::Fields;
use super::{Graph, StateKind, Transition};
use crate::diagnostics::{Diagnostics, Pointer};

/// Records every transition to a missing state, every unreachable state, and a graph with no
/// terminal state. `fields` reads the object that holds `StartAt` and `States`.
pub(super) fn check_graph(graph: &Graph, fields: &Fields<'_>, diagnostics: &mut Diagnostics) {
    let states_pointer = fields.at("States");
    if graph.states.is_empty() {
        return;
    }
    let start_exists = graph.state(&graph.start_at).is_some();
    if !start_exists {
        diagnostics.push(&fields.at("StartAt"), format!("no state named \"{}\"", graph.start_at));
    }
    for state in &graph.states {
        let state_pointer = states_pointer.field(&state.name);
        for (pointer, target) in transitions(&state.kind, &state.transition, &state_pointer) {
            if graph.state(target).is_none() {
                diagnostics.push(&pointer, format!("no state named \"{target}\""));
            }
        }
    }
    let mut reached = vec![false; graph.states.len()];
    let mut queue = VecDeque::from([graph.start_at.as_str()]);
    while let Some(name) = queue.pop_front() {
        let Some(position) = graph.states.iter().position(|state| state.name == name) else {
            continue;
        };
        if std::mem::replace(&mut reached[position], true) {
            continue;
        }
        let state = &graph.states[position];
        let pointer = states_pointer.field(&state.name);
        queue.extend(
            transitions(&state.kind, &state.transition, &pointer)
                .into_iter()
                .map(|(_, target)| target),
        );
    }
    // With no start state every state would be unreachable: report the `StartAt` alone.
    for (state, reached) in graph.states.iter().zip(reached) {
        if !reached && start_exists {
            let message = format!("state \"{}\" is not reachable from \"StartAt\"", state.name);
            diagnostics.push(&states_pointer.field(&state.name), message);
        }
    }
    let has_terminal = graph.states.iter().any(|state| match state.kind {
        StateKind::Succeed(_) | StateKind::Fail(_) => true,
        _ => state.transition == Transition::End,
    });
    if !has_terminal {
        diagnostics.push(
            &states_pointer,
            "no terminal state: at least one state must be a Succeed or Fail state or have \"End\": true",
        );
    }
}

/// Every state name a state can go to, with the pointer of the field that names it.
fn transitions<'a>(kind: &'a StateKind, transition: &'a Transition, pointer: &Pointer) -> Vec<(Pointer, &'a str)> {
    let mut targets = Vec::new();
    if let Transition::Next(next) = transition {
        targets.push((pointer.field("Next"), next.as_str()));
    }
    let catchers = match kind {
        StateKind::Task(task) => task.catch.as_slice(),
        StateKind::Parallel(parallel) => parallel.catch.as_slice(),
        StateKind::Map(map) => map.catch.as_slice(),
        StateKind::Choice(choice) => {
            for (position, rule) in choice.choices.iter().enumerate() {
                targets.push((
                    pointer.field("Choices").index(position).field("Next"),
                    rule.next.as_str(),
                ));
            }
            if let Some(default) = &choice.default {
                targets.push((pointer.field("Default"), default.as_str()));
            }
            &[]
        }
        _ => &[],
    };
    for (position, catcher) in catchers.iter().enumerate() {
        targets.push((
            pointer.field("Catch").index(position).field("Next"),
            catcher.next.as_str(),
        ));
    }
    targets
}
