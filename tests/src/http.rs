//! Sending requests and reading answers the way a caller sees them.

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;

/// What the server answered: status, headers and the body (parsed as JSON when it is JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().expect("a visible-ASCII header"))
    }
}

/// Sends `request` and reads the whole answer.
pub async fn send(request: awc::ClientRequest) -> Reply {
    read(request.send()).await
}

/// Sends `request` with `body` and reads the whole answer.
pub async fn send_body(request: awc::ClientRequest, body: impl Into<actix_web::web::Bytes>) -> Reply {
    read(request.send_body(body.into())).await
}

/// Reads the whole answer to a sent request.
pub async fn read(sent: awc::SendClientRequest) -> Reply {
    let mut response = sent.await.expect("the server answers");
    let body = response.body().limit(1 << 20).await.expect("a readable body");
    Reply { status: response.status(), headers: response.headers().clone(), body: body.to_vec() }
}

/// The value of the Prometheus sample `name` (with its labels) in `/metrics` text.
pub fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|line| line.starts_with(name) && line[name.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
}

/// A client that talks to loopback only.
pub fn client() -> awc::Client {
    awc::Client::builder().timeout(std::time::Duration::from_secs(30)).finish()
}
