//! Parses update expressions.
//!
//! ```text
//! update     := clause+                       (each of SET, REMOVE, ADD, DELETE at most once)
//! clause     := SET set (',' set)* | REMOVE path (',' path)*
//!             | ADD path :value (',' path :value)* | DELETE path :value (',' path :value)*
//! set        := path '=' operand (('+' | '-') operand)?
//! operand    := path | :value | name '(' argument (',' argument)* ')'
//! ```
//!
//! Clause keywords are case-insensitive, function names are not. `a + b + c` and `f(a + b)` are
//! syntax errors, as in DynamoDB.

use crate::error::{Error, ExpressionKind};
use crate::parse::condition::{Argument, Call};
use crate::parse::lexer::TokenKind;
use crate::parse::{Parser, Placeholders};
use crate::path::{DocumentPath, check_disjoint};
use crate::update::{SetOperand, SetValue, UpdateAction, UpdateExpression};
use crate::value::AttributeValue;

/// The clauses, in the order DynamoDB names them.
const SECTIONS: [&str; 4] = ["SET", "REMOVE", "ADD", "DELETE"];

/// Parses an `UpdateExpression`, resolving placeholders, and rejects overlapping or conflicting
/// targets.
pub fn parse_update(text: &str, placeholders: &mut Placeholders) -> Result<UpdateExpression, Error> {
    let mut parser = Parser::new(ExpressionKind::Update, text, placeholders)?;
    let actions = parser.update_actions()?;
    let expression = parser.finish(UpdateExpression { actions })?;
    let targets: Vec<&DocumentPath> = expression.actions.iter().map(UpdateAction::path).collect();
    check_disjoint(ExpressionKind::Update, &targets)?;
    Ok(expression)
}

impl Parser<'_> {
    fn update_actions(&mut self) -> Result<Vec<UpdateAction>, Error> {
        let mut actions = Vec::new();
        let mut seen = [false; 4];
        loop {
            let Some(section) = SECTIONS.iter().position(|section| self.at_keyword(section)) else {
                return Err(self.syntax_error());
            };
            self.advance();
            if seen[section] {
                self.defer(Error::RepeatedSection {
                    section: SECTIONS[section],
                });
            }
            seen[section] = true;
            loop {
                actions.push(match section {
                    0 => self.set_action()?,
                    1 => UpdateAction::Remove { path: self.path()? },
                    _ => self.add_or_delete(section == 2)?,
                });
                if !self.at_punct(",") {
                    break;
                }
                self.advance();
            }
            if self.peek().is_none() {
                return Ok(actions);
            }
        }
    }

    fn set_action(&mut self) -> Result<UpdateAction, Error> {
        let path = self.path()?;
        self.expect_punct("=")?;
        let left = self.set_operand()?;
        let value = if self.at_punct("+") || self.at_punct("-") {
            let plus = self.at_punct("+");
            self.advance();
            let right = self.set_operand()?;
            for operand in [&left, &right] {
                self.check_literal(operand, if plus { "+" } else { "-" }, |value| {
                    matches!(value, AttributeValue::N(_))
                });
            }
            if plus {
                SetValue::Plus(left, right)
            } else {
                SetValue::Minus(left, right)
            }
        } else {
            SetValue::Operand(left)
        };
        Ok(UpdateAction::Set { path, value })
    }

    fn add_or_delete(&mut self, is_add: bool) -> Result<UpdateAction, Error> {
        let path = self.path()?;
        let token = match self.peek() {
            Some(token) if token.kind == TokenKind::ValuePlaceholder => token.clone(),
            _ => return Err(self.syntax_error()),
        };
        self.advance();
        let value = self.value(&token);
        let allowed = match &value {
            AttributeValue::N(_) => is_add,
            AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_) => true,
            _ => false,
        };
        if !allowed {
            let operator = if is_add { "ADD" } else { "DELETE" };
            self.defer(Error::ActionOperandType {
                operator,
                operand_type: value.attribute_type().long_name(),
            });
        }
        Ok(if is_add {
            UpdateAction::Add { path, value }
        } else {
            UpdateAction::Delete { path, value }
        })
    }

    fn set_operand(&mut self) -> Result<SetOperand, Error> {
        if self.at_call() {
            let call = self.call()?;
            return Ok(self.call_as_set_operand(call, false));
        }
        match self.peek().map(|token| token.kind.clone()) {
            Some(TokenKind::ValuePlaceholder) => {
                let token = self.advance().ok_or_else(|| self.syntax_error())?;
                Ok(SetOperand::Value(self.value(&token)))
            }
            Some(TokenKind::Name | TokenKind::NamePlaceholder) => Ok(SetOperand::Path(self.path()?)),
            _ => Err(self.syntax_error()),
        }
    }

    /// Defers an operand type error if a literal operand fails the test.
    fn check_literal(&mut self, operand: &SetOperand, function: &str, accept: impl Fn(&AttributeValue) -> bool) {
        if let SetOperand::Value(value) = operand
            && !accept(value)
        {
            let operand_type = value.attribute_type().to_string();
            self.defer(Error::OperandType {
                kind: self.kind,
                function: function.to_owned(),
                operand_type,
            });
        }
    }

    fn argument_as_set_operand(&mut self, argument: Argument, inside_list_append: bool) -> SetOperand {
        match argument {
            Argument::Path(path) => SetOperand::Path(path),
            Argument::Value(value) => SetOperand::Value(value),
            Argument::Call(call) => self.call_as_set_operand(call, inside_list_append),
        }
    }

    fn call_as_set_operand(&mut self, call: Call, inside_list_append: bool) -> SetOperand {
        let placeholder = SetOperand::Value(AttributeValue::Null);
        match call.name.as_str() {
            "if_not_exists" | "list_append" => {}
            "attribute_exists" | "attribute_not_exists" | "attribute_type" | "begins_with" | "contains" | "size" => {
                self.defer(Error::FunctionNotAllowedInUpdate { function: call.name });
                return placeholder;
            }
            _ => {
                self.defer(Error::InvalidFunction {
                    kind: self.kind,
                    function: call.name,
                });
                return placeholder;
            }
        }
        if call.name == "list_append" && inside_list_append {
            self.defer(Error::FunctionMisused {
                kind: self.kind,
                function: call.name,
            });
            return placeholder;
        }
        if !self.arity(&call, 2) {
            return placeholder;
        }
        let name = call.name;
        let mut arguments = call.arguments.into_iter();
        let (Some(first), Some(second)) = (arguments.next(), arguments.next()) else {
            return placeholder;
        };
        if name == "if_not_exists" {
            let Argument::Path(path) = first else {
                self.defer(Error::RequiresPath {
                    kind: self.kind,
                    function: name,
                });
                return placeholder;
            };
            let fallback = self.argument_as_set_operand(second, inside_list_append);
            return SetOperand::IfNotExists(path, Box::new(fallback));
        }
        let left = self.argument_as_set_operand(first, true);
        let right = self.argument_as_set_operand(second, true);
        for operand in [&left, &right] {
            self.check_literal(operand, "list_append", |value| matches!(value, AttributeValue::L(_)));
        }
        SetOperand::ListAppend(Box::new(left), Box::new(right))
    }
}
