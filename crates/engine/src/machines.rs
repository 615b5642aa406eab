//! State machines: create, update, delete, describe, list, and the parsed definitions the engine
//! runs, cached by revision.

use std::sync::Arc;

use serde_json::Value;
use sluice_store::{Error as StoreError, MachineType, StateMachineRecord, StateMachineUpdate};

use crate::{Engine, Error, Result, check_name};

impl Engine {
    /// Parses and validates a definition's text.
    pub fn validate(&self, definition: &str) -> Result<sluice_asl::StateMachine> {
        let value: Value =
            serde_json::from_str(definition).map_err(|error| Error::DefinitionNotJson(error.to_string()))?;
        sluice_asl::parse(&value).map_err(Error::InvalidDefinition)
    }

    /// `CreateStateMachine`: idempotent when the same name, definition, role and type are given
    /// again, as AWS is.
    pub async fn create_state_machine(
        &self,
        name: &str,
        definition: &str,
        role_arn: &str,
        machine_type: MachineType,
        now_millis: i64,
    ) -> Result<StateMachineRecord> {
        check_name(name)?;
        self.validate(definition)?;
        let record = StateMachineRecord {
            arn: self.state_machine_arn(name),
            name: name.to_owned(),
            machine_type,
            definition: definition.to_owned(),
            role_arn: role_arn.to_owned(),
            revision: 1,
            created_millis: now_millis,
        };
        match self.inner.store.create_state_machine(record.clone()).await {
            Ok(()) => Ok(record),
            Err(StoreError::AlreadyExists { .. }) => {
                let existing = self.describe_state_machine(&record.arn).await?;
                let same = existing.definition == record.definition
                    && existing.role_arn == record.role_arn
                    && existing.machine_type == record.machine_type;
                if same {
                    Ok(existing)
                } else {
                    Err(Error::StateMachineAlreadyExists { arn: record.arn })
                }
            }
            Err(error) => Err(error.into()),
        }
    }

    /// `UpdateStateMachine`: a new revision; running executions keep theirs.
    pub async fn update_state_machine(
        &self,
        arn: &str,
        definition: Option<&str>,
        role_arn: Option<&str>,
    ) -> Result<StateMachineRecord> {
        if let Some(definition) = definition {
            self.validate(definition)?;
        }
        let update = StateMachineUpdate {
            arn: arn.to_owned(),
            definition: definition.map(str::to_owned),
            role_arn: role_arn.map(str::to_owned),
        };
        match self.inner.store.update_state_machine(update).await {
            Err(StoreError::NotFound { .. }) => Err(Error::StateMachineDoesNotExist { arn: arn.to_owned() }),
            other => Ok(other?),
        }
    }

    /// `DeleteStateMachine`: it can no longer be started; running executions finish.
    pub async fn delete_state_machine(&self, arn: &str) -> Result<()> {
        match self.inner.store.delete_state_machine(arn).await {
            Err(StoreError::NotFound { .. }) => Err(Error::StateMachineDoesNotExist { arn: arn.to_owned() }),
            other => Ok(other?),
        }
    }

    /// `DescribeStateMachine`.
    pub async fn describe_state_machine(&self, arn: &str) -> Result<StateMachineRecord> {
        self.inner
            .store
            .state_machine(arn)
            .await?
            .ok_or_else(|| Error::StateMachineDoesNotExist { arn: arn.to_owned() })
    }

    /// `ListStateMachines`: a page in name order, and the token of the next page.
    pub async fn list_state_machines(
        &self,
        next_token: Option<&str>,
        max_results: usize,
    ) -> Result<(Vec<StateMachineRecord>, Option<String>)> {
        let limit = max_results.clamp(1, 1000);
        let mut machines = self.inner.store.list_state_machines(next_token, limit + 1).await?;
        let next = if machines.len() > limit {
            machines.truncate(limit);
            machines.last().map(|machine| machine.name.clone())
        } else {
            None
        };
        Ok((machines, next))
    }

    /// The parsed definition of one revision, from the cache or the store.
    pub(crate) async fn machine(&self, arn: &str, revision: u64) -> Result<Arc<sluice_asl::StateMachine>> {
        let key = (arn.to_owned(), revision);
        if let Some(machine) = self
            .inner
            .machines
            .lock()
            .ok()
            .and_then(|cache| cache.get(&key).cloned())
        {
            return Ok(machine);
        }
        let definition = self
            .inner
            .store
            .revision(arn, revision)
            .await?
            .ok_or_else(|| Error::StateMachineDoesNotExist { arn: arn.to_owned() })?;
        let machine = Arc::new(self.validate(&definition)?);
        if let Ok(mut cache) = self.inner.machines.lock() {
            cache.insert(key, machine.clone());
        }
        Ok(machine)
    }
}
