//! The leases' semantics on the embedded store, on a clock the tests move.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use super::*;

struct Fixture {
    leases: Leases,
    now: Arc<AtomicI64>,
    _directory: tempfile::TempDir,
}

impl Fixture {
    async fn new() -> Fixture {
        let directory = tempfile::tempdir().unwrap();
        let store = sluice_store_sqlite::SqliteStore::open(&directory.path().join("sluice.db")).unwrap();
        let tables = Tables::new(Arc::new(store), sluice_tables::Options::default());
        let now = Arc::new(AtomicI64::new(1_700_000_000_000));
        let clock_now = now.clone();
        let leases = Leases::open(tables, Options::default())
            .await
            .unwrap()
            .with_clock(Arc::new(move || clock_now.load(Ordering::SeqCst)));
        Fixture {
            leases,
            now,
            _directory: directory,
        }
    }

    fn advance(&self, millis: i64) {
        self.now.fetch_add(millis, Ordering::SeqCst);
    }
}

const TTL: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_held_lease_is_refused_to_others_and_granted_after_release() {
    let fixture = Fixture::new().await;
    let first = fixture.leases.try_acquire("rotation", "a", TTL).await.unwrap();
    assert_eq!(first.token, 1);
    assert_eq!(first.owner, "a");
    let refused = fixture.leases.try_acquire("rotation", "b", TTL).await.unwrap_err();
    let Error::Held {
        holder,
        token,
        remaining,
        ..
    } = &refused
    else {
        panic!("{refused:?}")
    };
    assert_eq!((holder.as_str(), *token, *remaining), ("a", 1, TTL));
    assert_eq!(refused.error_name(), "Sluice.LeaseHeld");
    fixture.leases.release(&first).await.unwrap();
    assert_eq!(fixture.leases.holder("rotation").await.unwrap(), None);
    let second = fixture.leases.try_acquire("rotation", "b", TTL).await.unwrap();
    assert_eq!(second.token, 2);
    assert_eq!(fixture.leases.holder("rotation").await.unwrap(), Some(second));
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_its_token_grows() {
    let fixture = Fixture::new().await;
    let first = fixture.leases.try_acquire("job", "a", TTL).await.unwrap();
    fixture.advance(9_999);
    assert!(matches!(
        fixture.leases.try_acquire("job", "b", TTL).await,
        Err(Error::Held { .. })
    ));
    fixture.advance(1);
    let second = fixture.leases.try_acquire("job", "b", TTL).await.unwrap();
    assert_eq!((second.owner.as_str(), second.token), ("b", first.token + 1));
    // The old holder can neither renew nor release the lease any more.
    let renewal = fixture.leases.renew(&first, TTL).await.unwrap_err();
    assert_eq!(renewal.error_name(), "Sluice.NotLeaseOwner");
    assert!(renewal.to_string().contains("held by 'b'"), "{renewal}");
    let release = fixture.leases.release(&first).await.unwrap_err();
    assert!(matches!(release, Error::NotOwner { .. }), "{release:?}");
    assert_eq!(fixture.leases.holder("job").await.unwrap(), Some(second));
}

#[tokio::test]
async fn renew_extends_only_the_holders_unexpired_grant() {
    let fixture = Fixture::new().await;
    let lease = fixture.leases.try_acquire("job", "a", TTL).await.unwrap();
    fixture.advance(5_000);
    let renewed = fixture.leases.renew(&lease, TTL).await.unwrap();
    assert_eq!(renewed.token, lease.token, "a renewal keeps the token");
    assert_eq!(renewed.expires_at_millis, lease.expires_at_millis + 5_000);
    let stranger = fixture.leases.renew_as("job", "b", None, TTL).await.unwrap_err();
    assert!(stranger.to_string().contains("held by 'a'"), "{stranger}");
    let wrong_token = fixture
        .leases
        .renew_as("job", "a", Some(lease.token + 7), TTL)
        .await
        .unwrap_err();
    assert!(wrong_token.to_string().contains("granted again"), "{wrong_token}");
    fixture.advance(10_000);
    let late = fixture.leases.renew(&renewed, TTL).await.unwrap_err();
    assert!(late.to_string().contains("expired"), "{late}");
    let nobody = fixture.leases.renew_as("other", "a", None, TTL).await.unwrap_err();
    assert!(nobody.to_string().contains("nobody holds it"), "{nobody}");
    // An expired grant that nobody took over can still be released.
    fixture.leases.release(&renewed).await.unwrap();
    let again = fixture.leases.release(&renewed).await.unwrap_err();
    assert!(again.to_string().contains("nobody holds it"), "{again}");
}

#[tokio::test]
async fn acquiring_a_lease_one_holds_grants_it_again_with_a_newer_token() {
    let fixture = Fixture::new().await;
    let first = fixture.leases.try_acquire("job", "a", TTL).await.unwrap();
    let again = fixture.leases.try_acquire("job", "a", TTL).await.unwrap();
    assert_eq!(again.token, first.token + 1);
    assert!(matches!(
        fixture.leases.release(&first).await,
        Err(Error::NotOwner { .. })
    ));
    fixture.leases.release(&again).await.unwrap();
}

#[tokio::test]
async fn bad_requests_name_their_field() {
    let fixture = Fixture::new().await;
    let check = |result: Result<Lease>, field: &str| {
        let error = result.unwrap_err();
        assert_eq!(error.error_name(), "Sluice.InvalidLeaseRequest");
        assert!(error.to_string().starts_with(field), "{error}");
    };
    check(fixture.leases.try_acquire("", "a", TTL).await, "Name");
    check(fixture.leases.try_acquire("x", "", TTL).await, "Owner");
    check(fixture.leases.try_acquire(&"x".repeat(1025), "a", TTL).await, "Name");
    check(fixture.leases.try_acquire("x", "a", Duration::ZERO).await, "TtlSeconds");
    check(fixture.leases.try_acquire("x", "a", MAX_TTL * 2).await, "TtlSeconds");
    assert_eq!(fixture.leases.holder("x").await.unwrap(), None, "no partial write");
}

#[tokio::test]
async fn acquire_waits_for_a_release_and_gives_up_at_its_deadline() {
    let directory = tempfile::tempdir().unwrap();
    let store = sluice_store_sqlite::SqliteStore::open(&directory.path().join("sluice.db")).unwrap();
    let tables = Tables::new(Arc::new(store), sluice_tables::Options::default());
    let leases = Leases::open(tables, Options::default()).await.unwrap();
    let held = leases.try_acquire("job", "a", Duration::from_secs(60)).await.unwrap();
    let began = std::time::Instant::now();
    let timed_out = leases
        .acquire("job", "b", TTL, Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(timed_out, Error::Held { .. }), "{timed_out:?}");
    assert!(began.elapsed() >= Duration::from_millis(200));
    let waiter = {
        let leases = leases.clone();
        tokio::spawn(async move { leases.acquire("job", "b", TTL, Duration::from_secs(30)).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let released_at = std::time::Instant::now();
    leases.release(&held).await.unwrap();
    let granted = waiter.await.unwrap().unwrap();
    assert_eq!((granted.owner.as_str(), granted.token), ("b", 2));
    assert!(
        released_at.elapsed() < Duration::from_secs(5),
        "the release wakes the waiter"
    );
    // A short grant that expires lets a waiter in without a release.
    let short = leases
        .try_acquire("short", "a", Duration::from_millis(100))
        .await
        .unwrap();
    let taken = leases
        .acquire("short", "b", TTL, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(taken.token, short.token + 1);
}

#[tokio::test]
async fn the_lease_table_is_a_table_like_any_other() {
    let fixture = Fixture::new().await;
    fixture.leases.try_acquire("job", "a", TTL).await.unwrap();
    let item = fixture
        .leases
        .tables
        .call(
            "GetItem",
            json!({"TableName": "sluice-leases", "Key": {"name": {"S": "job"}}}),
        )
        .await
        .unwrap();
    assert_eq!(item["Item"]["owner"], json!({"S": "a"}));
    assert_eq!(item["Item"]["token"], json!({"N": "1"}));
    // Opening again finds the table.
    Leases::open(fixture.leases.tables.clone(), Options::default())
        .await
        .unwrap();
}
