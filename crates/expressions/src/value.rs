//! `AttributeValue`, DynamoDB's value type, with its wire form (DynamoDB JSON), validation,
//! comparison and size.
//!
//! Spec: <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html>.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::Error as _;
use serde_json::{Map, Value as Json};

use crate::number::{Number, NumberError};

/// An item: attribute names to values. Ordered, so that output and comparisons are deterministic.
pub type Item = BTreeMap<String, AttributeValue>;

/// The deepest nesting of maps and lists DynamoDB stores.
pub const MAX_NESTING_DEPTH: usize = 32;
/// The largest item DynamoDB stores, in bytes (400 KB).
pub const MAX_ITEM_SIZE: usize = 400 * 1024;

/// One DynamoDB value.
///
/// Sets are kept sorted and free of duplicates (numbers by value, strings and binaries by bytes),
/// so equal sets are equal as Rust values. Construct sets through [`AttributeValue::from_json`]
/// or the `*_set` constructors, which check the rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AttributeValue {
    /// `S`: a UTF-8 string.
    S(String),
    /// `N`: a number.
    N(Number),
    /// `B`: bytes (base64 on the wire).
    B(Vec<u8>),
    /// `BOOL`.
    Bool(bool),
    /// `NULL` (always `true` on the wire).
    Null,
    /// `M`: a map of names to values.
    M(BTreeMap<String, AttributeValue>),
    /// `L`: a list of values.
    L(Vec<AttributeValue>),
    /// `SS`: a non-empty set of strings.
    Ss(Vec<String>),
    /// `NS`: a non-empty set of numbers.
    Ns(Vec<Number>),
    /// `BS`: a non-empty set of binaries.
    Bs(Vec<Vec<u8>>),
}

/// The type of an [`AttributeValue`], named as on the wire (`S`, `N`, …, `BOOL`, `NULL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttributeType {
    /// `S`
    S,
    /// `N`
    N,
    /// `B`
    B,
    /// `BOOL`
    Bool,
    /// `NULL`
    Null,
    /// `M`
    M,
    /// `L`
    L,
    /// `SS`
    Ss,
    /// `NS`
    Ns,
    /// `BS`
    Bs,
}

/// Why a DynamoDB JSON value is not a valid attribute value. The messages are DynamoDB's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// A number that does not parse or does not fit.
    #[error(transparent)]
    Number(#[from] NumberError),
    /// An `SS`, `NS` or `BS` with no members.
    #[error("One or more parameter values were invalid: An {type_word} set  may not be empty")]
    EmptySet {
        /// `string`, `number` or `binary`, as DynamoDB words it.
        type_word: &'static str,
    },
    /// A string set with the same member twice.
    #[error("One or more parameter values were invalid: Input collection [{members}] contains duplicates.")]
    DuplicateStrings {
        /// The members as given, joined with `, `.
        members: String,
    },
    /// A number or binary set with the same member twice (`1` and `1.0` are the same number).
    #[error("Input collection contains duplicates")]
    Duplicates,
    /// `{}`: no type given.
    #[error("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")]
    NoType,
    /// More than one type key, as in `{"S": "a", "N": "1"}`.
    #[error(
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
    )]
    SeveralTypes,
    /// A type key DynamoDB does not know.
    #[error("Unknown AttributeValue type: {key}")]
    UnknownType {
        /// The key as given.
        key: String,
    },
    /// The JSON under a type key has the wrong shape, as in `{"N": 123}`.
    #[error("{found} cannot be converted to {expected}")]
    WrongJson {
        /// What DynamoDB calls the JSON found (`NUMBER_VALUE`, `START_OBJECT`, …).
        found: &'static str,
        /// The expected wire type (`String`, `Boolean`, …).
        expected: &'static str,
    },
    /// `B`/`BS` text that is not base64.
    #[error("Invalid Base64 value for a binary attribute: {text}")]
    InvalidBase64 {
        /// The text as given.
        text: String,
    },
    /// `{"NULL": false}`: NULL must be true.
    #[error("One or more parameter values were invalid: Null attribute value types must have the value of true")]
    NullNotTrue,
    /// Maps and lists nested deeper than 32 levels.
    #[error("Nesting Levels have exceeded supported limits")]
    TooDeep,
    /// The item is larger than 400 KB.
    #[error("Item size has exceeded the maximum allowed size")]
    ItemTooLarge,
}

impl AttributeValue {
    /// The value's type.
    pub fn attribute_type(&self) -> AttributeType {
        match self {
            AttributeValue::S(_) => AttributeType::S,
            AttributeValue::N(_) => AttributeType::N,
            AttributeValue::B(_) => AttributeType::B,
            AttributeValue::Bool(_) => AttributeType::Bool,
            AttributeValue::Null => AttributeType::Null,
            AttributeValue::M(_) => AttributeType::M,
            AttributeValue::L(_) => AttributeType::L,
            AttributeValue::Ss(_) => AttributeType::Ss,
            AttributeValue::Ns(_) => AttributeType::Ns,
            AttributeValue::Bs(_) => AttributeType::Bs,
        }
    }

    /// A string set from members, checked: not empty, no duplicates.
    pub fn string_set(members: Vec<String>) -> Result<AttributeValue, ValueError> {
        if members.is_empty() {
            return Err(ValueError::EmptySet { type_word: "string" });
        }
        let mut sorted = members.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != members.len() {
            return Err(ValueError::DuplicateStrings {
                members: members.join(", "),
            });
        }
        Ok(AttributeValue::Ss(sorted))
    }

    /// A number set from members, checked: not empty, no duplicates (by value).
    pub fn number_set(members: Vec<Number>) -> Result<AttributeValue, ValueError> {
        if members.is_empty() {
            return Err(ValueError::EmptySet { type_word: "number" });
        }
        let mut sorted = members.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != members.len() {
            return Err(ValueError::Duplicates);
        }
        Ok(AttributeValue::Ns(sorted))
    }

    /// A binary set from members, checked: not empty, no duplicates.
    pub fn binary_set(members: Vec<Vec<u8>>) -> Result<AttributeValue, ValueError> {
        if members.is_empty() {
            return Err(ValueError::EmptySet { type_word: "binary" });
        }
        let mut sorted = members.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != members.len() {
            return Err(ValueError::Duplicates);
        }
        Ok(AttributeValue::Bs(sorted))
    }

    /// Parses DynamoDB JSON (`{"S": "x"}`, `{"N": "1.5"}`, `{"B": "<base64>"}`, …), checking
    /// every rule DynamoDB checks on input: numbers, empty and duplicate sets, nesting depth.
    pub fn from_json(json: &Json) -> Result<AttributeValue, ValueError> {
        from_json_at_depth(json, 0)
    }

    /// The DynamoDB JSON form.
    pub fn to_json(&self) -> Json {
        let (key, value) = match self {
            AttributeValue::S(text) => ("S", Json::String(text.clone())),
            AttributeValue::N(number) => ("N", Json::String(number.to_string())),
            AttributeValue::B(bytes) => ("B", Json::String(BASE64.encode(bytes))),
            AttributeValue::Bool(flag) => ("BOOL", Json::Bool(*flag)),
            AttributeValue::Null => ("NULL", Json::Bool(true)),
            AttributeValue::M(map) => (
                "M",
                Json::Object(map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            ),
            AttributeValue::L(list) => ("L", Json::Array(list.iter().map(AttributeValue::to_json).collect())),
            AttributeValue::Ss(set) => ("SS", Json::Array(set.iter().cloned().map(Json::String).collect())),
            AttributeValue::Ns(set) => (
                "NS",
                Json::Array(set.iter().map(|n| Json::String(n.to_string())).collect()),
            ),
            AttributeValue::Bs(set) => (
                "BS",
                Json::Array(set.iter().map(|b| Json::String(BASE64.encode(b))).collect()),
            ),
        };
        let mut object = Map::new();
        object.insert(key.to_owned(), value);
        Json::Object(object)
    }

    /// The bytes this value counts toward an item's size, following "DynamoDB item sizes and
    /// formats" (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html>):
    /// strings and binaries by their length, numbers per [`Number::size`], `BOOL` and `NULL` one
    /// byte, lists and maps 3 bytes plus 1 byte per element (plus each map key's length), sets the
    /// sum of their members.
    pub fn size(&self) -> usize {
        match self {
            AttributeValue::S(text) => text.len(),
            AttributeValue::N(number) => number.size(),
            AttributeValue::B(bytes) => bytes.len(),
            AttributeValue::Bool(_) | AttributeValue::Null => 1,
            AttributeValue::M(map) => {
                3 + map
                    .iter()
                    .map(|(name, value)| name.len() + value.size() + 1)
                    .sum::<usize>()
            }
            AttributeValue::L(list) => 3 + list.iter().map(|value| value.size() + 1).sum::<usize>(),
            AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
            AttributeValue::Ns(set) => set.iter().map(Number::size).sum(),
            AttributeValue::Bs(set) => set.iter().map(Vec::len).sum(),
        }
    }

    /// How DynamoDB prints a value inside error messages: `AttributeValue: {N:10}`.
    pub fn describe(&self) -> String {
        let inner = match self {
            AttributeValue::S(text) => format!("S:{text}"),
            AttributeValue::N(number) => format!("N:{number}"),
            AttributeValue::B(bytes) => format!("B:{}", BASE64.encode(bytes)),
            AttributeValue::Bool(flag) => format!("BOOL:{flag}"),
            AttributeValue::Null => "NULL:true".to_owned(),
            other => format!("{}:{}", other.attribute_type(), other.to_json()),
        };
        format!("AttributeValue: {{{inner}}}")
    }
}

impl AttributeType {
    /// The wire name: `S`, `N`, `B`, `BOOL`, `NULL`, `M`, `L`, `SS`, `NS`, `BS`.
    pub fn as_str(&self) -> &'static str {
        match self {
            AttributeType::S => "S",
            AttributeType::N => "N",
            AttributeType::B => "B",
            AttributeType::Bool => "BOOL",
            AttributeType::Null => "NULL",
            AttributeType::M => "M",
            AttributeType::L => "L",
            AttributeType::Ss => "SS",
            AttributeType::Ns => "NS",
            AttributeType::Bs => "BS",
        }
    }

    /// Parses a wire name, as `attribute_type(path, :t)` takes it.
    pub fn from_wire(name: &str) -> Option<AttributeType> {
        Some(match name {
            "S" => AttributeType::S,
            "N" => AttributeType::N,
            "B" => AttributeType::B,
            "BOOL" => AttributeType::Bool,
            "NULL" => AttributeType::Null,
            "M" => AttributeType::M,
            "L" => AttributeType::L,
            "SS" => AttributeType::Ss,
            "NS" => AttributeType::Ns,
            "BS" => AttributeType::Bs,
            _ => return None,
        })
    }

    /// The long name DynamoDB uses in `ADD`/`DELETE` operand errors (`STRING`, `NUMBER`, …).
    pub fn long_name(&self) -> &'static str {
        match self {
            AttributeType::S => "STRING",
            AttributeType::N => "NUMBER",
            AttributeType::B => "BINARY",
            AttributeType::Bool => "BOOLEAN",
            AttributeType::Null => "NULL",
            AttributeType::M => "MAP",
            AttributeType::L => "LIST",
            AttributeType::Ss => "STRING_SET",
            AttributeType::Ns => "NUMBER_SET",
            AttributeType::Bs => "BINARY_SET",
        }
    }
}

impl fmt::Display for AttributeType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Parses an item in DynamoDB JSON (`{"name": {"S": "x"}, …}`), checking every value and the
/// 400 KB limit.
pub fn item_from_json(json: &Json) -> Result<Item, ValueError> {
    let Json::Object(object) = json else {
        return Err(ValueError::WrongJson {
            found: json_kind(json),
            expected: "Map",
        });
    };
    let mut item = Item::new();
    for (name, value) in object {
        item.insert(name.clone(), AttributeValue::from_json(value)?);
    }
    if item_size(&item) > MAX_ITEM_SIZE {
        return Err(ValueError::ItemTooLarge);
    }
    Ok(item)
}

/// An item in DynamoDB JSON.
pub fn item_to_json(item: &Item) -> Json {
    Json::Object(
        item.iter()
            .map(|(name, value)| (name.clone(), value.to_json()))
            .collect(),
    )
}

/// The item's size as DynamoDB counts it against the 400 KB limit: each attribute's name length
/// plus its value's [`AttributeValue::size`].
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value.size()).sum()
}

fn from_json_at_depth(json: &Json, depth: usize) -> Result<AttributeValue, ValueError> {
    let Json::Object(object) = json else {
        return Err(ValueError::WrongJson {
            found: json_kind(json),
            expected: "AttributeValue",
        });
    };
    let mut entries = object.iter();
    let (key, value) = match (entries.next(), entries.next()) {
        (None, _) => return Err(ValueError::NoType),
        (Some(entry), None) => entry,
        (Some(_), Some(_)) => return Err(ValueError::SeveralTypes),
    };
    let string = |value: &Json| -> Result<String, ValueError> {
        match value {
            Json::String(text) => Ok(text.clone()),
            other => Err(ValueError::WrongJson {
                found: json_kind(other),
                expected: "String",
            }),
        }
    };
    let strings = |value: &Json| -> Result<Vec<String>, ValueError> {
        match value {
            Json::Array(members) => members.iter().map(string).collect(),
            other => Err(ValueError::WrongJson {
                found: json_kind(other),
                expected: "List",
            }),
        }
    };
    let binary = |text: String| -> Result<Vec<u8>, ValueError> {
        BASE64
            .decode(text.as_bytes())
            .map_err(|_| ValueError::InvalidBase64 { text })
    };
    Ok(match key.as_str() {
        "S" => AttributeValue::S(string(value)?),
        "N" => AttributeValue::N(string(value)?.parse()?),
        "B" => AttributeValue::B(binary(string(value)?)?),
        "BOOL" => match value {
            Json::Bool(flag) => AttributeValue::Bool(*flag),
            other => {
                return Err(ValueError::WrongJson {
                    found: json_kind(other),
                    expected: "Boolean",
                });
            }
        },
        "NULL" => match value {
            Json::Bool(true) => AttributeValue::Null,
            Json::Bool(false) => return Err(ValueError::NullNotTrue),
            other => {
                return Err(ValueError::WrongJson {
                    found: json_kind(other),
                    expected: "Boolean",
                });
            }
        },
        "M" => {
            if depth >= MAX_NESTING_DEPTH {
                return Err(ValueError::TooDeep);
            }
            let Json::Object(members) = value else {
                return Err(ValueError::WrongJson {
                    found: json_kind(value),
                    expected: "Map",
                });
            };
            let mut map = BTreeMap::new();
            for (name, member) in members {
                map.insert(name.clone(), from_json_at_depth(member, depth + 1)?);
            }
            AttributeValue::M(map)
        }
        "L" => {
            if depth >= MAX_NESTING_DEPTH {
                return Err(ValueError::TooDeep);
            }
            let Json::Array(members) = value else {
                return Err(ValueError::WrongJson {
                    found: json_kind(value),
                    expected: "List",
                });
            };
            AttributeValue::L(
                members
                    .iter()
                    .map(|member| from_json_at_depth(member, depth + 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        "SS" => AttributeValue::string_set(strings(value)?)?,
        "NS" => {
            let members = strings(value)?
                .iter()
                .map(|text| text.parse())
                .collect::<Result<Vec<Number>, _>>()?;
            AttributeValue::number_set(members)?
        }
        "BS" => AttributeValue::binary_set(strings(value)?.into_iter().map(binary).collect::<Result<_, _>>()?)?,
        other => return Err(ValueError::UnknownType { key: other.to_owned() }),
    })
}

/// The names Jackson gives JSON tokens, which DynamoDB's serialization errors quote.
fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "VALUE_NULL",
        Json::Bool(true) => "VALUE_TRUE",
        Json::Bool(false) => "VALUE_FALSE",
        Json::Number(_) => "NUMBER_VALUE",
        Json::String(_) => "VALUE_STRING",
        Json::Array(_) => "START_ARRAY",
        Json::Object(_) => "START_OBJECT",
    }
}

impl serde::Serialize for AttributeValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for AttributeValue {
    /// Deserialises DynamoDB JSON with the checks of [`AttributeValue::from_json`].
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<AttributeValue, D::Error> {
        let json = Json::deserialize(deserializer)?;
        AttributeValue::from_json(&json).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests;
