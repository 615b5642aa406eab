//! The Step Functions operations end to end through the router (no socket), with the in-memory
//! fake: each operation's shapes, and the checks AWS makes on requests.

use serde_json::json;

use crate::testing::*;

#[tokio::test]
async fn state_machines_round_trip() {
    let app = app();
    let created = json!({"stateMachineArn": MACHINE, "creationDate": 1_763_900_000.25});
    let create = json!({"name": "hello", "definition": DEFINITION, "roleArn": ROLE, "type": "EXPRESS",
        "loggingConfiguration": {"level": "OFF", "includeExecutionData": false}, "tags": [{"key": "k", "value": "v"}]});
    check(&app, "CreateStateMachine", create, Ok(created)).await;
    let described = json!({"stateMachineArn": MACHINE, "name": "hello", "status": "ACTIVE", "definition": DEFINITION,
        "roleArn": ROLE, "type": "EXPRESS", "creationDate": 1_763_900_000.25,
        "loggingConfiguration": {"level": "OFF", "includeExecutionData": false}});
    check(
        &app,
        "DescribeStateMachine",
        json!({"stateMachineArn": MACHINE}),
        Ok(described),
    )
    .await;
    let listed = json!({"stateMachines": [{"stateMachineArn": MACHINE, "name": "hello", "type": "EXPRESS", "creationDate": 1_763_900_000.25}]});
    check(&app, "ListStateMachines", json!({"maxResults": 10}), Ok(listed)).await;
    let updated = json!({"updateDate": 1_763_900_000.25, "revisionId": "2"});
    check(
        &app,
        "UpdateStateMachine",
        json!({"stateMachineArn": MACHINE, "definition": DEFINITION}),
        Ok(updated),
    )
    .await;
    check(
        &app,
        "DeleteStateMachine",
        json!({"stateMachineArn": MACHINE}),
        Ok(json!({})),
    )
    .await;
    check(
        &app,
        "DescribeStateMachine",
        json!({"stateMachineArn": MACHINE}),
        Err(("StateMachineDoesNotExist", "State Machine Does Not Exist")),
    )
    .await;
}

#[tokio::test]
async fn executions_round_trip() {
    let app = app();
    let create = json!({"name": "hello", "definition": DEFINITION, "roleArn": ROLE});
    assert_eq!(call(&app, "CreateStateMachine", create).await.0, 200);
    let started = json!({"executionArn": EXECUTION, "startDate": 1_763_900_000.25});
    let start = json!({"stateMachineArn": MACHINE, "name": "run-1", "input": "{\"a\":1}"});
    check(&app, "StartExecution", start, Ok(started)).await;
    let described = json!({"executionArn": EXECUTION, "stateMachineArn": MACHINE, "name": "run-1", "status": "RUNNING",
        "startDate": 1_763_900_000.25, "input": "{\"a\":1}", "inputDetails": {"included": true}});
    check(
        &app,
        "DescribeExecution",
        json!({"executionArn": EXECUTION}),
        Ok(described),
    )
    .await;
    let listed = json!({"executions": [{"executionArn": EXECUTION, "stateMachineArn": MACHINE, "name": "run-1",
        "status": "RUNNING", "startDate": 1_763_900_000.25}]});
    check(
        &app,
        "ListExecutions",
        json!({"stateMachineArn": MACHINE, "statusFilter": "RUNNING", "maxResults": 5}),
        Ok(listed),
    )
    .await;
    let history = json!({"events": [
        {"timestamp": 1_763_900_000.25, "type": "ExecutionStarted", "id": 1, "previousEventId": 0,
         "executionStartedEventDetails": {"input": "{\"a\":1}", "roleArn": "arn:aws:iam::123456789012:role/r"}},
        {"timestamp": 1_763_900_000.25, "type": "PassStateEntered", "id": 2, "previousEventId": 1,
         "stateEnteredEventDetails": {"name": "Start", "input": "{\"a\":1}"}}]});
    check(
        &app,
        "GetExecutionHistory",
        json!({"executionArn": EXECUTION, "reverseOrder": false}),
        Ok(history),
    )
    .await;
    check(
        &app,
        "StopExecution",
        json!({"executionArn": EXECUTION, "error": "E", "cause": "C"}),
        Ok(json!({"stopDate": 1_763_900_000.25})),
    )
    .await;
    check(
        &app,
        "StartSyncExecution",
        json!({"stateMachineArn": MACHINE}),
        Err(("StateMachineTypeNotSupported", "")),
    )
    .await;
    check(
        &app,
        "DescribeExecution",
        json!({"executionArn": format!("{EXECUTION}x")}),
        Err(("ExecutionDoesNotExist", "")),
    )
    .await;
}

#[tokio::test]
async fn express_sync_execution() {
    let app = app();
    let create = json!({"name": "hello", "definition": DEFINITION, "roleArn": ROLE, "type": "EXPRESS"});
    assert_eq!(call(&app, "CreateStateMachine", create).await.0, 200);
    let expect = json!({"executionArn": "arn:aws:states:us-east-1:123456789012:execution:hello:sync",
        "stateMachineArn": MACHINE, "name": "sync", "startDate": 1_763_900_000.25, "stopDate": 1_763_900_000.25,
        "status": "SUCCEEDED", "input": "{}", "output": "{}"});
    check(
        &app,
        "StartSyncExecution",
        json!({"stateMachineArn": MACHINE}),
        Ok(expect),
    )
    .await;
}

#[tokio::test]
async fn tasks_and_testing_round_trip() {
    let app = app();
    check(
        &app,
        "SendTaskSuccess",
        json!({"taskToken": "good", "output": "[1]"}),
        Ok(json!({})),
    )
    .await;
    check(
        &app,
        "SendTaskFailure",
        json!({"taskToken": "good", "error": "E"}),
        Ok(json!({})),
    )
    .await;
    check(
        &app,
        "SendTaskHeartbeat",
        json!({"taskToken": "ended"}),
        Err(("TaskDoesNotExist", "")),
    )
    .await;
    check(
        &app,
        "SendTaskHeartbeat",
        json!({"taskToken": "bad"}),
        Err(("InvalidToken", "")),
    )
    .await;
    check(
        &app,
        "SendTaskSuccess",
        json!({"taskToken": "good", "output": "nope"}),
        Err(("InvalidOutput", "Invalid Output")),
    )
    .await;
    let ok = json!({"result": "OK", "diagnostics": [], "truncated": false});
    check(
        &app,
        "ValidateStateMachineDefinition",
        json!({"definition": DEFINITION}),
        Ok(ok),
    )
    .await;
    let fail = json!({"result": "FAIL", "diagnostics": [{"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED",
        "message": "These fields are required: [StartAt, States]", "location": "/"}], "truncated": false});
    check(
        &app,
        "ValidateStateMachineDefinition",
        json!({"definition": "{}", "type": "STANDARD"}),
        Ok(fail),
    )
    .await;
    let tested = json!({"output": "{\"x\":1}", "inspectionData": {"input": "{\"x\":1}"}, "nextState": "Next", "status": "SUCCEEDED"});
    let test = json!({"definition": r#"{"Type":"Pass","Next":"Next"}"#, "roleArn": ROLE, "input": "{\"x\":1}", "inspectionLevel": "DEBUG"});
    check(&app, "TestState", test, Ok(tested)).await;
}

#[tokio::test]
async fn requests_are_checked_as_aws_checks_them() {
    let app = app();
    let create = |name: &str| json!({"name": name, "definition": DEFINITION, "roleArn": ROLE});
    check(
        &app,
        "CreateStateMachine",
        create("a b"),
        Err(("InvalidName", "Invalid Name: 'a b'")),
    )
    .await;
    let long = "x".repeat(81);
    let message = format!(
        "1 validation error detected: Value '{long}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80"
    );
    check(
        &app,
        "CreateStateMachine",
        create(&long),
        Err(("ValidationException", &message)),
    )
    .await;
    check(&app, "CreateStateMachine", json!({"name": "a", "definition": DEFINITION}),
        Err(("ValidationException", "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null"))).await;
    check(&app, "CreateStateMachine", json!({"name": "a", "definition": DEFINITION, "roleArn": ROLE, "type": "FAST"}),
        Err(("ValidationException", "1 validation error detected: Value 'FAST' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"))).await;
    check(
        &app,
        "DescribeStateMachine",
        json!({"stateMachineArn": "hello"}),
        Err(("InvalidArn", "Invalid Arn: 'Invalid ARN prefix: hello'")),
    )
    .await;
    check(
        &app,
        "DescribeExecution",
        json!({"executionArn": MACHINE}),
        Err((
            "InvalidArn",
            "Invalid Arn: 'Resource type not valid in this context: stateMachine'",
        )),
    )
    .await;
    check(
        &app,
        "StartExecution",
        json!({"stateMachineArn": MACHINE, "input": "{"}),
        Err(("InvalidExecutionInput", "Invalid State Machine Execution Input")),
    )
    .await;
    let big = format!("\"{}\"", "x".repeat(262_144));
    check(&app, "StartExecution", json!({"stateMachineArn": MACHINE, "input": big}),
        Err(("ValidationException", "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to 262144"))).await;
    check(&app, "ListExecutions", json!({"stateMachineArn": MACHINE, "maxResults": 1001}),
        Err(("ValidationException", "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"))).await;
    check(
        &app,
        "ListExecutions",
        json!({}),
        Err(("ValidationException", "Must provide a StateMachine ARN or MapRun ARN")),
    )
    .await;
    check(
        &app,
        "UpdateStateMachine",
        json!({"stateMachineArn": MACHINE}),
        Err(("MissingRequiredParameter", "Either the definition")),
    )
    .await;
    check(
        &app,
        "ListStateMachines",
        json!({"nextToken": "x"}),
        Err(("InvalidToken", "")),
    )
    .await;
}

#[test]
fn history_details_members() {
    for (event_type, member) in [
        ("TaskStateEntered", "stateEnteredEventDetails"),
        ("ChoiceStateExited", "stateExitedEventDetails"),
        ("ExecutionSucceeded", "executionSucceededEventDetails"),
        ("MapIterationFailed", "mapIterationFailedEventDetails"),
        ("LambdaFunctionScheduled", "lambdaFunctionScheduledEventDetails"),
        ("TaskSucceeded", "taskSucceededEventDetails"),
    ] {
        assert_eq!(super::HistoryEvent::details_member(event_type), member);
    }
}
