//! HTTP calls to Entra ID and Key Vault: one awc client per worker thread (awc's `Client`
//! is not `Send`), with connect and total timeouts on every call.

use std::cell::RefCell;
use std::time::Duration;

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

/// Why an upstream call failed. The text is for logs: it names the URL, never a token.
#[derive(Debug, Clone, PartialEq, Eq, derive_more::Display)]
pub enum UpstreamError {
    #[display("{url}: no answer within {}s", timeout.as_secs())]
    Timeout { url: String, timeout: Duration },
    #[display("{url}: {reason}")]
    Failed { url: String, reason: String },
    #[display("{url}: answered {status}")]
    Status { url: String, status: u16 },
}

/// GETs `url` and parses a JSON answer with status 200, all within `timeout`.
pub async fn get_json<T: DeserializeOwned>(url: &str, timeout: Duration) -> Result<T, UpstreamError> {
    let call = async {
        let mut response = client()
            .get(url)
            .insert_header(("Accept", "application/json"))
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| UpstreamError::Failed { url: url.to_owned(), reason: e.to_string() })?;
        if response.status() != 200 {
            return Err(UpstreamError::Status { url: url.to_owned(), status: response.status().as_u16() });
        }
        let body = response
            .body()
            .limit(MAX_BODY_BYTES)
            .await
            .map_err(|e| UpstreamError::Failed { url: url.to_owned(), reason: e.to_string() })?;
        serde_json::from_slice(&body)
            .map_err(|e| UpstreamError::Failed { url: url.to_owned(), reason: format!("unexpected JSON: {e}") })
    };
    // The request timeout covers the answer's head; this bounds the body as well.
    actix_web::rt::time::timeout(timeout, call)
        .await
        .unwrap_or_else(|_| Err(UpstreamError::Timeout { url: url.to_owned(), timeout }))
}
