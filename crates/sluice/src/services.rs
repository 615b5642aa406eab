//! What in-process functions may use of the server they run in, as a Lambda function uses the
//! AWS SDK: the buckets, tables, queues, the event bus, and the engine (to start executions).
//!
//! An embedding binary gets a [`Services`] once the server has opened its store and before it
//! deploys apps or resumes work, and registers its functions then, each closure keeping a clone:
//!
//! ```no_run
//! use sluice::Services;
//! use sluice_engine::Function;
//!
//! fn setup(services: &Services) -> anyhow::Result<()> {
//!     let buckets = services.buckets().clone();
//!     services.functions().register(
//!         "count-buckets",
//!         Function::in_process(move |_event| {
//!             let buckets = buckets.clone();
//!             async move {
//!                 let listed = buckets.list_buckets().await.map_err(|error| {
//!                     sluice_engine::FunctionError::new("Buckets", error.to_string())
//!                 })?;
//!                 Ok(serde_json::json!({ "buckets": listed.len() }))
//!             }
//!         }),
//!     );
//!     Ok(())
//! }
//! std::process::exit(i32::from(sluice::main_with(setup) != std::process::ExitCode::SUCCESS));
//! ```
//!
//! The arrows stay one way: the engine knows nothing of buckets, tables or queues; this crate,
//! which builds them all, hands them to the functions.

use sluice_buckets::Buckets;
use sluice_bus::Bus;
use sluice_engine::{Engine, Functions};
use sluice_queues::Queues;
use sluice_tables::Tables;

/// The server's services, for in-process functions. Cheap to clone: clones share everything.
#[derive(Clone)]
pub struct Services {
    pub(crate) engine: Engine,
    pub(crate) buckets: Buckets,
    pub(crate) tables: Tables,
    pub(crate) queues: Queues,
    pub(crate) bus: Bus,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Services")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl Services {
    /// The engine: start executions (`start_execution`), describe them, wait for their end.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The functions the engine calls, where in-process functions are registered.
    pub fn functions(&self) -> &Functions {
        self.engine.functions()
    }

    /// The buckets (S3's semantics: conditional puts, listings, deletes).
    pub fn buckets(&self) -> &Buckets {
        &self.buckets
    }

    /// The tables (DynamoDB's operations, in DynamoDB JSON).
    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// The queues (SQS's operations).
    pub fn queues(&self) -> &Queues {
        &self.queues
    }

    /// The event bus (`PutEvents` and the rest of EventBridge).
    pub fn bus(&self) -> &Bus {
        &self.bus
    }
}

/// What an embedding binary runs with the services before the server deploys and starts.
pub type Setup = Box<dyn FnOnce(&Services) -> anyhow::Result<()> + Send>;
