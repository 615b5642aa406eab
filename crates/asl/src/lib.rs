//! The Amazon States Language: parse and validate a definition into a typed, immutable value, and
//! step through it. Pure: the clock, randomness and every effect are the caller's.
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

pub mod definition;
pub mod diagnostics;
pub mod entropy;
pub mod failure;
pub mod intrinsic;
pub mod jsonata;
pub mod local;
pub mod payload;
pub mod scope;
pub mod step;
pub mod timestamp;

pub use definition::{StateMachine, parse};
pub use diagnostics::{Diagnostic, Diagnostics};
pub use entropy::{Entropy, SeededEntropy};
pub use failure::Failure;
