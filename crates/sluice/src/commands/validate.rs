//! `sluice validate DEFINITION.json`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::input::read_json;

/// Arguments of `sluice validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The state machine definition (Amazon States Language JSON).
    definition: PathBuf,
}

/// Prints every problem, one a line, and exits 1 if there is any.
pub fn run(args: Args) -> Result<ExitCode> {
    let definition = read_json(&args.definition)?;
    match sluice_asl::parse(&definition) {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(diagnostics) => {
            print!("{diagnostics}");
            Ok(ExitCode::from(1))
        }
    }
}
