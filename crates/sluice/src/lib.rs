//! The `sluice` command line: a thin layer over the library crates.
//!
//! A binary that embeds Sluice with functions of its own (in-process Rust handlers) calls
//! [`main`] with them and gets the whole command line, `serve` included. Functions that use the
//! server's buckets, tables, queues, bus or engine register through [`main_with`] (or
//! `commands::serve::run_with`), which hands them the [`Services`]:
//!
//! ```no_run
//! use sluice_engine::{Function, Functions};
//!
//! let functions = Functions::default();
//! functions.register("hello", Function::in_process(|event| async move { Ok(event) }));
//! std::process::exit(i32::from(sluice::main(functions) != std::process::ExitCode::SUCCESS));
//! ```

pub mod client;
pub mod commands;
mod input;
pub mod integrations;
mod mappings;
mod services;
mod table;
mod targets;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use services::{Services, Setup};

/// Sluice: a durable serverless runtime in one binary.
#[derive(Debug, Parser)]
#[command(name = "sluice", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print every problem of a state machine definition, each with its JSON pointer.
    Validate(commands::validate::Args),
    /// Run things in process, without a server.
    #[command(subcommand)]
    Local(LocalCommand),
    /// Run the engine with the AWS APIs on one HTTP port.
    Serve(commands::serve::Args),
    /// Deploy an app folder (its sluice.toml) into a running server.
    Deploy(commands::deploy::Args),
    /// Start, inspect and stop executions on a running server.
    Exec(commands::exec::Args),
    /// Read log groups on a running server (`sluice logs tail GROUP --follow`).
    Logs(commands::logs::Args),
}

#[derive(Debug, Subcommand)]
enum LocalCommand {
    /// Run a state machine to its end, with tasks answered by mocks and a virtual clock.
    Run(commands::local_run::Args),
}

/// Runs the command line with `functions` available to every state machine `serve` runs.
pub fn main(functions: sluice_engine::Functions) -> ExitCode {
    run(functions, Box::new(|_| Ok(())))
}

/// Runs the command line; `serve` runs `setup` with the server's [`Services`] before it deploys
/// apps, so that in-process functions can keep the buckets, tables, queues, bus and engine.
pub fn main_with(setup: impl FnOnce(&Services) -> anyhow::Result<()> + Send + 'static) -> ExitCode {
    run(sluice_engine::Functions::default(), Box::new(setup))
}

fn run(functions: sluice_engine::Functions, setup: Setup) -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(args),
        Command::Local(LocalCommand::Run(args)) => commands::local_run::run(args),
        Command::Serve(args) => commands::serve::run_with(args, functions, setup),
        Command::Deploy(args) => commands::deploy::run(args),
        Command::Exec(args) => commands::exec::run(args),
        Command::Logs(args) => commands::logs::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
