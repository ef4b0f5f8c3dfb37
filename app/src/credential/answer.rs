//! The token answers of the three endpoint kinds, read into one shape. Their types differ:
//! App Service's `expires_on` is a string, IMDS sends strings, the token endpoint numbers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use super::{AccessToken, CredentialError};
use crate::upstream::{Answer, url_for_logs};

#[derive(Deserialize)]
#[serde(untagged)]
enum Seconds {
    Number(u64),
    Text(String),
}

impl Seconds {
    fn get(&self) -> Option<u64> {
        match self {
            Seconds::Number(n) => Some(*n),
            Seconds::Text(text) => text.trim().parse().ok(),
        }
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Option<Seconds>,
    expires_on: Option<Seconds>,
    /// When the issuer advises renewing (Entra sends it for long-lived tokens).
    refresh_in: Option<Seconds>,
}

/// What the endpoints say when they refuse: OAuth's `error`, `error_description` and Entra's
/// `error_codes` (AADSTS numbers); App Service's `message`; Service Fabric's and Cloud
/// Shell's `error` object with its `code` and `message`.
#[derive(Deserialize, Default)]
struct ErrorAnswer {
    error: Option<ErrorField>,
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<u64>,
    message: Option<String>,
    #[serde(rename = "Message")]
    message_capitalised: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ErrorField {
    Code(String),
    Detail { code: Option<String>, message: Option<String> },
}

/// The longest error description logged (Entra's run to a few hundred characters).
const MAX_DESCRIPTION_CHARS: usize = 400;

/// The token of a 200 answer; other statuses and shapes are errors naming the URL, the
/// status and what the endpoint said (never a token or a client secret: endpoints echo neither).
/// The status decides whether the failure is an outage or a refusal.
pub fn read(answer: &Answer, url: &str) -> Result<AccessToken, CredentialError> {
    if answer.status != 200 {
        return Err(refusal(answer, url));
    }
    let unusable = |what: &str| CredentialError::Unusable(format!("{}: {what}", url_for_logs(url)));
    let parsed: TokenAnswer = answer.json(url).map_err(|e| CredentialError::Unusable(e.to_string()))?;
    let now = SystemTime::now();
    let expires_at =
        match (parsed.expires_in.as_ref().and_then(Seconds::get), parsed.expires_on.as_ref().and_then(Seconds::get)) {
            (Some(seconds), _) => now + Duration::from_secs(seconds),
            (None, Some(epoch)) => UNIX_EPOCH + Duration::from_secs(epoch),
            (None, None) => return Err(unusable("the token answer has no expiry")),
        };
    if parsed.access_token.is_empty() {
        return Err(unusable("the token answer has no token"));
    }
    let refresh_in = parsed.refresh_in.as_ref().and_then(Seconds::get).map(Duration::from_secs);
    Ok(AccessToken::new(parsed.access_token, expires_at, refresh_in))
}

/// An answer other than 200, as an error naming the URL, the status and what the endpoint said.
pub fn refusal(answer: &Answer, url: &str) -> CredentialError {
    let detail = format!("{}: answered {}{}", url_for_logs(url), answer.status, describe_error(&answer.body));
    CredentialError::from_status(answer.status, detail)
}

/// `: invalid_client [AADSTS7000215] AADSTS7000215: Invalid client secret provided. ...`, or
/// nothing when the body says nothing readable.
pub fn describe_error(body: &[u8]) -> String {
    let parsed: ErrorAnswer = serde_json::from_slice(body).unwrap_or_default();
    let mut parts: Vec<String> = Vec::new();
    let mut detail = None;
    match parsed.error {
        Some(ErrorField::Code(code)) => parts.push(code),
        Some(ErrorField::Detail { code, message }) => {
            parts.extend(code);
            detail = message;
        }
        None => {}
    }
    if !parsed.error_codes.is_empty() {
        let codes: Vec<String> = parsed.error_codes.iter().map(|code| format!("AADSTS{code}")).collect();
        parts.push(format!("[{}]", codes.join(", ")));
    }
    if let Some(text) = parsed.error_description.or(detail).or(parsed.message).or(parsed.message_capitalised) {
        let text: String =
            text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(MAX_DESCRIPTION_CHARS).collect();
        parts.push(text);
    }
    if parts.is_empty() { String::new() } else { format!(": {}", parts.join(" ")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_say_what_the_endpoint_said() {
        let aadsts = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 0000","error_codes":[7000215],"timestamp":"2026-11-29 12:00:00Z","trace_id":"0000","correlation_id":"1111"}"#;
        assert_eq!(
            describe_error(aadsts),
            ": invalid_client [AADSTS7000215] AADSTS7000215: Invalid client secret provided. Trace ID: 0000"
        );
        assert_eq!(
            describe_error(br#"{"error":"invalid_request","error_description":"Identity not found"}"#),
            ": invalid_request Identity not found"
        );
        assert_eq!(describe_error(br#"{"statusCode":400,"message":"No managed identity"}"#), ": No managed identity");
        assert_eq!(describe_error(b"<html>gateway</html>"), "");
        // Service Fabric and Cloud Shell nest theirs (wire-new samples).
        assert_eq!(
            describe_error(
                br#"{"error":{"correlationId":"7f30f4d3-0f3a-41e0-a417-527f21b3848f","code":"SecretHeaderNotFound","message":"Secret is not found in the request headers."}}"#
            ),
            ": SecretHeaderNotFound Secret is not found in the request headers."
        );
    }

    #[test]
    fn renewal_follows_refresh_in_else_half_the_life() {
        let now = SystemTime::now();
        let token = AccessToken::new("t".into(), now + Duration::from_secs(3600), None);
        let half = token.refresh_at.duration_since(now).unwrap().as_secs();
        assert!((1799..=1801).contains(&half), "{half}");
        let short = AccessToken::new("t".into(), now + Duration::from_secs(400), None);
        let at = short.refresh_at.duration_since(now).unwrap().as_secs();
        assert!((99..=101).contains(&at), "5 minutes before expiry comes first: {at}");
        let advised = AccessToken::new("t".into(), now + Duration::from_secs(86_400), Some(Duration::from_secs(600)));
        let at = advised.refresh_at.duration_since(now).unwrap().as_secs();
        assert!((599..=601).contains(&at), "{at}");
    }
}
