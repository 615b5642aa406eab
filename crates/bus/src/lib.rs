//! Sluice's event bus: EventBridge's buses, rules, targets and schedules on a [`BusStore`].
//!
//! - `PutEvents` shapes each entry into an event, matches it in memory against the bus's enabled
//!   rules (a compiled [`sluice_patterns::RuleSet`] per bus), and writes one delivery per
//!   (event, target) in one commit before it answers: **an acknowledged event is durable**.
//! - The delivery loop claims due deliveries with a lease, delivers them (a state machine
//!   execution named after the delivery, so a redelivery starts nothing new; a function; another
//!   bus; or a [`Sink`]), deletes them on success and retries with back-off on failure until the
//!   target's `RetryPolicy` runs out, then hands the payload to the dead-letter queue or logs it.
//!   **Delivery is at-least-once.**
//! - A scheduled rule keeps its next fire time in the store. A fire writes its deliveries and the
//!   following fire time in one commit, only if the rule still expects that fire, so **each fire
//!   time is written once**, across restarts too. Fires missed while the server was down are not
//!   backfilled: the first missed one happens once at start, and the schedule goes on from the
//!   first fire time after now.
//!
//! - EventBridge Scheduler's schedules ([`scheduler`]) fire the same way, each to its one
//!   target, with `at()` one-time expressions, named time zones, start and end dates.
//!
//! The clock is passed in ([`Clock`]); tests step the loops with [`Bus::deliver_due`] and
//! [`Bus::fire_due`].
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

pub mod app;
pub mod archive;
mod catalog;
mod control;
pub mod cron;
mod deliver;
mod events;
pub mod logs;
pub mod schedule;
pub mod scheduler;
pub mod target;
pub mod transform;

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use sluice_engine::Engine;
use sluice_store::BusStore;
use tokio::sync::{Mutex, Notify};

pub use control::{ListPage, PutTargetsFailure, RuleInput, RuleState};
pub use events::{EntryResult, EventEntry, MAX_ENTRIES, MAX_REQUEST_BYTES};
pub use schedule::Schedule;
pub use scheduler::{Definition as ScheduleDefinition, ScheduleInput, ScheduleView};
pub use sluice_store::bus::{BusRecord, RuleRecord};
pub use target::{Sink, SinkMessage, Target};

/// The bus that always exists.
pub const DEFAULT_BUS: &str = "default";

/// A refused operation, in EventBridge's terms.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A bus or rule does not exist.
    #[error("{message}")]
    ResourceNotFound {
        /// What is missing.
        message: String,
    },
    /// A bus of that name exists.
    #[error("{message}")]
    ResourceAlreadyExists {
        /// What exists.
        message: String,
    },
    /// A parameter is not valid.
    #[error("{message}")]
    Validation {
        /// Which parameter and why.
        message: String,
    },
    /// The change conflicts with what exists (a schedule of that name).
    #[error("{message}")]
    Conflict {
        /// What conflicts.
        message: String,
    },
    /// The resource is not in a state that allows the operation (a finished replay).
    #[error("{message}")]
    IllegalStatus {
        /// Which state it is in.
        message: String,
    },
    /// The event pattern is not valid.
    #[error("{message}")]
    InvalidEventPattern {
        /// Where (a JSON pointer) and why.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] sluice_store::Error),
}

impl Error {
    pub(crate) fn validation(message: impl Into<String>) -> Error {
        Error::Validation {
            message: message.into(),
        }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Error {
        Error::ResourceNotFound {
            message: message.into(),
        }
    }
}

/// A result of a bus operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The clock the bus reads, passed in so tests can move it.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl std::fmt::Debug for Clock {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_tuple("Clock").field(&self.now()).finish()
    }
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(Arc::new(Utc::now))
    }

    /// A clock that reads `now()`.
    pub fn from_fn(now: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now))
    }

    /// The time now.
    pub fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }
}

/// Where the bus says it is.
#[derive(Debug, Clone)]
pub struct Options {
    /// The region in ARNs and events.
    pub region: String,
    /// The account in ARNs and events.
    pub account: String,
    /// How long a claimed delivery is held before another claim may take it, in milliseconds.
    pub lease_millis: i64,
    /// Whether this node is alone on its store: at start it then frees the leases a previous
    /// run held at once, and its catalog (buses, rules, targets, schedules) changes only through
    /// it. Nodes sharing a store let leases lapse and read the catalog again every
    /// [`CATALOG_REFRESH`], so a rule or schedule put on one node is seen by the others.
    pub exclusive_store: bool,
}

/// How often a node sharing its store reads the catalog again.
pub const CATALOG_REFRESH: std::time::Duration = std::time::Duration::from_secs(2);

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

/// The event bus service. Cheap to clone: clones share everything.
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Bus")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

struct Inner {
    store: Arc<dyn BusStore>,
    engine: Engine,
    sink: Option<Arc<dyn Sink>>,
    options: Options,
    clock: Clock,
    /// Buses, rules and targets as stored, with each bus's compiled matcher.
    catalog: RwLock<catalog::Catalog>,
    /// One change to buses, rules or targets at a time, so the catalog follows the store.
    changes: Mutex<()>,
    /// Wakes the delivery loop when deliveries were written.
    wake: Notify,
    /// CloudWatch Logs, when attached: log group targets and the Logs API.
    logs: std::sync::OnceLock<logs::Logs>,
    /// Archives and replays, when attached.
    archives: std::sync::OnceLock<archive::Archives>,
}

impl Bus {
    /// Opens the bus on `store`: creates the `default` bus if needed and loads every bus, rule
    /// and target. `engine` runs state machine and function targets; `sink` takes other ARNs.
    pub async fn open(
        store: Arc<dyn BusStore>,
        engine: Engine,
        sink: Option<Arc<dyn Sink>>,
        options: Options,
        clock: Clock,
    ) -> Result<Bus> {
        if store.bus(DEFAULT_BUS).await?.is_none() {
            let record = BusRecord {
                name: DEFAULT_BUS.to_owned(),
                arn: bus_arn(&options, DEFAULT_BUS),
                created_millis: clock.now().timestamp_millis(),
            };
            match store.create_bus(record).await {
                Ok(()) | Err(sluice_store::Error::AlreadyExists { .. }) => {}
                Err(error) => return Err(error.into()),
            }
        }
        let catalog = catalog::Catalog::load(store.as_ref()).await?;
        Ok(Bus {
            inner: Arc::new(Inner {
                store,
                engine,
                sink,
                options,
                clock,
                catalog: RwLock::new(catalog),
                changes: Mutex::new(()),
                wake: Notify::new(),
                logs: std::sync::OnceLock::new(),
                archives: std::sync::OnceLock::new(),
            }),
        })
    }

    /// Starts the delivery and schedule loops: frees the leases of the previous run (its
    /// in-flight deliveries are delivered again), then runs until the process ends.
    pub async fn start(&self) -> Result<()> {
        if self.inner.options.exclusive_store {
            self.inner.store.release_delivery_leases().await?;
        } else {
            let bus = self.clone();
            tokio::spawn(async move { bus.refresh_catalog().await });
        }
        let bus = self.clone();
        tokio::spawn(async move { bus.run_deliveries().await });
        let bus = self.clone();
        tokio::spawn(async move { bus.run_schedules().await });
        let bus = self.clone();
        tokio::spawn(async move { bus.run_replays().await });
        Ok(())
    }

    /// Attaches CloudWatch Logs on `store`: rules may then target log groups. Answers the
    /// service (the one attached first, if called twice).
    pub fn attach_logs(&self, store: Arc<dyn sluice_store::LogStore>) -> &logs::Logs {
        self.inner
            .logs
            .get_or_init(|| logs::Logs::new(store, self.inner.options.clone(), self.inner.clock.clone()))
    }

    /// CloudWatch Logs, if attached.
    pub fn logs(&self) -> Option<&logs::Logs> {
        self.inner.logs.get()
    }

    /// The options the bus runs with.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// The ARN of a bus.
    pub fn bus_arn(&self, name: &str) -> String {
        bus_arn(&self.inner.options, name)
    }

    /// The ARN of a rule.
    pub fn rule_arn(&self, bus: &str, name: &str) -> String {
        let options = &self.inner.options;
        if bus == DEFAULT_BUS {
            format!("arn:aws:events:{}:{}:rule/{name}", options.region, options.account)
        } else {
            format!(
                "arn:aws:events:{}:{}:rule/{bus}/{name}",
                options.region, options.account
            )
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// Reads the catalog again every [`CATALOG_REFRESH`], for a node sharing its store: the
    /// other nodes' changes to buses, rules, targets and schedules reach this one's matcher and
    /// scheduler. A reload waits for this node's own change in progress, so it never undoes it.
    async fn refresh_catalog(self) {
        loop {
            tokio::time::sleep(CATALOG_REFRESH).await;
            let _one = self.inner.changes.lock().await;
            match catalog::Catalog::load(self.inner.store.as_ref()).await {
                Ok(catalog) => *self.write_catalog() = catalog,
                Err(error) => tracing::warn!("could not read the bus catalog again: {error}"),
            }
        }
    }
}

fn bus_arn(options: &Options, name: &str) -> String {
    format!("arn:aws:events:{}:{}:event-bus/{name}", options.region, options.account)
}

/// A bus name from a name or an ARN, as `EventBusName` takes either (`default` when absent).
pub fn bus_name(name_or_arn: Option<&str>) -> String {
    match name_or_arn {
        None | Some("") => DEFAULT_BUS.to_owned(),
        Some(text) => match text.split_once(":event-bus/") {
            Some((prefix, name)) if prefix.starts_with("arn:") => name.to_owned(),
            _ => text.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests;
