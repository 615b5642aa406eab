//! How the services reach each other in this binary. Object notifications go to functions
//! (`arn:aws:lambda:…:function:NAME`) invoked with the event, state machines
//! (`arn:aws:states:…:stateMachine:NAME`) started with it (named after the event, so a redelivery
//! after a crash starts nothing twice), and standard queues (`arn:aws:sqs:…:NAME`) sent it as the
//! body. Event source mappings hand their batches to the engine ([`EngineConsumer`]); the event
//! bus sends to queues through [`QueueSink`].

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use sluice_buckets::notify::{Target, TargetSet};
use sluice_engine::Engine;

/// The targets of object notifications: the engine's functions and state machines, and queues.
pub fn engine_targets(engine: &Engine, queues: &sluice_queues::Queues) -> TargetSet {
    TargetSet::default()
        .with(Arc::new(FunctionTarget { engine: engine.clone() }))
        .with(Arc::new(StateMachineTarget { engine: engine.clone() }))
        .with(Arc::new(QueueTarget { queues: queues.clone() }))
}

/// Object notifications to a queue (S3's `QueueConfiguration`): the event is the message body.
struct QueueTarget {
    queues: sluice_queues::Queues,
}

#[async_trait]
impl Target for QueueTarget {
    fn handles(&self, arn: &str) -> bool {
        arn.starts_with("arn:aws:sqs:")
    }

    fn check(&self, arn: &str) -> Result<(), String> {
        let name = queue_name(arn).ok_or_else(|| format!("{arn} is not a queue ARN"))?;
        if name.ends_with(".fifo") {
            return Err(format!(
                "{arn}: FIFO queues are not supported as event notification destinations"
            ));
        }
        Ok(())
    }

    async fn deliver(&self, arn: &str, event: &Value) -> Result<(), String> {
        let name = queue_name(arn).ok_or_else(|| format!("{arn} is not a queue ARN"))?;
        let send = sluice_queues::SendMessage {
            body: event.to_string(),
            ..sluice_queues::SendMessage::default()
        };
        self.queues
            .send_message(name, send)
            .await
            .map(drop)
            .map_err(|error| error.to_string())
    }
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

/// Hands event source mappings' batches to the engine: functions are invoked with Lambda's SQS
/// event, state machines started with the batch's records, named as the mapping says.
pub struct EngineConsumer {
    /// The engine.
    pub engine: Engine,
}

#[async_trait]
impl sluice_queues::sources::Consumer for EngineConsumer {
    async fn invoke_function(&self, name: &str, event: Value) -> Result<Value, String> {
        let function = self
            .engine
            .functions()
            .get(name)
            .ok_or_else(|| format!("no function named {name} is registered"))?;
        function.invoke(event).await.map_err(|error| error.cause())
    }

    async fn start_execution(&self, state_machine_arn: &str, execution_name: &str, input: Value) -> Result<(), String> {
        let input = input.to_string();
        match self
            .engine
            .start_execution(
                state_machine_arn,
                Some(execution_name),
                Some(&input),
                chrono::Utc::now(),
            )
            .await
        {
            Ok(_) | Err(sluice_engine::Error::ExecutionAlreadyExists { .. }) => Ok(()),
            Err(error) => Err(error.to_string()),
        }
    }
}

/// The function name of a name or a function ARN.
pub fn function_name_of(name_or_arn: &str) -> &str {
    function_name(name_or_arn).unwrap_or(name_or_arn)
}

/// Delivers event bus targets and dead-letter queues of the form `arn:aws:sqs:REGION:ACCOUNT:NAME`
/// to this server's queues: the payload is the body; a FIFO queue gets the target's message group
/// and the delivery's id as deduplication id, so a redelivery within five minutes is not stored
/// twice.
pub struct QueueSink {
    /// The queues.
    pub queues: sluice_queues::Queues,
}

/// The queue name of `arn:aws:sqs:REGION:ACCOUNT:NAME`.
fn queue_name(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:aws:sqs:")?;
    let name = rest.splitn(3, ':').nth(2)?;
    (!name.is_empty() && !name.contains(':')).then_some(name)
}

#[async_trait]
impl sluice_bus::Sink for QueueSink {
    fn accepts(&self, arn: &str) -> bool {
        queue_name(arn).is_some()
    }

    async fn deliver(&self, message: sluice_bus::SinkMessage<'_>) -> Result<(), String> {
        let name = queue_name(message.arn).ok_or_else(|| format!("{} is not a queue ARN", message.arn))?;
        let fifo = name.ends_with(".fifo");
        let send = sluice_queues::SendMessage {
            body: message.body.to_owned(),
            group_id: message.message_group_id.map(str::to_owned),
            deduplication_id: fifo.then(|| message.deduplication_id.to_owned()),
            ..sluice_queues::SendMessage::default()
        };
        self.queues
            .send_message(name, send)
            .await
            .map(drop)
            .map_err(|error| error.to_string())
    }
}
