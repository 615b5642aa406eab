//! BatchGetItem and BatchWriteItem: many items in one request, each table's keys checked, no
//! key twice. Every item is processed, so `UnprocessedKeys` and `UnprocessedItems` are always
//! empty (their shapes are kept for clients that loop on them).
//!
//! Spec: <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html>,
//! <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html>.

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json, json};
use sluice_expressions::{Item, item_to_json};
use sluice_store::tables::{Change, ItemKey, ItemWrite, Outcome, Refusal};

use crate::Tables;
use crate::error::{Error, ErrorCode};
use crate::items::{check_item, check_key};
use crate::request::{Request, parse_item};

/// The most keys one BatchGetItem reads.
pub const MAX_BATCH_GET: usize = 100;
/// The most writes one BatchWriteItem makes.
pub const MAX_BATCH_WRITE: usize = 25;

impl Tables {
    pub(crate) async fn batch_get_item(&self, request: Json) -> Result<Json, Error> {
        let mut request = Request::new(request)?;
        let request_items = request.object("RequestItems");
        request.ignored_reports();
        if request_items.is_none() && !request.has_problems() {
            request.violation("RequestItems", None, "Member must not be null");
        }
        request.finish()?;
        let request_items = request_items.unwrap_or_default();
        if request_items.is_empty() {
            return Err(Error::validation(
                "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ));
        }
        // 1. Every table's keys and projection, checked.
        let mut reads: Vec<(String, Item, Option<sluice_expressions::Projection>)> = Vec::new();
        let mut seen: BTreeSet<(String, ItemKey)> = BTreeSet::new();
        for (name, keys_and_attributes) in request_items {
            let Json::Object(members) = keys_and_attributes else {
                return Err(Error::new(
                    ErrorCode::SerializationException,
                    format!("Expected an object at 'requestItems.{name}'."),
                ));
            };
            let mut entry = Request::nested(members, format!("requestItems.{name}.member"));
            entry.refuse_legacy()?;
            let keys = entry.required_list("Keys", 1, MAX_BATCH_GET);
            entry.boolean("ConsistentRead");
            let mut placeholders = entry.placeholders()?;
            let projection = entry.projection(&mut placeholders)?;
            entry.finish()?;
            placeholders.finish()?;
            let table = self.table(&name).await?;
            for key in &keys {
                let key = parse_item(key)?;
                check_key(&table.key_schema, &key)?;
                let encoded = ItemKey::of(&table.key_schema, &key)
                    .ok_or_else(|| Error::validation("The provided key element does not match the schema"))?;
                if !seen.insert((name.clone(), encoded)) {
                    return Err(Error::validation("Provided list of item keys contains duplicates"));
                }
                reads.push((name.clone(), key, projection.clone()));
            }
            if reads.len() > MAX_BATCH_GET {
                return Err(Error::validation("Too many items requested for the BatchGetItem call"));
            }
        }
        // 2. One snapshot for all of them.
        let keys = reads.iter().map(|(name, key, _)| (name.clone(), key.clone())).collect();
        let items = self.store.get_items(keys, self.now_seconds()).await?;
        let mut responses: Map<String, Json> = Map::new();
        for ((name, _, projection), item) in reads.iter().zip(items) {
            let list = responses.entry(name.clone()).or_insert_with(|| Json::Array(Vec::new()));
            if let (Some(item), Json::Array(list)) = (item, list) {
                let item = projection
                    .as_ref()
                    .map_or(item.clone(), |projection| projection.apply(&item));
                list.push(item_to_json(&item));
            }
        }
        Ok(json!({"Responses": responses, "UnprocessedKeys": {}}))
    }

    pub(crate) async fn batch_write_item(&self, request: Json) -> Result<Json, Error> {
        let mut request = Request::new(request)?;
        let request_items = request.object("RequestItems");
        request.ignored_reports();
        if request_items.is_none() && !request.has_problems() {
            request.violation("RequestItems", None, "Member must not be null");
        }
        request.finish()?;
        let request_items = request_items.unwrap_or_default();
        if request_items.is_empty() {
            return Err(Error::validation(
                "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ));
        }
        let total: usize = request_items
            .values()
            .map(|requests| requests.as_array().map_or(0, Vec::len))
            .sum();
        if total > MAX_BATCH_WRITE {
            return Err(Error::validation(format!(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to {MAX_BATCH_WRITE}, Member must have length greater than or equal to 1]"
            )));
        }
        let mut writes = Vec::with_capacity(total);
        let mut seen: BTreeSet<(String, ItemKey)> = BTreeSet::new();
        for (name, requests) in request_items {
            let Json::Array(requests) = requests else {
                return Err(Error::new(
                    ErrorCode::SerializationException,
                    format!("Expected a list at 'requestItems.{name}'."),
                ));
            };
            if requests.is_empty() {
                return Err(Error::validation(format!(
                    "1 validation error detected: Value '[]' at 'requestItems.{name}.member' failed to satisfy constraint: Member must have length greater than or equal to 1"
                )));
            }
            let table = self.table(&name).await?;
            for write_request in requests {
                let (key, change) = match (write_request.get("PutRequest"), write_request.get("DeleteRequest")) {
                    (Some(put), None) => {
                        let item = parse_item(put.get("Item").unwrap_or(&Json::Null))?;
                        check_item(&table.key_schema, &item)?;
                        (table.key_schema.key_of(&item), Change::Put(item))
                    }
                    (None, Some(delete)) => {
                        let key = parse_item(delete.get("Key").unwrap_or(&Json::Null))?;
                        check_key(&table.key_schema, &key)?;
                        (key, Change::Delete)
                    }
                    _ => {
                        return Err(Error::validation(
                            "A WriteRequest must have exactly one of PutRequest and DeleteRequest",
                        ));
                    }
                };
                let encoded = ItemKey::of(&table.key_schema, &key)
                    .ok_or_else(|| Error::validation("The provided key element does not match the schema"))?;
                if !seen.insert((name.clone(), encoded)) {
                    return Err(Error::validation("Provided list of item keys contains duplicates"));
                }
                writes.push(ItemWrite {
                    table: name.clone(),
                    key,
                    condition: None,
                    change,
                });
            }
        }
        match self.store.write_items(writes, self.now_millis(), None).await? {
            Outcome::Applied(_) => Ok(json!({"UnprocessedItems": {}})),
            Outcome::Cancelled(refusals) => Err(match refusals.into_iter().flatten().next() {
                Some(Refusal::Invalid(error)) => error.into(),
                Some(Refusal::TableNotFound) | None => Error::no_table(),
                Some(Refusal::ConditionFailed { .. }) => Error::new(
                    ErrorCode::ConditionalCheckFailedException,
                    "The conditional request failed",
                ),
            }),
            Outcome::Repeated | Outcome::TokenMismatch => Err(Error::new(
                ErrorCode::InternalServerError,
                "the store answered a batch without a token as a repeat",
            )),
        }
    }
}
