//! Reading the fields of one JSON object of a definition: typed getters that record a diagnostic
//! for a wrong type, and a final check that reports every field the object may not have.

use serde_json::{Map, Value};

use crate::diagnostics::{Diagnostics, Pointer};

/// The fields of one object, with the pointer of the object and the fields already read.
pub(super) struct Fields<'a> {
    pub object: &'a Map<String, Value>,
    pub pointer: Pointer,
    read: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    /// Reads `value` as an object, or records that it must be one.
    pub fn of(value: &'a Value, pointer: Pointer, diagnostics: &mut Diagnostics) -> Option<Fields<'a>> {
        match value {
            Value::Object(object) => Some(Fields {
                object,
                pointer,
                read: Vec::new(),
            }),
            other => {
                diagnostics.push(&pointer, format!("must be an object, not {}", kind(other)));
                None
            }
        }
    }

    /// The pointer to a field of this object.
    pub fn at(&self, name: &str) -> Pointer {
        self.pointer.field(name)
    }

    /// Whether the object has the field; marks it read.
    pub fn has(&mut self, name: &'static str) -> bool {
        self.read.push(name);
        self.object.contains_key(name)
    }

    /// The raw value of a field; marks it read.
    pub fn raw(&mut self, name: &'static str) -> Option<&'a Value> {
        self.read.push(name);
        self.object.get(name)
    }

    /// A string field.
    pub fn string(&mut self, name: &'static str, diagnostics: &mut Diagnostics) -> Option<&'a str> {
        match self.raw(name)? {
            Value::String(text) => Some(text),
            other => {
                diagnostics.push(&self.at(name), format!("must be a string, not {}", kind(other)));
                None
            }
        }
    }

    /// A required string field.
    pub fn required_string(&mut self, name: &'static str, diagnostics: &mut Diagnostics) -> Option<&'a str> {
        if !self.object.contains_key(name) {
            self.read.push(name);
            diagnostics.push(&self.at(name), "is required");
            return None;
        }
        self.string(name, diagnostics)
    }

    /// A boolean field.
    pub fn boolean(&mut self, name: &'static str, diagnostics: &mut Diagnostics) -> Option<bool> {
        match self.raw(name)? {
            Value::Bool(flag) => Some(*flag),
            other => {
                diagnostics.push(&self.at(name), format!("must be a boolean, not {}", kind(other)));
                None
            }
        }
    }

    /// A non-negative integer field no larger than `max`.
    pub fn integer(&mut self, name: &'static str, max: u64, diagnostics: &mut Diagnostics) -> Option<u64> {
        let value = self.raw(name)?;
        match value.as_u64() {
            Some(number) if number <= max => Some(number),
            _ => {
                let message = match value {
                    Value::Number(_) => format!("must be an integer from 0 to {max}, not {value}"),
                    other => format!("must be an integer, not {}", kind(other)),
                };
                diagnostics.push(&self.at(name), message);
                None
            }
        }
    }

    /// A number field.
    pub fn number(&mut self, name: &'static str, diagnostics: &mut Diagnostics) -> Option<f64> {
        let value = self.raw(name)?;
        match value.as_f64() {
            Some(number) => Some(number),
            None => {
                diagnostics.push(&self.at(name), format!("must be a number, not {}", kind(value)));
                None
            }
        }
    }

    /// Reports every field that was not read: a field not allowed on this object.
    pub fn finish(self, what: &str, diagnostics: &mut Diagnostics) {
        for name in self.object.keys() {
            if !self.read.contains(&name.as_str()) {
                diagnostics.push(&self.at(name), format!("field \"{name}\" is not allowed on {what}"));
            }
        }
    }
}

/// The JSON type of a value, as a noun for messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
