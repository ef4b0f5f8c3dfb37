//! The one URL reader: every upstream URL is parsed (never prefix-matched) and checked
//! against the rule for what it points at.

use std::net::IpAddr;
use std::str::FromStr;

use http::Uri;

/// The domains Key Vault and Managed HSM answer on, in every cloud (private endpoints keep
/// these names).
pub const KEY_VAULT_DOMAINS: &[&str] = &[
    "vault.azure.net",
    "vault.azure.cn",
    "vault.usgovcloudapi.net",
    "managedhsm.azure.net",
    "managedhsm.azure.cn",
    "managedhsm.usgovcloudapi.net",
];

/// The instance metadata service's link-local address.
pub const IMDS_ADDRESS: &str = "169.254.169.254";

/// What a URL must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlRule {
    /// Entra ID and other token issuers: `https://`, plain `http://` only on loopback hosts
    /// (the test doubles).
    Upstream,
    /// `IDENTITY_ENDPOINT`, `MSI_ENDPOINT`: also plain `http://` on IPv4 link-local hosts, where
    /// the platforms serve them by design (App Service and Functions on Linux answer on
    /// 169.254.255.2, which never routes beyond the link).
    IdentityEndpoint,
    /// `IMDS_ENDPOINT`, `AZURE_POD_IDENTITY_AUTHORITY_HOST`: also plain `http://` on the
    /// instance metadata address 169.254.169.254.
    Imds,
    /// `https://<name>.<Key Vault domain>` and nothing more, so no token leaves for another
    /// host; loopback hosts (the test doubles) over `http://` or `https://`.
    KeyVault,
    /// `FLEET_REDIS_URL`: `rediss://host:port` (TLS), plain `redis://` only on loopback hosts;
    /// at most a database number as its path. User information (a password for a self-run
    /// Redis) is allowed and never shown.
    Redis,
}

impl UrlRule {
    fn expectation(self) -> String {
        match self {
            UrlRule::Upstream => "must start with https:// (http:// only for loopback hosts)".into(),
            UrlRule::IdentityEndpoint => "must be https://, or http:// on a link-local or loopback host".into(),
            UrlRule::Imds => format!("must be https://, or http:// on {IMDS_ADDRESS} or a loopback host"),
            UrlRule::KeyVault => format!(
                "must be https://<name>.<Key Vault domain> ({}; http:// only for loopback hosts)",
                KEY_VAULT_DOMAINS.join(", ")
            ),
            UrlRule::Redis => "must be rediss://host:port (redis:// only for loopback hosts)".into(),
        }
    }

    fn accepts(self, uri: &Uri, host: &str) -> bool {
        let https = uri.scheme_str() == Some("https");
        let http = uri.scheme_str() == Some("http");
        match self {
            UrlRule::Upstream => https || (http && is_loopback_host(host)),
            UrlRule::IdentityEndpoint => https || (http && (is_loopback_host(host) || is_link_local_ipv4(host))),
            UrlRule::Imds => https || (http && (is_loopback_host(host) || host == IMDS_ADDRESS)),
            UrlRule::KeyVault if is_loopback_host(host) => https || http,
            UrlRule::KeyVault => {
                https
                    && is_key_vault_host(host)
                    && matches!(uri.port_u16(), None | Some(443))
                    && matches!(uri.path(), "" | "/")
                    && uri.query().is_none()
            }
            UrlRule::Redis => {
                let tls = uri.scheme_str() == Some("rediss");
                let plain = uri.scheme_str() == Some("redis");
                (tls || (plain && is_loopback_host(host)))
                    && uri.query().is_none()
                    && uri.path().trim_start_matches('/').bytes().all(|b| b.is_ascii_digit())
            }
        }
    }
}

/// Why a URL was refused. The text quotes the value, except one that may hold a password
/// (`user:password@host`).
#[derive(Debug, Clone, PartialEq, Eq, derive_more::Display)]
pub enum UrlProblem {
    /// `shown` is the value quoted, or a note that it is not shown.
    #[display("{variable}: not a URL: {shown}")]
    NotAUrl { variable: String, shown: String },
    // Credentials travel in their own headers; a URL that carries some would also put them
    // in logs.
    #[display("{variable}: must not carry user information (user@host); the value is not shown")]
    UserInformation { variable: String },
    #[display("{variable}: the URL has no host: {value:?}")]
    NoHost { variable: String, value: String },
    #[display("{variable}: {}, got {value:?}", rule.expectation())]
    BreaksRule { variable: String, rule: UrlRule, value: String },
}

impl UrlProblem {
    pub fn variable(&self) -> &str {
        match self {
            UrlProblem::NotAUrl { variable, .. }
            | UrlProblem::UserInformation { variable }
            | UrlProblem::NoHost { variable, .. }
            | UrlProblem::BreaksRule { variable, .. } => variable,
        }
    }
}

/// `value` checked as `name`'s URL under `rule`; returned without a trailing slash.
pub fn check_url(name: &str, value: &str, rule: UrlRule) -> Result<String, UrlProblem> {
    let variable = name.to_owned();
    // The redis client reads a fragment (`#insecure`) as "do not verify the certificate".
    let uri = Uri::from_str(value).ok().filter(|_| !value.contains('#')).ok_or_else(|| {
        let shown =
            if value.contains('@') { "(not shown: it may hold a password)".to_owned() } else { format!("{value:?}") };
        UrlProblem::NotAUrl { variable: variable.clone(), shown }
    })?;
    let user_information = uri.authority().is_some_and(|authority| authority.as_str().contains('@'));
    if user_information && rule != UrlRule::Redis {
        return Err(UrlProblem::UserInformation { variable });
    }
    let Some(host) = uri.host() else {
        return Err(UrlProblem::NoHost { variable, value: without_user_information(value) });
    };
    if !rule.accepts(&uri, host) {
        return Err(UrlProblem::BreaksRule { variable, rule, value: without_user_information(value) });
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// `value` with its user information (which may hold a password) replaced by a note.
fn without_user_information(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else { return value.to_owned() };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://(user information not shown)@{host}{}", &rest[authority_end..]),
        None => value.to_owned(),
    }
}

/// An upstream URL that is not an identity endpoint (Entra ID, a JWKS, discovery's answers).
pub fn check_upstream_url(name: &str, value: &str) -> Result<String, UrlProblem> {
    check_url(name, value, UrlRule::Upstream)
}

/// The host of an absolute URL (`None` for anything that does not parse as one).
pub fn host_of(url: &str) -> Option<String> {
    Uri::from_str(url).ok()?.host().map(str::to_owned)
}

/// What `vaultgate check` says of the vault's host: which cloud its domain belongs to, or
/// that it is a loopback test double. `None` for a host `KEY_VAULT_URL` would not accept.
pub fn key_vault_host_verdict(host: &str) -> Option<String> {
    if is_loopback_host(host) {
        return Some(format!("{host} is a loopback host: test doubles only"));
    }
    let domain = key_vault_domain(host)?;
    let cloud = match domain.split_once('.').map_or("", |(_, cloud)| cloud) {
        "azure.net" => "Azure public cloud",
        "azure.cn" => "Azure China (21Vianet)",
        _ => "Azure US Government",
    };
    let service = if domain.starts_with("managedhsm") { "Managed HSM" } else { "Key Vault" };
    Some(format!("{host} is a {service} host in {cloud} ({domain})"))
}

/// `<name>.<Key Vault domain>`: exactly one DNS label before a listed domain.
fn is_key_vault_host(host: &str) -> bool {
    key_vault_domain(host).is_some()
}

/// The Key Vault domain `host` is one name under, if it is.
fn key_vault_domain(host: &str) -> Option<&'static str> {
    let host = host.to_ascii_lowercase();
    KEY_VAULT_DOMAINS
        .iter()
        .find(|domain| host.strip_suffix(*domain).and_then(|name| name.strip_suffix('.')).is_some_and(is_dns_label))
        .copied()
}

/// Letters, digits and inner dashes, at most 63 characters.
fn is_dns_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// `localhost`, `127.0.0.0/8` or `[::1]`.
pub fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || ip(host).is_some_and(|ip| ip.is_loopback())
}

/// `169.254.0.0/16`: never routed beyond the link.
fn is_link_local_ipv4(host: &str) -> bool {
    matches!(ip(host), Some(IpAddr::V4(v4)) if v4.is_link_local())
}

fn ip(host: &str) -> Option<IpAddr> {
    IpAddr::from_str(host.trim_start_matches('[').trim_end_matches(']')).ok()
}

#[cfg(test)]
mod tests {
    use super::{host_of, key_vault_host_verdict};

    #[test]
    fn hosts_are_read_from_parsed_urls() {
        assert_eq!(host_of("https://kv1.vault.azure.net").as_deref(), Some("kv1.vault.azure.net"));
        assert_eq!(host_of("http://127.0.0.1:39761/").as_deref(), Some("127.0.0.1"));
        assert_eq!(host_of("https://login.chinacloudapi.cn/tenant/v2.0").as_deref(), Some("login.chinacloudapi.cn"));
        assert_eq!(host_of("not a url"), None);
    }

    #[test]
    fn vault_hosts_are_named_by_their_cloud() {
        let verdict = |host| key_vault_host_verdict(host).unwrap_or_default();
        assert_eq!(
            verdict("kv1.vault.azure.net"),
            "kv1.vault.azure.net is a Key Vault host in Azure public cloud (vault.azure.net)"
        );
        assert_eq!(
            verdict("kv1.vault.azure.cn"),
            "kv1.vault.azure.cn is a Key Vault host in Azure China (21Vianet) (vault.azure.cn)"
        );
        assert_eq!(
            verdict("hsm.managedhsm.usgovcloudapi.net"),
            "hsm.managedhsm.usgovcloudapi.net is a Managed HSM host in Azure US Government (managedhsm.usgovcloudapi.net)"
        );
        assert_eq!(verdict("127.0.0.1"), "127.0.0.1 is a loopback host: test doubles only");
        assert_eq!(key_vault_host_verdict("vault.azure.net.evil.example"), None);
    }
}
