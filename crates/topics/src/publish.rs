//! Publishing: `Publish` and `PublishBatch`. Each message is checked as SNS checks it (size,
//! subject, `MessageStructure`, attributes, the FIFO parameters), matched against each confirmed
//! subscription's filter policy, and written as one delivery per accepting subscription; the
//! answer comes once the store has them all on disk. A FIFO message whose deduplication id was
//! seen in the last five minutes is answered with the original's id and writes nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sluice_store::topics::{
    Deduplication, Publication, Published as Stored, SubscriptionRecord, TopicDelivery, TopicRecord,
};

use crate::attributes::filter_policy;
use crate::envelope::{Notification, Payload, sequence_text, timestamp};
use crate::manage::is_fifo;
use crate::{Code, Error, Result, Topics};

/// The largest message, with its attributes: 256 KiB.
pub const MAX_MESSAGE_BYTES: usize = 262_144;
/// The most entries in a batch.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// The deduplication window.
const DEDUPLICATION_MILLIS: i64 = 5 * 60 * 1_000;

/// A message attribute, with SNS's member names. A binary value is base64 text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MessageAttribute {
    /// `String`, `String.Array`, `Number` or `Binary` (the last three with an optional
    /// `.custom` suffix, except `String.Array`).
    pub data_type: String,
    /// The value of a `String`, `String.Array` or `Number` attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    /// The base64 value of a `Binary` attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_value: Option<String>,
}

/// What `Publish` takes (and each `PublishBatch` entry, without the topic).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishRequest {
    /// The topic.
    pub topic_arn: Option<String>,
    /// The topic, by its other name.
    pub target_arn: Option<String>,
    /// An SMS destination (refused: Sluice sends no SMS).
    pub phone_number: Option<String>,
    /// The message.
    pub message: Option<String>,
    /// The subject.
    pub subject: Option<String>,
    /// `json` for one message per protocol.
    pub message_structure: Option<String>,
    /// Attributes.
    pub attributes: BTreeMap<String, MessageAttribute>,
    /// The FIFO deduplication id.
    pub deduplication_id: Option<String>,
    /// The FIFO message group.
    pub group_id: Option<String>,
}

/// One `PublishBatch` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishEntry {
    /// The entry's id in the batch.
    pub id: String,
    /// The message.
    pub request: PublishRequest,
}

/// What a publish answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The message id (the original's, for a FIFO duplicate).
    pub message_id: String,
    /// The FIFO sequence number.
    pub sequence_number: Option<String>,
}

/// A failed batch entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchFailure {
    /// The entry's id.
    pub id: String,
    /// The code.
    pub code: Code,
    /// The message.
    pub message: String,
    /// Whether the caller is at fault.
    pub sender_fault: bool,
}

/// What `PublishBatch` answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Entry ids with what they published.
    pub successful: Vec<(String, Published)>,
    /// Entries that failed.
    pub failed: Vec<BatchFailure>,
}

impl Topics {
    /// `Publish`.
    pub async fn publish(&self, request: PublishRequest) -> Result<Published> {
        if request.phone_number.is_some() && request.topic_arn.is_none() && request.target_arn.is_none() {
            return Err(Error::invalid(
                "PhoneNumber Reason: Sluice does not send SMS; publish to a topic",
            ));
        }
        let arn = request
            .topic_arn
            .clone()
            .or_else(|| request.target_arn.clone())
            .ok_or_else(|| Error::invalid("TopicArn or TargetArn Reason: no value for required parameter"))?;
        let parameter = if request.topic_arn.is_some() {
            "TopicArn"
        } else {
            "TargetArn"
        };
        let topic = self.topic_of(&arn, parameter).await?;
        let subscriptions = self.deliverable_subscriptions(&topic).await?;
        let now = self.now();
        let publication = prepare(&topic, &subscriptions, &request, now)?;
        let mut answers = self.store().publish(vec![publication.clone()], now).await?;
        let answer = answers
            .pop()
            .ok_or_else(|| Error::Store(sluice_store::Error::Backend("a publish answered nothing".into())))?
            .map_err(crate::from_store)?;
        self.inner.wake.notify_one();
        Ok(published(&publication, answer))
    }

    /// `PublishBatch`: the batch is checked as a whole, then each entry alone; the valid entries
    /// are written in one commit.
    pub async fn publish_batch(&self, topic_arn: &str, entries: Vec<PublishEntry>) -> Result<BatchOutcome> {
        let topic = self.topic_of(topic_arn, "TopicArn").await?;
        check_batch(&entries)?;
        let subscriptions = self.deliverable_subscriptions(&topic).await?;
        let now = self.now();
        let mut outcome = BatchOutcome::default();
        let mut prepared = Vec::new();
        for entry in entries {
            match prepare(&topic, &subscriptions, &entry.request, now) {
                Ok(publication) => prepared.push((entry.id, publication)),
                Err(error) => outcome.failed.push(BatchFailure {
                    id: entry.id,
                    code: error.code(),
                    message: error.to_string(),
                    sender_fault: error.code() != Code::InternalError,
                }),
            }
        }
        if prepared.is_empty() {
            return Ok(outcome);
        }
        let publications: Vec<Publication> = prepared.iter().map(|(_, publication)| publication.clone()).collect();
        let answers = self.store().publish(publications, now).await?;
        for ((id, publication), answer) in prepared.into_iter().zip(answers) {
            match answer {
                Ok(answer) => outcome.successful.push((id, published(&publication, answer))),
                Err(error) => {
                    let error = crate::from_store(error);
                    outcome.failed.push(BatchFailure {
                        id,
                        code: error.code(),
                        message: error.to_string(),
                        sender_fault: false,
                    });
                }
            }
        }
        self.inner.wake.notify_one();
        Ok(outcome)
    }

    /// The topic's confirmed subscriptions.
    async fn deliverable_subscriptions(&self, topic: &TopicRecord) -> Result<Vec<SubscriptionRecord>> {
        let subscriptions = self
            .store()
            .list_subscriptions(Some(topic.name.as_str()), None, usize::MAX >> 1)
            .await?;
        Ok(subscriptions
            .into_iter()
            .filter(|subscription| !subscription.pending)
            .collect())
    }
}

fn published(publication: &Publication, answer: Stored) -> Published {
    match answer {
        Stored::Written { sequence_number } => Published {
            message_id: publication.message_id.clone(),
            sequence_number: sequence_number.map(sequence_text),
        },
        Stored::Duplicate {
            message_id,
            sequence_number,
        } => Published {
            message_id,
            sequence_number: sequence_number.map(sequence_text),
        },
    }
}

fn check_batch(entries: &[PublishEntry]) -> Result<()> {
    let refuse = |code: Code, message: &str| Error::Sns {
        code,
        message: message.to_owned(),
    };
    if entries.is_empty() {
        return Err(refuse(
            Code::EmptyBatchRequest,
            "The batch request doesn't contain any entries.",
        ));
    }
    if entries.len() > MAX_BATCH_ENTRIES {
        return Err(refuse(
            Code::TooManyEntriesInBatchRequest,
            "The batch request contains more entries than permissible.",
        ));
    }
    let mut seen = BTreeSet::new();
    for entry in entries {
        let valid = !entry.id.is_empty()
            && entry.id.len() <= 80
            && entry
                .id
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || character == '-' || character == '_');
        if !valid {
            return Err(refuse(
                Code::InvalidBatchEntryId,
                "The Id of a batch entry in a batch request doesn't abide by the specification.",
            ));
        }
        if !seen.insert(entry.id.as_str()) {
            return Err(refuse(
                Code::BatchEntryIdsNotDistinct,
                "Two or more batch entries in the request have the same Id.",
            ));
        }
    }
    let total: usize = entries.iter().map(|entry| size_of(&entry.request)).sum();
    if total > MAX_MESSAGE_BYTES {
        return Err(refuse(
            Code::BatchRequestTooLong,
            "The length of all the messages put together is more than the limit.",
        ));
    }
    Ok(())
}

/// A message's size as SNS counts it: the message and each attribute's name, type and value.
fn size_of(request: &PublishRequest) -> usize {
    let message = request.message.as_deref().map_or(0, str::len);
    let attributes: usize = request
        .attributes
        .iter()
        .map(|(name, attribute)| {
            name.len()
                + attribute.data_type.len()
                + attribute.string_value.as_deref().map_or(0, str::len)
                + attribute.binary_value.as_deref().map_or(0, str::len)
        })
        .sum();
    message + attributes
}

/// Checks a message and makes its publication: one delivery per subscription that takes it.
fn prepare(
    topic: &TopicRecord,
    subscriptions: &[SubscriptionRecord],
    request: &PublishRequest,
    now: i64,
) -> Result<Publication> {
    // 1. The message, its size and subject.
    let message = request
        .message
        .as_deref()
        .filter(|message| !message.is_empty())
        .ok_or_else(|| Error::invalid("Empty message"))?;
    if size_of(request) > MAX_MESSAGE_BYTES {
        return Err(Error::invalid("Message too long"));
    }
    if let Some(subject) = &request.subject {
        let valid = !subject.is_empty()
            && subject.chars().count() < 100
            && !subject.chars().any(char::is_control)
            && subject.trim() == subject.as_str();
        if !valid {
            return Err(Error::invalid("Subject"));
        }
    }
    // 2. One message per protocol, when asked.
    let per_protocol = match request.message_structure.as_deref() {
        None => None,
        Some("json") => {
            let Ok(Value::Object(object)) = serde_json::from_str::<Value>(message) else {
                return Err(Error::invalid("Message Structure - JSON message body failed to parse"));
            };
            if !object.get("default").is_some_and(Value::is_string) {
                return Err(Error::invalid(
                    "Message Structure - No default entry in JSON message body",
                ));
            }
            Some(object)
        }
        Some(_) => return Err(Error::invalid("MessageStructure")),
    };
    // 3. The attributes.
    for (name, attribute) in &request.attributes {
        check_attribute(name, attribute)?;
    }
    // 4. The FIFO parameters.
    let fifo = is_fifo(topic);
    for (parameter, value) in [
        ("MessageGroupId", &request.group_id),
        ("MessageDeduplicationId", &request.deduplication_id),
    ] {
        if let Some(value) = value {
            let valid = !value.is_empty() && value.len() <= 128 && value.bytes().all(|byte| byte.is_ascii_graphic());
            if !valid {
                return Err(Error::invalid(format!(
                    "{parameter} Reason: must be 1 to 128 letters, digits and punctuation"
                )));
            }
        }
    }
    let deduplication = if fifo {
        let group = request
            .group_id
            .as_deref()
            .ok_or_else(|| Error::invalid("The MessageGroupId parameter is required for FIFO topics"))?;
        let content_based = topic
            .attributes
            .get("ContentBasedDeduplication")
            .is_some_and(|value| value.eq_ignore_ascii_case("true"));
        let id = match (&request.deduplication_id, content_based) {
            (Some(id), _) => id.clone(),
            (None, true) => hex(&Sha256::digest(message.as_bytes())),
            (None, false) => {
                return Err(Error::invalid(
                    "The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                ));
            }
        };
        let per_group = topic
            .attributes
            .get("FifoThroughputScope")
            .is_some_and(|scope| scope == "MessageGroup");
        Some((
            id.clone(),
            Deduplication {
                id: if per_group { format!("{group}\n{id}") } else { id },
                expires_millis: now + DEDUPLICATION_MILLIS,
            },
        ))
    } else {
        if request.deduplication_id.is_some() {
            return Err(Error::invalid(
                "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type",
            ));
        }
        None
    };
    // 5. One delivery per subscription that takes the message.
    let message_id = uuid::Uuid::new_v4().to_string();
    let mut deliveries = Vec::new();
    for subscription in subscriptions {
        let text = per_protocol
            .as_ref()
            .map(|object| {
                object
                    .get(subscription.protocol.as_str())
                    .and_then(Value::as_str)
                    .or_else(|| object.get("default").and_then(Value::as_str))
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_else(|| message.to_owned());
        if let Some(policy) = filter_policy(&subscription.attributes)
            && !policy.matches(&text, &request.attributes)
        {
            continue;
        }
        let notification = Notification {
            message_id: message_id.clone(),
            topic_arn: topic.arn.clone(),
            subject: request.subject.clone(),
            message: text,
            timestamp: timestamp(now),
            attributes: request.attributes.clone(),
            group_id: request.group_id.clone(),
            deduplication_id: deduplication.as_ref().map(|(id, _)| id.clone()),
        };
        let payload = serde_json::to_string(&Payload::Notification(notification))
            .map_err(|error| Error::Store(sluice_store::Error::Backend(error.to_string())))?;
        deliveries.push(TopicDelivery {
            id: uuid::Uuid::new_v4().to_string(),
            subscription_arn: subscription.arn.clone(),
            ordering_key: match (&request.group_id, fifo) {
                (Some(group), true) => Some(format!("{}\n{group}", subscription.arn)),
                _ => None,
            },
            payload,
            sequence_number: None,
            published_millis: now,
            due_millis: now,
            attempts: 0,
            lease_until_millis: 0,
        });
    }
    Ok(Publication {
        topic: topic.name.clone(),
        message_id,
        deduplication: deduplication.map(|(_, deduplication)| deduplication),
        deliveries,
    })
}

fn check_attribute(name: &str, attribute: &MessageAttribute) -> Result<()> {
    let invalid = |reason: String| Error::invalid(format!("MessageAttributes: {reason}"));
    let lower = name.to_ascii_lowercase();
    let valid_name = !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || matches!(character, '_' | '-' | '.'))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.");
    if !valid_name {
        return Err(invalid(format!(
            "The message attribute name '{name}' is invalid: 1 to 256 letters, digits, '_', '-' and '.', without '..', a leading or trailing '.', or the reserved prefixes AWS. and Amazon."
        )));
    }
    let data_type = attribute.data_type.as_str();
    let (base, custom) = data_type.split_once('.').unwrap_or((data_type, ""));
    let known = data_type == "String.Array"
        || (matches!(base, "String" | "Number" | "Binary") && (custom.is_empty() || data_type.len() > base.len() + 1));
    if !known || data_type.len() > 256 {
        return Err(invalid(format!(
            "The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
        )));
    }
    if base == "Binary" {
        if attribute.binary_value.as_deref().is_none_or(str::is_empty) {
            return Err(invalid(format!(
                "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{data_type}'."
            )));
        }
        return Ok(());
    }
    let Some(value) = attribute.string_value.as_deref().filter(|value| !value.is_empty()) else {
        return Err(invalid(format!(
            "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{data_type}'."
        )));
    };
    if data_type == "String.Array" {
        let valid = match serde_json::from_str::<Value>(value) {
            Ok(Value::Array(items)) => items
                .iter()
                .all(|item| !matches!(item, Value::Array(_) | Value::Object(_))),
            _ => false,
        };
        if !valid {
            return Err(invalid(format!(
                "The message attribute '{name}' with type 'String.Array' has invalid value: {value}. It must be a JSON array of strings, numbers, true, false or null."
            )));
        }
    } else if base == "Number" && !value.trim().parse::<f64>().is_ok_and(f64::is_finite) {
        return Err(invalid(format!(
            "Could not cast message attribute '{name}' value to number."
        )));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
