//! What the queues persist: queues with their attributes, and their messages with the state SQS
//! keeps for each (when it is visible, how often it was received, its FIFO group and sequence
//! number), plus the deduplication ids seen in the last five minutes.
//!
//! The store knows no SQS rules but the ones that must hold atomically: a receive claims messages
//! so that no other receive gets them while they are invisible; a FIFO receive never takes a
//! message of a group another message of which is in flight, and takes each group's messages in
//! order; a send with a deduplication id seen within its window stores nothing; a receive that
//! would exceed a redrive policy's count moves the message to its dead-letter queue instead.
//! Times are milliseconds since the epoch and always passed in.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::Result;

/// A queue as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRecord {
    /// The store's id of the queue, never reused (a queue deleted and created again gets a new
    /// one, so receipt handles of the old queue do not apply to the new one).
    pub id: i64,
    /// The queue's name (FIFO names end with `.fifo`).
    pub name: String,
    /// Whether it is a FIFO queue.
    pub fifo: bool,
    /// Its attributes, by AWS name, as the service wrote them.
    pub attributes: BTreeMap<String, String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// When it was created.
    pub created_millis: i64,
    /// When its attributes last changed.
    pub modified_millis: i64,
}

/// A queue to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQueue {
    /// The name.
    pub name: String,
    /// Whether it is FIFO.
    pub fifo: bool,
    /// The attributes.
    pub attributes: BTreeMap<String, String>,
    /// The tags.
    pub tags: BTreeMap<String, String>,
    /// Now.
    pub now_millis: i64,
}

/// What [`QueueStore::create_queue`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueCreated {
    /// The queue is new.
    New(QueueRecord),
    /// A queue of that name exists; nothing was written.
    Existing(QueueRecord),
}

/// A change to a queue's attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueUpdate {
    /// The queue.
    pub queue_id: i64,
    /// The new attributes, whole.
    pub attributes: BTreeMap<String, String>,
    /// A new retention period: every message's expiry becomes its send time plus this.
    pub retention_millis: Option<i64>,
    /// Now.
    pub now_millis: i64,
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The message id the service chose.
    pub message_id: String,
    /// The body.
    pub body: String,
    /// The message attributes, as JSON text the service reads back (opaque to the store).
    pub attributes: String,
    /// The system attributes (`AWSTraceHeader`), as JSON text (opaque to the store).
    pub system_attributes: String,
    /// MD5 of the body.
    pub md5_of_body: String,
    /// MD5 of the message attributes, when there are some.
    pub md5_of_attributes: Option<String>,
    /// The FIFO group.
    pub group_id: Option<String>,
    /// The deduplication id shown on receive (given, or derived from the body).
    pub deduplication_id: Option<String>,
    /// The key deduplication looks up (the id, scoped to the group when the queue says so);
    /// none: the message is not deduplicated.
    pub deduplication_key: Option<String>,
    /// Until when a later send with the same key is a duplicate (the send time + 5 minutes).
    pub deduplication_until_millis: i64,
    /// When it was sent.
    pub sent_millis: i64,
    /// When it first becomes visible (the send time plus its delay).
    pub visible_millis: i64,
    /// When the retention period ends and it is dropped.
    pub expires_millis: i64,
}

/// What a send did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The message id: the new message's, or, for a duplicate, the original's.
    pub message_id: String,
    /// The FIFO sequence number (of the original, for a duplicate).
    pub sequence_number: Option<u64>,
    /// Whether it was a duplicate within the deduplication window (nothing was stored).
    pub duplicate: bool,
}

/// Where a redrive policy sends messages received too often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redrive {
    /// The dead-letter queue.
    pub dead_letter_queue_id: i64,
    /// A message already received this many times is moved on its next receive.
    pub max_receive_count: u32,
    /// The dead-letter queue's retention period.
    pub dead_letter_retention_millis: i64,
}

/// A receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receive {
    /// The queue.
    pub queue_id: i64,
    /// At most this many messages.
    pub max_messages: usize,
    /// Now.
    pub now_millis: i64,
    /// Until when the received messages are invisible.
    pub visible_until_millis: i64,
    /// The queue's redrive policy.
    pub redrive: Option<Redrive>,
}

/// A received message, with its state after the receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Identifies this receive of the message, for deletes and visibility changes.
    pub receipt: Receipt,
    /// The message id.
    pub message_id: String,
    /// The body.
    pub body: String,
    /// The message attributes' JSON text.
    pub attributes: String,
    /// The system attributes' JSON text.
    pub system_attributes: String,
    /// MD5 of the body.
    pub md5_of_body: String,
    /// MD5 of the message attributes.
    pub md5_of_attributes: Option<String>,
    /// The FIFO group.
    pub group_id: Option<String>,
    /// The deduplication id.
    pub deduplication_id: Option<String>,
    /// The FIFO sequence number.
    pub sequence_number: Option<u64>,
    /// When it was sent.
    pub sent_millis: i64,
    /// When it was first received.
    pub first_received_millis: Option<i64>,
    /// How many times it has been received, this receive included.
    pub receive_count: u32,
}

/// One receive of one message: the message's row and its receive count at that receive. A
/// receipt of an earlier receive is stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Receipt {
    /// The message's row in the store.
    pub message: i64,
    /// The receive count the receive left.
    pub receive_count: u32,
}

/// What a delete did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// The message is gone.
    Deleted,
    /// The receipt is not the message's latest, or the message is gone already: nothing changed.
    Stale,
}

/// A visibility change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisibilityChange {
    /// The receive.
    pub receipt: Receipt,
    /// Until when the message is invisible from now.
    pub visible_until_millis: i64,
}

/// What a visibility change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisibilityChanged {
    /// The message's visibility changed.
    Changed,
    /// The message is visible (its visibility timeout has passed): nothing changed.
    NotInFlight,
    /// The receipt is stale or the message is gone: nothing changed.
    Stale,
}

/// How many messages a queue holds, by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Visible: available to receive.
    pub visible: u64,
    /// Received and invisible (in flight).
    pub in_flight: u64,
    /// Never received and not yet visible (delayed).
    pub delayed: u64,
}

/// The storage of queues and messages.
#[async_trait]
pub trait QueueStore: Send + Sync + 'static {
    /// Creates a queue, or answers the existing queue of that name without writing.
    async fn create_queue(&self, queue: NewQueue) -> Result<QueueCreated>;

    /// A queue by name.
    async fn queue(&self, name: &str) -> Result<Option<QueueRecord>>;

    /// A queue by id.
    async fn queue_by_id(&self, id: i64) -> Result<Option<QueueRecord>>;

    /// Queues whose names start with `prefix`, in name order, after the name `after`, at most
    /// `limit`.
    async fn list_queues(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<QueueRecord>>;

    /// Replaces a queue's attributes; `NotFound` when it does not exist.
    async fn update_queue(&self, update: QueueUpdate) -> Result<QueueRecord>;

    /// Replaces a queue's tags; `NotFound` when it does not exist.
    async fn set_queue_tags(&self, queue_id: i64, tags: BTreeMap<String, String>) -> Result<()>;

    /// Deletes a queue and its messages; `NotFound` when it does not exist.
    async fn delete_queue(&self, queue_id: i64) -> Result<()>;

    /// Deletes every message of a queue; `NotFound` when it does not exist.
    async fn purge_queue(&self, queue_id: i64) -> Result<()>;

    /// Sends messages to a queue, in order, in one commit; `NotFound` when it does not exist.
    /// FIFO queues number them; a message whose deduplication key was seen within its window
    /// is answered with the original and not stored. The results are in the same order.
    async fn send_messages(&self, queue_id: i64, messages: Vec<NewMessage>, now_millis: i64) -> Result<Vec<Sent>>;

    /// Claims up to `max_messages` visible messages until `visible_until_millis`. Messages past
    /// their retention are dropped; messages received `max_receive_count` times already move to
    /// the dead-letter queue. A FIFO queue answers messages of groups with nothing in flight, each
    /// group's in order.
    async fn receive_messages(&self, receive: Receive) -> Result<Vec<StoredMessage>>;

    /// Deletes messages by receipt; the results are in the same order.
    async fn delete_messages(&self, queue_id: i64, receipts: Vec<Receipt>) -> Result<Vec<Deletion>>;

    /// Changes the visibility of received messages; the results are in the same order.
    async fn change_visibility(
        &self,
        queue_id: i64,
        changes: Vec<VisibilityChange>,
        now_millis: i64,
    ) -> Result<Vec<VisibilityChanged>>;

    /// How many messages the queue holds, by state, at `now_millis`.
    async fn queue_counts(&self, queue_id: i64, now_millis: i64) -> Result<QueueCounts>;

    /// The earliest time after `now_millis` at which a message of the queue becomes visible.
    async fn next_visible(&self, queue_id: i64, now_millis: i64) -> Result<Option<i64>>;

    /// Drops messages past their retention and deduplication ids past their window; answers how
    /// many messages were dropped.
    async fn expire(&self, now_millis: i64) -> Result<u64>;
}
