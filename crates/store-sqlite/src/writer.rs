//! The one writer: a thread that owns the write connection and commits many callers' writes in
//! one transaction (group commit). Each write runs in its own savepoint, so a write whose
//! condition fails is undone without undoing its neighbours. Callers hear back only after the
//! commit is on disk, except a caller whose write changed nothing while nothing before it in the
//! transaction had either: it saw only committed rows and its answer holds whatever the commit
//! does, so it hears back at once (a receive that finds nothing does not wait for an fsync).

use std::sync::mpsc;
use std::thread;

use rusqlite::{Connection, TransactionBehavior};
use sluice_store::{Error, Result};
use tokio::sync::oneshot;

/// The most writes one transaction takes.
const MAX_BATCH: usize = 512;

/// What a write hands back to be told, after the commit, how the commit went.
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;

/// A write: runs inside the batch's transaction; `true` keeps its changes, `false` undoes them.
type Job = Box<dyn FnOnce(&Connection) -> (bool, Reply) + Send>;

/// The sending side of the writer thread.
#[derive(Debug, Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `connection`; it hints the checkpointer as it commits.
    pub fn start(connection: Connection, checkpoint_hints: mpsc::SyncSender<()>) -> std::io::Result<Writer> {
        let (jobs, receiver) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("sluice-sqlite-writer".into())
            .spawn(move || run(connection, receiver, checkpoint_hints))?;
        Ok(Writer { jobs })
    }

    /// Runs `write` in the next batch and answers once the batch is committed.
    pub async fn write<T: Send + 'static>(
        &self,
        write: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.queue(write).await
    }

    /// Queues `write` now, behind every write queued before it, and answers a future that
    /// resolves once its batch is committed.
    pub fn queue<T: Send + 'static>(
        &self,
        write: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> impl Future<Output = Result<T>> + Send + 'static {
        let (sender, receiver) = oneshot::channel();
        let job: Job = Box::new(move |connection| {
            let result = write(connection);
            let keep = result.is_ok();
            let reply: Reply = Box::new(move |commit| {
                let answer = match commit {
                    Ok(()) => result,
                    Err(message) => Err(Error::Backend(message)),
                };
                let _ = sender.send(answer);
            });
            (keep, reply)
        });
        let queued = self
            .jobs
            .send(job)
            .map_err(|_| Error::Backend("the SQLite writer thread has stopped".into()));
        async move {
            queued?;
            receiver
                .await
                .map_err(|_| Error::Backend("the SQLite writer thread stopped mid-write".into()))?
        }
    }
}

/// The writer loop: take one job (waiting), then every job already queued up to [`MAX_BATCH`];
/// run them in one transaction; commit; answer them all.
fn run(mut connection: Connection, receiver: mpsc::Receiver<Job>, checkpoint_hints: mpsc::SyncSender<()>) {
    let mut commits = 0;
    while let Ok(first) = receiver.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut replies = Vec::with_capacity(batch.len());
        let outcome = (|| -> rusqlite::Result<()> {
            let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let unchanged = transaction.total_changes();
            for job in batch.drain(..) {
                transaction.execute_batch("SAVEPOINT job")?;
                let (keep, reply) = job(&transaction);
                if !keep {
                    transaction.execute_batch("ROLLBACK TO job")?;
                }
                transaction.execute_batch("RELEASE job")?;
                if transaction.total_changes() == unchanged {
                    // Nothing in this transaction has changed a row yet, this job included: it
                    // read only committed rows and wrote nothing, so its answer stands whatever
                    // becomes of the commit (a receive that found nothing, a stale delete).
                    // SQLite does not count schema changes as row changes: writes run no DDL
                    // (migrations run before the writer starts), and must not.
                    reply(Ok(()));
                } else {
                    replies.push(reply);
                }
            }
            transaction.commit()
        })();
        let commit = outcome.map_err(|error| error.to_string());
        for reply in replies {
            reply(commit.clone());
        }
        commits += 1;
        if commits >= crate::checkpointer::COMMITS_PER_HINT {
            commits = 0;
            // Full means a hint is waiting already.
            let _ = checkpoint_hints.try_send(());
        }
        // Jobs of a batch whose transaction failed before they ran are dropped: their callers
        // hear that the writer stopped mid-write, and nothing of theirs was written.
    }
}
