//! Key schemas, key validation, and an encoding of key values whose byte order is DynamoDB's
//! sort order, so a store can keep sort keys in an ordered index.
//!
//! DynamoDB orders sort keys "by UTF-8 bytes" for strings, numerically for numbers and as
//! unsigned bytes for binaries
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.CoreComponents.html>,
//! "Query").

use crate::number::{MIN_EXPONENT, Number};
use crate::value::{AttributeType, AttributeValue, Item};

/// The types a key attribute can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarType {
    /// `S`
    S,
    /// `N`
    N,
    /// `B`
    B,
}

/// One key attribute: its name and type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyAttribute {
    /// The attribute name.
    pub name: String,
    /// Its declared type.
    pub scalar_type: ScalarType,
}

/// A table's (or index's) primary key: a partition key and an optional sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeySchema {
    /// The partition (`HASH`) key.
    pub partition: KeyAttribute,
    /// The sort (`RANGE`) key, if any.
    pub sort: Option<KeyAttribute>,
}

/// Why an item's key attributes do not fit the schema. The messages are DynamoDB's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A key attribute is missing from an item.
    #[error("One or more parameter values were invalid: Missing the key {name} in the item")]
    Missing {
        /// The key attribute.
        name: String,
    },
    /// A key attribute has the wrong type.
    #[error(
        "One or more parameter values were invalid: Type mismatch for key {name} expected: {expected} actual: {actual}"
    )]
    TypeMismatch {
        /// The key attribute.
        name: String,
        /// The declared type.
        expected: AttributeType,
        /// The type given.
        actual: AttributeType,
    },
    /// A key attribute is an empty string or binary.
    #[error(
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {kind} value. Key: {name}"
    )]
    Empty {
        /// The key attribute.
        name: String,
        /// `string` or `binary`.
        kind: &'static str,
    },
    /// A `Key` parameter has other attributes than the key, or misses one.
    #[error("The provided key element does not match the schema")]
    SchemaMismatch,
}

impl ScalarType {
    /// The matching attribute type.
    pub fn attribute_type(&self) -> AttributeType {
        match self {
            ScalarType::S => AttributeType::S,
            ScalarType::N => AttributeType::N,
            ScalarType::B => AttributeType::B,
        }
    }
}

impl KeySchema {
    /// The key attribute names, partition first.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.partition.name.as_str()).chain(self.sort.as_ref().map(|sort| sort.name.as_str()))
    }

    /// Whether `name` is one of the key attributes.
    pub fn is_key(&self, name: &str) -> bool {
        self.names().any(|key| key == name)
    }

    /// Checks that an item to be written has every key attribute with the declared type and
    /// not empty.
    pub fn validate_item(&self, item: &Item) -> Result<(), KeyError> {
        for attribute in std::iter::once(&self.partition).chain(self.sort.as_ref()) {
            let value = item.get(&attribute.name).ok_or_else(|| KeyError::Missing {
                name: attribute.name.clone(),
            })?;
            check_key_value(attribute, value)?;
        }
        Ok(())
    }

    /// Checks a `Key` parameter (GetItem, DeleteItem, UpdateItem): exactly the key attributes,
    /// with the declared types.
    pub fn validate_key(&self, key: &Item) -> Result<(), KeyError> {
        let expected = self.names().count();
        if key.len() != expected || !self.names().all(|name| key.contains_key(name)) {
            return Err(KeyError::SchemaMismatch);
        }
        for attribute in std::iter::once(&self.partition).chain(self.sort.as_ref()) {
            let value = &key[&attribute.name];
            if value.attribute_type() != attribute.scalar_type.attribute_type() {
                return Err(KeyError::SchemaMismatch);
            }
            check_key_value(attribute, value)?;
        }
        Ok(())
    }

    /// The item's key: just the key attributes.
    pub fn key_of(&self, item: &Item) -> Item {
        self.names()
            .filter_map(|name| item.get(name).map(|value| (name.to_owned(), value.clone())))
            .collect()
    }
}

fn check_key_value(attribute: &KeyAttribute, value: &AttributeValue) -> Result<(), KeyError> {
    let expected = attribute.scalar_type.attribute_type();
    if value.attribute_type() != expected {
        return Err(KeyError::TypeMismatch {
            name: attribute.name.clone(),
            expected,
            actual: value.attribute_type(),
        });
    }
    let empty = match value {
        AttributeValue::S(text) if text.is_empty() => Some("string"),
        AttributeValue::B(bytes) if bytes.is_empty() => Some("binary"),
        _ => None,
    };
    match empty {
        Some(kind) => Err(KeyError::Empty {
            name: attribute.name.clone(),
            kind,
        }),
        None => Ok(()),
    }
}

/// Encodes a key value so that comparing encodings byte by byte orders them as DynamoDB orders
/// sort keys. Only `S`, `N` and `B` are key types; others give `None`.
///
/// Strings and binaries encode as their bytes. A number encodes as a sign byte (`0x40` negative,
/// `0x80` zero, `0xC0` positive), then the leading digit's exponent shifted into 0..=255, then
/// one byte per digit (digit + 1) and a `0x00` terminator; for negative numbers the exponent and
/// digits are inverted and the terminator is `0xFF`, so larger magnitudes sort first.
pub fn encode_sort_key(value: &AttributeValue) -> Option<Vec<u8>> {
    match value {
        AttributeValue::S(text) => Some(text.as_bytes().to_vec()),
        AttributeValue::B(bytes) => Some(bytes.clone()),
        AttributeValue::N(number) => Some(encode_number(number)),
        _ => None,
    }
}

/// Decodes [`encode_sort_key`]'s output for a key of the given type.
pub fn decode_sort_key(scalar_type: ScalarType, bytes: &[u8]) -> Option<AttributeValue> {
    match scalar_type {
        ScalarType::S => String::from_utf8(bytes.to_vec()).ok().map(AttributeValue::S),
        ScalarType::B => Some(AttributeValue::B(bytes.to_vec())),
        ScalarType::N => decode_number(bytes).map(AttributeValue::N),
    }
}

fn encode_number(number: &Number) -> Vec<u8> {
    if number.is_zero() {
        return vec![0x80];
    }
    let exponent_byte = (number.scientific_exponent() - MIN_EXPONENT) as u8;
    let digits = number.digits();
    let mut encoded = Vec::with_capacity(digits.len() + 3);
    if number.is_negative() {
        encoded.push(0x40);
        encoded.push(!exponent_byte);
        encoded.extend(digits.bytes().map(|digit| 10 - (digit - b'0')));
        encoded.push(0xFF);
    } else {
        encoded.push(0xC0);
        encoded.push(exponent_byte);
        encoded.extend(digits.bytes().map(|digit| digit - b'0' + 1));
        encoded.push(0x00);
    }
    encoded
}

fn decode_number(bytes: &[u8]) -> Option<Number> {
    let (&sign, rest) = bytes.split_first()?;
    if sign == 0x80 {
        return rest.is_empty().then_some(Number::ZERO);
    }
    let negative = match sign {
        0x40 => true,
        0xC0 => false,
        _ => return None,
    };
    let (&exponent_byte, rest) = rest.split_first()?;
    let (&terminator, digit_bytes) = rest.split_last()?;
    if terminator != if negative { 0xFF } else { 0x00 } || digit_bytes.is_empty() {
        return None;
    }
    let exponent = i32::from(if negative { !exponent_byte } else { exponent_byte }) + MIN_EXPONENT;
    let mut digits = String::with_capacity(digit_bytes.len() + 1);
    if negative {
        digits.push('-');
    }
    for &byte in digit_bytes {
        let digit = if negative {
            10u8.checked_sub(byte)?
        } else {
            byte.checked_sub(1)?
        };
        if digit > 9 {
            return None;
        }
        digits.push(char::from(b'0' + digit));
    }
    format!("{digits}E{}", exponent - (digit_bytes.len() as i32 - 1))
        .parse()
        .ok()
}

#[cfg(test)]
mod tests;
