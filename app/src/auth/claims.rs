//! The verified caller, as handlers see it.

use serde::{Deserialize, Deserializer, Serialize};

/// Who called, read from a token that verified. Take it as a handler parameter to know
/// the caller; `#[protected]` has already checked the route's requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claims {
    /// The caller's object id (a user's, or an application's service principal).
    pub oid: Option<String>,
    /// The calling application: `appid` (v1 tokens) or `azp` (v2 tokens).
    pub appid: Option<String>,
    /// The caller's tenant.
    pub tid: Option<String>,
    pub sub: Option<String>,
    /// App roles (`roles`); `None` when the token has no `roles` claim.
    pub roles: Option<Vec<String>>,
    /// Delegated scopes (`scp`, space-separated in the token); `None` without `scp`.
    pub scopes: Option<Vec<String>>,
    pub issuer: String,
    /// The `exp` claim, seconds since the epoch.
    pub expires_at: i64,
}

impl Claims {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().flatten().any(|r| r == role)
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().flatten().any(|s| s == scope)
    }
}

/// The payload as sent. Types are strict: a claim of the wrong type fails validation.
#[derive(Debug, Deserialize)]
pub(crate) struct RawClaims {
    pub iss: Option<String>,
    #[serde(default, deserialize_with = "string_or_list")]
    pub aud: Option<Vec<String>>,
    #[serde(default, deserialize_with = "numeric_date")]
    pub exp: Option<i64>,
    #[serde(default, deserialize_with = "numeric_date")]
    pub nbf: Option<i64>,
    #[serde(default, deserialize_with = "numeric_date")]
    pub iat: Option<i64>,
    pub oid: Option<String>,
    pub sub: Option<String>,
    pub tid: Option<String>,
    pub appid: Option<String>,
    pub azp: Option<String>,
    /// `1.0` or `2.0`: which issuer form the token must carry.
    pub ver: Option<String>,
    pub roles: Option<Vec<String>>,
    pub scp: Option<String>,
    /// Present on id tokens and Microsoft Graph tokens, never on tokens for our API.
    pub nonce: Option<serde_json::Value>,
}

impl RawClaims {
    pub(crate) fn into_claims(self, issuer: String, expires_at: i64) -> Claims {
        Claims {
            oid: self.oid,
            appid: self.appid.or(self.azp),
            tid: self.tid,
            sub: self.sub,
            roles: self.roles,
            scopes: self.scp.map(|scp| scp.split_ascii_whitespace().map(str::to_owned).collect()),
            issuer,
            expires_at,
        }
    }
}

fn string_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(Option::<OneOrMany>::deserialize(d)?.map(|v| match v {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    }))
}

/// RFC 7519 NumericDate: seconds, possibly fractional; fractions are dropped.
fn numeric_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(d)? else { return Ok(None) };
    number
        .as_i64()
        .or_else(|| number.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15).map(|f| f as i64))
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom("a date must be a number of seconds"))
}
