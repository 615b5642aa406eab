//! From JSON to a [`StateMachine`]: every field read once, every problem recorded with its
//! pointer, and nothing returned unless the whole definition is valid.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use sluice_jsonpath::{Path, ReferencePath};

use super::fields::{Fields, kind};
use super::graph::check_graph;
use super::{Graph, Io, QueryLanguage, ResultPath, Selection, State, StateMachine, Transition};
use crate::diagnostics::{Diagnostics, Pointer};
use crate::payload::Template;

/// The longest state name AWS accepts.
const MAX_STATE_NAME: usize = 80;

/// Parses and validates a definition: the state machine, or every problem found.
pub fn parse(definition: &Value) -> Result<StateMachine, Diagnostics> {
    let mut parser = Parser {
        diagnostics: Diagnostics::default(),
        names: HashMap::new(),
    };
    let machine = parser.machine(definition);
    match machine {
        Some(machine) if parser.diagnostics.is_empty() => Ok(machine),
        _ => Err(parser.diagnostics),
    }
}

/// The parser's state: what it found wrong, and the state names seen so far (they must be
/// unique across the whole machine, nested graphs included).
pub(super) struct Parser {
    pub diagnostics: Diagnostics,
    names: HashMap<String, Pointer>,
}

impl Parser {
    fn machine(&mut self, definition: &Value) -> Option<StateMachine> {
        let mut fields = Fields::of(definition, Pointer::root(), &mut self.diagnostics)?;
        let comment = fields.string("Comment", &mut self.diagnostics).map(str::to_owned);
        if let Some(version) = fields.string("Version", &mut self.diagnostics)
            && version != "1.0"
        {
            self.diagnostics
                .push(&fields.at("Version"), format!("must be \"1.0\", not \"{version}\""));
        }
        let timeout_seconds = fields.integer("TimeoutSeconds", 99_999_999, &mut self.diagnostics);
        let language = self
            .query_language(&mut fields, QueryLanguage::JsonPath)
            .unwrap_or(QueryLanguage::JsonPath);
        let graph = self.graph(&mut fields, language);
        fields.finish("a state machine", &mut self.diagnostics);
        Some(StateMachine {
            comment,
            timeout_seconds,
            graph: Arc::new(graph?),
        })
    }

    /// Reads `QueryLanguage`; a JSONata machine cannot hold JSONPath states.
    fn query_language(&mut self, fields: &mut Fields<'_>, inherited: QueryLanguage) -> Option<QueryLanguage> {
        let language = match fields.string("QueryLanguage", &mut self.diagnostics) {
            None => return Some(inherited),
            Some("JSONPath") => QueryLanguage::JsonPath,
            Some("JSONata") => QueryLanguage::Jsonata,
            Some(other) => {
                self.diagnostics.push(
                    &fields.at("QueryLanguage"),
                    format!("must be \"JSONPath\" or \"JSONata\", not \"{other}\""),
                );
                return None;
            }
        };
        if inherited == QueryLanguage::Jsonata && language == QueryLanguage::JsonPath {
            self.diagnostics.push(
                &fields.at("QueryLanguage"),
                "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
            );
        }
        Some(language)
    }

    /// Reads `StartAt` and `States` of the object `fields` reads: the top level, a branch or an
    /// item processor.
    pub fn graph(&mut self, fields: &mut Fields<'_>, language: QueryLanguage) -> Option<Graph> {
        let start_at = fields.required_string("StartAt", &mut self.diagnostics);
        let states_pointer = fields.at("States");
        let mut states = Vec::new();
        match fields.raw("States") {
            None => self.diagnostics.push(&states_pointer, "is required"),
            Some(Value::Object(object)) if object.is_empty() => {
                self.diagnostics.push(&states_pointer, "must have at least one state")
            }
            Some(Value::Object(object)) => {
                for (name, value) in object {
                    if let Some(state) = self.state(name, value, &states_pointer.field(name), language) {
                        states.push(state);
                    }
                }
            }
            Some(other) => self
                .diagnostics
                .push(&states_pointer, format!("must be an object, not {}", kind(other))),
        }
        let start_at = start_at?.to_owned();
        let graph = Graph::new(start_at, states);
        check_graph(&graph, fields, &mut self.diagnostics);
        Some(graph)
    }

    fn state(&mut self, name: &str, value: &Value, pointer: &Pointer, inherited: QueryLanguage) -> Option<State> {
        if name.is_empty() || name.chars().count() > MAX_STATE_NAME {
            self.diagnostics.push(
                pointer,
                format!("a state name must be 1 to {MAX_STATE_NAME} characters long"),
            );
        }
        if let Some(first) = self.names.get(name) {
            let message = format!(
                "the state name \"{name}\" is already used at {first}; names must be unique in the whole state machine"
            );
            self.diagnostics.push(pointer, message);
        } else {
            self.names.insert(name.to_owned(), pointer.clone());
        }
        let mut fields = Fields::of(value, pointer.clone(), &mut self.diagnostics)?;
        let type_name = fields.required_string("Type", &mut self.diagnostics)?;
        let comment = fields.string("Comment", &mut self.diagnostics).map(str::to_owned);
        let language = self.query_language(&mut fields, inherited)?;
        let mut io = Io::default();
        let kind = match type_name {
            "Pass" => self.pass(&mut fields, language, &mut io),
            "Task" => self.task(&mut fields, language, &mut io),
            "Choice" => self.choice(&mut fields, language, &mut io),
            "Wait" => self.wait(&mut fields, language, &mut io),
            "Succeed" => self.succeed(&mut fields, language, &mut io),
            "Fail" => self.fail(&mut fields, language),
            "Parallel" => self.parallel(&mut fields, language, &mut io),
            "Map" => self.map(&mut fields, language, &mut io),
            other => {
                let message = format!(
                    "unknown state type \"{other}\"; expected one of Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map"
                );
                self.diagnostics.push(&fields.at("Type"), message);
                return None;
            }
        };
        let transition = match type_name {
            "Choice" => Transition::Choice,
            "Succeed" | "Fail" => Transition::End,
            _ => self.transition(&mut fields),
        };
        let assign = match type_name {
            "Succeed" | "Fail" => None,
            _ => self.assign(&mut fields, language),
        };
        let what = match language {
            QueryLanguage::JsonPath => format!("a {type_name} state"),
            QueryLanguage::Jsonata => format!("a {type_name} state that uses JSONata"),
        };
        fields.finish(&what, &mut self.diagnostics);
        Some(State {
            name: name.to_owned(),
            comment,
            query_language: language,
            io,
            assign,
            transition,
            kind: kind?,
        })
    }

    /// `Next` or `End: true`, exactly one of them.
    fn transition(&mut self, fields: &mut Fields<'_>) -> Transition {
        let next = fields.string("Next", &mut self.diagnostics);
        let end = fields.boolean("End", &mut self.diagnostics);
        match (next, end) {
            (Some(next), None | Some(false)) => Transition::Next(next.to_owned()),
            (None, Some(true)) => Transition::End,
            (Some(next), Some(true)) => {
                self.diagnostics
                    .push(&fields.pointer, "a state cannot have both \"Next\" and \"End\": true");
                // Keep `Next` so that its target is not also reported as unreachable.
                Transition::Next(next.to_owned())
            }
            (None, _) => {
                self.diagnostics
                    .push(&fields.pointer, "a state must have either \"Next\" or \"End\": true");
                Transition::End
            }
        }
    }

    /// `Assign`, in the state's query language.
    pub fn assign(&mut self, fields: &mut Fields<'_>, language: QueryLanguage) -> Option<Template> {
        let pointer = fields.at("Assign");
        let value = fields.raw("Assign")?;
        if !value.is_object() {
            self.diagnostics
                .push(&pointer, format!("must be an object, not {}", kind(value)));
            return None;
        }
        if let Some(Value::Object(object)) = Some(value) {
            for name in object.keys() {
                let variable = name.strip_suffix(".$").unwrap_or(name);
                if !is_variable_name(variable) {
                    self.diagnostics.push(
                        &pointer.field(name),
                        format!("\"{variable}\" is not a valid variable name"),
                    );
                }
            }
        }
        Some(self.template(value, &pointer, language))
    }

    /// A payload template (`Parameters`, `ResultSelector`, …) or a JSONata template.
    pub fn template(&mut self, value: &Value, pointer: &Pointer, language: QueryLanguage) -> Template {
        match language {
            QueryLanguage::JsonPath => Template::parse(value, pointer, &mut self.diagnostics),
            QueryLanguage::Jsonata => Template::parse_jsonata(value, pointer, &mut self.diagnostics),
        }
    }

    /// The JSONPath data-flow fields a state type allows: `InputPath` and `OutputPath` always,
    /// then the ones named.
    pub fn io(&mut self, fields: &mut Fields<'_>, language: QueryLanguage, io: &mut Io, allowed: IoFields) {
        if language == QueryLanguage::Jsonata {
            if allowed.arguments {
                io.arguments = fields.raw("Arguments").map(|value| {
                    let pointer = fields.at("Arguments");
                    self.template(value, &pointer, language)
                });
            }
            if allowed.output {
                io.output = fields.raw("Output").map(|value| {
                    let pointer = fields.at("Output");
                    self.template(value, &pointer, language)
                });
            }
            return;
        }
        io.input_path = self.selection(fields, "InputPath");
        io.output_path = self.selection(fields, "OutputPath");
        if allowed.parameters {
            io.parameters = self.payload(fields, "Parameters");
        }
        if allowed.result_selector {
            io.result_selector = self.payload(fields, "ResultSelector");
        }
        if allowed.result_path {
            io.result_path = self.result_path(fields, "ResultPath");
        }
    }

    fn payload(&mut self, fields: &mut Fields<'_>, name: &'static str) -> Option<Template> {
        let pointer = fields.at(name);
        let value = fields.raw(name)?;
        Some(Template::parse(value, &pointer, &mut self.diagnostics))
    }

    /// `InputPath` or `OutputPath`.
    fn selection(&mut self, fields: &mut Fields<'_>, name: &'static str) -> Selection {
        match fields.raw(name) {
            None => Selection::Whole,
            Some(Value::Null) => Selection::Discard,
            Some(Value::String(text)) => match self.path(text, &fields.at(name)) {
                Some(path) => Selection::Path(path),
                None => Selection::Whole,
            },
            Some(other) => {
                self.diagnostics
                    .push(&fields.at(name), format!("must be a path or null, not {}", kind(other)));
                Selection::Whole
            }
        }
    }

    /// `ResultPath`, of a state or a catcher.
    pub fn result_path(&mut self, fields: &mut Fields<'_>, name: &'static str) -> ResultPath {
        match fields.raw(name) {
            None => ResultPath::Replace,
            Some(Value::Null) => ResultPath::Discard,
            Some(Value::String(text)) => match ReferencePath::parse(text) {
                Ok(path) if path.as_str() == "$" => ResultPath::Replace,
                Ok(path) => ResultPath::Path(path),
                Err(error) => {
                    self.diagnostics
                        .push(&fields.at(name), format!("invalid reference path \"{text}\": {error}"));
                    ResultPath::Replace
                }
            },
            Some(other) => {
                self.diagnostics.push(
                    &fields.at(name),
                    format!("must be a reference path or null, not {}", kind(other)),
                );
                ResultPath::Replace
            }
        }
    }

    /// A path, or a diagnostic.
    pub fn path(&mut self, text: &str, pointer: &Pointer) -> Option<Path> {
        match Path::parse(text) {
            Ok(path) => Some(path),
            Err(error) => {
                self.diagnostics
                    .push(pointer, format!("invalid path \"{text}\": {error}"));
                None
            }
        }
    }

    /// A reference path (no filters or wildcards), or a diagnostic.
    pub fn reference_path(&mut self, text: &str, pointer: &Pointer) -> Option<Path> {
        let path = self.path(text, pointer)?;
        if path.is_reference() {
            Some(path)
        } else {
            self.diagnostics.push(
                pointer,
                format!("\"{text}\" must be a reference path: only names and indices, no filters, wildcards or slices"),
            );
            None
        }
    }
}

/// Which JSONPath data-flow fields a state type has, besides `InputPath` and `OutputPath`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct IoFields {
    pub parameters: bool,
    pub result_selector: bool,
    pub result_path: bool,
    pub arguments: bool,
    pub output: bool,
}

/// Whether `name` can name a variable: a letter or underscore, then letters, digits, underscores.
fn is_variable_name(name: &str) -> bool {
    let mut characters = name.chars();
    matches!(characters.next(), Some(first) if first.is_alphabetic() || first == '_')
        && characters.all(|character| character.is_alphanumeric() || character == '_')
        && name != "states"
}
