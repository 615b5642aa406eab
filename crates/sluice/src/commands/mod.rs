//! One module per command.

pub mod deploy;
pub mod exec;
pub mod local_run;
pub mod logs;
pub mod serve;
pub mod validate;
