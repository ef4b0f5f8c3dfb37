//! Why an upstream call failed, by kind, so callers decide on the kind (retry a timeout or a
//! lost connection, not a refusal) and logs keep the cause. The text names the URL (without
//! its query), never a token or a secret.

use std::time::Duration;

/// A failed call to Entra ID, an identity endpoint or Key Vault.
#[derive(Debug, Clone, PartialEq, Eq, derive_more::Display)]
pub enum UpstreamError {
    #[display("{url}: no answer within {}s", timeout.as_secs())]
    Timeout { url: String, timeout: Duration },
    #[display("{url}: {cause}")]
    Transport { url: String, cause: TransportError },
    #[display("{url}: answered {status}")]
    Status { url: String, status: u16 },
    /// Where the body stopped parsing, never what it held (it may hold a secret).
    #[display("{url}: unexpected JSON ({category:?} error at line {line} column {column})")]
    UnexpectedJson { url: String, category: serde_json::error::Category, line: usize, column: usize },
}

/// What went wrong on the way, in awc's own words (they name hosts and causes, never
/// headers or bodies).
#[derive(Debug, Clone, PartialEq, Eq, derive_more::Display)]
pub enum TransportError {
    /// No connection: name resolution, TCP, TLS, or the proxy's tunnel.
    #[display("{_0}")]
    Connect(String),
    /// The connection failed while the request went out or the answer's head came back.
    #[display("{_0}")]
    Exchange(String),
    /// The answer's body broke off, or was larger than upstream documents ever are.
    #[display("{_0}")]
    Body(String),
}

impl TransportError {
    pub(super) fn from_send(error: &awc::error::SendRequestError) -> TransportError {
        match error {
            awc::error::SendRequestError::Connect(_) => TransportError::Connect(error.to_string()),
            _ => TransportError::Exchange(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::upstream::{Answer, get_json};

    #[actix_web::test]
    async fn a_port_nobody_listens_on_is_a_connect_failure() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let url = format!("http://{closed}/discovery?tenant=x");
        let error = get_json::<serde_json::Value>(&url, Duration::from_secs(5)).await.unwrap_err();
        match &error {
            UpstreamError::Transport { url, cause: TransportError::Connect(_) } => {
                assert_eq!(url, &format!("http://{closed}/discovery"))
            }
            other => panic!("not a connect failure: {other:?}"),
        }
    }

    #[test]
    fn a_body_that_is_not_json_says_where_and_never_what() {
        let answer = Answer { status: 200, headers: Default::default(), body: "{\"value\": s3cr3t}".into() };
        let error =
            answer.json::<serde_json::Value>("https://kv.vault.azure.net/secrets/a?api-version=7.4").unwrap_err();
        assert_eq!(
            error.to_string(),
            "https://kv.vault.azure.net/secrets/a: unexpected JSON (Syntax error at line 1 column 11)"
        );
    }
}
