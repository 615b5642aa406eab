//! Running due work: task invocations, timers, and timeouts. The timer loop claims what is due;
//! invocations an advance schedules run at once, leased to this node, without waiting for it.

use std::time::Duration;

use chrono::Utc;
use sluice_store::Work;

use crate::Engine;
use crate::resources::{Invocation, TaskRef};
use crate::snapshot::WorkPayload;

/// How long a claimed work item stays this node's before another may take it.
const CLAIM_LEASE_MILLIS: i64 = 5 * 60 * 1000;

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
                .claim_due_work(&self.inner.options.node, now, now + CLAIM_LEASE_MILLIS, CLAIM_BATCH)
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

    /// Runs one work item.
    pub(crate) async fn run_work(&self, work: Work) {
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
                        self.update(arn, Utc::now(), |txn| txn.task_result(frame, &task_id, result))
                            .await
                    }
                    Invocation::Pending => {
                        // The call went out; the answer comes by token or from the child. The work
                        // is done, so a restart does not call again.
                        let id = work.id.clone();
                        self.update(arn, Utc::now(), |txn| {
                            txn.done_work.push(id);
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
                let id = work.id.clone();
                let retired = self
                    .update(arn, Utc::now(), |txn| {
                        txn.done_work.push(id);
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
