//! Sluice's own API (`SluiceAdmin.*`, signing name `sluice`), in the style of the AWS JSON
//! protocols: what AWS does through other services, such as deploying an app's functions and
//! state machines at once from its `sluice.toml`.

use async_trait::async_trait;
use axum::response::Response;
use serde::Serialize;

use crate::error::{ApiError, ErrorCode};
use crate::protocol::{Fields, Sensitivity, reply};

/// The `X-Amz-Target` prefix of Sluice's own API.
pub const TARGET_PREFIX: &str = "SluiceAdmin";

/// The name its requests are signed for.
pub const SIGNING_NAME: &str = "sluice";

/// `DeployApp`: deploy the app in a folder the server can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployAppRequest {
    /// The app folder (holding `sluice.toml`), absolute, as the server sees it.
    pub path: String,
}

impl DeployAppRequest {
    /// Reads and checks the request.
    pub fn read(mut fields: Fields) -> Result<DeployAppRequest, ApiError> {
        let path = fields.required_string("path", 1, 4096, Sensitivity::Plain);
        fields.finish()?;
        if !std::path::Path::new(&path).is_absolute() {
            return Err(ApiError::new(
                ErrorCode::ValidationException,
                format!("path must be absolute, as the server sees it: {path:?}"),
            ));
        }
        Ok(DeployAppRequest { path })
    }
}

/// What a deployment did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployAppResponse {
    /// The app's name.
    pub app: String,
    /// The state machines created or updated.
    pub state_machines: Vec<DeployedStateMachine>,
    /// The functions registered.
    pub functions: Vec<String>,
}

/// One state machine of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployedStateMachine {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub state_machine_arn: String,
    /// The revision now current (1 when created).
    pub revision: u64,
}

/// Sluice's own operations.
#[async_trait]
pub trait Admin: Send + Sync {
    /// `DeployApp`: all of the app or, when anything in it is wrong, none of it.
    async fn deploy_app(&self, request: DeployAppRequest) -> Result<DeployAppResponse, ApiError>;
}

/// Answers one `SluiceAdmin` operation.
pub async fn dispatch(service: &dyn Admin, operation: &str, body: &[u8]) -> Result<Response, ApiError> {
    match operation {
        "DeployApp" => reply(
            &service
                .deploy_app(DeployAppRequest::read(Fields::parse(body)?)?)
                .await?,
        ),
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("Unknown operation: '{TARGET_PREFIX}.{operation}'"),
        )),
    }
}
