//! The error type: a pattern that is not JSON, a pattern that breaks EventBridge's rules (with every
//! problem and its JSON pointer), and an event that is not a JSON object.

use std::fmt;

/// Why a pattern (or, for [`crate::test_event_pattern`], an event) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The pattern text is not JSON.
    #[error("Event pattern is not valid JSON: {message}")]
    Syntax {
        /// serde_json's description, with the line and column.
        message: String,
    },
    /// The pattern is JSON but not a valid event pattern. Every problem found is listed, in
    /// document order; there is at least one.
    #[error("Event pattern is not valid. Reason: {}", DiagnosticList(diagnostics))]
    Invalid {
        /// The problems, each with the JSON pointer of the offending value in the pattern.
        diagnostics: Vec<Diagnostic>,
    },
    /// The event given to [`crate::test_event_pattern`] is not a JSON object.
    #[error("Event is not valid: {message}")]
    InvalidEvent {
        /// What is wrong with it.
        message: String,
    },
}

/// The name the TestEventPattern API uses for [`Error`].
pub type PatternError = Error;

impl Error {
    /// The diagnostics of an [`Error::Invalid`]; empty for the other variants.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Error::Invalid { diagnostics } => diagnostics,
            _ => &[],
        }
    }
}

/// One problem in a pattern: where it is and what is wrong, in EventBridge's words where it has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// A JSON pointer (RFC 6901) into the pattern, e.g. `/detail/state/0/prefix`; empty for the
    /// pattern as a whole.
    pub pointer: String,
    /// What is wrong, e.g. `prefix match pattern must be a string`.
    pub message: String,
}

impl Diagnostic {
    pub(crate) fn new(pointer: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            pointer: pointer.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            formatter.write_str(&self.message)
        } else {
            write!(formatter, "{}: {}", self.pointer, self.message)
        }
    }
}

struct DiagnosticList<'a>(&'a [Diagnostic]);

impl fmt::Display for DiagnosticList<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, diagnostic) in self.0.iter().enumerate() {
            if index > 0 {
                formatter.write_str("; ")?;
            }
            write!(formatter, "{diagnostic}")?;
        }
        Ok(())
    }
}
