//! What a target receives: the whole event, a constant `Input`, the part of the event an
//! `InputPath` selects, or an `InputTransformer`'s template filled from the event ([input
//! transformation]).
//!
//! The template's placeholders `<name>` are filled by where they stand:
//! - outside a JSON string (`{"state": <state>}`), a value is inserted as JSON, so strings get
//!   their quotes (`"RUNNING"`), objects and numbers stay what they are;
//! - inside a JSON string (`"instance <instance> is in <state>"`), a string is inserted without
//!   its quotes and anything else as its JSON text.
//!
//! A variable whose path is not in the event is not created: outside a string it becomes `null`
//! (so the output stays JSON), inside a string nothing. Sluice escapes what it inserts inside a
//! string, so the output is always JSON where AWS may pass a quote through unescaped. A
//! template that does not start as JSON (`<instance> is running`) is text: strings go in as they
//! are, and the text is delivered as a JSON string, as is a template that is not JSON after
//! filling.
//!
//! [input transformation]: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sluice_jsonpath::Path;

/// The most variables an `InputPathsMap` may define.
pub const MAX_VARIABLES: usize = 100;

/// The most characters of `Input` and of `InputTemplate`.
pub const MAX_INPUT: usize = 8192;

/// Variables EventBridge defines; a map may not use their names.
const RESERVED: [&str; 5] = [
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event",
    "aws.events.event.ingestion-time",
    "aws.events.event.json",
];

/// `InputTransformer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InputTransformer {
    /// Variable names to JSON paths into the event.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub input_paths_map: BTreeMap<String, String>,
    /// The template.
    pub input_template: String,
}

/// What the rule's context adds to the template's variables.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The rule's ARN.
    pub rule_arn: &'a str,
    /// The rule's name.
    pub rule_name: &'a str,
    /// When the event was accepted (ISO 8601).
    pub ingestion_time: &'a str,
}

/// Checks an `InputPath` and answers what is wrong.
pub fn check_input_path(path: &str) -> Result<(), String> {
    path.parse::<Path>()
        .map(|_| ())
        .map_err(|error| format!("InputPath '{path}' is not a valid JSON path: {error}"))
}

impl InputTransformer {
    /// Checks the map and the template and answers what is wrong.
    pub fn check(&self) -> Result<(), String> {
        if self.input_paths_map.len() > MAX_VARIABLES {
            return Err(format!(
                "InputPathsMap has {} variables; the most is {MAX_VARIABLES}.",
                self.input_paths_map.len()
            ));
        }
        for (name, path) in &self.input_paths_map {
            if RESERVED.contains(&name.as_str()) {
                return Err(format!("InputPathsMap: '{name}' is a reserved variable name."));
            }
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                return Err(format!(
                    "InputPathsMap: '{name}' is not a valid variable name (letters, digits, '_' and '-')."
                ));
            }
            path.parse::<Path>()
                .map_err(|error| format!("InputPathsMap: '{name}': '{path}' is not a valid JSON path: {error}"))?;
        }
        if self.input_template.chars().count() > MAX_INPUT {
            return Err(format!("InputTemplate must be at most {MAX_INPUT} characters."));
        }
        Ok(())
    }

    /// Fills the template from `event`; the result as JSON.
    pub fn apply(&self, event: &Value, context: Context<'_>) -> Value {
        let mut variables: BTreeMap<&str, Value> = BTreeMap::new();
        for (name, path) in &self.input_paths_map {
            if let Some(value) = path.parse::<Path>().ok().and_then(|path| path.select(event).ok()) {
                variables.insert(name, value);
            }
        }
        variables.insert("aws.events.rule-arn", Value::String(context.rule_arn.to_owned()));
        variables.insert("aws.events.rule-name", Value::String(context.rule_name.to_owned()));
        variables.insert(
            "aws.events.event.ingestion-time",
            Value::String(context.ingestion_time.to_owned()),
        );
        let mut without_detail = event.clone();
        if let Value::Object(members) = &mut without_detail {
            members.shift_remove("detail");
        }
        variables.insert("aws.events.event", without_detail);
        variables.insert("aws.events.event.json", event.clone());
        let filled = fill(&self.input_template, |name| {
            variables
                .get(name)
                .map(Some)
                .or_else(|| self.input_paths_map.get(name).map(|_| None))
        });
        serde_json::from_str(&filled).unwrap_or(Value::String(filled))
    }
}

/// Fills `<name>` placeholders: `lookup` answers `Some(Some(value))` for a variable,
/// `Some(None)` for a declared variable that is missing from the event, and `None` for text
/// that is not a variable (left as written).
fn fill<'v>(template: &str, lookup: impl Fn(&str) -> Option<Option<&'v Value>>) -> String {
    let mut output = String::with_capacity(template.len());
    // A template that does not start as JSON is text: strings go in as they are.
    let json = template.trim_start().starts_with(['{', '[', '"']);
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = template;
    while let Some(character) = rest.chars().next() {
        if character == '<'
            && let Some(end) = rest.find('>')
            && let Some(variable) = lookup(&rest[1..end])
        {
            match (variable, json, in_string) {
                (Some(Value::String(text)), false, _) => output.push_str(text),
                (Some(value), false, _) => output.push_str(&value.to_string()),
                (Some(Value::String(text)), true, true) => output.push_str(&escape(text)),
                (Some(value), true, true) => output.push_str(&escape(&value.to_string())),
                (Some(value), true, false) => output.push_str(&value.to_string()),
                (None, true, false) => output.push_str("null"),
                (None, _, _) => {}
            }
            rest = &rest[end + 1..];
            escaped = false;
            continue;
        }
        if in_string {
            match character {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => in_string = false,
                _ => escaped = false,
            }
        } else if character == '"' {
            in_string = true;
        }
        output.push(character);
        rest = &rest[character.len_utf8()..];
    }
    output
}

/// `text` as the inside of a JSON string.
fn escape(text: &str) -> String {
    let quoted = Value::String(text.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event() -> Value {
        json!({
            "version": "0",
            "id": "7bf73129-1428-4cd3-a780-95db273d1602",
            "detail-type": "EC2 Instance State-change Notification",
            "source": "aws.ec2",
            "account": "123456789012",
            "time": "2015-11-11T21:29:54Z",
            "region": "us-east-1",
            "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
            "detail": {"instance-id": "i-0123456789", "state": "RUNNING"}
        })
    }

    const CONTEXT: Context<'static> = Context {
        rule_arn: "arn:aws:events:us-east-2:123456789012:rule/example",
        rule_name: "example",
        ingestion_time: "2015-11-11T21:29:55Z",
    };

    /// The AWS documentation's example map, the template, and what the target receives.
    fn check(template: &str, expect: Value) {
        let transformer = InputTransformer {
            input_paths_map: [
                ("timestamp", "$.time"),
                ("instance", "$.detail.instance-id"),
                ("state", "$.detail.state"),
                ("missing", "$.detail.nothing"),
            ]
            .into_iter()
            .map(|(name, path)| (name.to_owned(), path.to_owned()))
            .collect(),
            input_template: template.to_owned(),
        };
        transformer.check().unwrap();
        assert_eq!(transformer.apply(&event(), CONTEXT), expect, "{template}");
    }

    #[test]
    fn the_aws_documentation_examples() {
        check(
            r#""instance <instance> is in <state>""#,
            json!("instance i-0123456789 is in RUNNING"),
        );
        check(
            r#""instance \"<instance>\" is in <state>""#,
            json!("instance \"i-0123456789\" is in RUNNING"),
        );
        check(
            r#"{"instance" : <instance>, "state": <state>}"#,
            json!({"instance": "i-0123456789", "state": "RUNNING"}),
        );
        check(
            r#"{"instance" : <instance>, "state": "<state>", "instanceStatus": "instance \"<instance>\" is in <state>"}"#,
            json!({"instance": "i-0123456789", "state": "RUNNING", "instanceStatus": "instance \"i-0123456789\" is in RUNNING"}),
        );
        check(
            r#"{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}"#,
            json!({"instance": "i-0123456789", "state": [9, "RUNNING", true], "Transformed": "Yes"}),
        );
        check(r#""<aws.events.rule-name> triggered""#, json!("example triggered"));
    }

    #[test]
    fn reserved_variables() {
        let mut without_detail = event();
        without_detail.as_object_mut().unwrap().shift_remove("detail");
        check(
            r#"{"ruleArn": <aws.events.rule-arn>, "original": <aws.events.event>, "full": <aws.events.event.json>, "at": <aws.events.event.ingestion-time>}"#,
            json!({
                "ruleArn": "arn:aws:events:us-east-2:123456789012:rule/example",
                "original": without_detail,
                "full": event(),
                "at": "2015-11-11T21:29:55Z"
            }),
        );
    }

    #[test]
    fn missing_values_objects_and_plain_text() {
        check(r#"{"m": <missing>, "s": "[<missing>]"}"#, json!({"m": null, "s": "[]"}));
        check(
            r#"{"resources": <aws.events.event.json>}"#,
            json!({"resources": event()}),
        );
        check(
            "<instance> is <state> since <timestamp>",
            json!("i-0123456789 is RUNNING since 2015-11-11T21:29:54Z"),
        );
        check(
            r#"{"text": "a <b> c", "n": <unknown>}"#,
            Value::String(r#"{"text": "a <b> c", "n": <unknown>}"#.into()),
        );
    }

    #[test]
    fn values_inside_strings_are_escaped() {
        let transformer = InputTransformer {
            input_paths_map: [
                ("q".to_owned(), "$.detail.q".to_owned()),
                ("o".to_owned(), "$.detail.o".to_owned()),
            ]
            .into_iter()
            .collect(),
            input_template: r#"{"said": "<q>", "object": "<o>"}"#.to_owned(),
        };
        let event = json!({"detail": {"q": "a \"quoted\" word", "o": {"k": 1}}});
        assert_eq!(
            transformer.apply(&event, CONTEXT),
            json!({"said": "a \"quoted\" word", "object": "{\"k\":1}"})
        );
    }

    #[test]
    fn maps_are_validated() {
        let transformer = |name: &str, path: &str| InputTransformer {
            input_paths_map: [(name.to_owned(), path.to_owned())].into_iter().collect(),
            input_template: "{}".to_owned(),
        };
        assert!(
            transformer("aws.events.event", "$.x")
                .check()
                .unwrap_err()
                .contains("reserved")
        );
        assert!(
            transformer("a b", "$.x")
                .check()
                .unwrap_err()
                .contains("not a valid variable name")
        );
        assert!(
            transformer("a", "x.y")
                .check()
                .unwrap_err()
                .contains("not a valid JSON path")
        );
        assert!(check_input_path("$.detail").is_ok());
        assert!(check_input_path("detail").is_err());
    }
}
