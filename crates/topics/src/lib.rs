//! Sluice's topics: SNS semantics on a [`TopicStore`].
//!
//! - Topics (standard and FIFO) and their subscriptions, with SNS's names, attributes and
//!   errors ([`Code`]); the wire protocol (the query protocol) lives in the API crate.
//! - `Publish` matches the message against each confirmed subscription's filter policy
//!   ([`filter::FilterPolicy`], on message attributes or on the body) and writes one delivery
//!   per accepting subscription in one commit before it answers: **an acknowledged publish is
//!   durable**. A FIFO topic numbers its messages and drops a repeated deduplication id within
//!   five minutes in that same commit.
//! - The delivery loop claims due deliveries with a lease, shapes each as its protocol expects
//!   (the JSON envelope or the raw message for `sqs` and `http(s)`, the `Records[].Sns` event for
//!   `lambda`, the envelope as input for Sluice's `sluice-states`) and retries with back-off as
//!   SNS's delivery policies say; what finally fails goes to the subscription's dead-letter
//!   queue (`RedrivePolicy`). **Delivery is at-least-once**; a FIFO subscription gets each
//!   message group in order.
//!
//! - [`TopicSink`] makes topics an event bus target (`arn:aws:sns:…`).
//!
//! The clock is passed in ([`Clock`]); tests step the loop with [`Topics::deliver_due`].
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

pub mod attributes;
mod deliver;
pub mod deploy;
pub mod envelope;
pub mod filter;
mod manage;
mod publish;
pub mod retry;
mod sink;
mod subscribe;

#[cfg(test)]
mod tests;

use std::sync::{Arc, RwLock};

use sluice_engine::Engine;
use sluice_queues::Queues;
use sluice_store::topics::TopicStore;
use tokio::sync::Notify;

pub use manage::{ListedTopics, TopicAttributes};
pub use publish::{BatchFailure, BatchOutcome, MessageAttribute, PublishEntry, PublishRequest, Published};
pub use sink::TopicSink;
pub use sluice_store::topics::{SubscriptionRecord, TopicRecord};
pub use subscribe::{ListedSubscriptions, SubscribeRequest, Subscribed};

/// An SNS error code: the name the query protocol answers and its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Code {
    /// A parameter is missing or not valid (400).
    InvalidParameter,
    /// A parameter's value is not valid (400; `ParameterValueInvalid` on the wire).
    InvalidParameterValue,
    /// The topic or subscription does not exist (404).
    NotFound,
    /// The caller may not do this (403).
    AuthorizationError,
    /// A batch has no entries (400).
    EmptyBatchRequest,
    /// A batch has more than ten entries (400).
    TooManyEntriesInBatchRequest,
    /// Two batch entries share an id (400).
    BatchEntryIdsNotDistinct,
    /// A batch entry's id is not valid (400).
    InvalidBatchEntryId,
    /// A batch is larger than 256 KiB (400).
    BatchRequestTooLong,
    /// The server failed (500).
    InternalError,
}

impl Code {
    /// The code as the query protocol writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidParameter => "InvalidParameter",
            Code::InvalidParameterValue => "ParameterValueInvalid",
            Code::NotFound => "NotFound",
            Code::AuthorizationError => "AuthorizationError",
            Code::EmptyBatchRequest => "EmptyBatchRequest",
            Code::TooManyEntriesInBatchRequest => "TooManyEntriesInBatchRequest",
            Code::BatchEntryIdsNotDistinct => "BatchEntryIdsNotDistinct",
            Code::InvalidBatchEntryId => "InvalidBatchEntryId",
            Code::BatchRequestTooLong => "BatchRequestTooLong",
            Code::InternalError => "InternalError",
        }
    }

    /// The HTTP status SNS answers the code with.
    pub fn status(self) -> u16 {
        match self {
            Code::NotFound => 404,
            Code::AuthorizationError => 403,
            Code::InternalError => 500,
            _ => 400,
        }
    }
}

/// A refused operation, in SNS's terms, or a failure of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SNS's error.
    #[error("{message}")]
    Sns {
        /// The code.
        code: Code,
        /// SNS's message, naming the parameter.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] sluice_store::Error),
}

impl Error {
    /// An `InvalidParameter` error: `Invalid parameter: {what}`.
    pub fn invalid(what: impl std::fmt::Display) -> Error {
        Error::Sns {
            code: Code::InvalidParameter,
            message: format!("Invalid parameter: {what}"),
        }
    }

    /// `NotFound`, with SNS's message.
    pub fn not_found(message: &str) -> Error {
        Error::Sns {
            code: Code::NotFound,
            message: message.to_owned(),
        }
    }

    /// The SNS code, or `InternalError` for a store failure.
    pub fn code(&self) -> Code {
        match self {
            Error::Sns { code, .. } => *code,
            Error::Store(_) => Code::InternalError,
        }
    }
}

/// A result of a topics operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The clock, in milliseconds since the epoch: the queues' clock, since a topic delivers to them.
pub use sluice_queues::Clock;

/// Where the topics say they are.
#[derive(Debug, Clone)]
pub struct Options {
    /// The region in ARNs.
    pub region: String,
    /// The account in ARNs (and the topics' owner).
    pub account: String,
    /// How long a claimed delivery is held before another claim may take it, in milliseconds.
    pub lease_millis: i64,
    /// Whether this node is alone on its store: at start it then frees the leases a previous
    /// run held at once. Nodes sharing a store let them lapse, as another node may hold them.
    pub exclusive_store: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            lease_millis: 60_000,
            exclusive_store: true,
        }
    }
}

/// The topics service. Cheap to clone: clones share everything.
#[derive(Clone)]
pub struct Topics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Topics {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Topics")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

struct Inner {
    store: Arc<dyn TopicStore>,
    /// Delivers to `sqs` subscriptions and dead-letter queues.
    queues: Queues,
    /// Runs `lambda` and `sluice-states` subscriptions.
    engine: Engine,
    options: Options,
    clock: Clock,
    /// The URL the server answers on, for `SubscribeURL`, `UnsubscribeURL` and `SigningCertURL`.
    endpoint_url: RwLock<String>,
    /// The key that signs notifications (`Signature`).
    signing_key: Vec<u8>,
    /// Posts to `http` and `https` subscriptions.
    http: reqwest::Client,
    /// Wakes the delivery loop when deliveries were written.
    wake: Notify,
}

impl Topics {
    /// The topics on `store`, delivering to `queues` and to `engine`'s functions and state
    /// machines.
    pub fn new(store: Arc<dyn TopicStore>, queues: Queues, engine: Engine, options: Options, clock: Clock) -> Topics {
        Topics {
            inner: Arc::new(Inner {
                store,
                queues,
                engine,
                options,
                clock,
                endpoint_url: RwLock::new("http://localhost:4566".to_owned()),
                signing_key: uuid::Uuid::new_v4().as_bytes().to_vec(),
                http: reqwest::Client::new(),
                wake: Notify::new(),
            }),
        }
    }

    /// Sets the URL the server answers on (once it listens), which confirmation and unsubscribe
    /// links point to.
    pub fn set_endpoint_url(&self, url: &str) {
        if let Ok(mut endpoint) = self.inner.endpoint_url.write() {
            *endpoint = url.trim_end_matches('/').to_owned();
        }
    }

    /// The URL the server answers on.
    pub fn endpoint_url(&self) -> String {
        self.inner
            .endpoint_url
            .read()
            .map(|url| url.clone())
            .unwrap_or_default()
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// A topic's ARN.
    pub fn topic_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:sns:{}:{}:{name}",
            self.inner.options.region, self.inner.options.account
        )
    }

    /// Starts the delivery loop: frees the leases of the previous run (its in-flight deliveries
    /// are delivered again), then runs until the process ends. Also drops deduplication ids past
    /// their window now and then.
    pub async fn start(&self) -> Result<()> {
        if self.inner.options.exclusive_store {
            self.inner.store.release_topic_delivery_leases().await?;
        }
        let topics = self.clone();
        tokio::spawn(async move { topics.run_deliveries().await });
        let topics = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(error) = topics.inner.store.expire_topic_deduplication(topics.now()).await {
                    tracing::warn!("cannot drop expired deduplication ids: {error}");
                }
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            }
        });
        Ok(())
    }

    fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    fn store(&self) -> &dyn TopicStore {
        self.inner.store.as_ref()
    }

    /// The topic an ARN names, or SNS's errors: `InvalidParameter` for a malformed ARN,
    /// `NotFound` for a topic that does not exist.
    pub(crate) async fn topic_of(&self, arn: &str, parameter: &str) -> Result<TopicRecord> {
        let name = topic_name_of(arn).ok_or_else(|| Error::invalid(parameter))?;
        self.store()
            .topic(name)
            .await?
            .ok_or_else(|| Error::not_found("Topic does not exist"))
    }
}

/// The topic name in a topic ARN (`arn:aws:sns:{region}:{account}:{name}`).
pub fn topic_name_of(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "sns", _, _, name] if !name.is_empty() => Some(name),
        _ => None,
    }
}

/// A store error in SNS's terms: a topic gone meanwhile is `NotFound`.
pub(crate) fn from_store(error: sluice_store::Error) -> Error {
    match error {
        sluice_store::Error::NotFound { what: "topic", .. } => Error::not_found("Topic does not exist"),
        sluice_store::Error::NotFound {
            what: "subscription", ..
        } => Error::not_found("Subscription does not exist"),
        other => Error::Store(other),
    }
}
