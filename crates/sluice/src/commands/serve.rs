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
use sluice_store::archives::ArchiveStore;
use sluice_store::bus::BusStore;
use sluice_store::logs::LogStore;
use sluice_store::objects::BucketStore;
use sluice_store::queues::QueueStore;
use sluice_store::tables::TableStore;
use sluice_store::topics::TopicStore;
use sluice_store_postgres::PostgresStore;
use sluice_store_sqlite::SqliteStore;

use crate::services::{Services, Setup};

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
    /// instead of the SQLite file in --data. Several nodes may share one database.
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
    #[command(flatten)]
    pub blobs: BlobArgs,
}

/// Where the bytes of objects go: the data directory's blob folder, or a bucket of
/// S3-compatible storage.
#[derive(Debug, Clone, clap::Args)]
pub struct BlobArgs {
    /// Keep object bytes in this bucket of S3-compatible storage (which must exist) instead of
    /// the data directory's blob folder.
    #[arg(long, env = "SLUICE_S3_BUCKET", requires = "s3_endpoint")]
    pub s3_bucket: Option<String>,
    /// The URL of that S3-compatible service: `http://127.0.0.1:9000`,
    /// `https://s3.eu-west-1.amazonaws.com`.
    #[arg(long, env = "SLUICE_S3_ENDPOINT", requires = "s3_bucket")]
    pub s3_endpoint: Option<String>,
    /// The region to sign its requests for.
    #[arg(long, env = "SLUICE_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,
    /// The access key to sign its requests with.
    #[arg(long, env = "SLUICE_S3_ACCESS_KEY_ID", requires = "s3_bucket")]
    pub s3_access_key: Option<String>,
    /// The secret of that access key.
    #[arg(
        long,
        env = "SLUICE_S3_SECRET_ACCESS_KEY",
        hide_env_values = true,
        requires = "s3_access_key"
    )]
    pub s3_secret_key: Option<String>,
    /// How old a blob no object names must be before the sweep deletes it as an orphan (left by
    /// a write that crashed before its commit).
    #[arg(long, default_value_t = 3600)]
    pub blob_orphan_grace_seconds: u64,
    /// How long a replaced or deleted object's bytes are kept for reads that began before.
    #[arg(long, default_value_t = 60)]
    pub blob_garbage_delay_seconds: u64,
    /// How often replaced and orphaned blobs are swept.
    #[arg(long, default_value_t = 60)]
    pub blob_sweep_seconds: u64,
}

impl BlobArgs {
    /// The blob storage these arguments name.
    fn open(&self, data: &std::path::Path) -> Result<sluice_blob::Blobs> {
        let Some(bucket) = &self.s3_bucket else {
            return sluice_blob::Blobs::local(&data.join("blobs"))
                .with_context(|| format!("cannot open the blob folder in {}", data.display()));
        };
        self.open_s3(bucket)
    }

    #[cfg(feature = "s3")]
    fn open_s3(&self, bucket: &str) -> Result<sluice_blob::Blobs> {
        let options = sluice_blob::S3Options {
            endpoint: self.s3_endpoint.clone().unwrap_or_default(),
            bucket: bucket.to_owned(),
            region: self.s3_region.clone(),
            access_key: self.s3_access_key.clone().unwrap_or_default(),
            secret_key: self.s3_secret_key.clone().unwrap_or_default(),
        };
        sluice_blob::Blobs::s3(&options).with_context(|| format!("cannot open the S3 bucket {bucket}"))
    }

    #[cfg(not(feature = "s3"))]
    fn open_s3(&self, _bucket: &str) -> Result<sluice_blob::Blobs> {
        bail!("this sluice was built without the s3 feature, so --s3-bucket cannot be used")
    }
}

/// Serves until the process is stopped.
pub fn run(args: Args, functions: Functions) -> Result<std::process::ExitCode> {
    run_with(args, functions, Box::new(|_| Ok(())))
}

/// Serves until the process is stopped, running `setup` with the server's services once they are
/// open and before anything is deployed or resumed (see [`crate::Services`]).
pub fn run_with(args: Args, functions: Functions, setup: Setup) -> Result<std::process::ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("SLUICE_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(serve(args, functions, setup))?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// Runs the server on the current runtime.
pub async fn serve(args: Args, functions: Functions, setup: Setup) -> Result<()> {
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
    match args.store.as_deref() {
        None => {
            let store = SqliteStore::open(&args.data.join("sluice.db"))
                .with_context(|| format!("cannot open the store in {}", args.data.display()))?;
            serve_on(args, functions, setup, credentials, Arc::new(store), "sqlite").await
        }
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let store = PostgresStore::connect(url)
                .await
                .with_context(|| format!("cannot open the PostgreSQL store at {}", without_password(url)))?;
            serve_on(args, functions, setup, credentials, Arc::new(store), "postgres").await
        }
        Some(other) => bail!(
            "--store must be a PostgreSQL URL (postgres://user:password@host:port/database), not {:?}",
            without_password(other)
        ),
    }
}

/// Every store trait, as one backend implements them all in one database.
trait Backend: Store + BusStore + TableStore + BucketStore + QueueStore + TopicStore + LogStore + ArchiveStore {}

impl<S: Store + BusStore + TableStore + BucketStore + QueueStore + TopicStore + LogStore + ArchiveStore> Backend for S {}

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

/// Runs the server on an open store (`name` says which backend, for the log).
async fn serve_on<S: Backend>(
    args: Args,
    functions: Functions,
    setup: Setup,
    credentials: Credentials,
    store: Arc<S>,
    name: &'static str,
) -> Result<()> {
    let blobs = args.blobs.open(&args.data)?;
    tracing::info!(?blobs, "object bytes");
    // On SQLite this node is alone on its store; on PostgreSQL others may share it, so leases
    // lapse instead of being freed at start and the bus reads its catalog again now and then.
    let exclusive_store = name == "sqlite";
    let node = format!("sluice-{}", std::process::id());
    let bucket_options = sluice_buckets::Options {
        exclusive_store,
        node: node.clone(),
        orphan_grace: std::time::Duration::from_secs(args.blobs.blob_orphan_grace_seconds),
        garbage_delay: std::time::Duration::from_secs(args.blobs.blob_garbage_delay_seconds),
        ..sluice_buckets::Options::default()
    };
    let buckets = sluice_buckets::Buckets::new(store.clone(), blobs, bucket_options);
    let tables = sluice_tables::Tables::new(store.clone(), sluice_tables::Options::default());
    let queue_options = QueueOptions {
        shared_poll: (!exclusive_store).then_some(std::time::Duration::from_millis(500)),
        ..QueueOptions::default()
    };
    let queues = Queues::new(store.clone(), queue_options, QueueClock::system());
    let engine_options = Options {
        exclusive_store,
        node,
        ..Options::default()
    };
    let (region, account) = (engine_options.region.clone(), engine_options.account.clone());
    let engine = Engine::new(store.clone(), functions, engine_options);
    // Rules and dead-letter configs may name this server's queues.
    let queue_sink: Arc<dyn sluice_bus::Sink> = Arc::new(crate::targets::QueueSink { queues: queues.clone() });
    let topics = sluice_topics::Topics::new(
        store.clone(),
        queues.clone(),
        engine.clone(),
        sluice_topics::Options {
            exclusive_store,
            ..sluice_topics::Options::default()
        },
        sluice_topics::Clock::system(),
    );
    // Rules may target topics (`arn:aws:sns:…`) and this server's queues.
    let sink: Arc<dyn sluice_bus::Sink> = Arc::new(sluice_topics::TopicSink::new(topics.clone(), Some(queue_sink)));
    let bus = sluice_bus::Bus::open(
        store.clone(),
        engine.clone(),
        Some(sink),
        sluice_bus::Options {
            exclusive_store,
            ..sluice_bus::Options::default()
        },
        sluice_bus::Clock::system(),
    )
    .await
    .context("cannot open the event bus")?;
    // Event source mappings poll once the engine runs; deployments apply them.
    let sources = sluice_queues::sources::Sources::new(
        queues.clone(),
        Arc::new(crate::targets::EngineConsumer { engine: engine.clone() }),
    );
    // Log groups: the bus's log targets append to them; the Logs API reads them.
    bus.attach_logs(store.clone());
    // Archives and replays keep their events in the same store.
    bus.attach_archives(store)
        .await
        .context("cannot load the event archives")?;
    let targets: Arc<dyn sluice_buckets::Targets> = Arc::new(crate::targets::engine_targets(&engine, &queues, &bus));
    let leases = sluice_leases::Leases::open(tables.clone(), sluice_leases::Options::default())
        .await
        .map_err(|error| anyhow::anyhow!("cannot open the leases: {error}"))?;
    crate::integrations::register(
        &engine,
        crate::integrations::Services {
            tables: tables.clone(),
            buckets: buckets.clone(),
            queues: queues.clone(),
            bus: bus.clone(),
            leases,
        },
    );
    let services = Services {
        engine: engine.clone(),
        buckets: buckets.clone(),
        tables: tables.clone(),
        queues: queues.clone(),
        bus: bus.clone(),
    };
    // In-process functions that use the services register now, before apps name them.
    setup(&services).context("cannot set up the in-process functions")?;
    let deployer = Deployer {
        engine: engine.clone(),
        sources: sources.clone(),
        bus: bus.clone(),
        tables: tables.clone(),
        queues: queues.clone(),
        buckets: buckets.clone(),
        targets: targets.clone(),
        region,
        account,
        topics: topics.clone(),
        record: args.data.join(DEPLOYED_APPS),
        lock: tokio::sync::Mutex::new(()),
    };
    // Functions first: the engine resumes the previous run's tasks as soon as it starts.
    deployer.redeploy(&args.apps).await?;
    engine.start().await.context("cannot start the engine")?;
    bus.start().await.context("cannot start the event bus")?;
    sources.start();
    topics.start().await.context("cannot start delivering topic messages")?;
    // Expired items are invisible at once; this reclaims their space.
    tables.spawn_expiry(std::time::Duration::from_secs(1));
    buckets
        .start(
            targets.clone(),
            std::time::Duration::from_secs(args.blobs.blob_sweep_seconds.max(1)),
        )
        .await
        .context("cannot start delivering object notifications")?;
    queues.spawn_expiry(std::time::Duration::from_secs(10));
    let bus_arn = bus.bus_arn("default");
    let router = sluice_api::router(ApiOptions {
        step_functions: Arc::new(EngineService::new(engine.clone())),
        admin: Some(Arc::new(deployer)),
        events: Some(bus),
        credentials,
        clock: Clock::system(),
        region: None,
        metrics: Some(sluice_api::metrics::install_recorder().context("cannot record metrics")?),
        tables: Some(tables),
        buckets: Some(Arc::new(sluice_api::s3::Service {
            buckets,
            targets,
            event_bus: bus_arn,
        })),
        queues: Some(queues),
        function_urls: Some(Arc::new(EngineService::new(engine))),
        topics: Some(topics.clone()),
    });
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr().context("cannot read the address listened on")?;
    // SNS's confirmation and unsubscribe links point here.
    topics.set_endpoint_url(&format!("http://{address}"));
    tracing::info!(%address, data = %args.data.display(), store = name, "serving");
    // The peer's address is the function-URL event's sourceIp.
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .await
        .context("the server stopped")?;
    Ok(())
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
    /// The event source mappings, which an app's `[event_source_mappings.NAME]` replace.
    sources: sluice_queues::sources::Sources,
    /// The buckets an app declares go here.
    buckets: sluice_buckets::Buckets,
    /// Where object notifications can go.
    targets: Arc<dyn sluice_buckets::Targets>,
    /// The region and account of the ARNs a manifest names by short name.
    region: String,
    account: String,
    /// The topics an app declares (`[topics.NAME]`) go here.
    topics: sluice_topics::Topics,
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
        let mappings = crate::mappings::plan(&manifest, &self.engine, &self.queues, &self.sources).await?;
        let buckets = self.check_buckets(&manifest)?;
        let declared_topics = sluice_topics::deploy::read(&manifest.topics)?;
        self.topics.check_declared(&declared_topics)?;
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
        let created = self
            .buckets
            .deploy_declared(&buckets, chrono::Utc::now())
            .await
            .map_err(|error| anyhow::anyhow!("buckets: {error}"))?;
        if !buckets.is_empty() {
            tracing::info!(app = %deployed.app, ?created, declared = buckets.len(), "buckets deployed");
        }
        let topics = self.topics.deploy_declared(&declared_topics).await?;
        if !topics.is_empty() {
            tracing::info!(app = %deployed.app, ?topics, "topics deployed");
        }
        let rules = self.bus.apply_app(plan).await?;
        if !mappings.is_empty() {
            tracing::info!(app = %deployed.app, mappings = mappings.len(), "event source mappings deployed");
        }
        self.sources.apply_app(&deployed.app, mappings);
        tracing::info!(app = %deployed.app, folder = %folder.display(), state_machines = deployed.state_machines.len(), functions = deployed.functions.len(), routes = deployed.routes.len(), rules = rules.len(), "deployed");
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

    /// The manifest's `[buckets.NAME]`, checked whole: names, events, filters and destinations
    /// (those the app itself declares count as existing). Every problem is reported at once.
    fn check_buckets(&self, manifest: &sluice_engine::app::Manifest) -> Result<Vec<sluice_buckets::DeclaredBucket>> {
        let (region, account) = (&self.region, &self.account);
        let mut problems = Vec::new();
        let mut declared = Vec::new();
        for (name, entry) in &manifest.buckets {
            let mut notifications = Vec::new();
            for (index, rule) in entry.notifications.iter().enumerate() {
                let target = match rule.target_arn(region, account) {
                    Ok(arn) => arn,
                    Err(message) => {
                        problems.push(format!("buckets.{name}.notifications[{index}] {message}"));
                        continue;
                    }
                };
                notifications.push(sluice_buckets::NotificationRule {
                    id: rule.id.clone().unwrap_or_else(|| format!("{name}-{index}")),
                    target,
                    events: rule.events.clone(),
                    prefix: rule.prefix.clone(),
                    suffix: rule.suffix.clone(),
                });
            }
            if entry.eventbridge {
                notifications.push(sluice_buckets::notify::eventbridge_rule(self.bus.bus_arn("default")));
            }
            declared.push(sluice_buckets::DeclaredBucket {
                name: name.clone(),
                notifications,
                public_read: entry.public_read.clone(),
            });
        }
        let mut in_app: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for name in manifest.functions.keys() {
            in_app.insert(format!("arn:aws:lambda:{region}:{account}:function:{name}"));
        }
        for name in manifest.state_machines.keys() {
            in_app.insert(self.engine.state_machine_arn(name));
        }
        for name in manifest.queues.keys() {
            in_app.insert(format!("arn:aws:sqs:{region}:{account}:{name}"));
        }
        let exists = |arn: &str| {
            if in_app.contains(arn) && self.targets.handles(arn) {
                Ok(())
            } else {
                self.targets.check(arn)
            }
        };
        if let Err(found) = sluice_buckets::check_declared(&declared, &exists) {
            problems.extend(found);
        }
        if !problems.is_empty() {
            bail!("{}", problems.join("; "));
        }
        Ok(declared)
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
