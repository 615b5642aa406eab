//! One module per command.

pub mod local_run;
pub mod serve;
pub mod validate;
