//! The one URL reader: every upstream URL is parsed (never prefix-matched) and must be
//! `https://`, except on hosts where plain HTTP cannot leave the machine or its link.

use std::net::IpAddr;
use std::str::FromStr;

use actix_web::http::Uri;

/// Where plain `http://` is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainHttp {
    /// Loopback hosts only: the test doubles.
    Loopback,
    /// Loopback and IPv4 link-local hosts: managed-identity endpoints are plain HTTP there
    /// by design (IMDS on 169.254.169.254, App Service and Functions on Linux on 169.254.255.2).
    LoopbackOrLinkLocal,
}

impl PlainHttp {
    fn allows(self, host: &str) -> bool {
        match self {
            PlainHttp::Loopback => is_loopback_host(host),
            PlainHttp::LoopbackOrLinkLocal => is_loopback_host(host) || is_link_local_ipv4(host),
        }
    }

    fn expectation(self) -> &'static str {
        match self {
            PlainHttp::Loopback => "must start with https:// (http:// only for loopback hosts)",
            PlainHttp::LoopbackOrLinkLocal => "must be https://, or http:// on a link-local or loopback host",
        }
    }
}

/// `value` checked as `name`'s URL; returned without a trailing slash.
pub fn check_url(name: &str, value: &str, plain_http: PlainHttp) -> Result<String, String> {
    let uri = Uri::from_str(value).map_err(|_| format!("{name}: not a URL: {value:?}"))?;
    let host = uri.host().ok_or_else(|| format!("{name}: the URL has no host: {value:?}"))?;
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if plain_http.allows(host) => {}
        _ => return Err(format!("{name}: {}, got {value:?}", plain_http.expectation())),
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// An upstream URL that is not an identity endpoint (Entra ID, a JWKS, discovery's answers).
pub fn check_upstream_url(name: &str, value: &str) -> Result<String, String> {
    check_url(name, value, PlainHttp::Loopback)
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
