//! Lambda's SQS event: one record per message
//! (<https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>), and the partial batch
//! response a function answers with when the mapping reports batch item failures
//! (<https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html>).

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use crate::receive::Message;

/// Why a partial batch response fails the whole batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchResponseError {
    /// The response is not an object, or `batchItemFailures` is not a list of objects.
    #[error("the response is not a partial batch response: {0}")]
    Shape(String),
    /// An entry has no `itemIdentifier`, a null or empty one, or one that is not text.
    #[error("batchItemFailures[{index}] has no itemIdentifier naming a message")]
    MissingIdentifier {
        /// The entry's position.
        index: usize,
    },
    /// An `itemIdentifier` names no message of the batch.
    #[error("batchItemFailures[{index}].itemIdentifier {identifier:?} is not the messageId of a record in the batch")]
    UnknownIdentifier {
        /// The entry's position.
        index: usize,
        /// What it named.
        identifier: String,
    },
}

/// The record of one received message, as Lambda hands it to a function.
pub(crate) fn record(message: &Message, queue_arn: &str, region: &str) -> Value {
    let attributes: Map<String, Value> = message
        .attributes
        .iter()
        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
        .collect();
    let message_attributes: Map<String, Value> = message
        .message_attributes
        .iter()
        .map(|(name, value)| {
            let mut attribute = Map::new();
            if let Some(text) = &value.string_value {
                attribute.insert("stringValue".into(), Value::String(text.clone()));
            }
            if let Some(binary) = &value.binary_value {
                attribute.insert("binaryValue".into(), Value::String(binary.clone()));
            }
            attribute.insert("stringListValues".into(), json!(value.string_list_values));
            attribute.insert("binaryListValues".into(), json!(value.binary_list_values));
            attribute.insert("dataType".into(), Value::String(value.data_type.clone()));
            (name.clone(), Value::Object(attribute))
        })
        .collect();
    let mut record = json!({
        "messageId": message.message_id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    });
    if let Some(md5) = &message.md5_of_message_attributes {
        record["md5OfMessageAttributes"] = Value::String(md5.clone());
    }
    record
}

/// The message ids a partial batch response reports as failed. As Lambda reads it, a null
/// response, an empty object, and a null or empty `batchItemFailures` mean complete success; an
/// entry without a usable `itemIdentifier`, or one naming no message of the batch, fails the
/// whole batch.
pub fn failed_items(response: &Value, message_ids: &[&str]) -> Result<HashSet<String>, BatchResponseError> {
    let failures = match response {
        Value::Null => return Ok(HashSet::new()),
        Value::Object(fields) => match fields.get("batchItemFailures") {
            None | Some(Value::Null) => return Ok(HashSet::new()),
            Some(Value::Array(failures)) => failures,
            Some(other) => {
                return Err(BatchResponseError::Shape(format!(
                    "batchItemFailures is {other}, not a list"
                )));
            }
        },
        other => {
            return Err(BatchResponseError::Shape(format!("{other} is not an object")));
        }
    };
    let mut failed = HashSet::new();
    for (index, failure) in failures.iter().enumerate() {
        let Value::Object(failure) = failure else {
            return Err(BatchResponseError::Shape(format!(
                "batchItemFailures[{index}] is {failure}, not an object"
            )));
        };
        let identifier = match failure.get("itemIdentifier") {
            Some(Value::String(identifier)) if !identifier.is_empty() => identifier,
            _ => return Err(BatchResponseError::MissingIdentifier { index }),
        };
        if !message_ids.contains(&identifier.as_str()) {
            return Err(BatchResponseError::UnknownIdentifier {
                index,
                identifier: identifier.clone(),
            });
        }
        failed.insert(identifier.clone());
    }
    Ok(failed)
}
