//! 16 contenders take one lease 10,000 times on the embedded store: never two holders at once,
//! and each grant's fencing token is larger than every token before it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sluice_leases::{Leases, Options};

const CONTENDERS: usize = 16;
const ACQUISITIONS: usize = 10_000;

/// What the protected resource sees: who holds it now, and the last token it accepted.
#[derive(Default)]
struct Guarded {
    holder: Option<(usize, u64)>,
    last_token: u64,
    grants: Vec<u64>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_contenders_never_hold_one_lease_at_once() {
    let directory = tempfile::tempdir().expect("a temporary folder");
    let store = sluice_store_sqlite::SqliteStore::open(&directory.path().join("sluice.db")).expect("the store");
    let tables = sluice_tables::Tables::new(Arc::new(store), sluice_tables::Options::default());
    let leases = Leases::open(tables, Options::default()).await.expect("the lease table");
    let guarded = Arc::new(Mutex::new(Guarded::default()));
    let taken = Arc::new(AtomicUsize::new(0));
    let mut contenders = Vec::new();
    for contender in 0..CONTENDERS {
        let (leases, guarded, taken) = (leases.clone(), guarded.clone(), taken.clone());
        contenders.push(tokio::spawn(async move {
            let owner = format!("contender-{contender}");
            loop {
                if taken.load(Ordering::SeqCst) >= ACQUISITIONS {
                    return;
                }
                let lease = leases
                    .acquire("the-lock", &owner, Duration::from_secs(60), Duration::from_secs(60))
                    .await
                    .expect("the lease within a minute");
                if taken.fetch_add(1, Ordering::SeqCst) >= ACQUISITIONS {
                    leases.release(&lease).await.expect("released");
                    return;
                }
                {
                    let mut guarded = guarded.lock().expect("the guard");
                    assert_eq!(
                        guarded.holder, None,
                        "two holders: {contender} got token {}",
                        lease.token
                    );
                    assert!(
                        lease.token > guarded.last_token,
                        "token {} after {}",
                        lease.token,
                        guarded.last_token
                    );
                    guarded.holder = Some((contender, lease.token));
                    guarded.last_token = lease.token;
                    guarded.grants.push(lease.token);
                }
                // Hold it across a yield, so that other contenders run while it is held.
                tokio::task::yield_now().await;
                guarded.lock().expect("the guard").holder = None;
                leases.release(&lease).await.expect("the holder releases");
            }
        }));
    }
    for contender in contenders {
        contender.await.expect("the contender ran");
    }
    let guarded = guarded.lock().expect("the guard");
    // Every grant added one to the token: the grants are exactly 1, 2, 3, … in order.
    let expected: Vec<u64> = (1..=guarded.grants.len() as u64).collect();
    assert_eq!(guarded.grants, expected);
    assert!(guarded.grants.len() >= ACQUISITIONS);
}
