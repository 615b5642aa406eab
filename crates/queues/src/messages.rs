//! Message contents: bodies and their allowed characters, message attributes and their checks,
//! sizes, and the MD5 digests SQS answers sends and receives with.
//!
//! The digest of message attributes follows SQS's definition: for each attribute in name order,
//! the name, the data type and the value, each as a 4-byte big-endian length and its bytes, with a
//! transport byte before the value (1 for a string value, 2 for a binary value; 3 and 4 for the
//! reserved list values, whose items are each length-prefixed).

use std::collections::BTreeMap;

use base64::Engine;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use crate::error::{Code, Error, Result};

/// One message attribute, with AWS's member names. Binary values are base64 text, as the JSON
/// protocol carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MessageAttributeValue {
    /// `String`, `Number` or `Binary`, optionally with a `.custom` suffix.
    #[serde(default)]
    pub data_type: String,
    /// The value of a `String` or `Number` attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    /// The base64 value of a `Binary` attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_value: Option<String>,
    /// Reserved by SQS.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub string_list_values: Vec<String>,
    /// Reserved by SQS.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub binary_list_values: Vec<String>,
}

/// Message attributes by name.
pub type MessageAttributes = BTreeMap<String, MessageAttributeValue>;

/// The MD5 of a body, as lowercase hex.
pub fn md5_of_body(body: &str) -> String {
    hex(&Md5::digest(body.as_bytes()))
}

/// The MD5 of message attributes as SQS computes it; none when there are none.
pub fn md5_of_attributes(attributes: &MessageAttributes) -> Option<String> {
    if attributes.is_empty() {
        return None;
    }
    fn field(digest: &mut Md5, bytes: &[u8]) {
        digest.update((bytes.len() as u32).to_be_bytes());
        digest.update(bytes);
    }
    let mut digest = Md5::new();
    for (name, value) in attributes {
        field(&mut digest, name.as_bytes());
        field(&mut digest, value.data_type.as_bytes());
        if let Some(text) = &value.string_value {
            digest.update([1]);
            field(&mut digest, text.as_bytes());
        } else if let Some(binary) = &value.binary_value {
            digest.update([2]);
            field(&mut digest, &decode_binary(binary).unwrap_or_default());
        } else if !value.string_list_values.is_empty() {
            digest.update([3]);
            for item in &value.string_list_values {
                field(&mut digest, item.as_bytes());
            }
        } else if !value.binary_list_values.is_empty() {
            digest.update([4]);
            for item in &value.binary_list_values {
                field(&mut digest, &decode_binary(item).unwrap_or_default());
            }
        }
    }
    Some(hex(&digest.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Decodes a base64 binary value.
pub(crate) fn decode_binary(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// Checks a body's characters: SQS allows #x9, #xA, #xD, #x20–#xD7FF, #xE000–#xFFFD and
/// #x10000–#x10FFFF.
pub(crate) fn check_body(body: &str) -> Result<()> {
    if body.is_empty() {
        return Err(Error::missing("MessageBody"));
    }
    let allowed = |character: char| matches!(character, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}');
    if !body.chars().all(allowed) {
        return Err(Error::new(
            Code::InvalidMessageContents,
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to \
             #xFFFD | #x10000 to #x10FFFF",
        ));
    }
    Ok(())
}

/// Checks message attributes (at most ten; names, types and values as SQS allows); answers
/// their size in bytes (names, types and values), which counts toward the message size.
pub(crate) fn check_attributes(attributes: &MessageAttributes) -> Result<usize> {
    if attributes.len() > 10 {
        return Err(Error::new(
            Code::InvalidParameterValue,
            format!(
                "Number of message attributes [{}] exceeds the allowed maximum [10].",
                attributes.len()
            ),
        ));
    }
    let mut size = 0;
    for (name, value) in attributes {
        check_attribute_name(name)?;
        let kind = value.data_type.split('.').next().unwrap_or_default();
        let invalid = |reason: String| Error::new(Code::InvalidParameterValue, reason);
        if value.data_type.is_empty() {
            return Err(invalid(format!(
                "The message attribute '{name}' must contain non-empty message attribute type."
            )));
        }
        if value.data_type.len() > 256 {
            return Err(invalid(format!(
                "The message attribute '{name}' has a type longer than 256 characters."
            )));
        }
        size += name.len() + value.data_type.len();
        match kind {
            "String" | "Number" => {
                let text = value.string_value.as_deref().filter(|text| !text.is_empty()).ok_or_else(|| {
                    invalid(format!("The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{kind}'."))
                })?;
                check_body(text).map_err(|_| {
                    invalid(format!(
                        "The message attribute '{name}' has invalid characters in its value."
                    ))
                })?;
                if kind == "Number" && !is_number(text) {
                    return Err(invalid(format!(
                        "Can't cast the value of message (user) attribute '{name}' to a number."
                    )));
                }
                size += text.len();
            }
            "Binary" => {
                let bytes = value.binary_value.as_deref().and_then(decode_binary).filter(|bytes| !bytes.is_empty()).ok_or_else(|| {
                    invalid(format!("The message attribute '{name}' must contain non-empty message attribute value for message attribute type 'Binary'."))
                })?;
                size += bytes.len();
            }
            _ => {
                return Err(invalid(format!(
                    "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
                )));
            }
        }
    }
    Ok(size)
}

fn check_attribute_name(name: &str) -> Result<()> {
    let lower = name.to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || matches!(character, '_' | '-' | '.'))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.");
    if valid {
        Ok(())
    } else {
        Err(Error::new(
            Code::InvalidParameterValue,
            format!(
                "Message (user) attribute name '{name}' is invalid: a name has 1 to 256 characters (letters, digits, \
                 '_', '-', '.'), does not start or end with '.', has no '..', and does not start with 'AWS.' or \
                 'Amazon.'."
            ),
        ))
    }
}

/// SQS numbers: up to 38 significant digits, between -10^128 and 10^126.
fn is_number(text: &str) -> bool {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    digits > 0 && digits <= 38 && text.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Message attributes whose names `requested` selects: `All` or `.*` selects all, `prefix.*`
/// those starting with `prefix.`, and any other entry the attribute of that name.
pub(crate) fn select(attributes: &MessageAttributes, requested: &[String]) -> MessageAttributes {
    attributes
        .iter()
        .filter(|(name, _)| {
            requested.iter().any(|wanted| {
                wanted == "All"
                    || wanted == ".*"
                    || wanted == *name
                    || wanted
                        .strip_suffix(".*")
                        .is_some_and(|prefix| name.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('.')))
            })
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(value: &str) -> MessageAttributeValue {
        MessageAttributeValue {
            data_type: "String".into(),
            string_value: Some(value.into()),
            ..MessageAttributeValue::default()
        }
    }

    #[test]
    fn body_digest_is_plain_md5() {
        assert_eq!(md5_of_body("hello"), "5d41402abc4b2a76b9719d911017c592");
    }

    #[test]
    fn attribute_digest_matches_the_length_prefixed_encoding() {
        // Built by hand: 00000001 'a' 00000006 'String' 01 00000001 'b'.
        let mut bytes = Vec::new();
        for part in [&b"a"[..], b"String"] {
            bytes.extend((part.len() as u32).to_be_bytes());
            bytes.extend(part);
        }
        bytes.push(1);
        bytes.extend(1u32.to_be_bytes());
        bytes.extend(b"b");
        let expected = hex(&Md5::digest(&bytes));
        let attributes = MessageAttributes::from([("a".to_owned(), string("b"))]);
        assert_eq!(md5_of_attributes(&attributes), Some(expected));
        assert_eq!(md5_of_attributes(&MessageAttributes::new()), None);
    }

    #[test]
    fn attributes_are_checked() {
        let number = MessageAttributeValue {
            data_type: "Number".into(),
            string_value: Some("x".into()),
            ..MessageAttributeValue::default()
        };
        assert!(check_attributes(&MessageAttributes::from([("n".to_owned(), number)])).is_err());
        assert!(check_attributes(&MessageAttributes::from([("AWS.x".to_owned(), string("v"))])).is_err());
        assert_eq!(
            check_attributes(&MessageAttributes::from([("ab".to_owned(), string("cd"))])).unwrap(),
            10
        );
        let selected = select(
            &MessageAttributes::from([
                ("a.x".to_owned(), string("1")),
                ("ab".to_owned(), string("2")),
                ("b".to_owned(), string("3")),
            ]),
            &["a.*".to_owned(), "b".to_owned()],
        );
        assert_eq!(selected.keys().collect::<Vec<_>>(), ["a.x", "b"]);
        assert!(check_body("ok\u{1}").is_err());
    }
}
