//! The control plane: buses, rules and targets. Each change is written to the store first, then
//! to the in-memory catalog, one change at a time.

use std::collections::BTreeMap;

use sluice_patterns::Pattern;
use sluice_store::bus::{BusRecord, Deleted, RuleRecord, TargetRecord};

use crate::catalog::RuleEntry;
use crate::schedule::Schedule;
use crate::target::{Destination, Target, is_name_character};
use crate::{Bus, DEFAULT_BUS, Error, Result};

/// The most targets a rule may have.
pub const MAX_TARGETS: usize = 5;

/// `ENABLED` or `DISABLED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleState {
    /// The rule matches events and fires.
    Enabled,
    /// The rule does nothing.
    Disabled,
}

impl RuleState {
    /// AWS's name.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleState::Enabled => "ENABLED",
            RuleState::Disabled => "DISABLED",
        }
    }
}

/// `PutRule`'s parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInput {
    /// The rule's name.
    pub name: String,
    /// The bus (name or ARN; `default` when absent).
    pub bus: Option<String>,
    /// The event pattern, as JSON text.
    pub event_pattern: Option<String>,
    /// `rate(...)` or `cron(...)`.
    pub schedule: Option<String>,
    /// `ENABLED` (default) or `DISABLED`.
    pub state: Option<RuleState>,
    /// The description.
    pub description: Option<String>,
    /// The role (kept, not used).
    pub role_arn: Option<String>,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts, if there is one.
    pub next_token: Option<String>,
}

/// A target `PutTargets` or `RemoveTargets` could not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutTargetsFailure {
    /// The target's id.
    pub target_id: String,
    /// AWS's error code.
    pub error_code: String,
    /// Why.
    pub error_message: String,
}

impl Bus {
    /// `CreateEventBus`.
    pub async fn create_event_bus(&self, name: &str) -> Result<BusRecord> {
        check_bus_name(name)?;
        let _one = self.inner.changes.lock().await;
        let record = BusRecord {
            name: name.to_owned(),
            arn: self.bus_arn(name),
            created_millis: self.now().timestamp_millis(),
        };
        match self.inner.store.create_bus(record.clone()).await {
            Err(sluice_store::Error::AlreadyExists { .. }) => {
                return Err(Error::ResourceAlreadyExists {
                    message: format!("Event bus {name} already exists."),
                });
            }
            other => other?,
        }
        self.write_catalog().add_bus(record.clone());
        Ok(record)
    }

    /// `DeleteEventBus`: a bus that does not exist is no error; `default` cannot be deleted, nor
    /// a bus whose rules remain.
    pub async fn delete_event_bus(&self, name: &str) -> Result<()> {
        let name = crate::bus_name(Some(name));
        if name == DEFAULT_BUS {
            return Err(Error::validation("Cannot delete event bus default."));
        }
        let _one = self.inner.changes.lock().await;
        match self.inner.store.delete_bus(&name).await? {
            Deleted::InUse => Err(Error::validation(format!(
                "Event bus {name} still has rules; delete them first."
            ))),
            Deleted::Deleted | Deleted::Missing => {
                self.write_catalog().buses.remove(&name);
                Ok(())
            }
        }
    }

    /// `DescribeEventBus`.
    pub fn describe_event_bus(&self, name: Option<&str>) -> Result<BusRecord> {
        let name = crate::bus_name(name);
        self.read_catalog()
            .buses
            .get(&name)
            .map(|bus| bus.record.clone())
            .ok_or_else(|| Error::not_found(format!("Event bus {name} does not exist.")))
    }

    /// `ListEventBuses`, in name order.
    pub fn list_event_buses(&self, prefix: Option<&str>, token: Option<&str>, limit: usize) -> ListPage<BusRecord> {
        let catalog = self.read_catalog();
        page(
            catalog.buses.values().map(|bus| &bus.record),
            |bus| &bus.name,
            prefix,
            token,
            limit,
        )
    }

    /// `PutRule`: creates or replaces a rule (its targets stay); answers its ARN.
    pub async fn put_rule(&self, input: RuleInput) -> Result<String> {
        let bus = crate::bus_name(input.bus.as_deref());
        check_rule_name(&input.name)?;
        let pattern = match &input.event_pattern {
            Some(text) => Some(Pattern::parse(text).map_err(|error| Error::InvalidEventPattern {
                message: pattern_message(&error),
            })?),
            None => None,
        };
        let schedule = match &input.schedule {
            Some(text) => Some(Schedule::parse(text).map_err(Error::validation)?),
            None => None,
        };
        if pattern.is_none() && schedule.is_none() {
            return Err(Error::validation(
                "Parameter(s) EventPattern or ScheduleExpression must be specified.",
            ));
        }
        if schedule.is_some() && bus != DEFAULT_BUS {
            return Err(Error::validation(
                "ScheduleExpression is supported only on the default event bus.",
            ));
        }
        if input
            .description
            .as_ref()
            .is_some_and(|text| text.chars().count() > 512)
        {
            return Err(Error::validation("Description must be at most 512 characters."));
        }
        let _one = self.inner.changes.lock().await;
        if !self.read_catalog().buses.contains_key(&bus) {
            return Err(Error::not_found(format!("Event bus {bus} does not exist.")));
        }
        let enabled = input.state != Some(RuleState::Disabled);
        let now = self.now();
        let next_fire_millis = match (&schedule, enabled) {
            (Some(schedule), true) => schedule.next_after(now, now).map(|time| time.timestamp_millis()),
            _ => None,
        };
        let record = RuleRecord {
            bus: bus.clone(),
            name: input.name.clone(),
            arn: self.rule_arn(&bus, &input.name),
            event_pattern: input.event_pattern,
            schedule: input.schedule,
            enabled,
            description: input.description,
            role_arn: input.role_arn,
            next_fire_millis,
        };
        self.inner.store.put_rule(record.clone()).await?;
        let arn = record.arn.clone();
        let mut catalog = self.write_catalog();
        let targets = catalog
            .rule(&bus, &input.name)
            .map(|rule| rule.targets.clone())
            .unwrap_or_default();
        catalog.set_rule(RuleEntry {
            record,
            pattern,
            schedule,
            targets,
        });
        Ok(arn)
    }

    /// `DeleteRule`: a rule that does not exist is no error; one with targets is refused.
    pub async fn delete_rule(&self, bus: Option<&str>, name: &str) -> Result<()> {
        let bus = crate::bus_name(bus);
        let _one = self.inner.changes.lock().await;
        match self.inner.store.delete_rule(&bus, name).await? {
            Deleted::InUse => Err(Error::validation("Rule can't be deleted since it has targets.")),
            Deleted::Deleted | Deleted::Missing => {
                self.write_catalog().remove_rule(&bus, name);
                Ok(())
            }
        }
    }

    /// `DescribeRule`.
    pub fn describe_rule(&self, bus: Option<&str>, name: &str) -> Result<RuleRecord> {
        let bus = crate::bus_name(bus);
        self.read_catalog()
            .rule(&bus, name)
            .map(|rule| rule.record.clone())
            .ok_or_else(|| rule_not_found(&bus, name))
    }

    /// `ListRules`, in name order.
    pub fn list_rules(
        &self,
        bus: Option<&str>,
        prefix: Option<&str>,
        token: Option<&str>,
        limit: usize,
    ) -> Result<ListPage<RuleRecord>> {
        let bus = crate::bus_name(bus);
        let catalog = self.read_catalog();
        let entry = catalog
            .buses
            .get(&bus)
            .ok_or_else(|| Error::not_found(format!("Event bus {bus} does not exist.")))?;
        Ok(page(
            entry.rules.values().map(|rule| &rule.record),
            |rule| &rule.name,
            prefix,
            token,
            limit,
        ))
    }

    /// `EnableRule` and `DisableRule`.
    pub async fn set_rule_state(&self, bus: Option<&str>, name: &str, state: RuleState) -> Result<()> {
        let bus = crate::bus_name(bus);
        let _one = self.inner.changes.lock().await;
        let Some(mut rule) = self.read_catalog().rule(&bus, name).cloned() else {
            return Err(rule_not_found(&bus, name));
        };
        let enabled = state == RuleState::Enabled;
        if rule.record.enabled == enabled {
            return Ok(());
        }
        rule.record.enabled = enabled;
        let now = self.now();
        rule.record.next_fire_millis = match (&rule.schedule, enabled) {
            (Some(schedule), true) => schedule.next_after(now, now).map(|time| time.timestamp_millis()),
            _ => None,
        };
        self.inner.store.put_rule(rule.record.clone()).await?;
        self.write_catalog().set_rule(rule);
        Ok(())
    }

    /// `PutTargets`: adds or replaces targets by id; answers the ones refused.
    pub async fn put_targets(
        &self,
        bus: Option<&str>,
        rule: &str,
        targets: Vec<Target>,
    ) -> Result<Vec<PutTargetsFailure>> {
        let bus = crate::bus_name(bus);
        let _one = self.inner.changes.lock().await;
        let Some(mut entry) = self.read_catalog().rule(&bus, rule).cloned() else {
            return Err(rule_not_found(&bus, rule));
        };
        for target in &targets {
            target.check_sqs_parameters().map_err(Error::validation)?;
        }
        let mut failures = Vec::new();
        let mut accepted: BTreeMap<String, Target> = BTreeMap::new();
        for target in targets {
            let checked = target.check().and_then(|()| self.check_destination(&target.arn));
            match checked {
                Ok(()) => {
                    accepted.insert(target.id.clone(), target);
                }
                Err(message) => failures.push(PutTargetsFailure {
                    target_id: target.id.clone(),
                    error_code: "ValidationException".to_owned(),
                    error_message: message,
                }),
            }
        }
        let mut all = entry.targets.clone();
        all.extend(accepted.clone());
        if all.len() > MAX_TARGETS {
            return Err(Error::Validation {
                message: format!("A rule can have at most {MAX_TARGETS} targets."),
            });
        }
        let records = accepted
            .values()
            .map(|target| {
                Ok(TargetRecord {
                    bus: bus.clone(),
                    rule: rule.to_owned(),
                    id: target.id.clone(),
                    arn: target.arn.clone(),
                    definition: serde_json::to_string(target)
                        .map_err(|error| Error::validation(format!("Target {}: {error}", target.id)))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if !records.is_empty() {
            self.inner.store.put_targets(records).await?;
        }
        entry.targets = all;
        self.write_catalog().set_rule(entry);
        Ok(failures)
    }

    /// `RemoveTargets`: answers the ids that were not targets of the rule.
    pub async fn remove_targets(
        &self,
        bus: Option<&str>,
        rule: &str,
        ids: Vec<String>,
    ) -> Result<Vec<PutTargetsFailure>> {
        let bus = crate::bus_name(bus);
        let _one = self.inner.changes.lock().await;
        let Some(mut entry) = self.read_catalog().rule(&bus, rule).cloned() else {
            return Err(rule_not_found(&bus, rule));
        };
        let removed = self.inner.store.remove_targets(&bus, rule, ids.clone()).await?;
        let failures = ids
            .into_iter()
            .filter(|id| !removed.contains(id))
            .map(|id| PutTargetsFailure {
                error_message: format!("Target {id} is not a target of rule {rule}."),
                target_id: id,
                error_code: "ResourceNotFoundException".to_owned(),
            })
            .collect();
        for id in &removed {
            entry.targets.remove(id);
        }
        self.write_catalog().set_rule(entry);
        Ok(failures)
    }

    /// `ListTargetsByRule`, in id order.
    pub fn list_targets_by_rule(
        &self,
        bus: Option<&str>,
        rule: &str,
        token: Option<&str>,
        limit: usize,
    ) -> Result<ListPage<Target>> {
        let bus = crate::bus_name(bus);
        let catalog = self.read_catalog();
        let entry = catalog.rule(&bus, rule).ok_or_else(|| rule_not_found(&bus, rule))?;
        Ok(page(entry.targets.values(), |target| &target.id, None, token, limit))
    }

    /// Whether events can be delivered to `arn`.
    pub(crate) fn check_destination(&self, arn: &str) -> Result<(), String> {
        match crate::target::Destination::of(arn) {
            Destination::StateMachine(_) | Destination::Function(_) | Destination::Bus(_) => Ok(()),
            Destination::LogGroup(_) if self.logs().is_some() => Ok(()),
            Destination::LogGroup(_) => Err(format!(
                "Target Arn '{arn}' is not supported: this server keeps no logs."
            )),
            Destination::Other if self.inner.sink.as_ref().is_some_and(|sink| sink.accepts(arn)) => Ok(()),
            Destination::Other => Err(format!(
                "Target Arn '{arn}' is not supported: Sluice delivers to state machines, functions, event buses and log groups{}.",
                if self.inner.sink.is_some() {
                    ", and to the queues this server runs"
                } else {
                    ""
                }
            )),
        }
    }

    pub(crate) fn read_catalog(&self) -> std::sync::RwLockReadGuard<'_, crate::catalog::Catalog> {
        self.inner
            .catalog
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn write_catalog(&self) -> std::sync::RwLockWriteGuard<'_, crate::catalog::Catalog> {
        self.inner
            .catalog
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A pattern error as EventBridge words it: every problem, each with its JSON pointer.
pub(crate) fn pattern_message(error: &sluice_patterns::Error) -> String {
    let diagnostics = error.diagnostics();
    if diagnostics.is_empty() {
        return format!("Event pattern is not valid. Reason: {error}");
    }
    let reasons: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    format!("Event pattern is not valid. Reason: {}", reasons.join("; "))
}

fn rule_not_found(bus: &str, name: &str) -> Error {
    Error::not_found(format!("Rule {name} does not exist on EventBus {bus}."))
}

fn check_bus_name(name: &str) -> Result<()> {
    if name == DEFAULT_BUS {
        return Err(Error::ResourceAlreadyExists {
            message: "Event bus default already exists.".to_owned(),
        });
    }
    let valid = !name.is_empty()
        && name.len() <= 256
        && name.chars().all(|c| is_name_character(c) || c == '/')
        && !name.starts_with("aws.");
    if !valid {
        return Err(Error::validation(format!(
            "Event bus name '{name}' is not valid: 1 to 256 letters, digits, '.', '-', '_' or '/', not starting with 'aws.'."
        )));
    }
    Ok(())
}

/// Checks a rule name as AWS does.
pub(crate) fn check_rule_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(is_name_character) {
        return Err(Error::validation(format!(
            "Rule name '{name}' is not valid: 1 to 64 letters, digits, '.', '-' or '_'."
        )));
    }
    Ok(())
}

/// One page of `items` (in key order) whose keys start with `prefix`, after the key `token`.
fn page<'a, T: Clone + 'a>(
    items: impl Iterator<Item = &'a T>,
    key: impl Fn(&T) -> &String,
    prefix: Option<&str>,
    token: Option<&str>,
    limit: usize,
) -> ListPage<T> {
    let mut selected: Vec<T> = items
        .filter(|item| prefix.is_none_or(|prefix| key(item).starts_with(prefix)))
        .filter(|item| token.is_none_or(|token| key(item).as_str() > token))
        .take(limit.max(1) + 1)
        .cloned()
        .collect();
    let next_token = if selected.len() > limit.max(1) {
        selected.truncate(limit.max(1));
        selected.last().map(|item| key(item).clone())
    } else {
        None
    };
    ListPage {
        items: selected,
        next_token,
    }
}
