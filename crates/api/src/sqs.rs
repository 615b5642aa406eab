//! The SQS API (`AmazonSQS.*`, signing name `sqs`) in the AWS JSON 1.0 protocol, over
//! [`Queues`]: requests decoded with botocore's member names, queue URLs built from the request's
//! `Host` (`http://<host>/<account>/<name>`) and read back to a queue name, and SQS's errors
//! (the error table adds the legacy code botocore reads from `x-amzn-query-error`).

use std::collections::BTreeMap;

use axum::response::Response;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use sluice_queues::{
    BatchEntry, BatchFailure, BatchOutcome, ChangeVisibility, Code, Error, Message, MessageAttributes, Queues,
    ReceiveMessage, SendMessage, Sent,
};

use crate::error::{ApiError, ErrorCode};
use crate::protocol::reply;

#[cfg(test)]
mod tests;

/// The `X-Amz-Target` prefix of SQS.
pub const TARGET_PREFIX: &str = "AmazonSQS";

/// The name SQS requests are signed for.
pub const SIGNING_NAME: &str = "sqs";

/// The SQS error code's entry in the API's error table.
pub fn error_code(code: Code) -> ErrorCode {
    match code {
        Code::QueueDoesNotExist => ErrorCode::QueueDoesNotExist,
        Code::QueueNameExists => ErrorCode::QueueNameExists,
        Code::InvalidParameterValue => ErrorCode::InvalidParameterValue,
        Code::MissingParameter => ErrorCode::MissingParameter,
        Code::InvalidAttributeName => ErrorCode::InvalidAttributeName,
        Code::InvalidAttributeValue => ErrorCode::InvalidAttributeValue,
        Code::InvalidMessageContents => ErrorCode::InvalidMessageContents,
        Code::ReceiptHandleIsInvalid => ErrorCode::ReceiptHandleIsInvalid,
        Code::MessageNotInflight => ErrorCode::MessageNotInflight,
        Code::BatchEntryIdsNotDistinct => ErrorCode::BatchEntryIdsNotDistinct,
        Code::TooManyEntriesInBatchRequest => ErrorCode::TooManyEntriesInBatchRequest,
        Code::EmptyBatchRequest => ErrorCode::EmptyBatchRequest,
        Code::InvalidBatchEntryId => ErrorCode::InvalidBatchEntryId,
        Code::BatchRequestTooLong => ErrorCode::BatchRequestTooLong,
        Code::PurgeQueueInProgress => ErrorCode::PurgeQueueInProgress,
        Code::OverLimit => ErrorCode::OverLimit,
        _ => ErrorCode::UnsupportedOperation,
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> ApiError {
        match error {
            Error::Sqs { code, message } => ApiError::new(error_code(code), message),
            other => ApiError::new(ErrorCode::InternalFailure, other.to_string()),
        }
    }
}

/// Answers one SQS operation. `host` is the request's `Host`, which queue URLs carry.
pub async fn dispatch(queues: &Queues, host: &str, operation: &str, body: &[u8]) -> Result<Response, ApiError> {
    let request: Request = decode(body)?;
    let url = |name: &str| queue_url(host, &queues.options().account, name);
    match operation {
        "CreateQueue" => {
            let name = required(request.queue_name, "QueueName")?;
            let queue = queues
                .create_queue(
                    &name,
                    &request.attributes.unwrap_or_default(),
                    &request.tags.unwrap_or_default(),
                )
                .await?;
            reply(&json!({ "QueueUrl": url(&queue.name) }))
        }
        "GetQueueUrl" => {
            let name = required(request.queue_name, "QueueName")?;
            let queue = queues.get_queue(&name).await?;
            reply(&json!({ "QueueUrl": url(&queue.name) }))
        }
        "GetQueueAttributes" => {
            let name = queue_name(request.queue_url)?;
            let described = queues
                .get_queue_attributes(&name, &request.attribute_names.unwrap_or_default())
                .await?;
            let mut answer = Map::new();
            if !described.attributes.is_empty() {
                answer.insert("Attributes".into(), json!(described.attributes));
            }
            reply(&answer)
        }
        "SetQueueAttributes" => {
            let name = queue_name(request.queue_url)?;
            let attributes = required(request.attributes, "Attributes")?;
            queues.set_queue_attributes(&name, &attributes).await?;
            reply(&json!({}))
        }
        "ListQueues" => {
            let listed = queues
                .list_queues(
                    request.queue_name_prefix.as_deref(),
                    request.max_results,
                    request.next_token.as_deref(),
                )
                .await?;
            let mut answer = Map::new();
            if !listed.names.is_empty() {
                let urls: Vec<String> = listed.names.iter().map(|name| url(name)).collect();
                answer.insert("QueueUrls".into(), json!(urls));
            }
            if let Some(token) = listed.next_token {
                answer.insert("NextToken".into(), json!(token));
            }
            reply(&answer)
        }
        "ListDeadLetterSourceQueues" => {
            let name = queue_name(request.queue_url)?;
            let sources = queues.list_dead_letter_source_queues(&name).await?;
            let urls: Vec<String> = sources.iter().map(|name| url(name)).collect();
            reply(&json!({ "queueUrls": urls }))
        }
        "DeleteQueue" => {
            queues.delete_queue(&queue_name(request.queue_url)?).await?;
            reply(&json!({}))
        }
        "PurgeQueue" => {
            queues.purge_queue(&queue_name(request.queue_url)?).await?;
            reply(&json!({}))
        }
        "TagQueue" => {
            let name = queue_name(request.queue_url)?;
            queues.tag_queue(&name, &required(request.tags_upper, "Tags")?).await?;
            reply(&json!({}))
        }
        "UntagQueue" => {
            let name = queue_name(request.queue_url)?;
            queues
                .untag_queue(&name, &required(request.tag_keys, "TagKeys")?)
                .await?;
            reply(&json!({}))
        }
        "ListQueueTags" => {
            let tags = queues.list_queue_tags(&queue_name(request.queue_url)?).await?;
            let mut answer = Map::new();
            if !tags.is_empty() {
                answer.insert("Tags".into(), json!(tags));
            }
            reply(&answer)
        }
        "SendMessage" => {
            let name = queue_name(request.queue_url.clone())?;
            let message = send_message(request.message)?;
            reply(&sent(None, queues.send_message(&name, message).await?))
        }
        "SendMessageBatch" => {
            let name = queue_name(request.queue_url)?;
            let entries = required(request.entries, "Entries")?
                .into_iter()
                .map(|entry| {
                    Ok(BatchEntry {
                        id: entry.id.unwrap_or_default(),
                        entry: send_message(entry.message)?,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            let outcome = queues.send_message_batch(&name, entries).await?;
            reply(&batch(outcome, |id, result| sent(Some(id), result)))
        }
        "ReceiveMessage" => {
            let name = queue_name(request.queue_url)?;
            let mut system_attribute_names = request.attribute_names.unwrap_or_default();
            system_attribute_names.extend(request.message_system_attribute_names.unwrap_or_default());
            let receive = ReceiveMessage {
                max_messages: request.max_number_of_messages,
                wait_seconds: request.wait_time_seconds,
                visibility_timeout: request.visibility_timeout,
                system_attribute_names,
                message_attribute_names: request.message_attribute_names.unwrap_or_default(),
            };
            let messages = queues.receive_message(&name, &receive).await?;
            let mut answer = Map::new();
            if !messages.is_empty() {
                let messages: Vec<Value> = messages.into_iter().map(message).collect();
                answer.insert("Messages".into(), Value::Array(messages));
            }
            reply(&answer)
        }
        "DeleteMessage" => {
            let name = queue_name(request.queue_url)?;
            let handle = required(request.receipt_handle, "ReceiptHandle")?;
            queues.delete_message(&name, &handle).await?;
            reply(&json!({}))
        }
        "DeleteMessageBatch" => {
            let name = queue_name(request.queue_url)?;
            let entries = required(request.entries, "Entries")?
                .into_iter()
                .map(|entry| {
                    Ok(BatchEntry {
                        id: entry.id.unwrap_or_default(),
                        entry: required(entry.receipt_handle, "ReceiptHandle")?,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            let outcome = queues.delete_message_batch(&name, entries).await?;
            reply(&batch(outcome, |id, ()| json!({ "Id": id })))
        }
        "ChangeMessageVisibility" => {
            let name = queue_name(request.queue_url)?;
            let change = ChangeVisibility {
                receipt_handle: required(request.receipt_handle, "ReceiptHandle")?,
                visibility_timeout: required(request.visibility_timeout, "VisibilityTimeout")?,
            };
            queues.change_message_visibility(&name, change).await?;
            reply(&json!({}))
        }
        "ChangeMessageVisibilityBatch" => {
            let name = queue_name(request.queue_url)?;
            let entries = required(request.entries, "Entries")?
                .into_iter()
                .map(|entry| {
                    Ok(BatchEntry {
                        id: entry.id.unwrap_or_default(),
                        entry: ChangeVisibility {
                            receipt_handle: required(entry.receipt_handle, "ReceiptHandle")?,
                            visibility_timeout: required(entry.visibility_timeout, "VisibilityTimeout")?,
                        },
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            let outcome = queues.change_message_visibility_batch(&name, entries).await?;
            reply(&batch(outcome, |id, ()| json!({ "Id": id })))
        }
        "AddPermission"
        | "RemovePermission"
        | "StartMessageMoveTask"
        | "CancelMessageMoveTask"
        | "ListMessageMoveTasks" => Err(ApiError::new(
            ErrorCode::UnsupportedOperation,
            format!(
                "Sluice does not implement {operation}: it keeps no access policies and moves no messages between queues on request."
            ),
        )),
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("Unknown operation: '{TARGET_PREFIX}.{operation}'"),
        )),
    }
}

/// The members any SQS request may carry (each operation reads its own).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    queue_name: Option<String>,
    queue_url: Option<String>,
    attributes: Option<BTreeMap<String, String>>,
    #[serde(rename = "tags")]
    tags: Option<BTreeMap<String, String>>,
    #[serde(rename = "Tags")]
    tags_upper: Option<BTreeMap<String, String>>,
    tag_keys: Option<Vec<String>>,
    attribute_names: Option<Vec<String>>,
    message_system_attribute_names: Option<Vec<String>>,
    message_attribute_names: Option<Vec<String>>,
    queue_name_prefix: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
    max_number_of_messages: Option<i64>,
    wait_time_seconds: Option<i64>,
    visibility_timeout: Option<i64>,
    receipt_handle: Option<String>,
    entries: Option<Vec<Entry>>,
    #[serde(flatten)]
    message: MessageMembers,
}

/// The members of a message to send, in `SendMessage` and in batch entries.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MessageMembers {
    message_body: Option<String>,
    delay_seconds: Option<i64>,
    message_attributes: Option<MessageAttributes>,
    message_system_attributes: Option<MessageAttributes>,
    message_deduplication_id: Option<String>,
    message_group_id: Option<String>,
}

/// A batch entry of any of the three batch operations.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    id: Option<String>,
    receipt_handle: Option<String>,
    visibility_timeout: Option<i64>,
    #[serde(flatten)]
    message: MessageMembers,
}

fn decode<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|error| {
        ApiError::new(
            ErrorCode::SerializationException,
            format!("The request body is not a valid SQS request: {error}"),
        )
    })
}

fn required<T>(value: Option<T>, member: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| Error::missing(member).into())
}

fn send_message(members: MessageMembers) -> Result<SendMessage, ApiError> {
    Ok(SendMessage {
        body: required(members.message_body, "MessageBody")?,
        delay_seconds: members.delay_seconds,
        attributes: members.message_attributes.unwrap_or_default(),
        system_attributes: members.message_system_attributes.unwrap_or_default(),
        deduplication_id: members.message_deduplication_id,
        group_id: members.message_group_id,
    })
}

/// `http://<host>/<account>/<name>`.
pub fn queue_url(host: &str, account: &str, name: &str) -> String {
    format!("http://{host}/{account}/{name}")
}

/// The queue a URL names: its last path segment (any host, any scheme).
fn queue_name(url: Option<String>) -> Result<String, ApiError> {
    let url = required(url, "QueueUrl")?;
    let path = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    let name = path.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    if name.is_empty() || !path.contains('/') {
        return Err(ApiError::new(
            ErrorCode::QueueDoesNotExist,
            "The specified queue does not exist.",
        ));
    }
    Ok(name.to_owned())
}

fn sent(id: Option<String>, sent: Sent) -> Value {
    let mut answer = Map::new();
    if let Some(id) = id {
        answer.insert("Id".into(), json!(id));
    }
    answer.insert("MessageId".into(), json!(sent.message_id));
    answer.insert("MD5OfMessageBody".into(), json!(sent.md5_of_body));
    if let Some(md5) = sent.md5_of_attributes {
        answer.insert("MD5OfMessageAttributes".into(), json!(md5));
    }
    if let Some(md5) = sent.md5_of_system_attributes {
        answer.insert("MD5OfMessageSystemAttributes".into(), json!(md5));
    }
    if let Some(number) = sent.sequence_number {
        answer.insert("SequenceNumber".into(), json!(number));
    }
    Value::Object(answer)
}

fn batch<T>(outcome: BatchOutcome<T>, success: impl Fn(String, T) -> Value) -> Value {
    let successful: Vec<Value> = outcome
        .successful
        .into_iter()
        .map(|(id, result)| success(id, result))
        .collect();
    let failed: Vec<Value> = outcome.failed.into_iter().map(failure).collect();
    json!({ "Successful": successful, "Failed": failed })
}

fn failure(failure: BatchFailure) -> Value {
    json!({
        "Id": failure.id,
        "SenderFault": failure.sender_fault,
        "Code": failure.code.as_str(),
        "Message": failure.message,
    })
}

fn message(message: Message) -> Value {
    let mut answer = Map::new();
    answer.insert("MessageId".into(), json!(message.message_id));
    answer.insert("ReceiptHandle".into(), json!(message.receipt_handle));
    answer.insert("MD5OfBody".into(), json!(message.md5_of_body));
    answer.insert("Body".into(), json!(message.body));
    if !message.attributes.is_empty() {
        answer.insert("Attributes".into(), json!(message.attributes));
    }
    if let Some(md5) = message.md5_of_message_attributes {
        answer.insert("MD5OfMessageAttributes".into(), json!(md5));
        answer.insert("MessageAttributes".into(), json!(message.message_attributes));
    }
    Value::Object(answer)
}
