//! What the event bus persists: buses, rules (an event pattern, a schedule, or both), each rule's
//! targets, and the delivery outbox. Events themselves are never stored: `PutEvents` matches an
//! event against the rules in memory and writes one [`Delivery`] per (event, target) in one
//! commit, so an acknowledged event is durable as the deliveries it causes.
//!
//! A scheduled rule keeps its next fire time; [`BusStore::fire_schedule`] writes the fire's
//! deliveries and moves the next fire time in one commit, only if the rule still expects the
//! fire that was computed, so each fire time is written exactly once.

use async_trait::async_trait;

use crate::Result;

/// An event bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusRecord {
    /// Its name (`default` always exists).
    pub name: String,
    /// `arn:aws:events:{region}:{account}:event-bus/{name}`.
    pub arn: String,
    /// When it was created, in milliseconds since the epoch.
    pub created_millis: i64,
}

/// A rule of a bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRecord {
    /// The bus it belongs to.
    pub bus: String,
    /// Its name, unique within the bus.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// The event pattern's JSON text, as given.
    pub event_pattern: Option<String>,
    /// The schedule expression, as given (`rate(5 minutes)`, `cron(0 12 * * ? *)`).
    pub schedule: Option<String>,
    /// `ENABLED` rules match and fire; `DISABLED` ones do not.
    pub enabled: bool,
    /// The description.
    pub description: Option<String>,
    /// The role ARN given (kept, not used).
    pub role_arn: Option<String>,
    /// When a scheduled, enabled rule fires next, in milliseconds since the epoch.
    pub next_fire_millis: Option<i64>,
}

/// A target of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRecord {
    /// The rule's bus.
    pub bus: String,
    /// The rule.
    pub rule: String,
    /// The target's id, unique within the rule.
    pub id: String,
    /// Where events go.
    pub arn: String,
    /// The whole target as the API gave it (AWS's `Target` structure, as JSON text).
    pub definition: String,
}

/// One event on its way to one target. The payload is final (the target's input already
/// applied), so a delivery does not depend on the rule or target after it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Unique; also the idempotency key a target may use (a state machine execution's name).
    pub id: String,
    /// The bus.
    pub bus: String,
    /// The rule that matched.
    pub rule: String,
    /// The target's id.
    pub target_id: String,
    /// The target's ARN.
    pub target_arn: String,
    /// What the target receives, as JSON text.
    pub payload: String,
    /// When the event was accepted (for the retry policy's maximum event age).
    pub event_millis: i64,
    /// When the next attempt is due.
    pub due_millis: i64,
    /// Attempts made so far.
    pub attempts: u32,
    /// How to retry and where failures go, as JSON text the bus reads back.
    pub policy: String,
    /// Until when the current claim holds it (0 when unclaimed).
    pub lease_until_millis: i64,
}

/// A fire of a scheduled rule: its deliveries and the rule's next fire time, written together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleFire {
    /// The rule's bus.
    pub bus: String,
    /// The rule.
    pub rule: String,
    /// The next fire time the rule must still have for this fire to be written.
    pub expected_next_millis: i64,
    /// The next fire time after this one.
    pub next_millis: Option<i64>,
    /// One delivery per target.
    pub deliveries: Vec<Delivery>,
}

/// A schedule of EventBridge Scheduler: one target, fired at the times its expression gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRecord {
    /// Its schedule group (`default`).
    pub group: String,
    /// Its name, unique within the group.
    pub name: String,
    /// `arn:aws:scheduler:{region}:{account}:schedule/{group}/{name}`.
    pub arn: String,
    /// The whole schedule as the API or the manifest gave it, as JSON text the bus reads back.
    pub definition: String,
    /// `ENABLED` schedules fire; `DISABLED` ones do not.
    pub enabled: bool,
    /// When it was created, in milliseconds since the epoch.
    pub created_millis: i64,
    /// When it was last changed, in milliseconds since the epoch.
    pub modified_millis: i64,
    /// When it fires next; `None` when disabled or when it has no fire left.
    pub next_fire_millis: Option<i64>,
}

/// What a schedule's fire does to the schedule, besides writing its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFire {
    /// The schedule fires next at this time, or never (`None`: it is complete and kept).
    Next(Option<i64>),
    /// The schedule is complete and deleted (`ActionAfterCompletion: DELETE`).
    Delete,
}

/// A fire of a schedule: its delivery and what becomes of the schedule, written together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledFire {
    /// The schedule's group.
    pub group: String,
    /// The schedule.
    pub name: String,
    /// The next fire time the schedule must still have for this fire to be written.
    pub expected_next_millis: i64,
    /// What becomes of the schedule.
    pub after: AfterFire,
    /// The deliveries (one, to the schedule's target).
    pub deliveries: Vec<Delivery>,
}

/// What deleting a bus or a rule did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// It is gone.
    Deleted,
    /// It did not exist.
    Missing,
    /// It was kept: a bus with rules, or a rule with targets, is not deleted.
    InUse,
}

/// The event bus's storage. Backends implement it beside [`crate::Store`].
#[async_trait]
pub trait BusStore: Send + Sync + 'static {
    /// Creates a bus; `AlreadyExists` when the name is taken.
    async fn create_bus(&self, bus: BusRecord) -> Result<()>;

    /// Deletes a bus that has no rules.
    async fn delete_bus(&self, name: &str) -> Result<Deleted>;

    /// A bus by name.
    async fn bus(&self, name: &str) -> Result<Option<BusRecord>>;

    /// Every bus, in name order.
    async fn list_buses(&self) -> Result<Vec<BusRecord>>;

    /// Creates or replaces a rule (its targets stay); `NotFound` when the bus does not exist.
    async fn put_rule(&self, rule: RuleRecord) -> Result<()>;

    /// Deletes a rule that has no targets.
    async fn delete_rule(&self, bus: &str, name: &str) -> Result<Deleted>;

    /// A rule by bus and name.
    async fn rule(&self, bus: &str, name: &str) -> Result<Option<RuleRecord>>;

    /// The rules of one bus, or of every bus, in (bus, name) order.
    async fn list_rules(&self, bus: Option<&str>) -> Result<Vec<RuleRecord>>;

    /// Adds or replaces targets of a rule, by id; `NotFound` when the rule does not exist.
    async fn put_targets(&self, targets: Vec<TargetRecord>) -> Result<()>;

    /// Removes targets by id; answers the ids that existed.
    async fn remove_targets(&self, bus: &str, rule: &str, ids: Vec<String>) -> Result<Vec<String>>;

    /// The targets of a rule, in id order.
    async fn targets(&self, bus: &str, rule: &str) -> Result<Vec<TargetRecord>>;

    /// Writes deliveries, all in one commit.
    async fn enqueue_deliveries(&self, deliveries: Vec<Delivery>) -> Result<()>;

    /// Writes a schedule's fire if the rule still has `expected_next_millis` as its next fire
    /// time; answers whether it was written.
    async fn fire_schedule(&self, fire: ScheduleFire) -> Result<bool>;

    /// Deliveries due at or before `now_millis` that no live lease holds, leased until
    /// `lease_until_millis`, at most `limit`, earliest first. Claiming counts an attempt.
    async fn claim_deliveries(&self, now_millis: i64, lease_until_millis: i64, limit: usize) -> Result<Vec<Delivery>>;

    /// Removes a delivery (delivered, or given up on).
    async fn finish_delivery(&self, id: &str) -> Result<()>;

    /// Makes a delivery due again at `due_millis`, unleased.
    async fn retry_delivery(&self, id: &str, due_millis: i64) -> Result<()>;

    /// Frees every delivery lease, at the start of the one node that uses the store.
    async fn release_delivery_leases(&self) -> Result<()>;

    /// When the earliest unleased delivery is due.
    async fn next_delivery_due(&self) -> Result<Option<i64>>;

    /// How many deliveries are waiting (due or not).
    async fn pending_deliveries(&self) -> Result<u64>;

    /// Creates a schedule; `AlreadyExists` when its group holds that name.
    async fn create_schedule(&self, schedule: ScheduleRecord) -> Result<()>;

    /// Replaces a schedule (all of it but its creation time); `NotFound` when it does not exist.
    async fn update_schedule(&self, schedule: ScheduleRecord) -> Result<()>;

    /// Deletes a schedule; answers whether it existed.
    async fn delete_schedule(&self, group: &str, name: &str) -> Result<bool>;

    /// A schedule by group and name.
    async fn schedule(&self, group: &str, name: &str) -> Result<Option<ScheduleRecord>>;

    /// Every schedule, in (group, name) order.
    async fn list_schedules(&self) -> Result<Vec<ScheduleRecord>>;

    /// Writes a schedule's fire if the schedule still has `expected_next_millis` as its next
    /// fire time and is enabled; answers whether it was written.
    async fn fire_scheduled(&self, fire: ScheduledFire) -> Result<bool>;
}
