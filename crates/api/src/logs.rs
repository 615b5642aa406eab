//! CloudWatch Logs (`Logs_20140328.*`, signing name `logs`, AWS JSON 1.1), the subset the bus's
//! log targets need: `CreateLogGroup`, `DeleteLogGroup`, `DescribeLogGroups`, `CreateLogStream`,
//! `DescribeLogStreams`, `PutLogEvents`, `GetLogEvents` and `FilterLogEvents`, over
//! [`sluice_bus::logs::Logs`]. Member names and constraints follow botocore's `logs` model.

use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use sluice_bus::logs::{EventPage, FilterPattern, Logs};
use sluice_store::logs::{LogQuery, NewLogEvent};

use crate::error::{ApiError, ErrorCode, Shown};
use crate::protocol::{Fields, Sensitivity, reply};

/// The `X-Amz-Target` prefix of CloudWatch Logs.
pub const TARGET_PREFIX: &str = "Logs_20140328";

/// The name its requests are signed for.
pub const SIGNING_NAME: &str = "logs";

const PLAIN: Sensitivity = Sensitivity::Plain;

/// The most events one read answers (and the default).
const MAX_LIMIT: i64 = 10_000;

/// Answers one `Logs_20140328` operation.
pub async fn dispatch(logs: &Logs, operation: &str, body: &[u8]) -> Result<Response, ApiError> {
    let mut fields = Fields::parse(body)?;
    match operation {
        "CreateLogGroup" => {
            let name = fields.required_string("logGroupName", 1, 512, PLAIN);
            let _ = fields.string("kmsKeyId", 0, 256, PLAIN);
            let _: Option<Value> = fields.structure("tags");
            let _ = fields.string("logGroupClass", 0, 64, PLAIN);
            fields.finish()?;
            logs.create_log_group(&name).await.map_err(error)?;
            reply(&json!({}))
        }
        "DeleteLogGroup" => {
            let name = fields.required_string("logGroupName", 1, 512, PLAIN);
            fields.finish()?;
            logs.delete_log_group(&name).await.map_err(error)?;
            reply(&json!({}))
        }
        "DescribeLogGroups" => {
            let prefix = fields.string("logGroupNamePrefix", 1, 512, PLAIN);
            let token = fields.string("nextToken", 1, 2048, PLAIN);
            let limit = fields.integer("limit", 1, 50).unwrap_or(50) as usize;
            fields.finish()?;
            let groups = logs.log_groups(prefix.as_deref()).await.map_err(error)?;
            let selected: Vec<Value> = groups
                .iter()
                .filter(|group| token.as_deref().is_none_or(|token| group.name.as_str() > token))
                .take(limit + 1)
                .map(|group| {
                    json!({
                        "logGroupName": group.name,
                        "arn": format!("{}:*", group.arn),
                        "logGroupArn": group.arn,
                        "creationTime": group.created_millis,
                        "metricFilterCount": 0,
                        "storedBytes": 0,
                    })
                })
                .collect();
            reply(&paged(selected, limit, "logGroups", "logGroupName"))
        }
        "CreateLogStream" => {
            let group = fields.required_string("logGroupName", 1, 512, PLAIN);
            let stream = fields.required_string("logStreamName", 1, 512, PLAIN);
            fields.finish()?;
            logs.create_log_stream(&group, &stream).await.map_err(error)?;
            reply(&json!({}))
        }
        "DescribeLogStreams" => {
            let group = fields.string("logGroupName", 1, 512, PLAIN);
            let group_identifier = fields.string("logGroupIdentifier", 1, 2048, PLAIN);
            let prefix = fields.string("logStreamNamePrefix", 1, 512, PLAIN);
            let token = fields.string("nextToken", 1, 2048, PLAIN);
            let limit = fields.integer("limit", 1, 50).unwrap_or(50) as usize;
            let order_by = fields.string("orderBy", 1, 32, PLAIN);
            let descending = fields.boolean("descending").unwrap_or(false);
            let group = group.or_else(|| group_identifier.map(|identifier| group_of_identifier(&identifier)));
            let Some(group) = group else {
                fields.finish()?;
                return Err(ApiError::new(
                    ErrorCode::InvalidParameterException,
                    "Either logGroupName or logGroupIdentifier must be given.",
                ));
            };
            if order_by
                .as_deref()
                .is_some_and(|order| order != "LogStreamName" && order != "LastEventTime")
            {
                fields.violation(
                    "orderBy",
                    Shown::Text(order_by.as_deref().unwrap_or_default()),
                    "Member must satisfy enum value set: [LogStreamName, LastEventTime]",
                );
            }
            fields.finish()?;
            let mut streams = logs.log_streams(&group, prefix.as_deref()).await.map_err(error)?;
            if order_by.as_deref() == Some("LastEventTime") {
                streams.sort_by_key(|stream| (stream.last_event_millis, stream.name.clone()));
            }
            if descending {
                streams.reverse();
            }
            let start = token
                .as_deref()
                .and_then(|token| token.parse::<usize>().ok())
                .unwrap_or(0);
            let page: Vec<Value> = streams
                .iter()
                .skip(start)
                .take(limit)
                .map(|stream| {
                    let mut shape = json!({
                        "logStreamName": stream.name,
                        "creationTime": stream.created_millis,
                        "arn": format!("{}:log-stream:{}", logs.group_arn(&group), stream.name),
                        "storedBytes": 0,
                    });
                    let optional = [
                        ("firstEventTimestamp", stream.first_event_millis),
                        ("lastEventTimestamp", stream.last_event_millis),
                        ("lastIngestionTime", stream.last_ingestion_millis),
                    ];
                    for (member, value) in optional {
                        if let Some(value) = value {
                            shape[member] = json!(value);
                        }
                    }
                    shape
                })
                .collect();
            let mut body = json!({ "logStreams": page });
            if start + limit < streams.len() {
                body["nextToken"] = json!((start + limit).to_string());
            }
            reply(&body)
        }
        "PutLogEvents" => {
            let group = fields.required_string("logGroupName", 1, 512, PLAIN);
            let stream = fields.required_string("logStreamName", 1, 512, PLAIN);
            let events: Option<Vec<InputEvent>> = fields.structure("logEvents");
            let _ = fields.string("sequenceToken", 1, 2048, PLAIN);
            let _: Option<Value> = fields.structure("entity");
            if events.is_none() {
                fields.violation("logEvents", Shown::Null, "Member must not be null");
            }
            fields.finish()?;
            let events = events
                .unwrap_or_default()
                .into_iter()
                .map(|event| NewLogEvent {
                    timestamp_millis: event.timestamp,
                    message: event.message,
                })
                .collect();
            let rejected = logs.put_log_events(&group, &stream, events).await.map_err(error)?;
            let mut body = json!({ "nextSequenceToken": uuid::Uuid::new_v4().simple().to_string() });
            let mut info = serde_json::Map::new();
            if let Some(index) = rejected.too_old_end_index {
                info.insert("tooOldLogEventEndIndex".into(), json!(index));
            }
            if let Some(index) = rejected.too_new_start_index {
                info.insert("tooNewLogEventStartIndex".into(), json!(index));
            }
            if !info.is_empty() {
                body["rejectedLogEventsInfo"] = Value::Object(info);
            }
            reply(&body)
        }
        "GetLogEvents" => get_log_events(logs, fields).await,
        "FilterLogEvents" => filter_log_events(logs, fields).await,
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("Unknown operation: '{TARGET_PREFIX}.{operation}'"),
        )),
    }
}

/// `InputLogEvent`.
#[derive(Debug, Deserialize)]
struct InputEvent {
    timestamp: i64,
    message: String,
}

async fn get_log_events(logs: &Logs, mut fields: Fields) -> Result<Response, ApiError> {
    let group = fields.string("logGroupName", 1, 512, PLAIN);
    let group_identifier = fields.string("logGroupIdentifier", 1, 2048, PLAIN);
    let stream = fields.required_string("logStreamName", 1, 512, PLAIN);
    let start = fields.integer("startTime", 0, i64::MAX);
    let end = fields.integer("endTime", 0, i64::MAX);
    let token = fields.string("nextToken", 1, 2048, PLAIN);
    let limit = fields.integer("limit", 1, MAX_LIMIT).unwrap_or(MAX_LIMIT) as usize;
    let from_head = fields.boolean("startFromHead").unwrap_or(false);
    let _ = fields.boolean("unmask");
    fields.finish()?;
    let group = group
        .or_else(|| group_identifier.map(|identifier| group_of_identifier(&identifier)))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidParameterException,
                "Either logGroupName or logGroupIdentifier must be given.",
            )
        })?;
    // A token is `f/{timestamp}/{sequence}` (read on after it) or `b/…` (read back before it).
    let (backward, after) = match &token {
        Some(token) => {
            let parsed = parse_token(token).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidParameterException,
                    "The specified nextToken is invalid.",
                )
            })?;
            (parsed.0, Some(parsed.1))
        }
        None => (!from_head, None),
    };
    let query = LogQuery {
        group,
        streams: vec![stream],
        start_millis: start,
        end_millis: end,
        after,
        backward,
        limit,
        ..LogQuery::default()
    };
    let EventPage {
        events,
        forward,
        backward: before,
    } = logs.read(query).await.map_err(error)?;
    let forward = forward
        .or(after)
        .map_or_else(|| "f/0/0".to_owned(), |(time, sequence)| format!("f/{time}/{sequence}"));
    let before = before
        .or(after)
        .map_or_else(|| "b/0/0".to_owned(), |(time, sequence)| format!("b/{time}/{sequence}"));
    let events: Vec<Value> = events
        .iter()
        .map(|event| {
            json!({
                "timestamp": event.timestamp_millis,
                "message": event.message,
                "ingestionTime": event.ingestion_millis,
            })
        })
        .collect();
    reply(&json!({ "events": events, "nextForwardToken": forward, "nextBackwardToken": before }))
}

async fn filter_log_events(logs: &Logs, mut fields: Fields) -> Result<Response, ApiError> {
    let group = fields.string("logGroupName", 1, 512, PLAIN);
    let group_identifier = fields.string("logGroupIdentifier", 1, 2048, PLAIN);
    let streams: Option<Vec<String>> = fields.structure("logStreamNames");
    let prefix = fields.string("logStreamNamePrefix", 1, 512, PLAIN);
    let start = fields.integer("startTime", 0, i64::MAX);
    let end = fields.integer("endTime", 0, i64::MAX);
    let pattern = fields.string("filterPattern", 0, 1024, PLAIN);
    let token = fields.string("nextToken", 1, 2048, PLAIN);
    let limit = fields.integer("limit", 1, MAX_LIMIT).unwrap_or(MAX_LIMIT) as usize;
    let _ = fields.boolean("interleaved");
    let _ = fields.boolean("unmask");
    fields.finish()?;
    let group = group
        .or_else(|| group_identifier.map(|identifier| group_of_identifier(&identifier)))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidParameterException,
                "Either logGroupName or logGroupIdentifier must be given.",
            )
        })?;
    let streams = streams.unwrap_or_default();
    if !streams.is_empty() && prefix.is_some() {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterException,
            "logStreamNames and logStreamNamePrefix are mutually exclusive.",
        ));
    }
    let pattern = FilterPattern::parse(pattern.as_deref().unwrap_or_default()).map_err(error)?;
    let mut after = match &token {
        Some(token) => Some(parse_token(token).map(|(_, position)| position).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidParameterException,
                "The specified nextToken is invalid.",
            )
        })?),
        None => None,
    };
    // Reads in chunks until `limit` events match or the group has no more.
    let mut matched = Vec::new();
    let mut more = false;
    loop {
        let query = LogQuery {
            group: group.clone(),
            streams: streams.clone(),
            stream_prefix: prefix.clone(),
            start_millis: start,
            end_millis: end,
            after,
            backward: false,
            limit: 1_000,
        };
        let page = logs.read(query).await.map_err(error)?;
        let count = page.events.len();
        for event in page.events {
            after = Some((event.timestamp_millis, event.sequence));
            if pattern.matches(&event.message) {
                matched.push(event);
                if matched.len() == limit {
                    more = true;
                    break;
                }
            }
        }
        if more || count < 1_000 {
            break;
        }
    }
    let events: Vec<Value> = matched
        .iter()
        .map(|event| {
            json!({
                "logStreamName": event.stream,
                "timestamp": event.timestamp_millis,
                "message": event.message,
                "ingestionTime": event.ingestion_millis,
                "eventId": format!("{:020}{:020}", event.timestamp_millis.max(0), event.sequence),
            })
        })
        .collect();
    let mut body = json!({ "events": events, "searchedLogStreams": [] });
    if more && let Some((time, sequence)) = after {
        body["nextToken"] = json!(format!("f/{time}/{sequence}"));
    }
    reply(&body)
}

/// A read token: whether it reads backward, and its (timestamp, sequence) position.
fn parse_token(token: &str) -> Option<(bool, (i64, i64))> {
    let mut parts = token.split('/');
    let backward = match parts.next()? {
        "f" => false,
        "b" => true,
        _ => return None,
    };
    let time = parts.next()?.parse().ok()?;
    let sequence = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((backward, (time, sequence)))
}

/// The group a `logGroupIdentifier` (a name or an ARN) names.
fn group_of_identifier(identifier: &str) -> String {
    match identifier.split_once(":log-group:") {
        Some((_, name)) => name.strip_suffix(":*").unwrap_or(name).to_owned(),
        None => identifier.to_owned(),
    }
}

/// The first `limit` of `items` (read one beyond), with a `nextToken` when more remain.
fn paged(mut items: Vec<Value>, limit: usize, member: &str, key: &str) -> Value {
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().and_then(|item| item[key].as_str()).map(str::to_owned)
    } else {
        None
    };
    let mut body = serde_json::Map::new();
    body.insert(member.to_owned(), Value::Array(items));
    if let Some(token) = next {
        body.insert("nextToken".to_owned(), json!(token));
    }
    Value::Object(body)
}

/// A logs error as its AWS error code.
fn error(error: sluice_bus::Error) -> ApiError {
    use sluice_bus::Error;
    match error {
        Error::ResourceNotFound { message } => ApiError::new(ErrorCode::ResourceNotFoundException, message),
        Error::ResourceAlreadyExists { message } => ApiError::new(ErrorCode::ResourceAlreadyExistsException, message),
        Error::Validation { message } if message.contains("validation error") => {
            ApiError::new(ErrorCode::ValidationException, message)
        }
        Error::Validation { message } => ApiError::new(ErrorCode::InvalidParameterException, message),
        other => ApiError::new(ErrorCode::ServiceUnavailable, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_identifiers() {
        assert_eq!(parse_token("f/10/3"), Some((false, (10, 3))));
        assert_eq!(parse_token("b/10/3"), Some((true, (10, 3))));
        assert_eq!(parse_token("x/10/3"), None);
        assert_eq!(parse_token("f/10"), None);
        assert_eq!(
            group_of_identifier("arn:aws:logs:us-east-1:123456789012:log-group:/a/b:*"),
            "/a/b"
        );
        assert_eq!(group_of_identifier("/a/b"), "/a/b");
    }
}
