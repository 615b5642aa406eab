//! Problems found in a definition, each with the JSON pointer of where it is.

use std::fmt;

/// One problem of a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The JSON pointer (RFC 6901) of the offending value, e.g. `/States/Rotate/Next`.
    pub pointer: String,
    /// What is wrong, as a sentence fragment: `no state named "Merge"`.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}", self.pointer, self.message)
    }
}

/// Every problem of a definition, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Records a problem at `pointer`.
    pub fn push(&mut self, pointer: &Pointer, message: impl Into<String>) {
        self.0.push(Diagnostic {
            pointer: pointer.to_string(),
            message: message.into(),
        });
    }

    /// Whether no problem was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for diagnostic in &self.0 {
            writeln!(formatter, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// A JSON pointer being built while walking a definition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pointer(String);

impl Pointer {
    /// The pointer to the document's root (the empty string).
    pub fn root() -> Pointer {
        Pointer(String::new())
    }

    /// The pointer to a member of the object this pointer names, escaped as RFC 6901 says.
    pub fn field(&self, name: &str) -> Pointer {
        let escaped = name.replace('~', "~0").replace('/', "~1");
        Pointer(format!("{}/{}", self.0, escaped))
    }

    /// The last reference token, unescaped: the name of the field this pointer names.
    pub fn last(&self) -> String {
        let token = self.0.rsplit('/').next().unwrap_or_default();
        token.replace("~1", "/").replace("~0", "~")
    }

    /// The pointer to an element of the array this pointer names.
    pub fn index(&self, position: usize) -> Pointer {
        Pointer(format!("{}/{}", self.0, position))
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}
