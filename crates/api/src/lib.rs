//! Sluice's AWS-facing layer: SigV4 verification, the AWS JSON 1.0 protocol, AWS error codes, and
//! the Step Functions and SQS APIs, served by an axum [`router()`] over a [`service::StepFunctions`].
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

pub mod admin;
pub mod archives;
pub mod dynamodb;
mod engine;
pub mod error;
pub mod events;
pub mod function_urls;
pub mod logs;
pub mod metrics;
pub mod protocol;
pub mod router;
pub mod s3;
pub mod scheduler;
pub mod service;
pub mod sigv4;
pub mod sns;
pub mod sqs;
pub mod stepfunctions;
mod test_state;
#[cfg(test)]
mod testing;
pub mod wait;

pub use admin::Admin;
pub use engine::EngineService;
pub use error::{ApiError, ErrorCode};
pub use function_urls::FunctionUrls;
pub use router::{Clock, Options, router};
pub use service::StepFunctions;
pub use sigv4::Credentials;
