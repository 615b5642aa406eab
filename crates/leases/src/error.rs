//! Why a lease operation failed. Each variant has the error name a state machine's `Catch`
//! matches ([`Error::error_name`]).

use std::time::Duration;

/// A failed lease operation.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Someone else holds the lease and it has not expired (`Sluice.LeaseHeld`).
    #[error("The lease '{name}' is held by '{holder}' for {remaining:?} more (fencing token {token})")]
    Held {
        /// The lease.
        name: String,
        /// Its holder.
        holder: String,
        /// How long until it expires, unless renewed.
        remaining: Duration,
        /// The holder's fencing token.
        token: u64,
    },
    /// The caller does not hold the lease: nobody does, someone else does, its grant has expired,
    /// or it was granted again since (a newer token) (`Sluice.NotLeaseOwner`).
    #[error("'{owner}' does not hold the lease '{name}': {reason}")]
    NotOwner {
        /// The lease.
        name: String,
        /// The caller.
        owner: String,
        /// Why not, as a sentence.
        reason: String,
    },
    /// A request field is not valid (`Sluice.InvalidLeaseRequest`).
    #[error("{field}: {message}")]
    Invalid {
        /// The field (`Name`, `Owner`, `TtlSeconds`, …).
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The table the leases are kept in failed (`Sluice.LeaseStoreFailed`).
    #[error("the lease table failed: {0}")]
    Tables(#[from] sluice_tables::Error),
}

impl Error {
    /// The error name a state machine's `Retry` and `Catch` match.
    pub fn error_name(&self) -> &'static str {
        match self {
            Error::Held { .. } => "Sluice.LeaseHeld",
            Error::NotOwner { .. } => "Sluice.NotLeaseOwner",
            Error::Invalid { .. } => "Sluice.InvalidLeaseRequest",
            Error::Tables(_) => "Sluice.LeaseStoreFailed",
        }
    }
}

/// A result of a lease operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
