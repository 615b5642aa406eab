//! What a path can read while a state runs: the value `$` names, the context object `$$`, the
//! variables `$name`, and the entropy intrinsic functions draw from.

use std::cell::OnceCell;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use sluice_jsonpath::{Path, Root, Step};

use crate::Failure;

/// The parts of the context object that stay the same for a whole execution,
/// <https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html>.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    /// `$$.Execution.Id`: the execution ARN.
    pub id: String,
    /// `$$.Execution.Name`.
    pub name: String,
    /// `$$.Execution.Input`.
    pub input: Value,
    /// `$$.Execution.StartTime`.
    pub start_time: DateTime<Utc>,
    /// `$$.Execution.RoleArn`.
    pub role_arn: String,
    /// `$$.StateMachine.Id`: the state machine ARN.
    pub state_machine_id: String,
    /// `$$.StateMachine.Name`.
    pub state_machine_name: String,
}

/// The context object as one state sees it.
#[derive(Debug, Clone)]
pub struct Context {
    /// The execution-wide part.
    pub execution: Arc<Execution>,
    /// `$$.State.Name`.
    pub state_name: String,
    /// `$$.State.EnteredTime`.
    pub entered_time: DateTime<Utc>,
    /// `$$.State.RetryCount`.
    pub retry_count: u64,
    /// `$$.Task.Token`, for `.waitForTaskToken` tasks.
    pub task_token: Option<String>,
    /// `$$.Map.Item.Index` and `$$.Map.Item.Value`, inside a Map's `ItemSelector`.
    pub map_item: Option<(usize, Value)>,
    /// The id of the history event that entered the state, for AWS-style causes.
    pub entered_event_id: Option<u64>,
}

impl Context {
    /// The context object as JSON.
    pub fn to_value(&self) -> Value {
        let execution = &self.execution;
        let mut context = json!({
            "Execution": {
                "Id": execution.id,
                "Input": execution.input,
                "Name": execution.name,
                "RoleArn": execution.role_arn,
                "StartTime": timestamp(execution.start_time),
            },
            "State": {
                "EnteredTime": timestamp(self.entered_time),
                "Name": self.state_name,
                "RetryCount": self.retry_count,
            },
            "StateMachine": {
                "Id": execution.state_machine_id,
                "Name": execution.state_machine_name,
            },
        });
        if let Some(token) = &self.task_token {
            context["Task"] = json!({ "Token": token });
        }
        if let Some((index, value)) = &self.map_item {
            context["Map"] = json!({ "Item": { "Index": index, "Value": value } });
        }
        context
    }

    /// The value a reference path into the context object names, read from the fields without
    /// building the whole object (whose `Execution.Input` may be large): `Some(None)` when the
    /// object has no such member, and `None` for a path this does not handle, which the caller
    /// answers from [`Context::to_value`].
    fn member(&self, steps: &[Step]) -> Option<Option<Value>> {
        let name = |position: usize| match steps.get(position) {
            Some(Step::Name(name)) => Some(name.as_str()),
            _ => None,
        };
        let execution = &self.execution;
        let text = |text: &str| Some(Some(Value::String(text.to_owned())));
        match (name(0)?, name(1)?) {
            ("Execution", "Input") => Some(walk(&steps[2..], &execution.input).cloned()),
            ("Map", "Item") => match (name(2)?, &self.map_item) {
                (_, None) => Some(None),
                ("Value", Some((_, value))) => Some(walk(&steps[3..], value).cloned()),
                ("Index", Some((index, _))) if steps.len() == 3 => Some(Some(Value::from(*index))),
                _ => None,
            },
            _ if steps.len() > 2 => None,
            ("Execution", "Id") => text(&execution.id),
            ("Execution", "Name") => text(&execution.name),
            ("Execution", "RoleArn") => text(&execution.role_arn),
            ("Execution", "StartTime") => text(&timestamp(execution.start_time)),
            ("State", "EnteredTime") => text(&timestamp(self.entered_time)),
            ("State", "Name") => text(&self.state_name),
            ("State", "RetryCount") => Some(Some(Value::from(self.retry_count))),
            ("StateMachine", "Id") => text(&execution.state_machine_id),
            ("StateMachine", "Name") => text(&execution.state_machine_name),
            ("Task", "Token") => Some(self.task_token.as_deref().map(|token| Value::String(token.to_owned()))),
            _ => None,
        }
    }

    /// "An error occurred while executing the state 'X' (entered at the event id #N). ", the
    /// prefix AWS gives runtime causes.
    pub fn cause_prefix(&self) -> String {
        match self.entered_event_id {
            Some(id) => format!(
                "An error occurred while executing the state '{}' (entered at the event id #{id}). ",
                self.state_name
            ),
            None => format!("An error occurred while executing the state '{}'. ", self.state_name),
        }
    }
}

/// The value reference-path steps name inside `document`.
fn walk<'v>(steps: &[Step], mut document: &'v Value) -> Option<&'v Value> {
    for step in steps {
        document = match (step, document) {
            (Step::Name(name), Value::Object(members)) => members.get(name)?,
            (Step::Index(index), Value::Array(elements)) => {
                let position = if *index >= 0 {
                    usize::try_from(*index).ok()?
                } else {
                    elements
                        .len()
                        .checked_sub(usize::try_from(index.unsigned_abs()).ok()?)?
                };
                elements.get(position)?
            }
            _ => return None,
        };
    }
    Some(document)
}

/// A timestamp as Step Functions writes them: RFC 3339, UTC, milliseconds, `Z`.
pub fn timestamp(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The variables visible to a state: its own scope and the scopes around it (a Map iteration or
/// a Parallel branch reads the variables of the graph that runs it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Variables {
    outer: Option<Arc<Variables>>,
    values: Map<String, Value>,
}

impl Variables {
    /// A new scope inside `outer`: it reads `outer`'s variables, and its assignments stay inside.
    pub fn inside(outer: Arc<Variables>) -> Variables {
        Variables {
            outer: Some(outer),
            values: Map::new(),
        }
    }

    /// The value of a variable, from the innermost scope that has it.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self.values.get(name) {
            Some(value) => Some(value),
            None => self.outer.as_ref().and_then(|outer| outer.get(name)),
        }
    }

    /// Sets variables in this scope.
    pub fn assign(&mut self, assignments: Map<String, Value>) {
        for (name, value) in assignments {
            self.values.insert(name, value);
        }
    }

    /// The variables of this scope only.
    pub fn own(&self) -> &Map<String, Value> {
        &self.values
    }
}

/// Everything a path, a payload template or an intrinsic function can read.
pub struct Scope<'a> {
    /// What `$` names: the effective input, a result, or an error output.
    pub input: &'a Value,
    /// The context object.
    pub context: &'a Context,
    /// The variables.
    pub variables: &'a Variables,
    /// The raw state input, when `$` names something else (JSONata's `$states.input`).
    pub raw_input: Option<&'a Value>,
    /// The result of the state's work (JSONata's `$states.result`).
    pub result: Option<&'a Value>,
    /// The error output inside a catcher (JSONata's `$states.errorOutput`).
    pub error_output: Option<&'a Value>,
    context_value: OnceCell<Value>,
}

impl std::fmt::Debug for Scope<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Scope")
            .field("input", self.input)
            .finish_non_exhaustive()
    }
}

impl<'a> Scope<'a> {
    /// A scope where `$` is `input`.
    pub fn new(input: &'a Value, context: &'a Context, variables: &'a Variables) -> Scope<'a> {
        Scope {
            input,
            context,
            variables,
            raw_input: None,
            result: None,
            error_output: None,
            context_value: OnceCell::new(),
        }
    }

    /// The raw input of the state: `$states.input` in JSONata.
    pub fn state_input(&self) -> &Value {
        self.raw_input.unwrap_or(self.input)
    }

    /// The value a path selects, or `None` when a reference path finds nothing (or names an
    /// unset variable).
    pub fn select(&self, path: &Path) -> Option<Value> {
        let document = match path.root() {
            Root::Input => self.input,
            Root::Context => {
                if let Some(found) = path.steps().and_then(|steps| self.context.member(steps)) {
                    return found;
                }
                self.context_value.get_or_init(|| self.context.to_value())
            }
            Root::Variable(name) => self.variables.get(name)?,
        };
        path.select(document).ok()
    }

    /// The value of a `.$` field of a payload template; a path that finds nothing is the
    /// `States.Runtime` failure AWS raises.
    pub fn select_for_field(&self, path: &Path, field: &str) -> Result<Value, Failure> {
        match self.select(path) {
            Some(value) => Ok(value),
            None => Err(Failure::runtime(format!(
                "{}The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{}'",
                self.context.cause_prefix(),
                self.input
            ))),
        }
    }
}

impl crate::intrinsic::Resolve for &Scope<'_> {
    fn resolve(&mut self, path: &Path) -> Result<Value, Failure> {
        match self.select(path) {
            Some(value) => Ok(value),
            None => Err(Failure::runtime(format!(
                "{}The JSONPath '{path}' could not be found in the input '{}'",
                self.context.cause_prefix(),
                self.input
            ))),
        }
    }
}
