//! The two loops: deliveries (claim what is due, deliver, delete or retry with back-off) and
//! schedules (fire each due rule once, moving its next fire time in the same commit).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sluice_engine::Error as EngineError;
use sluice_store::bus::{Delivery, ScheduleFire};

use crate::events::format_time;
use crate::target::{Destination, Policy, SinkMessage};
use crate::{Bus, Result};

/// The most deliveries claimed at once.
const CLAIM_BATCH: usize = 64;

/// The longest the loops sleep without looking again.
const MAX_IDLE: Duration = Duration::from_secs(1);

/// The back-off before retry `attempt` (1-based): 1 s, doubling, at most 5 minutes.
pub fn back_off_millis(attempt: u32) -> i64 {
    1_000_i64
        .saturating_mul(1_i64 << attempt.saturating_sub(1).min(20))
        .min(300_000)
}

impl Bus {
    /// Delivers every delivery due now (concurrently); answers how many were attempted.
    pub async fn deliver_due(&self) -> Result<usize> {
        let now = self.now().timestamp_millis();
        let claimed = self
            .inner
            .store
            .claim_deliveries(now, now + self.inner.options.lease_millis, CLAIM_BATCH)
            .await?;
        let count = claimed.len();
        let mut running = tokio::task::JoinSet::new();
        for delivery in claimed {
            let bus = self.clone();
            running.spawn(async move { bus.deliver_one(delivery).await });
        }
        while let Some(finished) = running.join_next().await {
            match finished {
                Ok(Err(error)) => tracing::warn!("a delivery could not be recorded: {error}"),
                Err(error) => tracing::error!("a delivery task failed: {error}"),
                Ok(Ok(())) => {}
            }
        }
        Ok(count)
    }

    /// Fires every enabled scheduled rule whose next fire time has come; answers how many fired.
    pub async fn fire_due(&self) -> Result<usize> {
        let now = self.now();
        let now_millis = now.timestamp_millis();
        let due: Vec<crate::catalog::RuleEntry> = self
            .read_catalog()
            .buses
            .values()
            .flat_map(|bus| bus.rules.values())
            .filter(|rule| rule.record.enabled && rule.record.next_fire_millis.is_some_and(|next| next <= now_millis))
            .cloned()
            .collect();
        let mut fired = 0;
        for rule in due {
            let (Some(schedule), Some(expected)) = (&rule.schedule, rule.record.next_fire_millis) else {
                continue;
            };
            let Some(fire_time) = DateTime::<Utc>::from_timestamp_millis(expected) else {
                continue;
            };
            // Missed fires are not backfilled: the next one is the first after now.
            let next = schedule
                .next_after(fire_time, now.max(fire_time))
                .map(|time| time.timestamp_millis());
            let event = self.scheduled_event(&rule.record.arn, fire_time);
            let deliveries = self.deliveries(&rule, &event, now);
            let written = self
                .inner
                .store
                .fire_schedule(ScheduleFire {
                    bus: rule.record.bus.clone(),
                    rule: rule.record.name.clone(),
                    expected_next_millis: expected,
                    next_millis: next,
                    deliveries,
                })
                .await?;
            // Not written: the rule changed meanwhile; take its next fire time from the store.
            let next = match written {
                true => next,
                false => self
                    .inner
                    .store
                    .rule(&rule.record.bus, &rule.record.name)
                    .await?
                    .and_then(|stored| stored.next_fire_millis),
            };
            let _one = self.inner.changes.lock().await;
            let mut catalog = self.write_catalog();
            if let Some(current) = catalog.rule_mut(&rule.record.bus, &rule.record.name)
                && current.record.next_fire_millis == Some(expected)
            {
                current.record.next_fire_millis = next;
            }
            if written {
                fired += 1;
                self.inner.wake.notify_one();
            }
        }
        Ok(fired)
    }

    /// The event a schedule delivers, as EventBridge shapes it.
    fn scheduled_event(&self, rule_arn: &str, time: DateTime<Utc>) -> Value {
        let options = self.options();
        json!({
            "version": "0",
            "id": uuid::Uuid::new_v4().to_string(),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": options.account,
            "time": format_time(time),
            "region": options.region,
            "resources": [rule_arn],
            "detail": {},
        })
    }

    pub(crate) async fn run_deliveries(self) {
        loop {
            let worked = match self.deliver_due().await {
                Ok(count) => count,
                Err(error) => {
                    tracing::warn!("claiming deliveries failed: {error}");
                    0
                }
            };
            if worked > 0 {
                continue;
            }
            let now = self.now().timestamp_millis();
            let wait = match self.inner.store.next_delivery_due().await {
                Ok(Some(due)) => Duration::from_millis(due.saturating_sub(now).clamp(0, 1_000) as u64),
                _ => MAX_IDLE,
            };
            tokio::select! {
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    pub(crate) async fn run_schedules(self) {
        loop {
            if let Err(error) = self.fire_due().await {
                tracing::warn!("firing scheduled rules failed: {error}");
            }
            if let Err(error) = self.fire_schedules_due().await {
                tracing::warn!("firing schedules failed: {error}");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Delivers one claimed delivery and records the outcome.
    async fn deliver_one(&self, delivery: Delivery) -> Result<()> {
        let policy: Policy = serde_json::from_str(&delivery.policy).unwrap_or(Policy {
            max_attempts: crate::target::DEFAULT_MAXIMUM_RETRY_ATTEMPTS + 1,
            max_age_seconds: crate::target::DEFAULT_MAXIMUM_EVENT_AGE_SECONDS,
            dead_letter_arn: None,
            message_group_id: None,
        });
        let outcome = self.send(&delivery, &policy).await;
        let store = &self.inner.store;
        let Err(reason) = outcome else {
            store.finish_delivery(&delivery.id).await?;
            return Ok(());
        };
        let now = self.now().timestamp_millis();
        let retry_at = now + back_off_millis(delivery.attempts);
        let too_old = retry_at - delivery.event_millis > i64::from(policy.max_age_seconds) * 1_000;
        if delivery.attempts < policy.max_attempts && !too_old {
            tracing::debug!(delivery = %delivery.id, target = %delivery.target_arn, attempts = delivery.attempts, "delivery failed, retrying: {reason}");
            store.retry_delivery(&delivery.id, retry_at).await?;
            return Ok(());
        }
        self.give_up(&delivery, &policy, &reason).await;
        store.finish_delivery(&delivery.id).await?;
        Ok(())
    }

    /// Hands an undeliverable payload to the dead-letter queue, or logs it.
    async fn give_up(&self, delivery: &Delivery, policy: &Policy, reason: &str) {
        if let (Some(arn), Some(sink)) = (&policy.dead_letter_arn, &self.inner.sink)
            && sink.accepts(arn)
        {
            let message = SinkMessage {
                arn,
                body: &delivery.payload,
                message_group_id: policy.message_group_id.as_deref(),
                deduplication_id: &delivery.id,
            };
            match sink.deliver(message).await {
                Ok(()) => {
                    tracing::warn!(delivery = %delivery.id, rule = %delivery.rule, target = %delivery.target_id, dead_letter = %arn, attempts = delivery.attempts, "delivery given up, sent to the dead-letter queue: {reason}");
                    return;
                }
                Err(error) => {
                    tracing::error!(delivery = %delivery.id, dead_letter = %arn, "the dead-letter queue refused the event: {error}");
                }
            }
        }
        tracing::error!(delivery = %delivery.id, bus = %delivery.bus, rule = %delivery.rule, target = %delivery.target_id, arn = %delivery.target_arn, attempts = delivery.attempts, payload = %delivery.payload, "delivery given up: {reason}");
    }

    /// One attempt at a delivery.
    async fn send(&self, delivery: &Delivery, policy: &Policy) -> Result<(), String> {
        match Destination::of(&delivery.target_arn) {
            Destination::StateMachine(arn) => {
                // The execution is named after the delivery: a redelivery after a crash finds
                // the execution already started and starts nothing new.
                let started = self
                    .inner
                    .engine
                    .start_execution(&arn, Some(&delivery.id), Some(&delivery.payload), self.now())
                    .await;
                match started {
                    Ok(_) | Err(EngineError::ExecutionAlreadyExists { .. }) => Ok(()),
                    Err(error) => Err(error.to_string()),
                }
            }
            Destination::Function(name) => {
                let function = self
                    .inner
                    .engine
                    .functions()
                    .get(&name)
                    .ok_or_else(|| format!("Function not found: {name}"))?;
                let payload: Value = serde_json::from_str(&delivery.payload).map_err(|error| error.to_string())?;
                function
                    .invoke(payload)
                    .await
                    .map(|_| ())
                    .map_err(|error| error.cause())
            }
            Destination::Bus(name) => {
                let event: Value = serde_json::from_str(&delivery.payload).map_err(|error| error.to_string())?;
                self.forward(&name, &event).await
            }
            Destination::LogGroup(group) => {
                let logs = self
                    .logs()
                    .ok_or_else(|| format!("No logs are kept for {}", delivery.target_arn))?;
                logs.deliver(&group, &delivery.id, &delivery.payload).await
            }
            Destination::Other => {
                let sink = self
                    .inner
                    .sink
                    .as_ref()
                    .filter(|sink| sink.accepts(&delivery.target_arn))
                    .ok_or_else(|| format!("No service delivers to {}", delivery.target_arn))?;
                sink.deliver(SinkMessage {
                    arn: &delivery.target_arn,
                    body: &delivery.payload,
                    message_group_id: policy.message_group_id.as_deref(),
                    deduplication_id: &delivery.id,
                })
                .await
            }
        }
    }
}
