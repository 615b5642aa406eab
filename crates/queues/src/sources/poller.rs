//! One poller of a mapping: receive a batch, hand it over, delete what was processed, again.
//! A mapping runs `maximum_concurrency` of these, each with at most one batch in flight.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sluice_store::queues::{Deletion, Receipt, StoredMessage, VisibilityChange};
use tokio::time::Instant;

use super::event::{failed_items, record};
use super::{Consumer, Destination, MAX_EVENT_BYTES, Mapping};
use crate::attributes::Config;
use crate::error::Result;
use crate::receive::ReceiveMessage;
use crate::{Queues, from_store};

/// How long one receive waits for a first message (SQS's longest long poll).
const LONG_POLL: Duration = Duration::from_secs(20);
/// How long a poller rests after an error (the queue is gone, the store failed).
const ERROR_PAUSE: Duration = Duration::from_secs(1);

pub(super) struct Poller {
    pub(super) queues: Queues,
    pub(super) consumer: Arc<dyn Consumer>,
    pub(super) mapping: Arc<Mapping>,
}

/// A received batch: the stored messages and their records, in the order received.
struct Batch {
    queue_id: i64,
    fifo: bool,
    messages: Vec<StoredMessage>,
    records: Vec<Value>,
}

impl Poller {
    pub(super) async fn run(self) {
        loop {
            if let Err(error) = self.once().await {
                tracing::warn!(mapping = %self.mapping.name, queue = %self.mapping.queue, "event source mapping cannot poll: {error}");
                tokio::time::sleep(ERROR_PAUSE).await;
            }
        }
    }

    /// Receives one batch (waiting up to a long poll for it), processes it, and deletes what
    /// succeeded.
    async fn once(&self) -> Result<()> {
        let Some(batch) = self.receive().await? else {
            return Ok(());
        };
        let failed = self.deliver(&batch).await;
        let processed: Vec<Receipt> = batch
            .messages
            .iter()
            .zip(&failed)
            .filter(|(_, failed)| !**failed)
            .map(|(message, _)| message.receipt)
            .collect();
        let failures = failed.iter().filter(|failed| **failed).count();
        if failures > 0 {
            tracing::debug!(mapping = %self.mapping.name, failures, "messages left to reappear after their visibility timeout");
        }
        if !processed.is_empty() {
            let results = self
                .queues
                .store()
                .delete_messages(batch.queue_id, processed)
                .await
                .map_err(from_store)?;
            if batch.fifo && results.contains(&Deletion::Deleted) {
                self.queues.wake(batch.queue_id);
            }
        }
        Ok(())
    }

    /// Gathers a batch: the first receive long-polls; with a batching window, more receives
    /// follow until the batch is full, the window ends, or the event would pass 6 MB.
    async fn receive(&self) -> Result<Option<Batch>> {
        let mapping = &self.mapping;
        let queue = self.queues.queue(&mapping.queue).await?;
        let config = Config::of(&queue.attributes);
        let visibility_millis = i64::from(config.visibility_timeout) * 1000;
        let redrive = self.queues.redrive(&config).await?;
        let batch_size = mapping.batch_size as usize;
        let mut messages = self
            .queues
            .claim(
                queue.id,
                batch_size.min(10),
                visibility_millis,
                redrive,
                Instant::now() + LONG_POLL,
            )
            .await?;
        if messages.is_empty() {
            return Ok(None);
        }
        let window_ends = Instant::now() + mapping.batching_window;
        while messages.len() < batch_size && Instant::now() < window_ends && weight(&messages) < MAX_EVENT_BYTES {
            let more = self
                .queues
                .claim(
                    queue.id,
                    (batch_size - messages.len()).min(10),
                    visibility_millis,
                    redrive,
                    window_ends,
                )
                .await?;
            messages.extend(more);
        }
        let all = ReceiveMessage {
            system_attribute_names: vec!["All".into()],
            message_attribute_names: vec!["All".into()],
            ..ReceiveMessage::default()
        };
        let arn = self.queues.arn(&queue.name);
        let region = self.queues.options().region.clone();
        let mut records = Vec::with_capacity(messages.len());
        let mut bytes = 0;
        let mut kept = 0;
        for stored in &messages {
            let record = record(&self.queues.message(queue.id, stored.clone(), &all)?, &arn, &region);
            bytes += record.to_string().len() + 1;
            if kept > 0 && bytes > MAX_EVENT_BYTES {
                break;
            }
            records.push(record);
            kept += 1;
        }
        // What does not fit in one event goes back to the queue at once.
        let overflow: Vec<StoredMessage> = messages.split_off(kept);
        if !overflow.is_empty() {
            let now = self.queues.now();
            let changes = overflow
                .iter()
                .map(|message| VisibilityChange {
                    receipt: message.receipt,
                    visible_until_millis: now,
                })
                .collect();
            self.queues
                .store()
                .change_visibility(queue.id, changes, now)
                .await
                .map_err(from_store)?;
            self.queues.wake(queue.id);
        }
        Ok(Some(Batch {
            queue_id: queue.id,
            fifo: queue.fifo,
            messages,
            records,
        }))
    }

    /// Hands the batch over; answers, for each message, whether it failed.
    async fn deliver(&self, batch: &Batch) -> Vec<bool> {
        let mapping = &self.mapping;
        let everything = |failed: bool| vec![failed; batch.messages.len()];
        match &mapping.destination {
            Destination::StateMachine(arn) => {
                let name = execution_name(&mapping.name, &batch.messages);
                match self
                    .consumer
                    .start_execution(arn, &name, Value::Array(batch.records.clone()))
                    .await
                {
                    Ok(()) => everything(false),
                    Err(error) => {
                        tracing::warn!(mapping = %mapping.name, execution = %name, "cannot start the batch's execution: {error}");
                        everything(true)
                    }
                }
            }
            Destination::Function(function) => {
                let event = json!({ "Records": batch.records });
                let response = match self.consumer.invoke_function(function, event).await {
                    Ok(response) => response,
                    Err(error) => {
                        tracing::warn!(mapping = %mapping.name, %function, records = batch.messages.len(), "the function failed the batch: {error}");
                        return everything(true);
                    }
                };
                if !mapping.report_batch_item_failures {
                    return everything(false);
                }
                let ids: Vec<&str> = batch
                    .messages
                    .iter()
                    .map(|message| message.message_id.as_str())
                    .collect();
                match failed_items(&response, &ids) {
                    Ok(failed) => cascade(batch, &failed),
                    Err(error) => {
                        tracing::warn!(mapping = %mapping.name, %function, "the whole batch failed: {error}");
                        everything(true)
                    }
                }
            }
        }
    }
}

/// Which messages failed, given the ids reported: on a FIFO queue, every message of a group after
/// one that failed fails too, so that none is processed out of order.
fn cascade(batch: &Batch, reported: &HashSet<String>) -> Vec<bool> {
    let mut failed_groups: HashSet<&str> = HashSet::new();
    batch
        .messages
        .iter()
        .map(|message| {
            let mut failed = reported.contains(&message.message_id);
            if batch.fifo {
                let group = message.group_id.as_deref().unwrap_or_default();
                failed |= failed_groups.contains(group);
                if failed {
                    failed_groups.insert(group);
                }
            }
            failed
        })
        .collect()
}

/// The execution name of a batch: the mapping's name and a digest of its message ids, the same
/// whenever the same messages come back together, at most 80 characters.
pub(super) fn execution_name(mapping: &str, messages: &[StoredMessage]) -> String {
    let mut digest = Sha256::new();
    digest.update(mapping.as_bytes());
    for message in messages {
        digest.update([0]);
        digest.update(message.message_id.as_bytes());
    }
    let hex: String = digest
        .finalize()
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let prefix: String = mapping.chars().take(80 - 1 - hex.len()).collect();
    format!("{prefix}-{hex}")
}

/// Roughly what the messages weigh in an event.
fn weight(messages: &[StoredMessage]) -> usize {
    messages
        .iter()
        .map(|message| message.body.len() + message.attributes.len() + 512)
        .sum()
}
