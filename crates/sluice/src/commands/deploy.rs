//! `sluice deploy DIR`: deploy an app folder into a running server.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::client::{Client, ConnectionArgs};
use crate::commands::exec::print_answer;
use crate::table::Table;

/// Arguments of `sluice deploy`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The app folder, with its `sluice.toml`. The server reads it, so it must be on the
    /// server's machine.
    app: PathBuf,
    #[command(flatten)]
    connection: ConnectionArgs,
    /// Print the API's JSON answer instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs `sluice deploy`.
pub fn run(args: Args) -> Result<ExitCode> {
    let folder = args
        .app
        .canonicalize()
        .with_context(|| format!("cannot find the app folder {}", args.app.display()))?;
    let client = Client::new(args.connection)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let path = folder.to_str().context("the app folder's path is not UTF-8")?;
    let deployed = runtime.block_on(client.admin("DeployApp", &json!({"path": path})))?;
    print_answer(args.json, &deployed, || {
        let mut table = Table::new(&["kind", "name", "revision", "arn"]);
        let list = |field: &str| {
            deployed
                .get(field)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        for machine in list("stateMachines") {
            let member = |field: &str| {
                machine
                    .get(field)
                    .map(|value| value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string()))
            };
            table.row(vec![
                "state machine".to_owned(),
                member("name").unwrap_or_default(),
                member("revision").unwrap_or_default(),
                member("stateMachineArn").unwrap_or_default(),
            ]);
        }
        for function in list("functions") {
            table.row(vec![
                "function".to_owned(),
                function.as_str().unwrap_or_default().to_owned(),
            ]);
        }
        let app = deployed.get("app").and_then(Value::as_str).unwrap_or_default();
        format!("deployed {app}\n{}", table.render())
    });
    Ok(ExitCode::SUCCESS)
}
