//! The checkpointer: a thread with its own connection that copies the WAL back into the
//! database file, so that the writer never does it inside a commit. SQLite's automatic
//! checkpoint runs in the connection that commits; its copying and its fsync of the database
//! file would stall every caller waiting on that commit, hundreds of executions at a time.
//!
//! A PASSIVE checkpoint does not block the writer: it copies what no reader still needs, and
//! the writer starts the WAL over once a checkpoint has copied all of it.

use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use rusqlite::Connection;

/// How many commits the writer makes between two hints to the checkpointer.
pub const COMMITS_PER_HINT: u32 = 64;

/// The least time between two checkpoints.
const PAUSE: Duration = Duration::from_millis(100);

/// Starts the checkpointer on the database at `path`, and answers the hints' sending side: the
/// writer sends `()` every [`COMMITS_PER_HINT`] commits (without waiting), and the thread ends
/// when the writer drops it.
pub fn start(path: &Path) -> std::io::Result<mpsc::SyncSender<()>> {
    let connection = Connection::open(path).map_err(std::io::Error::other)?;
    connection
        .execute_batch("PRAGMA busy_timeout = 5000;")
        .map_err(std::io::Error::other)?;
    let (hints, receiver) = mpsc::sync_channel(1);
    thread::Builder::new()
        .name("sluice-sqlite-checkpointer".into())
        .spawn(move || {
            while receiver.recv().is_ok() {
                // A failed checkpoint is tried again at the next hint; the WAL only grows meanwhile.
                let _ = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                thread::sleep(PAUSE);
            }
        })?;
    Ok(hints)
}
