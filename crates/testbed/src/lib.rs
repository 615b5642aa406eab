//! Running a Sluice server as a child process in tests: start it on a free loopback port with a
//! data directory, wait until it serves, kill it with SIGKILL, start it again on the same data.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sluice::client::{Client, ConnectionArgs};

/// A server process and its data directory.
#[derive(Debug)]
pub struct Server {
    binary: PathBuf,
    folder: PathBuf,
    apps: Vec<PathBuf>,
    /// Further arguments of `serve` (an embedding binary's own flags).
    args: Vec<String>,
    child: Option<Child>,
    address: String,
    starts: usize,
}

impl Server {
    /// Starts `binary serve` with its data in `folder/data`, its log in `folder/server-N.log`,
    /// and the app folders deployed.
    pub fn start(binary: &Path, folder: &Path, apps: &[PathBuf]) -> Server {
        Server::start_with(binary, folder, apps, &[])
    }

    /// Starts `binary serve` as [`Server::start`] does, with further arguments after the
    /// common ones (an embedding binary's own flags, such as `publikes serve --secret`).
    pub fn start_with(binary: &Path, folder: &Path, apps: &[PathBuf], args: &[&str]) -> Server {
        let mut server = Server {
            binary: binary.to_owned(),
            folder: folder.to_owned(),
            apps: apps.to_vec(),
            args: args.iter().map(|arg| (*arg).to_owned()).collect(),
            child: None,
            address: String::new(),
            starts: 0,
        };
        server.restart();
        server
    }

    /// The data directory.
    pub fn data(&self) -> PathBuf {
        self.folder.join("data")
    }

    /// The file the testbed's `record` function appends to (`SLUICE_TESTBED_RECORD`).
    pub fn record_file(&self) -> PathBuf {
        self.folder.join("records.jsonl")
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// A client signing with the development keys.
    pub fn client(&self) -> Client {
        client_at(&self.endpoint())
    }

    /// Kills the server with SIGKILL (no chance to flush or clean up) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same data (killing it first if it runs), and waits until
    /// `/health` answers.
    pub fn restart(&mut self) {
        self.kill();
        self.starts += 1;
        let log_path = self.folder.join(format!("server-{}.log", self.starts));
        let log = std::fs::File::create(&log_path).expect("create the server log");
        let mut command = Command::new(&self.binary);
        command
            .arg("serve")
            .arg("--data")
            .arg(self.data())
            .args(["--listen", "127.0.0.1:0"])
            .env("SLUICE_LOG", "info")
            .env("SLUICE_TESTBED_RECORD", self.record_file())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        for app in &self.apps {
            command.arg("--app").arg(app);
        }
        command.args(&self.args);
        self.child = Some(command.spawn().expect("start the server"));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            if let Some(address) = log
                .lines()
                .find_map(|line| line.split("address=").nth(1))
                .and_then(|rest| rest.split_whitespace().next())
            {
                self.address = address.to_owned();
                break;
            }
            if let Some(status) = self.child.as_mut().and_then(|child| child.try_wait().ok().flatten()) {
                panic!("the server exited with {status} before serving:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "the server did not start within 30 s:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the server has logged since it was first started.
    pub fn logs(&self) -> String {
        (1..=self.starts)
            .map(|start| std::fs::read_to_string(self.folder.join(format!("server-{start}.log"))).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n--- restart ---\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A client of the server at `endpoint`, signing with the development keys.
pub fn client_at(endpoint: &str) -> Client {
    Client::new(ConnectionArgs {
        endpoint: endpoint.to_owned(),
        access_key: "test".into(),
        secret_key: "test".into(),
        region: "us-east-1".into(),
    })
    .expect("the endpoint is a URL")
}
