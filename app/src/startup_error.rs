//! Why the server could not start, or stopped: one line per problem, for the operator. Each
//! names what to fix and never holds a token or a secret value.

use std::net::IpAddr;
use std::path::PathBuf;

use crate::credential::CredentialError;

#[derive(Debug, derive_more::Display, derive_more::Error)]
pub enum StartupError {
    /// Local mode's development key could not be read or created.
    #[display("development signing key in {}: {source}", dir.display())]
    DevelopmentKey { dir: PathBuf, source: std::io::Error },
    /// `SECRETS_DIR` cannot be opened.
    #[display("{_0}")]
    SecretFolder(std::io::Error),
    /// The credential variables choose a credential that cannot work (settings not read with
    /// `credential::settings_problems`, which reports these with every other setting's).
    #[display("{}", _0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    CredentialSettings(#[error(not(source))] Vec<vaultgate_config::SettingProblem>),
    /// The Key Vault credential cannot work (a client certificate that is not usable).
    #[display("{_0}")]
    Credential(#[error(not(source))] CredentialError),
    /// The OpenAPI document could not be written.
    #[display("the OpenAPI document: {_0}")]
    OpenApiDocument(serde_json::Error),
    /// The documentation page could not be configured.
    #[display("{_0}")]
    DocsPage(#[error(not(source))] crate::openapi::docs_page::DocsPageError),
    /// vaultgate's own certificate and key cannot be served.
    #[display("TLS: {_0}")]
    Tls(crate::tls::TlsPairError),
    /// `TLS=dev`: the development certificate could not be read or issued.
    #[display("development TLS certificate in {}: {source}", dir.display())]
    DevelopmentCertificate { dir: PathBuf, source: crate::tls::dev_cert::DevCertError },
    /// rustls refused the server configuration.
    #[display("TLS configuration: {_0}")]
    TlsConfig(#[error(not(source))] rustls::Error),
    /// The fleet tier cannot be set up (`FLEET_REDIS_URL` the Redis client refuses).
    #[display("fleet tier: {_0}")]
    Fleet(#[error(not(source))] crate::fleet::FleetError),
    #[display("cannot listen on {bind}:{port}: {source}")]
    Listen { bind: IpAddr, port: u16, source: std::io::Error },
    #[display("cannot serve: {_0}")]
    Serve(std::io::Error),
    /// The running server failed.
    #[display("server stopped: {_0}")]
    Stopped(std::io::Error),
}

impl StartupError {
    pub fn from_io(error: std::io::Error) -> Self {
        StartupError::Stopped(error)
    }
}
