//! The bus's in-memory view of what is stored: buses, their rules (with the parsed pattern and
//! schedule) and targets, and one compiled matcher per bus over its enabled pattern rules.

use std::collections::BTreeMap;

use sluice_patterns::{Pattern, RuleSet};
use sluice_store::BusStore;
use sluice_store::bus::{BusRecord, RuleRecord};

use crate::Result;
use crate::schedule::Schedule;
use crate::scheduler::ScheduleEntry;
use crate::target::Target;

/// Everything, by bus name.
#[derive(Debug, Default)]
pub struct Catalog {
    pub buses: BTreeMap<String, BusEntry>,
    /// EventBridge Scheduler's schedules, by (group, name).
    pub schedules: BTreeMap<(String, String), ScheduleEntry>,
}

/// One bus.
#[derive(Debug)]
pub struct BusEntry {
    pub record: BusRecord,
    pub rules: BTreeMap<String, RuleEntry>,
    /// The enabled rules with a pattern, by name.
    pub matcher: RuleSet<String>,
}

/// One rule.
#[derive(Debug, Clone)]
pub struct RuleEntry {
    pub record: RuleRecord,
    pub pattern: Option<Pattern>,
    pub schedule: Option<Schedule>,
    pub targets: BTreeMap<String, Target>,
}

impl Catalog {
    /// Reads every bus, rule and target.
    pub async fn load(store: &dyn BusStore) -> Result<Catalog> {
        let mut catalog = Catalog::default();
        for record in store.list_buses().await? {
            catalog.add_bus(record);
        }
        for record in store.list_rules(None).await? {
            let mut targets = BTreeMap::new();
            for stored in store.targets(&record.bus, &record.name).await? {
                match serde_json::from_str::<Target>(&stored.definition) {
                    Ok(target) => {
                        targets.insert(target.id.clone(), target);
                    }
                    Err(error) => {
                        tracing::error!(bus = %record.bus, rule = %record.name, target = %stored.id, "a stored target cannot be read: {error}");
                    }
                }
            }
            let pattern = record
                .event_pattern
                .as_deref()
                .and_then(|text| Pattern::parse(text).ok());
            let schedule = record.schedule.as_deref().and_then(|text| Schedule::parse(text).ok());
            catalog.set_rule(RuleEntry {
                record,
                pattern,
                schedule,
                targets,
            });
        }
        for record in store.list_schedules().await? {
            if let Some(entry) = ScheduleEntry::of_record(record) {
                catalog.set_schedule(entry);
            }
        }
        Ok(catalog)
    }

    /// Adds or replaces a schedule.
    pub fn set_schedule(&mut self, entry: ScheduleEntry) {
        let key = (entry.record.group.clone(), entry.record.name.clone());
        self.schedules.insert(key, entry);
    }

    /// Adds a bus with no rules.
    pub fn add_bus(&mut self, record: BusRecord) {
        self.buses.insert(
            record.name.clone(),
            BusEntry {
                record,
                rules: BTreeMap::new(),
                matcher: RuleSet::new(),
            },
        );
    }

    /// Adds or replaces a rule (keeping nothing of the old one), and its place in the matcher.
    pub fn set_rule(&mut self, rule: RuleEntry) {
        let Some(bus) = self.buses.get_mut(&rule.record.bus) else {
            return;
        };
        let name = rule.record.name.clone();
        match (&rule.pattern, rule.record.enabled) {
            (Some(pattern), true) => {
                bus.matcher.insert(name.clone(), pattern.clone());
            }
            _ => {
                bus.matcher.remove(&name);
            }
        }
        bus.rules.insert(name, rule);
    }

    /// Removes a rule.
    pub fn remove_rule(&mut self, bus: &str, name: &str) {
        if let Some(bus) = self.buses.get_mut(bus) {
            bus.matcher.remove(&name.to_owned());
            bus.rules.remove(name);
        }
    }

    /// A rule.
    pub fn rule(&self, bus: &str, name: &str) -> Option<&RuleEntry> {
        self.buses.get(bus)?.rules.get(name)
    }

    /// A rule, to change.
    pub fn rule_mut(&mut self, bus: &str, name: &str) -> Option<&mut RuleEntry> {
        self.buses.get_mut(bus)?.rules.get_mut(name)
    }
}
