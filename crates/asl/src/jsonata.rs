//! The JSONata query language inside ASL: `{% … %}` strings in `Arguments`, `Output`, `Assign`,
//! `Condition` and other fields of states whose `QueryLanguage` is `JSONata`,
//! <https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html>.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::diagnostics::{Diagnostics, Pointer};
use crate::failure::names;
use crate::payload::Template;
use crate::scope::Scope;
use crate::{Entropy, Failure};

pub use sluice_jsonata::is_expression;

impl Template {
    /// Parses a JSONata-mode template, recording every bad expression with its pointer.
    pub fn parse_jsonata(value: &Value, pointer: &Pointer, diagnostics: &mut Diagnostics) -> Template {
        match sluice_jsonata::Template::parse(value) {
            Ok(template) if template.is_literal() => Template::Literal(Arc::new(value.clone())),
            Ok(template) => Template::Jsonata {
                template: Arc::new(template),
                field: pointer.last(),
            },
            Err(errors) => {
                for error in errors {
                    let at = format!("{pointer}{}", error.pointer);
                    diagnostics.0.push(crate::Diagnostic {
                        pointer: at,
                        message: error.message,
                    });
                }
                Template::Literal(Arc::new(Value::Null))
            }
        }
    }
}

/// Evaluates a JSONata template in `scope`: `$states` holds the state input, the result or error
/// output when there is one, and the context object.
pub(crate) fn evaluate(
    template: &sluice_jsonata::Template,
    field: &str,
    scope: &Scope<'_>,
    entropy: &mut dyn Entropy,
) -> Result<Value, Failure> {
    let mut states = Map::with_capacity(4);
    states.insert("input".into(), scope.state_input().clone());
    if let Some(result) = scope.result {
        states.insert("result".into(), result.clone());
    }
    if let Some(error_output) = scope.error_output {
        states.insert("errorOutput".into(), error_output.clone());
    }
    states.insert("context".into(), scope.context.to_value());
    let states = Value::Object(states);
    let variables = |name: &str| scope.variables.get(name).cloned();
    let bindings = sluice_jsonata::Bindings {
        states: &states,
        variables: &variables,
        now_millis: scope.context.entered_time.timestamp_millis(),
        random_seed: entropy.random_u64(),
    };
    template.evaluate(&bindings).map_err(|error| {
        let error = error.in_field(field);
        Failure::new(names::QUERY_EVALUATION_ERROR, error.to_string())
    })
}
