//! Reading JSON documents named on the command line, with errors that say which file and where.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

/// Reads and parses a JSON file; `-` reads standard input.
pub fn read_json(path: &Path) -> Result<Value> {
    let (name, text) = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read standard input")?;
        ("standard input".to_owned(), text)
    } else {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        (path.display().to_string(), text)
    };
    serde_json::from_str(&text).map_err(|error| {
        // serde_json's message already ends with "at line L column C".
        anyhow::anyhow!("{name} is not valid JSON: {error}")
    })
}
