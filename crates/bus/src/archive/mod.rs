//! Archives and replays ([the guide]): an archive keeps the events of one bus that match its
//! pattern (all of them without one), in the commit that writes their deliveries; a replay sends
//! an archive's events from a time window back to that bus, each with `replay-name`, to the rules
//! it names (every rule of the bus when it names none). Replayed events are not archived again.
//!
//! A replay moves in steps: each step's deliveries and the replay's new position share a commit
//! guarded by the position it read, so **each archived event is replayed once**, across restarts.
//! States follow EventBridge: `STARTING`, `RUNNING`, `COMPLETED`; `CANCELLING`, `CANCELLED`.
//!
//! [the guide]: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-archive.html

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use serde_json::Value;
use sluice_patterns::Pattern;
use sluice_store::ArchiveStore;
use sluice_store::archives::{ArchiveRecord, ArchivedEvent, ReplayRecord, ReplayStep};
use sluice_store::bus::Delivery;

use crate::control::ListPage;
use crate::{Bus, Error, Result};

/// The most archived events one replay step sends.
const STEP: usize = 100;

/// Each archive with its compiled pattern, by name.
type Entries = BTreeMap<String, (ArchiveRecord, Option<Pattern>)>;

/// The archives, attached to a bus.
pub(crate) struct Archives {
    pub(crate) store: Arc<dyn ArchiveStore>,
    entries: RwLock<Entries>,
}

/// `CreateArchive`'s and `UpdateArchive`'s parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveInput {
    /// The archive's name.
    pub name: String,
    /// The bus's ARN (create only).
    pub event_source_arn: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// The pattern, as JSON text.
    pub event_pattern: Option<String>,
    /// Days to keep events (0 or absent: forever).
    pub retention_days: Option<u32>,
}

/// An archive as `DescribeArchive` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveView {
    /// As stored.
    pub record: ArchiveRecord,
    /// How many events it holds.
    pub event_count: u64,
    /// Their bytes.
    pub size_bytes: u64,
}

/// `StartReplay`'s parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayInput {
    /// The replay's name.
    pub name: String,
    /// The description.
    pub description: Option<String>,
    /// The archive's ARN.
    pub event_source_arn: String,
    /// Events at or after this time.
    pub event_start: DateTime<Utc>,
    /// Events before this time.
    pub event_end: DateTime<Utc>,
    /// The bus to replay to (the archive's own).
    pub destination_arn: String,
    /// The rules to replay to (all of the bus's when empty).
    pub filter_arns: Vec<String>,
}

impl Bus {
    /// Attaches archives and replays on `store` (the bus's own database) and loads them.
    pub async fn attach_archives(&self, store: Arc<dyn ArchiveStore>) -> Result<()> {
        let mut entries = BTreeMap::new();
        for record in store.list_archives().await? {
            let pattern = record
                .event_pattern
                .as_deref()
                .and_then(|text| Pattern::parse(text).ok());
            entries.insert(record.name.clone(), (record, pattern));
        }
        let _ = self.inner.archives.set(Archives {
            store,
            entries: RwLock::new(entries),
        });
        Ok(())
    }

    fn archives(&self) -> Result<&Archives> {
        self.inner
            .archives
            .get()
            .ok_or_else(|| Error::validation("This server keeps no archives."))
    }

    /// `CreateArchive`: answers the archive.
    pub async fn create_archive(&self, input: ArchiveInput) -> Result<ArchiveRecord> {
        let archives = self.archives()?;
        check_archive_name(&input.name)?;
        let source_arn = input
            .event_source_arn
            .clone()
            .ok_or_else(|| Error::validation("EventSourceArn is required."))?;
        let bus = crate::bus_name(Some(&source_arn));
        if !source_arn.starts_with("arn:") || !self.read_catalog().buses.contains_key(&bus) {
            return Err(Error::not_found(format!("Event bus {bus} does not exist.")));
        }
        let pattern = parse_pattern(input.event_pattern.as_deref())?;
        let options = self.options();
        let record = ArchiveRecord {
            arn: format!(
                "arn:aws:events:{}:{}:archive/{}",
                options.region, options.account, input.name
            ),
            name: input.name,
            source_arn,
            bus,
            event_pattern: input.event_pattern,
            description: input.description,
            retention_days: input.retention_days.unwrap_or(0),
            created_millis: self.now().timestamp_millis(),
        };
        let _one = self.inner.changes.lock().await;
        match archives.store.create_archive(record.clone()).await {
            Err(sluice_store::Error::AlreadyExists { .. }) => {
                return Err(Error::ResourceAlreadyExists {
                    message: format!("Archive {} already exists.", record.name),
                });
            }
            other => other?,
        }
        archives.write().insert(record.name.clone(), (record.clone(), pattern));
        Ok(record)
    }

    /// `UpdateArchive`: replaces the description, pattern and retention given.
    pub async fn update_archive(&self, input: ArchiveInput) -> Result<ArchiveRecord> {
        let archives = self.archives()?;
        let _one = self.inner.changes.lock().await;
        let Some((mut record, mut pattern)) = archives.read().get(&input.name).cloned() else {
            return Err(archive_not_found(&input.name));
        };
        if let Some(text) = &input.event_pattern {
            pattern = parse_pattern(Some(text))?;
            record.event_pattern = Some(text.clone());
        }
        if let Some(description) = input.description {
            record.description = Some(description);
        }
        if let Some(days) = input.retention_days {
            record.retention_days = days;
        }
        archives.store.update_archive(record.clone()).await?;
        archives.write().insert(record.name.clone(), (record.clone(), pattern));
        Ok(record)
    }

    /// `DeleteArchive`.
    pub async fn delete_archive(&self, name: &str) -> Result<()> {
        let archives = self.archives()?;
        let _one = self.inner.changes.lock().await;
        if !archives.store.delete_archive(name).await? {
            return Err(archive_not_found(name));
        }
        archives.write().remove(name);
        Ok(())
    }

    /// `DescribeArchive`.
    pub async fn describe_archive(&self, name: &str) -> Result<ArchiveView> {
        let archives = self.archives()?;
        let record = archives
            .read()
            .get(name)
            .map(|(record, _)| record.clone())
            .ok_or_else(|| archive_not_found(name))?;
        let (event_count, size_bytes) = archives.store.archive_size(name).await?;
        Ok(ArchiveView {
            record,
            event_count,
            size_bytes,
        })
    }

    /// `ListArchives`, in name order.
    pub async fn list_archives(
        &self,
        prefix: Option<&str>,
        source_arn: Option<&str>,
        token: Option<&str>,
        limit: usize,
    ) -> Result<ListPage<ArchiveView>> {
        let archives = self.archives()?;
        let limit = limit.max(1);
        let mut records: Vec<ArchiveRecord> = archives
            .read()
            .values()
            .map(|(record, _)| record.clone())
            .filter(|record| prefix.is_none_or(|prefix| record.name.starts_with(prefix)))
            .filter(|record| source_arn.is_none_or(|arn| record.source_arn == arn))
            .filter(|record| token.is_none_or(|token| record.name.as_str() > token))
            .take(limit + 1)
            .collect();
        let next_token = if records.len() > limit {
            records.truncate(limit);
            records.last().map(|record| record.name.clone())
        } else {
            None
        };
        let mut items = Vec::with_capacity(records.len());
        for record in records {
            let (event_count, size_bytes) = archives.store.archive_size(&record.name).await?;
            items.push(ArchiveView {
                record,
                event_count,
                size_bytes,
            });
        }
        Ok(ListPage { items, next_token })
    }

    /// The archived events `PutEvents` writes for `event` on `bus`, beside its deliveries.
    pub(crate) fn archived_for(&self, bus: &str, event: &Value, now: DateTime<Utc>) -> Vec<ArchivedEvent> {
        let Some(archives) = self.inner.archives.get() else {
            return Vec::new();
        };
        let event_millis = event["time"]
            .as_str()
            .and_then(|time| DateTime::parse_from_rfc3339(time).ok())
            .map_or(now.timestamp_millis(), |time| time.timestamp_millis());
        archives
            .read()
            .values()
            .filter(|(record, pattern)| {
                record.bus == bus && pattern.as_ref().is_none_or(|pattern| pattern.matches(event))
            })
            .map(|(record, _)| ArchivedEvent {
                archive: record.name.clone(),
                sequence: 0,
                event_millis,
                archived_millis: now.timestamp_millis(),
                event: event.to_string(),
            })
            .collect()
    }

    /// Writes deliveries and archived events in one commit and wakes the delivery loop.
    pub(crate) async fn enqueue_with_archived(
        &self,
        deliveries: Vec<Delivery>,
        archived: Vec<ArchivedEvent>,
    ) -> Result<()> {
        match self.inner.archives.get() {
            Some(archives) if !archived.is_empty() => {
                archives.store.enqueue_archived(deliveries, archived).await?;
                self.inner.wake.notify_one();
                Ok(())
            }
            _ => self.enqueue(deliveries).await,
        }
    }

    /// `StartReplay`: answers the replay, `STARTING`.
    pub async fn start_replay(&self, input: ReplayInput) -> Result<ReplayRecord> {
        let archives = self.archives()?;
        check_archive_name(&input.name).map_err(|_| {
            Error::validation(format!(
                "Replay name '{}' is not valid: 1 to 64 letters, digits, '.', '-' or '_'.",
                input.name
            ))
        })?;
        let archive_name = input
            .event_source_arn
            .rsplit_once(":archive/")
            .map(|(_, name)| name.to_owned())
            .ok_or_else(|| {
                Error::validation(format!(
                    "Parameter EventSourceArn is not valid. Reason: {} is not an archive ARN.",
                    input.event_source_arn
                ))
            })?;
        let archive = archives
            .read()
            .get(&archive_name)
            .map(|(record, _)| record.clone())
            .ok_or_else(|| archive_not_found(&archive_name))?;
        if crate::bus_name(Some(&input.destination_arn)) != archive.bus || !input.destination_arn.starts_with("arn:") {
            return Err(Error::validation(
                "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.",
            ));
        }
        if input.event_start >= input.event_end {
            return Err(Error::validation(
                "Parameter EventStartTime is not valid. Reason: EventStartTime must be before EventEndTime.",
            ));
        }
        let options = self.options();
        let record = ReplayRecord {
            arn: format!(
                "arn:aws:events:{}:{}:replay/{}",
                options.region, options.account, input.name
            ),
            name: input.name,
            archive_arn: archive.arn,
            archive: archive.name,
            description: input.description,
            state: "STARTING".to_owned(),
            state_reason: None,
            event_start_millis: input.event_start.timestamp_millis(),
            event_end_millis: input.event_end.timestamp_millis(),
            destination_arn: input.destination_arn,
            filter_arns: input.filter_arns,
            replay_start_millis: self.now().timestamp_millis(),
            replay_end_millis: None,
            last_replayed_millis: None,
            position: 0,
        };
        match archives.store.create_replay(record.clone()).await {
            Err(sluice_store::Error::AlreadyExists { .. }) => Err(Error::ResourceAlreadyExists {
                message: format!("Replay {} already exists.", record.name),
            }),
            other => {
                other?;
                Ok(record)
            }
        }
    }

    /// `DescribeReplay`.
    pub async fn describe_replay(&self, name: &str) -> Result<ReplayRecord> {
        let archives = self.archives()?;
        archives
            .store
            .list_replays()
            .await?
            .into_iter()
            .find(|replay| replay.name == name)
            .ok_or_else(|| Error::not_found(format!("Replay {name} does not exist.")))
    }

    /// `ListReplays`, in name order.
    pub async fn list_replays(
        &self,
        prefix: Option<&str>,
        state: Option<&str>,
        source_arn: Option<&str>,
        token: Option<&str>,
        limit: usize,
    ) -> Result<ListPage<ReplayRecord>> {
        let archives = self.archives()?;
        let limit = limit.max(1);
        let mut items: Vec<ReplayRecord> = archives
            .store
            .list_replays()
            .await?
            .into_iter()
            .filter(|replay| prefix.is_none_or(|prefix| replay.name.starts_with(prefix)))
            .filter(|replay| state.is_none_or(|state| replay.state == state))
            .filter(|replay| source_arn.is_none_or(|arn| replay.archive_arn == arn))
            .filter(|replay| token.is_none_or(|token| replay.name.as_str() > token))
            .take(limit + 1)
            .collect();
        let next_token = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|replay| replay.name.clone())
        } else {
            None
        };
        Ok(ListPage { items, next_token })
    }

    /// `CancelReplay`: a starting or running replay becomes `CANCELLING`; `IllegalStatus`
    /// otherwise.
    pub async fn cancel_replay(&self, name: &str) -> Result<ReplayRecord> {
        let archives = self.archives()?;
        let _one = self.inner.changes.lock().await;
        let mut replay = self.describe_replay(name).await?;
        if replay.state != "STARTING" && replay.state != "RUNNING" {
            return Err(Error::IllegalStatus {
                message: format!("Replay {name} is {} and cannot be cancelled.", replay.state),
            });
        }
        replay.state = "CANCELLING".to_owned();
        replay.state_reason = Some("Cancelled by CancelReplay.".to_owned());
        archives.store.update_replay(replay.clone()).await?;
        Ok(replay)
    }

    /// Moves every unfinished replay one step; answers how many events were replayed.
    pub async fn replay_due(&self) -> Result<usize> {
        let Some(archives) = self.inner.archives.get() else {
            return Ok(0);
        };
        let mut replayed = 0;
        for mut replay in archives.store.list_replays().await? {
            let now = self.now().timestamp_millis();
            match replay.state.as_str() {
                "STARTING" => {
                    replay.state = "RUNNING".to_owned();
                    archives.store.update_replay(replay).await?;
                }
                "CANCELLING" => {
                    replay.state = "CANCELLED".to_owned();
                    replay.replay_end_millis = Some(now);
                    archives.store.update_replay(replay).await?;
                }
                "RUNNING" => {
                    let events = archives
                        .store
                        .archived_events(
                            &replay.archive,
                            replay.position,
                            replay.event_start_millis,
                            replay.event_end_millis,
                            STEP,
                        )
                        .await?;
                    let Some(last) = events.last() else {
                        replay.state = "COMPLETED".to_owned();
                        replay.replay_end_millis = Some(now);
                        archives.store.update_replay(replay).await?;
                        continue;
                    };
                    let step = ReplayStep {
                        name: replay.name.clone(),
                        expected_position: replay.position,
                        position: last.sequence,
                        last_replayed_millis: events.iter().map(|event| event.event_millis).max(),
                        deliveries: self.replayed_deliveries(&replay, &events),
                    };
                    let count = step.deliveries.len();
                    if archives.store.advance_replay(step).await? {
                        replayed += events.len();
                        if count > 0 {
                            self.inner.wake.notify_one();
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(replayed)
    }

    /// The deliveries of archived events replayed to the replay's bus and rules.
    fn replayed_deliveries(&self, replay: &ReplayRecord, events: &[ArchivedEvent]) -> Vec<Delivery> {
        let bus = crate::bus_name(Some(&replay.destination_arn));
        let now = self.now();
        let catalog = self.read_catalog();
        let Some(entry) = catalog.buses.get(&bus) else {
            return Vec::new();
        };
        let mut deliveries = Vec::new();
        for archived in events {
            let Ok(mut event) = serde_json::from_str::<Value>(&archived.event) else {
                continue;
            };
            if let Value::Object(members) = &mut event {
                members.insert("replay-name".to_owned(), Value::from(replay.name.clone()));
            }
            for name in entry.matcher.matching(&event) {
                let Some(rule) = entry.rules.get(name) else {
                    continue;
                };
                if replay.filter_arns.is_empty() || replay.filter_arns.contains(&rule.record.arn) {
                    deliveries.extend(self.deliveries(rule, &event, now));
                }
            }
        }
        deliveries
    }

    pub(crate) async fn run_replays(self) {
        loop {
            match self.replay_due().await {
                Ok(count) if count > 0 => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!("replaying archived events failed: {error}"),
            }
            if let Some(archives) = self.inner.archives.get()
                && let Err(error) = archives.store.expire_archived(self.now().timestamp_millis()).await
            {
                tracing::warn!("expiring archived events failed: {error}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }
}

impl Archives {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries> {
        self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Entries> {
        self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn parse_pattern(text: Option<&str>) -> Result<Option<Pattern>> {
    text.map(|text| {
        Pattern::parse(text).map_err(|error| Error::InvalidEventPattern {
            message: crate::control::pattern_message(&error),
        })
    })
    .transpose()
}

fn archive_not_found(name: &str) -> Error {
    Error::not_found(format!("Archive {name} does not exist."))
}

fn check_archive_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 48
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || matches!(character, '.' | '-' | '_'));
    if !valid {
        return Err(Error::validation(format!(
            "Archive name '{name}' is not valid: 1 to 48 letters, digits, '.', '-' or '_'."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
