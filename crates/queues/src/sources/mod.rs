//! Event source mappings: a queue feeding a function or a state machine, with Lambda's SQS event
//! source semantics. Pollers receive batches (up to `batch_size`, gathered for up to the batching
//! window), hand each batch to a [`Consumer`] in Lambda's SQS event shape, and delete what was
//! processed. What failed stays in flight until its visibility timeout ends, is received again,
//! and the queue's redrive policy moves it to the dead-letter queue in the end.
//!
//! On a FIFO queue each group's messages arrive in order and a group is never in two batches at
//! once (the store's FIFO receive takes only groups with nothing in flight). After a failure in a
//! group, the group's later messages of the batch are not deleted either, so they come back after
//! the failed one, in order.
//!
//! A state machine target gets one execution per batch (as EventBridge Pipes starts them), with
//! the batch's records as its input and a name derived from the mapping and the batch's message
//! ids, so a batch received again after a crash does not start a second execution.
//!
//! Limits and checks follow Lambda's `CreateEventSourceMapping` for SQS
//! (<https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html>).

mod event;
mod poller;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use crate::Queues;

pub use event::{BatchResponseError, failed_items};

/// The default batch size.
pub const DEFAULT_BATCH_SIZE: u32 = 10;
/// The default number of pollers (batches in flight at once) of a mapping.
pub const DEFAULT_MAXIMUM_CONCURRENCY: u32 = 5;
/// The most an invocation's event may weigh (Lambda's synchronous payload limit).
pub const MAX_EVENT_BYTES: usize = 6 * 1024 * 1024;

/// Where a mapping's batches go.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Destination {
    /// A function, by name: invoked with `{"Records": [...]}`; its response may report failed
    /// items.
    Function(String),
    /// A state machine, by ARN: one execution per batch, with the records as input.
    StateMachine(String),
}

/// An event source mapping as an app declares it (`[event_source_mappings.NAME]`), before it is
/// checked. Numbers are as written, so that a negative one gets a clear message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredMapping {
    /// The mapping's name.
    pub name: String,
    /// The queue: a name or an `arn:aws:sqs:…` ARN.
    pub queue: String,
    /// The function target, when it is one.
    pub function: Option<String>,
    /// The state machine target (its ARN), when it is one.
    pub state_machine: Option<String>,
    /// Records per batch.
    pub batch_size: Option<i64>,
    /// How long to gather a batch, in seconds.
    pub maximum_batching_window_seconds: Option<i64>,
    /// Whether the function's response reports failed items.
    pub report_batch_item_failures: bool,
    /// How many batches may be in flight at once.
    pub maximum_concurrency: Option<i64>,
    /// Whether the mapping polls (default true).
    pub enabled: bool,
}

/// A checked mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The mapping's name.
    pub name: String,
    /// The queue's name.
    pub queue: String,
    /// Where batches go.
    pub destination: Destination,
    /// Records per batch: 1–10 for FIFO queues, 1–10,000 for standard ones.
    pub batch_size: u32,
    /// How long to gather a batch (0–300 seconds; none for FIFO queues).
    pub batching_window: Duration,
    /// Whether the function's response reports failed items.
    pub report_batch_item_failures: bool,
    /// Pollers: 2–1,000.
    pub maximum_concurrency: u32,
    /// Whether it polls.
    pub enabled: bool,
}

impl DeclaredMapping {
    /// Checks the mapping against Lambda's limits for a queue that is FIFO or not. Every problem
    /// is reported, each naming its field.
    pub fn check(&self, fifo: bool) -> Result<Mapping, Vec<String>> {
        let field = |name: &str| format!("event_source_mappings.{}.{name}", self.name);
        let mut problems = Vec::new();
        if self.name.is_empty()
            || self.name.len() > 64
            || !self
                .name
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || matches!(character, '-' | '_'))
        {
            problems.push(format!(
                "event_source_mappings.{:?}: a mapping's name is 1 to 64 letters, digits, '-' or '_'",
                self.name
            ));
        }
        let queue = queue_name(&self.queue).to_owned();
        if queue.is_empty() {
            problems.push(format!("{} must name a queue", field("queue")));
        }
        let destination = match (&self.function, &self.state_machine) {
            (Some(function), None) if !function.is_empty() => Some(Destination::Function(function.clone())),
            (None, Some(machine)) if !machine.is_empty() => Some(Destination::StateMachine(machine.clone())),
            (Some(_), Some(_)) => {
                problems.push(format!(
                    "event_source_mappings.{}: give one of function and state_machine, not both",
                    self.name
                ));
                None
            }
            _ => {
                problems.push(format!(
                    "event_source_mappings.{}: give a function or a state_machine to deliver to",
                    self.name
                ));
                None
            }
        };
        let batch_limit = if fifo { 10 } else { 10_000 };
        let batch_size = self.batch_size.unwrap_or(i64::from(DEFAULT_BATCH_SIZE));
        if !(1..=batch_limit).contains(&batch_size) {
            problems.push(format!(
                "{} must be between 1 and {batch_limit} for {} queue {queue}, not {batch_size}",
                field("batch_size"),
                if fifo { "the FIFO" } else { "the standard" }
            ));
        }
        let window = self.maximum_batching_window_seconds.unwrap_or(0);
        if fifo && self.maximum_batching_window_seconds.is_some_and(|window| window != 0) {
            problems.push(format!(
                "{}: batching window is not supported for FIFO queues ({queue})",
                field("maximum_batching_window_seconds")
            ));
        } else if !(0..=300).contains(&window) {
            problems.push(format!(
                "{} must be between 0 and 300, not {window}",
                field("maximum_batching_window_seconds")
            ));
        } else if batch_size > 10 && window < 1 {
            problems.push(format!(
                "{} must be at least 1 when batch_size is greater than 10 (it is {batch_size})",
                field("maximum_batching_window_seconds")
            ));
        }
        let concurrency = self
            .maximum_concurrency
            .unwrap_or(i64::from(DEFAULT_MAXIMUM_CONCURRENCY));
        if !(2..=1000).contains(&concurrency) {
            problems.push(format!(
                "{} must be between 2 and 1000, not {concurrency}",
                field("maximum_concurrency")
            ));
        }
        if self.report_batch_item_failures && matches!(destination, Some(Destination::StateMachine(_))) {
            problems.push(format!(
                "{}: only a function's response can report failed items; a state machine's execution is started, not awaited",
                field("report_batch_item_failures")
            ));
        }
        match destination {
            Some(destination) if problems.is_empty() => Ok(Mapping {
                name: self.name.clone(),
                queue,
                destination,
                batch_size: batch_size as u32,
                batching_window: Duration::from_secs(window as u64),
                report_batch_item_failures: self.report_batch_item_failures,
                maximum_concurrency: concurrency as u32,
                enabled: self.enabled,
            }),
            _ => Err(problems),
        }
    }
}

/// The queue name of a name or an `arn:aws:sqs:REGION:ACCOUNT:NAME`.
pub fn queue_name(name_or_arn: &str) -> &str {
    match name_or_arn.strip_prefix("arn:") {
        Some(rest) if rest.contains(":sqs:") => rest.rsplit(':').next().unwrap_or_default(),
        _ => name_or_arn,
    }
}

/// What a mapping's batches are handed to: the functions and state machines of the binary.
#[async_trait]
pub trait Consumer: Send + Sync + 'static {
    /// Invokes a function with the event; answers its response, or why it failed.
    async fn invoke_function(&self, name: &str, event: Value) -> Result<Value, String>;

    /// Starts an execution of a state machine named `execution_name` with `input`; an execution
    /// of that name that exists already counts as started.
    async fn start_execution(&self, state_machine_arn: &str, execution_name: &str, input: Value) -> Result<(), String>;
}

/// The running event source mappings. Cheap to clone: clones share everything.
#[derive(Clone)]
pub struct Sources {
    inner: Arc<Inner>,
}

struct Inner {
    queues: Queues,
    consumer: Arc<dyn Consumer>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Whether pollers run (set by [`Sources::start`]).
    started: bool,
    /// The mappings by name, with the app that declared each and its pollers.
    mappings: BTreeMap<String, Running>,
}

struct Running {
    app: String,
    mapping: Arc<Mapping>,
    pollers: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Sources").finish_non_exhaustive()
    }
}

impl Sources {
    /// Mappings over `queues` handing batches to `consumer`; nothing polls until [`Sources::start`].
    pub fn new(queues: Queues, consumer: Arc<dyn Consumer>) -> Sources {
        Sources {
            inner: Arc::new(Inner {
                queues,
                consumer,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// The app that declared the mapping of that name, if one did.
    pub fn owner(&self, name: &str) -> Option<String> {
        self.state().mappings.get(name).map(|running| running.app.clone())
    }

    /// Makes `mappings` the mappings of `app`: those it no longer declares stop, changed ones
    /// restart, new ones start (once started).
    pub fn apply_app(&self, app: &str, mappings: Vec<Mapping>) {
        let mut state = self.state();
        let names: Vec<String> = state
            .mappings
            .iter()
            .filter(|(_, running)| running.app == app)
            .map(|(name, _)| name.clone())
            .collect();
        for name in names {
            if !mappings.iter().any(|mapping| mapping.name == name)
                && let Some(running) = state.mappings.remove(&name)
            {
                running.stop();
                tracing::info!(mapping = %name, "event source mapping removed");
            }
        }
        for mapping in mappings {
            if let Some(running) = state.mappings.get(&mapping.name)
                && running.app == app
                && *running.mapping == mapping
            {
                continue;
            }
            if let Some(old) = state.mappings.remove(&mapping.name) {
                old.stop();
            }
            let mut running = Running {
                app: app.to_owned(),
                mapping: Arc::new(mapping),
                pollers: Vec::new(),
            };
            if state.started {
                running.pollers = self.spawn(&running.mapping);
            }
            state.mappings.insert(running.mapping.name.clone(), running);
        }
    }

    /// Starts polling every enabled mapping, now and for mappings applied later.
    pub fn start(&self) {
        let mut state = self.state();
        state.started = true;
        let mut spawned = Vec::new();
        for (name, running) in &state.mappings {
            if running.pollers.is_empty() {
                spawned.push((name.clone(), self.spawn(&running.mapping)));
            }
        }
        for (name, pollers) in spawned {
            if let Some(running) = state.mappings.get_mut(&name) {
                running.pollers = pollers;
            }
        }
    }

    fn spawn(&self, mapping: &Arc<Mapping>) -> Vec<tokio::task::JoinHandle<()>> {
        if !mapping.enabled {
            return Vec::new();
        }
        tracing::info!(mapping = %mapping.name, queue = %mapping.queue, destination = ?mapping.destination, pollers = mapping.maximum_concurrency, "event source mapping polling");
        (0..mapping.maximum_concurrency)
            .map(|_| {
                let poller = poller::Poller {
                    queues: self.inner.queues.clone(),
                    consumer: self.inner.consumer.clone(),
                    mapping: mapping.clone(),
                };
                tokio::spawn(poller.run())
            })
            .collect()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Running {
    /// Stops the pollers. A batch being processed is cut off: its messages come back after their
    /// visibility timeout.
    fn stop(&self) {
        for poller in &self.pollers {
            poller.abort();
        }
    }
}

#[cfg(test)]
mod tests;
