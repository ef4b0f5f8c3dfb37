//! The token answers of the three endpoint kinds, read into one shape. Their types differ:
//! App Service's `expires_on` is a string, IMDS sends strings, the token endpoint numbers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use super::AccessToken;
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
}

/// The token of a 200 answer; other statuses and shapes are errors naming only the URL.
pub fn read(answer: &Answer, url: &str) -> Result<AccessToken, String> {
    if answer.status != 200 {
        return Err(format!("{}: answered {}", url_for_logs(url), answer.status));
    }
    let parsed: TokenAnswer = answer.json(url).map_err(|e| e.to_string())?;
    let now = SystemTime::now();
    let expires_at =
        match (parsed.expires_in.as_ref().and_then(Seconds::get), parsed.expires_on.as_ref().and_then(Seconds::get)) {
            (Some(seconds), _) => now + Duration::from_secs(seconds),
            (None, Some(epoch)) => UNIX_EPOCH + Duration::from_secs(epoch),
            (None, None) => return Err(format!("{}: the token answer has no expiry", url_for_logs(url))),
        };
    if parsed.access_token.is_empty() {
        return Err(format!("{}: the token answer has no token", url_for_logs(url)));
    }
    Ok(AccessToken::new(parsed.access_token, expires_at))
}
