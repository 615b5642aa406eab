//! The like route, `POST /publikes/likes`: checks `X-Publikes-Secret` in constant time (wrong or
//! missing → 401), reads `{"id": "<status id>"}` (anything else → 400), puts `{id, ts}` on the
//! FIFO queue and answers 202. Errors are `{"ok": false, "error": {"code", "message"}}`.

use base64::Engine as _;
use serde_json::{Value, json};
use sluice_queues::{Queues, SendMessage};
use subtle::ConstantTimeEq;

use crate::layout::is_status_id;
use crate::{Error, QUEUE};

/// The header carrying the shared secret.
pub const SECRET_HEADER: &str = "x-publikes-secret";

/// Answers one function-URL event.
pub async fn like(queues: &Queues, secret: &str, event: &Value) -> Result<Value, Error> {
    let given = event["headers"][SECRET_HEADER].as_str().unwrap_or_default();
    // An empty configured secret accepts nobody.
    let matches: bool = given.as_bytes().ct_eq(secret.as_bytes()).into();
    if secret.is_empty() || !matches {
        return Ok(refusal(401, "unauthorized", "missing or wrong X-Publikes-Secret"));
    }
    let id = match status_id(event) {
        Ok(id) => id,
        Err(message) => return Ok(refusal(400, "bad_request", &message)),
    };
    let ts = event["requestContext"]["timeEpoch"]
        .as_i64()
        .map(|millis| millis / 1000)
        .unwrap_or_else(|| chrono::Utc::now().timestamp());
    let message = SendMessage {
        body: json!({"id": id, "ts": ts}).to_string(),
        delay_seconds: None,
        attributes: Default::default(),
        system_attributes: Default::default(),
        // Every like is its own message; a status liked twice is stored once by insert-status.
        deduplication_id: Some(uuid::Uuid::new_v4().to_string()),
        // One group: statuses are inserted in the order they arrived.
        group_id: Some("likes".to_owned()),
    };
    queues
        .send_message(QUEUE, message)
        .await
        .map_err(|error| Error::Storage(format!("cannot send to {QUEUE}: {error}")))?;
    Ok(json!({
        "statusCode": 202,
        "headers": {"content-type": "application/json"},
        "body": json!({"ok": true, "id": id}).to_string(),
    }))
}

/// The status id of the body, or what is wrong with the body.
fn status_id(event: &Value) -> Result<String, String> {
    const SHAPE: &str = "the body must be JSON {\"id\": \"<status id>\"}";
    let body = event["body"].as_str().unwrap_or_default();
    let bytes = if event["isBase64Encoded"] == Value::Bool(true) {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| format!("{SHAPE}; it is not even base64"))?
    } else {
        body.as_bytes().to_vec()
    };
    let parsed: Value = serde_json::from_slice(&bytes).map_err(|error| format!("{SHAPE}: {error}"))?;
    match &parsed["id"] {
        Value::String(id) if is_status_id(id) => Ok(id.clone()),
        Value::Null => Err(format!("{SHAPE}; id is missing")),
        other => Err(format!("{SHAPE}; id {other} is not a string of digits")),
    }
}

fn refusal(status: u16, code: &str, message: &str) -> Value {
    json!({
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json!({"ok": false, "error": {"code": code, "message": message}}).to_string(),
    })
}
