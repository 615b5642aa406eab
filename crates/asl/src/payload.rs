//! Payload templates: `Parameters`, `ResultSelector`, `ItemSelector` and `Assign` in JSONPath
//! mode, where a key ending in `.$` takes its value from a path or an intrinsic function,
//! <https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html>.

use std::sync::Arc;

use serde_json::{Map, Value};
use sluice_jsonpath::Path;

use crate::diagnostics::{Diagnostics, Pointer};
use crate::intrinsic::{self, Call};
use crate::scope::Scope;
use crate::{Entropy, Failure};

/// A parsed payload template.
#[derive(Debug, Clone)]
pub enum Template {
    /// A value with no `.$` key anywhere inside: copied as written.
    Literal(Arc<Value>),
    /// An object with at least one `.$` key somewhere inside.
    Object(Vec<(String, Template)>),
    /// An array with a dynamic element.
    Array(Vec<Template>),
    /// The value of a `key.$` field that is a path; `field` is the key as written.
    Path {
        /// The path.
        path: Path,
        /// The key as written, with its `.$`.
        field: String,
    },
    /// The value of a `key.$` field that is an intrinsic function call.
    Call(Box<Call>),
    /// A JSONata-mode value holding `{% … %}` expressions; `field` names it in errors.
    Jsonata {
        /// The parsed template.
        template: Arc<sluice_jsonata::Template>,
        /// The field the template is the value of, such as `Output`.
        field: String,
    },
}

impl Template {
    /// Parses a template, recording every bad `.$` field.
    pub fn parse(value: &Value, pointer: &Pointer, diagnostics: &mut Diagnostics) -> Template {
        if !has_dynamic_key(value) {
            return Template::Literal(Arc::new(value.clone()));
        }
        match value {
            Value::Object(object) => {
                let mut fields = Vec::with_capacity(object.len());
                for (key, member) in object {
                    let at = pointer.field(key);
                    match key.strip_suffix(".$") {
                        Some(name) => {
                            let template = Template::dynamic(key, member, &at, diagnostics);
                            fields.push((name.to_owned(), template));
                        }
                        None => fields.push((key.clone(), Template::parse(member, &at, diagnostics))),
                    }
                }
                Template::Object(fields)
            }
            Value::Array(elements) => Template::Array(
                elements
                    .iter()
                    .enumerate()
                    .map(|(position, element)| Template::parse(element, &pointer.index(position), diagnostics))
                    .collect(),
            ),
            other => Template::Literal(Arc::new(other.clone())),
        }
    }

    /// Builds the value, reading paths and calling intrinsic functions in `scope`.
    pub fn evaluate(&self, scope: &Scope<'_>, entropy: &mut dyn Entropy) -> Result<Value, Failure> {
        match self {
            Template::Literal(value) => Ok(Value::clone(value)),
            Template::Object(fields) => {
                let mut object = Map::with_capacity(fields.len());
                for (name, template) in fields {
                    object.insert(name.clone(), template.evaluate(scope, entropy)?);
                }
                Ok(Value::Object(object))
            }
            Template::Array(elements) => elements
                .iter()
                .map(|element| element.evaluate(scope, entropy))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            Template::Path { path, field } => scope.select_for_field(path, field),
            Template::Call(call) => call.evaluate(&mut &*scope, entropy),
            Template::Jsonata { template, field } => crate::jsonata::evaluate(template, field, scope, entropy),
        }
    }
}

impl Template {
    /// Parses the value of a `key.$` field: a path or an intrinsic function call.
    pub fn dynamic(key: &str, value: &Value, pointer: &Pointer, diagnostics: &mut Diagnostics) -> Template {
        let Value::String(text) = value else {
            diagnostics.push(
                pointer,
                format!("the value of \"{key}\" must be a string holding a path or an intrinsic function"),
            );
            return Template::Literal(Arc::new(Value::Null));
        };
        if intrinsic::looks_like_call(text) {
            match Call::parse(text) {
                Ok(call) => return Template::Call(Box::new(call)),
                Err(error) => {
                    diagnostics.push(pointer, format!("invalid intrinsic function \"{text}\": {error}"));
                    return Template::Literal(Arc::new(Value::Null));
                }
            }
        }
        match Path::parse(text) {
            Ok(path) => Template::Path {
                path,
                field: key.to_owned(),
            },
            Err(error) => {
                diagnostics.push(pointer, format!("invalid path \"{text}\": {error}"));
                Template::Literal(Arc::new(Value::Null))
            }
        }
    }
}

/// Whether a value has a `.$` key anywhere inside.
fn has_dynamic_key(value: &Value) -> bool {
    match value {
        Value::Object(object) => object
            .iter()
            .any(|(key, member)| key.ends_with(".$") || has_dynamic_key(member)),
        Value::Array(elements) => elements.iter().any(has_dynamic_key),
        _ => false,
    }
}
