//! Sending: `SendMessage` and `SendMessageBatch`. Each message is checked (body characters,
//! attributes, size, the FIFO parameters), given an id and its digests, and stored; the answer
//! comes once the store has it on disk. A FIFO message whose deduplication id was seen in the
//! last five minutes is answered with the original's id and stored again nowhere.

use sha2::{Digest, Sha256};
use sluice_store::queues::{NewMessage, QueueRecord};

use crate::attributes::Config;
use crate::batch::{self, BatchEntry, BatchOutcome};
use crate::error::{Code, Error, Result};
use crate::messages::{self, MessageAttributes};
use crate::{Queues, from_store};

/// The deduplication window.
const DEDUPLICATION_MILLIS: i64 = 5 * 60 * 1000;

/// The largest batch, all messages together.
const MAX_BATCH_BYTES: usize = 1_048_576;

/// A message to send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendMessage {
    /// The body.
    pub body: String,
    /// Seconds before it is visible (0–900; standard queues only); the queue's delay if none.
    pub delay_seconds: Option<i64>,
    /// Message attributes.
    pub attributes: MessageAttributes,
    /// System attributes (`AWSTraceHeader`).
    pub system_attributes: MessageAttributes,
    /// The FIFO deduplication id.
    pub deduplication_id: Option<String>,
    /// The FIFO message group.
    pub group_id: Option<String>,
}

/// What a send answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The message id (the original's, for a duplicate).
    pub message_id: String,
    /// MD5 of the body.
    pub md5_of_body: String,
    /// MD5 of the message attributes, when there are some.
    pub md5_of_attributes: Option<String>,
    /// MD5 of the system attributes, when there are some.
    pub md5_of_system_attributes: Option<String>,
    /// The FIFO sequence number.
    pub sequence_number: Option<String>,
}

/// SQS's sequence numbers are large decimal strings; ours count up per queue.
pub(crate) fn sequence_text(number: u64) -> String {
    format!("{number:020}")
}

impl Queues {
    /// `SendMessage`.
    pub async fn send_message(&self, name: &str, message: SendMessage) -> Result<Sent> {
        let queue = self.message_queue(name).await?;
        let now = self.now();
        let prepared = prepare(&queue, &message, now)?;
        let answer = answer_of(&prepared);
        let mut sent = self
            .store()
            .send_messages(queue.id, vec![prepared], now)
            .await
            .map_err(from_store)?;
        self.wake(queue.id);
        let stored = sent
            .pop()
            .ok_or_else(|| Error::Store(sluice_store::Error::Backend("a send answered nothing".into())))?;
        Ok(Sent {
            message_id: stored.message_id,
            sequence_number: stored.sequence_number.map(sequence_text),
            ..answer
        })
    }

    /// `SendMessageBatch`: entries that fail their checks fail alone; the rest are stored
    /// together, in order.
    pub async fn send_message_batch(
        &self,
        name: &str,
        entries: Vec<BatchEntry<SendMessage>>,
    ) -> Result<BatchOutcome<Sent>> {
        batch::check(&entries, "SendMessageBatchRequestEntry")?;
        let total: usize = entries
            .iter()
            .map(|entry| entry.entry.body.len() + attributes_size(&entry.entry.attributes))
            .sum();
        if total > MAX_BATCH_BYTES {
            return Err(Error::new(
                Code::BatchRequestTooLong,
                format!("Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent {total} bytes."),
            ));
        }
        let queue = self.message_queue(name).await?;
        let now = self.now();
        let mut outcome = BatchOutcome::default();
        let mut accepted = Vec::new();
        for entry in &entries {
            match prepare(&queue, &entry.entry, now) {
                Ok(prepared) => accepted.push((entry.id.clone(), prepared)),
                Err(error) => outcome.fail(&entry.id, error)?,
            }
        }
        if accepted.is_empty() {
            return Ok(outcome);
        }
        let answers: Vec<(String, Sent)> = accepted
            .iter()
            .map(|(id, prepared)| (id.clone(), answer_of(prepared)))
            .collect();
        let stored = self
            .store()
            .send_messages(
                queue.id,
                accepted.into_iter().map(|(_, prepared)| prepared).collect(),
                now,
            )
            .await
            .map_err(from_store)?;
        self.wake(queue.id);
        for ((id, answer), stored) in answers.into_iter().zip(stored) {
            outcome.successful.push((
                id,
                Sent {
                    message_id: stored.message_id,
                    sequence_number: stored.sequence_number.map(sequence_text),
                    ..answer
                },
            ));
        }
        // Failed entries are listed in request order too.
        let order = |id: &str| entries.iter().position(|entry| entry.id == id).unwrap_or(usize::MAX);
        outcome.failed.sort_by_key(|failure| order(&failure.id));
        Ok(outcome)
    }
}

/// The size attributes add to a message (an upper bound for attributes that fail their checks).
fn attributes_size(attributes: &MessageAttributes) -> usize {
    attributes
        .iter()
        .map(|(name, value)| {
            name.len()
                + value.data_type.len()
                + value.string_value.as_ref().map_or(0, String::len)
                + value.binary_value.as_ref().map_or(0, |text| text.len() * 3 / 4)
        })
        .sum()
}

fn answer_of(prepared: &NewMessage) -> Sent {
    Sent {
        message_id: prepared.message_id.clone(),
        md5_of_body: prepared.md5_of_body.clone(),
        md5_of_attributes: prepared.md5_of_attributes.clone(),
        md5_of_system_attributes: serde_json::from_str::<MessageAttributes>(&prepared.system_attributes)
            .ok()
            .and_then(|attributes| messages::md5_of_attributes(&attributes)),
        sequence_number: None,
    }
}

/// Checks a message against its queue and makes the row to store.
fn prepare(queue: &QueueRecord, message: &SendMessage, now: i64) -> Result<NewMessage> {
    let config = Config::of(&queue.attributes);
    messages::check_body(&message.body)?;
    let size = message.body.len() + messages::check_attributes(&message.attributes)?;
    if size > config.maximum_message_size {
        return Err(Error::new(
            Code::InvalidParameterValue,
            format!(
                "One or more parameters are invalid. Reason: Message must be shorter than {} bytes.",
                config.maximum_message_size
            ),
        ));
    }
    check_system_attributes(&message.system_attributes)?;
    let delay_seconds = match message.delay_seconds {
        Some(delay) if !(0..=900).contains(&delay) => {
            return Err(Error::invalid(
                "DelaySeconds",
                delay,
                "Must be >= 0 and <= 900, if provided.",
            ));
        }
        Some(delay) if queue.fifo && delay != 0 => {
            return Err(Error::invalid(
                "DelaySeconds",
                delay,
                "The request include parameter that is not valid for this queue type.",
            ));
        }
        Some(delay) => delay,
        None => i64::from(config.delay_seconds),
    };
    let (group_id, deduplication_id, deduplication_key) = if queue.fifo {
        let group = message
            .group_id
            .clone()
            .ok_or_else(|| Error::missing("MessageGroupId"))?;
        check_token("MessageGroupId", &group)?;
        let deduplication = match &message.deduplication_id {
            Some(id) => {
                check_token("MessageDeduplicationId", id)?;
                id.clone()
            }
            None if config.content_based_deduplication => Sha256::digest(message.body.as_bytes())
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect(),
            None => {
                return Err(Error::new(
                    Code::InvalidParameterValue,
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided \
                     explicitly",
                ));
            }
        };
        let key = if config.deduplicate_per_group {
            format!("{group}\n{deduplication}")
        } else {
            deduplication.clone()
        };
        (Some(group), Some(deduplication), Some(key))
    } else {
        if let Some(id) = &message.deduplication_id {
            return Err(Error::invalid(
                "MessageDeduplicationId",
                id,
                "The request includes a parameter that is not valid for this queue type.",
            ));
        }
        if let Some(group) = &message.group_id {
            check_token("MessageGroupId", group)?;
        }
        // Standard queues accept a group id (fair queues) without ordering by it.
        (None, None, None)
    };
    let encode = |attributes: &MessageAttributes| {
        serde_json::to_string(attributes).map_err(|error| {
            Error::Store(sluice_store::Error::Backend(format!(
                "cannot encode attributes: {error}"
            )))
        })
    };
    Ok(NewMessage {
        message_id: uuid::Uuid::new_v4().to_string(),
        body: message.body.clone(),
        attributes: encode(&message.attributes)?,
        system_attributes: encode(&message.system_attributes)?,
        md5_of_body: messages::md5_of_body(&message.body),
        md5_of_attributes: messages::md5_of_attributes(&message.attributes),
        group_id,
        deduplication_id,
        deduplication_key,
        deduplication_until_millis: now + DEDUPLICATION_MILLIS,
        sent_millis: now,
        visible_millis: now + delay_seconds * 1000,
        expires_millis: now + i64::from(config.retention_seconds) * 1000,
    })
}

/// Group and deduplication ids: 1–128 letters, digits and punctuation.
fn check_token(parameter: &str, value: &str) -> Result<()> {
    let valid = !value.is_empty() && value.len() <= 128 && value.chars().all(|character| character.is_ascii_graphic());
    if valid {
        Ok(())
    } else {
        Err(Error::invalid(
            parameter,
            value,
            &format!("{parameter} can only include alphanumeric and punctuation characters. 1 to 128 in length."),
        ))
    }
}

/// The one system attribute is `AWSTraceHeader`, a string.
fn check_system_attributes(attributes: &MessageAttributes) -> Result<()> {
    for (name, value) in attributes {
        if name != "AWSTraceHeader" {
            return Err(Error::invalid(
                "MessageSystemAttributes",
                name,
                "The only supported message system attribute is AWSTraceHeader.",
            ));
        }
        if value.data_type != "String" || value.string_value.as_deref().is_none_or(str::is_empty) {
            return Err(Error::invalid(
                "MessageSystemAttributes",
                name,
                "AWSTraceHeader must be a non-empty String.",
            ));
        }
    }
    Ok(())
}
