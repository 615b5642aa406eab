//! Sluice's durable engine: runs executions of state machines on a [`Store`], so that a
//! transition recorded is never lost or repeated, and a task may run more than once after a
//! crash (at-least-once), as on AWS.
//!
//! Each change to an execution is one `Store::advance`: the new snapshot of where it stands, the
//! history events, and the work (task invocations and timers) it adds and retires, all in one
//! commit. Within this process one lock per execution orders its advances; the version check in
//! the store orders them across processes.
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

pub mod app;
mod dispatch;
mod error;
mod events;
pub mod functions;
pub mod integrations;
mod live;
mod machines;
pub mod metrics;
mod resources;
pub mod routes;
mod snapshot;
mod txn;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sluice_store::Store;
use tokio::sync::Notify;

pub use error::{Error, Result, check_name};
pub use functions::{Function, FunctionError, Functions};
pub use integrations::{Call as IntegrationCall, Integration, Pattern as IntegrationPattern};
pub use routes::{Route, RouteKey, Routes};
pub use sluice_store::{
    ExecutionRecord, ExecutionStatus, ExecutionSummary, HistoryEvent, MachineType, StateMachineRecord,
};

/// Where the engine says it is: the region and account in its ARNs, and this node's name.
#[derive(Debug, Clone)]
pub struct Options {
    /// The region in ARNs (`us-east-1` by default).
    pub region: String,
    /// The account in ARNs (`123456789012` by default).
    pub account: String,
    /// This node's name, for leases.
    pub node: String,
    /// Whether this node is alone on its store (SQLite): at start it then frees every lease at
    /// once, as no other node can hold one. Nodes sharing a store (PostgreSQL) leave leases to
    /// run out: a live node renews its own, a dead node's lapse and another node takes the work.
    pub exclusive_store: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            node: "sluice-node".into(),
            exclusive_store: true,
        }
    }
}

/// The engine. Cheap to clone: clones share everything.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Engine")
            .field("node", &self.inner.options.node)
            .finish_non_exhaustive()
    }
}

struct Inner {
    store: Arc<dyn Store>,
    functions: Functions,
    /// The HTTP routes the apps declare.
    routes: Routes,
    options: Options,
    /// Parsed definitions by (state machine ARN, revision).
    machines: Mutex<HashMap<(String, u64), Arc<sluice_asl::StateMachine>>>,
    /// Running executions this process holds in memory, each behind its own lock.
    live: live::LiveExecutions,
    /// Wakes the timer loop when work may be due sooner than it thought.
    wake: Notify,
    /// Task resources served by other parts of Sluice, by service (`s3`, `dynamodb`, …).
    integrations: std::sync::RwLock<HashMap<String, Arc<dyn Integration>>>,
    /// The work items this node runs now, whose leases it renews.
    held: Mutex<std::collections::HashSet<String>>,
    /// Callers waiting for executions to end.
    waiters: Mutex<HashMap<String, Vec<tokio::sync::oneshot::Sender<ExecutionRecord>>>>,
}

impl Engine {
    /// An engine on `store`, calling `functions`. Call [`Engine::start`] to run timers and resume
    /// the work of a previous run.
    pub fn new(store: Arc<dyn Store>, functions: Functions, options: Options) -> Engine {
        Engine {
            inner: Arc::new(Inner {
                store,
                functions,
                routes: Routes::default(),
                options,
                machines: Mutex::new(HashMap::new()),
                live: live::LiveExecutions::default(),
                wake: Notify::new(),
                integrations: std::sync::RwLock::new(HashMap::new()),
                held: Mutex::new(std::collections::HashSet::new()),
                waiters: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The functions this engine calls.
    pub fn functions(&self) -> &Functions {
        &self.inner.functions
    }

    /// The HTTP routes (function URLs) the deployed apps declare.
    pub fn routes(&self) -> &Routes {
        &self.inner.routes
    }

    /// The store this engine runs on.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The ARN of a state machine of this engine's region and account.
    pub fn state_machine_arn(&self, name: &str) -> String {
        let options = &self.inner.options;
        format!(
            "arn:aws:states:{}:{}:stateMachine:{name}",
            options.region, options.account
        )
    }

    /// The ARN of an execution.
    pub fn execution_arn(&self, machine_name: &str, name: &str) -> String {
        let options = &self.inner.options;
        format!(
            "arn:aws:states:{}:{}:execution:{machine_name}:{name}",
            options.region, options.account
        )
    }

    /// Starts the engine's background work: on a store of its own, frees the leases a previous
    /// run held (its in-flight tasks run again; on a shared store they run again once their
    /// leases lapse), then fires timers and runs due work, and renews the leases of the work it
    /// runs, until the process ends.
    pub async fn start(&self) -> Result<()> {
        if self.inner.options.exclusive_store {
            self.inner.store.release_leases().await?;
        }
        let engine = self.clone();
        tokio::spawn(async move { engine.run_due_work().await });
        let engine = self.clone();
        tokio::spawn(async move { engine.renew_leases().await });
        Ok(())
    }
}
