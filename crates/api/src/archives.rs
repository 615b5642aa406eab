//! EventBridge's archive and replay operations (`AWSEvents.CreateArchive` … `CancelReplay`) over
//! [`sluice_bus::Bus`]; `events` hands them here. Member names and constraints follow botocore's
//! `events` model; times travel as epoch seconds.

use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use sluice_bus::Bus;
use sluice_bus::archive::{ArchiveInput, ArchiveView, ReplayInput};
use sluice_store::archives::ReplayRecord;

use crate::error::{ApiError, Shown};
use crate::protocol::{Fields, Sensitivity, reply};

const PLAIN: Sensitivity = Sensitivity::Plain;

/// The operations answered here.
pub const OPERATIONS: &[&str] = &[
    "CreateArchive",
    "DescribeArchive",
    "ListArchives",
    "UpdateArchive",
    "DeleteArchive",
    "StartReplay",
    "DescribeReplay",
    "ListReplays",
    "CancelReplay",
];

/// `ReplayDestination`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Destination {
    #[serde(default)]
    arn: Option<String>,
    #[serde(default)]
    filter_arns: Vec<String>,
}

/// Answers one archive or replay operation.
pub async fn dispatch(
    bus: &Bus,
    operation: &str,
    mut fields: Fields,
    error: fn(sluice_bus::Error) -> ApiError,
) -> Result<Response, ApiError> {
    match operation {
        "CreateArchive" | "UpdateArchive" => {
            let name = fields.required_string("ArchiveName", 1, 48, PLAIN);
            let source = if operation == "CreateArchive" {
                Some(fields.required_string("EventSourceArn", 1, 1600, PLAIN))
            } else {
                None
            };
            let description = fields.string("Description", 0, 512, PLAIN);
            let event_pattern = fields.string("EventPattern", 0, 4096, PLAIN);
            let retention_days = fields.integer("RetentionDays", 0, i64::from(u32::MAX));
            let _ = fields.string("KmsKeyIdentifier", 0, 2048, PLAIN);
            fields.finish()?;
            let input = ArchiveInput {
                name,
                event_source_arn: source,
                description,
                event_pattern: event_pattern.filter(|text| !text.is_empty()),
                retention_days: retention_days.map(|days| days as u32),
            };
            let record = if operation == "CreateArchive" {
                bus.create_archive(input).await.map_err(error)?
            } else {
                bus.update_archive(input).await.map_err(error)?
            };
            reply(&json!({
                "ArchiveArn": record.arn,
                "State": "ENABLED",
                "CreationTime": seconds(record.created_millis),
            }))
        }
        "DescribeArchive" => {
            let name = fields.required_string("ArchiveName", 1, 48, PLAIN);
            fields.finish()?;
            let view = bus.describe_archive(&name).await.map_err(error)?;
            let mut shape = archive_shape(&view);
            shape["ArchiveArn"] = json!(view.record.arn);
            if let Some(description) = &view.record.description {
                shape["Description"] = json!(description);
            }
            if let Some(pattern) = &view.record.event_pattern {
                shape["EventPattern"] = json!(pattern);
            }
            reply(&shape)
        }
        "ListArchives" => {
            let prefix = fields.string("NamePrefix", 1, 48, PLAIN);
            let source = fields.string("EventSourceArn", 1, 1600, PLAIN);
            let state = fields.string("State", 1, 64, PLAIN);
            let token = fields.string("NextToken", 1, 2048, PLAIN);
            let limit = fields.integer("Limit", 1, 100).unwrap_or(100) as usize;
            check_state(
                &mut fields,
                state.as_deref(),
                &[
                    "ENABLED",
                    "DISABLED",
                    "CREATING",
                    "UPDATING",
                    "CREATE_FAILED",
                    "UPDATE_FAILED",
                ],
            );
            fields.finish()?;
            let page = bus
                .list_archives(prefix.as_deref(), source.as_deref(), token.as_deref(), limit)
                .await
                .map_err(error)?;
            let archives: Vec<Value> = page
                .items
                .iter()
                .filter(|_| state.as_deref().is_none_or(|state| state == "ENABLED"))
                .map(archive_shape)
                .collect();
            reply(&with_token(json!({ "Archives": archives }), page.next_token))
        }
        "DeleteArchive" => {
            let name = fields.required_string("ArchiveName", 1, 48, PLAIN);
            fields.finish()?;
            bus.delete_archive(&name).await.map_err(error)?;
            reply(&json!({}))
        }
        "StartReplay" => {
            let name = fields.required_string("ReplayName", 1, 64, PLAIN);
            let description = fields.string("Description", 0, 512, PLAIN);
            let source = fields.required_string("EventSourceArn", 1, 1600, PLAIN);
            let start: Option<f64> = fields.structure("EventStartTime");
            let end: Option<f64> = fields.structure("EventEndTime");
            let destination: Option<Destination> = fields.structure("Destination");
            if start.is_none() {
                fields.violation("eventStartTime", Shown::Null, "Member must not be null");
            }
            if end.is_none() {
                fields.violation("eventEndTime", Shown::Null, "Member must not be null");
            }
            let destination_arn = destination.as_ref().and_then(|destination| destination.arn.clone());
            if destination_arn.is_none() {
                fields.violation("destination.arn", Shown::Null, "Member must not be null");
            }
            fields.finish()?;
            let time = |seconds: Option<f64>| {
                seconds
                    .and_then(|seconds| DateTime::<Utc>::from_timestamp_millis((seconds * 1000.0).round() as i64))
                    .unwrap_or_default()
            };
            let input = ReplayInput {
                name,
                description,
                event_source_arn: source,
                event_start: time(start),
                event_end: time(end),
                destination_arn: destination_arn.unwrap_or_default(),
                filter_arns: destination
                    .map(|destination| destination.filter_arns)
                    .unwrap_or_default(),
            };
            let replay = bus.start_replay(input).await.map_err(error)?;
            reply(&json!({
                "ReplayArn": replay.arn,
                "State": replay.state,
                "ReplayStartTime": seconds(replay.replay_start_millis),
            }))
        }
        "DescribeReplay" => {
            let name = fields.required_string("ReplayName", 1, 64, PLAIN);
            fields.finish()?;
            let replay = bus.describe_replay(&name).await.map_err(error)?;
            reply(&replay_shape(&replay, true))
        }
        "ListReplays" => {
            let prefix = fields.string("NamePrefix", 1, 64, PLAIN);
            let state = fields.string("State", 1, 64, PLAIN);
            let source = fields.string("EventSourceArn", 1, 1600, PLAIN);
            let token = fields.string("NextToken", 1, 2048, PLAIN);
            let limit = fields.integer("Limit", 1, 100).unwrap_or(100) as usize;
            check_state(
                &mut fields,
                state.as_deref(),
                &["STARTING", "RUNNING", "CANCELLING", "COMPLETED", "CANCELLED", "FAILED"],
            );
            fields.finish()?;
            let page = bus
                .list_replays(
                    prefix.as_deref(),
                    state.as_deref(),
                    source.as_deref(),
                    token.as_deref(),
                    limit,
                )
                .await
                .map_err(error)?;
            let replays: Vec<Value> = page.items.iter().map(|replay| replay_shape(replay, false)).collect();
            reply(&with_token(json!({ "Replays": replays }), page.next_token))
        }
        "CancelReplay" => {
            let name = fields.required_string("ReplayName", 1, 64, PLAIN);
            fields.finish()?;
            let replay = bus.cancel_replay(&name).await.map_err(error)?;
            let mut body = json!({ "ReplayArn": replay.arn, "State": replay.state });
            if let Some(reason) = &replay.state_reason {
                body["StateReason"] = json!(reason);
            }
            reply(&body)
        }
        _ => unreachable_operation(operation),
    }
}

fn unreachable_operation(operation: &str) -> Result<Response, ApiError> {
    Err(ApiError::new(
        crate::error::ErrorCode::UnknownOperationException,
        format!("Unknown operation: 'AWSEvents.{operation}'"),
    ))
}

fn check_state(fields: &mut Fields, state: Option<&str>, allowed: &[&str]) {
    if let Some(state) = state
        && !allowed.contains(&state)
    {
        fields.violation(
            "state",
            Shown::Text(state),
            &format!("Member must satisfy enum value set: [{}]", allowed.join(", ")),
        );
    }
}

fn archive_shape(view: &ArchiveView) -> Value {
    json!({
        "ArchiveName": view.record.name,
        "EventSourceArn": view.record.source_arn,
        "State": "ENABLED",
        "RetentionDays": view.record.retention_days,
        "SizeBytes": view.size_bytes,
        "EventCount": view.event_count,
        "CreationTime": seconds(view.record.created_millis),
    })
}

fn replay_shape(replay: &ReplayRecord, full: bool) -> Value {
    let mut shape = json!({
        "ReplayName": replay.name,
        "EventSourceArn": replay.archive_arn,
        "State": replay.state,
        "EventStartTime": seconds(replay.event_start_millis),
        "EventEndTime": seconds(replay.event_end_millis),
        "ReplayStartTime": seconds(replay.replay_start_millis),
    });
    let optional = [
        ("StateReason", replay.state_reason.clone().map(Value::from)),
        (
            "EventLastReplayedTime",
            replay.last_replayed_millis.map(seconds).map(Value::from),
        ),
        ("ReplayEndTime", replay.replay_end_millis.map(seconds).map(Value::from)),
    ];
    for (member, value) in optional {
        if let Some(value) = value {
            shape[member] = value;
        }
    }
    if full {
        shape["ReplayArn"] = json!(replay.arn);
        shape["Destination"] = if replay.filter_arns.is_empty() {
            json!({ "Arn": replay.destination_arn })
        } else {
            json!({ "Arn": replay.destination_arn, "FilterArns": replay.filter_arns })
        };
        if let Some(description) = &replay.description {
            shape["Description"] = json!(description);
        }
    }
    shape
}

fn with_token(mut body: Value, token: Option<String>) -> Value {
    if let Some(token) = token {
        body["NextToken"] = json!(token);
    }
    body
}

fn seconds(millis: i64) -> f64 {
    millis as f64 / 1000.0
}
