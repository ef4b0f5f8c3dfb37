//! A fake corporate HTTP proxy on loopback: it answers `CONNECT host:port`, opens a tunnel
//! and forwards bytes both ways, counting tunnels and recording what was asked. It reaches
//! loopback only (a name it is told to route, such as `contoso.vault.azure.net:443`, goes
//! to the loopback address it is given), so no test traffic leaves 127.0.0.1.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::rt::net::{TcpListener, TcpStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How the proxy answers a CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyBehaviour {
    /// 200, then a tunnel.
    Tunnel,
    /// This status (407, 403, ...), and the connection kept open as a real proxy may keep it.
    Refuse(u16),
    /// Reads the CONNECT and never answers.
    Stall,
}

/// One CONNECT request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRequest {
    /// `host:port` as the client wrote it.
    pub target: String,
    pub proxy_authorization: Option<String>,
}

struct State {
    behaviour: Mutex<ProxyBehaviour>,
    routes: Mutex<HashMap<String, SocketAddr>>,
    requests: Mutex<Vec<ConnectRequest>>,
    tunnels: AtomicUsize,
}

pub struct FakeProxy {
    /// `http://127.0.0.1:<port>`, as `HTTPS_PROXY` names it.
    pub url: String,
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl FakeProxy {
    /// Starts on a free loopback port, on a thread of its own (so a test blocked on a child
    /// process does not block the proxy).
    pub fn start() -> FakeProxy {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        std_listener.set_nonblocking(true).expect("a non-blocking listener");
        let addr = std_listener.local_addr().unwrap();
        let state = Arc::new(State {
            behaviour: Mutex::new(ProxyBehaviour::Tunnel),
            routes: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
            tunnels: AtomicUsize::new(0),
        });
        let serving = state.clone();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let listener = TcpListener::from_std(std_listener).expect("a tokio listener");
                while let Ok((client, _)) = listener.accept().await {
                    actix_web::rt::spawn(serve(client, serving.clone()));
                }
            })
        });
        FakeProxy { url: format!("http://{addr}"), addr, state }
    }

    pub fn behave(&self, behaviour: ProxyBehaviour) {
        *self.state.behaviour.lock().unwrap() = behaviour;
    }

    /// CONNECTs to `target` (`host:port`) go to `to` instead of resolving the name.
    pub fn route(&self, target: &str, to: SocketAddr) {
        self.state.routes.lock().unwrap().insert(target.to_ascii_lowercase(), to);
    }

    /// Tunnels opened (CONNECT answered 200 and the far end reached).
    pub fn tunnels(&self) -> usize {
        self.state.tunnels.load(Ordering::SeqCst)
    }

    /// Every CONNECT received, in order, whatever was answered.
    pub fn requests(&self) -> Vec<ConnectRequest> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The distinct targets asked for, in first-seen order.
    pub fn targets(&self) -> Vec<String> {
        let mut targets: Vec<String> = Vec::new();
        for request in self.requests() {
            if !targets.contains(&request.target) {
                targets.push(request.target);
            }
        }
        targets
    }
}

async fn serve(mut client: TcpStream, state: Arc<State>) {
    let Some(head) = read_head(&mut client).await else { return };
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let proxy_authorization = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, value)| value.trim().to_owned());
    let mut parts = request_line.split(' ');
    let (Some("CONNECT"), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next()) else {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n").await;
        return;
    };
    if !version.starts_with("HTTP/1.") {
        return;
    }
    state.requests.lock().unwrap().push(ConnectRequest { target: target.to_owned(), proxy_authorization });

    let behaviour = *state.behaviour.lock().unwrap();
    match behaviour {
        ProxyBehaviour::Tunnel => {}
        ProxyBehaviour::Refuse(status) => {
            let answer = format!(
                "HTTP/1.1 {status} Refused\r\nProxy-Authenticate: Basic realm=\"fake\"\r\nContent-Length: 0\r\n\r\n"
            );
            let _ = client.write_all(answer.as_bytes()).await;
            return hold_until_closed(client).await;
        }
        ProxyBehaviour::Stall => return hold_until_closed(client).await,
    }

    let Some(far_end) = far_end(&state, target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n").await;
        return;
    };
    let Ok(mut upstream) = TcpStream::connect(far_end).await else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n").await;
        return;
    };
    if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.is_err() {
        return;
    }
    state.tunnels.fetch_add(1, Ordering::SeqCst);
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// Where a tunnel to `target` goes: its route, or the target itself when it is a loopback
/// address. Anything else is refused, to keep tests on loopback.
fn far_end(state: &State, target: &str) -> Option<SocketAddr> {
    if let Some(to) = state.routes.lock().unwrap().get(&target.to_ascii_lowercase()) {
        return Some(*to);
    }
    let (host, port) = target.rsplit_once(':')?;
    let ip: IpAddr = host.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
    let port = port.parse().ok()?;
    ip.is_loopback().then(|| SocketAddr::new(ip, port))
}

/// The request head, read byte by byte so nothing after it is consumed.
async fn read_head(client: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || client.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).ok()
}

async fn hold_until_closed(mut client: TcpStream) {
    let mut sink = [0u8; 1024];
    while matches!(client.read(&mut sink).await, Ok(n) if n > 0) {}
}
