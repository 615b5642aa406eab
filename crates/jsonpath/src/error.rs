//! The error types: parse errors, failed selections and failed writes.

/// Why a path could not be parsed.
///
/// Offsets count characters (not bytes) from the start of the text, starting at 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is empty or does not start with `$`.
    #[error("a path must start with '$': {text:?}")]
    MissingRoot {
        /// The text as written.
        text: String,
    },
    /// A character that cannot appear where it does.
    #[error("unexpected character {character:?} at {offset} in {text:?}")]
    UnexpectedCharacter {
        /// The offending character.
        character: char,
        /// Its character offset.
        offset: usize,
        /// The text as written.
        text: String,
    },
    /// The text ends where something else was expected.
    #[error("unexpected end at {offset} in {text:?}: expected {expected}")]
    UnexpectedEnd {
        /// What was expected.
        expected: &'static str,
        /// The character offset of the end (the length of the text).
        offset: usize,
        /// The text as written.
        text: String,
    },
    /// A `.` is not followed by a name, as in `$.a.`.
    #[error("empty name at {offset} in {text:?}")]
    EmptyName {
        /// The character offset where the name should start.
        offset: usize,
        /// The text as written.
        text: String,
    },
    /// A quoted name or string has no closing quote.
    #[error("unterminated string starting at {offset} in {text:?}")]
    UnterminatedString {
        /// The character offset of the opening quote.
        offset: usize,
        /// The text as written.
        text: String,
    },
    /// A `[` has no matching `]`.
    #[error("unterminated '[' at {offset} in {text:?}")]
    UnterminatedBracket {
        /// The character offset of the `[`.
        offset: usize,
        /// The text as written.
        text: String,
    },
    /// A backslash in a quoted string is not followed by a valid escape.
    #[error("invalid escape sequence at {offset} in {text:?}")]
    InvalidEscape {
        /// The character offset of the backslash.
        offset: usize,
        /// The text as written.
        text: String,
    },
    /// An index or slice bound is not an integer within ±(2^53 − 1).
    #[error("invalid integer at {offset} in {text:?}: it must be within ±(2^53 - 1)")]
    InvalidNumber {
        /// The character offset where the integer starts.
        offset: usize,
        /// The text as written.
        text: String,
    },
    /// A valid path that is not a reference path, where only a reference path is allowed.
    #[error("{what} at {offset} is not allowed in a reference path: {text:?}")]
    NotReference {
        /// What was found, e.g. "a wildcard".
        what: &'static str,
        /// Its character offset.
        offset: usize,
        /// The text as written.
        text: String,
    },
    /// The RFC 9535 query engine rejected the path, usually an unsupported filter expression.
    #[error("invalid path {text:?}: {message} (in its RFC 9535 form {canonical:?})")]
    InvalidQuery {
        /// The engine's explanation.
        message: String,
        /// The path rewritten in RFC 9535 bracket notation, which the engine parsed.
        canonical: String,
        /// The text as written.
        text: String,
    },
}

/// Why selecting with a path failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectError {
    /// A reference path names a value the document does not have.
    ///
    /// The message is Jayway's, which AWS embeds: "Invalid path '$.X' : No results for path: $['X']".
    #[error("No results for path: {path}")]
    NoResults {
        /// The normalized path, names in single quotes and indices bare: `$['a'][0]`.
        path: String,
    },
}

/// Why writing a value at a reference path failed.
///
/// The ASL interpreter reports these as `States.ResultPathMatchFailure`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetError {
    /// A name step met a value that is not an object.
    #[error("cannot set {path:?}: {at} is {found}, not an object")]
    NotAnObject {
        /// The path as written.
        path: String,
        /// The normalized path of the value that is not an object.
        at: String,
        /// What that value is, e.g. "a number".
        found: &'static str,
    },
    /// An index step met a value that is not an array.
    #[error("cannot set {path:?}: {at} is {found}, not an array")]
    NotAnArray {
        /// The path as written.
        path: String,
        /// The normalized path of the value that is not an array.
        at: String,
        /// What that value is, e.g. "an object".
        found: &'static str,
    },
    /// An index step is past the end (or before the start) of an array.
    #[error("cannot set {path:?}: index {index} is out of bounds for {at}, which has {len} elements")]
    IndexOutOfBounds {
        /// The path as written.
        path: String,
        /// The normalized path of the array.
        at: String,
        /// The index as written.
        index: i64,
        /// The array's length.
        len: usize,
    },
}

impl SetError {
    /// The path as written.
    pub fn path(&self) -> &str {
        match self {
            SetError::NotAnObject { path, .. }
            | SetError::NotAnArray { path, .. }
            | SetError::IndexOutOfBounds { path, .. } => path,
        }
    }
}
