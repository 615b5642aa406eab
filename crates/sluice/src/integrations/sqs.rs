//! `arn:aws:states:::sqs:sendMessage` (and `.waitForTaskToken`) on Sluice's queues: `QueueUrl`,
//! `MessageBody` (a JSON value other than a string is sent as its JSON text, as Step Functions
//! does), `DelaySeconds`, `MessageAttributes`, `MessageGroupId`, `MessageDeduplicationId`; the
//! result is SendMessage's (`MessageId`, `MD5OfMessageBody`, …). Errors are `SQS.` and SQS's
//! code with AWS's `Exception` suffix (`SQS.QueueDoesNotExistException`, …).

use serde_json::{Map, Value, json};
use sluice_asl::Failure;
use sluice_engine::{Integration, IntegrationCall, IntegrationPattern};
use sluice_queues::{MessageAttributes, Queues, SendMessage};

use super::{optional_string, required_string, unsupported};

const INVALID: &str = "SQS.InvalidParameterValueException";

/// SQS's integration.
pub(super) struct Sqs {
    queues: Queues,
}

impl Sqs {
    pub(super) fn new(queues: Queues) -> Sqs {
        Sqs { queues }
    }
}

#[async_trait::async_trait]
impl Integration for Sqs {
    async fn call(&self, call: IntegrationCall) -> Result<Value, Failure> {
        if call.action != "sendMessage" || call.pattern == IntegrationPattern::Sync {
            return Err(unsupported(
                &call,
                "arn:aws:states:::sqs has the action sendMessage (request-response or .waitForTaskToken)",
            ));
        }
        let parameters = &call.parameters;
        let url = required_string(parameters, "QueueUrl", "SQS.MissingParameterException")?;
        // A queue URL ends with the queue's name; an ARN does too, after its last colon.
        let name = url.rsplit(['/', ':']).next().unwrap_or(url);
        let body = match parameters.get("MessageBody") {
            None | Some(Value::Null) => {
                return Err(Failure::new(
                    "SQS.MissingParameterException",
                    "The request must contain the parameter MessageBody.",
                ));
            }
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
        };
        let attributes: MessageAttributes = match parameters.get("MessageAttributes") {
            None | Some(Value::Null) => MessageAttributes::new(),
            Some(value) => serde_json::from_value(value.clone()).map_err(|error| {
                Failure::new(INVALID, format!("The field 'MessageAttributes' is not valid: {error}"))
            })?,
        };
        let delay_seconds = match parameters.get("DelaySeconds") {
            None | Some(Value::Null) => None,
            Some(value) => Some(value.as_i64().ok_or_else(|| {
                Failure::new(
                    INVALID,
                    format!("The field 'DelaySeconds' must be a whole number, not {value}"),
                )
            })?),
        };
        let message = SendMessage {
            body,
            delay_seconds,
            attributes,
            system_attributes: MessageAttributes::new(),
            deduplication_id: optional_string(parameters, "MessageDeduplicationId", INVALID)?.map(str::to_owned),
            group_id: optional_string(parameters, "MessageGroupId", INVALID)?.map(str::to_owned),
        };
        let sent = self.queues.send_message(name, message).await.map_err(|error| {
            let name = match error.code() {
                Some(code) if code.as_str().ends_with("Exception") => code.as_str().to_owned(),
                Some(code) => format!("{}Exception", code.as_str()),
                None => "AmazonSQSException".to_owned(),
            };
            Failure::new(format!("SQS.{name}"), error.to_string())
        })?;
        let mut answer = Map::new();
        answer.insert("MD5OfMessageBody".into(), json!(sent.md5_of_body));
        if let Some(md5) = sent.md5_of_attributes {
            answer.insert("MD5OfMessageAttributes".into(), json!(md5));
        }
        answer.insert("MessageId".into(), json!(sent.message_id));
        if let Some(sequence) = sent.sequence_number {
            answer.insert("SequenceNumber".into(), json!(sequence));
        }
        Ok(Value::Object(answer))
    }
}
