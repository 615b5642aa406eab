//! The front end: tokenizes ASL path text (Jayway and RFC 9535 syntax) into segments.

mod literal;
mod write;

pub(crate) use write::{push_quoted, write_segments};

use crate::{Error, Root};

/// A parsed path: its root and its segments.
#[derive(Debug)]
pub(crate) struct Parsed {
    /// The root, `$`, `$$` or `$name`.
    pub(crate) root: Root,
    /// The segments after the root, in order.
    pub(crate) segments: Vec<Segment>,
}

/// One segment: a child (`.a`, `[..]`) or descendant (`..a`, `..[..]`) segment.
#[derive(Debug)]
pub(crate) struct Segment {
    /// Whether this is a descendant segment.
    pub(crate) descendant: bool,
    /// The selectors, more than one for a union.
    pub(crate) selectors: Vec<Selector>,
    /// The character offset where the segment starts.
    pub(crate) offset: usize,
}

/// One selector inside a segment.
#[derive(Debug)]
pub(crate) enum Selector {
    /// A member name.
    Name(String),
    /// An array index, negative from the end.
    Index(i64),
    /// `*`.
    Wildcard,
    /// An array slice, `start:end:step`.
    Slice(Option<i64>, Option<i64>, Option<i64>),
    /// A filter, already rewritten in RFC 9535 syntax, starting with `?`.
    Filter(String),
}

/// Parses a whole path.
pub(crate) fn parse(text: &str) -> Result<Parsed, Error> {
    if !text.starts_with('$') {
        return Err(Error::MissingRoot { text: text.to_owned() });
    }
    let mut parser = Parser { text, pos: 1 };
    let root = match parser.peek() {
        Some('$') => {
            parser.pos += 1;
            Root::Context
        }
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            let start = parser.pos;
            while parser.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                parser.pos += 1;
            }
            Root::Variable(text[start..parser.pos].to_owned())
        }
        _ => Root::Input,
    };
    let segments = parser.segments(true)?;
    Ok(Parsed { root, segments })
}

/// Whether a character may appear in a dot name. Jayway, which AWS uses, is more permissive
/// than RFC 9535 shorthand: dashes, colons and leading digits are common in event payloads.
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-' || c == ':' || !c.is_ascii()
}

/// A cursor over the text; `pos` is a byte offset.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self, c: char) {
        self.pos += c.len_utf8();
    }

    fn offset_of(&self, pos: usize) -> usize {
        self.text[..pos].chars().count()
    }

    fn skip_blank(&mut self) {
        while let Some(c @ (' ' | '\t' | '\n' | '\r')) = self.peek() {
            self.bump(c);
        }
    }

    fn unexpected(&self) -> Error {
        match self.peek() {
            Some(character) => Error::UnexpectedCharacter {
                character,
                offset: self.offset_of(self.pos),
                text: self.text.to_owned(),
            },
            None => self.end("more input"),
        }
    }

    fn end(&self, expected: &'static str) -> Error {
        Error::UnexpectedEnd {
            expected,
            offset: self.offset_of(self.pos),
            text: self.text.to_owned(),
        }
    }

    /// Parses segments until the end (`top`) or until a character that cannot continue a
    /// query (inside a filter).
    fn segments(&mut self, top: bool) -> Result<Vec<Segment>, Error> {
        let mut segments = Vec::new();
        loop {
            let start = self.pos;
            let offset = self.offset_of(start);
            match self.peek() {
                None => break,
                Some('.') => {
                    self.pos += 1;
                    let descendant = self.peek() == Some('.');
                    if descendant {
                        self.pos += 1;
                    }
                    let selectors = match self.peek() {
                        Some('*') => {
                            self.pos += 1;
                            vec![Selector::Wildcard]
                        }
                        Some('[') if descendant => self.bracket()?,
                        Some(c) if is_name_char(c) => vec![Selector::Name(self.name())],
                        None if descendant => return Err(self.end("a name, '*' or '[' after '..'")),
                        None => {
                            return Err(Error::EmptyName {
                                offset: self.offset_of(self.pos),
                                text: self.text.to_owned(),
                            });
                        }
                        Some(_) => return Err(self.unexpected()),
                    };
                    segments.push(Segment {
                        descendant,
                        selectors,
                        offset,
                    });
                }
                Some('[') => {
                    let selectors = self.bracket()?;
                    segments.push(Segment {
                        descendant: false,
                        selectors,
                        offset,
                    });
                }
                Some(_) if top => return Err(self.unexpected()),
                Some(_) => break,
            }
        }
        Ok(segments)
    }

    fn name(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek().filter(|&c| is_name_char(c)) {
            self.bump(c);
        }
        self.text[start..self.pos].to_owned()
    }

    /// Parses `[selector, ...]`, starting at the `[`.
    fn bracket(&mut self) -> Result<Vec<Selector>, Error> {
        let open = self.pos;
        self.pos += 1;
        let mut selectors = Vec::new();
        loop {
            self.skip_blank();
            selectors.push(self.selector(open)?);
            self.skip_blank();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(']') => {
                    self.pos += 1;
                    return Ok(selectors);
                }
                None => return Err(self.unterminated_bracket(open)),
                Some(_) => return Err(self.unexpected()),
            }
        }
    }

    fn unterminated_bracket(&self, open: usize) -> Error {
        Error::UnterminatedBracket {
            offset: self.offset_of(open),
            text: self.text.to_owned(),
        }
    }

    fn selector(&mut self, open: usize) -> Result<Selector, Error> {
        match self.peek() {
            Some(quote @ ('\'' | '"')) => Ok(Selector::Name(self.string(quote)?)),
            Some('*') => {
                self.pos += 1;
                Ok(Selector::Wildcard)
            }
            Some('?') => {
                self.pos += 1;
                Ok(Selector::Filter(self.filter(open)?))
            }
            Some(c) if c == '-' || c == ':' || c.is_ascii_digit() => self.index_or_slice(),
            None => Err(self.unterminated_bracket(open)),
            Some(_) => Err(self.unexpected()),
        }
    }

    fn index_or_slice(&mut self) -> Result<Selector, Error> {
        let start = self.integer()?;
        self.skip_blank();
        if self.peek() != Some(':') {
            return match start {
                Some(index) => Ok(Selector::Index(index)),
                None => Err(self.unexpected()),
            };
        }
        self.pos += 1;
        self.skip_blank();
        let end = self.integer()?;
        self.skip_blank();
        let mut step = None;
        if self.peek() == Some(':') {
            self.pos += 1;
            self.skip_blank();
            step = self.integer()?;
        }
        Ok(Selector::Slice(start, end, step))
    }
}

#[cfg(test)]
mod tests;
