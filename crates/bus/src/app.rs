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
//! A target names one of `state_machine`, `function` or `arn`, and may add `id` (its name by
//! default), `input`, `input_path`, `input_transformer = { paths = {…}, template = "…" }`,
//! `maximum_retry_attempts`, `maximum_event_age_seconds`, `dead_letter_arn` and
//! `message_group_id`. [`Bus::plan_app`] checks everything without changing anything, so that the
//! deployment stays all-or-nothing; [`Bus::apply_app`] then applies the plan, and a redeploy
//! removes the targets a rule no longer declares.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use sluice_engine::app::Manifest;
use sluice_patterns::Pattern;

use crate::control::{RuleInput, RuleState, check_rule_name};
use crate::schedule::Schedule;
use crate::target::{DeadLetterConfig, Destination, RetryPolicy, SqsParameters, Target};
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

/// What an app declares for the bus, checked.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    buses: Vec<String>,
    rules: Vec<(RuleInput, Vec<Target>)>,
}

impl Plan {
    /// Whether the app declares nothing for the bus.
    pub fn is_empty(&self) -> bool {
        self.buses.is_empty() && self.rules.is_empty()
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
        Ok(arns)
    }

    async fn target_of(&self, manifest: &Manifest, entry: &TargetEntry, index: usize) -> Result<Target, String> {
        let options = self.options();
        let (arn, default_id) = match (&entry.state_machine, &entry.function, &entry.arn) {
            (Some(name), None, None) => {
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
            (None, Some(name), None) => (
                format!("arn:aws:lambda:{}:{}:function:{name}", options.region, options.account),
                name.clone(),
            ),
            (None, None, Some(arn)) => (arn.clone(), format!("target-{index}")),
            _ => return Err("give exactly one of state_machine, function and arn".to_owned()),
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
