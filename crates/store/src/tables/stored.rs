//! The text forms both backends store a table's key schema and its items in, and the key of an
//! item under its table's schema: one reading of what is on disk, whichever backend wrote it.

use serde_json::{Value as Json, json};
use sluice_expressions::{Item, KeyAttribute, KeySchema, ScalarType, item_from_json};

use super::ItemKey;
use crate::{Error, Result};

/// A key schema as stored: `{"partition": [name, type], "sort": [name, type] | null}`.
pub fn schema_to_text(schema: &KeySchema) -> String {
    let attribute = |attribute: &KeyAttribute| {
        let scalar = match attribute.scalar_type {
            ScalarType::S => "S",
            ScalarType::N => "N",
            ScalarType::B => "B",
        };
        json!([attribute.name, scalar])
    };
    json!({"partition": attribute(&schema.partition), "sort": schema.sort.as_ref().map(attribute)}).to_string()
}

/// Reads what [`schema_to_text`] wrote.
pub fn schema_from_text(text: &str) -> Result<KeySchema> {
    let corrupt = || Error::Backend(format!("a stored key schema is not readable: {text}"));
    let json: Json = serde_json::from_str(text).map_err(|_| corrupt())?;
    let attribute = |json: &Json| -> Option<KeyAttribute> {
        let name = json.get(0)?.as_str()?.to_owned();
        let scalar_type = match json.get(1)?.as_str()? {
            "S" => ScalarType::S,
            "N" => ScalarType::N,
            "B" => ScalarType::B,
            _ => return None,
        };
        Some(KeyAttribute { name, scalar_type })
    };
    let partition = json.get("partition").and_then(attribute).ok_or_else(corrupt)?;
    let sort = match json.get("sort") {
        None | Some(Json::Null) => None,
        Some(sort) => Some(attribute(sort).ok_or_else(corrupt)?),
    };
    Ok(KeySchema { partition, sort })
}

/// The encoded key of `key` under `schema`; a key that does not fit is a backend error (the
/// tables check keys before they reach the store).
pub fn encoded_key(schema: &KeySchema, key: &Item) -> Result<ItemKey> {
    ItemKey::of(schema, key).ok_or_else(|| Error::Backend("an item key does not match its table's key schema".into()))
}

/// An item as stored (DynamoDB JSON).
pub fn parse_item(text: &str) -> Result<Item> {
    let json: Json =
        serde_json::from_str(text).map_err(|error| Error::Backend(format!("a stored item is not JSON: {error}")))?;
    item_from_json(&json).map_err(|error| Error::Backend(format!("a stored item is not valid: {error}")))
}
