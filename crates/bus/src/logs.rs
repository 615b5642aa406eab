//! CloudWatch Logs' subset on a [`LogStore`]: log groups, streams, `PutLogEvents`,
//! `GetLogEvents` and `FilterLogEvents` (filter patterns of terms, `"quoted phrases"`, `-excluded`
//! and `?optional` terms), and the bus's log targets: a rule's target
//! `arn:aws:logs:REGION:ACCOUNT:log-group:NAME` appends each event to that group (created on the
//! first delivery), in a stream named after the event's id, once per delivery.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sluice_store::LogStore;
use sluice_store::logs::{LogAppend, LogEventRecord, LogGroupRecord, LogQuery, LogStreamRecord, NewLogEvent};

use crate::{Clock, Error, Options, Result};

/// The most events one `PutLogEvents` takes.
pub const MAX_BATCH_EVENTS: usize = 10_000;
/// The most bytes one `PutLogEvents` takes, counting 26 bytes per event as AWS does.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// Events older than this (14 days) are refused by `PutLogEvents`.
const TOO_OLD_MILLIS: i64 = 14 * 24 * 3_600_000;
/// Events further in the future than this (2 hours) are refused by `PutLogEvents`.
const TOO_NEW_MILLIS: i64 = 2 * 3_600_000;

/// CloudWatch Logs' service. Cheap to clone.
#[derive(Clone)]
pub struct Logs {
    store: Arc<dyn LogStore>,
    options: Options,
    clock: Clock,
}

impl std::fmt::Debug for Logs {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Logs").finish_non_exhaustive()
    }
}

/// What `PutLogEvents` refused, by index (AWS's `rejectedLogEventsInfo`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rejected {
    /// The last index of the events too old to keep.
    pub too_old_end_index: Option<usize>,
    /// The first index of the events too far in the future.
    pub too_new_start_index: Option<usize>,
}

/// A page of events and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    /// The events, oldest first.
    pub events: Vec<LogEventRecord>,
    /// The position after the last event (forward) and before the first (backward).
    pub forward: Option<(i64, i64)>,
    /// The position before the first event.
    pub backward: Option<(i64, i64)>,
}

impl Logs {
    /// The service on `store`.
    pub fn new(store: Arc<dyn LogStore>, options: Options, clock: Clock) -> Logs {
        Logs { store, options, clock }
    }

    /// The ARN of a log group.
    pub fn group_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:logs:{}:{}:log-group:{name}",
            self.options.region, self.options.account
        )
    }

    /// `CreateLogGroup`.
    pub async fn create_log_group(&self, name: &str) -> Result<()> {
        check_group_name(name)?;
        let record = LogGroupRecord {
            name: name.to_owned(),
            arn: self.group_arn(name),
            created_millis: self.clock.now().timestamp_millis(),
        };
        match self.store.create_log_group(record).await {
            Err(sluice_store::Error::AlreadyExists { .. }) => Err(Error::ResourceAlreadyExists {
                message: "The specified log group already exists".to_owned(),
            }),
            other => Ok(other?),
        }
    }

    /// `DeleteLogGroup`.
    pub async fn delete_log_group(&self, name: &str) -> Result<()> {
        if self.store.delete_log_group(name).await? {
            Ok(())
        } else {
            Err(group_not_found())
        }
    }

    /// `DescribeLogGroups`: the groups whose names start with `prefix`, in name order.
    pub async fn log_groups(&self, prefix: Option<&str>) -> Result<Vec<LogGroupRecord>> {
        Ok(self
            .store
            .log_groups()
            .await?
            .into_iter()
            .filter(|group| prefix.is_none_or(|prefix| group.name.starts_with(prefix)))
            .collect())
    }

    /// `CreateLogStream`.
    pub async fn create_log_stream(&self, group: &str, name: &str) -> Result<()> {
        check_stream_name(name)?;
        match self
            .store
            .create_log_stream(group, name, self.clock.now().timestamp_millis())
            .await
        {
            Err(sluice_store::Error::NotFound { .. }) => Err(group_not_found()),
            Err(sluice_store::Error::AlreadyExists { .. }) => Err(Error::ResourceAlreadyExists {
                message: "The specified log stream already exists".to_owned(),
            }),
            other => Ok(other?),
        }
    }

    /// `DescribeLogStreams`: the streams of a group whose names start with `prefix`.
    pub async fn log_streams(&self, group: &str, prefix: Option<&str>) -> Result<Vec<LogStreamRecord>> {
        match self.store.log_streams(group).await {
            Err(sluice_store::Error::NotFound { .. }) => Err(group_not_found()),
            other => Ok(other?
                .into_iter()
                .filter(|stream| prefix.is_none_or(|prefix| stream.name.starts_with(prefix)))
                .collect()),
        }
    }

    /// `PutLogEvents`: appends the events that are neither too old nor too new, in one commit.
    pub async fn put_log_events(&self, group: &str, stream: &str, events: Vec<NewLogEvent>) -> Result<Rejected> {
        if events.is_empty() || events.len() > MAX_BATCH_EVENTS {
            return Err(Error::validation(format!(
                "logEvents must have between 1 and {MAX_BATCH_EVENTS} events."
            )));
        }
        let bytes: usize = events.iter().map(|event| event.message.len() + 26).sum();
        if bytes > MAX_BATCH_BYTES {
            return Err(Error::validation(format!(
                "The batch of log events is {bytes} bytes, over the limit of {MAX_BATCH_BYTES}."
            )));
        }
        if events
            .windows(2)
            .any(|pair| pair[1].timestamp_millis < pair[0].timestamp_millis)
        {
            return Err(Error::validation(
                "Log events in a single PutLogEvents request must be in chronological order.",
            ));
        }
        let now = self.clock.now().timestamp_millis();
        let mut rejected = Rejected::default();
        let mut kept = Vec::with_capacity(events.len());
        for (index, event) in events.into_iter().enumerate() {
            if event.timestamp_millis < now - TOO_OLD_MILLIS {
                rejected.too_old_end_index = Some(index);
            } else if event.timestamp_millis > now + TOO_NEW_MILLIS {
                rejected.too_new_start_index.get_or_insert(index);
            } else {
                kept.push(event);
            }
        }
        let append = LogAppend {
            group: group.to_owned(),
            stream: stream.to_owned(),
            events: kept,
            ingestion_millis: now,
            create_with_arn: None,
            idempotency_key: None,
        };
        match self.store.append_log_events(append).await {
            Err(sluice_store::Error::NotFound { what, .. }) => {
                Err(Error::not_found(format!("The specified {what} does not exist.")))
            }
            other => {
                other?;
                Ok(rejected)
            }
        }
    }

    /// Reads a page of events: forward from `after` (oldest first), or backward from it (the
    /// newest `limit` before it, still answered oldest first).
    pub async fn read(&self, query: LogQuery) -> Result<EventPage> {
        let backward = query.backward;
        let mut events = match self.store.log_events(query).await {
            Err(sluice_store::Error::NotFound { .. }) => return Err(group_not_found()),
            other => other?,
        };
        if backward {
            events.reverse();
        }
        let position = |event: &LogEventRecord| (event.timestamp_millis, event.sequence);
        Ok(EventPage {
            forward: events.last().map(position),
            backward: events.first().map(position),
            events,
        })
    }

    /// Appends one delivered event to a log target, creating the group and stream when missing;
    /// a redelivery (same `delivery_id`) appends nothing.
    pub(crate) async fn deliver(&self, group: &str, delivery_id: &str, payload: &str) -> Result<(), String> {
        let event: Option<Value> = serde_json::from_str(payload).ok();
        let stream = event
            .as_ref()
            .and_then(|event| event["id"].as_str())
            .unwrap_or(delivery_id)
            .to_owned();
        let now = self.clock.now();
        let timestamp = event
            .as_ref()
            .and_then(|event| event["time"].as_str())
            .and_then(|time| DateTime::parse_from_rfc3339(time).ok())
            .map_or(now, |time| time.with_timezone(&Utc));
        let append = LogAppend {
            group: group.to_owned(),
            stream,
            events: vec![NewLogEvent {
                timestamp_millis: timestamp.timestamp_millis(),
                message: payload.to_owned(),
            }],
            ingestion_millis: now.timestamp_millis(),
            create_with_arn: Some(self.group_arn(group)),
            idempotency_key: Some(delivery_id.to_owned()),
        };
        self.store
            .append_log_events(append)
            .await
            .map(drop)
            .map_err(|error| error.to_string())
    }
}

/// A `FilterLogEvents` pattern of terms: every plain term must appear, no `-term` may, and at
/// least one `?term` must when there are any. Terms match case-sensitively anywhere in the
/// message; `"…"` quotes a phrase.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterPattern {
    required: Vec<String>,
    excluded: Vec<String>,
    optional: Vec<String>,
}

impl FilterPattern {
    /// Parses a pattern; JSON (`{ … }`) and space-delimited (`[ … ]`) patterns are refused.
    pub fn parse(pattern: &str) -> Result<FilterPattern> {
        let trimmed = pattern.trim();
        if trimmed.starts_with('{') || trimmed.starts_with('[') || trimmed.starts_with('%') {
            return Err(Error::validation(format!(
                "filterPattern '{trimmed}': Sluice matches terms, \"quoted phrases\", -excluded and ?optional terms; JSON, space-delimited and regular expression patterns are not supported."
            )));
        }
        let mut parsed = FilterPattern::default();
        let mut rest = trimmed;
        while !rest.is_empty() {
            let (sign, body) = match rest.as_bytes()[0] {
                b'-' => (Some('-'), &rest[1..]),
                b'?' => (Some('?'), &rest[1..]),
                _ => (None, rest),
            };
            let (term, after) = if let Some(quoted) = body.strip_prefix('"') {
                let end = quoted
                    .find('"')
                    .ok_or_else(|| Error::validation(format!("filterPattern '{trimmed}': a quote is not closed.")))?;
                (&quoted[..end], &quoted[end + 1..])
            } else {
                let end = body.find(char::is_whitespace).unwrap_or(body.len());
                (&body[..end], &body[end..])
            };
            if !term.is_empty() {
                let list = match sign {
                    Some('-') => &mut parsed.excluded,
                    Some(_) => &mut parsed.optional,
                    None => &mut parsed.required,
                };
                list.push(term.to_owned());
            }
            rest = after.trim_start();
        }
        Ok(parsed)
    }

    /// Whether `message` matches.
    pub fn matches(&self, message: &str) -> bool {
        self.required.iter().all(|term| message.contains(term.as_str()))
            && !self.excluded.iter().any(|term| message.contains(term.as_str()))
            && (self.optional.is_empty() || self.optional.iter().any(|term| message.contains(term.as_str())))
    }
}

fn group_not_found() -> Error {
    Error::not_found("The specified log group does not exist.")
}

fn check_group_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 512
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "_-/.#".contains(character));
    if !valid {
        return Err(Error::validation(format!(
            "1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        )));
    }
    Ok(())
}

fn check_stream_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 512 || name.contains(':') || name.contains('*') {
        return Err(Error::validation(format!(
            "1 validation error detected: Value '{name}' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, message: &str, expect: bool) {
        let parsed = FilterPattern::parse(pattern).unwrap();
        assert_eq!(parsed.matches(message), expect, "{pattern:?} on {message:?}");
    }

    #[test]
    fn filter_patterns_of_terms() {
        check("", "anything", true);
        check("ERROR", "an ERROR here", true);
        check("ERROR", "an error here", false);
        check("ERROR timeout", "ERROR: timeout", true);
        check("ERROR timeout", "ERROR: refused", false);
        check("\"order placed\"", "an order placed now", true);
        check("\"order placed\"", "order was placed", false);
        check("ERROR -retry", "ERROR final", true);
        check("ERROR -retry", "ERROR will retry", false);
        check("?ERROR ?WARN", "WARN disk", true);
        check("?ERROR ?WARN", "INFO disk", false);
        assert!(FilterPattern::parse("{ $.level = \"x\" }").is_err());
        assert!(FilterPattern::parse("\"open").is_err());
    }

    #[test]
    fn names_are_checked() {
        assert!(check_group_name("/aws/events/orders").is_ok());
        assert!(check_group_name("bad name").is_err());
        assert!(check_stream_name("a:b").is_err());
    }
}
