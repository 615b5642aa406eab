//! Sluice's queues: SQS semantics on a [`QueueStore`]. Standard queues (at-least-once, any
//! order) and FIFO queues (in order per message group, never while an earlier message of the
//! group is in flight, deduplicated within five minutes), visibility timeouts, delays,
//! retention, redrive to dead-letter queues, and long polling woken by sends.
//!
//! [`Queues`] speaks SQS's terms (queue names, attributes by AWS name, receipt handles) and
//! answers SQS's error codes ([`Code`]); the wire protocol lives in the API crate. The clock is
//! passed in, so tests can move time.
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

pub mod attributes;
mod batch;
mod deploy;
pub mod error;
mod manage;
pub mod messages;
mod receipts;
mod receive;
mod send;
pub mod sources;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sluice_store::queues::{QueueRecord, QueueStore};
use tokio::sync::Notify;
use tokio::time::Instant;

pub use attributes::{Config, RedrivePolicy};
pub use batch::{BatchEntry, BatchFailure, BatchOutcome};
pub use deploy::DeclaredQueue;
pub use error::{Code, Error, Result};
pub use manage::{ListedQueues, QueueDescription};
pub use messages::{MessageAttributeValue, MessageAttributes, md5_of_attributes, md5_of_body};
pub use receipts::ChangeVisibility;
pub use receive::{Message, ReceiveMessage};
pub use send::{SendMessage, Sent};

/// Where the queues say they are: the region and account of their ARNs and URLs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The region (`us-east-1` by default).
    pub region: String,
    /// The account (`123456789012` by default).
    pub account: String,
    /// On a store other nodes share, a long poll looks again at least this often: a send on
    /// another node wakes no poll here. `None` (alone on the store): sends wake the polls.
    pub shared_poll: Option<std::time::Duration>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            shared_poll: None,
        }
    }
}

/// The clock, in milliseconds since the epoch.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl std::fmt::Debug for Clock {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_tuple("Clock").field(&self.now()).finish()
    }
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(Arc::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|since| since.as_millis() as i64)
                .unwrap_or_default()
        }))
    }

    /// A clock that reads `now()`.
    pub fn from_fn(now: impl Fn() -> i64 + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now))
    }

    /// Now, in milliseconds since the epoch.
    pub fn now(&self) -> i64 {
        (self.0)()
    }
}

/// The queues service. Cheap to clone: clones share everything.
#[derive(Clone)]
pub struct Queues {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Queues {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Queues")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

struct Inner {
    store: Arc<dyn QueueStore>,
    options: Options,
    clock: Clock,
    /// One wake-up per queue (by store id) for long polls, notified by whatever may make a
    /// message receivable: a send, a visibility change, a FIFO delete.
    wakers: Mutex<HashMap<i64, Arc<Notify>>>,
    /// When each queue was last purged (one purge per 60 seconds).
    purges: Mutex<HashMap<i64, i64>>,
    /// Queue records by name, as message operations last read them, with when they were read.
    catalog: Mutex<HashMap<String, (Instant, Arc<QueueRecord>)>>,
}

/// How long a message operation (send, receive, delete, visibility change) reuses a queue's record
/// before reading it again. This process forgets a queue as soon as it changes or deletes it; the
/// time bounds how long another process's change (on a shared store) goes unseen, as SQS itself
/// takes up to 60 seconds to apply attribute changes everywhere. A queue deleted elsewhere is
/// still refused at once: the store checks the queue's id in every message write.
const CATALOG_MILLIS: u64 = 1_000;

impl Queues {
    /// The queues on `store`.
    pub fn new(store: Arc<dyn QueueStore>, options: Options, clock: Clock) -> Queues {
        Queues {
            inner: Arc::new(Inner {
                store,
                options,
                clock,
                wakers: Mutex::new(HashMap::new()),
                purges: Mutex::new(HashMap::new()),
                catalog: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// A queue's ARN.
    pub fn arn(&self, name: &str) -> String {
        format!(
            "arn:aws:sqs:{}:{}:{name}",
            self.inner.options.region, self.inner.options.account
        )
    }

    /// Drops messages past their retention and deduplication ids past their window, now and then
    /// every `period`, until the process ends.
    pub fn spawn_expiry(&self, period: Duration) -> tokio::task::JoinHandle<()> {
        let queues = self.clone();
        tokio::spawn(async move {
            loop {
                match queues.inner.store.expire(queues.now()).await {
                    Ok(0) => {}
                    Ok(dropped) => tracing::debug!(dropped, "messages past their retention dropped"),
                    Err(error) => tracing::warn!("cannot drop expired messages: {error}"),
                }
                tokio::time::sleep(period).await;
            }
        })
    }

    fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    fn store(&self) -> &dyn QueueStore {
        self.inner.store.as_ref()
    }

    /// The queue of that name, or `QueueDoesNotExist`, read from the store: what management
    /// operations (attributes, tags, deletes) use.
    async fn queue(&self, name: &str) -> Result<QueueRecord> {
        self.store().queue(name).await?.ok_or_else(Error::no_queue)
    }

    /// The queue of that name for a message operation, from the catalog when it read the queue
    /// less than [`CATALOG_MILLIS`] ago; `QueueDoesNotExist` when there is none.
    pub(crate) async fn message_queue(&self, name: &str) -> Result<Arc<QueueRecord>> {
        self.find_message_queue(name).await?.ok_or_else(Error::no_queue)
    }

    /// Like [`Queues::message_queue`], answering `None` for a missing queue (not remembered).
    pub(crate) async fn find_message_queue(&self, name: &str) -> Result<Option<Arc<QueueRecord>>> {
        let fresh_since = Instant::now().checked_sub(Duration::from_millis(CATALOG_MILLIS));
        if let Some((read_at, queue)) = self.catalog().get(name)
            && fresh_since.is_none_or(|since| *read_at > since)
        {
            return Ok(Some(queue.clone()));
        }
        let read_at = Instant::now();
        let Some(queue) = self.store().queue(name).await? else {
            self.forget(name);
            return Ok(None);
        };
        let queue = Arc::new(queue);
        self.catalog().insert(name.to_owned(), (read_at, queue.clone()));
        Ok(Some(queue))
    }

    /// Drops a queue from the catalog: this process has just changed, created or deleted it.
    fn forget(&self, name: &str) {
        self.catalog().remove(name);
    }

    fn catalog(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Arc<QueueRecord>)>> {
        self.inner
            .catalog
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn waker(&self, queue_id: i64) -> Arc<Notify> {
        let mut wakers = self
            .inner
            .wakers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        wakers.entry(queue_id).or_default().clone()
    }

    /// Wakes the long polls of a queue.
    fn wake(&self, queue_id: i64) {
        let wakers = self
            .inner
            .wakers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(waker) = wakers.get(&queue_id) {
            waker.notify_waiters();
        }
    }
}

/// A store error in SQS's terms: a queue gone meanwhile is `QueueDoesNotExist`.
pub(crate) fn from_store(error: sluice_store::Error) -> Error {
    match error {
        sluice_store::Error::NotFound { what: "queue", .. } => Error::no_queue(),
        other => Error::Store(other),
    }
}
