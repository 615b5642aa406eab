//! Creating, replacing, reading, listing and deleting schedules: each change is checked whole,
//! written to the store, then to the in-memory catalog, one change at a time.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sluice_store::bus::ScheduleRecord;

use super::timing::{self, Expression, Timing};
use super::{DEFAULT_GROUP, Definition, ScheduleEntry};
use crate::control::ListPage;
use crate::target::{DEFAULT_MAXIMUM_EVENT_AGE_SECONDS, DEFAULT_MAXIMUM_RETRY_ATTEMPTS, Destination};
use crate::{Bus, Error, Result};

/// `CreateSchedule`'s and `UpdateSchedule`'s parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleInput {
    /// The schedule's name.
    pub name: String,
    /// Its group (`default` when absent).
    pub group: Option<String>,
    /// Its settings.
    pub definition: Definition,
    /// `ENABLED` (true, the default) or `DISABLED`.
    pub enabled: bool,
}

/// A schedule as `GetSchedule` and `ListSchedules` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleView {
    /// As stored.
    pub record: ScheduleRecord,
    /// Its settings.
    pub definition: Definition,
}

impl Bus {
    /// `CreateSchedule`: answers the schedule's ARN; `Conflict` when the name is taken.
    pub async fn create_schedule(&self, input: ScheduleInput) -> Result<String> {
        let _one = self.inner.changes.lock().await;
        let entry = self.schedule_entry(input, None)?;
        match self.inner.store.create_schedule(entry.record.clone()).await {
            Err(sluice_store::Error::AlreadyExists { .. }) => {
                return Err(Error::Conflict {
                    message: format!("Schedule {} already exists.", entry.record.name),
                });
            }
            other => other?,
        }
        let arn = entry.record.arn.clone();
        self.write_catalog().set_schedule(entry);
        Ok(arn)
    }

    /// `UpdateSchedule`: replaces every setting of an existing schedule; answers its ARN.
    pub async fn update_schedule(&self, input: ScheduleInput) -> Result<String> {
        let _one = self.inner.changes.lock().await;
        let group = group_of(input.group.as_deref())?;
        let Some(existing) = self.read_catalog().schedules.get(&(group, input.name.clone())).cloned() else {
            return Err(schedule_not_found(&input.name));
        };
        let entry = self.schedule_entry(input, Some(existing.record.created_millis))?;
        match self.inner.store.update_schedule(entry.record.clone()).await {
            Err(sluice_store::Error::NotFound { .. }) => return Err(schedule_not_found(&entry.record.name)),
            other => other?,
        }
        let arn = entry.record.arn.clone();
        self.write_catalog().set_schedule(entry);
        Ok(arn)
    }

    /// `DeleteSchedule`.
    pub async fn delete_schedule(&self, group: Option<&str>, name: &str) -> Result<()> {
        let group = group_of(group)?;
        let _one = self.inner.changes.lock().await;
        if !self.inner.store.delete_schedule(&group, name).await? {
            return Err(schedule_not_found(name));
        }
        self.write_catalog().schedules.remove(&(group, name.to_owned()));
        Ok(())
    }

    /// `GetSchedule`.
    pub fn get_schedule(&self, group: Option<&str>, name: &str) -> Result<ScheduleView> {
        let group = group_of(group)?;
        self.read_catalog()
            .schedules
            .get(&(group, name.to_owned()))
            .map(ScheduleEntry::view)
            .ok_or_else(|| schedule_not_found(name))
    }

    /// `ListSchedules`, in (group, name) order.
    pub fn list_schedules(
        &self,
        group: Option<&str>,
        prefix: Option<&str>,
        enabled: Option<bool>,
        token: Option<&str>,
        limit: usize,
    ) -> Result<ListPage<ScheduleView>> {
        if let Some(group) = group {
            group_of(Some(group))?;
        }
        let limit = limit.max(1);
        let catalog = self.read_catalog();
        let mut items: Vec<ScheduleView> = catalog
            .schedules
            .values()
            .filter(|entry| prefix.is_none_or(|prefix| entry.record.name.starts_with(prefix)))
            .filter(|entry| enabled.is_none_or(|enabled| entry.record.enabled == enabled))
            .filter(|entry| token.is_none_or(|token| page_key(&entry.record).as_str() > token))
            .take(limit + 1)
            .map(ScheduleEntry::view)
            .collect();
        let next_token = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|view| page_key(&view.record))
        } else {
            None
        };
        Ok(ListPage { items, next_token })
    }

    /// Checks `input` whole and makes the entry to store; `created_millis` is kept on update.
    pub(crate) fn schedule_entry(&self, input: ScheduleInput, created_millis: Option<i64>) -> Result<ScheduleEntry> {
        let group = group_of(input.group.as_deref())?;
        check_name(&input.name)?;
        let now = self.now();
        let timing = timing_of(&input.definition, now)?;
        self.check_definition(&input.definition, &timing)?;
        let options = self.options();
        let now_millis = now.timestamp_millis();
        let next_fire_millis = if input.enabled {
            timing.first(now).map(|time| time.timestamp_millis())
        } else {
            None
        };
        let definition_text = serde_json::to_string(&input.definition)
            .map_err(|error| Error::validation(format!("The schedule cannot be stored: {error}")))?;
        Ok(ScheduleEntry {
            record: ScheduleRecord {
                arn: format!(
                    "arn:aws:scheduler:{}:{}:schedule/{group}/{}",
                    options.region, options.account, input.name
                ),
                group,
                name: input.name,
                definition: definition_text,
                enabled: input.enabled,
                created_millis: created_millis.unwrap_or(now_millis),
                modified_millis: now_millis,
                next_fire_millis,
            },
            definition: input.definition,
            timing,
        })
    }

    fn check_definition(&self, definition: &Definition, timing: &Timing) -> Result<()> {
        if let (Some(start), Some(end)) = (timing.start, timing.end)
            && !timing.expression.is_one_time()
            && end <= start
        {
            return Err(Error::validation(
                "The EndDate you specify must be after the StartDate.",
            ));
        }
        if definition
            .description
            .as_ref()
            .is_some_and(|text| text.chars().count() > 512)
        {
            return Err(Error::validation("Description must be at most 512 characters."));
        }
        let window = &definition.flexible_time_window;
        match (window.mode.as_str(), window.maximum_window_in_minutes) {
            ("OFF", None) => {}
            ("OFF", Some(_)) => {
                return Err(Error::validation(
                    "FlexibleTimeWindow.MaximumWindowInMinutes is allowed only when Mode is FLEXIBLE.",
                ));
            }
            ("FLEXIBLE", Some(1..=1440)) => {}
            ("FLEXIBLE", _) => {
                return Err(Error::validation(
                    "FlexibleTimeWindow.MaximumWindowInMinutes must be between 1 and 1440 when Mode is FLEXIBLE.",
                ));
            }
            (other, _) => {
                return Err(Error::validation(format!(
                    "FlexibleTimeWindow.Mode '{other}' is not valid: give OFF or FLEXIBLE."
                )));
            }
        }
        if let Some(action) = &definition.action_after_completion
            && action != "NONE"
            && action != "DELETE"
        {
            return Err(Error::validation(format!(
                "ActionAfterCompletion '{action}' is not valid: give NONE or DELETE."
            )));
        }
        self.check_schedule_target(definition)
    }

    fn check_schedule_target(&self, definition: &Definition) -> Result<()> {
        let target = &definition.target;
        if let Some(policy) = &target.retry_policy {
            if policy
                .maximum_retry_attempts
                .is_some_and(|attempts| attempts > DEFAULT_MAXIMUM_RETRY_ATTEMPTS)
            {
                return Err(Error::validation(
                    "Target.RetryPolicy.MaximumRetryAttempts must be between 0 and 185.",
                ));
            }
            if policy
                .maximum_event_age_in_seconds
                .is_some_and(|age| !(60..=DEFAULT_MAXIMUM_EVENT_AGE_SECONDS).contains(&age))
            {
                return Err(Error::validation(
                    "Target.RetryPolicy.MaximumEventAgeInSeconds must be between 60 and 86400.",
                ));
            }
        }
        self.check_destination(&target.arn)
            .map_err(|message| Error::validation(message.replace("Target Arn", "Target.Arn")))?;
        let destination = Destination::of(&target.arn);
        let input = target.input.as_deref().map(strip_attributes);
        match (&destination, &input) {
            (Destination::Other | Destination::LogGroup(_), _) | (_, None) => {}
            (Destination::Bus(_), Some(text)) => {
                if !matches!(serde_json::from_str::<Value>(text), Ok(Value::Object(_))) {
                    return Err(Error::validation(
                        "Target.Input must be a JSON object for an event bus target: it becomes the event's detail.",
                    ));
                }
            }
            (_, Some(text)) => {
                if serde_json::from_str::<Value>(text).is_err() {
                    return Err(Error::validation(
                        "Target.Input must be JSON for a state machine or function target.",
                    ));
                }
            }
        }
        if matches!(destination, Destination::Bus(_)) && target.event_bridge_parameters.is_none() {
            return Err(Error::validation(
                "Target.EventBridgeParameters (DetailType and Source) are required for an event bus target.",
            ));
        }
        if let Some(parameters) = &target.event_bridge_parameters
            && (parameters.detail_type.is_empty()
                || parameters.detail_type.chars().count() > 128
                || parameters.source.is_empty()
                || parameters.source.chars().count() > 256)
        {
            return Err(Error::validation(
                "Target.EventBridgeParameters: DetailType must have 1 to 128 characters and Source 1 to 256.",
            ));
        }
        Ok(())
    }
}

impl ScheduleEntry {
    /// The entry of a stored schedule; `None` (logged) when what is stored cannot be read.
    pub(crate) fn of_record(record: ScheduleRecord) -> Option<ScheduleEntry> {
        let definition: Definition = match serde_json::from_str(&record.definition) {
            Ok(definition) => definition,
            Err(error) => {
                tracing::error!(schedule = %record.arn, "a stored schedule cannot be read: {error}");
                return None;
            }
        };
        let written = DateTime::<Utc>::from_timestamp_millis(record.modified_millis).unwrap_or_default();
        match timing_of(&definition, written) {
            Ok(timing) => Some(ScheduleEntry {
                record,
                definition,
                timing,
            }),
            Err(error) => {
                tracing::error!(schedule = %record.arn, "a stored schedule cannot be read: {error}");
                None
            }
        }
    }

    fn view(&self) -> ScheduleView {
        ScheduleView {
            record: self.record.clone(),
            definition: self.definition.clone(),
        }
    }
}

/// The timing of a definition written at `written`.
fn timing_of(definition: &Definition, written: DateTime<Utc>) -> Result<Timing> {
    let expression = Expression::parse(&definition.schedule_expression).map_err(Error::validation)?;
    let zone = timing::zone(definition.schedule_expression_timezone.as_deref()).map_err(Error::validation)?;
    let date = |millis: Option<i64>, member: &str| -> Result<Option<DateTime<Utc>>> {
        millis
            .map(|millis| {
                DateTime::<Utc>::from_timestamp_millis(millis)
                    .ok_or_else(|| Error::validation(format!("{member} is out of range.")))
            })
            .transpose()
    };
    Ok(Timing {
        expression,
        zone,
        start: date(definition.start_date, "StartDate")?,
        end: date(definition.end_date, "EndDate")?,
        written,
    })
}

/// The input with its `<aws.scheduler.*>` attributes replaced by a stand-in, to check its JSON.
fn strip_attributes(input: &str) -> String {
    super::fire::fill_attributes(input, "a", "2000-01-01T00:00:00Z", "e")
}

/// The group name; only `default` exists.
fn group_of(group: Option<&str>) -> Result<String> {
    match group {
        None | Some(DEFAULT_GROUP) => Ok(DEFAULT_GROUP.to_owned()),
        Some(other) => Err(Error::not_found(format!("Schedule group {other} does not exist."))),
    }
}

fn check_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.'));
    if !valid {
        return Err(Error::validation(format!(
            "Schedule name '{name}' is not valid: 1 to 64 letters, digits, '.', '-' or '_'."
        )));
    }
    Ok(())
}

fn schedule_not_found(name: &str) -> Error {
    Error::not_found(format!("Schedule {name} does not exist."))
}

fn page_key(record: &ScheduleRecord) -> String {
    format!("{}/{}", record.group, record.name)
}
