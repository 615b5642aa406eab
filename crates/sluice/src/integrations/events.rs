//! `arn:aws:states:::events:putEvents` (and `.waitForTaskToken`) on Sluice's event bus:
//! `Entries` of `Detail` (a JSON object, or its text), `DetailType`, `Source`, `EventBusName`,
//! `Resources` and `Time`; the result is PutEvents's (`Entries` with `EventId`s,
//! `FailedEntryCount`). As on AWS, a request with a refused entry fails the task with
//! `EventBridge.FailedEntry`, and an invalid request with `EventBridge.AmazonEventBridgeException`.

use serde_json::{Value, json};
use sluice_asl::Failure;
use sluice_bus::{Bus, EntryResult, EventEntry};
use sluice_engine::{Integration, IntegrationCall, IntegrationPattern};

use super::unsupported;

const INVALID: &str = "EventBridge.AmazonEventBridgeException";

/// EventBridge's integration.
pub(super) struct Events {
    bus: Bus,
}

impl Events {
    pub(super) fn new(bus: Bus) -> Events {
        Events { bus }
    }
}

#[async_trait::async_trait]
impl Integration for Events {
    async fn call(&self, call: IntegrationCall) -> Result<Value, Failure> {
        if call.action != "putEvents" || call.pattern == IntegrationPattern::Sync {
            return Err(unsupported(
                &call,
                "arn:aws:states:::events has the action putEvents (request-response or .waitForTaskToken)",
            ));
        }
        let Some(entries) = call.parameters.get("Entries").and_then(Value::as_array) else {
            return Err(Failure::new(
                INVALID,
                "The field 'Entries' is required: a list of events",
            ));
        };
        let entries = entries
            .iter()
            .enumerate()
            .map(|(index, entry)| event_entry(index, entry))
            .collect::<Result<Vec<_>, _>>()?;
        let results = self
            .bus
            .put_events(entries)
            .await
            .map_err(|error| Failure::new(INVALID, error.to_string()))?;
        let mut failed = 0;
        let entries: Vec<Value> = results
            .into_iter()
            .map(|result| match result {
                EntryResult::Accepted { event_id } => json!({ "EventId": event_id }),
                EntryResult::Failed {
                    error_code,
                    error_message,
                } => {
                    failed += 1;
                    json!({ "ErrorCode": error_code, "ErrorMessage": error_message })
                }
            })
            .collect();
        let answer = json!({ "Entries": entries, "FailedEntryCount": failed });
        if failed > 0 {
            return Err(Failure::new("EventBridge.FailedEntry", answer.to_string()));
        }
        Ok(answer)
    }
}

fn event_entry(index: usize, entry: &Value) -> Result<EventEntry, Failure> {
    let text = |field: &str| -> Result<Option<String>, Failure> {
        match entry.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(Failure::new(
                INVALID,
                format!("The field 'Entries[{index}].{field}' must be a string, not {other}"),
            )),
        }
    };
    let detail = match entry.get("Detail") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(object @ Value::Object(_)) => Some(object.to_string()),
        Some(other) => {
            return Err(Failure::new(
                INVALID,
                format!("The field 'Entries[{index}].Detail' must be a JSON object, not {other}"),
            ));
        }
    };
    let time = match text("Time")? {
        None => None,
        Some(time) => Some(
            chrono::DateTime::parse_from_rfc3339(&time)
                .map_err(|error| {
                    Failure::new(
                        INVALID,
                        format!("The field 'Entries[{index}].Time' is not an ISO 8601 time: {error}"),
                    )
                })?
                .with_timezone(&chrono::Utc),
        ),
    };
    let resources = match entry.get("Resources") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_owned).ok_or_else(|| {
                    Failure::new(
                        INVALID,
                        format!("The field 'Entries[{index}].Resources' must be a list of strings"),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(Failure::new(
                INVALID,
                format!("The field 'Entries[{index}].Resources' must be a list of strings"),
            ));
        }
    };
    Ok(EventEntry {
        source: text("Source")?,
        detail_type: text("DetailType")?,
        detail,
        time,
        resources,
        event_bus_name: text("EventBusName")?,
    })
}
