//! A PostgreSQL cluster for tests, started once per test binary by `scripts/postgres-test-cluster`
//! (which runs the server as an unprivileged user on 127.0.0.1 and removes it once this process
//! exits, because its standard input, held here, closes). With `SLUICE_TEST_POSTGRES` set to a
//! superuser's URL, that server is used instead and nothing is started.
//!
//! Each [`database`] call creates a new, empty database, so tests never see each other's rows.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// The environment variable naming an existing server to use (a superuser's URL).
pub const ENVIRONMENT_VARIABLE: &str = "SLUICE_TEST_POSTGRES";

/// The cluster this process started; kept (and its standard input open) until the process exits.
#[derive(Debug)]
struct Cluster {
    /// The superuser's URL, on the `postgres` database.
    url: String,
    /// Closing it (by exiting) stops the cluster and removes its directory.
    _stdin: Option<Mutex<ChildStdin>>,
    _child: Option<Mutex<Child>>,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
static DATABASES: AtomicU64 = AtomicU64::new(0);

/// The URL of the cluster's `postgres` database as a superuser, starting the cluster on first use.
///
/// # Panics
/// When the cluster cannot be started; the message says why.
pub fn admin_url() -> String {
    match CLUSTER.get_or_init(start) {
        Ok(cluster) => cluster.url.clone(),
        Err(message) => panic!("no PostgreSQL for the tests: {message}"),
    }
}

/// Creates a fresh, empty database on the test cluster and answers its URL.
///
/// # Panics
/// When the cluster cannot be started or the database cannot be created.
pub async fn database() -> String {
    let admin = tokio::task::spawn_blocking(admin_url)
        .await
        .unwrap_or_else(|error| panic!("starting the test cluster failed: {error}"));
    let name = format!(
        "test_{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::Relaxed)
    );
    let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|error| panic!("cannot connect to the test cluster at {admin}: {error}"));
    let driver = tokio::spawn(connection);
    // From template0, which nobody connects to: concurrent creates from one template fail while
    // another session uses it.
    for statement in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"),
    ] {
        client
            .batch_execute(&statement)
            .await
            .unwrap_or_else(|error| panic!("cannot create the database {name}: {error:?}"));
    }
    drop(client);
    let _ = driver.await;
    with_database(&admin, &name)
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|scheme| scheme + 3)
        .and_then(|start| base[start..].find('/').map(|slash| start + slash))
        .unwrap_or(base.len());
    let mut result = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    result
}

/// Starts the cluster with the project's script, or takes the one the environment names.
fn start() -> Result<Cluster, String> {
    if let Ok(url) = std::env::var(ENVIRONMENT_VARIABLE)
        && !url.is_empty()
    {
        return Ok(Cluster {
            url,
            _stdin: None,
            _child: None,
        });
    }
    let script = script()?;
    let mut child = Command::new(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|error| format!("cannot run {}: {error}", script.display()))?;
    let stdout = child.stdout.take().ok_or("the script has no standard output")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|error| format!("cannot read from {}: {error}", script.display()))?;
    let url = line.trim().to_owned();
    if !url.starts_with("postgres://") {
        let status = child.wait().map(|status| status.to_string()).unwrap_or_default();
        return Err(format!("{} printed no URL ({status})", script.display()));
    }
    Ok(Cluster {
        url,
        _stdin: child.stdin.take().map(Mutex::new),
        _child: Some(Mutex::new(child)),
    })
}

/// `scripts/postgres-test-cluster` of the workspace this crate is in.
fn script() -> Result<PathBuf, String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/postgres-test-cluster");
    if script.exists() {
        Ok(script)
    } else {
        Err(format!("{} is missing", script.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://sluice@127.0.0.1:5432/postgres", "test_1"),
            "postgres://sluice@127.0.0.1:5432/test_1"
        );
        assert_eq!(
            with_database("postgres://u:p@h:1/postgres?sslmode=disable", "t"),
            "postgres://u:p@h:1/t?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:1", "t"), "postgres://h:1/t");
    }

    #[tokio::test]
    async fn each_test_gets_an_empty_database_of_its_own() {
        let first = super::database().await;
        let second = super::database().await;
        assert_ne!(first, second);
        let (client, connection) = tokio_postgres::connect(&first, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        client.batch_execute("CREATE TABLE t (x INT)").await.unwrap();
        let (other, connection) = tokio_postgres::connect(&second, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        let tables: i64 = other
            .query_one("SELECT count(*) FROM pg_tables WHERE tablename = 't'", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(tables, 0);
    }
}
