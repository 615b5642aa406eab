//! The typed, immutable form of a state machine definition, produced once by [`parse`] and read by
//! the interpreter. Nothing downstream looks at the JSON again.
//!
//! The field names follow the Amazon States Language specification,
//! <https://states-language.net/spec.html>, and the Step Functions developer guide.

mod fields;
mod graph;
mod parse;
mod parse_choice;
mod parse_states;
mod states;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use sluice_jsonpath::{Path, ReferencePath};

pub use parse::parse;
pub use states::{
    Catcher, Choice, ChoiceRule, Comparison, Condition, Fail, IntegrationPattern, ItemBatcher, Jitter, Map, Operand,
    Parallel, Pass, Resource, Retrier, Succeed, Task, Tolerance, Wait, WaitFor,
};

use crate::payload::Template;

/// A whole state machine: the top-level graph, and every nested graph reachable by state name.
#[derive(Debug, Clone)]
pub struct StateMachine {
    /// The `Comment` field.
    pub comment: Option<String>,
    /// The top-level `TimeoutSeconds`: the whole execution times out after it.
    pub timeout_seconds: Option<u64>,
    /// The top-level graph: `StartAt` and `States`.
    pub graph: Arc<Graph>,
}

/// A set of states with a start: the top level, a Parallel branch, or a Map item processor.
#[derive(Debug, Clone)]
pub struct Graph {
    /// The name of the first state.
    pub start_at: String,
    /// The states in definition order.
    pub states: Vec<State>,
    index: HashMap<String, usize, BuildHasherDefault<NameHasher>>,
}

impl Graph {
    fn new(start_at: String, states: Vec<State>) -> Graph {
        let index = states
            .iter()
            .enumerate()
            .map(|(position, state)| (state.name.clone(), position))
            .collect();
        Graph {
            start_at,
            states,
            index,
        }
    }

    /// The state of that name in this graph (not in nested graphs).
    pub fn state(&self, name: &str) -> Option<&State> {
        self.index.get(name).map(|&position| &self.states[position])
    }

    /// The first state. A parsed graph always has it.
    pub fn start(&self) -> Option<&State> {
        self.state(&self.start_at)
    }
}

/// FNV-1a, for the index of state names: a transition looks its target up by name, and names are
/// short and chosen by the definition's author, so a keyed hash buys nothing but time.
#[derive(Debug, Clone, Copy)]
struct NameHasher(u64);

impl Default for NameHasher {
    fn default() -> NameHasher {
        NameHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The query language of a state: how its fields are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryLanguage {
    /// Paths, payload templates and intrinsic functions (the default).
    JsonPath,
    /// `{% … %}` JSONata expressions.
    Jsonata,
}

/// One state: what all types share, and its type's own fields.
#[derive(Debug, Clone)]
pub struct State {
    /// The state's name, unique within the whole state machine.
    pub name: String,
    /// The `Comment` field.
    pub comment: Option<String>,
    /// The query language in force for this state.
    pub query_language: QueryLanguage,
    /// How data flows through the state.
    pub io: Io,
    /// The `Assign` field: variables set when the state exits.
    pub assign: Option<Template>,
    /// Where the state goes when it completes (absent for Choice, Succeed and Fail).
    pub transition: Transition,
    /// The state type and its fields.
    pub kind: StateKind,
}

/// Where a state goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// `Next`: the named state.
    Next(String),
    /// `End: true`, or a terminal state type.
    End,
    /// Choice states transition through their rules.
    Choice,
}

/// A state type and the fields only it has.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum StateKind {
    /// Passes its input on, or a fixed `Result`.
    Pass(Pass),
    /// Runs work through a resource.
    Task(Task),
    /// Chooses the next state by rules.
    Choice(Choice),
    /// Waits for a time.
    Wait(Wait),
    /// Ends the graph successfully.
    Succeed(Succeed),
    /// Ends the graph with an error.
    Fail(Fail),
    /// Runs branches concurrently.
    Parallel(Parallel),
    /// Runs an item processor for each item.
    Map(Map),
}

impl StateKind {
    /// The `Type` value as written.
    pub fn type_name(&self) -> &'static str {
        match self {
            StateKind::Pass(_) => "Pass",
            StateKind::Task(_) => "Task",
            StateKind::Choice(_) => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Succeed(_) => "Succeed",
            StateKind::Fail(_) => "Fail",
            StateKind::Parallel(_) => "Parallel",
            StateKind::Map(_) => "Map",
        }
    }
}

/// The input and output processing fields of a state, in the query language's terms.
///
/// JSONPath: `InputPath` → `Parameters` → work → `ResultSelector` → `ResultPath` → `OutputPath`,
/// <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-input-output-filtering.html>.
/// JSONata: `Arguments` → work → `Output`.
#[derive(Debug, Clone, Default)]
pub struct Io {
    /// `InputPath`: selects the effective input.
    pub input_path: Selection,
    /// `Parameters` (or `ItemSelector` for a Map): the payload template applied to the effective input.
    pub parameters: Option<Template>,
    /// `ResultSelector`: the payload template applied to the result.
    pub result_selector: Option<Template>,
    /// `ResultPath`: where the result goes in the raw input.
    pub result_path: ResultPath,
    /// `OutputPath`: selects the output.
    pub output_path: Selection,
    /// JSONata `Arguments`.
    pub arguments: Option<Template>,
    /// JSONata `Output`.
    pub output: Option<Template>,
}

/// `InputPath` or `OutputPath`.
#[derive(Debug, Clone, Default)]
pub enum Selection {
    /// Absent: the whole value (`$`).
    #[default]
    Whole,
    /// `null`: an empty object.
    Discard,
    /// A path.
    Path(Path),
}

/// `ResultPath`.
#[derive(Debug, Clone, Default)]
pub enum ResultPath {
    /// Absent, or `$`: the result replaces the input.
    #[default]
    Replace,
    /// `null`: the result is discarded and the input passes through.
    Discard,
    /// A reference path into the input where the result is written.
    Path(ReferencePath),
}

/// A value that is written literally or read from a path at run time (`Seconds` / `SecondsPath`).
#[derive(Debug, Clone)]
pub enum Dynamic<T> {
    /// The literal value.
    Fixed(T),
    /// A reference path into the effective input.
    Path(Path),
    /// A JSONata expression, or (for `ErrorPath` and `CausePath`) a path or intrinsic function.
    Expression(Template),
}
