//! The app's in-process functions, registered on a Sluice server with its services.
//!
//! | function | input | output |
//! | --- | --- | --- |
//! | `publikes-like` | a function-URL event | 202, 400 or 401 |
//! | `publikes-insert-status` | SQS `Records` with `{id, ts}` bodies, or one `{id, ts}` | `{batchItemFailures}` |
//! | `publikes-lock` | `{lock_id}` | `{acquired, lock_id, merge_delay_seconds}` |
//! | `publikes-unlock` | `{lock_id}` | `{released}` |
//! | `publikes-close-batch` | `{lock: {lock_id}, force?}` | `{closed, closed_head_id, new_head_id, current_was, current}` |
//! | `publikes-merge-batch` | `{batch_id}` | `{batch_id, statuses, late, already_merged}` |
//! | `publikes-store-status` | `{status_id}` | the stored status |
//! | `publikes-record-failure` | `{status_id, error}` | the stored status |

use std::future::Future;
use std::sync::Arc;

use serde_json::{Value, json};
use sluice::Services;
use sluice_engine::{Function, FunctionError};

use crate::objects::Objects;
use crate::{Config, Error, batches, lock, route, status};

/// The static page that reads the list with plain GETs.
const INDEX_HTML: &str = include_str!("../index.html");

/// What every function shares.
struct App {
    services: Services,
    objects: Objects,
    config: Config,
    http: reqwest::Client,
}

/// Registers the app's functions on a server with `services`.
pub fn register(services: &Services, config: Config) -> anyhow::Result<()> {
    let app = Arc::new(App {
        services: services.clone(),
        objects: Objects::new(services.buckets().clone()),
        config,
        http: reqwest::Client::new(),
    });
    // The static page, so that the bucket's root shows the list; put again at every start.
    let page_objects = app.objects.clone();
    tokio::spawn(async move {
        if let Err(error) = page_objects.put_page("index.html", INDEX_HTML).await {
            tracing::warn!("cannot put the Publikes page: {error}");
        }
    });
    let functions = services.functions();
    functions.register(
        "publikes-like",
        handler(&app, |app, event| async move {
            route::like(app.services.queues(), &app.config.secret, &event).await
        }),
    );
    functions.register(
        "publikes-insert-status",
        handler(&app, |app, event| async move { insert_status(&app, &event).await }),
    );
    functions.register(
        "publikes-lock",
        handler(&app, |app, event| async move {
            let lock_id = text(&event, "lock_id")?;
            let lease = i64::try_from(app.config.lock_lease_seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
            let held = lock::acquire(&app.objects, &lock_id, lease).await?;
            Ok::<_, Error>(json!({
                "acquired": held.is_some(),
                "lock_id": lock_id,
                "merge_delay_seconds": app.config.merge_delay_seconds,
            }))
        }),
    );
    functions.register(
        "publikes-unlock",
        handler(&app, |app, event| async move {
            let lock_id = text(&event, "lock_id")?;
            Ok::<_, Error>(json!({"released": lock::release_by_id(&app.objects, &lock_id).await?}))
        }),
    );
    functions.register(
        "publikes-close-batch",
        handler(&app, |app, event| async move {
            let rotation = text(&event["lock"], "lock_id")?;
            let force = event["force"].as_bool().unwrap_or(false);
            Ok::<_, Error>(to_value(batches::close_batch(&app.objects, &rotation, force).await?))
        }),
    );
    functions.register(
        "publikes-merge-batch",
        handler(&app, |app, event| async move {
            let batch_id = text(&event, "batch_id")?;
            Ok::<_, Error>(to_value(batches::merge_batch(&app.objects, &batch_id).await?))
        }),
    );
    functions.register(
        "publikes-store-status",
        handler(&app, |app, event| async move {
            let id = text(&event, "status_id")?;
            let stored = status::store_status(&app.objects, &app.http, &app.config.fxtwitter_url, &id).await?;
            Ok::<_, Error>(json!({"status_id": stored.id, "complete": stored.complete}))
        }),
    );
    functions.register(
        "publikes-record-failure",
        handler(&app, |app, event| async move {
            let id = text(&event, "status_id")?;
            let stored = status::record_failure(&app.objects, &id, event["error"].clone()).await?;
            Ok::<_, Error>(json!({"status_id": stored.id, "complete": stored.complete}))
        }),
    );
    Ok(())
}

/// An in-process function over the shared app.
fn handler<F, Fut>(app: &Arc<App>, body: F) -> Function
where
    F: Fn(Arc<App>, Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, Error>> + Send + 'static,
{
    let app = app.clone();
    let body = Arc::new(body);
    Function::in_process(move |event| {
        let app = app.clone();
        let body = body.clone();
        async move { body(app, event).await.map_err(FunctionError::from) }
    })
}

fn to_value(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A string field of the input, or `Publikes.Invalid` naming it.
fn text(event: &Value, field: &str) -> Result<String, Error> {
    event[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::Invalid(format!("the input needs {field} as a string, not {}", event[field])))
}

/// Inserts the statuses of an SQS event in order (or one `{id, ts}`), starting store-status for
/// each; a status that fails reports it and every later one as failed, so the queue redelivers
/// them in order (a FIFO queue's partial batch response).
async fn insert_status(app: &App, event: &Value) -> Result<Value, Error> {
    let records: Vec<(String, Value)> = match event["Records"].as_array() {
        Some(records) => records
            .iter()
            .map(|record| {
                let message_id = record["messageId"].as_str().unwrap_or_default().to_owned();
                let body = record["body"].as_str().and_then(|body| serde_json::from_str(body).ok());
                (message_id, body.unwrap_or(Value::Null))
            })
            .collect(),
        None => vec![(String::new(), event.clone())],
    };
    let mut failures = Vec::new();
    for (message_id, body) in records {
        if !failures.is_empty() {
            failures.push(json!({"itemIdentifier": message_id}));
            continue;
        }
        let outcome = async {
            let id = text(&body, "id")?;
            let ts = body["ts"].as_i64().unwrap_or_else(|| chrono::Utc::now().timestamp());
            let inserted = batches::insert_status(&app.objects, &id, ts).await?;
            start_store_status(app, &id).await?;
            Ok::<_, Error>(inserted)
        }
        .await;
        match outcome {
            Ok(inserted) => tracing::debug!(?inserted, "status inserted"),
            // A malformed message would fail forever: it is logged and dropped, not retried.
            Err(Error::Invalid(message)) => tracing::warn!(%message_id, "dropping a malformed like: {message}"),
            Err(error) if message_id.is_empty() => return Err(error),
            Err(error) => {
                tracing::warn!(%message_id, "inserting a like failed: {error}");
                failures.push(json!({"itemIdentifier": message_id}));
            }
        }
    }
    Ok(json!({"batchItemFailures": failures}))
}

/// Starts `store-status` for a status, once: the execution is named after the status.
async fn start_store_status(app: &App, id: &str) -> Result<(), Error> {
    let engine = app.services.engine();
    let machine = engine.state_machine_arn("store-status");
    let input = json!({"status_id": id}).to_string();
    match engine
        .start_execution(
            &machine,
            Some(&format!("status-{id}")),
            Some(&input),
            chrono::Utc::now(),
        )
        .await
    {
        Ok(_) | Err(sluice_engine::Error::ExecutionAlreadyExists { .. }) => Ok(()),
        Err(error) => Err(Error::Storage(format!("cannot start store-status for {id}: {error}"))),
    }
}
