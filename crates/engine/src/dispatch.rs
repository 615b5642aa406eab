//! Running due work: task invocations, timers, and timeouts. The timer loop claims what is due;
//! invocations an advance schedules run at once, leased to this node, without waiting for it.
//! Every lease is short ([`WORK_LEASE_MILLIS`]) and renewed while this node runs the work, so a
//! node that dies stops renewing and another node claims its work once the lease lapses.

use std::time::Duration;

use chrono::Utc;
use sluice_store::Work;

use crate::Engine;
use crate::resources::{Invocation, TaskRef};
use crate::snapshot::WorkPayload;

/// How long a work item this node runs (claimed, or dispatched by its own advance) stays its own
/// without a renewal: how long a dead node's work waits before another node takes it.
pub(crate) const WORK_LEASE_MILLIS: i64 = 30_000;

/// How often the leases of running work are renewed: well within [`WORK_LEASE_MILLIS`].
const RENEW_EVERY: Duration = Duration::from_secs(10);

/// The most work items one claim takes.
const CLAIM_BATCH: usize = 256;

/// The longest the timer loop sleeps without looking again.
const MAX_SLEEP: Duration = Duration::from_secs(1);

impl Engine {
    /// Claims and runs due work until the process ends.
    pub(crate) async fn run_due_work(self) {
        loop {
            let now = Utc::now().timestamp_millis();
            let claimed = self
                .inner
                .store
                .claim_due_work(&self.inner.options.node, now, now + WORK_LEASE_MILLIS, CLAIM_BATCH)
                .await;
            match claimed {
                Ok(items) => {
                    let full = items.len() == CLAIM_BATCH;
                    for work in items {
                        let engine = self.clone();
                        tokio::spawn(async move { engine.run_work(work).await });
                    }
                    if full {
                        continue;
                    }
                }
                Err(error) => tracing::warn!(%error, "could not claim due work"),
            }
            let sleep = match self.inner.store.next_due().await {
                Ok(Some(due)) => {
                    Duration::from_millis((due - Utc::now().timestamp_millis()).max(0) as u64).min(MAX_SLEEP)
                }
                _ => MAX_SLEEP,
            };
            tokio::select! {
                () = tokio::time::sleep(sleep) => {}
                () = self.inner.wake.notified() => {}
            }
        }
    }

    /// Renews the leases of the work this node runs, until the process ends.
    pub(crate) async fn renew_leases(self) {
        loop {
            tokio::time::sleep(RENEW_EVERY).await;
            let held: Vec<String> = self.held().iter().cloned().collect();
            if held.is_empty() {
                continue;
            }
            let until = Utc::now().timestamp_millis() + WORK_LEASE_MILLIS;
            if let Err(error) = self.inner.store.renew_leases(held, until).await {
                tracing::warn!(%error, "could not renew the leases of running work");
            }
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<String>> {
        self.inner.held.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs one work item, holding its lease meanwhile.
    pub(crate) async fn run_work(&self, work: Work) {
        let id = work.id.clone();
        self.held().insert(id.clone());
        self.run_held_work(work).await;
        self.held().remove(&id);
    }

    async fn run_held_work(&self, work: Work) {
        let payload: WorkPayload = match serde_json::from_str(&work.payload) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::error!(work = %work.id, %error, "unreadable work item");
                return;
            }
        };
        let arn = work.execution_arn.as_str();
        let timer = match &payload {
            WorkPayload::Invoke { .. } => None,
            WorkPayload::Timer { .. } => Some("timer"),
            WorkPayload::TaskTimeout { .. } => Some("task_timeout"),
            WorkPayload::HeartbeatTimeout { .. } => Some("heartbeat_timeout"),
            WorkPayload::ExecutionTimeout => Some("execution_timeout"),
        };
        let outcome = match payload {
            WorkPayload::Invoke {
                frame,
                task_id,
                resource,
                parameters,
                token: _,
            } => {
                let task = TaskRef {
                    execution_arn: arn,
                    frame,
                    task_id: &task_id,
                };
                match self.invoke_resource(task, &resource, parameters).await {
                    Invocation::Done(result) => {
                        self.update(arn, Utc::now(), |txn| txn.task_result(frame, &task_id, result.clone()))
                            .await
                    }
                    Invocation::Pending => {
                        // The call went out; the answer comes by token or from the child. The work
                        // is done, so a restart does not call again.
                        self.update(arn, Utc::now(), |txn| {
                            txn.done_work.push(work.id.clone());
                            true
                        })
                        .await
                    }
                }
            }
            WorkPayload::Timer { frame } => self.update(arn, Utc::now(), |txn| txn.timer(frame, &work.id)).await,
            WorkPayload::TaskTimeout { frame, task_id } => {
                self.update(arn, Utc::now(), |txn| txn.task_timed_out(frame, &task_id, false))
                    .await
            }
            WorkPayload::HeartbeatTimeout { frame, task_id } => {
                self.update(arn, Utc::now(), |txn| txn.task_timed_out(frame, &task_id, true))
                    .await
            }
            WorkPayload::ExecutionTimeout => {
                self.update(arn, Utc::now(), |txn| {
                    txn.timed_out();
                    true
                })
                .await
            }
        };
        match outcome {
            Ok(true) => {
                if let Some(kind) = timer {
                    crate::metrics::timer_fired(kind);
                }
            }
            Ok(false) => {
                // Stale work: its frame moved on. Retire it so it is not claimed again.
                let retired = self
                    .update(arn, Utc::now(), |txn| {
                        txn.done_work.push(work.id.clone());
                        true
                    })
                    .await;
                if let Err(error) = retired {
                    tracing::warn!(work = %work.id, %error, "could not retire stale work");
                }
            }
            Err(error) => tracing::warn!(work = %work.id, %error, "work failed; it runs again when its lease ends"),
        }
    }
}
