//! The AWS JSON 1.0 protocol: `POST /` with `X-Amz-Target: <Prefix>.<Operation>`, a JSON object
//! in and a JSON object out, timestamps as epoch seconds, and members checked against the model's
//! constraints the way AWS's front end checks them.

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::{ApiError, ErrorCode, Shown, Violations};

/// The content type of AWS JSON 1.0 requests and responses.
pub const JSON_1_0: &str = "application/x-amz-json-1.0";

/// Splits `X-Amz-Target` into its prefix and operation: `AWSStepFunctions.StartExecution`.
pub fn split_target(target: &str) -> Option<(&str, &str)> {
    target
        .rsplit_once('.')
        .filter(|(prefix, operation)| !prefix.is_empty() && !operation.is_empty())
}

/// A 200 response carrying `body` as AWS JSON 1.0.
pub fn reply<T: Serialize>(body: &T) -> Result<Response, ApiError> {
    let text = serde_json::to_string(body).map_err(|error| {
        ApiError::new(
            ErrorCode::InternalFailure,
            format!("cannot encode the response: {error}"),
        )
    })?;
    Ok(([(CONTENT_TYPE, JSON_1_0)], text).into_response())
}

/// A point in time, kept in milliseconds since the epoch and sent as epoch seconds with a
/// fraction (`1700000000.123`), which is how botocore's JSON protocol reads timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Milliseconds since the epoch.
    pub millis: i64,
}

impl Timestamp {
    /// The timestamp at `millis` since the epoch.
    pub fn from_millis(millis: i64) -> Timestamp {
        Timestamp { millis }
    }

    /// Seconds since the epoch, with the milliseconds as a fraction.
    pub fn epoch_seconds(self) -> f64 {
        self.millis as f64 / 1000.0
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.millis % 1000 == 0 {
            serializer.serialize_i64(self.millis / 1000)
        } else {
            serializer.serialize_f64(self.epoch_seconds())
        }
    }
}

/// A string enumeration of the model, parsed from AWS's names.
pub trait Enumeration: Sized {
    /// AWS's names, in the model's order (they appear in the `enum value set` message).
    const NAMES: &'static [&'static str];
    /// Parses one of [`Enumeration::NAMES`].
    fn parse(name: &str) -> Option<Self>;
}

/// Declares a string enumeration of the model: the enum, its `as_str`, `Serialize` as AWS's
/// name, and [`Enumeration`].
macro_rules! enumeration {
    ($(#[doc = $doc:literal])* $name:ident { $($(#[doc = $variant_doc:literal])* $variant:ident = $text:literal,)* }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[doc = $variant_doc])* $variant,)*
        }

        impl $name {
            /// AWS's name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl $crate::protocol::Enumeration for $name {
            const NAMES: &'static [&'static str] = &[$($text,)*];
            fn parse(name: &str) -> Option<$name> {
                match name {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}
pub(crate) use enumeration;

/// Whether a string member's value may be shown in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sensitivity {
    /// Shown as `Value 'x' at 'member'`.
    Plain,
    /// Hidden, as AWS hides sensitive members: `Value at 'member'`.
    Sensitive,
}

/// The members of a request body, read one by one. Wrong JSON types are remembered as a
/// `SerializationException`; constraint violations are all collected and reported together by
/// [`Fields::finish`] as one `ValidationException`.
#[derive(Debug)]
pub struct Fields {
    members: Map<String, Value>,
    violations: Violations,
    wrong_type: Option<String>,
}

impl Fields {
    /// Parses a request body: a JSON object (an empty body reads as `{}`).
    pub fn parse(body: &[u8]) -> Result<Fields, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Fields::from_members(Map::new()));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(members)) => Ok(Fields::from_members(members)),
            Ok(_) => Err(ApiError::new(
                ErrorCode::SerializationException,
                "The request body must be a JSON object.",
            )),
            Err(error) => Err(ApiError::new(
                ErrorCode::SerializationException,
                format!("Malformed JSON: {error}"),
            )),
        }
    }

    /// Reads these members.
    pub fn from_members(members: Map<String, Value>) -> Fields {
        Fields {
            members,
            violations: Violations::default(),
            wrong_type: None,
        }
    }

    /// An optional string member of `min..=max` characters.
    pub fn string(&mut self, member: &str, min: usize, max: usize, sensitivity: Sensitivity) -> Option<String> {
        let text = match self.members.remove(member)? {
            Value::Null => return None,
            Value::String(text) => text,
            _ => return self.wrong(member, "a string"),
        };
        let length = text.chars().count();
        let shown = match sensitivity {
            Sensitivity::Plain => Shown::Text(&text),
            Sensitivity::Sensitive => Shown::Hidden,
        };
        if length > max {
            let constraint = format!("Member must have length less than or equal to {max}");
            self.violations.push(member, shown, &constraint);
        } else if length < min {
            let constraint = format!("Member must have length greater than or equal to {min}");
            self.violations.push(member, shown, &constraint);
        }
        Some(text)
    }

    /// A required string member of `min..=max` characters (empty when absent; the absence is
    /// recorded, so [`Fields::finish`] fails).
    pub fn required_string(&mut self, member: &str, min: usize, max: usize, sensitivity: Sensitivity) -> String {
        match self.string(member, min, max, sensitivity) {
            Some(text) => text,
            None => {
                self.missing(member);
                String::new()
            }
        }
    }

    /// An optional boolean member.
    pub fn boolean(&mut self, member: &str) -> Option<bool> {
        match self.members.remove(member)? {
            Value::Null => None,
            Value::Bool(value) => Some(value),
            _ => self.wrong(member, "a boolean"),
        }
    }

    /// An optional integer member in `min..=max`.
    pub fn integer(&mut self, member: &str, min: i64, max: i64) -> Option<i64> {
        let value = match self.members.remove(member)? {
            Value::Null => return None,
            Value::Number(number) => number.as_i64(),
            _ => None,
        };
        let Some(value) = value else {
            return self.wrong(member, "an integer");
        };
        let text = value.to_string();
        if value > max {
            let constraint = format!("Member must have value less than or equal to {max}");
            self.violations.push(member, Shown::Text(&text), &constraint);
        } else if value < min {
            let constraint = format!("Member must have value greater than or equal to {min}");
            self.violations.push(member, Shown::Text(&text), &constraint);
        }
        Some(value)
    }

    /// An optional enumeration member.
    pub fn enumeration<T: Enumeration>(&mut self, member: &str) -> Option<T> {
        let text = self.string(member, 0, usize::MAX, Sensitivity::Plain)?;
        let parsed = T::parse(&text);
        if parsed.is_none() {
            let constraint = format!("Member must satisfy enum value set: [{}]", T::NAMES.join(", "));
            self.violations.push(member, Shown::Text(&text), &constraint);
        }
        parsed
    }

    /// An optional structure or list member, decoded with serde.
    pub fn structure<T: DeserializeOwned>(&mut self, member: &str) -> Option<T> {
        let value = self.members.remove(member)?;
        if value.is_null() {
            return None;
        }
        match serde_json::from_value(value) {
            Ok(decoded) => Some(decoded),
            Err(error) => {
                self.wrong_type
                    .get_or_insert_with(|| format!("Cannot read '{member}': {error}"));
                None
            }
        }
    }

    /// Records a constraint violation found by the caller.
    pub fn violation(&mut self, member: &str, value: Shown<'_>, constraint: &str) {
        self.violations.push(member, value, constraint);
    }

    /// Fails with the first wrong type as a `SerializationException`, or with every constraint
    /// violation as one `ValidationException`.
    pub fn finish(self) -> Result<(), ApiError> {
        if let Some(message) = self.wrong_type {
            return Err(ApiError::new(ErrorCode::SerializationException, message));
        }
        self.violations.finish()
    }

    fn missing(&mut self, member: &str) {
        self.violations.push(member, Shown::Null, "Member must not be null");
    }

    fn wrong<T>(&mut self, member: &str, expected: &str) -> Option<T> {
        self.wrong_type
            .get_or_insert_with(|| format!("Expected {expected} at '{member}'."));
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    enumeration! {
        /// A test enumeration.
        Kind {
            /// Standard.
            Standard = "STANDARD",
            /// Express.
            Express = "EXPRESS",
        }
    }

    fn check(body: &str, read: impl FnOnce(&mut Fields), expect: Result<(), (&str, &str)>) {
        let mut fields = Fields::parse(body.as_bytes()).unwrap();
        read(&mut fields);
        let got = fields
            .finish()
            .map_err(|error| (error.code.as_str().to_owned(), error.message));
        let expect = expect.map_err(|(code, message)| (code.to_owned(), message.to_owned()));
        assert_eq!(got, expect);
    }

    #[test]
    fn reads_valid_members() {
        check(
            r#"{"name":"a","type":"EXPRESS","maxResults":10,"publish":true,"unknown":1}"#,
            |fields| {
                assert_eq!(fields.string("name", 1, 80, Sensitivity::Plain).as_deref(), Some("a"));
                assert_eq!(fields.enumeration::<Kind>("type"), Some(Kind::Express));
                assert_eq!(fields.integer("maxResults", 0, 1000), Some(10));
                assert_eq!(fields.boolean("publish"), Some(true));
                assert_eq!(fields.boolean("absent"), None);
            },
            Ok(()),
        );
    }

    #[test]
    fn collects_violations() {
        check(
            r#"{"type":"BIG","maxResults":1001}"#,
            |fields| {
                fields.required_string("name", 1, 80, Sensitivity::Plain);
                fields.enumeration::<Kind>("type");
                fields.integer("maxResults", 0, 1000);
            },
            Err((
                "ValidationException",
                "3 validation errors detected: Value null at 'name' failed to satisfy constraint: Member must not \
                 be null; Value 'BIG' at 'type' failed to satisfy constraint: Member must satisfy enum value set: \
                 [STANDARD, EXPRESS]; Value '1001' at 'maxResults' failed to satisfy constraint: Member must have \
                 value less than or equal to 1000",
            )),
        );
    }

    #[test]
    fn wrong_types_are_serialization_errors() {
        check(
            r#"{"name":5}"#,
            |fields| {
                fields.string("name", 1, 80, Sensitivity::Plain);
            },
            Err(("SerializationException", "Expected a string at 'name'.")),
        );
        let error = Fields::parse(b"{not json").unwrap_err();
        assert_eq!(error.code, ErrorCode::SerializationException);
        let error = Fields::parse(b"[1]").unwrap_err();
        assert_eq!(error.code, ErrorCode::SerializationException);
        assert!(Fields::parse(b"").is_ok());
    }

    #[test]
    fn timestamps_are_epoch_seconds() {
        let text =
            serde_json::to_string(&[Timestamp::from_millis(1_700_000_000_123), Timestamp::from_millis(5000)]).unwrap();
        assert_eq!(text, "[1700000000.123,5]");
        assert_eq!(
            split_target("AWSStepFunctions.StartExecution"),
            Some(("AWSStepFunctions", "StartExecution"))
        );
        assert_eq!(split_target("NoDot"), None);
    }
}
