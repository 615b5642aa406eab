//! The `{"operator": operand}` entries of a field's list: `prefix`, `suffix`, `equals-ignore-case`,
//! `wildcard`, `anything-but`, `numeric`, `exists` and `cidr`, with EventBridge's messages.
//!
//! See <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html>.

use std::ops::Bound;

use serde_json::{Map, Value};

use super::Parser;
use crate::cidr::Cidr;
use crate::number::{NumberKey, NumericRange, OUT_OF_RANGE, scaled};
use crate::pattern::{Affix, Exclusion, Literal, Matcher, fold};
use crate::wildcard::Wildcard;

impl Parser {
    /// One `{...}` entry of a list. The pointer is at the entry; diagnostics about the operand
    /// point at the operand (`.../0/prefix`).
    pub(super) fn operator(&mut self, entry: &Map<String, Value>) -> Option<Matcher> {
        let mut fields = entry.iter();
        let Some((name, operand)) = fields.next() else {
            self.error("Match expression name not found");
            return None;
        };
        if fields.next().is_some() {
            self.error("Only one key allowed in match expression");
            return None;
        }
        self.at(name, |parser| match name.as_str() {
            "prefix" => parser.affix(operand, "prefix").map(Matcher::Prefix),
            "suffix" => parser.affix(operand, "suffix").map(Matcher::Suffix),
            "equals-ignore-case" => parser
                .string(operand, "equals-ignore-case")
                .map(|text| Matcher::EqualsIgnoreCase(fold(text))),
            "wildcard" => parser.wildcard(operand).map(Matcher::Wildcard),
            "anything-but" => parser.anything_but(operand).map(Matcher::AnythingBut),
            "numeric" => parser.numeric(operand).map(Matcher::Numeric),
            "exists" => match operand {
                Value::Bool(exists) => Some(Matcher::Exists(*exists)),
                _ => {
                    parser.error("exists match pattern must be either true or false.");
                    None
                }
            },
            "cidr" => {
                let text = parser.string(operand, "cidr")?;
                match Cidr::parse(text) {
                    Ok(cidr) => Some(Matcher::Cidr(cidr)),
                    Err(message) => {
                        parser.error(message);
                        None
                    }
                }
            }
            other => {
                parser.error(format!("Unrecognized match type {other}"));
                None
            }
        })
    }

    fn string<'v>(&mut self, operand: &'v Value, operator: &str) -> Option<&'v str> {
        match operand {
            Value::String(text) => Some(text),
            _ => {
                self.error(format!("{operator} match pattern must be a string"));
                None
            }
        }
    }

    /// `"text"` or `{"equals-ignore-case": "text"}`, for `prefix` and `suffix`.
    fn affix(&mut self, operand: &Value, operator: &str) -> Option<Affix> {
        match operand {
            Value::String(text) => Some(Affix {
                text: text.clone(),
                ignore_case: false,
            }),
            Value::Object(inner) => {
                let mut fields = inner.iter();
                match (fields.next(), fields.next()) {
                    (Some((name, value)), None) if name == "equals-ignore-case" => self.at(name, |parser| {
                        let text = parser.string(value, "equals-ignore-case")?;
                        Some(Affix {
                            text: fold(text),
                            ignore_case: true,
                        })
                    }),
                    (Some((name, _)), None) => {
                        self.error(format!("Unsupported {operator} pattern: {name}"));
                        None
                    }
                    _ => {
                        self.error(format!("{operator} match pattern must be a string"));
                        None
                    }
                }
            }
            _ => {
                self.error(format!("{operator} match pattern must be a string"));
                None
            }
        }
    }

    fn wildcard(&mut self, operand: &Value) -> Option<Wildcard> {
        let text = self.string(operand, "wildcard")?;
        match Wildcard::parse(text) {
            Ok(wildcard) => Some(wildcard),
            Err(message) => {
                self.error(message);
                None
            }
        }
    }

    /// A string, or a non-empty array of strings (for the list forms inside `anything-but`).
    fn strings<'v>(&mut self, operand: &'v Value, operator: &str) -> Option<Vec<&'v str>> {
        match operand {
            Value::String(text) => Some(vec![text]),
            Value::Array(items) if items.is_empty() => {
                self.error("Empty arrays are not allowed");
                None
            }
            Value::Array(items) => {
                let mut texts = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    texts.extend(self.at_index(index, |parser| parser.string(item, operator)));
                }
                (texts.len() == items.len()).then_some(texts)
            }
            _ => {
                self.error(format!(
                    "{operator} match pattern must be a string or an array of strings"
                ));
                None
            }
        }
    }

    /// `anything-but`: a string, a number, a list of strings or of numbers, or one of
    /// `{"prefix"}`, `{"suffix"}`, `{"equals-ignore-case"}` and `{"wildcard"}`.
    fn anything_but(&mut self, operand: &Value) -> Option<Exclusion> {
        match operand {
            Value::String(text) => Some(Exclusion::Values(vec![Literal::String(text.clone())])),
            Value::Number(_) => self
                .excluded_number(operand)
                .map(|literal| Exclusion::Values(vec![literal])),
            Value::Array(items) => self.excluded_list(items),
            Value::Object(inner) => {
                let mut fields = inner.iter();
                let Some((name, value)) = fields.next() else {
                    self.error("Anything-but expression name not found");
                    return None;
                };
                if fields.next().is_some() {
                    self.error("Only one key allowed in match expression");
                    return None;
                }
                self.at(name, |parser| match name.as_str() {
                    "prefix" | "suffix" => {
                        let text = parser.string(value, name)?;
                        if text.is_empty() {
                            parser.error(format!("Null {name} not allowed"));
                            return None;
                        }
                        let affix = Affix {
                            text: text.to_owned(),
                            ignore_case: false,
                        };
                        Some(if name == "prefix" {
                            Exclusion::Prefix(affix)
                        } else {
                            Exclusion::Suffix(affix)
                        })
                    }
                    "equals-ignore-case" => {
                        let texts = parser.strings(value, "equals-ignore-case")?;
                        Some(Exclusion::EqualsIgnoreCase(texts.into_iter().map(fold).collect()))
                    }
                    "wildcard" => {
                        let texts = parser.strings(value, "wildcard")?;
                        let mut wildcards = Vec::with_capacity(texts.len());
                        for text in texts {
                            match Wildcard::parse(text) {
                                Ok(wildcard) => wildcards.push(wildcard),
                                Err(message) => parser.error(message),
                            }
                        }
                        Some(Exclusion::Wildcards(wildcards))
                    }
                    other => {
                        parser.error(format!("Unsupported anything-but pattern: {other}"));
                        None
                    }
                })
            }
            Value::Null | Value::Bool(_) => {
                self.error("Value of anything-but must be an array or single string/number value.");
                None
            }
        }
    }

    fn excluded_number(&mut self, value: &Value) -> Option<Literal> {
        let number = value.as_f64()?;
        if scaled(number).is_none() {
            self.error(OUT_OF_RANGE);
            return None;
        }
        Some(Literal::Number(NumberKey::of(number)))
    }

    fn excluded_list(&mut self, items: &[Value]) -> Option<Exclusion> {
        if items.is_empty() {
            self.error("Empty arrays are not allowed");
            return None;
        }
        let mut literals = Vec::with_capacity(items.len());
        let (mut strings, mut numbers) = (0, 0);
        for (index, item) in items.iter().enumerate() {
            self.at_index(index, |parser| match item {
                Value::String(text) => {
                    strings += 1;
                    literals.push(Literal::String(text.clone()));
                }
                Value::Number(_) => {
                    numbers += 1;
                    literals.extend(parser.excluded_number(item));
                }
                _ => parser.error("Inside anything-but list, only strings and numbers are supported"),
            });
        }
        if strings > 0 && numbers > 0 {
            self.error("Inside anything-but list, either all values are number or string, mixed type is not supported");
        }
        (literals.len() == items.len()).then_some(Exclusion::Values(literals))
    }

    /// `numeric`: `["=", n]`, `[">" | ">=" | "<" | "<=", n]`, or `[">" | ">=", low, "<" | "<=", high]`.
    fn numeric(&mut self, operand: &Value) -> Option<NumericRange> {
        let Value::Array(items) = operand else {
            self.error("Value of numeric must be an array.");
            return None;
        };
        let Some(first) = items.first() else {
            self.error("Empty arrays are not allowed");
            return None;
        };
        let Some(operator) = first.as_str() else {
            self.at_index(0, |parser| {
                parser.error(format!("Invalid member in numeric match: {first}"))
            });
            return None;
        };
        let first_value = self.numeric_operand(items, 1, operator)?;
        let (low, high) = match operator {
            "=" => (Bound::Included(first_value), Bound::Included(first_value)),
            "<" => (Bound::Unbounded, Bound::Excluded(first_value)),
            "<=" => (Bound::Unbounded, Bound::Included(first_value)),
            ">" | ">=" => {
                let low = if operator == ">" {
                    Bound::Excluded(first_value)
                } else {
                    Bound::Included(first_value)
                };
                if items.len() == 2 {
                    return Some(NumericRange {
                        low,
                        high: Bound::Unbounded,
                    });
                }
                let second = &items[2];
                let high_operator = match second.as_str() {
                    Some(high_operator @ ("<" | "<=")) => high_operator,
                    Some(other) => {
                        self.at_index(2, |parser| parser.error(format!("Bad numeric range operator: {other}")));
                        return None;
                    }
                    None => {
                        self.at_index(2, |parser| {
                            parser.error(format!("Bad value in numeric range: {second}"))
                        });
                        return None;
                    }
                };
                let high_value = self.numeric_operand(items, 3, high_operator)?;
                if items.len() > 4 {
                    self.at_index(4, |parser| parser.error("Too many terms in numeric range expression"));
                    return None;
                }
                let high = if high_operator == "<" {
                    Bound::Excluded(high_value)
                } else {
                    Bound::Included(high_value)
                };
                let (Bound::Included(bottom) | Bound::Excluded(bottom)) = low else {
                    return None;
                };
                if bottom >= high_value {
                    self.error("Bottom must be less than top");
                    return None;
                }
                return Some(NumericRange { low, high });
            }
            other => {
                self.at_index(0, |parser| {
                    parser.error(format!("Unrecognized numeric range operator: {other}"))
                });
                return None;
            }
        };
        if items.len() > 2 {
            self.at_index(2, |parser| parser.error("Too many elements in numeric expression"));
            return None;
        }
        Some(NumericRange { low, high })
    }

    /// The number after an operator, in millionths.
    fn numeric_operand(&mut self, items: &[Value], index: usize, operator: &str) -> Option<i64> {
        let Some(item) = items.get(index) else {
            self.error(format!("Value of {operator} must be numeric"));
            return None;
        };
        self.at_index(index, |parser| {
            let Some(number) = item.as_f64() else {
                parser.error(format!("Value of {operator} must be numeric"));
                return None;
            };
            let millionths = scaled(number);
            if millionths.is_none() {
                parser.error(OUT_OF_RANGE);
            }
            millionths
        })
    }
}
