//! A pause for crash tests: a close or a merge stops at a named point while a file names it, so
//! a test can kill the server at that moment rather than at a guessed time.
//!
//! `publikes serve --test-pause-file PATH` turns it on. At each point the action reads the file;
//! when it holds the point's name (`close`: the head batch is marked closed, the new head batch
//! not made yet; `merge`: the merged pages are written, the batch not replaced yet), the action
//! logs `publikes paused at NAME` and waits while the file still names it (ten minutes at most).
//! Without the flag every point is a no-op.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

static PAUSE_FILE: OnceLock<PathBuf> = OnceLock::new();

/// Turns the pauses on, reading `file` (once per process; later calls are ignored).
pub fn enable_pauses(file: PathBuf) {
    let _ = PAUSE_FILE.set(file);
}

/// Pauses at `point` while the pause file names it.
pub(crate) async fn pause_point(point: &str) {
    let Some(file) = PAUSE_FILE.get() else {
        return;
    };
    let named = || std::fs::read_to_string(file).is_ok_and(|text| text.trim() == point);
    if !named() {
        return;
    }
    tracing::warn!("publikes paused at {point}");
    for _ in 0..600 {
        if !named() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
