//! The errors of parsing a template and of evaluating it.

/// One expression in a template that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at '{pointer}'")]
pub struct ParseError {
    /// Where the expression sits, as a JSON pointer relative to the parsed value (`""` for the
    /// value itself, `"/a/0"` for the first element of member `a`).
    pub pointer: String,
    /// What is wrong with it: the parser's message, or the Step Functions restriction broken.
    pub message: String,
}

/// An expression that failed to evaluate. The `asl` crate reports every variant as
/// `States.QueryEvaluationError`.
///
/// `field` names where the expression sits the way AWS does: `/` before each object key and
/// `[i]` for each array index, relative to the evaluated value (`""` for the value itself).
/// [`Error::in_field`] puts the name of the state's field in front.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The expression yielded nothing (undefined) where a value is required.
    #[error("The JSONata expression '{expression}' specified for the field '{field}' returned nothing (undefined).")]
    Undefined {
        /// The expression, without its `{% %}`.
        expression: String,
        /// Where it sits (see [`Error`]).
        field: String,
    },
    /// Evaluating the expression raised an error (a type error, a bad function argument, a
    /// timeout, ...).
    #[error(
        "An error occurred while evaluating the JSONata expression '{expression}' specified for the field '{field}': {message}"
    )]
    Evaluation {
        /// The expression, without its `{% %}`.
        expression: String,
        /// Where it sits (see [`Error`]).
        field: String,
        /// JSONata's message, with its code when it has one (`T2001: ...`).
        message: String,
    },
}

impl Error {
    /// The same error, its field put under `name` (`Output`, `Arguments`, `Choices[1]/Condition`).
    #[must_use]
    pub fn in_field(mut self, name: &str) -> Self {
        let field = match &mut self {
            Error::Undefined { field, .. } | Error::Evaluation { field, .. } => field,
        };
        field.insert_str(0, name);
        self
    }

    /// The expression that failed, without its `{% %}`.
    pub fn expression(&self) -> &str {
        match self {
            Error::Undefined { expression, .. } | Error::Evaluation { expression, .. } => expression,
        }
    }

    /// Where the failed expression sits (see [`Error`]).
    pub fn field(&self) -> &str {
        match self {
            Error::Undefined { field, .. } | Error::Evaluation { field, .. } => field,
        }
    }
}
