//! `publikes`: serve Sluice with the Publikes app deployed, read the list, or run a fake
//! fxtwitter for tests.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// The Publikes collector on Sluice.
#[derive(Debug, Parser)]
#[command(name = "publikes", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve Sluice (the same flags as `sluice serve`) with the app deployed.
    Serve(Box<ServeArgs>),
    /// Print every stored status id, newest first, one a line.
    Read(ReadArgs),
    /// Serve a fake fxtwitter API on 127.0.0.1 for tests, within bounds.
    FakeFxtwitter(FakeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    serve: sluice::commands::serve::Args,
    /// The like route's shared secret (`X-Publikes-Secret`).
    #[arg(long, env = "PUBLIKES_SECRET", hide_env_values = true)]
    secret: String,
    /// The fxtwitter-compatible API.
    #[arg(long, env = "PUBLIKES_FXTWITTER_URL", default_value = "https://api.fxtwitter.com")]
    fxtwitter_url: String,
    /// Seconds between closing a batch and merging it.
    #[arg(long, default_value_t = 120)]
    merge_delay: u64,
}

#[derive(Debug, clap::Args)]
struct ReadArgs {
    #[command(flatten)]
    connection: sluice::client::ConnectionArgs,
}

#[derive(Debug, clap::Args)]
struct FakeArgs {
    /// The port on 127.0.0.1 (0 for any free one; the first line printed names it).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Stop after this many requests.
    #[arg(long, default_value_t = 100_000)]
    max_requests: usize,
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 600)]
    max_seconds: u64,
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Serve(args) => serve(*args),
        Command::Read(args) => read(args),
        Command::FakeFxtwitter(args) => fake(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn serve(mut args: ServeArgs) -> anyhow::Result<ExitCode> {
    let folder = publikes::app_folder();
    let canonical = folder.canonicalize().ok();
    if !args.serve.apps.iter().any(|app| app.canonicalize().ok() == canonical) {
        args.serve.apps.push(folder);
    }
    let config = publikes::Config {
        secret: args.secret,
        fxtwitter_url: args.fxtwitter_url,
        merge_delay_seconds: args.merge_delay,
        ..publikes::Config::default()
    };
    sluice::commands::serve::run_with(
        args.serve,
        sluice_engine::Functions::default(),
        Box::new(move |services| publikes::register(services, config)),
    )
}

fn read(args: ReadArgs) -> anyhow::Result<ExitCode> {
    let client = sluice::client::Client::new(args.connection)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let statuses = runtime.block_on(publikes::reader::walk(|key| {
        let client = client.clone();
        async move {
            client
                .get_object(publikes::objects::BUCKET, &key)
                .await
                .map_err(|error| publikes::Error::Storage(format!("{error:#}")))
        }
    }))?;
    let mut out = String::new();
    for status in statuses {
        out.push_str(&status);
        out.push('\n');
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn fake(args: FakeArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let bounds = publikes::fake_fxtwitter::Bounds {
            max_requests: args.max_requests,
            max_time: std::time::Duration::from_secs(args.max_seconds),
        };
        let (address, task) = publikes::fake_fxtwitter::spawn(args.port, bounds).await?;
        println!("http://{address}");
        task.await.context("the fake stopped")?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
