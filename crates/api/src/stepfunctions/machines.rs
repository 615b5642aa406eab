//! State machine operations: `CreateStateMachine`, `UpdateStateMachine`, `DeleteStateMachine`,
//! `DescribeStateMachine` and `ListStateMachines`
//! (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_Operations.html>).

use serde::{Deserialize, Serialize};

use super::validate::{self, ARN_MAX, ArnKind, DEFINITION_MAX, NAME_MAX};
use super::{IncludedData, StateMachineType, page_size};
use crate::error::{ApiError, ErrorCode};
use crate::protocol::{Fields, Sensitivity, Timestamp, enumeration};

/// `CreateStateMachine`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateStateMachineRequest {
    /// The name, unique in the account and region.
    pub name: String,
    /// The definition's JSON text (not yet checked as States Language).
    pub definition: String,
    /// The IAM role the executions would assume.
    pub role_arn: String,
    /// Standard (the default) or Express.
    pub machine_type: StateMachineType,
    /// Logging, as given.
    pub logging_configuration: Option<LoggingConfiguration>,
    /// Tracing, as given.
    pub tracing_configuration: Option<TracingConfiguration>,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Whether to publish version 1.
    pub publish: bool,
    /// The description of the published version.
    pub version_description: Option<String>,
}

/// `CreateStateMachine`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateStateMachineResponse {
    /// The new state machine.
    pub state_machine_arn: String,
    /// When it was created.
    pub creation_date: Timestamp,
    /// The published version, when `publish` was set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
}

/// `UpdateStateMachine`: at least one of the definition, role, logging or tracing.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateStateMachineRequest {
    /// The state machine.
    pub state_machine_arn: String,
    /// A new definition.
    pub definition: Option<String>,
    /// A new role.
    pub role_arn: Option<String>,
    /// New logging.
    pub logging_configuration: Option<LoggingConfiguration>,
    /// New tracing.
    pub tracing_configuration: Option<TracingConfiguration>,
    /// Whether to publish a version.
    pub publish: bool,
    /// The description of the published version.
    pub version_description: Option<String>,
}

/// `UpdateStateMachine`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStateMachineResponse {
    /// When it was updated.
    pub update_date: Timestamp,
    /// The new revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    /// The published version, when `publish` was set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
}

/// `DeleteStateMachine`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteStateMachineRequest {
    /// The state machine.
    pub state_machine_arn: String,
}

/// `DescribeStateMachine`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeStateMachineRequest {
    /// The state machine (or one of its versions).
    pub state_machine_arn: String,
    /// Whether to include the definition.
    pub included_data: Option<IncludedData>,
}

enumeration! {
    /// Whether a state machine is usable or on its way out.
    StateMachineStatus {
        /// `ACTIVE`.
        Active = "ACTIVE",
        /// `DELETING`.
        Deleting = "DELETING",
    }
}

/// `DescribeStateMachine`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeStateMachineResponse {
    /// The state machine.
    pub state_machine_arn: String,
    /// Its name.
    pub name: String,
    /// Active or deleting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<StateMachineStatus>,
    /// The definition's JSON text.
    pub definition: String,
    /// The role.
    pub role_arn: String,
    /// Standard or Express.
    #[serde(rename = "type")]
    pub machine_type: StateMachineType,
    /// When it was created.
    pub creation_date: Timestamp,
    /// Logging.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_configuration: Option<LoggingConfiguration>,
    /// Tracing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing_configuration: Option<TracingConfiguration>,
    /// The revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    /// The description of a version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `ListStateMachines`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListStateMachinesRequest {
    /// At most this many (0: the service's default).
    pub max_results: u32,
    /// Where the previous page stopped.
    pub next_token: Option<String>,
}

/// `ListStateMachines`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListStateMachinesResponse {
    /// One page of state machines.
    pub state_machines: Vec<StateMachineListItem>,
    /// Where the next page starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// A state machine as `ListStateMachines` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateMachineListItem {
    /// The state machine.
    pub state_machine_arn: String,
    /// Its name.
    pub name: String,
    /// Standard or Express.
    #[serde(rename = "type")]
    pub machine_type: StateMachineType,
    /// When it was created.
    pub creation_date: Timestamp,
}

/// Where executions log to, as given (kept, not acted on).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggingConfiguration {
    /// `ALL`, `ERROR`, `FATAL` or `OFF`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Whether input and output are logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_execution_data: Option<bool>,
    /// The log groups, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destinations: Option<Vec<serde_json::Value>>,
}

/// Whether X-Ray tracing is on, as given.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TracingConfiguration {
    /// On or off.
    #[serde(default)]
    pub enabled: bool,
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    /// The key.
    #[serde(default)]
    pub key: String,
    /// The value.
    #[serde(default)]
    pub value: String,
}

impl CreateStateMachineRequest {
    /// Reads and checks the request.
    pub fn read(mut fields: Fields) -> Result<Self, ApiError> {
        let name = fields.required_string("name", 1, NAME_MAX, Sensitivity::Plain);
        let definition = fields.required_string("definition", 1, DEFINITION_MAX, Sensitivity::Sensitive);
        let role_arn = fields.required_string("roleArn", 1, ARN_MAX, Sensitivity::Plain);
        let machine_type = fields.enumeration("type").unwrap_or(StateMachineType::Standard);
        let logging_configuration = fields.structure("loggingConfiguration");
        let tracing_configuration = fields.structure("tracingConfiguration");
        let tags: Vec<Tag> = fields.structure("tags").unwrap_or_default();
        let publish = fields.boolean("publish").unwrap_or(false);
        let version_description = fields.string("versionDescription", 0, 256, Sensitivity::Sensitive);
        fields.finish()?;
        validate::name(&name)?;
        validate::arn(&role_arn, ArnKind::Any)?;
        Ok(Self {
            name,
            definition,
            role_arn,
            machine_type,
            logging_configuration,
            tracing_configuration,
            tags,
            publish,
            version_description,
        })
    }
}

impl UpdateStateMachineRequest {
    /// Reads and checks the request.
    pub fn read(mut fields: Fields) -> Result<Self, ApiError> {
        let state_machine_arn = fields.required_string("stateMachineArn", 1, ARN_MAX, Sensitivity::Plain);
        let definition = fields.string("definition", 1, DEFINITION_MAX, Sensitivity::Sensitive);
        let role_arn = fields.string("roleArn", 1, ARN_MAX, Sensitivity::Plain);
        let logging_configuration = fields.structure("loggingConfiguration");
        let tracing_configuration = fields.structure("tracingConfiguration");
        let publish = fields.boolean("publish").unwrap_or(false);
        let version_description = fields.string("versionDescription", 0, 256, Sensitivity::Sensitive);
        fields.finish()?;
        validate::arn(&state_machine_arn, ArnKind::StateMachine)?;
        if let Some(role_arn) = &role_arn {
            validate::arn(role_arn, ArnKind::Any)?;
        }
        if definition.is_none()
            && role_arn.is_none()
            && logging_configuration.is_none()
            && tracing_configuration.is_none()
        {
            return Err(ApiError::new(
                ErrorCode::MissingRequiredParameter,
                "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be \
                 specified",
            ));
        }
        Ok(Self {
            state_machine_arn,
            definition,
            role_arn,
            logging_configuration,
            tracing_configuration,
            publish,
            version_description,
        })
    }
}

impl DeleteStateMachineRequest {
    /// Reads and checks the request.
    pub fn read(mut fields: Fields) -> Result<Self, ApiError> {
        let state_machine_arn = fields.required_string("stateMachineArn", 1, ARN_MAX, Sensitivity::Plain);
        fields.finish()?;
        validate::arn(&state_machine_arn, ArnKind::StateMachine)?;
        Ok(Self { state_machine_arn })
    }
}

impl DescribeStateMachineRequest {
    /// Reads and checks the request.
    pub fn read(mut fields: Fields) -> Result<Self, ApiError> {
        let state_machine_arn = fields.required_string("stateMachineArn", 1, ARN_MAX, Sensitivity::Plain);
        let included_data = fields.enumeration("includedData");
        fields.finish()?;
        validate::arn(&state_machine_arn, ArnKind::StateMachine)?;
        Ok(Self {
            state_machine_arn,
            included_data,
        })
    }
}

impl ListStateMachinesRequest {
    /// Reads and checks the request.
    pub fn read(mut fields: Fields) -> Result<Self, ApiError> {
        let max_results = page_size(&mut fields);
        let next_token = fields.string("nextToken", 1, 1024, Sensitivity::Plain);
        fields.finish()?;
        Ok(Self {
            max_results,
            next_token,
        })
    }
}
