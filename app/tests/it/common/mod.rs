//! Running the `vaultgate` binary in tests: a clean environment, its log lines collected,
//! its address read from the log, and the process stopped when the test ends.

#![allow(dead_code)] // each test file uses a different part

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_vaultgate");
pub const DEMO_SECRETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../demo-secrets");

/// A command with a clean environment: local mode with `key_dir` and the demo secrets.
pub fn vaultgate(key_dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command.env_clear().env("DEV_KEY_DIR", key_dir).env("SECRETS_DIR", DEMO_SECRETS).env("RUST_LOG", "info");
    command
}

/// A running server, killed when dropped.
pub struct Server {
    child: Child,
    pub url: String,
    lines: Arc<(Mutex<Vec<String>>, Condvar)>,
}

impl Server {
    /// Starts `command` on a free port and waits (reading its log, not sleeping) until it
    /// says where it serves.
    pub fn start(mut command: Command) -> Server {
        let mut child = command.env("PORT", "0").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let lines = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let (url_tx, url_rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let collected = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = served_url(&line) {
                    let _ = url_tx.send(url);
                }
                collected.0.lock().unwrap().push(line);
                collected.1.notify_all();
            }
        });
        let collected = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                collected.0.lock().unwrap().push(line);
                collected.1.notify_all();
            }
        });
        let url = url_rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("vaultgate did not start serving: {:#?}", lines.0.lock().unwrap()));
        Server { child, url, lines }
    }

    /// Waits until a log line contains `text` (woken by the log reader, not by polling).
    pub fn wait_for_line(&self, text: &str) {
        let (lines, arrived) = &*self.lines;
        let guard = lines.lock().unwrap();
        let (guard, timeout) = arrived
            .wait_timeout_while(guard, Duration::from_secs(30), |lines| !lines.iter().any(|l| l.contains(text)))
            .unwrap();
        assert!(!timeout.timed_out(), "no log line with {text:?}: {:#?}", *guard);
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid has no memory effects.
        unsafe { libc::kill(self.pid(), signal) };
    }

    /// Waits for the process to exit; its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        self.child.wait().unwrap().code()
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Every line written so far (stderr and stdout).
    pub fn lines(&self) -> Vec<String> {
        self.lines.0.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The URL in the "serves in ... mode on http(s)://..." start-up line, text or JSON.
fn served_url(line: &str) -> Option<String> {
    if !line.contains("vaultgate serves in") {
        return None;
    }
    let start = line.find("http://").or_else(|| line.find("https://"))?;
    let url: String = line[start..].chars().take_while(|c| !c.is_whitespace() && *c != '"').collect();
    Some(url)
}
