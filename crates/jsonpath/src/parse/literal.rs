//! The lexical pieces of a path: integers, quoted strings and filter expressions.

use super::{Parser, push_quoted, write_segments};
use crate::Error;

/// The largest magnitude RFC 9535 allows for an integer, 2^53 − 1.
const MAX_INT: i64 = (1 << 53) - 1;

impl Parser<'_> {
    /// Parses an optional integer: nothing if the next character cannot start one.
    pub(super) fn integer(&mut self) -> Result<Option<i64>, Error> {
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
        }
        let digits = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == digits {
            if digits == start {
                return Ok(None);
            }
            return Err(self.unexpected());
        }
        match self.text[start..self.pos].parse::<i64>() {
            Ok(n) if (-MAX_INT..=MAX_INT).contains(&n) => Ok(Some(n)),
            _ => Err(Error::InvalidNumber {
                offset: self.offset_of(start),
                text: self.text.to_owned(),
            }),
        }
    }

    /// Parses a quoted string, starting at the opening quote, and returns its value.
    pub(super) fn string(&mut self, quote: char) -> Result<String, Error> {
        let open = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(Error::UnterminatedString {
                    offset: self.offset_of(open),
                    text: self.text.to_owned(),
                });
            };
            let at = self.pos;
            self.bump(c);
            if c == quote {
                return Ok(value);
            }
            if c != '\\' {
                value.push(c);
                continue;
            }
            let Some(escape) = self.peek() else {
                return Err(self.invalid_escape(at));
            };
            self.bump(escape);
            let escaped = match escape {
                '\'' | '"' | '\\' | '/' => escape,
                'b' => '\u{8}',
                'f' => '\u{c}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'u' => self.unicode_escape().ok_or_else(|| self.invalid_escape(at))?,
                _ => return Err(self.invalid_escape(at)),
            };
            value.push(escaped);
        }
    }

    pub(super) fn invalid_escape(&self, at: usize) -> Error {
        Error::InvalidEscape {
            offset: self.offset_of(at),
            text: self.text.to_owned(),
        }
    }

    /// Parses the hex digits after `\u`, and a second `\uXXXX` for a surrogate pair.
    pub(super) fn unicode_escape(&mut self) -> Option<char> {
        let high = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&high) {
            self.pos += self.text[self.pos..].starts_with("\\u").then_some(2)?;
            let low = self.hex4().filter(|low| (0xDC00..0xE000).contains(low))?;
            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        } else {
            high
        };
        char::from_u32(code)
    }

    pub(super) fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.pos..self.pos + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let code = u32::from_str_radix(digits, 16).ok()?;
        self.pos += 4;
        Some(code)
    }

    /// Parses a filter expression after the `?` up to the `,` or `]` that ends it, and
    /// returns it in RFC 9535 syntax: queries in bracket notation, strings single-quoted.
    pub(super) fn filter(&mut self, open: usize) -> Result<String, Error> {
        let mut out = String::from("?");
        // The closing brackets still expected, innermost last.
        let mut closers = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.unterminated_bracket(open)),
                Some(quote @ ('\'' | '"')) => push_quoted(&mut out, &self.string(quote)?),
                Some(',' | ']') if closers.is_empty() => return Ok(out),
                Some(root @ ('@' | '$')) => {
                    self.pos += 1;
                    if self.peek() == Some('$') {
                        return Err(self.unexpected());
                    }
                    let segments = self.segments(false)?;
                    out.push(root);
                    write_segments(&mut out, &segments);
                }
                Some(c) => {
                    let balanced = match c {
                        '(' => {
                            closers.push(')');
                            true
                        }
                        '[' => {
                            closers.push(']');
                            true
                        }
                        ')' | ']' => closers.pop() == Some(c),
                        _ => true,
                    };
                    if !balanced {
                        return Err(self.unexpected());
                    }
                    out.push(c);
                    self.bump(c);
                }
            }
        }
    }
}
