//! Firing due schedules: one delivery to the schedule's target and the schedule's next fire time
//! (or its deletion) in one commit guarded by the fire time it expected.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sluice_store::bus::{AfterFire, Delivery, ScheduledFire};

use super::ScheduleEntry;
use crate::events::format_time;
use crate::target::{DEFAULT_MAXIMUM_EVENT_AGE_SECONDS, DEFAULT_MAXIMUM_RETRY_ATTEMPTS, Destination, Policy};
use crate::{Bus, Result};

impl Bus {
    /// Fires every enabled schedule whose next fire time has come; answers how many fired.
    pub async fn fire_schedules_due(&self) -> Result<usize> {
        let now = self.now();
        let now_millis = now.timestamp_millis();
        let due: Vec<ScheduleEntry> = self
            .read_catalog()
            .schedules
            .values()
            .filter(|entry| {
                entry.record.enabled && entry.record.next_fire_millis.is_some_and(|next| next <= now_millis)
            })
            .cloned()
            .collect();
        let mut fired = 0;
        for entry in due {
            let Some(expected) = entry.record.next_fire_millis else {
                continue;
            };
            let Some(fire_time) = DateTime::<Utc>::from_timestamp_millis(expected) else {
                continue;
            };
            let next = entry.timing.after(fire_time, now).map(|time| time.timestamp_millis());
            let delete = next.is_none() && entry.definition.action_after_completion.as_deref() == Some("DELETE");
            let after = if delete {
                AfterFire::Delete
            } else {
                AfterFire::Next(next)
            };
            let delivery = self.scheduled_delivery(&entry, fire_time, now);
            let key = (entry.record.group.clone(), entry.record.name.clone());
            let written = self
                .inner
                .store
                .fire_scheduled(ScheduledFire {
                    group: key.0.clone(),
                    name: key.1.clone(),
                    expected_next_millis: expected,
                    after,
                    deliveries: vec![delivery],
                })
                .await?;
            // Not written: the schedule changed meanwhile, here (the catalog has its new state) or
            // on another node sharing the store (which fired it, or changed it): take its state
            // from the store.
            let stored = if written {
                None
            } else {
                Some(self.inner.store.schedule(&key.0, &key.1).await?)
            };
            let _one = self.inner.changes.lock().await;
            let mut catalog = self.write_catalog();
            if let Some(stored) = stored
                && catalog
                    .schedules
                    .get(&key)
                    .is_some_and(|current| current.record.next_fire_millis == Some(expected))
            {
                match stored.and_then(super::ScheduleEntry::of_record) {
                    Some(entry) => {
                        catalog.schedules.insert(key.clone(), entry);
                    }
                    None => {
                        catalog.schedules.remove(&key);
                    }
                }
            }
            if written {
                fired += 1;
                self.inner.wake.notify_one();
                match after {
                    AfterFire::Delete => {
                        if catalog
                            .schedules
                            .get(&key)
                            .is_some_and(|current| current.record.next_fire_millis == Some(expected))
                        {
                            catalog.schedules.remove(&key);
                        }
                    }
                    AfterFire::Next(next) => {
                        if let Some(current) = catalog.schedules.get_mut(&key)
                            && current.record.next_fire_millis == Some(expected)
                        {
                            current.record.next_fire_millis = next;
                        }
                    }
                }
            }
        }
        Ok(fired)
    }

    /// The delivery of one fire: the target's input (or, for an event bus, an event whose
    /// detail is the input) with the fire's context attributes filled in.
    fn scheduled_delivery(&self, entry: &ScheduleEntry, fire_time: DateTime<Utc>, now: DateTime<Utc>) -> Delivery {
        let target = &entry.definition.target;
        let id = uuid::Uuid::new_v4().to_string();
        let input = fill_attributes(
            target.input.as_deref().unwrap_or("{}"),
            &entry.record.arn,
            &format_time(fire_time),
            &id,
        );
        let payload = match (Destination::of(&target.arn), &target.event_bridge_parameters) {
            (Destination::Bus(_), Some(parameters)) => {
                let options = self.options();
                json!({
                    "version": "0",
                    "id": id,
                    "detail-type": parameters.detail_type,
                    "source": parameters.source,
                    "account": options.account,
                    "time": format_time(fire_time),
                    "region": options.region,
                    "resources": [entry.record.arn],
                    "detail": serde_json::from_str::<Value>(&input).unwrap_or_else(|_| json!({})),
                })
                .to_string()
            }
            _ => input,
        };
        let retry = target.retry_policy.as_ref();
        let policy = Policy {
            max_attempts: retry
                .and_then(|policy| policy.maximum_retry_attempts)
                .unwrap_or(DEFAULT_MAXIMUM_RETRY_ATTEMPTS)
                + 1,
            max_age_seconds: retry
                .and_then(|policy| policy.maximum_event_age_in_seconds)
                .unwrap_or(DEFAULT_MAXIMUM_EVENT_AGE_SECONDS),
            dead_letter_arn: target.dead_letter_config.as_ref().and_then(|config| config.arn.clone()),
            message_group_id: target
                .sqs_parameters
                .as_ref()
                .and_then(|parameters| parameters.message_group_id.clone()),
        };
        let millis = now.timestamp_millis();
        Delivery {
            id,
            bus: format!("scheduler/{}", entry.record.group),
            rule: entry.record.name.clone(),
            target_id: entry.record.name.clone(),
            target_arn: target.arn.clone(),
            payload,
            event_millis: millis,
            due_millis: millis,
            attempts: 0,
            policy: serde_json::to_string(&policy).unwrap_or_else(|_| "{}".to_owned()),
            lease_until_millis: 0,
        }
    }
}

/// `input` with Scheduler's context attributes filled in. The attempt number is always 1: the
/// payload is fixed when the fire is written.
pub(crate) fn fill_attributes(input: &str, schedule_arn: &str, scheduled_time: &str, execution_id: &str) -> String {
    input
        .replace("<aws.scheduler.schedule-arn>", schedule_arn)
        .replace("<aws.scheduler.scheduled-time>", scheduled_time)
        .replace("<aws.scheduler.execution-id>", execution_id)
        .replace("<aws.scheduler.attempt-number>", "1")
}
