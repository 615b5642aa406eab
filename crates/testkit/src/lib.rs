//! Fixtures shared by Sluice's tests. [`postgres`] gives each test its own database on one
//! throwaway PostgreSQL cluster per test binary.
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

pub mod postgres;
