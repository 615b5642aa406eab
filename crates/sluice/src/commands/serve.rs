//! `sluice serve`: the engine on the embedded store (or on PostgreSQL with `--store`), with the
//! AWS APIs on one HTTP port.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use sluice_api::admin::{DeployAppRequest, DeployAppResponse, DeployedStateMachine};
use sluice_api::{Admin, ApiError, Clock, Credentials, EngineService, ErrorCode, Options as ApiOptions};
use sluice_engine::{Engine, Functions, Options};
use sluice_queues::{Clock as QueueClock, DeclaredQueue, Options as QueueOptions, Queues};
use sluice_store::Store;
use sluice_store::bus::BusStore;
use sluice_store::objects::BucketStore;
use sluice_store::queues::QueueStore;
use sluice_store::tables::TableStore;
use sluice_store_postgres::PostgresStore;
use sluice_store_sqlite::SqliteStore;

/// The development key pair accepted on loopback when no keys are configured.
const DEVELOPMENT_KEY: (&str, &str) = ("test", "test");

/// The file in the data directory listing the app folders deployed, so that a restarted server
/// registers their functions again before it resumes their executions.
const DEPLOYED_APPS: &str = "deployed-apps.json";

/// Arguments of `sluice serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The data directory: the SQLite file (unless --store names another) and the blob folder of
    /// the buckets.
    #[arg(long, default_value = ".sluice")]
    pub data: PathBuf,
    /// Where the state lives: a PostgreSQL URL (`postgres://user:password@host:port/database`)
    /// instead of the SQLite file in --data. The blobs stay in --data.
    #[arg(long, env = "SLUICE_STORE", hide_env_values = true)]
    pub store: Option<String>,
    /// The address to listen on; port 0 takes a free port, which the `serving` log line names.
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
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
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
    let stores = open_stores(&args).await?;
    let blobs = sluice_blob::Blobs::local(&args.data.join("blobs"))
        .with_context(|| format!("cannot open the blob folder in {}", args.data.display()))?;
    let buckets = sluice_buckets::Buckets::new(stores.buckets, blobs, sluice_buckets::Options::default());
    let tables = sluice_tables::Tables::new(stores.tables, sluice_tables::Options::default());
    let queues = Queues::new(stores.queues, QueueOptions::default(), QueueClock::system());
    let engine = Engine::new(stores.executions, functions, Options::default());
    let bus = sluice_bus::Bus::open(
        stores.bus,
        engine.clone(),
        None,
        sluice_bus::Options::default(),
        sluice_bus::Clock::system(),
    )
    .await
    .context("cannot open the event bus")?;
    let deployer = Deployer {
        engine: engine.clone(),
        bus: bus.clone(),
        tables: tables.clone(),
        queues: queues.clone(),
        record: args.data.join(DEPLOYED_APPS),
        lock: tokio::sync::Mutex::new(()),
    };
    // Functions first: the engine resumes the previous run's tasks as soon as it starts.
    deployer.redeploy(&args.apps).await?;
    engine.start().await.context("cannot start the engine")?;
    bus.start().await.context("cannot start the event bus")?;
    // Expired items are invisible at once; this reclaims their space.
    tables.spawn_expiry(std::time::Duration::from_secs(1));
    let targets: Arc<dyn sluice_buckets::Targets> = Arc::new(crate::targets::engine_targets(&engine));
    buckets
        .start(targets.clone(), std::time::Duration::from_secs(60))
        .await
        .context("cannot start delivering object notifications")?;
    queues.spawn_expiry(std::time::Duration::from_secs(10));
    let router = sluice_api::router(ApiOptions {
        step_functions: Arc::new(EngineService::new(engine)),
        admin: Some(Arc::new(deployer)),
        events: Some(bus),
        credentials,
        clock: Clock::system(),
        region: None,
        metrics: Some(sluice_api::metrics::install_recorder().context("cannot record metrics")?),
        tables: Some(tables),
        buckets: Some(Arc::new(sluice_api::s3::Service { buckets, targets })),
        queues: Some(queues),
    });
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr().context("cannot read the address listened on")?;
    tracing::info!(%address, data = %args.data.display(), store = stores.name, "serving");
    axum::serve(listener, router).await.context("the server stopped")?;
    Ok(())
}

/// One backend, seen through each store trait.
struct Stores {
    /// Which backend, for the log: `sqlite` or `postgres`.
    name: &'static str,
    executions: Arc<dyn Store>,
    bus: Arc<dyn BusStore>,
    tables: Arc<dyn TableStore>,
    buckets: Arc<dyn BucketStore>,
    queues: Arc<dyn QueueStore>,
}

impl Stores {
    fn of<S: Store + BusStore + TableStore + BucketStore + QueueStore>(name: &'static str, store: S) -> Stores {
        let store = Arc::new(store);
        Stores {
            name,
            executions: store.clone(),
            bus: store.clone(),
            tables: store.clone(),
            buckets: store.clone(),
            queues: store,
        }
    }
}

/// Opens the store `--store` names, or the SQLite file in the data directory.
async fn open_stores(args: &Args) -> Result<Stores> {
    match args.store.as_deref() {
        None => Ok(Stores::of(
            "sqlite",
            SqliteStore::open(&args.data.join("sluice.db"))
                .with_context(|| format!("cannot open the store in {}", args.data.display()))?,
        )),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => Ok(Stores::of(
            "postgres",
            PostgresStore::connect(url)
                .await
                .with_context(|| format!("cannot open the PostgreSQL store at {}", without_password(url)))?,
        )),
        Some(other) => bail!(
            "--store must be a PostgreSQL URL (postgres://user:password@host:port/database), not {:?}",
            without_password(other)
        ),
    }
}

/// A URL with its password (if any) masked, for messages.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Deploys apps for `sluice serve --app` and for `SluiceAdmin.DeployApp`, and remembers them.
struct Deployer {
    engine: Engine,
    /// The event bus, which deploys the app's buses, rules and targets.
    bus: sluice_bus::Bus,
    /// Where the apps' `[tables.NAME]` go.
    tables: sluice_tables::Tables,
    /// The queues an app declares go here.
    queues: Queues,
    /// The list of deployed app folders.
    record: PathBuf,
    /// One deployment at a time, so that the record is not written by two at once.
    lock: tokio::sync::Mutex<()>,
}

impl Deployer {
    /// Deploys the apps deployed before this start (whose functions the engine must know again
    /// before it resumes their executions), then the `--app` folders.
    async fn redeploy(&self, apps: &[PathBuf]) -> Result<()> {
        for folder in self.remembered()? {
            if apps.iter().any(|app| app.canonicalize().ok().as_ref() == Some(&folder)) {
                continue;
            }
            if let Err(error) = self.deploy(&folder).await {
                tracing::warn!(folder = %folder.display(), "an app deployed before cannot be deployed again: {error:#}");
            }
        }
        for app in apps {
            self.deploy(app).await?;
        }
        Ok(())
    }

    /// Deploys one app folder and adds it to the record.
    async fn deploy(&self, folder: &std::path::Path) -> Result<sluice_engine::app::Deployed> {
        let folder = folder
            .canonicalize()
            .with_context(|| format!("cannot find the app folder {}", folder.display()))?;
        let _one_at_a_time = self.lock.lock().await;
        // The bus's part, the tables and the queues are checked before anything changes, so a deployment
        // stays all-or-nothing.
        let manifest = sluice_engine::app::Manifest::read(&folder)?;
        let plan = self.bus.plan_app(&manifest).await?;
        let tables = manifest
            .tables
            .iter()
            .map(|(name, entry)| table_definition(name, entry))
            .collect::<Result<Vec<_>>>()?;
        for table in &tables {
            self.tables
                .check_table(table)
                .await
                .map_err(|error| anyhow::anyhow!("tables.{}: {}", table.name, error.message))?;
        }
        let declared: Vec<DeclaredQueue> = manifest
            .queues
            .iter()
            .map(|(name, attributes)| DeclaredQueue {
                name: name.clone(),
                attributes: attributes
                    .iter()
                    .map(|(key, value)| (key.clone(), value.to_text()))
                    .collect(),
            })
            .collect();
        self.queues.check_declared(&declared).await?;
        let deployed = self
            .engine
            .deploy_app(&folder, chrono::Utc::now().timestamp_millis())
            .await?;
        for table in &tables {
            let created = self
                .tables
                .ensure_table(table)
                .await
                .map_err(|error| anyhow::anyhow!("tables.{}: {}", table.name, error.message))?;
            tracing::info!(table = %table.name, created, "table deployed");
        }
        let queues = self.queues.deploy_declared(&declared).await?;
        if !queues.is_empty() {
            tracing::info!(app = %deployed.app, ?queues, "queues deployed");
        }
        let rules = self.bus.apply_app(plan).await?;
        tracing::info!(app = %deployed.app, folder = %folder.display(), state_machines = deployed.state_machines.len(), functions = deployed.functions.len(), rules = rules.len(), "deployed");
        let mut remembered = self.remembered()?;
        if !remembered.contains(&folder) {
            remembered.push(folder);
            let text = serde_json::to_string_pretty(&remembered)?;
            let temporary = self.record.with_extension("json.tmp");
            std::fs::write(&temporary, text).with_context(|| format!("cannot write {}", temporary.display()))?;
            std::fs::rename(&temporary, &self.record)
                .with_context(|| format!("cannot write {}", self.record.display()))?;
        }
        Ok(deployed)
    }

    /// The app folders deployed so far.
    fn remembered(&self) -> Result<Vec<PathBuf>> {
        match std::fs::read_to_string(&self.record) {
            Ok(text) => serde_json::from_str(&text)
                .with_context(|| format!("{} is not a list of folders", self.record.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(error) => Err(error).with_context(|| format!("cannot read {}", self.record.display())),
        }
    }
}

/// A manifest's `[tables.NAME]` as a table definition.
fn table_definition(name: &str, entry: &sluice_engine::app::TableEntry) -> Result<sluice_tables::TableDefinition> {
    use sluice_expressions::{KeyAttribute, KeySchema, ScalarType};
    let attribute = |key: &sluice_engine::app::KeyEntry, member: &str| -> Result<KeyAttribute> {
        let scalar_type = match key.scalar_type.as_str() {
            "S" => ScalarType::S,
            "N" => ScalarType::N,
            "B" => ScalarType::B,
            other => bail!("tables.{name}.{member}.type must be S, N or B, not {other:?}"),
        };
        Ok(KeyAttribute {
            name: key.name.clone(),
            scalar_type,
        })
    };
    Ok(sluice_tables::TableDefinition {
        name: name.to_owned(),
        key_schema: KeySchema {
            partition: attribute(&entry.partition_key, "partition_key")?,
            sort: entry
                .sort_key
                .as_ref()
                .map(|sort| attribute(sort, "sort_key"))
                .transpose()?,
        },
        ttl_attribute: entry.ttl_attribute.clone(),
    })
}

#[async_trait::async_trait]
impl Admin for Deployer {
    async fn deploy_app(&self, request: DeployAppRequest) -> Result<DeployAppResponse, ApiError> {
        let deployed = self
            .deploy(std::path::Path::new(&request.path))
            .await
            .map_err(|error| ApiError::new(ErrorCode::ValidationException, format!("{error:#}")))?;
        Ok(DeployAppResponse {
            app: deployed.app,
            state_machines: deployed
                .state_machines
                .into_iter()
                .map(|(name, state_machine_arn, revision)| DeployedStateMachine {
                    name,
                    state_machine_arn,
                    revision,
                })
                .collect(),
            functions: deployed.functions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn passwords_are_masked_in_messages() {
        assert_eq!(
            without_password("postgres://sluice:secret@db:5432/sluice"),
            "postgres://sluice:***@db:5432/sluice"
        );
        assert_eq!(
            without_password("postgres://sluice@db/sluice"),
            "postgres://sluice@db/sluice"
        );
        assert_eq!(without_password("mysql://a:b@c"), "mysql://a:***@c");
    }
}
