//! The event bus's part of an app's `sluice.toml`: buses, rules and their targets.
//!
//! ```toml
//! [buses.orders]                                   # a bus besides `default`
//!
//! [rules.new-order]
//! bus = "orders"                                   # `default` when absent
//! pattern = { source = ["shop"], detail-type = ["OrderPlaced"] }
//! targets = [
//!   { state_machine = "process-order" },           # a state machine of this server
//!   { function = "notify", input_path = "$.detail" },
//! ]
//!
//! [rules.rotate]
//! schedule = "rate(6 hours)"                       # or "cron(0 12 * * ? *)"; default bus only
//! enabled = true
//! targets = [{ id = "rotate", state_machine = "rotate-batch", input = '{"force": false}' }]
//! ```
//!
//! A target names one of `state_machine`, `function`, `log_group` (appended to, created on first
//! use) or `arn`, and may add `id` (its name by
//! default), `input`, `input_path`, `input_transformer = { paths = {…}, template = "…" }`,
//! `maximum_retry_attempts`, `maximum_event_age_seconds`, `dead_letter_arn` and
//! `message_group_id`. [`Bus::plan_app`] checks everything without changing anything, so that the
//! deployment stays all-or-nothing; [`Bus::apply_app`] then applies the plan, and a redeploy
//! removes the targets a rule no longer declares.
//!
//! EventBridge Scheduler's schedules (one target each, in a time zone):
//!
//! ```toml
//! [schedules.nightly-report]
//! expression = "cron(0 2 * * ? *)"                 # or "rate(1 hour)", "at(2026-12-01T10:00:00)"
//! timezone = "Europe/Berlin"                       # an IANA name; UTC when absent
//! target = { state_machine = "report" }            # or function, arn, or
//!                                                  # { bus = "orders", detail_type = "…", source = "…" }
//! input = '{"kind": "nightly"}'                    # `{}` when absent
//! state = "ENABLED"                                # or "DISABLED"
//! ```
//!
//! A schedule may add `description`, `start_date` and `end_date` (RFC 3339),
//! `maximum_retry_attempts`, `maximum_event_age_seconds` and `dead_letter_arn`; its target may add
//! `message_group_id`. A redeploy leaves a schedule whose declaration did not change as it is (its
//! next fire time stays), and replaces one whose declaration changed. A declared one-time schedule
//! stays after it fired (`ActionAfterCompletion: NONE`), so a redeploy does not fire it again.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use sluice_engine::app::Manifest;
use sluice_patterns::Pattern;

use crate::control::{RuleInput, RuleState, check_rule_name};
use crate::schedule::Schedule;
use crate::scheduler::{
    Definition as ScheduleDefinition, EventBridgeParameters, FlexibleTimeWindow, ScheduleInput, ScheduleTarget,
};
use crate::target::{DeadLetterConfig, Destination, RetryPolicy, SqsParameters, Target, is_name_character};
use crate::transform::InputTransformer;
use crate::{Bus, DEFAULT_BUS, Error, Result};

/// `[rules.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    #[serde(default)]
    bus: Option<String>,
    #[serde(default)]
    pattern: Option<toml::Value>,
    #[serde(default)]
    schedule: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
    #[serde(default)]
    targets: Vec<TargetEntry>,
}

fn enabled_by_default() -> bool {
    true
}

/// One target of a rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetEntry {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    state_machine: Option<String>,
    #[serde(default)]
    function: Option<String>,
    #[serde(default)]
    arn: Option<String>,
    #[serde(default)]
    log_group: Option<String>,
    #[serde(default)]
    input: Option<String>,
    #[serde(default)]
    input_path: Option<String>,
    #[serde(default)]
    input_transformer: Option<TransformerEntry>,
    #[serde(default)]
    maximum_retry_attempts: Option<u32>,
    #[serde(default)]
    maximum_event_age_seconds: Option<u32>,
    #[serde(default)]
    dead_letter_arn: Option<String>,
    #[serde(default)]
    message_group_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TransformerEntry {
    #[serde(default)]
    paths: BTreeMap<String, String>,
    template: String,
}

/// `[schedules.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleEntry {
    expression: String,
    #[serde(default)]
    timezone: Option<String>,
    target: ScheduleTargetEntry,
    #[serde(default)]
    input: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    start_date: Option<String>,
    #[serde(default)]
    end_date: Option<String>,
    #[serde(default)]
    maximum_retry_attempts: Option<u32>,
    #[serde(default)]
    maximum_event_age_seconds: Option<u32>,
    #[serde(default)]
    dead_letter_arn: Option<String>,
}

/// The target of `[schedules.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleTargetEntry {
    #[serde(default)]
    state_machine: Option<String>,
    #[serde(default)]
    function: Option<String>,
    #[serde(default)]
    bus: Option<String>,
    #[serde(default)]
    arn: Option<String>,
    #[serde(default)]
    detail_type: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    message_group_id: Option<String>,
}

/// What an app declares for the bus, checked.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    buses: Vec<String>,
    rules: Vec<(RuleInput, Vec<Target>)>,
    schedules: Vec<ScheduleInput>,
}

impl Plan {
    /// Whether the app declares nothing for the bus.
    pub fn is_empty(&self) -> bool {
        self.buses.is_empty() && self.rules.is_empty() && self.schedules.is_empty()
    }
}

impl Bus {
    /// Checks the bus's part of `manifest` and answers the plan, changing nothing. A state
    /// machine target must be declared by the manifest or exist already.
    pub async fn plan_app(&self, manifest: &Manifest) -> Result<Plan> {
        let mut plan = Plan::default();
        for (name, entry) in &manifest.buses {
            if entry.as_table().is_none_or(|table| !table.is_empty()) {
                return Err(Error::validation(format!("buses.{name}: a bus takes no settings yet")));
            }
            if name != DEFAULT_BUS {
                plan.buses.push(name.clone());
            }
        }
        for (name, value) in &manifest.rules {
            let fail = |message: String| Error::validation(format!("rules.{name}: {message}"));
            let entry = RuleEntry::deserialize(value.clone()).map_err(|error| fail(error.to_string()))?;
            check_rule_name(name).map_err(|error| fail(error.to_string()))?;
            let bus = entry.bus.clone().unwrap_or_else(|| DEFAULT_BUS.to_owned());
            if bus != DEFAULT_BUS && !plan.buses.contains(&bus) && !self.read_catalog().buses.contains_key(&bus) {
                return Err(fail(format!("the bus {bus} is neither declared nor existing")));
            }
            let pattern = match &entry.pattern {
                Some(value) => {
                    let json = serde_json::to_value(value).map_err(|error| fail(error.to_string()))?;
                    Pattern::from_value(&json).map_err(|error| fail(crate::control::pattern_message(&error)))?;
                    Some(json.to_string())
                }
                None => None,
            };
            if let Some(schedule) = &entry.schedule {
                Schedule::parse(schedule).map_err(fail)?;
                if bus != DEFAULT_BUS {
                    return Err(fail("a schedule runs on the default bus only".to_owned()));
                }
            }
            if pattern.is_none() && entry.schedule.is_none() {
                return Err(fail("give a pattern, a schedule, or both".to_owned()));
            }
            let mut targets = Vec::new();
            let mut ids = BTreeSet::new();
            for (index, target) in entry.targets.iter().enumerate() {
                let target = self
                    .target_of(manifest, target, index)
                    .await
                    .map_err(|message| fail(format!("targets[{index}]: {message}")))?;
                if !ids.insert(target.id.clone()) {
                    return Err(fail(format!("two targets have the id {}", target.id)));
                }
                targets.push(target);
            }
            if targets.len() > crate::control::MAX_TARGETS {
                return Err(fail(format!("at most {} targets", crate::control::MAX_TARGETS)));
            }
            let input = RuleInput {
                name: name.clone(),
                bus: Some(bus),
                event_pattern: pattern,
                schedule: entry.schedule.clone(),
                state: Some(if entry.enabled {
                    RuleState::Enabled
                } else {
                    RuleState::Disabled
                }),
                description: entry.description.clone(),
                role_arn: None,
            };
            plan.rules.push((input, targets));
        }
        for (name, value) in &manifest.schedules {
            let fail = |message: String| Error::validation(format!("schedules.{name}: {message}"));
            let entry = ScheduleEntry::deserialize(value.clone()).map_err(|error| fail(error.to_string()))?;
            let input = self
                .schedule_of(manifest, name, &entry)
                .await
                .map_err(|error| fail(error.to_string()))?;
            // The whole schedule is checked now, as the API would check it.
            self.schedule_entry(input.clone(), None)
                .map_err(|error| fail(error.to_string()))?;
            plan.schedules.push(input);
        }
        Ok(plan)
    }

    /// Applies a plan: creates the buses, puts the rules and their targets, and removes the
    /// targets a rule no longer declares. Answers the rule ARNs.
    pub async fn apply_app(&self, plan: Plan) -> Result<Vec<String>> {
        for bus in plan.buses {
            match self.create_event_bus(&bus).await {
                Ok(_) | Err(Error::ResourceAlreadyExists { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        let mut arns = Vec::new();
        for (input, targets) in plan.rules {
            let bus = input.bus.clone();
            let name = input.name.clone();
            arns.push(self.put_rule(input).await?);
            let declared: BTreeSet<String> = targets.iter().map(|target| target.id.clone()).collect();
            let stale: Vec<String> = self
                .list_targets_by_rule(bus.as_deref(), &name, None, usize::MAX - 1)?
                .items
                .into_iter()
                .map(|target| target.id)
                .filter(|id| !declared.contains(id))
                .collect();
            if !stale.is_empty() {
                self.remove_targets(bus.as_deref(), &name, stale).await?;
            }
            if !targets.is_empty() {
                let failures = self.put_targets(bus.as_deref(), &name, targets).await?;
                if let Some(failure) = failures.first() {
                    return Err(Error::validation(format!(
                        "rules.{name}: target {}: {}",
                        failure.target_id, failure.error_message
                    )));
                }
            }
        }
        for input in plan.schedules {
            let existing = self.get_schedule(None, &input.name).ok();
            let arn = match existing {
                Some(view) if view.definition == input.definition && view.record.enabled == input.enabled => {
                    view.record.arn
                }
                Some(_) => self.update_schedule(input).await?,
                None => self.create_schedule(input).await?,
            };
            arns.push(arn);
        }
        Ok(arns)
    }

    /// The schedule `[schedules.NAME]` declares.
    async fn schedule_of(&self, manifest: &Manifest, name: &str, entry: &ScheduleEntry) -> Result<ScheduleInput> {
        let options = self.options();
        let target = &entry.target;
        let arn = match (&target.state_machine, &target.function, &target.bus, &target.arn) {
            (Some(machine), None, None, None) => {
                let arn = format!(
                    "arn:aws:states:{}:{}:stateMachine:{machine}",
                    options.region, options.account
                );
                if !manifest.state_machines.contains_key(machine)
                    && self.inner.engine.describe_state_machine(&arn).await.is_err()
                {
                    return Err(Error::validation(format!(
                        "target: the state machine {machine} is neither declared nor existing"
                    )));
                }
                arn
            }
            (None, Some(function), None, None) => {
                format!(
                    "arn:aws:lambda:{}:{}:function:{function}",
                    options.region, options.account
                )
            }
            (None, None, Some(bus), None) => self.bus_arn(bus),
            (None, None, None, Some(arn)) => arn.clone(),
            _ => {
                return Err(Error::validation(
                    "target: give exactly one of state_machine, function, bus and arn",
                ));
            }
        };
        let event_bridge_parameters = match (&target.detail_type, &target.source) {
            (None, None) => None,
            (Some(detail_type), Some(source)) => Some(EventBridgeParameters {
                detail_type: detail_type.clone(),
                source: source.clone(),
            }),
            _ => return Err(Error::validation("target: give both detail_type and source")),
        };
        let date = |text: &Option<String>, member: &str| -> Result<Option<i64>> {
            text.as_ref()
                .map(|text| {
                    chrono::DateTime::parse_from_rfc3339(text)
                        .map(|time| time.timestamp_millis())
                        .map_err(|error| Error::validation(format!("{member} is not an RFC 3339 time: {error}")))
                })
                .transpose()
        };
        let enabled = match entry.state.as_deref() {
            None | Some("ENABLED") => true,
            Some("DISABLED") => false,
            Some(other) => {
                return Err(Error::validation(format!(
                    "state '{other}' is not valid: give ENABLED or DISABLED"
                )));
            }
        };
        let retry_policy = (entry.maximum_retry_attempts.is_some() || entry.maximum_event_age_seconds.is_some())
            .then_some(RetryPolicy {
                maximum_retry_attempts: entry.maximum_retry_attempts,
                maximum_event_age_in_seconds: entry.maximum_event_age_seconds,
            });
        Ok(ScheduleInput {
            name: name.to_owned(),
            group: None,
            enabled,
            definition: ScheduleDefinition {
                schedule_expression: entry.expression.clone(),
                schedule_expression_timezone: entry.timezone.clone(),
                start_date: date(&entry.start_date, "start_date")?,
                end_date: date(&entry.end_date, "end_date")?,
                description: entry.description.clone(),
                flexible_time_window: FlexibleTimeWindow {
                    mode: "OFF".to_owned(),
                    maximum_window_in_minutes: None,
                },
                target: ScheduleTarget {
                    arn,
                    role_arn: String::new(),
                    input: entry.input.clone(),
                    retry_policy,
                    dead_letter_config: entry
                        .dead_letter_arn
                        .clone()
                        .map(|arn| DeadLetterConfig { arn: Some(arn) }),
                    sqs_parameters: target.message_group_id.clone().map(|group| SqsParameters {
                        message_group_id: Some(group),
                    }),
                    event_bridge_parameters,
                },
                action_after_completion: None,
                kms_key_arn: None,
            },
        })
    }

    async fn target_of(&self, manifest: &Manifest, entry: &TargetEntry, index: usize) -> Result<Target, String> {
        let options = self.options();
        let targets = (&entry.state_machine, &entry.function, &entry.arn, &entry.log_group);
        let (arn, default_id) = match targets {
            (None, None, None, Some(group)) => (
                format!("arn:aws:logs:{}:{}:log-group:{group}", options.region, options.account),
                group
                    .trim_start_matches('/')
                    .chars()
                    .map(|character| if is_name_character(character) { character } else { '-' })
                    .take(64)
                    .collect(),
            ),
            (Some(name), None, None, None) => {
                let arn = format!(
                    "arn:aws:states:{}:{}:stateMachine:{name}",
                    options.region, options.account
                );
                if !manifest.state_machines.contains_key(name)
                    && self.inner.engine.describe_state_machine(&arn).await.is_err()
                {
                    return Err(format!("the state machine {name} is neither declared nor existing"));
                }
                (arn, name.clone())
            }
            (None, Some(name), None, None) => (
                format!("arn:aws:lambda:{}:{}:function:{name}", options.region, options.account),
                name.clone(),
            ),
            (None, None, Some(arn), None) => (arn.clone(), format!("target-{index}")),
            _ => return Err("give exactly one of state_machine, function, log_group and arn".to_owned()),
        };
        let retry_policy = (entry.maximum_retry_attempts.is_some() || entry.maximum_event_age_seconds.is_some())
            .then_some(RetryPolicy {
                maximum_retry_attempts: entry.maximum_retry_attempts,
                maximum_event_age_in_seconds: entry.maximum_event_age_seconds,
            });
        let target = Target {
            id: entry.id.clone().unwrap_or(default_id),
            arn: arn.clone(),
            role_arn: None,
            input: entry.input.clone(),
            input_path: entry.input_path.clone(),
            input_transformer: entry.input_transformer.as_ref().map(|transformer| InputTransformer {
                input_paths_map: transformer.paths.clone(),
                input_template: transformer.template.clone(),
            }),
            retry_policy,
            dead_letter_config: entry
                .dead_letter_arn
                .clone()
                .map(|arn| DeadLetterConfig { arn: Some(arn) }),
            sqs_parameters: entry.message_group_id.clone().map(|group| SqsParameters {
                message_group_id: Some(group),
            }),
        };
        target.check()?;
        target.check_sqs_parameters()?;
        if Destination::of(&arn) == Destination::Other
            && !self.inner.sink.as_ref().is_some_and(|sink| sink.accepts(&arn))
        {
            return Err(format!("no service of this server delivers to {arn}"));
        }
        Ok(target)
    }
}
