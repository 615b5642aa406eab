//! Where object notifications go in this binary: functions (`arn:aws:lambda:…:function:NAME`)
//! invoked with the event, and state machines (`arn:aws:states:…:stateMachine:NAME`) started with
//! it. A state machine's execution is named after the event, so a redelivery after a crash starts
//! nothing twice.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use sluice_buckets::notify::{Target, TargetSet};
use sluice_engine::Engine;

/// The targets the engine answers for.
pub fn engine_targets(engine: &Engine) -> TargetSet {
    TargetSet::default()
        .with(Arc::new(FunctionTarget { engine: engine.clone() }))
        .with(Arc::new(StateMachineTarget { engine: engine.clone() }))
}

struct FunctionTarget {
    engine: Engine,
}

/// The function name of `arn:aws:lambda:REGION:ACCOUNT:function:NAME`.
fn function_name(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:aws:lambda:")?;
    let (_, name) = rest.split_once(":function:")?;
    Some(name.split(':').next().unwrap_or(name))
}

#[async_trait]
impl Target for FunctionTarget {
    fn handles(&self, arn: &str) -> bool {
        arn.starts_with("arn:aws:lambda:")
    }

    fn check(&self, arn: &str) -> Result<(), String> {
        let name = function_name(arn).ok_or_else(|| format!("{arn} is not a function ARN"))?;
        match self.engine.functions().get(name) {
            Some(_) => Ok(()),
            None => Err(format!("no function named {name} is registered")),
        }
    }

    async fn deliver(&self, arn: &str, event: &Value) -> Result<(), String> {
        let name = function_name(arn).ok_or_else(|| format!("{arn} is not a function ARN"))?;
        let function = self
            .engine
            .functions()
            .get(name)
            .ok_or_else(|| format!("no function named {name} is registered"))?;
        function
            .invoke(event.clone())
            .await
            .map(drop)
            .map_err(|error| error.cause())
    }
}

struct StateMachineTarget {
    engine: Engine,
}

#[async_trait]
impl Target for StateMachineTarget {
    fn handles(&self, arn: &str) -> bool {
        arn.starts_with("arn:aws:states:") && arn.contains(":stateMachine:")
    }

    fn check(&self, arn: &str) -> Result<(), String> {
        if self.handles(arn) {
            Ok(())
        } else {
            Err(format!("{arn} is not a state machine ARN"))
        }
    }

    async fn deliver(&self, arn: &str, event: &Value) -> Result<(), String> {
        let record = &event["Records"][0];
        let name = format!(
            "s3-{}-{}",
            record["s3"]["object"]["sequencer"].as_str().unwrap_or_default(),
            record["responseElements"]["x-amz-request-id"]
                .as_str()
                .unwrap_or_default()
        );
        let input = event.to_string();
        match self
            .engine
            .start_execution(arn, Some(&name), Some(&input), chrono::Utc::now())
            .await
        {
            Ok(_) | Err(sluice_engine::Error::ExecutionAlreadyExists { .. }) => Ok(()),
            Err(error) => Err(error.to_string()),
        }
    }
}
