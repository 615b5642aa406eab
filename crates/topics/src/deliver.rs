//! The delivery loop: claim what is due, shape it for the subscription's protocol, deliver, and
//! finish, retry (by the delivery policy) or give up to the subscription's dead-letter queue.
//!
//! A failure is one of three kinds, as SNS tells them apart:
//! - a **client error** (the queue, function or state machine does not exist, or refuses the
//!   message): not retried; the message goes to the dead-letter queue at once;
//! - a **server error** (the store failed, the HTTP endpoint failed or did not answer): retried
//!   by the delivery policy, then sent to the dead-letter queue;
//! - a **function error** (a `lambda` subscription's function ran and failed): SNS hands a
//!   message to Lambda asynchronously, so this is Lambda's retry: two more attempts, one and two
//!   minutes apart, then the event is dropped with a log line (the dead-letter queue is SNS's,
//!   and SNS delivered).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sluice_engine::Error as EngineError;
use sluice_queues::{MessageAttributeValue, SendMessage};
use sluice_store::topics::{SubscriptionRecord, TopicDelivery};

use crate::attributes::{dead_letter_queue, raw_delivery};
use crate::envelope::{self, Notification, Payload, Signing};
use crate::retry::RetryPolicy;
use crate::{Result, Topics};

/// The most deliveries claimed at once.
const CLAIM_BATCH: usize = 64;
/// The longest the loop sleeps without looking again.
const MAX_IDLE: Duration = Duration::from_secs(1);
/// How long an HTTP endpoint has to answer, as SNS.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);
/// Lambda's asynchronous invocation attempts in all.
const FUNCTION_ATTEMPTS: u32 = 3;

/// Why an attempt failed.
#[derive(Debug)]
enum Failure {
    Client(String),
    Server(String),
    Function(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Client(reason) => write!(formatter, "client error: {reason}"),
            Failure::Server(reason) => write!(formatter, "server error: {reason}"),
            Failure::Function(reason) => write!(formatter, "function error: {reason}"),
        }
    }
}

/// A message shaped for one subscription.
struct Shaped {
    /// The body (the envelope's JSON text, or the raw message).
    body: String,
    /// SQS message attributes (raw delivery only).
    attributes: sluice_queues::MessageAttributes,
    /// The FIFO message group and deduplication id.
    group_id: Option<String>,
    deduplication_id: Option<String>,
    raw: bool,
}

impl Topics {
    /// Delivers every delivery due now (concurrently); answers how many were attempted.
    pub async fn deliver_due(&self) -> Result<usize> {
        let now = self.now();
        let claimed = self
            .store()
            .claim_topic_deliveries(now, now + self.inner.options.lease_millis, CLAIM_BATCH)
            .await?;
        let count = claimed.len();
        let mut running = tokio::task::JoinSet::new();
        for delivery in claimed {
            let topics = self.clone();
            running.spawn(async move { topics.deliver_one(delivery).await });
        }
        while let Some(finished) = running.join_next().await {
            match finished {
                Ok(Err(error)) => tracing::warn!("a topic delivery could not be recorded: {error}"),
                Err(error) => tracing::error!("a topic delivery task failed: {error}"),
                Ok(Ok(())) => {}
            }
        }
        Ok(count)
    }

    pub(crate) async fn run_deliveries(self) {
        loop {
            let worked = match self.deliver_due().await {
                Ok(count) => count,
                Err(error) => {
                    tracing::warn!("claiming topic deliveries failed: {error}");
                    0
                }
            };
            if worked > 0 {
                continue;
            }
            let now = self.now();
            let wait = match self.store().next_topic_delivery_due().await {
                Ok(Some(due)) => Duration::from_millis(due.saturating_sub(now).clamp(10, 1_000) as u64),
                _ => MAX_IDLE,
            };
            tokio::select! {
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    fn signing_parts(&self) -> (String, Vec<u8>) {
        (self.endpoint_url(), self.inner.signing_key.clone())
    }

    async fn deliver_one(&self, delivery: TopicDelivery) -> Result<()> {
        let store = self.store();
        // A subscription deleted meanwhile takes its deliveries with it.
        let Some(subscription) = store.subscription(&delivery.subscription_arn).await? else {
            store.finish_topic_delivery(&delivery.id).await?;
            return Ok(());
        };
        let payload: Payload = match serde_json::from_str(&delivery.payload) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::error!(delivery = %delivery.id, "a topic delivery cannot be read, dropped: {error}");
                store.finish_topic_delivery(&delivery.id).await?;
                return Ok(());
            }
        };
        let (endpoint_url, key) = self.signing_parts();
        let signing = Signing {
            endpoint_url: &endpoint_url,
            key: &key,
        };
        let outcome = match &payload {
            Payload::Notification(notification) => self.notify(&subscription, &delivery, notification, signing).await,
            Payload::SubscriptionConfirmation {
                message_id,
                topic_arn,
                token,
                timestamp,
            } => {
                let body = envelope::confirmation(message_id, topic_arn, token, timestamp, signing).to_string();
                self.post(
                    &subscription,
                    "SubscriptionConfirmation",
                    message_id,
                    topic_arn,
                    body,
                    false,
                )
                .await
            }
        };
        let failure = match outcome {
            Ok(()) => {
                store.finish_topic_delivery(&delivery.id).await?;
                return Ok(());
            }
            Err(failure) => failure,
        };
        let now = self.now();
        let retry_in = match &failure {
            Failure::Client(_) => None,
            Failure::Server(_) => self.retry_policy(&subscription).await.delay_millis(delivery.attempts),
            Failure::Function(_) => {
                (delivery.attempts < FUNCTION_ATTEMPTS).then_some(60_000 * i64::from(delivery.attempts))
            }
        };
        if let Some(delay) = retry_in {
            tracing::debug!(delivery = %delivery.id, subscription = %subscription.arn, attempts = delivery.attempts, "topic delivery failed, retrying: {failure}");
            store.retry_topic_delivery(&delivery.id, now + delay).await?;
            return Ok(());
        }
        match (&failure, &payload) {
            (Failure::Client(_) | Failure::Server(_), Payload::Notification(notification)) => {
                if !self
                    .dead_letter(&subscription, &delivery, notification, signing, &failure)
                    .await
                {
                    // The dead-letter queue failed on the server's side: keep the message.
                    store
                        .retry_topic_delivery(
                            &delivery.id,
                            now + i64::from(RetryPolicy::MANAGED.max_delay_seconds) * 1_000,
                        )
                        .await?;
                    return Ok(());
                }
            }
            _ => {
                tracing::error!(delivery = %delivery.id, subscription = %subscription.arn, attempts = delivery.attempts, "topic delivery given up: {failure}");
            }
        }
        store.finish_topic_delivery(&delivery.id).await?;
        Ok(())
    }

    /// The retry policy of a subscription: SNS's own for AWS-managed endpoints, the delivery
    /// policy's for HTTP.
    async fn retry_policy(&self, subscription: &SubscriptionRecord) -> RetryPolicy {
        if !matches!(subscription.protocol.as_str(), "http" | "https") {
            return RetryPolicy::MANAGED;
        }
        let from_json = |text: &str, pointer: &str| {
            serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|value| value.pointer(pointer).cloned())
                .and_then(|value| RetryPolicy::from_json(&value).ok())
        };
        if let Some(policy) = subscription
            .attributes
            .get("DeliveryPolicy")
            .and_then(|text| from_json(text.as_str(), "/healthyRetryPolicy"))
        {
            return policy;
        }
        let topic = self.store().topic(&subscription.topic).await.ok().flatten();
        topic
            .and_then(|topic| topic.attributes.get("DeliveryPolicy").cloned())
            .and_then(|text| from_json(text.as_str(), "/http/defaultHealthyRetryPolicy"))
            .unwrap_or(RetryPolicy::HTTP_DEFAULT)
    }

    /// The message as the subscription's protocol gets it.
    fn shape(
        &self,
        subscription: &SubscriptionRecord,
        delivery: &TopicDelivery,
        notification: &Notification,
        signing: Signing<'_>,
    ) -> Shaped {
        let raw = raw_delivery(&subscription.attributes);
        let fifo_queue = subscription.endpoint.ends_with(".fifo");
        let (body, attributes) = if raw {
            let attributes = notification
                .attributes
                .iter()
                .map(|(name, attribute)| {
                    (
                        name.clone(),
                        MessageAttributeValue {
                            data_type: attribute.data_type.clone(),
                            string_value: attribute.string_value.clone(),
                            binary_value: attribute.binary_value.clone(),
                            ..MessageAttributeValue::default()
                        },
                    )
                })
                .collect();
            (notification.message.clone(), attributes)
        } else {
            let envelope = envelope::notification(notification, delivery.sequence_number, &subscription.arn, signing);
            (envelope.to_string(), Default::default())
        };
        Shaped {
            body,
            attributes,
            group_id: notification.group_id.clone().filter(|_| fifo_queue),
            deduplication_id: notification.deduplication_id.clone().filter(|_| fifo_queue),
            raw,
        }
    }

    async fn notify(
        &self,
        subscription: &SubscriptionRecord,
        delivery: &TopicDelivery,
        notification: &Notification,
        signing: Signing<'_>,
    ) -> Result<(), Failure> {
        match subscription.protocol.as_str() {
            "sqs" => {
                let shaped = self.shape(subscription, delivery, notification, signing);
                let queue = subscription.endpoint.rsplit(':').next().unwrap_or_default();
                self.send_to_queue(queue, shaped).await
            }
            "lambda" => {
                let name = subscription.endpoint.split(':').nth(6).unwrap_or_default();
                let function = self
                    .inner
                    .engine
                    .functions()
                    .get(name)
                    .ok_or_else(|| Failure::Client(format!("Function not found: {}", subscription.endpoint)))?;
                let event = envelope::lambda_event(notification, &subscription.arn, signing);
                function
                    .invoke(event)
                    .await
                    .map(|_| ())
                    .map_err(|error| Failure::Function(error.cause()))
            }
            "sluice-states" => {
                let input = envelope::notification(notification, delivery.sequence_number, &subscription.arn, signing);
                let now = DateTime::<Utc>::from_timestamp_millis(self.now()).unwrap_or_default();
                // The execution is named after the delivery, so a redelivery starts nothing new.
                let started = self
                    .inner
                    .engine
                    .start_execution(
                        &subscription.endpoint,
                        Some(&delivery.id),
                        Some(&input.to_string()),
                        now,
                    )
                    .await;
                match started {
                    Ok(_) | Err(EngineError::ExecutionAlreadyExists { .. }) => Ok(()),
                    Err(error @ EngineError::StateMachineDoesNotExist { .. }) => {
                        Err(Failure::Client(error.to_string()))
                    }
                    Err(error) => Err(Failure::Server(error.to_string())),
                }
            }
            _ => {
                let shaped = self.shape(subscription, delivery, notification, signing);
                self.post(
                    subscription,
                    "Notification",
                    &notification.message_id,
                    &notification.topic_arn,
                    shaped.body,
                    shaped.raw,
                )
                .await
            }
        }
    }

    async fn send_to_queue(&self, queue: &str, shaped: Shaped) -> Result<(), Failure> {
        let message = SendMessage {
            body: shaped.body,
            delay_seconds: None,
            attributes: shaped.attributes,
            system_attributes: Default::default(),
            deduplication_id: shaped.deduplication_id,
            group_id: shaped.group_id,
        };
        match self.inner.queues.send_message(queue, message).await {
            Ok(_) => Ok(()),
            Err(error) if error.code().is_some() => Err(Failure::Client(error.to_string())),
            Err(error) => Err(Failure::Server(error.to_string())),
        }
    }

    /// POSTs to an HTTP(S) endpoint with SNS's headers; any answer but 2xx is a failure.
    async fn post(
        &self,
        subscription: &SubscriptionRecord,
        message_type: &str,
        message_id: &str,
        topic_arn: &str,
        body: String,
        raw: bool,
    ) -> Result<(), Failure> {
        if !matches!(subscription.protocol.as_str(), "http" | "https") {
            return Err(Failure::Client(format!("a {message_type} goes to HTTP endpoints only")));
        }
        let mut request = self
            .inner
            .http
            .post(&subscription.endpoint)
            .timeout(HTTP_TIMEOUT)
            .header("content-type", "text/plain; charset=UTF-8")
            .header("x-amz-sns-message-type", message_type)
            .header("x-amz-sns-message-id", message_id)
            .header("x-amz-sns-topic-arn", topic_arn)
            .header("user-agent", "Amazon Simple Notification Service Agent");
        if message_type == "Notification" {
            request = request.header("x-amz-sns-subscription-arn", &subscription.arn);
        }
        if raw {
            request = request.header("x-amz-sns-rawdelivery", "true");
        }
        match request.body(body).send().await {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(Failure::Server(format!("the endpoint answered {}", response.status()))),
            Err(error) => Err(Failure::Server(format!("the endpoint could not be reached: {error}"))),
        }
    }

    /// Sends an undeliverable message to the subscription's dead-letter queue; answers false
    /// when that queue failed on the server's side (so the message is kept and tried again).
    async fn dead_letter(
        &self,
        subscription: &SubscriptionRecord,
        delivery: &TopicDelivery,
        notification: &Notification,
        signing: Signing<'_>,
        failure: &Failure,
    ) -> bool {
        let Some(queue) = dead_letter_queue(&subscription.attributes) else {
            tracing::error!(delivery = %delivery.id, subscription = %subscription.arn, attempts = delivery.attempts, "topic delivery given up, no dead-letter queue: {failure}");
            return true;
        };
        let mut shaped = self.shape(subscription, delivery, notification, signing);
        let fifo_queue = queue.ends_with(".fifo");
        shaped.group_id = notification.group_id.clone().filter(|_| fifo_queue);
        shaped.deduplication_id = notification.deduplication_id.clone().filter(|_| fifo_queue);
        match self.send_to_queue(&queue, shaped).await {
            Ok(()) => {
                tracing::warn!(delivery = %delivery.id, subscription = %subscription.arn, dead_letter = %queue, attempts = delivery.attempts, "topic delivery given up, sent to the dead-letter queue: {failure}");
                true
            }
            Err(Failure::Server(reason)) => {
                tracing::warn!(delivery = %delivery.id, dead_letter = %queue, "the dead-letter queue failed, keeping the message: {reason}");
                false
            }
            Err(other) => {
                tracing::error!(delivery = %delivery.id, subscription = %subscription.arn, dead_letter = %queue, "the dead-letter queue refused the message, dropped: {other}; it failed with {failure}");
                true
            }
        }
    }
}
