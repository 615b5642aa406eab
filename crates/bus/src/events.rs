//! `PutEvents`: each entry becomes an event as EventBridge shapes it, is matched against its
//! bus's enabled rules, and becomes one delivery per target; all of a request's deliveries are
//! written in one commit before the answer.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use sluice_store::bus::Delivery;

use crate::catalog::RuleEntry;
use crate::target::Target;
use crate::transform::Context;
use crate::{Bus, Error, Result};

/// The most entries one `PutEvents` takes.
pub const MAX_ENTRIES: usize = 10;

/// The most bytes the entries of one `PutEvents` may add up to, as AWS counts them.
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// One `PutEventsRequestEntry`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventEntry {
    /// `Source`.
    pub source: Option<String>,
    /// `DetailType`.
    pub detail_type: Option<String>,
    /// `Detail`: a JSON object, as text.
    pub detail: Option<String>,
    /// `Time`; the time of the request when absent.
    pub time: Option<DateTime<Utc>>,
    /// `Resources`.
    pub resources: Vec<String>,
    /// `EventBusName`: a name or an ARN; `default` when absent.
    pub event_bus_name: Option<String>,
}

impl EventEntry {
    /// The entry's size as AWS counts it toward the request limit.
    pub fn size(&self) -> usize {
        let text = |field: &Option<String>| field.as_ref().map_or(0, String::len);
        14 + text(&self.source)
            + text(&self.detail_type)
            + text(&self.detail)
            + self.resources.iter().map(String::len).sum::<usize>()
    }
}

/// One entry's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryResult {
    /// Accepted, with the event's id.
    Accepted {
        /// `EventId`.
        event_id: String,
    },
    /// Refused.
    Failed {
        /// `ErrorCode`.
        error_code: String,
        /// `ErrorMessage`.
        error_message: String,
    },
}

impl Bus {
    /// `PutEvents`: answers one result per entry once every accepted entry's deliveries are
    /// durable.
    pub async fn put_events(&self, entries: Vec<EventEntry>) -> Result<Vec<EntryResult>> {
        if entries.is_empty() || entries.len() > MAX_ENTRIES {
            return Err(Error::validation(format!(
                "Entries must have between 1 and {MAX_ENTRIES} entries."
            )));
        }
        if entries.iter().map(EventEntry::size).sum::<usize>() > MAX_REQUEST_BYTES {
            return Err(Error::validation(
                "Total size of the entries in the request is over the limit of 256 KB.",
            ));
        }
        let now = self.now();
        let mut results = Vec::with_capacity(entries.len());
        let mut deliveries = Vec::new();
        let mut archived = Vec::new();
        for entry in entries {
            match self.event_of(&entry, now) {
                Ok((bus, event)) => {
                    let event_id = event["id"].as_str().unwrap_or_default().to_owned();
                    deliveries.extend(self.route(&bus, &event, now));
                    archived.extend(self.archived_for(&bus, &event, now));
                    results.push(EntryResult::Accepted { event_id });
                }
                Err((error_code, error_message)) => results.push(EntryResult::Failed {
                    error_code: error_code.to_owned(),
                    error_message,
                }),
            }
        }
        self.enqueue_with_archived(deliveries, archived).await?;
        Ok(results)
    }

    /// `TestEventPattern`.
    pub fn test_event_pattern(&self, pattern: &str, event: &str) -> Result<bool> {
        let parsed = sluice_patterns::Pattern::parse(pattern).map_err(|error| Error::InvalidEventPattern {
            message: crate::control::pattern_message(&error),
        })?;
        let event: Value = serde_json::from_str(event)
            .map_err(|error| Error::validation(format!("Parameter Event is not valid: {error}")))?;
        let Value::Object(members) = &event else {
            return Err(Error::validation(
                "Parameter Event is not valid: the event must be a JSON object.",
            ));
        };
        for field in ["id", "account", "source", "time", "region", "detail-type"] {
            if !members.contains_key(field) {
                return Err(Error::validation(format!(
                    "Parameter Event is not valid. Reason: Provided Event is missing required field {field}."
                )));
            }
        }
        Ok(parsed.matches(&event))
    }

    /// Writes deliveries in one commit and wakes the delivery loop.
    pub(crate) async fn enqueue(&self, deliveries: Vec<Delivery>) -> Result<()> {
        if deliveries.is_empty() {
            return Ok(());
        }
        self.inner.store.enqueue_deliveries(deliveries).await?;
        self.inner.wake.notify_one();
        Ok(())
    }

    /// The event an entry describes and its bus, or the entry's error code and message.
    fn event_of(&self, entry: &EventEntry, now: DateTime<Utc>) -> Result<(String, Value), (&'static str, String)> {
        let required = |field: &Option<String>, name: &str| match field {
            Some(text) if !text.is_empty() => Ok(text.clone()),
            _ => Err((
                "InvalidArgument",
                format!("Parameter {name} is not valid. Reason: {name} is a required argument."),
            )),
        };
        let source = required(&entry.source, "Source")?;
        let detail_type = required(&entry.detail_type, "DetailType")?;
        let detail_text = required(&entry.detail, "Detail")?;
        let detail = match serde_json::from_str::<Value>(&detail_text) {
            Ok(detail @ Value::Object(_)) => detail,
            _ => return Err(("MalformedDetail", "Detail is malformed.".to_owned())),
        };
        let bus = crate::bus_name(entry.event_bus_name.as_deref());
        if !self.read_catalog().buses.contains_key(&bus) {
            return Err(("ResourceNotFoundException", format!("Event bus {bus} does not exist.")));
        }
        let options = self.options();
        let event = json!({
            "version": "0",
            "id": uuid::Uuid::new_v4().to_string(),
            "detail-type": detail_type,
            "source": source,
            "account": options.account,
            "time": format_time(entry.time.unwrap_or(now)),
            "region": options.region,
            "resources": entry.resources,
            "detail": detail,
        });
        Ok((bus, event))
    }

    /// The deliveries `event` causes on `bus`: one per target of each enabled rule it matches.
    fn route(&self, bus: &str, event: &Value, now: DateTime<Utc>) -> Vec<Delivery> {
        let catalog = self.read_catalog();
        let Some(entry) = catalog.buses.get(bus) else {
            return Vec::new();
        };
        let mut deliveries = Vec::new();
        for name in entry.matcher.matching(event) {
            if let Some(rule) = entry.rules.get(name) {
                deliveries.extend(self.deliveries(rule, event, now));
            }
        }
        deliveries
    }

    /// One delivery of `event` per target of `rule`.
    pub(crate) fn deliveries(&self, rule: &RuleEntry, event: &Value, now: DateTime<Utc>) -> Vec<Delivery> {
        let ingestion_time = format_time(now);
        let context = Context {
            rule_arn: &rule.record.arn,
            rule_name: &rule.record.name,
            ingestion_time: &ingestion_time,
        };
        rule.targets
            .values()
            .map(|target| self.delivery(rule, target, target.payload(event, context), now))
            .collect()
    }

    fn delivery(&self, rule: &RuleEntry, target: &Target, payload: Value, now: DateTime<Utc>) -> Delivery {
        let millis = now.timestamp_millis();
        Delivery {
            id: uuid::Uuid::new_v4().to_string(),
            bus: rule.record.bus.clone(),
            rule: rule.record.name.clone(),
            target_id: target.id.clone(),
            target_arn: target.arn.clone(),
            payload: payload.to_string(),
            event_millis: millis,
            due_millis: millis,
            attempts: 0,
            policy: serde_json::to_string(&target.policy()).unwrap_or_else(|_| "{}".to_owned()),
            lease_until_millis: 0,
        }
    }

    /// Routes an event another bus's target delivered to `bus` (the event keeps its id).
    pub(crate) async fn forward(&self, bus: &str, event: &Value) -> Result<(), String> {
        if !self.read_catalog().buses.contains_key(bus) {
            return Err(format!("Event bus {bus} does not exist."));
        }
        let now = self.now();
        let deliveries = self.route(bus, event, now);
        let archived = self.archived_for(bus, event, now);
        self.enqueue_with_archived(deliveries, archived)
            .await
            .map_err(|error| error.to_string())
    }
}

/// A time as events carry it: `2015-11-11T21:29:54Z`.
pub(crate) fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}
