//! Delivery of object events from the outbox to their targets, in S3's event shape
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html>).
//! Delivery is at least once: an event leaves the outbox only after its target took it, and a
//! failed delivery is retried with back-off.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sluice_store::objects::ObjectEvent;

use crate::Buckets;

/// How long a claimed event is leased to this node.
const LEASE: Duration = Duration::from_secs(60);

/// The longest back-off between delivery attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Where events go, by the target's ARN. The engine answers for functions and state machines;
/// queues and the event bus plug in as further [`Target`]s.
#[async_trait]
pub trait Targets: Send + Sync + 'static {
    /// Whether events can go to `arn` (checked when a rule is set): a message naming what is
    /// wrong otherwise.
    fn check(&self, arn: &str) -> Result<(), String>;

    /// Whether `arn` is of a kind these targets deliver to, whether or not it exists yet (an
    /// app may declare a function and a rule that names it together).
    fn handles(&self, arn: &str) -> bool {
        self.check(arn).is_ok()
    }

    /// Delivers one event (`{"Records": [...]}`) to `arn`; `Err` makes it retried.
    async fn deliver(&self, arn: &str, event: &Value) -> Result<(), String>;
}

/// One kind of target: those whose ARN it recognises.
#[async_trait]
pub trait Target: Send + Sync + 'static {
    /// Whether this target handles `arn`.
    fn handles(&self, arn: &str) -> bool;

    /// Whether `arn` exists.
    fn check(&self, arn: &str) -> Result<(), String>;

    /// Delivers one event to `arn`.
    async fn deliver(&self, arn: &str, event: &Value) -> Result<(), String>;
}

/// Targets of several kinds, tried in order.
#[derive(Default)]
pub struct TargetSet {
    kinds: Vec<Arc<dyn Target>>,
}

impl std::fmt::Debug for TargetSet {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TargetSet")
            .field("kinds", &self.kinds.len())
            .finish()
    }
}

impl TargetSet {
    /// Adds a kind of target.
    pub fn with(mut self, target: Arc<dyn Target>) -> TargetSet {
        self.kinds.push(target);
        self
    }

    fn find(&self, arn: &str) -> Result<&Arc<dyn Target>, String> {
        self.kinds
            .iter()
            .find(|kind| kind.handles(arn))
            .ok_or_else(|| format!("{arn} is not a destination Sluice can deliver to"))
    }
}

#[async_trait]
impl Targets for TargetSet {
    fn check(&self, arn: &str) -> Result<(), String> {
        self.find(arn)?.check(arn)
    }

    fn handles(&self, arn: &str) -> bool {
        self.find(arn).is_ok()
    }

    async fn deliver(&self, arn: &str, event: &Value) -> Result<(), String> {
        self.find(arn)?.deliver(arn, event).await
    }
}

/// The S3 event record of an outbox row.
pub fn record(event: &ObjectEvent, region: &str) -> Value {
    let time = DateTime::<Utc>::from_timestamp_millis(event.time_millis).unwrap_or_default();
    let mut object = json!({ "key": encode_key(&event.key), "sequencer": event.sequencer });
    if event.event_name.starts_with("ObjectCreated") {
        object["size"] = json!(event.size);
        object["eTag"] = json!(event.etag);
    }
    json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": region,
            "eventTime": time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            "eventName": event.event_name,
            "userIdentity": { "principalId": "sluice" },
            "requestParameters": { "sourceIPAddress": "127.0.0.1" },
            "responseElements": {
                "x-amz-request-id": format!("{:016X}", event.id),
                "x-amz-id-2": event.sequencer,
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": event.rule_id,
                "bucket": {
                    "name": event.bucket,
                    "ownerIdentity": { "principalId": "sluice" },
                    "arn": format!("arn:aws:s3:::{}", event.bucket),
                },
                "object": object,
            },
        }]
    })
}

/// A key as S3 writes it in events: form-URL-encoded, a space as `+`, `/` kept.
pub fn encode_key(key: &str) -> String {
    let mut encoded = String::with_capacity(key.len());
    for byte in key.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b'/' => {
                encoded.push(char::from(byte));
            }
            b' ' => encoded.push('+'),
            other => encoded.push_str(&format!("%{other:02X}")),
        }
    }
    encoded
}

/// The back-off before attempt `attempts + 1`: 1 s, 2 s, 4 s, … up to five minutes.
fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << attempts.min(9)).min(MAX_BACKOFF)
}

/// Claims and delivers due events until the process ends.
pub(crate) async fn deliver_forever(buckets: Buckets, targets: Arc<dyn Targets>) {
    loop {
        let delivered = deliver_due(&buckets, targets.as_ref(), Utc::now()).await;
        match delivered {
            Ok(0) => {
                // Sleep until a commit wakes us, or a retry may be due.
                let _ = tokio::time::timeout(Duration::from_secs(1), buckets.inner.wake.notified()).await;
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!("object event delivery failed: {error}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Delivers the events due at `now` once each; how many were claimed.
pub async fn deliver_due(buckets: &Buckets, targets: &dyn Targets, now: DateTime<Utc>) -> crate::Result<usize> {
    let store = buckets.store();
    let lease_until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
    let events = store
        .claim_object_events(
            &buckets.inner.options.node,
            now.timestamp_millis(),
            lease_until.timestamp_millis(),
            64,
        )
        .await?;
    // One at a time, in outbox order, so that a target sees one key's events in order.
    for event in &events {
        let payload = record(event, &buckets.inner.options.region);
        match targets.deliver(&event.target, &payload).await {
            Ok(()) => store.finish_object_event(event.id).await?,
            Err(message) => {
                let due = Utc::now() + chrono::Duration::from_std(backoff(event.attempts)).unwrap_or_default();
                tracing::warn!(target = %event.target, attempts = event.attempts + 1, "an object event was not delivered: {message}");
                store.retry_object_event(event.id, due.timestamp_millis()).await?;
            }
        }
    }
    Ok(events.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_form_encoded_as_s3_writes_them() {
        assert_eq!(encode_key("red flower.jpg"), "red+flower.jpg");
        assert_eq!(encode_key("in/a+b=c.json"), "in/a%2Bb%3Dc.json");
        assert_eq!(encode_key("é"), "%C3%A9");
    }

    #[test]
    fn removals_carry_no_size_or_etag() {
        let event = ObjectEvent {
            id: 7,
            bucket: "b".into(),
            key: "k 1".into(),
            event_name: "ObjectRemoved:Delete".into(),
            size: 0,
            etag: String::new(),
            sequencer: "000000000000000A".into(),
            time_millis: 1_700_000_000_123,
            rule_id: "r".into(),
            target: "arn".into(),
            attempts: 0,
        };
        let value = record(&event, "us-east-1");
        let record = &value["Records"][0];
        assert_eq!(record["eventName"], "ObjectRemoved:Delete");
        assert_eq!(record["eventTime"], "2023-11-14T22:13:20.123Z");
        assert_eq!(
            record["s3"]["object"],
            json!({"key": "k+1", "sequencer": "000000000000000A"})
        );
        assert_eq!(record["s3"]["bucket"]["arn"], "arn:aws:s3:::b");
    }

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(20), MAX_BACKOFF);
    }
}
