//! An app's `[event_source_mappings.NAME]`: each checked against Lambda's limits, its queue (one
//! the app declares or one that exists), its function or state machine (one the app declares or
//! one that exists), and the mappings of other apps, all before anything is deployed.

use anyhow::{Result, bail};
use sluice_engine::Engine;
use sluice_engine::app::Manifest;
use sluice_queues::Queues;
use sluice_queues::sources::{DeclaredMapping, Destination, Mapping, Sources, queue_name};

use crate::targets::function_name_of;

/// The app's mappings, checked; every problem is reported, each naming its field.
pub async fn plan(manifest: &Manifest, engine: &Engine, queues: &Queues, sources: &Sources) -> Result<Vec<Mapping>> {
    let mut problems = Vec::new();
    let mut mappings = Vec::new();
    for (name, entry) in &manifest.event_source_mappings {
        let field = |member: &str| format!("event_source_mappings.{name}.{member}");
        let state_machine = entry.state_machine.as_ref().map(|machine| {
            if machine.starts_with("arn:") {
                machine.clone()
            } else {
                engine.state_machine_arn(machine)
            }
        });
        let declared = DeclaredMapping {
            name: name.clone(),
            queue: entry.queue.clone(),
            function: entry
                .function
                .as_deref()
                .map(|function| function_name_of(function).to_owned()),
            state_machine,
            batch_size: entry.batch_size,
            maximum_batching_window_seconds: entry.maximum_batching_window_seconds,
            report_batch_item_failures: entry.report_batch_item_failures,
            maximum_concurrency: entry.maximum_concurrency,
            enabled: entry.enabled,
        };
        let queue = queue_name(&entry.queue);
        let fifo = if manifest.queues.contains_key(queue) {
            Some(queue.ends_with(".fifo"))
        } else {
            match queues.get_queue(queue).await {
                Ok(record) => Some(record.fifo),
                Err(_) => None,
            }
        };
        let Some(fifo) = fifo else {
            problems.push(format!(
                "{}: no queue named {queue:?}; declare it under [queues.{queue:?}] or create it first",
                field("queue")
            ));
            continue;
        };
        if let Some(owner) = sources.owner(name).filter(|owner| *owner != manifest.app.name) {
            problems.push(format!(
                "event_source_mappings.{name}: the app {owner:?} already has a mapping of that name"
            ));
        }
        let mapping = match declared.check(fifo) {
            Ok(mapping) => mapping,
            Err(found) => {
                problems.extend(found);
                continue;
            }
        };
        match &mapping.destination {
            Destination::Function(function) => {
                if !manifest.functions.contains_key(function) && engine.functions().get(function).is_none() {
                    problems.push(format!(
                        "{}: no function named {function:?} is declared or registered",
                        field("function")
                    ));
                }
            }
            Destination::StateMachine(arn) => {
                let declared_here = manifest
                    .state_machines
                    .keys()
                    .any(|machine| engine.state_machine_arn(machine) == *arn);
                if !declared_here && engine.describe_state_machine(arn).await.is_err() {
                    problems.push(format!(
                        "{}: no state machine {arn} is declared or exists",
                        field("state_machine")
                    ));
                }
            }
            _ => problems.push(format!("{}: unknown destination", field("function"))),
        }
        mappings.push(mapping);
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("; "));
    }
    Ok(mappings)
}
