//! Why vaultgate's own credential got no token. The kind decides whether a cached secret may
//! cover the failure: an identity endpoint that is down is a passing outage, a refused
//! credential (a revoked identity, `invalid_client`) is not. The text is for logs and never
//! holds a token or a client secret.

use crate::upstream::UpstreamError;

#[derive(Debug, Clone, PartialEq, Eq, derive_more::Display)]
pub enum CredentialError {
    /// The endpoint is down, unreachable, too slow, throttling or failing (408, 410, 429,
    /// 5xx), or a developer tool outlived its timeout: transient.
    #[display("{_0}")]
    Unavailable(String),
    /// The endpoint refused the credential: `invalid_client`, an identity it does not know,
    /// any other 4xx, a developer tool that is not signed in.
    #[display("{_0}")]
    Refused(String),
    /// What the credential needs locally is unusable: a certificate, token or key file, a
    /// value a command line must not get.
    #[display("{_0}")]
    Misconfigured(String),
    /// A 200 that holds no usable token (bad JSON, no token, no expiry).
    #[display("{_0}")]
    Unusable(String),
}

impl CredentialError {
    /// Whether the failure is a passing outage, which a cached secret may cover.
    pub fn is_transient(&self) -> bool {
        matches!(self, CredentialError::Unavailable(_))
    }

    /// A token endpoint's answer other than 200: its status decides the kind.
    pub fn from_status(status: u16, detail: String) -> Self {
        if is_transient_status(status) {
            CredentialError::Unavailable(detail)
        } else {
            CredentialError::Refused(detail)
        }
    }
}

/// The statuses of an endpoint that is unwell rather than refusing: timeouts, IMDS upgrading,
/// throttling and server errors.
fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 410 | 429) || (500..=599).contains(&status)
}

impl From<UpstreamError> for CredentialError {
    /// No answer at all (timeouts, connection errors) is an outage; an unreadable answer is not.
    fn from(error: UpstreamError) -> Self {
        match error {
            UpstreamError::Status { status, .. } => CredentialError::from_status(status, error.to_string()),
            UpstreamError::Timeout { .. } | UpstreamError::Transport { .. } => {
                CredentialError::Unavailable(error.to_string())
            }
            UpstreamError::UnexpectedJson { .. } => CredentialError::Unusable(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unwell_endpoint_is_transient_and_a_refusal_is_not() {
        for status in [408, 410, 429, 500, 502, 503, 504] {
            assert!(CredentialError::from_status(status, String::new()).is_transient(), "{status}");
        }
        for status in [400, 401, 403, 404] {
            assert!(!CredentialError::from_status(status, String::new()).is_transient(), "{status}");
        }
        assert!(!CredentialError::Misconfigured("AZURE_FEDERATED_TOKEN_FILE".into()).is_transient());
        assert!(!CredentialError::Unusable("no expiry".into()).is_transient());
    }
}
