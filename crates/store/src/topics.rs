//! What topics persist: topics, their subscriptions, the FIFO deduplication ids of the last five
//! minutes, and the delivery outbox. Messages themselves are not stored apart: a publish writes
//! one [`TopicDelivery`] per subscription whose filter policy accepts it, all in one commit, so
//! an acknowledged publish is durable as the deliveries it causes.
//!
//! Deliveries that carry an ordering key (a FIFO topic's subscription and message group) are
//! claimed only at the head of their key: the next one of a key waits until the one before it is
//! finished, so a group's messages reach a subscription in the order they were published.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::Result;

pub mod conformance;

/// A topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicRecord {
    /// Its name (unique; `.fifo` for FIFO topics).
    pub name: String,
    /// `arn:aws:sns:{region}:{account}:{name}`.
    pub arn: String,
    /// The attributes set on it, by AWS name (only those given, not the derived ones).
    pub attributes: BTreeMap<String, String>,
    /// When it was created, in milliseconds since the epoch.
    pub created_millis: i64,
}

/// A subscription of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRecord {
    /// `{topic arn}:{uuid}`.
    pub arn: String,
    /// The topic's name.
    pub topic: String,
    /// `sqs`, `lambda`, `http`, `https`, or Sluice's `sluice-states`.
    pub protocol: String,
    /// Where it delivers: a queue, function or state machine ARN, or a URL.
    pub endpoint: String,
    /// The attributes set on it, by AWS name.
    pub attributes: BTreeMap<String, String>,
    /// Whether it waits for its endpoint to confirm it (HTTP endpoints).
    pub pending: bool,
    /// The token `ConfirmSubscription` must present, while pending.
    pub token: Option<String>,
    /// When it was created, in milliseconds since the epoch.
    pub created_millis: i64,
}

/// One message on its way to one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicDelivery {
    /// Unique.
    pub id: String,
    /// The subscription it goes to.
    pub subscription_arn: String,
    /// Deliveries with the same key are delivered one after the other, in the order written
    /// (a FIFO subscription and message group); none for any order.
    pub ordering_key: Option<String>,
    /// What is delivered, as JSON text the topics service reads back.
    pub payload: String,
    /// The FIFO topic's sequence number of the message, given by the store at publish.
    pub sequence_number: Option<u64>,
    /// When the message was published, in milliseconds since the epoch.
    pub published_millis: i64,
    /// When the next attempt is due.
    pub due_millis: i64,
    /// Attempts made so far.
    pub attempts: u32,
    /// Until when the current claim holds it (0 when unclaimed).
    pub lease_until_millis: i64,
}

/// A FIFO message's deduplication id and when it stops counting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deduplication {
    /// The id (given, or the SHA-256 of the body).
    pub id: String,
    /// When it expires, in milliseconds since the epoch.
    pub expires_millis: i64,
}

/// One published message: its deliveries, written together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// The topic's name.
    pub topic: String,
    /// The message id answered.
    pub message_id: String,
    /// For a FIFO topic: the deduplication id. A FIFO publication also takes a sequence number.
    pub deduplication: Option<Deduplication>,
    /// One per subscription that takes the message.
    pub deliveries: Vec<TopicDelivery>,
}

/// What a publication became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    /// Written, with its sequence number when the topic is FIFO.
    Written {
        /// The FIFO sequence number.
        sequence_number: Option<u64>,
    },
    /// A FIFO duplicate within the window: nothing was written; the original's id and number.
    Duplicate {
        /// The original message's id.
        message_id: String,
        /// The original message's sequence number.
        sequence_number: Option<u64>,
    },
}

/// The topics' storage. Backends implement it beside [`crate::Store`].
#[async_trait]
pub trait TopicStore: Send + Sync + 'static {
    /// Creates a topic, or answers the one of that name unchanged (`CreateTopic` is idempotent
    /// by name; the caller compares attributes).
    async fn create_topic(&self, topic: TopicRecord) -> Result<TopicRecord>;

    /// A topic by name.
    async fn topic(&self, name: &str) -> Result<Option<TopicRecord>>;

    /// Topics in name order, after the name `after`, at most `limit`.
    async fn list_topics(&self, after: Option<&str>, limit: usize) -> Result<Vec<TopicRecord>>;

    /// Replaces a topic's attributes; `NotFound` when it does not exist.
    async fn set_topic_attributes(&self, name: &str, attributes: BTreeMap<String, String>) -> Result<()>;

    /// Deletes a topic with its subscriptions, their deliveries and its deduplication ids;
    /// answers whether it existed.
    async fn delete_topic(&self, name: &str) -> Result<bool>;

    /// Creates a subscription (with the confirmation request to deliver, for one that must be
    /// confirmed), or answers the one with the same topic, protocol and endpoint unchanged.
    /// `NotFound` when the topic does not exist.
    async fn subscribe(
        &self,
        subscription: SubscriptionRecord,
        confirmation: Option<TopicDelivery>,
    ) -> Result<SubscriptionRecord>;

    /// A subscription by ARN.
    async fn subscription(&self, arn: &str) -> Result<Option<SubscriptionRecord>>;

    /// Subscriptions of one topic, or of all, in ARN order after the ARN `after`, at most `limit`.
    async fn list_subscriptions(
        &self,
        topic: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SubscriptionRecord>>;

    /// Replaces a subscription's attributes, pending flag and token; `NotFound` when it does not
    /// exist.
    async fn update_subscription(&self, subscription: SubscriptionRecord) -> Result<()>;

    /// Deletes a subscription and its deliveries; answers whether it existed.
    async fn unsubscribe(&self, arn: &str) -> Result<bool>;

    /// Writes publications, all in one commit; each is refused alone (`NotFound` when its topic
    /// is gone) or answered. `now_millis` decides which deduplication ids still count.
    async fn publish(&self, publications: Vec<Publication>, now_millis: i64) -> Result<Vec<Result<Published>>>;

    /// Deliveries due at or before `now_millis` that no live lease holds and that are at the head
    /// of their ordering key, leased until `lease_until_millis`, at most `limit`, earliest first.
    /// Claiming counts an attempt.
    async fn claim_topic_deliveries(
        &self,
        now_millis: i64,
        lease_until_millis: i64,
        limit: usize,
    ) -> Result<Vec<TopicDelivery>>;

    /// Removes a delivery (delivered, or given up on).
    async fn finish_topic_delivery(&self, id: &str) -> Result<()>;

    /// Makes a delivery due again at `due_millis`, unleased.
    async fn retry_topic_delivery(&self, id: &str, due_millis: i64) -> Result<()>;

    /// Frees every delivery lease, at the start of the one node that uses the store.
    async fn release_topic_delivery_leases(&self) -> Result<()>;

    /// When the earliest unleased delivery is due.
    async fn next_topic_delivery_due(&self) -> Result<Option<i64>>;

    /// Drops deduplication ids that expired at or before `now_millis`; answers how many.
    async fn expire_topic_deduplication(&self, now_millis: i64) -> Result<u64>;
}
