//! `sluice local run DEFINITION.json --input INPUT.json [--mocks MOCKS.json --test-case NAME]`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use sluice_asl::local::{self, Mocks, Options};
use sluice_asl::{Entropy, SeededEntropy};

use crate::input::read_json;

/// Arguments of `sluice local run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The state machine definition (Amazon States Language JSON).
    definition: PathBuf,
    /// The execution input, a JSON file; `-` reads standard input.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Mocked task responses, in the format of AWS Step Functions Local's mock configuration.
    #[arg(long, requires = "test_case")]
    mocks: Option<PathBuf>,
    /// The test case of the mocks file to use.
    #[arg(long, requires = "mocks")]
    test_case: Option<String>,
    /// The state machine's name in the mocks file and in `$$.StateMachine.Name`; defaults to the
    /// definition file's stem.
    #[arg(long)]
    name: Option<String>,
    /// The seed of every random value (`States.UUID`, jitter, `$random()`), for a repeatable run.
    /// A seeded run also starts its virtual clock at a fixed instant, 2026-01-01T00:00:00Z, unless
    /// `--start-time` says otherwise, so that its whole output is repeatable.
    #[arg(long)]
    seed: Option<u64>,
    /// When the execution starts on the virtual clock (RFC 3339, e.g. `2026-01-01T00:00:00Z`);
    /// defaults to now, or to 2026-01-01T00:00:00Z when `--seed` is given.
    #[arg(long)]
    start_time: Option<DateTime<Utc>>,
}

/// Runs the definition and prints `{"status": …}` as one JSON object.
pub fn run(args: Args) -> Result<ExitCode> {
    let definition = read_json(&args.definition)?;
    let machine = match sluice_asl::parse(&definition) {
        Ok(machine) => machine,
        Err(diagnostics) => {
            eprint!("{diagnostics}");
            return Ok(ExitCode::from(1));
        }
    };
    let input = match &args.input {
        Some(path) => read_json(path)?,
        None => Value::Object(Default::default()),
    };
    let name = match args.name {
        Some(name) => name,
        None => args
            .definition
            .file_stem()
            .and_then(|stem| stem.to_str())
            .context("the definition file has no name to take the state machine's name from; pass --name")?
            .to_owned(),
    };
    let mocks = match (&args.mocks, &args.test_case) {
        (Some(path), Some(test_case)) => {
            let config = read_json(path)?;
            Mocks::from_config(&config, &name, test_case).with_context(|| format!("in {}", path.display()))?
        }
        (None, None) => Mocks::default(),
        _ => bail!("--mocks and --test-case go together"),
    };
    let start_time = match (args.start_time, args.seed) {
        (Some(start_time), _) => start_time,
        (None, Some(_)) => Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .context("the fixed start of a seeded run is not a valid instant")?,
        (None, None) => Utc::now(),
    };
    let seed = args
        .seed
        .unwrap_or_else(|| Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64);
    let execution_name = SeededEntropy::new(seed ^ 0x5eed).uuid();
    let options = Options {
        name,
        execution_name,
        start_time,
        seed,
        mocks,
    };
    let outcome = local::run(&machine, input, options);
    println!("{}", outcome.to_json());
    Ok(ExitCode::SUCCESS)
}
