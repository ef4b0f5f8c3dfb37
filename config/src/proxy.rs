//! Which upstream calls go through an HTTP proxy, from `HTTPS_PROXY`, `HTTP_PROXY` and
//! `NO_PROXY` (each lowercase form first, as curl reads them; `network_settings.rs` reads
//! them with every other variable); a proxy URL vaultgate cannot use is a start-up error.
//!
//! `NO_PROXY` as curl reads it and no more: a list separated by commas or blanks; `*` alone
//! sends everything direct; a name matches itself and its subdomains (a leading or trailing
//! `.` changes nothing); IP addresses match exactly or by CIDR range (`10.0.0.0/8`), never
//! by name. An entry curl would never match (a port, `*.corp.example`, `*` among others) is
//! set aside for a start-up warning. Loopback (127.0.0.0/8,
//! `::1`, `localhost`) and link-local addresses (IMDS, 169.254.169.254) are never proxied,
//! whatever `NO_PROXY` says, as Go and .NET decide for loopback: a proxy would reach its own,
//! and the identity endpoints there would hand it their secret header and the token in clear
//! text; Microsoft documents that IMDS must not be called through one.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use base64::Engine;

/// An HTTP proxy: where to connect, and the `Proxy-Authorization` to send, if any.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    /// A name, an IPv4 address, or an IPv6 address in brackets.
    host: String,
    port: u16,
    /// `Basic …` from the URL's `user:password@`; a secret.
    authorization: Option<String>,
}

impl Proxy {
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `Proxy-Authorization` header value. Never log it.
    pub fn authorization(&self) -> Option<&str> {
        self.authorization.as_deref()
    }
}

/// `http://host:port`: never the credentials.
impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}:{}", self.host, self.port)
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credentials = if self.authorization.is_some() { " (with credentials)" } else { "" };
        write!(f, "Proxy({self}{credentials})")
    }
}

/// The proxies for `https://` and `http://` calls, and the hosts that skip them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    https: Option<Proxy>,
    http: Option<Proxy>,
    no_proxy: Vec<Exemption>,
    /// `NO_PROXY` entries that match nothing, for a start-up warning.
    ignored: Vec<String>,
}

impl ProxySettings {
    /// The proxies as read, and `NO_PROXY`'s value if set.
    pub(crate) fn new(https: Option<Proxy>, http: Option<Proxy>, no_proxy: Option<&str>) -> ProxySettings {
        let (no_proxy, ignored) = no_proxy.map(parse_no_proxy).unwrap_or_default();
        ProxySettings { https, http, no_proxy, ignored }
    }

    /// True when no proxy is set: every call goes direct.
    pub fn is_direct(&self) -> bool {
        self.https.is_none() && self.http.is_none()
    }

    /// The proxy for a call to `scheme://host`, or `None` to connect directly. `host` is as
    /// a URL writes it (IPv6 in brackets or not); as in curl, the port plays no part.
    pub fn proxy_for(&self, scheme: &str, host: &str) -> Option<&Proxy> {
        let proxy = match scheme {
            "https" => self.https.as_ref(),
            "http" => self.http.as_ref(),
            _ => None,
        }?;
        let host = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        if on_this_host_or_link(&host, ip) || self.no_proxy.iter().any(|e| e.matches(&host, ip)) {
            return None;
        }
        Some(proxy)
    }

    /// `NO_PROXY` entries that can match nothing (`<local>`, a bad range, ...).
    pub fn ignored(&self) -> &[String] {
        &self.ignored
    }

    /// One line for logs and `vaultgate check`, without credentials.
    pub fn describe(&self) -> String {
        let route = |proxy: &Option<Proxy>| proxy.as_ref().map_or("direct".to_owned(), |p| format!("via {p}"));
        let mut line = format!("https:// {}, http:// {}", route(&self.https), route(&self.http));
        if !self.is_direct() && !self.no_proxy.is_empty() {
            let entries: Vec<String> = self.no_proxy.iter().map(ToString::to_string).collect();
            line.push_str(&format!(", direct for NO_PROXY {}", entries.join(",")));
        }
        line
    }
}

/// `localhost`, loopback addresses (an IPv4-mapped one too) and link-local ones: this host or
/// this link, so never through a proxy. `host` is lowercase, without brackets or final dot.
fn on_this_host_or_link(host: &str, ip: Option<IpAddr>) -> bool {
    host == "localhost" || ip.map(|ip| ip.to_canonical()).is_some_and(|ip| ip.is_loopback() || is_link_local(ip))
}

/// 169.254.0.0/16 and fe80::/10: reachable on this link only.
fn is_link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// Why a proxy URL cannot be used; `shown` is the URL with any credentials as `***@`.
#[derive(Debug, Clone, PartialEq, Eq, derive_more::Display)]
pub enum ProxyProblem {
    #[display(
        "{shown}: a TLS connection to the proxy itself is not supported; give it as http://host:port (calls through it stay TLS end to end)"
    )]
    TlsToProxy { shown: String },
    #[display("{shown}: only http:// proxies are supported, not {scheme}://")]
    NotHttp { shown: String, scheme: String },
    #[display("{shown}: a proxy URL is http://[user:password@]host:port, without a path")]
    HasPath { shown: String },
    #[display("{shown}: the port is not a number")]
    NotAPort { shown: String },
    #[display("{shown}: no usable proxy host")]
    NoHost { shown: String },
    #[display("{shown}: the credentials are not valid percent-encoded UTF-8")]
    BadCredentials { shown: String },
}

/// `[http://][user[:password]@]host[:port][/]`. Only plain-HTTP proxies: the tunnel they
/// open carries TLS end to end. The port defaults to 80, as for any `http://` URL.
pub(crate) fn parse_proxy(value: &str) -> Result<Proxy, ProxyProblem> {
    let shown = redacted(value);
    let rest = match value.split_once("://") {
        None => value,
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("https") => {
            return Err(ProxyProblem::TlsToProxy { shown });
        }
        Some((scheme, _)) => return Err(ProxyProblem::NotHttp { shown, scheme: scheme.to_owned() }),
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#']) {
        return Err(ProxyProblem::HasPath { shown });
    }
    let (userinfo, host_port) = match rest.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(userinfo), host_port),
        None => (None, rest),
    };
    let Some((host, port)) = split_host_port(host_port) else { return Err(ProxyProblem::NotAPort { shown }) };
    let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        v6.parse::<Ipv6Addr>().is_ok()
    } else {
        !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    };
    if !host_ok {
        return Err(ProxyProblem::NoHost { shown });
    }
    let authorization = match userinfo {
        None => None,
        Some(userinfo) => {
            let Some(decoded) = percent_decode(userinfo) else { return Err(ProxyProblem::BadCredentials { shown }) };
            Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(decoded)))
        }
    };
    Ok(Proxy { host: host.to_ascii_lowercase(), port: port.unwrap_or(80), authorization })
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; `None` when a port is there but not a number.
fn split_host_port(value: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if value.starts_with('[') {
        let end = value.find(']')?;
        let (host, rest) = value.split_at(end + 1);
        match rest {
            "" => (host, None),
            _ => (host, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match value.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (value, None),
        }
    };
    match port {
        None => Some((host, None)),
        Some(port) => port.parse::<u16>().ok().filter(|p| *p != 0).map(|p| (host, Some(p))),
    }
}

/// The URL with any `user:password@` shown as `***@`, for error messages.
fn redacted(value: &str) -> String {
    let (scheme, rest) = value.split_once("://").map_or(("", value), |(s, r)| (s, r));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let shown = match rest[..authority_end].rfind('@') {
        Some(at) => format!("***{}", &rest[at..]),
        None => rest.to_owned(),
    };
    if scheme.is_empty() { format!("{shown:?}") } else { format!("\"{scheme}://{shown}\"") }
}

fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// One `NO_PROXY` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Exemption {
    Everything,
    /// Lowercase, without leading or trailing dots: matches itself and its subdomains.
    Domain(String),
    /// An address and how many leading bits must match.
    Range(IpAddr, u8),
}

impl Exemption {
    fn matches(&self, host: &str, ip: Option<IpAddr>) -> bool {
        match (self, ip) {
            (Exemption::Everything, _) => true,
            // As in curl, names match names only, never an address written in the URL.
            (Exemption::Domain(domain), None) => {
                host == domain || host.strip_suffix(domain.as_str()).is_some_and(|head| head.ends_with('.'))
            }
            (Exemption::Range(network, bits), Some(ip)) => in_range(ip, *network, *bits),
            _ => false,
        }
    }
}

impl fmt::Display for Exemption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exemption::Everything => f.write_str("*"),
            Exemption::Domain(domain) => f.write_str(domain),
            Exemption::Range(ip, bits) if *bits == full_bits(*ip) => write!(f, "{ip}"),
            Exemption::Range(ip, bits) => write!(f, "{ip}/{bits}"),
        }
    }
}

fn full_bits(ip: IpAddr) -> u8 {
    if ip.is_ipv4() { 32 } else { 128 }
}

fn in_range(ip: IpAddr, network: IpAddr, bits: u8) -> bool {
    let (ip, network, width) = match (ip, network) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let bits = u32::from(bits);
    bits == 0 || (ip ^ network) >> (width - bits) == 0
}

/// The entries, and those that can match nothing.
fn parse_no_proxy(value: &str) -> (Vec<Exemption>, Vec<String>) {
    if value == "*" {
        return (vec![Exemption::Everything], Vec::new());
    }
    let mut entries = Vec::new();
    let mut ignored = Vec::new();
    for token in value.split(|c: char| c == ',' || c.is_ascii_whitespace()).filter(|t| !t.is_empty()) {
        match parse_exemption(token) {
            Some(entry) => entries.push(entry),
            None => ignored.push(token.to_owned()),
        }
    }
    (entries, ignored)
}

/// An address or range when the entry reads as one, else a name.
fn parse_exemption(token: &str) -> Option<Exemption> {
    if let Some(range) = range(token) {
        return Some(range);
    }
    let domain = token.trim_start_matches('.').trim_end_matches('.');
    let valid = !domain.is_empty() && domain.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    valid.then(|| Exemption::Domain(domain.to_ascii_lowercase()))
}

/// `ip` or `ip/bits`.
fn range(value: &str) -> Option<Exemption> {
    let (ip, bits) = match value.split_once('/') {
        Some((ip, bits)) => (ip.parse::<IpAddr>().ok()?, Some(bits.parse::<u8>().ok()?)),
        None => (value.parse::<IpAddr>().ok()?, None),
    };
    let bits = bits.unwrap_or(full_bits(ip));
    (bits <= full_bits(ip)).then_some(Exemption::Range(ip, bits))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::env::Env;
    use crate::network_settings::network_settings;

    /// The proxies as `Settings` reads them, or the problem lines.
    fn settings(vars: &[(&str, &str)]) -> Result<ProxySettings, Vec<String>> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let lookup = |name: &str| map.get(name).cloned();
        let mut env = Env::new(&lookup);
        let network = network_settings(&mut env);
        let problems: Vec<String> = env.into_problems().iter().map(ToString::to_string).collect();
        if problems.is_empty() { Ok(network.proxies) } else { Err(problems) }
    }

    fn routed(vars: &[(&str, &str)], url: &str) -> Option<String> {
        let settings = settings(vars).unwrap();
        let uri: http::Uri = url.parse().unwrap();
        settings.proxy_for(uri.scheme_str().unwrap(), uri.host().unwrap()).map(ToString::to_string)
    }

    const PROXY: &str = "http://proxy.corp:3128";

    #[test]
    fn no_variables_means_direct() {
        let settings = settings(&[]).unwrap();
        assert!(settings.is_direct());
        assert_eq!(settings.proxy_for("https", "myvault.vault.azure.net"), None);
        assert_eq!(settings.describe(), "https:// direct, http:// direct");
    }

    #[test]
    fn each_scheme_uses_its_own_variable() {
        let vars = [("HTTPS_PROXY", PROXY)];
        assert_eq!(routed(&vars, "https://myvault.vault.azure.net/secrets/a").as_deref(), Some(PROXY));
        assert_eq!(routed(&vars, "http://identity.corp.example:8081/msi/token"), None);
        let vars = [("HTTP_PROXY", "http://10.0.0.1:8080")];
        assert_eq!(
            routed(&vars, "http://identity.corp.example:8081/msi/token").as_deref(),
            Some("http://10.0.0.1:8080")
        );
        assert_eq!(routed(&vars, "https://login.microsoftonline.com/"), None);
    }

    #[test]
    fn lowercase_wins_as_in_curl_and_empty_counts_as_unset() {
        let vars = [("https_proxy", "http://lower:1"), ("HTTPS_PROXY", "http://upper:2")];
        assert_eq!(routed(&vars, "https://a.example/").as_deref(), Some("http://lower:1"));
        let vars = [("https_proxy", "  "), ("HTTPS_PROXY", "http://upper:2")];
        assert_eq!(routed(&vars, "https://a.example/").as_deref(), Some("http://upper:2"));
        let vars = [("HTTPS_PROXY", PROXY), ("no_proxy", "a.example"), ("NO_PROXY", "b.example")];
        assert_eq!(routed(&vars, "https://a.example/"), None);
        assert!(routed(&vars, "https://b.example/").is_some());
    }

    #[test]
    fn proxy_urls_in_the_forms_people_write_them() {
        let proxy = |value: &str| parse_proxy(value).map(|p| (p.to_string(), p.authorization));
        assert_eq!(proxy("http://proxy.corp:3128/"), Ok(("http://proxy.corp:3128".into(), None)));
        assert_eq!(proxy("proxy.corp:3128"), Ok(("http://proxy.corp:3128".into(), None)));
        assert_eq!(proxy("HTTP://Proxy.Corp"), Ok(("http://proxy.corp:80".into(), None)));
        assert_eq!(proxy("http://[fd00::1]:3128"), Ok(("http://[fd00::1]:3128".into(), None)));
        assert_eq!(proxy("http://10.1.2.3:8080"), Ok(("http://10.1.2.3:8080".into(), None)));
        // Percent-encoded credentials, decoded, then Basic (RFC 7617).
        assert_eq!(
            proxy("http://svc%40corp:p%3Ass@proxy.corp:3128"),
            Ok(("http://proxy.corp:3128".into(), Some("Basic c3ZjQGNvcnA6cDpzcw==".into())))
        );
        assert_eq!(proxy("http://user@proxy:1").unwrap().1, Some("Basic dXNlcg==".into()));
    }

    #[test]
    fn proxy_urls_vaultgate_cannot_use_are_start_up_errors_that_hide_credentials() {
        for (value, expected) in [
            ("socks5://127.0.0.1:1080", "only http:// proxies are supported, not socks5://"),
            ("https://proxy.corp:443", "a TLS connection to the proxy itself is not supported"),
            ("http://proxy.corp:notaport", "the port is not a number"),
            ("http://proxy.corp:0", "the port is not a number"),
            ("http://proxy.corp:3128/path", "without a path"),
            ("http://:3128", "no usable proxy host"),
            ("http://[not-v6]:3128", "no usable proxy host"),
            ("http://user:p%zzss@proxy.corp:3128", "percent-encoded"),
        ] {
            let problems = settings(&[("HTTPS_PROXY", value)]).unwrap_err();
            assert_eq!(problems.len(), 1, "{value}: {problems:?}");
            assert!(problems[0].starts_with("HTTPS_PROXY: "), "{problems:?}");
            assert!(problems[0].contains(expected), "{value}: {problems:?}");
        }
        let problems = settings(&[("http_proxy", "http://admin:hunter2@proxy.corp:x")]).unwrap_err();
        assert_eq!(problems, ["http_proxy: \"http://***@proxy.corp:x\": the port is not a number"]);
        // Both variables are checked before giving up.
        assert_eq!(settings(&[("HTTPS_PROXY", "socks5://a:1"), ("HTTP_PROXY", "ftp://b:2")]).unwrap_err().len(), 2);
    }

    #[test]
    fn the_proxy_never_shows_its_credentials() {
        let settings = settings(&[("HTTPS_PROXY", "http://admin:hunter2@proxy.corp:3128")]).unwrap();
        let shown = format!("{settings:?} {}", settings.describe());
        assert!(!shown.contains("hunter2") && !shown.contains("admin") && !shown.contains("YWRtaW4"), "{shown}");
        assert!(shown.contains("with credentials"), "{shown}");
    }

    #[test]
    fn no_proxy_names_match_themselves_and_their_subdomains() {
        for entry in ["corp.example", ".corp.example", "CORP.example.", " x.test , corp.example"] {
            let vars = [("HTTPS_PROXY", PROXY), ("NO_PROXY", entry)];
            assert_eq!(routed(&vars, "https://corp.example/"), None, "{entry}");
            assert_eq!(routed(&vars, "https://vault.corp.example./"), None, "{entry}");
            assert_eq!(routed(&vars, "https://a.b.Corp.Example/"), None, "{entry}");
            assert!(routed(&vars, "https://notcorp.example/").is_some(), "{entry}");
            assert!(routed(&vars, "https://corp.example.org/").is_some(), "{entry}");
        }
    }

    #[test]
    fn no_proxy_star_sends_everything_direct() {
        for value in ["*", " * "] {
            let vars = [("HTTPS_PROXY", PROXY), ("HTTP_PROXY", PROXY), ("NO_PROXY", value)];
            assert_eq!(routed(&vars, "https://myvault.vault.azure.net/"), None, "{value}");
            assert_eq!(routed(&vars, "http://10.0.0.5:8080/"), None, "{value}");
        }
    }

    #[test]
    fn no_proxy_addresses_match_exactly_or_by_range_and_never_by_name() {
        // Loopback needs no entry (it is never proxied): documentation addresses stand in.
        let vars = [("HTTP_PROXY", PROXY), ("NO_PROXY", "192.0.2.10 10.0.0.0/8, 2001:db8::1, fd00::/8, intranet")];
        assert_eq!(routed(&vars, "http://192.0.2.10:8081/"), None);
        assert!(routed(&vars, "http://192.0.2.11:8081/").is_some());
        assert_eq!(routed(&vars, "http://10.200.3.4/"), None);
        assert!(routed(&vars, "http://11.0.0.1/").is_some());
        assert_eq!(routed(&vars, "http://[2001:db8::1]:8080/"), None);
        assert!(routed(&vars, "http://[2001:db8::2]:8080/").is_some());
        assert_eq!(routed(&vars, "http://[fd12:3456::1]/"), None);
        assert!(routed(&vars, "http://[fe00::1]:8080/").is_some());
        assert_eq!(routed(&vars, "http://intranet:8081/"), None);
        // A name does not cover an address, even its own, as in curl: nothing is resolved.
        let vars = [("HTTP_PROXY", PROXY), ("NO_PROXY", "intranet")];
        assert!(routed(&vars, "http://192.0.2.10:8081/").is_some());
    }

    #[test]
    fn entries_curl_never_matches_match_nothing_here_either() {
        // curl compares these as plain names: a port, a `*.` prefix, `*` among other entries
        // and a bracketed address never equal a host, so the call still goes through the proxy.
        let vars = [
            ("HTTPS_PROXY", PROXY),
            ("HTTP_PROXY", PROXY),
            ("NO_PROXY", "corp.example:8443,*.other.example,*,192.0.2.10:8081,[2001:db8::1]"),
        ];
        assert!(routed(&vars, "https://api.corp.example:8443/").is_some());
        assert!(routed(&vars, "https://vault.other.example/").is_some());
        assert!(routed(&vars, "https://myvault.vault.azure.net/").is_some());
        assert!(routed(&vars, "http://192.0.2.10:8081/").is_some());
        assert!(routed(&vars, "http://[2001:db8::1]/").is_some());
        assert_eq!(
            settings(&vars).unwrap().ignored(),
            ["corp.example:8443", "*.other.example", "*", "192.0.2.10:8081", "[2001:db8::1]"]
        );
    }

    #[test]
    fn a_no_proxy_entry_ignores_the_port_of_the_call() {
        let vars = [("HTTPS_PROXY", PROXY), ("HTTP_PROXY", PROXY), ("NO_PROXY", "corp.example,192.0.2.10")];
        assert_eq!(routed(&vars, "https://api.corp.example:8443/"), None);
        assert_eq!(routed(&vars, "https://api.corp.example/"), None);
        assert_eq!(routed(&vars, "http://192.0.2.10:8081/"), None);
        assert_eq!(routed(&vars, "http://192.0.2.10:8082/"), None);
    }

    #[test]
    fn link_local_addresses_are_never_proxied() {
        let vars = [("HTTP_PROXY", PROXY)];
        assert_eq!(routed(&vars, "http://169.254.169.254/metadata/identity/oauth2/token"), None);
        assert_eq!(routed(&vars, "http://[fe80::1]/"), None);
        assert!(routed(&vars, "http://169.255.0.1/").is_some());
    }

    #[test]
    fn loopback_is_never_proxied_whatever_no_proxy_says() {
        for no_proxy in [None, Some("corp.example"), Some("10.0.0.0/8,127.0.0.2:9")] {
            let mut vars = vec![("HTTPS_PROXY", PROXY), ("HTTP_PROXY", PROXY)];
            vars.extend(no_proxy.map(|value| ("NO_PROXY", value)));
            for url in [
                "http://127.0.0.1:8081/msi/token",
                "http://127.255.255.254/",
                "https://127.0.0.2:8443/",
                "http://[::1]:8080/",
                "http://[::ffff:127.0.0.1]:8080/",
                "http://localhost:8081/",
                "https://LocalHost./",
            ] {
                assert_eq!(routed(&vars, url), None, "{url} with NO_PROXY {no_proxy:?}");
            }
            // Their neighbours still go through the proxy.
            for url in [
                "http://126.255.255.255/",
                "http://128.0.0.1/",
                "http://[::2]/",
                "http://[::ffff:10.0.0.1]/",
                "https://localhost.corp.example.org/",
                "https://mylocalhost/",
            ] {
                assert!(routed(&vars, url).is_some(), "{url} with NO_PROXY {no_proxy:?}");
            }
        }
    }

    #[test]
    fn unusable_no_proxy_entries_are_kept_aside_for_a_warning() {
        let settings =
            settings(&[("HTTPS_PROXY", PROXY), ("NO_PROXY", "<local>,10.0.0.0/33,host:port,ok.example")]).unwrap();
        assert_eq!(settings.ignored(), ["<local>", "10.0.0.0/33", "host:port"]);
        assert_eq!(
            settings.describe(),
            "https:// via http://proxy.corp:3128, http:// direct, direct for NO_PROXY ok.example"
        );
    }

    #[test]
    fn describe_lists_the_exemptions_as_understood() {
        let vars = [("HTTPS_PROXY", PROXY), ("NO_PROXY", ".Corp.example,10.0.0.0/8,127.0.0.1,::1,fd00::/8")];
        assert_eq!(
            settings(&vars).unwrap().describe(),
            "https:// via http://proxy.corp:3128, http:// direct, direct for NO_PROXY corp.example,10.0.0.0/8,127.0.0.1,::1,fd00::/8"
        );
    }
}
