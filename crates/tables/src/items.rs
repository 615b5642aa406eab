//! The single-item operations: PutItem, GetItem, DeleteItem, UpdateItem.
//!
//! Spec: <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html> and
//! its siblings. Each write is one [`ItemWrite`] that the store decides inside its transaction.

use serde_json::{Value as Json, json};
use sluice_expressions::{
    ExpressionKind, Item, KeyError, KeySchema, ReturnValues, UpdateExpression, item_to_json, parse_update,
};
use sluice_store::tables::{Change, ItemWrite, Outcome, Refusal, Written};

use crate::Tables;
use crate::error::{Error, ErrorCode};
use crate::request::Request;

impl Tables {
    pub(crate) async fn put_item(&self, request: Json) -> Result<Json, Error> {
        let mut request = Request::new(request)?;
        request.refuse_legacy()?;
        let name = request.table_name("TableName");
        let item = request.required_item("Item")?;
        let return_values = request.return_values(&[ReturnValues::None, ReturnValues::AllOld])?;
        let return_old = request.return_old_on_failure();
        request.ignored_reports();
        let mut placeholders = request.placeholders()?;
        let condition = request.condition("ConditionExpression", ExpressionKind::Condition, &mut placeholders)?;
        request.finish()?;
        placeholders.finish()?;
        let table = self.table(&name).await?;
        check_item(&table.key_schema, &item)?;
        let write = ItemWrite {
            table: name,
            key: table.key_schema.key_of(&item),
            condition,
            change: Change::Put(item),
        };
        let written = self.write_one(write, return_old).await?;
        Ok(attributes(return_values.select(written.old.as_ref(), None, &[], &[])))
    }

    pub(crate) async fn get_item(&self, request: Json) -> Result<Json, Error> {
        let mut request = Request::new(request)?;
        request.refuse_legacy()?;
        let name = request.table_name("TableName");
        let key = request.required_item("Key")?;
        request.boolean("ConsistentRead");
        request.ignored_reports();
        let mut placeholders = request.placeholders()?;
        let projection = request.projection(&mut placeholders)?;
        request.finish()?;
        placeholders.finish()?;
        let table = self.table(&name).await?;
        check_key(&table.key_schema, &key)?;
        let item = self
            .store
            .get_items(vec![(name, key)], self.now_seconds())
            .await?
            .pop()
            .flatten();
        Ok(match item {
            Some(item) => {
                let item = projection.map_or(item.clone(), |projection| projection.apply(&item));
                json!({"Item": item_to_json(&item)})
            }
            None => json!({}),
        })
    }

    pub(crate) async fn delete_item(&self, request: Json) -> Result<Json, Error> {
        let mut request = Request::new(request)?;
        request.refuse_legacy()?;
        let name = request.table_name("TableName");
        let key = request.required_item("Key")?;
        let return_values = request.return_values(&[ReturnValues::None, ReturnValues::AllOld])?;
        let return_old = request.return_old_on_failure();
        request.ignored_reports();
        let mut placeholders = request.placeholders()?;
        let condition = request.condition("ConditionExpression", ExpressionKind::Condition, &mut placeholders)?;
        request.finish()?;
        placeholders.finish()?;
        let table = self.table(&name).await?;
        check_key(&table.key_schema, &key)?;
        let write = ItemWrite {
            table: name,
            key,
            condition,
            change: Change::Delete,
        };
        let written = self.write_one(write, return_old).await?;
        Ok(attributes(return_values.select(written.old.as_ref(), None, &[], &[])))
    }

    pub(crate) async fn update_item(&self, request: Json) -> Result<Json, Error> {
        let mut request = Request::new(request)?;
        request.refuse_legacy()?;
        let name = request.table_name("TableName");
        let key = request.required_item("Key")?;
        let return_values = request.return_values(&[
            ReturnValues::None,
            ReturnValues::AllOld,
            ReturnValues::UpdatedOld,
            ReturnValues::AllNew,
            ReturnValues::UpdatedNew,
        ])?;
        let return_old = request.return_old_on_failure();
        request.ignored_reports();
        let mut placeholders = request.placeholders()?;
        let update = match request.string("UpdateExpression") {
            Some(text) => parse_update(&text, &mut placeholders)?,
            None => UpdateExpression::empty(),
        };
        let condition = request.condition("ConditionExpression", ExpressionKind::Condition, &mut placeholders)?;
        request.finish()?;
        placeholders.finish()?;
        let table = self.table(&name).await?;
        check_key(&table.key_schema, &key)?;
        update.check_key_attributes(&table.key_schema)?;
        let write = ItemWrite {
            table: name,
            key,
            condition,
            change: Change::Update(update),
        };
        let written = self.write_one(write, return_old).await?;
        Ok(attributes(return_values.select(
            written.old.as_ref(),
            written.new.as_ref(),
            &written.updated_old,
            &written.updated_new,
        )))
    }

    /// Makes one write: a failed condition is a `ConditionalCheckFailedException` (with the
    /// item when `return_old`), an update that does not fit the item a `ValidationException`.
    pub(crate) async fn write_one(&self, write: ItemWrite, return_old: bool) -> Result<Written, Error> {
        match self.store.write_items(vec![write], self.now_millis(), None).await? {
            Outcome::Applied(mut written) => written
                .pop()
                .ok_or_else(|| Error::new(ErrorCode::InternalServerError, "the store wrote nothing")),
            Outcome::Cancelled(mut refusals) => Err(match refusals.pop().flatten() {
                Some(Refusal::ConditionFailed { old }) => {
                    let error = Error::new(
                        ErrorCode::ConditionalCheckFailedException,
                        "The conditional request failed",
                    );
                    match old {
                        Some(old) if return_old => error.with("Item", item_to_json(&old)),
                        _ => error,
                    }
                }
                Some(Refusal::Invalid(error)) => error.into(),
                Some(Refusal::TableNotFound) => Error::no_table(),
                None => Error::new(
                    ErrorCode::InternalServerError,
                    "the store cancelled a write without a reason",
                ),
            }),
            Outcome::Repeated | Outcome::TokenMismatch => Err(Error::new(
                ErrorCode::InternalServerError,
                "the store answered a write without a token as a repeat",
            )),
        }
    }
}

/// `{"Attributes": …}` when there is something to return, `{}` otherwise.
fn attributes(selected: Option<Item>) -> Json {
    match selected {
        Some(item) => json!({"Attributes": item_to_json(&item)}),
        None => json!({}),
    }
}

/// Checks an item to be put: every key attribute, of its type, not empty.
pub(crate) fn check_item(schema: &KeySchema, item: &Item) -> Result<(), Error> {
    schema
        .validate_item(item)
        .map_err(|error| Error::validation(error.to_string()))
}

/// Checks a `Key` parameter: exactly the key attributes, of their types.
pub(crate) fn check_key(schema: &KeySchema, key: &Item) -> Result<(), Error> {
    schema.validate_key(key).map_err(|error| match error {
        KeyError::Empty { .. } => Error::validation(error.to_string()),
        _ => Error::validation("The provided key element does not match the schema"),
    })
}
