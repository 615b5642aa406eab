//! Parses condition and filter expressions.
//!
//! Grammar (precedence from the developer guide: comparators, `IN`, `BETWEEN`, functions,
//! parentheses, `NOT`, `AND`, `OR`):
//!
//! ```text
//! condition := and (OR and)*
//! and       := not (AND not)*
//! not       := NOT not | '(' condition ')' | call | operand tail
//! tail      := comparator operand | BETWEEN operand AND operand | IN '(' operand (',' operand)* ')'
//! operand   := path | :value | call
//! call      := name '(' argument (',' argument)* ')'
//! ```

use crate::condition::{Comparator, Condition, Operand};
use crate::error::{Error, ExpressionKind};
use crate::parse::lexer::TokenKind;
use crate::parse::{Parser, Placeholders};
use crate::path::DocumentPath;
use crate::value::{AttributeType, AttributeValue};

/// The most candidates `IN` takes.
const MAX_IN_OPERANDS: usize = 100;

/// Parses a `ConditionExpression` (`kind` [`ExpressionKind::Condition`]) or `FilterExpression`
/// ([`ExpressionKind::Filter`]), resolving placeholders.
pub fn parse_condition(kind: ExpressionKind, text: &str, placeholders: &mut Placeholders) -> Result<Condition, Error> {
    let mut parser = Parser::new(kind, text, placeholders)?;
    let condition = parser.condition()?;
    parser.finish(condition)
}

/// A function call as written, before knowing whether it is an operand or a condition.
pub(crate) struct Call {
    pub(crate) name: String,
    pub(crate) arguments: Vec<Argument>,
}

/// A function argument.
pub(crate) enum Argument {
    Path(DocumentPath),
    Value(AttributeValue),
    Call(Call),
}

impl Parser<'_> {
    pub(crate) fn condition(&mut self) -> Result<Condition, Error> {
        let mut left = self.conjunction()?;
        while self.at_keyword("OR") {
            self.advance();
            let right = self.conjunction()?;
            left = Condition::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn conjunction(&mut self) -> Result<Condition, Error> {
        let mut left = self.negation()?;
        while self.at_keyword("AND") {
            self.advance();
            let right = self.negation()?;
            left = Condition::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn negation(&mut self) -> Result<Condition, Error> {
        if self.at_keyword("NOT") {
            self.advance();
            return Ok(Condition::Not(Box::new(self.negation()?)));
        }
        if self.at_punct("(") {
            self.advance();
            let inner = self.condition()?;
            self.expect_punct(")")?;
            return Ok(inner);
        }
        let left = if self.at_call() {
            let call = self.call()?;
            if !self.at_comparison() {
                return Ok(self.call_as_condition(call));
            }
            self.call_as_operand(call)
        } else {
            self.operand()?
        };
        self.comparison(left)
    }

    fn at_comparison(&self) -> bool {
        ["=", "<>", "<", "<=", ">", ">="]
            .iter()
            .any(|punct| self.at_punct(punct))
            || self.at_keyword("BETWEEN")
            || self.at_keyword("IN")
    }

    fn comparison(&mut self, left: Operand) -> Result<Condition, Error> {
        for (punct, comparator) in [
            ("=", Comparator::Eq),
            ("<>", Comparator::Ne),
            ("<", Comparator::Lt),
            ("<=", Comparator::Le),
            (">", Comparator::Gt),
            (">=", Comparator::Ge),
        ] {
            if self.at_punct(punct) {
                self.advance();
                let right = self.operand()?;
                return Ok(Condition::Compare {
                    left,
                    comparator,
                    right,
                });
            }
        }
        if self.at_keyword("BETWEEN") {
            self.advance();
            let lower = self.operand()?;
            self.expect_keyword("AND")?;
            let upper = self.operand()?;
            if let (Operand::Value(low), Operand::Value(high)) = (&lower, &upper) {
                self.check_between_bounds(low, high);
            }
            return Ok(Condition::Between {
                operand: left,
                lower,
                upper,
            });
        }
        if self.at_keyword("IN") {
            self.advance();
            self.expect_punct("(")?;
            let mut candidates = vec![self.operand()?];
            while self.at_punct(",") {
                self.advance();
                candidates.push(self.operand()?);
            }
            self.expect_punct(")")?;
            if candidates.len() > MAX_IN_OPERANDS {
                self.defer(Error::TooManyInOperands {
                    kind: self.kind,
                    count: candidates.len(),
                });
            }
            return Ok(Condition::In {
                operand: left,
                candidates,
            });
        }
        Err(self.syntax_error())
    }

    fn check_between_bounds(&mut self, lower: &AttributeValue, upper: &AttributeValue) {
        let (lower_text, upper_text) = (lower.describe(), upper.describe());
        if lower.attribute_type() != upper.attribute_type() {
            self.defer(Error::BetweenTypes {
                kind: self.kind,
                lower: lower_text,
                upper: upper_text,
            });
        } else if crate::condition::scalar_order(lower, upper) == Some(std::cmp::Ordering::Greater) {
            self.defer(Error::BetweenBounds {
                kind: self.kind,
                lower: lower_text,
                upper: upper_text,
            });
        }
    }

    /// `path`, `:value` or `size(path)`.
    pub(crate) fn operand(&mut self) -> Result<Operand, Error> {
        if self.at_call() {
            let call = self.call()?;
            return Ok(self.call_as_operand(call));
        }
        match self.peek().map(|token| token.kind.clone()) {
            Some(TokenKind::ValuePlaceholder) => {
                let token = self.advance().ok_or_else(|| self.syntax_error())?;
                Ok(Operand::Value(self.value(&token)))
            }
            Some(TokenKind::Name | TokenKind::NamePlaceholder) => Ok(Operand::Path(self.path()?)),
            _ => Err(self.syntax_error()),
        }
    }

    /// Whether a function call starts here: a bare name followed by `(`.
    pub(crate) fn at_call(&self) -> bool {
        self.peek().is_some_and(|token| token.kind == TokenKind::Name)
            && self
                .peek_at(1)
                .is_some_and(|token| token.kind == TokenKind::Punct && self.token_text(token) == "(")
    }

    /// `name '(' argument (',' argument)* ')'`. Function names are case-sensitive and are not
    /// checked against the reserved words.
    pub(crate) fn call(&mut self) -> Result<Call, Error> {
        let token = self.advance().ok_or_else(|| self.syntax_error())?;
        let name = self.token_text(&token).to_owned();
        self.expect_punct("(")?;
        let mut arguments = vec![self.argument()?];
        while self.at_punct(",") {
            self.advance();
            arguments.push(self.argument()?);
        }
        self.expect_punct(")")?;
        Ok(Call { name, arguments })
    }

    fn argument(&mut self) -> Result<Argument, Error> {
        if self.at_call() {
            return Ok(Argument::Call(self.call()?));
        }
        match self.peek().map(|token| token.kind.clone()) {
            Some(TokenKind::ValuePlaceholder) => {
                let token = self.advance().ok_or_else(|| self.syntax_error())?;
                Ok(Argument::Value(self.value(&token)))
            }
            Some(TokenKind::Name | TokenKind::NamePlaceholder) => Ok(Argument::Path(self.path()?)),
            _ => Err(self.syntax_error()),
        }
    }

    /// Checks a call's argument count, deferring an error if it is wrong.
    pub(crate) fn arity(&mut self, call: &Call, expected: usize) -> bool {
        if call.arguments.len() == expected {
            true
        } else {
            self.defer(Error::OperandCount {
                kind: self.kind,
                function: call.name.clone(),
                count: call.arguments.len(),
            });
            false
        }
    }

    /// Defers the error for a function that is not a condition function here.
    fn reject_call(&mut self, name: &str) {
        let kind = self.kind;
        let function = name.to_owned();
        self.defer(match name {
            "if_not_exists" | "list_append" => Error::FunctionNotAllowedInCondition { kind, function },
            "size" | "attribute_exists" | "attribute_not_exists" | "attribute_type" | "begins_with" | "contains" => {
                Error::FunctionMisused { kind, function }
            }
            _ => Error::InvalidFunction { kind, function },
        });
    }

    fn call_as_operand(&mut self, call: Call) -> Operand {
        let placeholder = Operand::Value(AttributeValue::Null);
        if call.name != "size" {
            self.reject_call(&call.name);
            return placeholder;
        }
        if !self.arity(&call, 1) {
            return placeholder;
        }
        match call.arguments.into_iter().next() {
            Some(Argument::Path(path)) => Operand::Size(path),
            _ => {
                self.defer(Error::RequiresPath {
                    kind: self.kind,
                    function: call.name,
                });
                placeholder
            }
        }
    }

    fn argument_as_operand(&mut self, argument: Argument) -> Operand {
        match argument {
            Argument::Path(path) => Operand::Path(path),
            Argument::Value(value) => Operand::Value(value),
            Argument::Call(call) => self.call_as_operand(call),
        }
    }

    fn path_argument(&mut self, function: &str, argument: Argument) -> DocumentPath {
        match argument {
            Argument::Path(path) => path,
            _ => {
                self.defer(Error::RequiresPath {
                    kind: self.kind,
                    function: function.to_owned(),
                });
                DocumentPath::attribute("")
            }
        }
    }

    fn call_as_condition(&mut self, call: Call) -> Condition {
        // Stands in for a call that is rejected; the deferred error is what the caller sees.
        let placeholder = Condition::AttributeExists(DocumentPath::attribute(""));
        let expected = match call.name.as_str() {
            "attribute_exists" | "attribute_not_exists" => 1,
            "attribute_type" | "begins_with" | "contains" => 2,
            other => {
                let other = other.to_owned();
                self.reject_call(&other);
                return placeholder;
            }
        };
        if !self.arity(&call, expected) {
            return placeholder;
        }
        let name = call.name;
        let mut arguments = call.arguments.into_iter();
        let (Some(first), second) = (arguments.next(), arguments.next()) else {
            return placeholder;
        };
        match (name.as_str(), second) {
            ("attribute_exists", None) => Condition::AttributeExists(self.path_argument(&name, first)),
            ("attribute_not_exists", None) => Condition::AttributeNotExists(self.path_argument(&name, first)),
            ("attribute_type", Some(second)) => {
                let path = self.path_argument(&name, first);
                match second {
                    Argument::Value(AttributeValue::S(type_name)) => match AttributeType::from_wire(&type_name) {
                        Some(expected) => Condition::AttributeType(path, expected),
                        None => {
                            self.defer(Error::InvalidTypeName {
                                kind: self.kind,
                                type_name,
                            });
                            placeholder
                        }
                    },
                    Argument::Value(other) => {
                        let operand_type = other.attribute_type().to_string();
                        self.defer(Error::OperandType {
                            kind: self.kind,
                            function: name,
                            operand_type,
                        });
                        placeholder
                    }
                    Argument::Path(_) | Argument::Call(_) => {
                        // Only a value can name a type; DynamoDB words this as an operand type error.
                        let operand_type = "PATH".to_owned();
                        self.defer(Error::OperandType {
                            kind: self.kind,
                            function: name,
                            operand_type,
                        });
                        placeholder
                    }
                }
            }
            ("begins_with", Some(second)) => {
                let (value, prefix) = (self.argument_as_operand(first), self.argument_as_operand(second));
                for operand in [&value, &prefix] {
                    if let Operand::Value(literal) = operand
                        && !matches!(literal, AttributeValue::S(_) | AttributeValue::B(_))
                    {
                        let operand_type = literal.attribute_type().to_string();
                        self.defer(Error::OperandType {
                            kind: self.kind,
                            function: name.clone(),
                            operand_type,
                        });
                    }
                }
                Condition::BeginsWith(value, prefix)
            }
            ("contains", Some(second)) => {
                Condition::Contains(self.argument_as_operand(first), self.argument_as_operand(second))
            }
            _ => placeholder,
        }
    }
}
