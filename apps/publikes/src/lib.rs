//! The Publikes collector (seed 000) on Sluice: liked statuses go into a public, append-only
//! linked list of batches in bucket `publikes`, which a static page reads with plain GETs.
//!
//! `POST /publikes/likes` (a route, Sluice's function URL) checks the shared secret and puts
//! `{id, ts}` on the FIFO queue `publikes-likes.fifo`; `publikes-insert-status`, fed by the queue,
//! puts each status into the head batch once and starts `store-status`, which fetches the status
//! from an fxtwitter-compatible API. `rotate-batch`, on a schedule or on demand, takes the
//! rotation lock (a lease), closes the head batch, releases the lock, waits, and merges the
//! closed batch's pages. See `README.md` and [`batches`] for the correctness argument.
//!
//! The functions are a library: [`register`] adds them to any Sluice server's functions, given
//! its [`sluice::Services`], so `publikes serve` and any other embedding binary serve the app.
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

pub mod batches;
pub mod fake_fxtwitter;
mod functions;
pub mod layout;
pub mod lock;
pub mod objects;
pub mod reader;
mod route;
pub mod status;

use std::path::PathBuf;

pub use functions::register;
pub use objects::Objects;

/// The app folder (its `sluice.toml` and ASL definitions), as built.
pub fn app_folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The FIFO queue the like route feeds.
pub const QUEUE: &str = "publikes-likes.fifo";

/// How the app runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The shared secret the like route checks (`X-Publikes-Secret`).
    pub secret: String,
    /// The fxtwitter-compatible API (`GET {url}/status/{id}`).
    pub fxtwitter_url: String,
    /// Seconds between closing a batch and merging it (the seed's 2 minutes by default).
    pub merge_delay_seconds: u64,
    /// How long the rotation lock's lease lasts, in seconds.
    pub lock_lease_seconds: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            secret: String::new(),
            fxtwitter_url: "https://api.fxtwitter.com".to_owned(),
            merge_delay_seconds: 120,
            lock_lease_seconds: 300,
        }
    }
}

/// Why an action of the app failed. Each becomes a function error whose type a state machine's
/// Retry or Catch can name (`Publikes.Upstream`, …).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bucket could not be read or written.
    #[error("storage: {0}")]
    Storage(String),
    /// An object does not hold what the app wrote there.
    #[error("{key}: {message}")]
    Corrupt {
        /// The object.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A compare-and-swap kept losing.
    #[error("gave up after contention on {0}")]
    Contention(String),
    /// The input is not what the action takes.
    #[error("{0}")]
    Invalid(String),
    /// Something the input names does not exist.
    #[error("{0} does not exist")]
    NotFound(String),
    /// The fxtwitter-compatible API failed or answered an error.
    #[error("{0}")]
    Upstream(String),
}

impl Error {
    /// The function error's type.
    pub fn error_type(&self) -> &'static str {
        match self {
            Error::Storage(_) => "Publikes.Storage",
            Error::Corrupt { .. } => "Publikes.Corrupt",
            Error::Contention(_) => "Publikes.Contention",
            Error::Invalid(_) => "Publikes.Invalid",
            Error::NotFound(_) => "Publikes.NotFound",
            Error::Upstream(_) => "Publikes.Upstream",
        }
    }
}

impl From<Error> for sluice_engine::FunctionError {
    fn from(error: Error) -> sluice_engine::FunctionError {
        sluice_engine::FunctionError::new(error.error_type(), error.to_string())
    }
}
