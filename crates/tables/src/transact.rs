//! TransactWriteItems (all or nothing, with a reason per item when cancelled, idempotent by
//! `ClientRequestToken` for ten minutes) and TransactGetItems (one snapshot).
//!
//! Spec: <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html>.

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json, json};
use sluice_expressions::{ExpressionKind, Item, UpdateExpression, item_to_json, parse_update};
use sluice_store::tables::{Change, IdempotencyToken, ItemKey, ItemWrite, Outcome, Refusal};

use crate::Tables;
use crate::error::{Error, ErrorCode};
use crate::items::{check_item, check_key};
use crate::request::Request;

/// The most items one transaction touches.
pub const MAX_TRANSACTION_ITEMS: usize = 100;

/// The four kinds of TransactWriteItems entries.
const WRITE_KINDS: &[&str] = &["ConditionCheck", "Put", "Delete", "Update"];

impl Tables {
    pub(crate) async fn transact_write_items(&self, request: Json) -> Result<Json, Error> {
        let mut request = Request::new(request)?;
        let entries_json = request.take("TransactItems");
        let token = request.string("ClientRequestToken");
        request.ignored_reports();
        let entries = match &entries_json {
            Some(Json::Array(entries)) => entries.clone(),
            Some(_) => {
                return Err(Error::new(
                    ErrorCode::SerializationException,
                    "Expected a list at 'transactItems'.",
                ));
            }
            None => {
                request.violation("TransactItems", None, "Member must not be null");
                Vec::new()
            }
        };
        if entries_json.is_some() && (entries.is_empty() || entries.len() > MAX_TRANSACTION_ITEMS) {
            let constraint = if entries.is_empty() {
                "Member must have length greater than or equal to 1".to_owned()
            } else {
                format!("Member must have length less than or equal to {MAX_TRANSACTION_ITEMS}")
            };
            request.violation("TransactItems", Some("[...]"), &constraint);
        }
        if let Some(token) = &token
            && (token.is_empty() || token.chars().count() > 36)
        {
            request.violation(
                "ClientRequestToken",
                Some(token),
                "Member must have length less than or equal to 36",
            );
        }
        request.finish()?;
        // 1. Each entry parsed and checked against its table; no item twice.
        let mut writes = Vec::with_capacity(entries.len());
        let mut return_old = Vec::with_capacity(entries.len());
        let mut seen: BTreeSet<(String, ItemKey)> = BTreeSet::new();
        for (position, entry) in entries.into_iter().enumerate() {
            let prefix = format!("transactItems.{}.member", position + 1);
            let (write, old_on_failure) = self.transact_write_entry(entry, &prefix).await?;
            let table = self.table(&write.table).await?;
            let encoded = ItemKey::of(&table.key_schema, &write.key)
                .ok_or_else(|| Error::validation("The provided key element does not match the schema"))?;
            if !seen.insert((write.table.clone(), encoded)) {
                return Err(Error::validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
            writes.push(write);
            return_old.push(old_on_failure);
        }
        // 2. All or nothing, in one commit.
        let token = token.map(|token| IdempotencyToken {
            token,
            request: entries_json.map(|entries| entries.to_string()).unwrap_or_default(),
        });
        match self.store.write_items(writes, self.now_millis(), token).await? {
            Outcome::Applied(_) | Outcome::Repeated => Ok(json!({})),
            Outcome::TokenMismatch => Err(Error::new(
                ErrorCode::IdempotentParameterMismatchException,
                "The ClientRequestToken was used less than 10 minutes ago with different request parameters",
            )),
            Outcome::Cancelled(refusals) => Err(cancelled(refusals, &return_old)?),
        }
    }

    /// One TransactWriteItems entry: exactly one of `ConditionCheck`, `Put`, `Delete`, `Update`.
    async fn transact_write_entry(&self, entry: Json, prefix: &str) -> Result<(ItemWrite, bool), Error> {
        let Json::Object(entry) = entry else {
            return Err(Error::new(
                ErrorCode::SerializationException,
                format!("Expected an object at '{prefix}'."),
            ));
        };
        let kinds: Vec<(&str, Map<String, Json>)> = WRITE_KINDS
            .iter()
            .filter_map(|kind| match entry.get(*kind) {
                Some(Json::Object(members)) => Some((*kind, members.clone())),
                _ => None,
            })
            .collect();
        let [(kind, members)] = <[_; 1]>::try_from(kinds).map_err(|_| {
            Error::validation(format!(
                "TransactItems can only contain one of Check, Put, Update or Delete (at '{prefix}')"
            ))
        })?;
        let mut request = Request::nested(members, format!("{prefix}.{}", lower_first(kind)));
        let name = request.table_name("TableName");
        let return_old = request.return_old_on_failure();
        let mut placeholders = request.placeholders()?;
        let (key, item, update) = match kind {
            "Put" => {
                let item = request.required_item("Item")?;
                (None, Some(item), None)
            }
            "Update" => {
                let key = request.required_item("Key")?;
                let update = match request.string("UpdateExpression") {
                    Some(text) => parse_update(&text, &mut placeholders)?,
                    None => {
                        request.violation("UpdateExpression", None, "Member must not be null");
                        UpdateExpression::empty()
                    }
                };
                (Some(key), None, Some(update))
            }
            _ => (Some(request.required_item("Key")?), None, None),
        };
        let condition = request.condition("ConditionExpression", ExpressionKind::Condition, &mut placeholders)?;
        if kind == "ConditionCheck" && condition.is_none() {
            request.violation("ConditionExpression", None, "Member must not be null");
        }
        request.finish()?;
        placeholders.finish()?;
        let table = self.table(&name).await?;
        let (key, change) = match (kind, key, item, update) {
            ("Put", _, Some(item), _) => {
                check_item(&table.key_schema, &item)?;
                (table.key_schema.key_of(&item), Change::Put(item))
            }
            ("Update", Some(key), _, Some(update)) => {
                check_key(&table.key_schema, &key)?;
                update.check_key_attributes(&table.key_schema)?;
                (key, Change::Update(update))
            }
            ("Delete", Some(key), _, _) => {
                check_key(&table.key_schema, &key)?;
                (key, Change::Delete)
            }
            (_, Some(key), _, _) => {
                check_key(&table.key_schema, &key)?;
                (key, Change::Check)
            }
            _ => return Err(Error::validation(format!("The entry at '{prefix}' has no key"))),
        };
        Ok((
            ItemWrite {
                table: name,
                key,
                condition,
                change,
            },
            return_old,
        ))
    }

    pub(crate) async fn transact_get_items(&self, request: Json) -> Result<Json, Error> {
        let mut request = Request::new(request)?;
        let entries = request.required_list("TransactItems", 1, MAX_TRANSACTION_ITEMS);
        request.ignored_reports();
        request.finish()?;
        let mut reads = Vec::with_capacity(entries.len());
        let mut projections = Vec::with_capacity(entries.len());
        for (position, entry) in entries.into_iter().enumerate() {
            let prefix = format!("transactItems.{}.member.get", position + 1);
            let Some(Json::Object(get)) = entry.get("Get").cloned() else {
                return Err(Error::validation(format!(
                    "1 validation error detected: Value null at '{prefix}' failed to satisfy constraint: Member must not be null"
                )));
            };
            let mut get = Request::nested(get, prefix);
            let name = get.table_name("TableName");
            let key = get.required_item("Key")?;
            let mut placeholders = get.placeholders()?;
            let projection = get.projection(&mut placeholders)?;
            get.finish()?;
            placeholders.finish()?;
            let table = self.table(&name).await?;
            check_key(&table.key_schema, &key)?;
            reads.push((name, key));
            projections.push(projection);
        }
        let items = self.store.get_items(reads, self.now_seconds()).await?;
        let responses: Vec<Json> = items
            .into_iter()
            .zip(projections)
            .map(|(item, projection)| match item {
                Some(item) => {
                    let item: Item = projection.map_or(item.clone(), |projection| projection.apply(&item));
                    json!({"Item": item_to_json(&item)})
                }
                None => json!({}),
            })
            .collect();
        Ok(json!({"Responses": responses}))
    }
}

/// The `TransactionCanceledException` for refused writes: a reason per entry, in order.
fn cancelled(refusals: Vec<Option<Refusal>>, return_old: &[bool]) -> Result<Error, Error> {
    let mut codes = Vec::with_capacity(refusals.len());
    let mut reasons = Vec::with_capacity(refusals.len());
    for (position, refusal) in refusals.into_iter().enumerate() {
        let reason = match refusal {
            None => json!({"Code": "None"}),
            Some(Refusal::ConditionFailed { old }) => {
                let mut reason = json!({"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"});
                if let Some(old) = old
                    && return_old.get(position).copied().unwrap_or(false)
                {
                    reason["Item"] = item_to_json(&old);
                }
                reason
            }
            Some(Refusal::Invalid(error)) => json!({"Code": "ValidationError", "Message": error.to_string()}),
            Some(Refusal::TableNotFound) => return Err(Error::no_table()),
        };
        codes.push(reason["Code"].as_str().unwrap_or("None").to_owned());
        reasons.push(reason);
    }
    Ok(Error::new(
        ErrorCode::TransactionCanceledException,
        format!(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
            codes.join(", ")
        ),
    )
    .with("CancellationReasons", Json::Array(reasons)))
}

fn lower_first(text: &str) -> String {
    let mut characters = text.chars();
    match characters.next() {
        Some(first) => first.to_lowercase().chain(characters).collect(),
        None => String::new(),
    }
}
