//! Real `refugio serve` child processes for tests that need whole servers: several sharing
//! one database, or one killed and restarted.

use crate::support::JWT_SECRET;
use reqwest::StatusCode;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A free port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("local address").port()
}

/// One `refugio serve` child process; stopped (SIGTERM, then SIGKILL) when dropped.
pub struct Server {
    child: Option<Child>,
    pub base: String,
    pub data_dir: PathBuf,
}

impl Server {
    pub fn start(database_url: &str) -> Server {
        let port = free_port();
        let data_dir = std::env::temp_dir().join(format!("refugio-mp-{}", refugio_core::new_id()));
        std::fs::create_dir_all(&data_dir).expect("create a data dir");
        let log = std::fs::File::create(data_dir.join("server.log")).expect("create the log");
        let child = Command::new(env!("CARGO_BIN_EXE_refugio"))
            .arg("serve")
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(["--database-url", database_url])
            .arg("--data-dir")
            .arg(&data_dir)
            .env("REFUGIO_JWT_SECRET", JWT_SECRET)
            .env("REFUGIO_WORKERS", "2")
            .env("RUST_LOG", "info")
            .env_remove("REFUGIO_SMTP_URL")
            .env_remove("DATABASE_URL")
            .env_remove("REFUGIO_BIND")
            .env_remove("REFUGIO_DATA_DIR")
            .env_remove("REFUGIO_TRUSTED_PROXIES")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start refugio serve");
        Server {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            data_dir,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is running").id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("server.log")).unwrap_or_default()
    }

    /// Waits until `/healthz` answers 200 (panics with the log if the process dies or 30 s pass).
    pub async fn wait_healthy(&mut self, http: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().expect("poll the server"))
            {
                panic!("refugio serve exited early ({status}):\n{}", self.log());
            }
            let ok = http
                .get(format!("{}/healthz", self.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK);
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} never became healthy:\n{}",
                self.base,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Kills the process at once (SIGKILL), as a power cut or OOM kill would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits up to `grace` for the exit; `None` if it had to be killed.
    pub fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    /// The `.eml` files its worker wrote.
    pub fn eml_files(&self) -> Vec<PathBuf> {
        let Ok(dir) = std::fs::read_dir(self.data_dir.join("outbox")) else {
            return Vec::new();
        };
        dir.map(|e| e.expect("read the outbox folder").path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "eml")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let was_running = self.child.is_some();
        self.stop(Duration::from_secs(10));
        if was_running && std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!(
                "--- last lines of {} ---\n{}",
                self.base,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}
