//! The SNS API in AWS's query protocol (signing name `sns`): a form-encoded `POST /` with
//! `Action=…&Version=2010-03-31`, answered in XML in SNS's namespace, errors as `ErrorResponse`
//! XML, over [`Topics`]. Also the two links SNS puts in messages, which are plain `GET`s without
//! a signature: `?Action=ConfirmSubscription&TopicArn=…&Token=…` (the token is the secret) and
//! `?Action=Unsubscribe&SubscriptionArn=…`.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sluice_topics::{
    BatchOutcome, Error, MessageAttribute, PublishEntry, PublishRequest, SubscribeRequest, SubscriptionRecord, Topics,
};

use crate::s3::xml::escape;

#[cfg(test)]
mod tests;

/// The name SNS requests are signed for.
pub const SIGNING_NAME: &str = "sns";

/// The namespace of SNS's XML.
pub const NAMESPACE: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

/// The form parameters of a query request.
pub type Params = BTreeMap<String, String>;

/// Decodes a form-encoded body (or query string).
pub fn params(form: &[u8]) -> Params {
    form_urlencoded::parse(form).into_owned().collect()
}

/// An SNS error as the query protocol answers it.
pub fn error_response(code: &str, status: StatusCode, message: &str, request_id: &str) -> Response {
    let kind = if status.is_server_error() { "Receiver" } else { "Sender" };
    let body = format!(
        "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        escape(code),
        escape(message)
    );
    (status, [(axum::http::header::CONTENT_TYPE, "text/xml")], body).into_response()
}

fn refused(error: Error, request_id: &str) -> Response {
    if let Error::Store(store) = &error {
        tracing::error!("an SNS request failed: {store}");
    }
    let code = error.code();
    let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    error_response(code.as_str(), status, &error.to_string(), request_id)
}

fn answer(action: &str, result: Option<&str>, request_id: &str) -> Response {
    let result = result
        .map(|inner| format!("<{action}Result>{inner}</{action}Result>"))
        .unwrap_or_default();
    let body = format!(
        "<?xml version=\"1.0\"?>\n<{action}Response xmlns=\"{NAMESPACE}\">{result}<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    );
    (StatusCode::OK, [(axum::http::header::CONTENT_TYPE, "text/xml")], body).into_response()
}

fn element(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", escape(text))
}

fn entries(map: &BTreeMap<String, String>) -> String {
    let mut xml = String::from("<Attributes>");
    for (key, value) in map {
        xml.push_str(&format!(
            "<entry>{}{}</entry>",
            element("key", key),
            element("value", value)
        ));
    }
    xml.push_str("</Attributes>");
    xml
}

/// `Prefix.entry.N.key`/`.value` (or `.Name`/`.Value` for message attributes), from N = 1 on.
fn map(params: &Params, prefix: &str, key: &str, value: &str) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for index in 1.. {
        let Some(name) = params.get(&format!("{prefix}.entry.{index}.{key}")) else {
            break;
        };
        let text = params
            .get(&format!("{prefix}.entry.{index}.{value}"))
            .cloned()
            .unwrap_or_default();
        found.insert(name.clone(), text);
    }
    found
}

fn message_attributes(params: &Params, prefix: &str) -> BTreeMap<String, MessageAttribute> {
    let mut found = BTreeMap::new();
    for index in 1.. {
        let base = format!("{prefix}.entry.{index}");
        let Some(name) = params.get(&format!("{base}.Name")) else {
            break;
        };
        let field = |member: &str| params.get(&format!("{base}.Value.{member}")).cloned();
        found.insert(
            name.clone(),
            MessageAttribute {
                data_type: field("DataType").unwrap_or_default(),
                string_value: field("StringValue"),
                binary_value: field("BinaryValue"),
            },
        );
    }
    found
}

fn publish_request(params: &Params, prefix: &str) -> PublishRequest {
    let field = |member: &str| params.get(&format!("{prefix}{member}")).cloned();
    PublishRequest {
        topic_arn: None,
        target_arn: None,
        phone_number: None,
        message: field("Message"),
        subject: field("Subject"),
        message_structure: field("MessageStructure"),
        attributes: message_attributes(params, &format!("{prefix}MessageAttributes")),
        deduplication_id: field("MessageDeduplicationId"),
        group_id: field("MessageGroupId"),
    }
}

fn subscription_member(subscription: &SubscriptionRecord, topics: &Topics) -> String {
    let arn = if subscription.pending {
        "PendingConfirmation"
    } else {
        subscription.arn.as_str()
    };
    format!(
        "<member>{}{}{}{}{}</member>",
        element("SubscriptionArn", arn),
        element("Owner", &topics.options().account),
        element("Protocol", &subscription.protocol),
        element("Endpoint", &subscription.endpoint),
        element("TopicArn", &topics.topic_arn(&subscription.topic)),
    )
}

fn batch_result(outcome: BatchOutcome) -> String {
    let mut xml = String::from("<Successful>");
    for (id, published) in outcome.successful {
        xml.push_str("<member>");
        xml.push_str(&element("Id", &id));
        xml.push_str(&element("MessageId", &published.message_id));
        if let Some(number) = &published.sequence_number {
            xml.push_str(&element("SequenceNumber", number));
        }
        xml.push_str("</member>");
    }
    xml.push_str("</Successful><Failed>");
    for failure in outcome.failed {
        xml.push_str(&format!(
            "<member>{}{}{}{}</member>",
            element("Id", &failure.id),
            element("Code", failure.code.as_str()),
            element("Message", &failure.message),
            element("SenderFault", &failure.sender_fault.to_string()),
        ));
    }
    xml.push_str("</Failed>");
    xml
}

/// The actions served.
const ACTIONS: &[&str] = &[
    "CreateTopic",
    "DeleteTopic",
    "ListTopics",
    "GetTopicAttributes",
    "SetTopicAttributes",
    "Subscribe",
    "ConfirmSubscription",
    "Unsubscribe",
    "ListSubscriptions",
    "ListSubscriptionsByTopic",
    "GetSubscriptionAttributes",
    "SetSubscriptionAttributes",
    "Publish",
    "PublishBatch",
];

/// Answers one SNS action.
pub async fn dispatch(topics: &Topics, params: &Params, request_id: &str) -> Response {
    let action = params.get("Action").map(String::as_str).unwrap_or_default();
    if !ACTIONS.contains(&action) {
        return error_response(
            "InvalidAction",
            StatusCode::BAD_REQUEST,
            &format!("The action {action} is not valid for this endpoint."),
            request_id,
        );
    }
    match run(topics, action, params).await {
        Ok(result) => answer(action, result.as_deref(), request_id),
        Err(error) => refused(error, request_id),
    }
}

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, Error> {
    params
        .get(name)
        .map(String::as_str)
        .ok_or_else(|| Error::invalid(format!("{name} Reason: no value for required parameter")))
}

async fn run(topics: &Topics, action: &str, params: &Params) -> Result<Option<String>, Error> {
    let text = |name: &str| params.get(name).map(String::as_str);
    Ok(match action {
        "CreateTopic" => {
            let attributes = map(params, "Attributes", "key", "value");
            let arn = topics.create_topic(required(params, "Name")?, &attributes).await?;
            Some(element("TopicArn", &arn))
        }
        "DeleteTopic" => {
            topics.delete_topic(required(params, "TopicArn")?).await?;
            None
        }
        "ListTopics" => {
            let listed = topics.list_topics(text("NextToken")).await?;
            let mut xml = String::from("<Topics>");
            for arn in &listed.arns {
                xml.push_str(&format!("<member>{}</member>", element("TopicArn", arn)));
            }
            xml.push_str("</Topics>");
            if let Some(token) = &listed.next_token {
                xml.push_str(&element("NextToken", token));
            }
            Some(xml)
        }
        "GetTopicAttributes" => {
            let attributes = topics.get_topic_attributes(required(params, "TopicArn")?).await?;
            Some(entries(&attributes))
        }
        "SetTopicAttributes" => {
            topics
                .set_topic_attribute(
                    required(params, "TopicArn")?,
                    required(params, "AttributeName")?,
                    text("AttributeValue"),
                )
                .await?;
            None
        }
        "Subscribe" => {
            let request = SubscribeRequest {
                topic_arn: required(params, "TopicArn")?.to_owned(),
                protocol: required(params, "Protocol")?.to_owned(),
                endpoint: text("Endpoint").map(str::to_owned),
                attributes: map(params, "Attributes", "key", "value"),
                return_subscription_arn: text("ReturnSubscriptionArn").is_some_and(|value| value == "true"),
            };
            let subscribed = topics.subscribe(request).await?;
            Some(element("SubscriptionArn", &subscribed.subscription_arn))
        }
        "ConfirmSubscription" => {
            let arn = topics
                .confirm_subscription(required(params, "TopicArn")?, required(params, "Token")?)
                .await?;
            Some(element("SubscriptionArn", &arn))
        }
        "Unsubscribe" => {
            topics.unsubscribe(required(params, "SubscriptionArn")?).await?;
            None
        }
        "ListSubscriptions" | "ListSubscriptionsByTopic" => {
            let topic = match action {
                "ListSubscriptionsByTopic" => Some(required(params, "TopicArn")?),
                _ => None,
            };
            let listed = topics.list_subscriptions(topic, text("NextToken")).await?;
            let mut xml = String::from("<Subscriptions>");
            for subscription in &listed.subscriptions {
                xml.push_str(&subscription_member(subscription, topics));
            }
            xml.push_str("</Subscriptions>");
            if let Some(token) = &listed.next_token {
                xml.push_str(&element("NextToken", token));
            }
            Some(xml)
        }
        "GetSubscriptionAttributes" => {
            let attributes = topics
                .get_subscription_attributes(required(params, "SubscriptionArn")?)
                .await?;
            Some(entries(&attributes))
        }
        "SetSubscriptionAttributes" => {
            topics
                .set_subscription_attribute(
                    required(params, "SubscriptionArn")?,
                    required(params, "AttributeName")?,
                    text("AttributeValue"),
                )
                .await?;
            None
        }
        "Publish" => {
            let mut request = publish_request(params, "");
            request.topic_arn = text("TopicArn").map(str::to_owned);
            request.target_arn = text("TargetArn").map(str::to_owned);
            request.phone_number = text("PhoneNumber").map(str::to_owned);
            let published = topics.publish(request).await?;
            let mut xml = element("MessageId", &published.message_id);
            if let Some(number) = &published.sequence_number {
                xml.push_str(&element("SequenceNumber", number));
            }
            Some(xml)
        }
        "PublishBatch" => {
            let topic = required(params, "TopicArn")?;
            let mut batch = Vec::new();
            for index in 1.. {
                let prefix = format!("PublishBatchRequestEntries.member.{index}.");
                let Some(id) = params.get(&format!("{prefix}Id")) else {
                    break;
                };
                batch.push(PublishEntry {
                    id: id.clone(),
                    request: publish_request(params, &prefix),
                });
            }
            let outcome = topics.publish_batch(topic, batch).await?;
            Some(batch_result(outcome))
        }
        other => return Err(Error::invalid(format!("Action Reason: {other} is not served"))),
    })
}
