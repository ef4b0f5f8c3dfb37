//! RFC 6750 `WWW-Authenticate: Bearer` challenges, built as a type.
//!
//! Written here rather than taken from actix-web-httpauth 0.8, whose `Bearer` challenge
//! separates auth-params with spaces only; RFC 7235 §4.1 requires commas, and strict
//! parsers (the Azure SDKs' challenge handling among them) split on them.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BearerChallenge<'a> {
    pub error: Option<BearerError>,
    pub error_description: Option<&'a str>,
    pub scope: Option<&'a str>,
}

/// The error codes of RFC 6750 §3.1 that a resource server sends in a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    InvalidToken,
    InsufficientScope,
}

impl BearerError {
    pub const fn as_str(self) -> &'static str {
        match self {
            BearerError::InvalidToken => "invalid_token",
            BearerError::InsufficientScope => "insufficient_scope",
        }
    }
}

impl fmt::Display for BearerChallenge<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bearer")?;
        let params = [
            ("error", self.error.map(BearerError::as_str)),
            ("error_description", self.error_description),
            ("scope", self.scope),
        ];
        let mut separator = " ";
        for (name, value) in params {
            if let Some(value) = value {
                write!(f, "{separator}{name}=\"")?;
                write_quoted(f, value)?;
                f.write_str("\"")?;
                separator = ", ";
            }
        }
        Ok(())
    }
}

/// Writes `value` as the inside of an RFC 7230 quoted-string, dropping control characters.
fn write_quoted(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    let plain = |c: char| c != '"' && c != '\\' && !c.is_control();
    let mut rest = value;
    while let Some(at) = rest.find(|c: char| !plain(c)) {
        f.write_str(&rest[..at])?;
        let special = rest[at..].chars().next().expect("found a character here");
        if special == '"' || special == '\\' {
            f.write_str("\\")?;
            f.write_str(&rest[at..at + 1])?;
        }
        rest = &rest[at + special.len_utf8()..];
    }
    f.write_str(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_comma_separated_and_quoted() {
        assert_eq!(BearerChallenge::default().to_string(), "Bearer");
        let challenge = BearerChallenge {
            error: Some(BearerError::InvalidToken),
            error_description: Some("a \"quoted\" \\ text\n"),
            scope: None,
        };
        assert_eq!(challenge.to_string(), r#"Bearer error="invalid_token", error_description="a \"quoted\" \\ text""#);
        let challenge = BearerChallenge {
            error: Some(BearerError::InsufficientScope),
            error_description: None,
            scope: Some("A B"),
        };
        assert_eq!(challenge.to_string(), r#"Bearer error="insufficient_scope", scope="A B""#);
    }
}
