//! Advances, in the order they were queued: one task takes every batch queued so far (up to
//! [`MAX_BATCH`]), applies each advance in its own savepoint of one transaction, commits, and
//! answers them all. An execution's next advance may so be queued before the last is committed,
//! as `Store::queue_advance` promises, and concurrent executions share commits.

use deadpool_postgres::Pool;
use sluice_store::{Advance, Error, Result};
use tokio::sync::{mpsc, oneshot};

use crate::executions::advance_one;

/// The most advances one transaction takes.
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<Vec<Result<()>>>>;

/// The queue of advances.
#[derive(Debug, Clone)]
pub(crate) struct Advancer {
    sender: mpsc::UnboundedSender<(Vec<Advance>, Reply)>,
}

impl Advancer {
    /// Starts the task that applies advances on connections of `pool`.
    pub(crate) fn start(pool: Pool) -> Advancer {
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(pool, receiver));
        Advancer { sender }
    }

    /// Queues advances now, behind every one queued before; the future resolves once they are
    /// committed.
    pub(crate) fn queue(
        &self,
        advances: Vec<Advance>,
    ) -> impl Future<Output = Result<Vec<Result<()>>>> + Send + 'static {
        let (reply, answer) = oneshot::channel();
        let queued = self
            .sender
            .send((advances, reply))
            .map_err(|_| Error::Backend("the PostgreSQL advancer has stopped".into()));
        async move {
            queued?;
            answer
                .await
                .map_err(|_| Error::Backend("the PostgreSQL advancer stopped mid-write".into()))?
        }
    }
}

async fn run(pool: Pool, mut receiver: mpsc::UnboundedReceiver<(Vec<Advance>, Reply)>) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        let mut count = batch[0].0.len();
        while count < MAX_BATCH {
            match receiver.try_recv() {
                Ok(next) => {
                    count += next.0.len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let mut attempt = 0;
        let outcome = loop {
            attempt += 1;
            match apply(&pool, &batch).await {
                Err(error) if crate::retryable(&error) && attempt < 8 => continue,
                other => break other,
            }
        };
        match outcome {
            Ok(results) => {
                for ((_, reply), results) in batch.into_iter().zip(results) {
                    let _ = reply.send(Ok(results));
                }
            }
            Err(error) => {
                let message = error.to_string();
                for (_, reply) in batch {
                    let _ = reply.send(Err(Error::Backend(message.clone())));
                }
            }
        }
    }
}

/// Applies a batch in one transaction; each advance's result, per caller.
async fn apply(pool: &Pool, batch: &[(Vec<Advance>, Reply)]) -> Result<Vec<Vec<Result<()>>>> {
    let mut client = pool
        .get()
        .await
        .map_err(|error| Error::Backend(format!("no PostgreSQL connection: {error}")))?;
    let mut transaction = client.transaction().await.map_err(crate::backend)?;
    let mut results = Vec::with_capacity(batch.len());
    for (advances, _) in batch {
        let mut answers = Vec::with_capacity(advances.len());
        for advance in advances {
            let savepoint = transaction.savepoint("advance").await.map_err(crate::backend)?;
            let result = advance_one(&savepoint, advance).await;
            match &result {
                Ok(()) => savepoint.commit().await.map_err(crate::backend)?,
                Err(error) if crate::retryable(error) => return Err(Error::Backend(error.to_string())),
                Err(_) => savepoint.rollback().await.map_err(crate::backend)?,
            }
            answers.push(result);
        }
        results.push(answers);
    }
    transaction.commit().await.map_err(crate::backend)?;
    Ok(results)
}
