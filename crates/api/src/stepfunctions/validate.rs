//! The checks Step Functions makes beyond the model's constraints: names, ARNs, and JSON payloads,
//! with AWS's codes and messages.

use crate::error::{ApiError, ErrorCode};

/// The largest execution input, task output or state input, in bytes (256 KiB).
pub const PAYLOAD_MAX: usize = 262_144;

/// The largest definition, in characters (1 MiB).
pub const DEFINITION_MAX: usize = 1_048_576;

/// The longest name of a state machine or execution.
pub const NAME_MAX: usize = 80;

/// The longest ARN.
pub const ARN_MAX: usize = 256;

/// The longest task token.
pub const TOKEN_MAX: usize = 2048;

/// The longest error name.
pub const ERROR_MAX: usize = 256;

/// The longest cause.
pub const CAUSE_MAX: usize = 32_768;

/// Checks a state machine or execution name: no whitespace, brackets, wildcards, the special
/// characters `" # % \ ^ | ~ ` $ & , ; : /`, nor control characters.
pub fn name(name: &str) -> Result<(), ApiError> {
    let forbidden = |character: char| {
        character.is_whitespace()
            || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(character)
            || matches!(character, '\u{0000}'..='\u{001f}' | '\u{007f}'..='\u{009f}')
    };
    if name.chars().any(forbidden) {
        return Err(ApiError::new(ErrorCode::InvalidName, format!("Invalid Name: '{name}'")));
    }
    Ok(())
}

/// The kinds of resource an ARN may name here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArnKind {
    /// `arn:aws:states:{region}:{account}:stateMachine:{name}[:{version or alias}]`.
    StateMachine,
    /// `arn:aws:states:{region}:{account}:execution:{machine}:{name}` (or `express:`).
    Execution,
    /// `arn:aws:states:{region}:{account}:mapRun:{machine}/{map}:{id}`.
    MapRun,
    /// Any well-formed ARN, such as an IAM role's.
    Any,
}

/// Checks that `arn` is an ARN of `kind`.
pub fn arn(arn: &str, kind: ArnKind) -> Result<(), ApiError> {
    let invalid = |reason: String| ApiError::new(ErrorCode::InvalidArn, format!("Invalid Arn: '{reason}'"));
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() < 6 || parts[0] != "arn" || parts[1].is_empty() || parts[2].is_empty() {
        return Err(invalid(format!("Invalid ARN prefix: {arn}")));
    }
    if kind == ArnKind::Any {
        return Ok(());
    }
    let resource_type = parts[5];
    let resource = &parts[6..];
    let well_formed = parts[2] == "states"
        && match kind {
            ArnKind::StateMachine => resource_type == "stateMachine" && matches!(resource.len(), 1 | 2),
            ArnKind::Execution => matches!(resource_type, "execution" | "express") && resource.len() >= 2,
            ArnKind::MapRun => resource_type == "mapRun" && resource.len() == 2,
            ArnKind::Any => true,
        };
    if !well_formed || resource.iter().any(|part| part.is_empty()) {
        return Err(invalid(format!(
            "Resource type not valid in this context: {resource_type}"
        )));
    }
    Ok(())
}

/// Checks that an execution input is JSON (its size is a model constraint, checked before).
pub fn execution_input(input: &str) -> Result<(), ApiError> {
    json(input).map_err(|error| {
        ApiError::new(
            ErrorCode::InvalidExecutionInput,
            format!("Invalid State Machine Execution Input: '{error}'"),
        )
    })
}

/// Checks that a task output is JSON.
pub fn task_output(output: &str) -> Result<(), ApiError> {
    json(output).map_err(|error| ApiError::new(ErrorCode::InvalidOutput, format!("Invalid Output: '{error}'")))
}

/// Checks that a payload is no larger than [`PAYLOAD_MAX`] bytes in UTF-8 (AWS counts bytes).
pub fn payload_size(member: &str, payload: &str) -> Result<(), ApiError> {
    if payload.len() > PAYLOAD_MAX {
        return Err(ApiError::new(
            ErrorCode::ValidationException,
            format!(
                "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have \
                 length less than or equal to {PAYLOAD_MAX}"
            ),
        ));
    }
    Ok(())
}

fn json(text: &str) -> Result<(), serde_json::Error> {
    serde_json::from_str::<serde::de::IgnoredAny>(text).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(result: Result<(), ApiError>, expect: Result<(), &str>) {
        assert_eq!(
            result.map_err(|error| format!("{}: {}", error.code.as_str(), error.message)),
            expect.map_err(str::to_owned)
        );
    }

    #[test]
    fn names() {
        check(name("Hello-World_1.2"), Ok(()));
        check(name("héllo"), Ok(()));
        check(name("a b"), Err("InvalidName: Invalid Name: 'a b'"));
        check(name("a:b"), Err("InvalidName: Invalid Name: 'a:b'"));
        check(name("a\u{0085}b"), Err("InvalidName: Invalid Name: 'a\u{0085}b'"));
    }

    #[test]
    fn arns() {
        let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:hello";
        check(arn(machine, ArnKind::StateMachine), Ok(()));
        check(arn(&format!("{machine}:1"), ArnKind::StateMachine), Ok(()));
        check(
            arn(
                "arn:aws:states:us-east-1:123456789012:execution:hello:run",
                ArnKind::Execution,
            ),
            Ok(()),
        );
        check(
            arn(
                "arn:aws:states:us-east-1:123456789012:express:hello:run:id",
                ArnKind::Execution,
            ),
            Ok(()),
        );
        check(arn("arn:aws:iam::123456789012:role/x", ArnKind::Any), Ok(()));
        check(
            arn("hello", ArnKind::StateMachine),
            Err("InvalidArn: Invalid Arn: 'Invalid ARN prefix: hello'"),
        );
        check(
            arn(
                "arn:aws:states:us-east-1:123456789012:execution:hello:run",
                ArnKind::StateMachine,
            ),
            Err("InvalidArn: Invalid Arn: 'Resource type not valid in this context: execution'"),
        );
        check(
            arn(machine, ArnKind::Execution),
            Err("InvalidArn: Invalid Arn: 'Resource type not valid in this context: stateMachine'"),
        );
    }

    #[test]
    fn payloads() {
        check(execution_input(r#"{"a": [1, 2]}"#), Ok(()));
        assert_eq!(execution_input("{").unwrap_err().code, ErrorCode::InvalidExecutionInput);
        assert_eq!(task_output("nope").unwrap_err().code, ErrorCode::InvalidOutput);
        check(payload_size("input", &"x".repeat(PAYLOAD_MAX)), Ok(()));
        assert_eq!(
            payload_size("input", &"é".repeat(PAYLOAD_MAX / 2 + 1))
                .unwrap_err()
                .code,
            ErrorCode::ValidationException
        );
    }
}
