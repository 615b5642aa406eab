//! The `sluice` command line: a thin layer over the library crates.

mod commands;
mod input;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
}

#[derive(Debug, Subcommand)]
enum LocalCommand {
    /// Run a state machine to its end, with tasks answered by mocks and a virtual clock.
    Run(commands::local_run::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(args),
        Command::Local(LocalCommand::Run(args)) => commands::local_run::run(args),
        Command::Serve(args) => commands::serve::run(args, sluice_engine::Functions::default()),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
