//! `sluice serve`: the engine on the embedded store, with the AWS APIs on one HTTP port.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use sluice_api::{Clock, Credentials, EngineService, Options as ApiOptions};
use sluice_engine::{Engine, Functions, Options};
use sluice_store_sqlite::SqliteStore;

/// The development key pair accepted on loopback when no keys are configured.
const DEVELOPMENT_KEY: (&str, &str) = ("test", "test");

/// Arguments of `sluice serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The data directory: the SQLite file and, later, object storage.
    #[arg(long, default_value = ".sluice")]
    pub data: PathBuf,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:4566")]
    pub listen: SocketAddr,
    /// App folders (with a sluice.toml) to deploy at start.
    #[arg(long = "app")]
    pub apps: Vec<PathBuf>,
    /// The access key clients sign with (needed to listen beyond loopback).
    #[arg(long, env = "SLUICE_ACCESS_KEY_ID", requires = "secret_key")]
    pub access_key: Option<String>,
    /// The secret key of that access key.
    #[arg(
        long,
        env = "SLUICE_SECRET_ACCESS_KEY",
        hide_env_values = true,
        requires = "access_key"
    )]
    pub secret_key: Option<String>,
}

/// Serves until the process is stopped.
pub fn run(args: Args, functions: Functions) -> Result<std::process::ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("SLUICE_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(serve(args, functions))?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// Runs the server on the current runtime.
pub async fn serve(args: Args, functions: Functions) -> Result<()> {
    let mut credentials = Credentials::new();
    match (&args.access_key, &args.secret_key) {
        (Some(key), Some(secret)) => credentials.insert(key.clone(), secret.clone()),
        _ if args.listen.ip().is_loopback() => credentials.insert(DEVELOPMENT_KEY.0, DEVELOPMENT_KEY.1),
        _ => bail!(
            "refusing to listen on {} with the development keys: set --access-key and --secret-key (or SLUICE_ACCESS_KEY_ID and SLUICE_SECRET_ACCESS_KEY)",
            args.listen
        ),
    }
    std::fs::create_dir_all(&args.data).with_context(|| format!("cannot create {}", args.data.display()))?;
    let store = SqliteStore::open(&args.data.join("sluice.db"))
        .with_context(|| format!("cannot open the store in {}", args.data.display()))?;
    let engine = Engine::new(Arc::new(store), functions, Options::default());
    engine.start().await.context("cannot start the engine")?;
    for app in &args.apps {
        let deployed = engine.deploy_app(app, chrono::Utc::now().timestamp_millis()).await?;
        tracing::info!(app = %deployed.app, state_machines = deployed.state_machines.len(), functions = deployed.functions.len(), "deployed");
    }
    let router = sluice_api::router(ApiOptions {
        step_functions: Arc::new(EngineService::new(engine)),
        credentials,
        clock: Clock::system(),
        region: None,
        metrics: Some(sluice_api::metrics::install_recorder().context("cannot record metrics")?),
    });
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(address = %args.listen, data = %args.data.display(), "serving");
    axum::serve(listener, router).await.context("the server stopped")?;
    Ok(())
}
