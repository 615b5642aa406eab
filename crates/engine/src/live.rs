//! Executions: starting them, advancing them one committed change at a time under a per-execution
//! lock, and what callers ask of them (describe, list, history, stop, task tokens, wait).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::Value;
use sluice_asl::scope::Execution;
use sluice_asl::{Entropy, Failure, StateMachine};
use sluice_store::{
    Advance, Error as StoreError, ExecutionFilter, ExecutionRecord, ExecutionStart, ExecutionStatus, ExecutionSummary,
    HistoryEvent, HistoryPage, Started,
};

use crate::snapshot::Snapshot;
use crate::txn::{End, Txn};
use crate::{Engine, Error, Result, check_name};

/// The largest input or output AWS accepts: 256 KiB.
pub const MAX_PAYLOAD: usize = 256 * 1024;

/// How many times a change is applied again when another node moved the execution on first.
const CONFLICT_RETRIES: usize = 8;

/// Running executions held in memory, each behind its own lock.
#[derive(Default)]
pub(crate) struct LiveExecutions {
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Live>>>>>,
}

impl LiveExecutions {
    fn slot(&self, arn: &str) -> Arc<tokio::sync::Mutex<Option<Live>>> {
        let mut slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        slots.entry(arn.to_owned()).or_default().clone()
    }

    fn forget(&self, arn: &str) {
        let mut slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        slots.remove(arn);
    }
}

/// A running execution as this process holds it.
pub(crate) struct Live {
    record: ExecutionRecord,
    snapshot: Snapshot,
    machine: Arc<StateMachine>,
    execution: Arc<Execution>,
}

/// Randomness from the operating system: each value is recorded in the snapshot or history that
/// uses it, so nothing replays it.
pub(crate) struct RandomEntropy;

impl Entropy for RandomEntropy {
    fn uuid(&mut self) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    fn random_u64(&mut self) -> u64 {
        rand::random()
    }
}

impl Engine {
    /// `StartExecution`. Idempotent by name as AWS is: the same name and input while the
    /// execution runs give the same execution; another input, or an ended execution, is
    /// `ExecutionAlreadyExists`.
    pub async fn start_execution(
        &self,
        machine_arn: &str,
        name: Option<&str>,
        input: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ExecutionRecord> {
        self.start_child_execution(machine_arn, name, input, now, None).await
    }

    pub(crate) async fn start_child_execution(
        &self,
        machine_arn: &str,
        name: Option<&str>,
        input: Option<&str>,
        now: DateTime<Utc>,
        notify: Option<crate::snapshot::ParentTask>,
    ) -> Result<ExecutionRecord> {
        let machine_record = self.describe_state_machine(machine_arn).await?;
        let name = name
            .map(str::to_owned)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        check_name(&name)?;
        let input_text = input.unwrap_or("{}");
        let input_value = parse_payload(input_text).map_err(|reason| Error::InvalidExecutionInput { reason })?;
        let arn = self.execution_arn(&machine_record.name, &name);
        let machine = self.machine(&machine_record.arn, machine_record.revision).await?;
        let execution = Arc::new(Execution {
            id: arn.clone(),
            name: name.clone(),
            input: input_value.clone(),
            start_time: now,
            role_arn: machine_record.role_arn.clone(),
            state_machine_id: machine_record.arn.clone(),
            state_machine_name: machine_record.name.clone(),
        });
        let mut entropy = RandomEntropy;
        let express = machine_record.machine_type == sluice_store::MachineType::Express;
        let snapshot = Snapshot {
            notify: notify.clone(),
            express,
            ..Snapshot::default()
        };
        let mut txn = Txn::new(
            &machine,
            execution.clone(),
            snapshot,
            now,
            &mut entropy,
            now.timestamp_millis() + crate::dispatch::WORK_LEASE_MILLIS,
        );
        txn.start(input_value.clone());
        let mut record = ExecutionRecord {
            arn: arn.clone(),
            state_machine_arn: machine_record.arn.clone(),
            revision: machine_record.revision,
            name,
            status: ExecutionStatus::Running,
            input: input_text.to_owned(),
            output: None,
            error: None,
            cause: None,
            start_millis: now.timestamp_millis(),
            stop_millis: None,
            version: 1,
            snapshot: String::new(),
            parent_arn: notify.as_ref().map(|parent| parent.execution_arn.clone()),
        };
        let written = Written::from_txn(&mut txn);
        apply_end(&mut record, txn.end.as_ref(), now);
        record.snapshot = serde_json::to_string(&txn.snapshot).unwrap_or_default();
        let start = ExecutionStart {
            record: record.clone(),
            events: written.events,
            work: written.add_work,
            tokens: written.add_tokens,
        };
        match self.inner.store.start_execution(start).await? {
            Started::Existing(existing) => {
                let same_input = serde_json::from_str::<Value>(&existing.input).ok() == Some(input_value);
                if existing.status == ExecutionStatus::Running && same_input {
                    Ok(*existing)
                } else {
                    Err(Error::ExecutionAlreadyExists { arn })
                }
            }
            Started::New => {
                let ended = record.status != ExecutionStatus::Running;
                let snapshot = txn.snapshot.clone();
                crate::metrics::execution_started(express);
                crate::metrics::states_entered(express, txn.entered);
                drop(txn);
                if !ended {
                    let slot = self.inner.live.slot(&arn);
                    let mut guard = slot.lock().await;
                    *guard = Some(Live {
                        record: record.clone(),
                        snapshot: snapshot.clone(),
                        machine,
                        execution,
                    });
                }
                self.dispatch(written.dispatch);
                self.after_commit(&record, &snapshot, written.timers);
                Ok(record)
            }
        }
    }

    /// Applies one change to a running execution and commits it. `change` answers whether it
    /// changed anything; a change to an execution that has ended is refused quietly (`false`).
    /// When another node (or writer) moved the execution on since this node read it, the
    /// advance is refused at its version; the execution is read again and the change applied
    /// to what is stored now, so a result is never lost to a stale copy.
    pub(crate) async fn update(
        &self,
        arn: &str,
        now: DateTime<Utc>,
        mut change: impl FnMut(&mut Txn<'_>) -> bool,
    ) -> Result<bool> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.update_once(arn, now, &mut change).await {
                Err(Error::Store(StoreError::VersionConflict { .. })) if attempt < CONFLICT_RETRIES => continue,
                other => return other,
            }
        }
    }

    /// One attempt of [`Engine::update`].
    async fn update_once(
        &self,
        arn: &str,
        now: DateTime<Utc>,
        change: &mut impl FnMut(&mut Txn<'_>) -> bool,
    ) -> Result<bool> {
        let slot = self.inner.live.slot(arn);
        let mut guard = slot.lock().await;
        if guard.is_none() {
            *guard = self.load(arn).await?;
        }
        let Some(live) = guard.as_mut() else {
            self.inner.live.forget(arn);
            return Ok(false);
        };
        let mut entropy = RandomEntropy;
        let mut txn = Txn::new(
            &live.machine,
            live.execution.clone(),
            live.snapshot.clone(),
            now,
            &mut entropy,
            now.timestamp_millis() + crate::dispatch::WORK_LEASE_MILLIS,
        );
        if !change(&mut txn) {
            return Ok(false);
        }
        let written = Written::from_txn(&mut txn);
        let mut record = live.record.clone();
        apply_end(&mut record, txn.end.as_ref(), now);
        let snapshot_text = serde_json::to_string(&txn.snapshot).unwrap_or_default();
        let advance = Advance {
            arn: arn.to_owned(),
            expected_version: live.record.version,
            status: record.status,
            output: record.output.clone(),
            error: record.error.clone(),
            cause: record.cause.clone(),
            stop_millis: record.stop_millis,
            snapshot: snapshot_text.clone(),
            events: written.events,
            add_work: written.add_work,
            done_work: written.done_work,
            add_tokens: written.add_tokens,
            remove_tokens: written.remove_tokens,
        };
        let snapshot = txn.snapshot.clone();
        let entered = txn.entered;
        drop(txn);
        // Queued behind this execution's earlier advances, under its lock: the next advance may
        // be queued before this one is on disk (it expects the version this one makes, so it is
        // refused if this one is). Many steps of one execution then share a commit.
        let commit = self.inner.store.queue_advance(vec![advance]);
        record.version += 1;
        record.snapshot = snapshot_text;
        live.record = record.clone();
        live.snapshot = snapshot.clone();
        if record.status != ExecutionStatus::Running {
            *guard = None;
            self.inner.live.forget(arn);
        }
        if !self.inner.options.exclusive_store {
            // On a shared store the next advance of this execution is built only on a committed
            // one: were this one refused (another node moved the execution on), an advance built
            // on it would expect the version the other node made and could be taken in its place.
            let result = commit.await.and_then(|mut results| results.pop().unwrap_or(Ok(())));
            if let Err(error) = result {
                *guard = None;
                drop(guard);
                self.inner.live.forget(arn);
                return Err(error.into());
            }
            drop(guard);
            self.dispatch(written.dispatch);
            crate::metrics::states_entered(snapshot.express, entered);
            self.after_commit(&record, &snapshot, written.timers);
            return Ok(true);
        }
        drop(guard);
        // Invocations start before the advance that scheduled them is on disk: a task may run
        // more than once anyway (at-least-once), and its result is applied by an advance queued
        // behind this one. Nothing is reported (ends, waiters, timers) before the commit.
        self.dispatch(written.dispatch);
        let result = commit.await.and_then(|mut results| results.pop().unwrap_or(Ok(())));
        if let Err(error) = result {
            // Refused (another writer moved the execution on) or not written: what this process
            // holds is ahead of the store, so read it again next time.
            let slot = self.inner.live.slot(arn);
            *slot.lock().await = None;
            self.inner.live.forget(arn);
            return Err(error.into());
        }
        crate::metrics::states_entered(snapshot.express, entered);
        self.after_commit(&record, &snapshot, written.timers);
        Ok(true)
    }

    /// Reads a running execution into memory; `None` when it does not exist or has ended.
    async fn load(&self, arn: &str) -> Result<Option<Live>> {
        let Some(record) = self.inner.store.execution(arn).await? else {
            return Ok(None);
        };
        if record.status != ExecutionStatus::Running {
            return Ok(None);
        }
        let machine = self.machine(&record.state_machine_arn, record.revision).await?;
        let snapshot: Snapshot = serde_json::from_str(&record.snapshot)
            .map_err(|error| StoreError::Backend(format!("the snapshot of {arn} is unreadable: {error}")))?;
        let machine_name = record
            .state_machine_arn
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_owned();
        let execution = Arc::new(Execution {
            id: record.arn.clone(),
            name: record.name.clone(),
            input: serde_json::from_str(&record.input).unwrap_or(Value::Null),
            start_time: DateTime::from_timestamp_millis(record.start_millis).unwrap_or_default(),
            role_arn: String::new(),
            state_machine_id: record.state_machine_arn.clone(),
            state_machine_name: machine_name,
        });
        Ok(Some(Live {
            record,
            snapshot,
            machine,
            execution,
        }))
    }

    /// Runs invocations an advance scheduled, each in its own task.
    fn dispatch(&self, dispatch: Vec<sluice_store::Work>) {
        for work in dispatch {
            let engine = self.clone();
            tokio::spawn(async move { engine.run_work(work).await });
        }
    }

    /// After a commit: wake the timer loop for new timers, and tell whoever waits that the
    /// execution ended.
    fn after_commit(&self, record: &ExecutionRecord, snapshot: &Snapshot, timers: bool) {
        if timers {
            self.inner.wake.notify_one();
        }
        if record.status != ExecutionStatus::Running {
            crate::metrics::execution_ended(snapshot.express, record.status);
            self.ended(record.clone(), snapshot.notify.clone());
        }
    }

    fn ended(&self, record: ExecutionRecord, notify: Option<crate::snapshot::ParentTask>) {
        let waiters = self
            .inner
            .waiters
            .lock()
            .ok()
            .and_then(|mut waiters| waiters.remove(&record.arn));
        for waiter in waiters.into_iter().flatten() {
            let _ = waiter.send(record.clone());
        }
        if let Some(parent) = notify {
            let engine = self.clone();
            tokio::spawn(async move { engine.child_ended(parent, record).await });
        }
    }

    /// `DescribeExecution`.
    pub async fn describe_execution(&self, arn: &str) -> Result<ExecutionRecord> {
        self.inner
            .store
            .execution(arn)
            .await?
            .ok_or_else(|| Error::ExecutionDoesNotExist { arn: arn.to_owned() })
    }

    /// Waits until the execution has ended, and answers it.
    pub async fn await_execution(&self, arn: &str) -> Result<ExecutionRecord> {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        if let Ok(mut waiters) = self.inner.waiters.lock() {
            waiters.entry(arn.to_owned()).or_default().push(sender);
        }
        // It may have ended before the waiter was in place; then nobody will answer the waiter,
        // so it goes at once rather than when the execution ends (it never will again).
        let record = self.describe_execution(arn).await;
        if !matches!(&record, Ok(record) if record.status == ExecutionStatus::Running) {
            drop(receiver);
            self.forget_closed_waiters(arn);
            return record;
        }
        // The execution may end on another node sharing the store, which answers no waiter
        // here: look again every second.
        let mut receiver = receiver;
        loop {
            match tokio::time::timeout(std::time::Duration::from_secs(1), &mut receiver).await {
                Ok(answer) => {
                    return answer.map_err(|_| Error::ExecutionDoesNotExist { arn: arn.to_owned() });
                }
                Err(_elapsed) => {
                    let record = self.describe_execution(arn).await?;
                    if record.status != ExecutionStatus::Running {
                        drop(receiver);
                        self.forget_closed_waiters(arn);
                        return Ok(record);
                    }
                }
            }
        }
    }

    /// Drops the waiters of `arn` that nobody listens to any more.
    fn forget_closed_waiters(&self, arn: &str) {
        if let Ok(mut waiters) = self.inner.waiters.lock()
            && let Some(list) = waiters.get_mut(arn)
        {
            list.retain(|waiter| !waiter.is_closed());
            if list.is_empty() {
                waiters.remove(arn);
            }
        }
    }

    /// `ListExecutions`: newest first, a page and the token of the next.
    pub async fn list_executions(
        &self,
        machine_arn: Option<&str>,
        status: Option<ExecutionStatus>,
        next_token: Option<&str>,
        max_results: usize,
    ) -> Result<(Vec<ExecutionSummary>, Option<String>)> {
        if let Some(arn) = machine_arn {
            self.describe_state_machine(arn).await?;
        }
        let limit = max_results.clamp(1, 1000);
        let after = next_token.and_then(|token| {
            let (millis, arn) = token.split_once('|')?;
            Some((millis.parse().ok()?, arn.to_owned()))
        });
        let filter = ExecutionFilter {
            state_machine_arn: machine_arn.map(str::to_owned),
            status,
            after,
            limit: limit + 1,
        };
        let mut executions = self.inner.store.list_executions(filter).await?;
        let next = if executions.len() > limit {
            executions.truncate(limit);
            executions
                .last()
                .map(|last| format!("{}|{}", last.start_millis, last.arn))
        } else {
            None
        };
        Ok((executions, next))
    }

    /// `GetExecutionHistory`: a page of events and the token of the next.
    pub async fn history(
        &self,
        arn: &str,
        reverse: bool,
        next_token: Option<&str>,
        max_results: usize,
    ) -> Result<(Vec<HistoryEvent>, Option<String>)> {
        self.describe_execution(arn).await?;
        let limit = max_results.clamp(1, 1000);
        let after_event_id = next_token.and_then(|token| token.parse().ok());
        let page = HistoryPage {
            after_event_id,
            reverse,
            limit: limit + 1,
        };
        let mut events = self.inner.store.history(arn, page).await?;
        let next = if events.len() > limit {
            events.truncate(limit);
            events.last().map(|event| event.id.to_string())
        } else {
            None
        };
        Ok((events, next))
    }

    /// `StopExecution`: the execution is aborted, with the executions it started.
    pub async fn stop_execution(
        &self,
        arn: &str,
        error: Option<String>,
        cause: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<ExecutionRecord> {
        let record = self.describe_execution(arn).await?;
        if record.status == ExecutionStatus::Running {
            self.update(arn, now, |txn| {
                txn.abort(error.clone(), cause.clone());
                true
            })
            .await?;
            let filter = ExecutionFilter {
                status: Some(ExecutionStatus::Running),
                limit: 1000,
                ..Default::default()
            };
            for child in self.inner.store.list_executions(filter).await? {
                if let Some(child_record) = self.inner.store.execution(&child.arn).await?
                    && child_record.parent_arn.as_deref() == Some(arn)
                {
                    Box::pin(self.stop_execution(
                        &child.arn,
                        None,
                        Some("The parent execution was stopped".into()),
                        now,
                    ))
                    .await?;
                }
            }
        }
        self.describe_execution(arn).await
    }

    /// `SendTaskSuccess`.
    pub async fn send_task_success(&self, token: &str, output: &str, now: DateTime<Utc>) -> Result<()> {
        let output = parse_payload(output).map_err(|reason| Error::InvalidOutput { reason })?;
        self.answer_token(token, now, Ok(output)).await
    }

    /// `SendTaskFailure`.
    pub async fn send_task_failure(
        &self,
        token: &str,
        error: Option<String>,
        cause: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.answer_token(
            token,
            now,
            Err(Failure {
                error: error.unwrap_or_default(),
                cause,
            }),
        )
        .await
    }

    /// `SendTaskHeartbeat`.
    pub async fn send_task_heartbeat(&self, token: &str, now: DateTime<Utc>) -> Result<()> {
        let (arn, frame, task_id) = self.token_owner(token).await?;
        let applied = self.update(&arn, now, |txn| txn.heartbeat(frame, &task_id)).await?;
        if applied {
            Ok(())
        } else {
            Err(Error::TaskDoesNotExist {
                token: token.to_owned(),
            })
        }
    }

    async fn answer_token(&self, token: &str, now: DateTime<Utc>, result: Result<Value, Failure>) -> Result<()> {
        let (arn, frame, task_id) = self.token_owner(token).await?;
        let applied = self
            .update(&arn, now, |txn| txn.task_result(frame, &task_id, result.clone()))
            .await?;
        if applied {
            Ok(())
        } else {
            Err(Error::TaskDoesNotExist {
                token: token.to_owned(),
            })
        }
    }

    async fn token_owner(&self, token: &str) -> Result<(String, u64, String)> {
        let record = self.inner.store.task_token(token).await?.ok_or_else(|| {
            // Tokens are UUIDs and are forgotten when their task ends: a UUID no task holds is
            // a task that ended (AWS answers a reused token the same way), anything else is
            // not a token at all.
            if uuid::Uuid::try_parse(token).is_ok() {
                Error::TaskDoesNotExist {
                    token: token.to_owned(),
                }
            } else {
                Error::InvalidToken {
                    token: token.to_owned(),
                }
            }
        })?;
        let (frame, task_id) = record.task_id.split_once('/').ok_or_else(|| Error::InvalidToken {
            token: token.to_owned(),
        })?;
        let frame = frame.parse().map_err(|_| Error::InvalidToken {
            token: token.to_owned(),
        })?;
        Ok((record.execution_arn, frame, task_id.to_owned()))
    }
}

/// Parses an input or output: JSON of at most 256 KiB.
pub(crate) fn parse_payload(text: &str) -> std::result::Result<Value, String> {
    if text.len() > MAX_PAYLOAD {
        return Err(format!(
            "it is {} bytes, more than the {MAX_PAYLOAD} allowed",
            text.len()
        ));
    }
    serde_json::from_str(text).map_err(|error| format!("it is not valid JSON: {error}"))
}

/// Sets the record's status, output, error and stop time from how the execution ended.
fn apply_end(record: &mut ExecutionRecord, end: Option<&End>, now: DateTime<Utc>) {
    let Some(end) = end else { return };
    record.stop_millis = Some(now.timestamp_millis());
    match end {
        End::Succeeded(output) => {
            record.status = ExecutionStatus::Succeeded;
            record.output = Some(output.to_string());
        }
        End::Failed(failure) | End::TimedOut(failure) | End::Aborted(failure) => {
            record.status = match end {
                End::Failed(_) => ExecutionStatus::Failed,
                End::TimedOut(_) => ExecutionStatus::TimedOut,
                _ => ExecutionStatus::Aborted,
            };
            record.error = Some(failure.error.clone()).filter(|error| !error.is_empty());
            record.cause = failure.cause.clone();
        }
    }
}

/// What a transaction writes, with work and tokens that were added and retired within the same
/// transaction left out on both sides.
struct Written {
    events: Vec<HistoryEvent>,
    add_work: Vec<sluice_store::Work>,
    done_work: Vec<String>,
    add_tokens: Vec<sluice_store::TaskTokenRecord>,
    remove_tokens: Vec<String>,
    dispatch: Vec<sluice_store::Work>,
    timers: bool,
}

impl Written {
    fn from_txn(txn: &mut Txn<'_>) -> Written {
        let added: std::collections::HashSet<String> = txn.add_work.iter().map(|work| work.id.clone()).collect();
        let done: std::collections::HashSet<String> = txn.done_work.iter().cloned().collect();
        let add_work: Vec<_> = txn.add_work.drain(..).filter(|work| !done.contains(&work.id)).collect();
        let done_work = txn.done_work.drain(..).filter(|id| !added.contains(id)).collect();
        let dispatch = txn.dispatch.drain(..).filter(|work| !done.contains(&work.id)).collect();
        let added_tokens: std::collections::HashSet<String> =
            txn.add_tokens.iter().map(|token| token.token.clone()).collect();
        let removed_tokens: std::collections::HashSet<String> = txn.remove_tokens.iter().cloned().collect();
        let add_tokens = txn
            .add_tokens
            .drain(..)
            .filter(|token| !removed_tokens.contains(&token.token))
            .collect();
        let remove_tokens = txn
            .remove_tokens
            .drain(..)
            .filter(|token| !added_tokens.contains(token))
            .collect();
        let timers = add_work
            .iter()
            .any(|work: &sluice_store::Work| work.lease_until_millis == 0);
        let ended = txn.end.is_some();
        Written {
            events: std::mem::take(&mut txn.events),
            add_work: if ended { Vec::new() } else { add_work },
            done_work,
            add_tokens: if ended { Vec::new() } else { add_tokens },
            remove_tokens,
            dispatch: if ended { Vec::new() } else { dispatch },
            timers,
        }
    }
}
