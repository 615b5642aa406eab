//! Subscription filter policies, on message attributes or on the message body, in SNS's
//! syntax, evaluated with EventBridge's matcher ([`sluice_patterns::Pattern`]).
//!
//! SNS's filter policy language is EventBridge's pattern language with these differences, which
//! this module applies before or around the shared matcher:
//! - **Scope `MessageAttributes`** (the default): the policy's keys are attribute names and
//!   cannot nest. The message's attributes become one JSON object: a `String` attribute its
//!   text, a `Number` attribute a number, a `String.Array` attribute the array it holds (any
//!   element may match); `Binary` attributes are never matched.
//! - **Scope `MessageBody`**: the policy applies to the body, which must be a JSON object; a body
//!   that is not one matches no policy.
//! - `wildcard` is EventBridge's only: SNS refuses it.
//! - Limits: at most 5 keys (attribute names, or leaf paths in the body), and at most 150
//!   combinations of values (the product of the values per key, summed over `$or` branches).
//! - Numbers: SNS accepts `numeric` bounds between -1.0e9 and 1.0e9 (EventBridge ±5.0e9);
//!   comparisons use EventBridge's six decimal places (SNS documents five).

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sluice_patterns::Pattern;

use crate::publish::MessageAttribute;

/// The most keys a policy may have.
pub const MAX_KEYS: usize = 5;
/// The most combinations of values a policy may have.
pub const MAX_COMBINATIONS: usize = 150;
/// The largest numeric bound SNS accepts.
const MAX_NUMBER: f64 = 1.0e9;

/// Where a policy applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// To the message's attributes (`MessageAttributes`).
    #[default]
    MessageAttributes,
    /// To the message's body, a JSON object (`MessageBody`).
    MessageBody,
}

impl Scope {
    /// Reads `FilterPolicyScope`.
    pub fn parse(text: &str) -> Result<Scope, String> {
        match text {
            "MessageAttributes" => Ok(Scope::MessageAttributes),
            "MessageBody" => Ok(Scope::MessageBody),
            other => Err(format!(
                "FilterPolicyScope: Invalid filter policy scope: {other}. Must be MessageAttributes or MessageBody"
            )),
        }
    }
}

/// A valid filter policy with its scope.
#[derive(Debug, Clone)]
pub struct FilterPolicy {
    pattern: Pattern,
    scope: Scope,
}

impl FilterPolicy {
    /// Parses and checks a policy for `scope`; the error is SNS's reason, after
    /// `Invalid parameter: FilterPolicy: `.
    pub fn parse(text: &str, scope: Scope) -> Result<FilterPolicy, String> {
        if text.len() > 256 * 1024 {
            return Err("Filter policy is too long".to_owned());
        }
        let value: Value = serde_json::from_str(text).map_err(|error| format!("failed to parse JSON. {error}"))?;
        let Value::Object(object) = &value else {
            return Err("Filter policy must be a JSON object".to_owned());
        };
        let mut keys = Vec::new();
        check(object, scope, &mut Vec::new(), &mut keys)?;
        keys.sort();
        keys.dedup();
        if keys.len() > MAX_KEYS {
            return Err(format!("Filter policy can not have more than {MAX_KEYS} keys"));
        }
        let combinations = combinations(object);
        if combinations > MAX_COMBINATIONS {
            return Err(format!(
                "Filter policy is too complex: it has {combinations} combinations of values, more than {MAX_COMBINATIONS}"
            ));
        }
        let pattern = Pattern::from_value(&value).map_err(|error| error.to_string())?;
        Ok(FilterPolicy { pattern, scope })
    }

    /// The scope.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// Whether a message with `body` and `attributes` passes.
    pub fn matches(&self, body: &str, attributes: &BTreeMap<String, MessageAttribute>) -> bool {
        match self.scope {
            Scope::MessageAttributes => self.pattern.matches(&attributes_object(attributes)),
            Scope::MessageBody => match serde_json::from_str::<Value>(body) {
                Ok(value @ Value::Object(_)) => self.pattern.matches(&value),
                _ => false,
            },
        }
    }
}

/// The attributes as the JSON object a policy is matched against.
fn attributes_object(attributes: &BTreeMap<String, MessageAttribute>) -> Value {
    let mut object = Map::new();
    for (name, attribute) in attributes {
        let Some(text) = &attribute.string_value else {
            continue;
        };
        let base = attribute.data_type.split('.').next().unwrap_or_default();
        let value = if attribute.data_type == "String.Array" {
            match serde_json::from_str::<Value>(text) {
                Ok(array @ Value::Array(_)) => array,
                _ => Value::String(text.clone()),
            }
        } else if base == "Number" {
            match text.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                Some(number) => Value::Number(number),
                None => Value::String(text.clone()),
            }
        } else if base == "String" {
            Value::String(text.clone())
        } else {
            continue;
        };
        object.insert(name.clone(), value);
    }
    Value::Object(object)
}

/// Checks what SNS refuses and EventBridge would take; collects the keys (leaf paths).
fn check(
    object: &Map<String, Value>,
    scope: Scope,
    path: &mut Vec<String>,
    keys: &mut Vec<String>,
) -> Result<(), String> {
    for (key, value) in object {
        if key == "$or" {
            let Value::Array(branches) = value else {
                return Err("$or must be an array of objects".to_owned());
            };
            for branch in branches {
                let Value::Object(branch) = branch else {
                    return Err("$or must be an array of objects".to_owned());
                };
                check(branch, scope, path, keys)?;
            }
            continue;
        }
        path.push(key.clone());
        match value {
            Value::Object(nested) => {
                if scope == Scope::MessageAttributes {
                    return Err(format!(
                        "\"{key}\": a filter policy with the scope MessageAttributes cannot nest: each key is an attribute name and takes an array of values"
                    ));
                }
                check(nested, scope, path, keys)?;
            }
            Value::Array(values) => {
                for matcher in values {
                    check_matcher(key, matcher)?;
                }
                keys.push(path.join("."));
            }
            _ => {
                return Err(format!("\"{key}\" must be an object or an array"));
            }
        }
        path.pop();
    }
    Ok(())
}

fn check_matcher(key: &str, matcher: &Value) -> Result<(), String> {
    let Value::Object(operators) = matcher else {
        return Ok(());
    };
    for (operator, operand) in operators {
        match operator.as_str() {
            "wildcard" => {
                return Err(format!("\"{key}\": Unrecognized match type wildcard"));
            }
            "anything-but" => {
                if let Value::Object(inner) = operand
                    && inner.contains_key("wildcard")
                {
                    return Err(format!("\"{key}\": Unrecognized match type wildcard"));
                }
            }
            "numeric" => {
                if let Value::Array(items) = operand {
                    for item in items {
                        if item.as_f64().is_some_and(|bound| bound.abs() > MAX_NUMBER) {
                            return Err(format!(
                                "\"{key}\": Value of {item} is out of range: numeric bounds must be between -1.0E9 and 1.0E9"
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The combinations of values a policy (or part of one) allows.
fn combinations(object: &Map<String, Value>) -> usize {
    let mut total: usize = 1;
    for (key, value) in object {
        let factor = match value {
            Value::Array(values) if key == "$or" => values
                .iter()
                .map(|branch| match branch {
                    Value::Object(branch) => combinations(branch),
                    _ => 1,
                })
                .fold(0_usize, usize::saturating_add),
            Value::Array(values) => values.len().max(1),
            Value::Object(nested) => combinations(nested),
            _ => 1,
        };
        total = total.saturating_mul(factor);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attributes(pairs: &[(&str, &str, &str)]) -> BTreeMap<String, MessageAttribute> {
        pairs
            .iter()
            .map(|(name, data_type, value)| {
                (
                    (*name).to_owned(),
                    MessageAttribute {
                        data_type: (*data_type).to_owned(),
                        string_value: Some((*value).to_owned()),
                        binary_value: None,
                    },
                )
            })
            .collect()
    }

    fn check_attributes(policy: &str, given: &[(&str, &str, &str)], expect: bool) {
        let policy = FilterPolicy::parse(policy, Scope::MessageAttributes).expect("a valid policy");
        assert_eq!(
            policy.matches("body", &attributes(given)),
            expect,
            "{policy:?} on {given:?}"
        );
    }

    fn check_body(policy: &str, body: &str, expect: bool) {
        let policy = FilterPolicy::parse(policy, Scope::MessageBody).expect("a valid policy");
        assert_eq!(policy.matches(body, &BTreeMap::new()), expect, "{policy:?} on {body}");
    }

    fn refused(policy: &str, scope: Scope) -> String {
        FilterPolicy::parse(policy, scope).expect_err("an invalid policy")
    }

    #[test]
    fn attribute_operators_follow_sns() {
        let store = [("store", "String", "example_corp")];
        check_attributes(r#"{"store":["example_corp"]}"#, &store, true);
        check_attributes(r#"{"store":["other"]}"#, &store, false);
        check_attributes(r#"{"store":[{"prefix":"example"}]}"#, &store, true);
        check_attributes(r#"{"store":[{"suffix":"_corp"}]}"#, &store, true);
        check_attributes(r#"{"store":[{"equals-ignore-case":"EXAMPLE_CORP"}]}"#, &store, true);
        check_attributes(r#"{"store":[{"anything-but":["example_corp"]}]}"#, &store, false);
        check_attributes(r#"{"store":[{"anything-but":{"prefix":"ex"}}]}"#, &store, false);
        check_attributes(r#"{"store":[{"exists":true}]}"#, &store, true);
        check_attributes(r#"{"missing":[{"exists":false}]}"#, &store, true);
        check_attributes(r#"{"missing":[{"anything-but":"x"}]}"#, &store, false);
        let price = [("price", "Number", "250")];
        check_attributes(r#"{"price":[{"numeric":[">",100,"<=",250]}]}"#, &price, true);
        check_attributes(r#"{"price":[{"numeric":["=",2.5e2]}]}"#, &price, true);
        check_attributes(r#"{"price":[250]}"#, &price, true);
        let text_price = [("price", "String", "250")];
        check_attributes(r#"{"price":[{"numeric":[">",100]}]}"#, &text_price, false);
        let ip = [("source_ip", "String", "10.0.0.7")];
        check_attributes(r#"{"source_ip":[{"cidr":"10.0.0.0/24"}]}"#, &ip, true);
        let sizes = [("sizes", "String.Array", r#"["small","large"]"#)];
        check_attributes(r#"{"sizes":["large"]}"#, &sizes, true);
        check_attributes(r#"{"sizes":["medium"]}"#, &sizes, false);
        check_attributes(
            r#"{"$or":[{"store":["nope"]},{"price":[{"numeric":[">",1]}]}]}"#,
            &[("store", "String", "a"), ("price", "Number", "5")],
            true,
        );
        check_attributes(r#"{"store":["a"],"price":[5]}"#, &[("store", "String", "a")], false);
    }

    #[test]
    fn body_policies_match_nested_keys() {
        let body = r#"{"order":{"kind":"book","total":12},"tags":["a","b"]}"#;
        check_body(r#"{"order":{"kind":["book"]}}"#, body, true);
        check_body(
            r#"{"order":{"total":[{"numeric":[">=",12]}]},"tags":["b"]}"#,
            body,
            true,
        );
        check_body(r#"{"order":{"kind":["film"]}}"#, body, false);
        check_body(r#"{"order":{"kind":["book"]}}"#, "not json", false);
    }

    #[test]
    fn invalid_policies_are_refused_with_the_reason() {
        assert!(refused("{", Scope::MessageAttributes).contains("failed to parse JSON"));
        assert!(refused("[]", Scope::MessageAttributes).contains("JSON object"));
        assert!(refused(r#"{"a":{"b":["c"]}}"#, Scope::MessageAttributes).contains("cannot nest"));
        assert!(refused(r#"{"a":"b"}"#, Scope::MessageAttributes).contains("object or an array"));
        assert!(refused(r#"{"a":[{"wildcard":"x*"}]}"#, Scope::MessageBody).contains("wildcard"));
        assert!(
            refused(
                r#"{"a":[1],"b":[1],"c":[1],"d":[1],"e":[1],"f":[1]}"#,
                Scope::MessageAttributes
            )
            .contains("more than 5 keys")
        );
        let many: Vec<String> = (0..13).map(|number| number.to_string()).collect();
        let list = many.join(",");
        let complex = format!(r#"{{"a":[{list}],"b":[{list}]}}"#);
        assert!(refused(&complex, Scope::MessageAttributes).contains("too complex"));
        assert!(refused(r#"{"a":[{"numeric":[">",2e9]}]}"#, Scope::MessageAttributes).contains("out of range"));
        assert!(refused(r#"{"a":[{"prefix":5}]}"#, Scope::MessageAttributes).contains("prefix"));
        assert!(Scope::parse("Body").is_err());
    }
}
