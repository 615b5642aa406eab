//! The syntax of an intrinsic call: `States.Name(arg, …)` with literals, paths and nested calls.
//!
//! See "Intrinsic functions for JSONPath states in Step Functions", sections "Reserved characters in
//! intrinsic functions" (the escapes) and the introduction (at most 10 nested calls):
//! <https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html>.

use serde_json::{Number, Value};
use sluice_jsonpath::Path;

use super::function::Function;

/// Why an intrinsic call could not be parsed, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at character {offset}: {message}")]
pub struct ParseError {
    /// The offset, counted in characters from 0, where the problem was found.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// The deepest nesting of calls AWS accepts: the outer call and nine inside it.
pub(super) const MAX_DEPTH: usize = 10;

/// One call: a function and its arguments, their count already checked against its arity.
#[derive(Debug, Clone)]
pub(super) struct Node {
    pub(super) function: Function,
    pub(super) args: Vec<Arg>,
}

/// One argument of a call.
#[derive(Debug, Clone)]
pub(super) enum Arg {
    /// A string, number, `true`, `false` or `null` written in the call.
    Literal(Value),
    /// The first argument of `States.Format` written as a string literal, split at its `{}`
    /// placeholders (escaped braces `\{`, `\}` are text, never placeholders).
    Template(Vec<Piece>),
    /// A path, resolved when the call runs.
    Path(Path),
    /// A nested call.
    Call(Box<Node>),
}

/// A part of a `States.Format` template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Piece {
    /// Text copied as it is.
    Text(String),
    /// A `{}`, replaced by the next argument.
    Placeholder,
}

/// Parses a whole text as one call; whitespace around it is allowed, anything else is not.
pub(super) fn parse(text: &str) -> Result<Node, ParseError> {
    let mut parser = Parser {
        chars: text.chars().collect(),
        pos: 0,
    };
    parser.skip_whitespace();
    let node = parser.call(1)?;
    parser.skip_whitespace();
    match parser.peek() {
        None => Ok(node),
        Some(c) => Err(parser.error_here(format!("unexpected `{c}` after the call"))),
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn slice(&self, start: usize, end: usize) -> String {
        self.chars[start..end].iter().collect()
    }

    fn error_at(offset: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            offset,
            message: message.into(),
        }
    }

    fn error_here(&self, message: impl Into<String>) -> ParseError {
        Parser::error_at(self.pos, message)
    }

    fn take_word(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
            self.pos += 1;
        }
        self.slice(start, self.pos)
    }

    /// `States.Name(arg, …)`, at nesting level `depth` (the outer call is level 1).
    fn call(&mut self, depth: usize) -> Result<Node, ParseError> {
        let start = self.pos;
        if depth > MAX_DEPTH {
            return Err(Parser::error_at(
                start,
                format!("intrinsic functions nest at most {MAX_DEPTH} deep"),
            ));
        }
        let prefix: Vec<char> = "States.".chars().collect();
        if !self.chars[self.pos..].starts_with(&prefix) {
            return Err(self.error_here("expected an intrinsic function call `States.Name(…)`"));
        }
        self.pos += prefix.len();
        let name = self.take_word();
        if name.is_empty() {
            return Err(self.error_here("expected a function name after `States.`"));
        }
        let function = Function::from_name(&name)
            .ok_or_else(|| Parser::error_at(start, format!("unknown intrinsic function `States.{name}`")))?;
        self.skip_whitespace();
        if self.peek() != Some('(') {
            return Err(self.error_here(format!("expected `(` after `{}`", function.name())));
        }
        self.pos += 1;
        let mut args = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(')') {
            self.pos += 1;
        } else {
            loop {
                self.skip_whitespace();
                args.push(self.argument(function, args.len(), depth)?);
                self.skip_whitespace();
                match self.next() {
                    Some(',') => {}
                    Some(')') => break,
                    Some(c) => {
                        self.pos -= 1;
                        return Err(self.error_here(format!("expected `,` or `)`, found `{c}`")));
                    }
                    None => {
                        return Err(self.error_here(format!(
                            "unterminated call of `{}`: expected `,` or `)`",
                            function.name()
                        )));
                    }
                }
            }
        }
        let arity = function.arity();
        if !arity.accepts(args.len()) {
            return Err(Parser::error_at(
                start,
                format!(
                    "`{}` takes {}, but {} given",
                    function.name(),
                    arity.describe(),
                    match args.len() {
                        1 => "1 was".to_owned(),
                        count => format!("{count} were"),
                    }
                ),
            ));
        }
        Ok(Node { function, args })
    }

    fn argument(&mut self, function: Function, index: usize, depth: usize) -> Result<Arg, ParseError> {
        let start = self.pos;
        match self.peek() {
            None => Err(self.error_here("expected an argument")),
            Some('\'') => {
                let (value, pieces) = self.string()?;
                if function == Function::Format && index == 0 {
                    Ok(Arg::Template(pieces))
                } else {
                    Ok(Arg::Literal(Value::String(value)))
                }
            }
            Some('$') => self.path(),
            Some('-' | '0'..='9') => self.number(),
            Some(c) if c.is_ascii_alphabetic() => {
                let word = self.take_word();
                match word.as_str() {
                    "States" if self.peek() == Some('.') => {
                        self.pos = start;
                        Ok(Arg::Call(Box::new(self.call(depth + 1)?)))
                    }
                    "true" => Ok(Arg::Literal(Value::Bool(true))),
                    "false" => Ok(Arg::Literal(Value::Bool(false))),
                    "null" => Ok(Arg::Literal(Value::Null)),
                    _ => Err(Parser::error_at(
                        start,
                        format!(
                            "unexpected `{word}`: an argument is a 'string', a number, true, \
                             false, null, a path or a `States.` call"
                        ),
                    )),
                }
            }
            Some(c) => Err(self.error_here(format!("expected an argument, found `{c}`"))),
        }
    }

    /// A single-quoted literal: its value, and its split at unescaped `{}` for `States.Format`.
    fn string(&mut self) -> Result<(String, Vec<Piece>), ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        let mut text = String::new();
        let mut pieces = Vec::new();
        loop {
            match self.next() {
                None => return Err(Parser::error_at(start, "unterminated string literal")),
                Some('\'') => break,
                Some('\\') => match self.next() {
                    Some(c @ ('\'' | '{' | '}' | '\\')) => {
                        value.push(c);
                        text.push(c);
                    }
                    Some(c) => {
                        return Err(Parser::error_at(
                            self.pos - 2,
                            format!(
                                "invalid escape `\\{c}` in a string literal: only \\', \\{{, \\}} \
                                 and \\\\ are escapes"
                            ),
                        ));
                    }
                    None => return Err(Parser::error_at(start, "unterminated string literal")),
                },
                Some('{') if self.peek() == Some('}') => {
                    self.pos += 1;
                    value.push_str("{}");
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Placeholder);
                }
                Some(c) => {
                    value.push(c);
                    text.push(c);
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok((value, pieces))
    }

    fn digits(&mut self) -> Result<(), ParseError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error_here("expected a digit"));
        }
        Ok(())
    }

    /// `-12`, `3.5`, `1e3`: an integer when it has neither fraction nor exponent and fits `i64`.
    fn number(&mut self) -> Result<Arg, ParseError> {
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
        }
        self.digits()?;
        let mut integral = true;
        if self.peek() == Some('.') {
            self.pos += 1;
            self.digits()?;
            integral = false;
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some('+' | '-')) {
                self.pos += 1;
            }
            self.digits()?;
            integral = false;
        }
        let text = self.slice(start, self.pos);
        if integral && let Ok(integer) = text.parse::<i64>() {
            return Ok(Arg::Literal(Value::Number(integer.into())));
        }
        text.parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(|number| Arg::Literal(Value::Number(number)))
            .ok_or_else(|| Parser::error_at(start, format!("number `{text}` is out of range")))
    }

    /// A path runs to the `,` or `)` at bracket depth 0 outside quotes.
    fn path(&mut self) -> Result<Arg, ParseError> {
        let start = self.pos;
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            if let Some(open) = quote {
                if c == '\\' {
                    self.pos += 1;
                } else if c == open {
                    quote = None;
                }
                self.pos += 1;
                continue;
            }
            match c {
                '\'' | '"' => quote = Some(c),
                '[' | '(' => depth += 1,
                ']' | ')' if depth > 0 => depth -= 1,
                ',' | ')' => break,
                _ => {}
            }
            self.pos += 1;
        }
        if quote.is_some() {
            return Err(Parser::error_at(start, "unterminated quote in a path"));
        }
        let text = self.slice(start, self.pos);
        let text = text.trim_end();
        Path::parse(text)
            .map(Arg::Path)
            .map_err(|error| Parser::error_at(start, format!("invalid path: {error}")))
    }
}
