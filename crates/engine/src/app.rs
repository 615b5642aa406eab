//! Apps: a folder with a `sluice.toml` manifest that declares functions and state machines
//! (their ASL definitions are files beside it). Deploying an app creates what is new and updates
//! what changed; running executions finish on the revision they started with.
//!
//! ```toml
//! [app]
//! name = "publikes"
//!
//! [functions.insert-status]
//! command = ["./bin/insert-status", "--verbose"]   # run per event: JSON on stdin and stdout
//! timeout_seconds = 30
//! env = { LOG = "info" }
//!
//! [functions.fetch]
//! url = "http://127.0.0.1:9000/fetch"               # the event POSTed as JSON
//!
//! [state_machines.rotate-batch]
//! definition = "rotate-batch.asl.json"
//! type = "STANDARD"                                  # or EXPRESS
//!
//! [queues."statuses.fifo"]                           # SQS attributes by AWS name; `.fifo` makes a FIFO queue
//! ContentBasedDeduplication = true
//! VisibilityTimeout = 60
//!
//! [routes."POST /publikes/likes"]                  # an HTTP route on the server's port (a function URL)
//! function = "like"                                  # a function of the manifest or registered in process
//!
//! [tables.test-state]                                # DynamoDB semantics, on the same store
//! partition_key = { name = "id", type = "S" }
//! sort_key = { name = "at", type = "N" }             # optional
//! ttl_attribute = "expires"                          # optional
//!
//! [event_source_mappings.statuses]                   # a queue feeding a function, as Lambda polls SQS
//! queue = "statuses.fifo"                            # a queue name or ARN
//! function = "insert-status"                         # or state_machine = "NAME or ARN" (one execution per batch)
//! batch_size = 10                                    # 1–10 (FIFO), 1–10000 (standard); default 10
//! maximum_batching_window_seconds = 0                # 0–300, standard queues only; at least 1 above 10 records
//! report_batch_item_failures = true                  # the function answers {"batchItemFailures": [...]}
//! maximum_concurrency = 5                            # batches in flight at once, 2–1000; default 5
//! enabled = true
//!
//! [buckets.uploads]                                  # S3 semantics; created if missing
//! [[buckets.uploads.notifications]]                  # where its object events go (optional)
//! id = "promote-json"                                # optional; unique within the bucket
//! events = ["s3:ObjectCreated:*"]                    # S3's event names
//! prefix = "in/"                                     # optional key filters
//! suffix = ".json"
//! state_machine = "promote"                          # one of: state_machine, function, queue (names
//!                                                    # in this region and account) or target (an ARN)
//! ```
//!
//! A route is `METHOD /path` (an exact path; `ANY` matches every method) and takes precedence over
//! the S3 API's path-style URLs; the function gets Lambda's function-URL event (payload format
//! 2.0) and answers as a function URL's function does.
//!
//! Functions an embedding binary registers in process need no entry. Tables, queues, buckets and
//! event source mappings are created by whoever serves them (`sluice serve`), which checks them
//! before the rest is deployed. A bucket's declared notifications replace the rules it had.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::functions::{CommandFunction, Function, HttpFunction};
use crate::routes::RouteKey;
use crate::{Engine, Error, MachineType};

/// A parsed `sluice.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// `[app]`.
    pub app: AppSection,
    /// `[functions.NAME]`.
    #[serde(default)]
    pub functions: BTreeMap<String, FunctionEntry>,
    /// `[state_machines.NAME]`.
    #[serde(default)]
    pub state_machines: BTreeMap<String, StateMachineEntry>,
    /// `[buses.NAME]`: event buses, read by the event bus (`sluice-bus`).
    #[serde(default)]
    pub buses: BTreeMap<String, toml::Value>,
    /// `[rules.NAME]`: event bus rules and their targets, read by the event bus (`sluice-bus`).
    #[serde(default)]
    pub rules: BTreeMap<String, toml::Value>,
    /// `[schedules.NAME]`: EventBridge Scheduler schedules, read by the event bus (`sluice-bus`).
    #[serde(default)]
    pub schedules: BTreeMap<String, toml::Value>,
    /// `[tables.NAME]`.
    #[serde(default)]
    pub tables: BTreeMap<String, TableEntry>,
    /// `[queues.NAME]`: each queue's attributes, by AWS name.
    #[serde(default)]
    pub queues: BTreeMap<String, BTreeMap<String, AttributeValue>>,
    /// `[event_source_mappings.NAME]`: queues feeding functions or state machines.
    #[serde(default)]
    pub event_source_mappings: BTreeMap<String, EventSourceMappingEntry>,
    /// `[buckets.NAME]`.
    #[serde(default)]
    pub buckets: BTreeMap<String, BucketEntry>,
    /// `[routes."METHOD /path"]`: HTTP routes, each answered by a function.
    #[serde(default)]
    pub routes: BTreeMap<String, RouteEntry>,
    /// `[topics.NAME]`: topics and their subscriptions, read by the topics (`sluice-topics`).
    #[serde(default)]
    pub topics: BTreeMap<String, toml::Value>,
}

/// `[event_source_mappings.NAME]`: a queue polled for a function or a state machine, with
/// Lambda's parameters (checked by the queues, `sluice-queues`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSourceMappingEntry {
    /// The queue's name or ARN.
    pub queue: String,
    /// The function's name or ARN.
    #[serde(default)]
    pub function: Option<String>,
    /// The state machine's name or ARN.
    #[serde(default)]
    pub state_machine: Option<String>,
    /// Records per batch.
    #[serde(default)]
    pub batch_size: Option<i64>,
    /// How long to gather a batch.
    #[serde(default)]
    pub maximum_batching_window_seconds: Option<i64>,
    /// Whether the function's response reports failed items.
    #[serde(default)]
    pub report_batch_item_failures: bool,
    /// How many batches may be in flight at once.
    #[serde(default)]
    pub maximum_concurrency: Option<i64>,
    /// Whether the mapping polls.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// `[buckets.NAME]`: a bucket and where its object events go.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketEntry {
    /// `[[buckets.NAME.notifications]]`.
    #[serde(default)]
    pub notifications: Vec<NotificationEntry>,
}

/// `[[buckets.NAME.notifications]]`: events of these names on keys with this prefix and suffix
/// go to one destination, named by exactly one of `target` (an ARN), `function`,
/// `state_machine` or `queue` (names).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationEntry {
    /// The rule's id (S3's `Id`); `NAME-N` (its position) when not given.
    #[serde(default)]
    pub id: Option<String>,
    /// S3's event names: `s3:ObjectCreated:*`, `s3:ObjectRemoved:Delete`, ….
    #[serde(default)]
    pub events: Vec<String>,
    /// The key prefix the rule wants.
    #[serde(default)]
    pub prefix: String,
    /// The key suffix the rule wants.
    #[serde(default)]
    pub suffix: String,
    /// The destination's ARN.
    #[serde(default)]
    pub target: Option<String>,
    /// A function's name.
    #[serde(default)]
    pub function: Option<String>,
    /// A state machine's name.
    #[serde(default)]
    pub state_machine: Option<String>,
    /// A queue's name.
    #[serde(default)]
    pub queue: Option<String>,
}

impl NotificationEntry {
    /// The destination's ARN, with names taken as this region's and account's; a message when
    /// the entry names no destination or more than one.
    pub fn target_arn(&self, region: &str, account: &str) -> Result<String, String> {
        let mut named = Vec::new();
        if let Some(arn) = &self.target {
            named.push(arn.clone());
        }
        if let Some(name) = &self.function {
            named.push(format!("arn:aws:lambda:{region}:{account}:function:{name}"));
        }
        if let Some(name) = &self.state_machine {
            named.push(format!("arn:aws:states:{region}:{account}:stateMachine:{name}"));
        }
        if let Some(name) = &self.queue {
            named.push(format!("arn:aws:sqs:{region}:{account}:{name}"));
        }
        match named.len() {
            1 => Ok(named.remove(0)),
            0 => Err("names no destination: give one of target, function, state_machine or queue".into()),
            _ => Err("names more than one destination: give one of target, function, state_machine or queue".into()),
        }
    }
}

/// `[routes."METHOD /path"]`: the function that answers a route.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteEntry {
    /// The function's name: one of the manifest's or one registered in process.
    pub function: String,
}

/// `[tables.NAME]`: a table's keys and time to live.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableEntry {
    /// The partition key.
    pub partition_key: KeyEntry,
    /// The sort key, if any.
    #[serde(default)]
    pub sort_key: Option<KeyEntry>,
    /// The attribute holding each item's expiry in epoch seconds, if any.
    #[serde(default)]
    pub ttl_attribute: Option<String>,
}

/// A key attribute of `[tables.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    /// The attribute name.
    pub name: String,
    /// `S`, `N` or `B`.
    #[serde(rename = "type")]
    pub scalar_type: String,
}

/// A queue attribute's value in the manifest: TOML text, a number or a boolean, all meaning
/// the text SQS takes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum AttributeValue {
    /// `"60"`.
    Text(String),
    /// `60`.
    Integer(i64),
    /// `true`.
    Boolean(bool),
}

impl AttributeValue {
    /// The value as SQS text.
    pub fn to_text(&self) -> String {
        match self {
            AttributeValue::Text(text) => text.clone(),
            AttributeValue::Integer(number) => number.to_string(),
            AttributeValue::Boolean(flag) => flag.to_string(),
        }
    }
}

/// `[app]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSection {
    /// The app's name.
    pub name: String,
}

/// `[functions.NAME]`: a command function (`command`) or an HTTP function (`url`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionEntry {
    /// The program and its arguments; a relative program is relative to the app folder.
    #[serde(default)]
    pub command: Vec<String>,
    /// The URL to POST each event to.
    #[serde(default)]
    pub url: Option<String>,
    /// How long one invocation may run (default 60 seconds).
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
    /// Extra environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

fn default_timeout() -> u64 {
    60
}

/// `[state_machines.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateMachineEntry {
    /// The ASL file, relative to the app folder.
    pub definition: PathBuf,
    /// `STANDARD` (default) or `EXPRESS`.
    #[serde(default, rename = "type")]
    pub machine_type: Option<String>,
    /// The role ARN to record (not used).
    #[serde(default)]
    pub role_arn: Option<String>,
}

/// Why an app could not be deployed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The manifest is not valid TOML of the expected shape.
    #[error("{path}: {message}")]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong, with the line and column.
        message: String,
    },
    /// A state machine could not be created or updated.
    #[error("state machine \"{name}\" ({path}): {source}")]
    StateMachine {
        /// The state machine.
        name: String,
        /// Its definition file.
        path: PathBuf,
        /// Why.
        source: Error,
    },
}

/// What a deployment did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deployed {
    /// The app's name.
    pub app: String,
    /// State machines created or updated: (name, ARN, revision).
    pub state_machines: Vec<(String, String, u64)>,
    /// Command functions registered.
    pub functions: Vec<String>,
    /// Routes declared: (route key, function).
    pub routes: Vec<(String, String)>,
}

impl Manifest {
    /// Reads `sluice.toml` from an app folder.
    pub fn read(folder: &Path) -> Result<Manifest, AppError> {
        let path = folder.join("sluice.toml");
        let text = std::fs::read_to_string(&path).map_err(|source| AppError::Read {
            path: path.clone(),
            source,
        })?;
        toml::from_str(&text).map_err(|error| AppError::Manifest {
            path,
            message: error.to_string(),
        })
    }
}

impl Engine {
    /// Deploys the app in `folder`: registers its command and HTTP functions and creates or
    /// updates its state machines. Every entry and every definition is read and validated first,
    /// so an app with a problem anywhere changes nothing.
    pub async fn deploy_app(&self, folder: &Path, now_millis: i64) -> Result<Deployed, AppError> {
        let manifest = Manifest::read(folder)?;
        let manifest_path = folder.join("sluice.toml");
        let functions = manifest
            .functions
            .iter()
            .map(|(name, entry)| {
                Ok((
                    name.clone(),
                    function(folder, name, entry).map_err(|message| AppError::Manifest {
                        path: manifest_path.clone(),
                        message,
                    })?,
                ))
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let mut routes = Vec::new();
        for (text, entry) in &manifest.routes {
            let problem = |message: String| AppError::Manifest {
                path: manifest_path.clone(),
                message,
            };
            let key = RouteKey::parse(text).map_err(|message| problem(format!("routes.{message}")))?;
            if !manifest.functions.contains_key(&entry.function) && self.functions().get(&entry.function).is_none() {
                return Err(problem(format!(
                    "routes.\"{text}\".function names {:?}, which is neither in [functions] nor registered in process",
                    entry.function
                )));
            }
            routes.push((key, entry.function.clone()));
        }
        let mut machines = Vec::new();
        for (name, entry) in &manifest.state_machines {
            let path = folder.join(&entry.definition);
            let definition = std::fs::read_to_string(&path).map_err(|source| AppError::Read {
                path: path.clone(),
                source,
            })?;
            let fail = |source| AppError::StateMachine {
                name: name.clone(),
                path: path.clone(),
                source,
            };
            let machine_type = match entry.machine_type.as_deref() {
                None => MachineType::Standard,
                Some(text) => MachineType::parse(text).ok_or_else(|| {
                    fail(Error::InvalidDefinition(sluice_asl::Diagnostics(vec![
                        sluice_asl::Diagnostic {
                            pointer: String::new(),
                            message: format!("type must be STANDARD or EXPRESS, not {text}"),
                        },
                    ])))
                })?,
            };
            self.validate(&definition).map_err(fail)?;
            let role_arn = entry
                .role_arn
                .clone()
                .unwrap_or_else(|| format!("arn:aws:iam::123456789012:role/{}", manifest.app.name));
            machines.push((name, path, definition, machine_type, role_arn));
        }
        let mut deployed = Deployed {
            app: manifest.app.name.clone(),
            ..Deployed::default()
        };
        for (name, function) in functions {
            self.functions().register(name.clone(), function);
            deployed.functions.push(name);
        }
        for (name, path, definition, machine_type, role_arn) in machines {
            let fail = |source| AppError::StateMachine {
                name: name.clone(),
                path: path.clone(),
                source,
            };
            let arn = self.state_machine_arn(name);
            let record = match self.describe_state_machine(&arn).await {
                Ok(_) => self
                    .update_state_machine(&arn, Some(&definition), Some(&role_arn))
                    .await
                    .map_err(fail)?,
                Err(Error::StateMachineDoesNotExist { .. }) => self
                    .create_state_machine(name, &definition, &role_arn, machine_type, now_millis)
                    .await
                    .map_err(fail)?,
                Err(error) => return Err(fail(error)),
            };
            deployed
                .state_machines
                .push((name.clone(), record.arn, record.revision));
        }
        for (key, function) in routes {
            deployed.routes.push((key.to_string(), function.clone()));
            self.routes().register(key, function);
        }
        Ok(deployed)
    }
}

/// The function a manifest entry declares, or what is wrong with the entry.
fn function(folder: &Path, name: &str, entry: &FunctionEntry) -> Result<Function, String> {
    let timeout = Duration::from_secs(entry.timeout_seconds);
    if let Some(url) = &entry.url {
        if !entry.command.is_empty() {
            return Err(format!("functions.{name} has both command and url; give one"));
        }
        return Ok(Function::Http(HttpFunction::new(url.clone(), timeout)));
    }
    let mut parts = entry.command.iter();
    let Some(program) = parts.next() else {
        return Err(format!(
            "functions.{name} needs a command (a program and its arguments) or a url"
        ));
    };
    let program = if program.starts_with("./") || program.starts_with("../") {
        folder.join(program)
    } else {
        PathBuf::from(program)
    };
    Ok(Function::Command(CommandFunction {
        program,
        args: parts.cloned().collect(),
        env: entry.env.clone(),
        working_directory: Some(folder.to_owned()),
        timeout,
    }))
}
