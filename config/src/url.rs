//! The one URL reader: every upstream URL is parsed (never prefix-matched) and checked
//! against the rule for what it points at.

use std::net::IpAddr;
use std::str::FromStr;

use actix_web::http::Uri;

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
        }
    }
}

/// `value` checked as `name`'s URL under `rule`; returned without a trailing slash.
/// Problems quote the value, except one that may hold a password (`user:password@host`).
pub fn check_url(name: &str, value: &str, rule: UrlRule) -> Result<String, String> {
    let shown =
        || if value.contains('@') { "(not shown: it may hold a password)".to_owned() } else { format!("{value:?}") };
    let uri = Uri::from_str(value).map_err(|_| format!("{name}: not a URL: {}", shown()))?;
    if uri.authority().is_some_and(|authority| authority.as_str().contains('@')) {
        // Credentials travel in their own headers; a URL that carries some would also put
        // them in logs.
        return Err(format!("{name}: must not carry user information (user@host); the value is not shown"));
    }
    let host = uri.host().ok_or_else(|| format!("{name}: the URL has no host: {value:?}"))?;
    if !rule.accepts(&uri, host) {
        return Err(format!("{name}: {}, got {value:?}", rule.expectation()));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// An upstream URL that is not an identity endpoint (Entra ID, a JWKS, discovery's answers).
pub fn check_upstream_url(name: &str, value: &str) -> Result<String, String> {
    check_url(name, value, UrlRule::Upstream)
}

/// `<name>.<Key Vault domain>`: exactly one DNS label before a listed domain.
fn is_key_vault_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    KEY_VAULT_DOMAINS
        .iter()
        .any(|domain| host.strip_suffix(domain).and_then(|name| name.strip_suffix('.')).is_some_and(is_dns_label))
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
