//! Parsing Choice states and their rules,
//! <https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html>.

use serde_json::Value;

use super::fields::{Fields, kind};
use super::parse::{IoFields, Parser};
use super::{Choice, ChoiceRule, Comparison, Condition, Io, Operand, QueryLanguage, StateKind};
use crate::diagnostics::Pointer;

/// The operand type an operator takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OperandType {
    String,
    Number,
    Boolean,
    Timestamp,
}

/// Every comparison operator: its name, its operand type, and how to build it.
/// A comparison operator's name, operand type and constructor.
type Operator = (&'static str, OperandType, fn(Operand) -> Comparison);

/// A type test's name and constructor.
type TypeTest = (&'static str, fn(bool) -> Comparison);

const OPERATORS: &[Operator] = &[
    ("StringEquals", OperandType::String, Comparison::StringEquals),
    ("StringLessThan", OperandType::String, Comparison::StringLessThan),
    ("StringGreaterThan", OperandType::String, Comparison::StringGreaterThan),
    (
        "StringLessThanEquals",
        OperandType::String,
        Comparison::StringLessThanEquals,
    ),
    (
        "StringGreaterThanEquals",
        OperandType::String,
        Comparison::StringGreaterThanEquals,
    ),
    ("NumericEquals", OperandType::Number, Comparison::NumericEquals),
    ("NumericLessThan", OperandType::Number, Comparison::NumericLessThan),
    (
        "NumericGreaterThan",
        OperandType::Number,
        Comparison::NumericGreaterThan,
    ),
    (
        "NumericLessThanEquals",
        OperandType::Number,
        Comparison::NumericLessThanEquals,
    ),
    (
        "NumericGreaterThanEquals",
        OperandType::Number,
        Comparison::NumericGreaterThanEquals,
    ),
    ("BooleanEquals", OperandType::Boolean, Comparison::BooleanEquals),
    ("TimestampEquals", OperandType::Timestamp, Comparison::TimestampEquals),
    (
        "TimestampLessThan",
        OperandType::Timestamp,
        Comparison::TimestampLessThan,
    ),
    (
        "TimestampGreaterThan",
        OperandType::Timestamp,
        Comparison::TimestampGreaterThan,
    ),
    (
        "TimestampLessThanEquals",
        OperandType::Timestamp,
        Comparison::TimestampLessThanEquals,
    ),
    (
        "TimestampGreaterThanEquals",
        OperandType::Timestamp,
        Comparison::TimestampGreaterThanEquals,
    ),
];

/// The type tests, which take a boolean.
const TYPE_TESTS: &[TypeTest] = &[
    ("IsNull", Comparison::IsNull),
    ("IsPresent", Comparison::IsPresent),
    ("IsNumeric", Comparison::IsNumeric),
    ("IsString", Comparison::IsString),
    ("IsBoolean", Comparison::IsBoolean),
    ("IsTimestamp", Comparison::IsTimestamp),
];

impl Parser {
    pub(super) fn choice(
        &mut self,
        fields: &mut Fields<'_>,
        language: QueryLanguage,
        io: &mut Io,
    ) -> Option<StateKind> {
        let allowed = IoFields {
            output: true,
            ..IoFields::default()
        };
        self.io(fields, language, io, allowed);
        let default = fields.string("Default", &mut self.diagnostics).map(str::to_owned);
        let pointer = fields.at("Choices");
        let mut choices = Vec::new();
        match fields.raw("Choices") {
            None => self.diagnostics.push(&pointer, "is required"),
            Some(Value::Array(list)) if list.is_empty() => {
                self.diagnostics.push(&pointer, "must have at least one rule")
            }
            Some(Value::Array(list)) => {
                for (position, rule) in list.iter().enumerate() {
                    choices.extend(self.top_rule(rule, pointer.index(position), language));
                }
            }
            Some(other) => self
                .diagnostics
                .push(&pointer, format!("must be an array, not {}", kind(other))),
        }
        Some(StateKind::Choice(Choice { choices, default }))
    }

    fn top_rule(&mut self, value: &Value, pointer: Pointer, language: QueryLanguage) -> Option<ChoiceRule> {
        let mut fields = Fields::of(value, pointer, &mut self.diagnostics)?;
        let next = fields.required_string("Next", &mut self.diagnostics);
        let assign = self.assign(&mut fields, language);
        let output = match language {
            QueryLanguage::Jsonata => fields.raw("Output").map(|value| {
                let at = fields.at("Output");
                self.template(value, &at, language)
            }),
            QueryLanguage::JsonPath => None,
        };
        let _comment = fields.string("Comment", &mut self.diagnostics);
        let condition = self.condition(&mut fields, language);
        fields.finish("a choice rule", &mut self.diagnostics);
        // A rule whose condition is invalid (already reported) keeps its `Next`, so that the graph
        // checks do not also report its target as unreachable; the definition is rejected anyway.
        Some(ChoiceRule {
            condition: condition.unwrap_or(Condition::Or(Vec::new())),
            next: next?.to_owned(),
            assign,
            output,
        })
    }

    fn nested_rule(&mut self, value: &Value, pointer: Pointer, language: QueryLanguage) -> Option<Condition> {
        let mut fields = Fields::of(value, pointer, &mut self.diagnostics)?;
        let _comment = fields.string("Comment", &mut self.diagnostics);
        let condition = self.condition(&mut fields, language);
        fields.finish(
            "a nested choice rule (only top-level rules have \"Next\")",
            &mut self.diagnostics,
        );
        condition
    }

    /// The condition of a rule: `And`, `Or`, `Not`, or `Variable` with one operator; in JSONata,
    /// `Condition`.
    fn condition(&mut self, fields: &mut Fields<'_>, language: QueryLanguage) -> Option<Condition> {
        if language == QueryLanguage::Jsonata {
            let pointer = fields.at("Condition");
            return match fields.raw("Condition") {
                Some(value) => Some(Condition::Expression(self.template(value, &pointer, language))),
                None => {
                    self.diagnostics.push(&pointer, "is required");
                    None
                }
            };
        }
        for combinator in ["And", "Or"] as [&'static str; 2] {
            if let Some(value) = fields.raw(combinator) {
                let pointer = fields.at(combinator);
                let Value::Array(list) = value else {
                    self.diagnostics
                        .push(&pointer, format!("must be an array of rules, not {}", kind(value)));
                    return None;
                };
                if list.is_empty() {
                    self.diagnostics.push(&pointer, "must have at least one rule");
                    return None;
                }
                let mut conditions = Vec::with_capacity(list.len());
                for (position, rule) in list.iter().enumerate() {
                    conditions.extend(self.nested_rule(rule, pointer.index(position), language));
                }
                return Some(if combinator == "And" {
                    Condition::And(conditions)
                } else {
                    Condition::Or(conditions)
                });
            }
        }
        if let Some(value) = fields.raw("Not") {
            let pointer = fields.at("Not");
            return self
                .nested_rule(value, pointer, language)
                .map(|inner| Condition::Not(Box::new(inner)));
        }
        let variable = fields.string("Variable", &mut self.diagnostics);
        // Every operator written, valid or not, so that an invalid operand (already reported)
        // is not reported again as a missing operator.
        let mut present: Vec<&'static str> = Vec::new();
        let mut found: Vec<(&'static str, Comparison)> = Vec::new();
        for &(name, operand_type, build) in OPERATORS {
            if let Some(value) = fields.raw(name) {
                present.push(name);
                let pointer = fields.at(name);
                if let Some(operand) = self.literal_operand(value, operand_type, &pointer) {
                    found.push((name, build(Operand::Value(operand))));
                }
            }
            let path_name = path_operator(name);
            if let Some(value) = fields.raw(path_name) {
                present.push(path_name);
                let pointer = fields.at(path_name);
                match value {
                    Value::String(text) => {
                        if let Some(path) = self.path(text, &pointer) {
                            found.push((path_name, build(Operand::Path(path))));
                        }
                    }
                    other => self
                        .diagnostics
                        .push(&pointer, format!("must be a path, not {}", kind(other))),
                }
            }
        }
        if let Some(value) = fields.raw("StringMatches") {
            present.push("StringMatches");
            match value {
                Value::String(pattern) => found.push(("StringMatches", Comparison::StringMatches(pattern.clone()))),
                other => self.diagnostics.push(
                    &fields.at("StringMatches"),
                    format!("must be a string, not {}", kind(other)),
                ),
            }
        }
        for &(name, build) in TYPE_TESTS {
            if fields.has(name) {
                present.push(name);
            }
            if let Some(flag) = fields.boolean(name, &mut self.diagnostics) {
                found.push((name, build(flag)));
            }
        }
        let variable_pointer = fields.at("Variable");
        let Some(variable) = variable else {
            let message = "a rule must have \"And\", \"Or\", \"Not\", or \"Variable\" with a comparison operator";
            self.diagnostics.push(&fields.pointer, message);
            return None;
        };
        let variable = self.path(variable, &variable_pointer)?;
        match present.len() {
            1 => found
                .pop()
                .map(|(_, comparison)| Condition::Test { variable, comparison }),
            0 => {
                self.diagnostics.push(
                    &fields.pointer,
                    "a rule with \"Variable\" needs one comparison operator, such as \"StringEquals\"",
                );
                None
            }
            _ => {
                let message = format!(
                    "a rule can have only one comparison operator, not {}",
                    present.join(", ")
                );
                self.diagnostics.push(&fields.pointer, message);
                None
            }
        }
    }

    fn literal_operand(&mut self, value: &Value, operand_type: OperandType, pointer: &Pointer) -> Option<Value> {
        let ok = match operand_type {
            OperandType::String => value.is_string(),
            OperandType::Number => value.is_number(),
            OperandType::Boolean => value.is_boolean(),
            OperandType::Timestamp => value
                .as_str()
                .is_some_and(|text| crate::timestamp::parse(text).is_some()),
        };
        if ok {
            return Some(value.clone());
        }
        let expected = match operand_type {
            OperandType::String => "a string",
            OperandType::Number => "a number",
            OperandType::Boolean => "a boolean",
            OperandType::Timestamp => "an RFC 3339 timestamp string",
        };
        self.diagnostics
            .push(pointer, format!("must be {expected}, not {value}"));
        None
    }
}

/// The `…Path` form of an operator name.
fn path_operator(name: &str) -> &'static str {
    match name {
        "StringEquals" => "StringEqualsPath",
        "StringLessThan" => "StringLessThanPath",
        "StringGreaterThan" => "StringGreaterThanPath",
        "StringLessThanEquals" => "StringLessThanEqualsPath",
        "StringGreaterThanEquals" => "StringGreaterThanEqualsPath",
        "NumericEquals" => "NumericEqualsPath",
        "NumericLessThan" => "NumericLessThanPath",
        "NumericGreaterThan" => "NumericGreaterThanPath",
        "NumericLessThanEquals" => "NumericLessThanEqualsPath",
        "NumericGreaterThanEquals" => "NumericGreaterThanEqualsPath",
        "BooleanEquals" => "BooleanEqualsPath",
        "TimestampEquals" => "TimestampEqualsPath",
        "TimestampLessThan" => "TimestampLessThanPath",
        "TimestampGreaterThan" => "TimestampGreaterThanPath",
        "TimestampLessThanEquals" => "TimestampLessThanEqualsPath",
        _ => "TimestampGreaterThanEqualsPath",
    }
}
