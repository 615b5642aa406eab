//! The parser's shared machinery: `ExpressionAttributeNames`/`Values` (checked once per request
//! and tracked for use across all of its expressions), the token cursor with DynamoDB-style
//! syntax errors, and document paths.
//!
//! Errors come in DynamoDB's order: a syntax error anywhere first; then, in source order,
//! reserved words and undefined placeholders; then semantic errors (functions, operand types);
//! then checks over the whole expression (overlapping paths). Unused placeholders are reported
//! by [`Placeholders::finish`] once every expression of the request is parsed.

mod condition;
mod key_condition;
pub(crate) mod lexer;
mod projection;
mod update;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

pub use condition::parse_condition;
pub use key_condition::parse_key_condition;
pub use projection::parse_projection;
pub use update::parse_update;

use crate::error::{Error, ExpressionKind};
use crate::path::{DocumentPath, PathElement};
use crate::reserved::is_reserved;
use crate::value::AttributeValue;
use lexer::{Token, TokenKind, tokenize};

/// A request's `ExpressionAttributeNames` and `ExpressionAttributeValues`, checked, and which of
/// them the request's expressions used.
#[derive(Debug, Clone, Default)]
pub struct Placeholders {
    names: BTreeMap<String, String>,
    values: BTreeMap<String, AttributeValue>,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl Placeholders {
    /// Checks the maps as DynamoDB does before parsing anything: a map that is given must not
    /// be empty, and keys must be `#`/`:` followed by letters, digits or `_`.
    pub fn new(
        names: Option<BTreeMap<String, String>>,
        values: Option<BTreeMap<String, AttributeValue>>,
    ) -> Result<Placeholders, Error> {
        if let Some(names) = &names {
            if names.is_empty() {
                return Err(Error::EmptyNames);
            }
            if let Some(key) = names.keys().find(|key| !valid_key(key, '#')) {
                return Err(Error::InvalidNameKey { key: key.clone() });
            }
        }
        if let Some(values) = &values {
            if values.is_empty() {
                return Err(Error::EmptyValues);
            }
            if let Some(key) = values.keys().find(|key| !valid_key(key, ':')) {
                return Err(Error::InvalidValueKey { key: key.clone() });
            }
        }
        Ok(Placeholders {
            names: names.unwrap_or_default(),
            values: values.unwrap_or_default(),
            ..Placeholders::default()
        })
    }

    /// Like [`Placeholders::new`], from the request's JSON (either may be absent). Values are
    /// checked as attribute values; a bad one gives "ExpressionAttributeValues contains invalid
    /// value: … for key :v".
    pub fn from_json(names: Option<&Json>, values: Option<&Json>) -> Result<Placeholders, Error> {
        let names = match names {
            None | Some(Json::Null) => None,
            Some(Json::Object(object)) => Some(
                object
                    .iter()
                    .map(|(key, value)| match value {
                        Json::String(name) => Ok((key.clone(), name.clone())),
                        _ => Err(Error::InvalidNameKey { key: key.clone() }),
                    })
                    .collect::<Result<BTreeMap<_, _>, _>>()?,
            ),
            Some(_) => return Err(Error::EmptyNames),
        };
        let values = match values {
            None | Some(Json::Null) => None,
            Some(Json::Object(object)) => {
                if let Some(key) = object.keys().find(|key| !valid_key(key, ':')) {
                    return Err(Error::InvalidValueKey { key: key.clone() });
                }
                Some(
                    object
                        .iter()
                        .map(|(key, value)| {
                            AttributeValue::from_json(value)
                                .map(|value| (key.clone(), value))
                                .map_err(|reason| Error::InvalidValue {
                                    key: key.clone(),
                                    reason,
                                })
                        })
                        .collect::<Result<BTreeMap<_, _>, _>>()?,
                )
            }
            Some(_) => return Err(Error::EmptyValues),
        };
        Placeholders::new(names, values)
    }

    /// After every expression of the request is parsed: fails if a name or value was given
    /// but never used (names are reported first).
    pub fn finish(&self) -> Result<(), Error> {
        let unused_names: Vec<String> = self
            .names
            .keys()
            .filter(|key| !self.used_names.contains(*key))
            .cloned()
            .collect();
        if !unused_names.is_empty() {
            return Err(Error::UnusedNames { keys: unused_names });
        }
        let unused_values: Vec<String> = self
            .values
            .keys()
            .filter(|key| !self.used_values.contains(*key))
            .cloned()
            .collect();
        if !unused_values.is_empty() {
            return Err(Error::UnusedValues { keys: unused_values });
        }
        Ok(())
    }
}

fn valid_key(key: &str, sigil: char) -> bool {
    let mut characters = key.chars();
    characters.next() == Some(sigil)
        && key.len() > 1
        && characters.all(|character| character.is_ascii_alphanumeric() || character == '_')
}

/// The token cursor, with the errors it has deferred.
pub(crate) struct Parser<'a> {
    pub(crate) kind: ExpressionKind,
    text: &'a str,
    tokens: Vec<Token>,
    position: usize,
    placeholders: &'a mut Placeholders,
    /// The first reserved word or undefined placeholder met, in source order.
    reference_error: Option<Error>,
    /// The first semantic error met, in source order.
    semantic_error: Option<Error>,
}

impl<'a> Parser<'a> {
    /// Starts parsing, or fails on an empty expression.
    pub(crate) fn new(kind: ExpressionKind, text: &'a str, placeholders: &'a mut Placeholders) -> Result<Self, Error> {
        let tokens = tokenize(text);
        if tokens.is_empty() {
            return Err(Error::Empty { kind });
        }
        Ok(Parser {
            kind,
            text,
            tokens,
            position: 0,
            placeholders,
            reference_error: None,
            semantic_error: None,
        })
    }

    /// Ends parsing: any tokens left are a syntax error; then the deferred errors, in order.
    pub(crate) fn finish<T>(self, parsed: T) -> Result<T, Error> {
        if self.position < self.tokens.len() {
            return Err(self.syntax_error());
        }
        match (self.reference_error, self.semantic_error) {
            (Some(error), _) | (None, Some(error)) => Err(error),
            (None, None) => Ok(parsed),
        }
    }

    pub(crate) fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    pub(crate) fn peek_at(&self, offset: usize) -> Option<&Token> {
        self.tokens.get(self.position + offset)
    }

    pub(crate) fn token_text(&self, token: &Token) -> &'a str {
        &self.text[token.start..token.end]
    }

    /// Whether the next token is this punctuation.
    pub(crate) fn at_punct(&self, punct: &str) -> bool {
        self.peek()
            .is_some_and(|token| token.kind == TokenKind::Punct && self.token_text(token) == punct)
    }

    /// Whether the next token is this keyword (case-insensitive).
    pub(crate) fn at_keyword(&self, keyword: &str) -> bool {
        self.peek()
            .is_some_and(|token| token.kind == TokenKind::Name && self.token_text(token).eq_ignore_ascii_case(keyword))
    }

    pub(crate) fn advance(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).cloned();
        if token.is_some() {
            self.position += 1;
        }
        token
    }

    /// Consumes the punctuation or fails with a syntax error at the current token.
    pub(crate) fn expect_punct(&mut self, punct: &str) -> Result<(), Error> {
        if self.at_punct(punct) {
            self.position += 1;
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    /// Consumes the keyword or fails with a syntax error at the current token.
    pub(crate) fn expect_keyword(&mut self, keyword: &str) -> Result<(), Error> {
        if self.at_keyword(keyword) {
            self.position += 1;
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    /// A syntax error at the current token: `token` is its text (or `<EOF>`), `near` runs from
    /// the token before it to the token after it.
    pub(crate) fn syntax_error(&self) -> Error {
        let index = self.position;
        let token = match self.tokens.get(index) {
            Some(token) => self.token_text(token).to_owned(),
            None => "<EOF>".to_owned(),
        };
        let start = match index.checked_sub(1).and_then(|previous| self.tokens.get(previous)) {
            Some(previous) => previous.start,
            None => self.tokens.get(index).map_or(self.text.len(), |token| token.start),
        };
        let end = match self.tokens.get(index + 1) {
            Some(next) => next.end,
            None => self.tokens.get(index).map_or(self.text.len(), |token| token.end),
        };
        let near = self.text[start..end.max(start)].trim_end().to_owned();
        Error::Syntax {
            kind: self.kind,
            token,
            near,
        }
    }

    /// Records a semantic error, keeping the first.
    pub(crate) fn defer(&mut self, error: Error) {
        if self.semantic_error.is_none() {
            self.semantic_error = Some(error);
        }
    }

    fn defer_reference(&mut self, error: Error) {
        if self.reference_error.is_none() {
            self.reference_error = Some(error);
        }
    }

    /// Resolves a `:value` placeholder token (marking it used). An undefined one is deferred
    /// and stands in as `NULL`.
    pub(crate) fn value(&mut self, token: &Token) -> AttributeValue {
        let key = self.token_text(token);
        match self.placeholders.values.get(key) {
            Some(value) => {
                self.placeholders.used_values.insert(key.to_owned());
                value.clone()
            }
            None => {
                self.defer_reference(Error::UndefinedValue {
                    kind: self.kind,
                    value: key.to_owned(),
                });
                AttributeValue::Null
            }
        }
    }

    /// Parses `name ('.' name | '[' integer ']')*`, where a name is bare or `#placeholder`.
    pub(crate) fn path(&mut self) -> Result<DocumentPath, Error> {
        let mut elements = vec![PathElement::Name(self.path_name()?)];
        loop {
            if self.at_punct(".") {
                self.position += 1;
                elements.push(PathElement::Name(self.path_name()?));
            } else if self.at_punct("[") {
                self.position += 1;
                let index = match self.peek() {
                    Some(token) if token.kind == TokenKind::Integer => self.token_text(token).parse::<usize>().ok(),
                    _ => None,
                };
                let Some(index) = index else {
                    return Err(self.syntax_error());
                };
                self.position += 1;
                self.expect_punct("]")?;
                elements.push(PathElement::Index(index));
            } else {
                return Ok(DocumentPath::from_elements(elements));
            }
        }
    }

    fn path_name(&mut self) -> Result<String, Error> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.syntax_error());
        };
        let text = self.token_text(&token);
        match token.kind {
            TokenKind::Name => {
                self.position += 1;
                if is_reserved(text) {
                    self.defer_reference(Error::ReservedKeyword {
                        kind: self.kind,
                        keyword: text.to_owned(),
                    });
                }
                Ok(text.to_owned())
            }
            TokenKind::NamePlaceholder => {
                self.position += 1;
                match self.placeholders.names.get(text) {
                    Some(name) => {
                        self.placeholders.used_names.insert(text.to_owned());
                        Ok(name.clone())
                    }
                    None => {
                        self.defer_reference(Error::UndefinedName {
                            kind: self.kind,
                            name: text.to_owned(),
                        });
                        Ok(String::new())
                    }
                }
            }
            _ => Err(self.syntax_error()),
        }
    }
}

#[cfg(test)]
mod tests;
