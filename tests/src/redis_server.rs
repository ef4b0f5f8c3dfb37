//! A real `redis-server` (Debian's package; `.ci/run` installs it) on a free loopback port, in
//! a temporary folder, without persistence; stopped when dropped. `stop` and `restart` (same
//! port, an empty server, as a restarted Redis without persistence is) for the outage tests.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

const STARTUP_DEADLINE: Duration = Duration::from_secs(10);

pub struct RedisServer {
    pub port: u16,
    /// `requirepass`, when set: clients must authenticate.
    password: Option<String>,
    dir: TempDir,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one and waits until it answers `PING`. Panics, naming the package, when
    /// `redis-server` is not installed: the fleet tests must not pass without Redis.
    pub fn start() -> RedisServer {
        RedisServer::launched(None)
    }

    /// One that refuses clients without `password` (a self-run Redis).
    pub fn start_with_password(password: &str) -> RedisServer {
        RedisServer::launched(Some(password.to_owned()))
    }

    fn launched(password: Option<String>) -> RedisServer {
        let port = free_port();
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut server = RedisServer { port, password, dir, child: None };
        server.launch();
        server
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server and waits until it is gone; the port stays reserved for `restart`.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (its data is gone).
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    fn launch(&mut self) {
        let mut command = Command::new("redis-server");
        command.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        if let Some(password) = &self.password {
            command.args(["--requirepass", password]);
        }
        let child = command
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot run redis-server ({error}): the fleet tests need Debian's redis-server \
                     (apt-get install -y redis-server)"
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + STARTUP_DEADLINE;
        while !answers_ping(self.port) {
            assert!(Instant::now() < deadline, "redis-server did not answer PING on port {} within 10 s", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn answers_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut answer = [0u8; 7];
    // Without the password Redis answers `-NOAUTH ...`: it is up all the same.
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && (&answer == b"+PONG\r\n" || answer.starts_with(b"-NOAUTH"))
}

fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}
