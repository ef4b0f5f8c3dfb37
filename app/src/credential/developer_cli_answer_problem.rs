//! Why a developer tool's output holds no usable token. The text never holds the output.

#[derive(Debug, derive_more::Display)]
pub enum CliAnswerProblem {
    /// serde's words, which name a position, not the content.
    #[display("unreadable JSON ({_0})")]
    NotJson(serde_json::Error),
    #[display("no expires_on (Azure CLI 2.54 or later is needed)")]
    NoEpochExpiry,
    #[display("expiresOn is not a UTC time")]
    ExpiryNotUtc,
    #[display("an empty token")]
    EmptyToken,
    #[display("the token has already expired")]
    Expired,
}
