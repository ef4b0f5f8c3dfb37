//! HTTP calls to Entra ID, the identity endpoints and Key Vault: one awc client per worker
//! thread (awc's `Client` is not `Send`), with connect and total timeouts on every call.

use std::cell::RefCell;
use std::time::Duration;

use actix_web::http::header::HeaderMap;
use actix_web::web::Bytes;
use serde::de::DeserializeOwned;

/// Connection set-up may take at most this long (a part of the total timeout).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Upstream JSON documents (discovery, JWKS, secrets, tokens) are far smaller than this.
const MAX_BODY_BYTES: usize = 1 << 20;

thread_local! {
    /// The client and the actix system it was built in: its connection pool lives on that
    /// system's runtime, so a thread that starts a new system needs a new client.
    static CLIENT: RefCell<Option<(usize, awc::Client)>> = const { RefCell::new(None) };
}

/// This thread's client (built on first use, then reused with its connection pool).
pub fn client() -> awc::Client {
    let system = actix_web::rt::System::try_current().map_or(usize::MAX, |system| system.id());
    CLIENT.with(|cell| {
        let mut cell = cell.borrow_mut();
        match cell.as_ref() {
            Some((built_in, client)) if *built_in == system => client.clone(),
            _ => {
                let client = awc::Client::builder()
                    .connector(awc::Connector::new().timeout(CONNECT_TIMEOUT))
                    .disable_redirects()
                    .add_default_header(("User-Agent", concat!("vaultgate/", env!("CARGO_PKG_VERSION"))))
                    .finish();
                *cell = Some((system, client.clone()));
                client
            }
        }
    })
}

/// Why an upstream call failed. The text is for logs: it names the URL (without its
/// query), never a token or a secret.
#[derive(Debug, Clone, PartialEq, Eq, derive_more::Display)]
pub enum UpstreamError {
    #[display("{url}: no answer within {}s", timeout.as_secs())]
    Timeout { url: String, timeout: Duration },
    #[display("{url}: {reason}")]
    Failed { url: String, reason: String },
    #[display("{url}: answered {status}")]
    Status { url: String, status: u16 },
}

/// An answer as received.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// Parses the body. Parse errors say where, never what (the body may hold a secret).
    pub fn json<T: DeserializeOwned>(&self, url: &str) -> Result<T, UpstreamError> {
        serde_json::from_slice(&self.body).map_err(|e| UpstreamError::Failed {
            url: url_for_logs(url),
            reason: format!("unexpected JSON ({:?} error at line {} column {})", e.classify(), e.line(), e.column()),
        })
    }
}

/// What to send.
pub enum Body<'a> {
    Empty,
    Form(&'a [(&'a str, &'a str)]),
}

/// Sends `request` and reads the whole answer, all within `timeout`.
pub async fn send(request: awc::ClientRequest, body: Body<'_>, timeout: Duration) -> Result<Answer, UpstreamError> {
    let url = url_for_logs(&request.get_uri().to_string());
    let call = async {
        let request = request.timeout(timeout);
        let sent = match body {
            Body::Empty => request.send().await,
            Body::Form(form) => request.send_form(&form).await,
        };
        let mut response = sent.map_err(|e| UpstreamError::Failed { url: url.clone(), reason: e.to_string() })?;
        let body = response
            .body()
            .limit(MAX_BODY_BYTES)
            .await
            .map_err(|e| UpstreamError::Failed { url: url.clone(), reason: e.to_string() })?;
        Ok(Answer { status: response.status().as_u16(), headers: response.headers().clone(), body })
    };
    // The request timeout covers the answer's head; this bounds the body as well.
    actix_web::rt::time::timeout(timeout, call)
        .await
        .unwrap_or_else(|_| Err(UpstreamError::Timeout { url: url.clone(), timeout }))
}

/// GETs `url` and parses a JSON answer with status 200.
pub async fn get_json<T: DeserializeOwned>(url: &str, timeout: Duration) -> Result<T, UpstreamError> {
    let request = client().get(url).insert_header(("Accept", "application/json"));
    let answer = send(request, Body::Empty, timeout).await?;
    if answer.status != 200 {
        return Err(UpstreamError::Status { url: url_for_logs(url), status: answer.status });
    }
    answer.json(url)
}

/// The URL without its query string, which may carry identifiers not meant for logs.
pub fn url_for_logs(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_owned()
}
