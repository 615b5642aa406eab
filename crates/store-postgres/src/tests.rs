//! The conformance suites of `sluice-store`, each on a fresh database of the test cluster, and
//! what only PostgreSQL needs: migrations that run once, and racing writers on one database.

use std::sync::Arc;

use crate::PostgresStore;

async fn open() -> PostgresStore {
    let url = sluice_testkit::postgres::database().await;
    PostgresStore::connect(&url).await.expect("the store connects")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    sluice_store::conformance::run_all(&open().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_conformance() {
    sluice_store::tables::conformance::run_all(&open().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_conformance() {
    sluice_store::conformance::queues::run_all(&open().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bus_conformance() {
    sluice_store::bus_conformance::run_all(&open().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_conformance() {
    sluice_store::objects::conformance::run_all(&open().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topic_conformance() {
    sluice_store::topics::conformance::run_all(&open().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_conformance() {
    sluice_store::logs_conformance::run_all(&open().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archive_conformance() {
    sluice_store::archives_conformance::run_all(&open().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_keeps_the_data_and_the_schema_version() {
    let url = sluice_testkit::postgres::database().await;
    {
        let store = PostgresStore::connect(&url).await.expect("the store connects");
        sluice_store::conformance::create_sample_machine(&store).await;
    }
    // Several nodes starting at once migrate once.
    let (first, second) = tokio::join!(PostgresStore::connect(&url), PostgresStore::connect(&url));
    let (first, _second) = (first.expect("connects"), second.expect("connects"));
    sluice_store::conformance::sample_machine_exists(&first).await;
    let client = first.client().await.expect("a connection");
    let versions: Vec<i64> = client
        .query("SELECT version FROM schema_version ORDER BY version", &[])
        .await
        .expect("read")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, (1..=crate::schema::newest()).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_url_is_a_backend_error() {
    let error = PostgresStore::connect("postgres://nobody@127.0.0.1:1/none")
        .await
        .expect_err("nothing listens there");
    assert!(matches!(error, sluice_store::Error::Backend(_)), "{error:?}");
}

/// 32 writers race `If-None-Match: *` on one key, 20 rounds, each on its own connection: exactly
/// one wins each round; then 32 race `If-Match` with the winner's ETag: exactly one wins again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_conditional_writers_have_one_winner() {
    use sluice_store::objects::conformance::{bucket, write};
    use sluice_store::objects::{BucketStore, Condition, Outcome};

    let store = Arc::new(open().await);
    store.create_bucket(bucket("race")).await.expect("created");
    for round in 0..20 {
        let key = format!("lock-{round}");
        for (phase, condition) in [("create", Condition::IfNoneMatch), ("update", Condition::Always)] {
            let condition = match condition {
                Condition::Always => {
                    let current = store.object("race", &key).await.expect("read").expect("written");
                    Condition::IfMatch(current.etag)
                }
                other => other,
            };
            let mut tasks = Vec::new();
            for writer in 0..32 {
                let store = store.clone();
                let etag = format!("{phase}-{writer}");
                let write = write("race", &key, &etag, &format!("{key}-{etag}"), condition.clone());
                tasks.push(tokio::spawn(async move { store.put_object(write).await }));
            }
            let mut winners = 0;
            for task in tasks {
                match task.await.expect("the writer ran").expect("answered") {
                    Outcome::Done(_) => winners += 1,
                    Outcome::PreconditionFailed => {}
                    other => panic!("unexpected {other:?}"),
                }
            }
            assert_eq!(winners, 1, "round {round}, {phase}");
        }
    }
}
