//! HTTP calls to Entra ID, the identity endpoints and Key Vault: one awc client per worker
//! thread (awc's `Client` is not `Send`), with connect and total timeouts on every call,
//! through the proxy and with the trusted roots the process was started with (`Network`).

mod error;
mod roots_problem;
mod tls;
mod tunnel;

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_web::http::header::HeaderMap;
use actix_web::web::Bytes;
use serde::de::DeserializeOwned;

pub use error::{TransportError, UpstreamError};
pub use roots_problem::RootsProblem;
pub use tls::TrustedRoots;
use vaultgate_config::NetworkSettings;
pub use vaultgate_config::proxy::{Proxy, ProxySettings};

/// Connection set-up may take at most this long (a part of the total timeout); through a
/// proxy, that is the proxy's connection and its answer to CONNECT.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Upstream JSON documents (discovery, JWKS, secrets, tokens) are far smaller than this.
const MAX_BODY_BYTES: usize = 1 << 20;

/// How upstream calls reach the network: which go through a proxy, which roots TLS trusts.
pub struct Network {
    proxies: Arc<ProxySettings>,
    roots: TrustedRoots,
    tls: Arc<rustls::ClientConfig>,
}

impl Network {
    /// The proxies `Settings` read, and the roots its `SSL_CERT_*` files give (each file
    /// that gives nothing is a problem line).
    pub fn from_settings(settings: &NetworkSettings) -> Result<Network, Vec<RootsProblem>> {
        let roots = TrustedRoots::load(settings)?;
        let tls = roots.client_config();
        Ok(Network { proxies: Arc::new(settings.proxies.clone()), roots, tls })
    }

    /// Direct calls, trusting the system store and the built-in roots.
    fn direct() -> Network {
        Network::from_settings(&NetworkSettings::default()).expect("without variables there is nothing to refuse")
    }

    pub fn proxies(&self) -> &ProxySettings {
        &self.proxies
    }

    /// True when a variable changed anything: a proxy, or roots chosen by `SSL_CERT_*`.
    pub fn is_configured(&self) -> bool {
        !self.proxies.is_direct() || self.roots.from_variables
    }

    /// One line for logs and `vaultgate check`, without credentials.
    pub fn describe(&self) -> String {
        format!("{}; TLS trusts {}", self.proxies.describe(), self.roots.summary())
    }

    /// Warnings worth a log line at start-up (unusable `NO_PROXY` entries, unreadable files).
    pub fn warnings(&self) -> Vec<String> {
        let ignored = self.proxies.ignored().iter().map(|e| format!("NO_PROXY: {e:?} matches no host; ignored"));
        ignored.chain(self.roots.warnings.iter().cloned()).collect()
    }
}

static NETWORK: OnceLock<Network> = OnceLock::new();

/// Sets the network of every upstream call after it, from the settings: the binary calls
/// this once at start-up (awc's clients are built per worker thread, far from the settings).
/// Without it (the in-process tests), calls go direct and trust the system store plus the
/// built-in roots.
pub fn configure(settings: &NetworkSettings) -> Result<&'static Network, Vec<RootsProblem>> {
    let network = Network::from_settings(settings)?;
    let network = NETWORK.get_or_init(|| network);
    if network.is_configured() {
        log::info!("upstream calls: {}", network.describe());
    }
    for warning in network.warnings() {
        log::warn!("{warning}");
    }
    Ok(network)
}

/// The network every upstream call uses.
pub fn network() -> &'static Network {
    NETWORK.get_or_init(Network::direct)
}

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
                let network = network();
                let connector = awc::Connector::new()
                    .connector(tunnel::TunnelingConnector::new(network.proxies.clone()))
                    .rustls_0_23(network.tls.clone())
                    .timeout(CONNECT_TIMEOUT);
                let client = awc::Client::builder()
                    .connector(connector)
                    .disable_redirects()
                    .add_default_header(("User-Agent", concat!("vaultgate/", env!("CARGO_PKG_VERSION"))))
                    .finish();
                *cell = Some((system, client.clone()));
                client
            }
        }
    })
}

/// A client for one endpoint whose self-signed certificate is trusted by its SHA-1
/// thumbprint only (Service Fabric's identity endpoint). Built per call: such tokens are
/// fetched about once an hour, and a client of its own keeps the pin away from every other call.
pub fn pinned_client(thumbprint: &str) -> awc::Client {
    let connector = awc::Connector::new()
        .connector(tunnel::TunnelingConnector::new(network().proxies.clone()))
        .rustls_0_23(tls::pinned_client_config(thumbprint))
        .timeout(CONNECT_TIMEOUT);
    awc::Client::builder()
        .connector(connector)
        .disable_redirects()
        .add_default_header(("User-Agent", concat!("vaultgate/", env!("CARGO_PKG_VERSION"))))
        .finish()
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
        serde_json::from_slice(&self.body).map_err(|e| UpstreamError::UnexpectedJson {
            url: url_for_logs(url),
            category: e.classify(),
            line: e.line(),
            column: e.column(),
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
        let mut response =
            sent.map_err(|e| UpstreamError::Transport { url: url.clone(), cause: TransportError::from_send(&e) })?;
        let body = response
            .body()
            .limit(MAX_BODY_BYTES)
            .await
            .map_err(|e| UpstreamError::Transport { url: url.clone(), cause: TransportError::Body(e.to_string()) })?;
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
