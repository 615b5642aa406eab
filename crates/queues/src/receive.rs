//! Receiving: `ReceiveMessage`, with long polling. A receive claims what is visible now; when
//! nothing is and the caller waits, it sleeps until a send (or a visibility change) wakes the
//! queue, or until the next message the store knows of becomes visible, or until the wait ends,
//! whichever is first. Nothing polls the store on a timer.

use std::collections::BTreeMap;
use std::time::Duration;

use sluice_store::queues::{Receive, Redrive, StoredMessage};
use tokio::time::Instant;

use crate::attributes::Config;
use crate::error::{Error, Result};
use crate::messages::{self, MessageAttributes};
use crate::receipts::encode_handle;
use crate::send::sequence_text;
use crate::{Queues, from_store};

/// A receive request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiveMessage {
    /// 1–10 (1 when none).
    pub max_messages: Option<i64>,
    /// 0–20 seconds of long polling (the queue's `ReceiveMessageWaitTimeSeconds` when none).
    pub wait_seconds: Option<i64>,
    /// 0–43200 seconds (the queue's `VisibilityTimeout` when none).
    pub visibility_timeout: Option<i64>,
    /// System attributes to answer (`AttributeNames` and `MessageSystemAttributeNames`).
    pub system_attribute_names: Vec<String>,
    /// Message attributes to answer: names, `prefix.*`, or `All`.
    pub message_attribute_names: Vec<String>,
}

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The message id.
    pub message_id: String,
    /// The receipt handle of this receive.
    pub receipt_handle: String,
    /// MD5 of the body.
    pub md5_of_body: String,
    /// The body.
    pub body: String,
    /// The system attributes asked for.
    pub attributes: BTreeMap<String, String>,
    /// MD5 of the message attributes answered, when there are some.
    pub md5_of_message_attributes: Option<String>,
    /// The message attributes asked for.
    pub message_attributes: MessageAttributes,
}

impl Queues {
    /// `ReceiveMessage`.
    pub async fn receive_message(&self, name: &str, request: &ReceiveMessage) -> Result<Vec<Message>> {
        let max_messages = match request.max_messages {
            None => 1,
            Some(max) if (1..=10).contains(&max) => max as usize,
            Some(max) => {
                return Err(Error::invalid(
                    "MaxNumberOfMessages",
                    max,
                    "Must be between 1 and 10, if provided.",
                ));
            }
        };
        if let Some(wait) = request.wait_seconds.filter(|wait| !(0..=20).contains(wait)) {
            return Err(Error::invalid(
                "WaitTimeSeconds",
                wait,
                "Must be >= 0 and <= 20, if provided.",
            ));
        }
        if let Some(timeout) = request
            .visibility_timeout
            .filter(|timeout| !(0..=43_200).contains(timeout))
        {
            return Err(Error::invalid(
                "VisibilityTimeout",
                timeout,
                "Must be >= 0 and <= 43200, if provided.",
            ));
        }
        let queue = self.message_queue(name).await?;
        let config = Config::of(&queue.attributes);
        let wait = request.wait_seconds.unwrap_or(i64::from(config.wait_seconds));
        let visibility_millis = request
            .visibility_timeout
            .unwrap_or(i64::from(config.visibility_timeout))
            * 1000;
        let redrive = self.redrive(&config).await?;
        let deadline = Instant::now() + Duration::from_secs(wait as u64);
        self.claim(queue.id, max_messages, visibility_millis, redrive, deadline)
            .await?
            .into_iter()
            .map(|stored| self.message(queue.id, stored, request))
            .collect()
    }

    /// Claims up to `max_messages` messages of the queue for `visibility_millis`, waiting until
    /// `deadline` for one to become receivable when none is now.
    pub(crate) async fn claim(
        &self,
        queue_id: i64,
        max_messages: usize,
        visibility_millis: i64,
        redrive: Option<Redrive>,
        deadline: Instant,
    ) -> Result<Vec<StoredMessage>> {
        let waker = self.waker(queue_id);
        loop {
            // Listen before looking, so that a send between the look and the sleep still wakes.
            let notified = waker.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let now = self.now();
            let claimed = self
                .store()
                .receive_messages(Receive {
                    queue_id,
                    max_messages,
                    now_millis: now,
                    visible_until_millis: now + visibility_millis,
                    redrive,
                })
                .await
                .map_err(from_store)?;
            if !claimed.is_empty() || Instant::now() >= deadline {
                return Ok(claimed);
            }
            let mut until = deadline;
            if let Some(next) = self.store().next_visible(queue_id, now).await.map_err(from_store)? {
                until = until.min(Instant::now() + Duration::from_millis((next - now).max(1) as u64));
            }
            if let Some(poll) = self.inner.options.shared_poll {
                until = until.min(Instant::now() + poll);
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep_until(until) => {}
            }
        }
    }

    /// The store's view of a queue's redrive policy: its dead-letter queue's id and retention.
    pub(crate) async fn redrive(&self, config: &Config) -> Result<Option<Redrive>> {
        let Some(policy) = &config.redrive else {
            return Ok(None);
        };
        let Some(dead_letter) = self.find_message_queue(policy.dead_letter_queue_name()).await? else {
            return Ok(None);
        };
        Ok(Some(Redrive {
            dead_letter_queue_id: dead_letter.id,
            max_receive_count: policy.max_receive_count,
            dead_letter_retention_millis: i64::from(Config::of(&dead_letter.attributes).retention_seconds) * 1000,
        }))
    }

    /// A claimed message as the receive answers it, with the attributes asked for.
    pub(crate) fn message(&self, queue_id: i64, stored: StoredMessage, request: &ReceiveMessage) -> Result<Message> {
        let decode = |text: &str| -> Result<MessageAttributes> {
            serde_json::from_str(text).map_err(|error| {
                Error::Store(sluice_store::Error::Backend(format!(
                    "stored message attributes are not JSON: {error}"
                )))
            })
        };
        let message_attributes = messages::select(&decode(&stored.attributes)?, &request.message_attribute_names);
        let system = decode(&stored.system_attributes)?;
        let names = &request.system_attribute_names;
        let all = names.iter().any(|name| name == "All");
        let wanted = |name: &str| all || names.iter().any(|wanted| wanted == name);
        let mut attributes = BTreeMap::new();
        let mut put = |name: &str, value: Option<String>| {
            if let Some(value) = value.filter(|_| wanted(name)) {
                attributes.insert(name.to_owned(), value);
            }
        };
        put("SenderId", Some(self.options().account.clone()));
        put("SentTimestamp", Some(stored.sent_millis.to_string()));
        put("ApproximateReceiveCount", Some(stored.receive_count.to_string()));
        put(
            "ApproximateFirstReceiveTimestamp",
            stored.first_received_millis.map(|millis| millis.to_string()),
        );
        put("MessageGroupId", stored.group_id.clone());
        put("MessageDeduplicationId", stored.deduplication_id.clone());
        put("SequenceNumber", stored.sequence_number.map(sequence_text));
        put(
            "AWSTraceHeader",
            system
                .get("AWSTraceHeader")
                .and_then(|value| value.string_value.clone()),
        );
        Ok(Message {
            message_id: stored.message_id,
            receipt_handle: encode_handle(queue_id, stored.receipt),
            md5_of_body: stored.md5_of_body,
            body: stored.body,
            attributes,
            md5_of_message_attributes: messages::md5_of_attributes(&message_attributes),
            message_attributes,
        })
    }
}
