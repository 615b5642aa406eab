//! Command functions: any executable. The event goes to stdin as JSON, the result comes from
//! stdout as JSON. A non-zero exit is a failure whose error is read from a Lambda-style
//! `{"errorType": …, "errorMessage": …}` on stdout, or else taken from stderr.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use super::FunctionError;

/// An executable run once per invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandFunction {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: BTreeMap<String, String>,
    /// The directory it runs in.
    pub working_directory: Option<PathBuf>,
    /// How long it may run before it is killed.
    pub timeout: Duration,
}

/// The error type of a command that ran past its timeout (Lambda's name for the same).
pub const TIMED_OUT: &str = "Sandbox.Timedout";

/// The error type of a command that failed without a Lambda-style error on stdout.
pub const COMMAND_FAILED: &str = "Command.Failed";

impl CommandFunction {
    /// Runs the command on `event`.
    pub async fn invoke(&self, event: Value) -> Result<Value, FunctionError> {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .envs(&self.env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.kill_on_drop(true);
        if let Some(directory) = &self.working_directory {
            command.current_dir(directory);
        }
        let mut child = command.spawn().map_err(|error| {
            FunctionError::new(
                COMMAND_FAILED,
                format!("cannot start {}: {error}", self.program.display()),
            )
        })?;
        if let Some(mut stdin) = child.stdin.take() {
            let bytes = event.to_string().into_bytes();
            // A command that exits without reading its input is not an error of ours.
            let _ = stdin.write_all(&bytes).await;
        }
        let output = match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Ok(Ok(output)) => output,
            Ok(Err(error)) => {
                return Err(FunctionError::new(
                    COMMAND_FAILED,
                    format!("cannot wait for the command: {error}"),
                ));
            }
            Err(_) => {
                let message = format!("Task timed out after {:.2} seconds", self.timeout.as_secs_f64());
                return Err(FunctionError::new(TIMED_OUT, message));
            }
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        if output.status.success() {
            let text = stdout.trim();
            if text.is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(text).map_err(|error| {
                FunctionError::new(COMMAND_FAILED, format!("the command's stdout is not JSON: {error}"))
            });
        }
        if let Ok(Value::Object(error)) = serde_json::from_str::<Value>(stdout.trim())
            && let Some(error_type) = error.get("errorType").and_then(Value::as_str)
        {
            let message = error.get("errorMessage").and_then(Value::as_str).unwrap_or_default();
            return Err(FunctionError::new(error_type, message));
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: String = stderr
            .trim()
            .chars()
            .rev()
            .take(4096)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        Err(FunctionError::new(COMMAND_FAILED, format!("{}: {tail}", output.status)))
    }
}
