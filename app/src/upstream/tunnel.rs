//! The TCP connector awc is given: a direct connection, or an HTTP CONNECT tunnel through
//! the proxy `ProxySettings` names for the URL. awc has no proxy support of its own; it runs
//! TLS over whatever stream this returns, so the tunnel is made before TLS and the proxy
//! sees only `host:port`. awc's connect timeout covers all of it (the proxy's TCP connection
//! and its answer to CONNECT), and the caller's total timeout covers the rest.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use actix_tls::connect::{ConnectError, ConnectInfo, Connection, ConnectorService};
use actix_web::dev::{Service, always_ready};
use actix_web::http::Uri;
use actix_web::rt::net::TcpStream;
use futures_util::future::LocalBoxFuture;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Proxy, ProxySettings};

/// A proxy's answer head larger than this is not an answer to CONNECT.
const MAX_ANSWER_HEAD: usize = 16 * 1024;

#[derive(Clone)]
pub struct TunnelingConnector {
    tcp: ConnectorService,
    proxies: Arc<ProxySettings>,
}

impl TunnelingConnector {
    pub fn new(proxies: Arc<ProxySettings>) -> Self {
        TunnelingConnector { tcp: actix_tls::connect::Connector::default().service(), proxies }
    }
}

impl Service<ConnectInfo<Uri>> for TunnelingConnector {
    type Response = Connection<Uri, TcpStream>;
    type Error = ConnectError;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    always_ready!();

    fn call(&self, request: ConnectInfo<Uri>) -> Self::Future {
        let scheme = request.request().scheme_str().unwrap_or("http");
        match self.proxies.proxy_for(scheme, request.hostname()) {
            None => Box::pin(self.tcp.call(request)),
            Some(proxy) => Box::pin(tunnel(self.tcp.clone(), proxy.clone(), request)),
        }
    }
}

/// Connects to `proxy`, asks it for a tunnel to the request's host and port, and hands the
/// stream back as if it were a direct connection to that host.
async fn tunnel(
    tcp: ConnectorService,
    proxy: Proxy,
    request: ConnectInfo<Uri>,
) -> Result<Connection<Uri, TcpStream>, ConnectError> {
    let host = request.hostname();
    let target = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{}", request.port())
    } else {
        format!("{host}:{}", request.port())
    };
    let proxy_uri: Uri = format!("http://{}:{}", proxy.host(), proxy.port())
        .parse()
        .map_err(|_| ConnectError::Io(io::Error::other(format!("{proxy}: not a usable address"))))?;
    // An address is connected to as it is (the resolver does not take IPv6 in brackets).
    let literal = proxy.host().trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok();
    let to_proxy = match literal {
        Some(ip) => ConnectInfo::with_addr(proxy_uri, SocketAddr::new(ip, proxy.port())),
        None => ConnectInfo::new(proxy_uri),
    };
    let connected = tcp.call(to_proxy).await.map_err(|e| {
        let reason = match e {
            ConnectError::Io(e) => e.to_string(),
            other => other.to_string(),
        };
        ConnectError::Io(io::Error::new(io::ErrorKind::ConnectionRefused, format!("proxy {proxy}: {reason}")))
    })?;
    let (mut stream, _) = connected.into_parts();
    open(&mut stream, &target, proxy.authorization())
        .await
        .map_err(|e| ConnectError::Io(io::Error::new(e.kind(), format!("proxy {proxy} {e}"))))?;
    Ok(Connection::new(request.request().clone(), stream))
}

/// Sends `CONNECT target` and reads the proxy's answer head; any 2xx opens the tunnel
/// (RFC 9110 §9.3.6). The head is read byte by byte so no byte of the tunnel is consumed.
async fn open(stream: &mut TcpStream, target: &str, authorization: Option<&str>) -> io::Result<()> {
    let mut request = format!(
        "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: vaultgate/{}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(authorization) = authorization {
        request.push_str("Proxy-Authorization: ");
        request.push_str(authorization);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;

    let mut head = Vec::with_capacity(128);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_ANSWER_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("sent no HTTP answer to CONNECT {target}")));
        }
        if stream.read(&mut byte).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("closed the connection before answering CONNECT {target}"),
            ));
        }
        head.push(byte[0]);
    }
    match status(&head) {
        Some(status) if (200..300).contains(&status) => Ok(()),
        // Only the status: the rest of the line is the proxy's text, not ours to log.
        Some(status) => {
            Err(io::Error::new(io::ErrorKind::PermissionDenied, format!("answered {status} to CONNECT {target}")))
        }
        None => Err(io::Error::new(io::ErrorKind::InvalidData, format!("sent no HTTP answer to CONNECT {target}"))),
    }
}

/// The status code of `HTTP/1.x NNN ...`.
fn status(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    let version = parts.next()?;
    let code = parts.next()?;
    (version.starts_with("HTTP/1.") && code.len() == 3).then(|| code.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::status;

    #[test]
    fn reads_the_status_of_a_connect_answer() {
        assert_eq!(status(b"HTTP/1.1 200 Connection established\r\n\r\n"), Some(200));
        assert_eq!(status(b"HTTP/1.0 200\r\n\r\n"), Some(200));
        assert_eq!(
            status(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n"),
            Some(407)
        );
        assert_eq!(status(b"SSH-2.0-OpenSSH\r\n\r\n"), None);
        assert_eq!(status(b"HTTP/1.1 2000 x\r\n\r\n"), None);
        assert_eq!(status(b"HTTP/2 200\r\n\r\n"), None);
    }
}
