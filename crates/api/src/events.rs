//! EventBridge (`AWSEvents.*`, signing name `events`, AWS JSON 1.1): buses, rules, targets,
//! `PutEvents` and `TestEventPattern` over [`sluice_bus::Bus`]. Member names and constraints
//! follow botocore's `events` model.

use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sluice_bus::{Bus, EntryResult, EventEntry, ListPage, RuleInput, RuleRecord, RuleState, Target};

use crate::error::{ApiError, ErrorCode, Shown};
use crate::protocol::{Fields, Sensitivity, reply};

/// The `X-Amz-Target` prefix of EventBridge.
pub const TARGET_PREFIX: &str = "AWSEvents";

/// The name its requests are signed for.
pub const SIGNING_NAME: &str = "events";

const PLAIN: Sensitivity = Sensitivity::Plain;

/// Answers one `AWSEvents` operation.
pub async fn dispatch(bus: &Bus, operation: &str, body: &[u8]) -> Result<Response, ApiError> {
    let mut fields = Fields::parse(body)?;
    match operation {
        "CreateEventBus" => {
            let name = fields.required_string("Name", 1, 256, PLAIN);
            finish(fields)?;
            let record = bus.create_event_bus(&name).await.map_err(error)?;
            reply(&json!({ "EventBusArn": record.arn }))
        }
        "DeleteEventBus" => {
            let name = fields.required_string("Name", 1, 256, PLAIN);
            finish(fields)?;
            bus.delete_event_bus(&name).await.map_err(error)?;
            reply(&json!({}))
        }
        "DescribeEventBus" => {
            let name = fields.string("Name", 1, 1600, PLAIN);
            finish(fields)?;
            let record = bus.describe_event_bus(name.as_deref()).map_err(error)?;
            reply(&json!({ "Name": record.name, "Arn": record.arn, "CreationTime": seconds(record.created_millis) }))
        }
        "ListEventBuses" => {
            let prefix = fields.string("NamePrefix", 1, 256, PLAIN);
            let token = fields.string("NextToken", 1, 2048, PLAIN);
            let limit = fields.integer("Limit", 1, 100).unwrap_or(100) as usize;
            finish(fields)?;
            let page = bus.list_event_buses(prefix.as_deref(), token.as_deref(), limit);
            let buses: Vec<Value> = page
                .items
                .iter()
                .map(|record| json!({ "Name": record.name, "Arn": record.arn }))
                .collect();
            reply(&with_token(json!({ "EventBuses": buses }), page.next_token))
        }
        "PutEvents" => put_events(bus, fields).await,
        "PutRule" => {
            let name = fields.required_string("Name", 1, 64, PLAIN);
            let schedule = fields.string("ScheduleExpression", 0, 256, PLAIN);
            let event_pattern = fields.string("EventPattern", 0, 4096, PLAIN);
            let state = fields.string("State", 0, 64, PLAIN);
            let description = fields.string("Description", 0, 512, PLAIN);
            let role_arn = fields.string("RoleArn", 1, 1600, PLAIN);
            let bus_name = fields.string("EventBusName", 1, 1600, PLAIN);
            let _tags: Option<Value> = fields.structure("Tags");
            let state = match state.as_deref() {
                None | Some("ENABLED") => Some(RuleState::Enabled),
                Some("DISABLED") => Some(RuleState::Disabled),
                Some(other) => {
                    fields.violation(
                        "state",
                        Shown::Text(other),
                        "Member must satisfy enum value set: [ENABLED, DISABLED]",
                    );
                    None
                }
            };
            finish(fields)?;
            let input = RuleInput {
                name,
                bus: bus_name,
                event_pattern: event_pattern.filter(|text| !text.is_empty()),
                schedule: schedule.filter(|text| !text.is_empty()),
                state,
                description,
                role_arn,
            };
            let arn = bus.put_rule(input).await.map_err(error)?;
            reply(&json!({ "RuleArn": arn }))
        }
        "DeleteRule" => {
            let (name, bus_name) = rule_key(&mut fields, "Name");
            let _force = fields.boolean("Force");
            finish(fields)?;
            bus.delete_rule(bus_name.as_deref(), &name).await.map_err(error)?;
            reply(&json!({}))
        }
        "DescribeRule" => {
            let (name, bus_name) = rule_key(&mut fields, "Name");
            finish(fields)?;
            let record = bus.describe_rule(bus_name.as_deref(), &name).map_err(error)?;
            let mut shape = rule_shape(&record);
            shape["CreatedBy"] = json!(bus.options().account);
            reply(&shape)
        }
        "ListRules" => {
            let prefix = fields.string("NamePrefix", 1, 64, PLAIN);
            let bus_name = fields.string("EventBusName", 1, 1600, PLAIN);
            let token = fields.string("NextToken", 1, 2048, PLAIN);
            let limit = fields.integer("Limit", 1, 100).unwrap_or(100) as usize;
            finish(fields)?;
            let page = bus
                .list_rules(bus_name.as_deref(), prefix.as_deref(), token.as_deref(), limit)
                .map_err(error)?;
            let rules: Vec<Value> = page.items.iter().map(rule_shape).collect();
            reply(&with_token(json!({ "Rules": rules }), page.next_token))
        }
        "EnableRule" | "DisableRule" => {
            let (name, bus_name) = rule_key(&mut fields, "Name");
            finish(fields)?;
            let state = if operation == "EnableRule" {
                RuleState::Enabled
            } else {
                RuleState::Disabled
            };
            bus.set_rule_state(bus_name.as_deref(), &name, state)
                .await
                .map_err(error)?;
            reply(&json!({}))
        }
        "PutTargets" => {
            let (rule, bus_name) = rule_key(&mut fields, "Rule");
            let targets: Option<Vec<Target>> = fields.structure("Targets");
            let targets = targets.unwrap_or_default();
            if targets.is_empty() || targets.len() > 10 {
                let count = targets.len().to_string();
                fields.violation(
                    "targets",
                    Shown::Text(&count),
                    "Member must have length between 1 and 10",
                );
            }
            finish(fields)?;
            let failures = bus
                .put_targets(bus_name.as_deref(), &rule, targets)
                .await
                .map_err(error)?;
            reply(&failed_entries(failures))
        }
        "RemoveTargets" => {
            let (rule, bus_name) = rule_key(&mut fields, "Rule");
            let ids: Option<Vec<String>> = fields.structure("Ids");
            let _force = fields.boolean("Force");
            let ids = ids.unwrap_or_default();
            if ids.is_empty() || ids.len() > 100 {
                fields.violation("ids", Shown::Null, "Member must have length between 1 and 100");
            }
            finish(fields)?;
            let failures = bus
                .remove_targets(bus_name.as_deref(), &rule, ids)
                .await
                .map_err(error)?;
            reply(&failed_entries(failures))
        }
        "ListTargetsByRule" => {
            let (rule, bus_name) = rule_key(&mut fields, "Rule");
            let token = fields.string("NextToken", 1, 2048, PLAIN);
            let limit = fields.integer("Limit", 1, 100).unwrap_or(100) as usize;
            finish(fields)?;
            let ListPage { items, next_token } = bus
                .list_targets_by_rule(bus_name.as_deref(), &rule, token.as_deref(), limit)
                .map_err(error)?;
            reply(&with_token(json!({ "Targets": items }), next_token))
        }
        "TestEventPattern" => {
            let pattern = fields.required_string("EventPattern", 0, 4096, PLAIN);
            let event = fields.required_string("Event", 0, usize::MAX, PLAIN);
            finish(fields)?;
            let result = bus.test_event_pattern(&pattern, &event).map_err(error)?;
            reply(&json!({ "Result": result }))
        }
        operation if crate::archives::OPERATIONS.contains(&operation) => {
            crate::archives::dispatch(bus, operation, fields, error).await
        }
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("Unknown operation: '{TARGET_PREFIX}.{operation}'"),
        )),
    }
}

/// `PutEventsRequestEntry` as botocore sends it (`Time` in epoch seconds).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EntryShape {
    #[serde(default)]
    time: Option<f64>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    detail_type: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    event_bus_name: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    trace_header: Option<String>,
}

async fn put_events(bus: &Bus, mut fields: Fields) -> Result<Response, ApiError> {
    let entries: Option<Vec<EntryShape>> = fields.structure("Entries");
    let _endpoint: Option<String> = fields.string("EndpointId", 1, 50, PLAIN);
    let entries = entries.unwrap_or_default();
    if entries.is_empty() || entries.len() > sluice_bus::MAX_ENTRIES {
        let count = entries.len().to_string();
        fields.violation(
            "entries",
            Shown::Text(&count),
            "Member must have length between 1 and 10",
        );
    }
    finish(fields)?;
    let entries = entries
        .into_iter()
        .map(|entry| EventEntry {
            source: entry.source,
            detail_type: entry.detail_type,
            detail: entry.detail,
            time: entry
                .time
                .and_then(|seconds| DateTime::<Utc>::from_timestamp_millis((seconds * 1000.0) as i64)),
            resources: entry.resources,
            event_bus_name: entry.event_bus_name,
        })
        .collect();
    let results = bus.put_events(entries).await.map_err(error)?;
    let failed = results
        .iter()
        .filter(|result| matches!(result, EntryResult::Failed { .. }))
        .count();
    let entries: Vec<Value> = results
        .into_iter()
        .map(|result| match result {
            EntryResult::Accepted { event_id } => json!({ "EventId": event_id }),
            EntryResult::Failed {
                error_code,
                error_message,
            } => json!({ "ErrorCode": error_code, "ErrorMessage": error_message }),
        })
        .collect();
    reply(&json!({ "FailedEntryCount": failed, "Entries": entries }))
}

/// A rule's name (in `member`) and `EventBusName`.
fn rule_key(fields: &mut Fields, member: &str) -> (String, Option<String>) {
    let name = fields.required_string(member, 1, 64, PLAIN);
    let bus_name = fields.string("EventBusName", 1, 1600, PLAIN);
    (name, bus_name)
}

fn rule_shape(record: &RuleRecord) -> Value {
    let mut shape = json!({
        "Name": record.name,
        "Arn": record.arn,
        "State": if record.enabled { "ENABLED" } else { "DISABLED" },
        "EventBusName": record.bus,
    });
    let optional = [
        ("EventPattern", &record.event_pattern),
        ("ScheduleExpression", &record.schedule),
        ("Description", &record.description),
        ("RoleArn", &record.role_arn),
    ];
    for (member, value) in optional {
        if let Some(value) = value {
            shape[member] = json!(value);
        }
    }
    shape
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FailedEntries {
    failed_entry_count: usize,
    failed_entries: Vec<Value>,
}

fn failed_entries(failures: Vec<sluice_bus::PutTargetsFailure>) -> FailedEntries {
    FailedEntries {
        failed_entry_count: failures.len(),
        failed_entries: failures
            .into_iter()
            .map(|failure| {
                json!({
                    "TargetId": failure.target_id,
                    "ErrorCode": failure.error_code,
                    "ErrorMessage": failure.error_message,
                })
            })
            .collect(),
    }
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

/// Member errors as EventBridge reports them: a `ValidationException` naming the member.
fn finish(fields: Fields) -> Result<(), ApiError> {
    fields.finish()
}

/// A bus error as its AWS error code.
fn error(error: sluice_bus::Error) -> ApiError {
    use sluice_bus::Error;
    match error {
        Error::ResourceNotFound { message } => ApiError::new(ErrorCode::ResourceNotFoundException, message),
        Error::ResourceAlreadyExists { message } => ApiError::new(ErrorCode::ResourceAlreadyExistsException, message),
        Error::Validation { message } => ApiError::new(ErrorCode::ValidationException, message),
        Error::InvalidEventPattern { message } => ApiError::new(ErrorCode::InvalidEventPatternException, message),
        Error::IllegalStatus { message } => ApiError::new(ErrorCode::IllegalStatusException, message),
        other => ApiError::new(ErrorCode::InternalException, other.to_string()),
    }
}
