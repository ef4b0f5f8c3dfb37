//! How upstream calls reach the network, read with every other variable: the proxies
//! (`proxy.rs`) and the files `SSL_CERT_FILE`/`SSL_CERT_DIR` name as trusted roots (the app
//! reads those files when it builds its TLS configuration).

use std::path::PathBuf;

use crate::env::Env;
use crate::problem::SettingProblem;
use crate::proxy::{Proxy, ProxySettings, parse_proxy};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkSettings {
    pub proxies: ProxySettings,
    /// `SSL_CERT_FILE`: a PEM file of roots trusted instead of the system store.
    pub cert_file: Option<PathBuf>,
    /// `SSL_CERT_DIR`: folders (separated as `PATH` is) of PEM roots, instead of the system store.
    pub cert_dirs: Vec<PathBuf>,
}

impl NetworkSettings {
    /// True when `SSL_CERT_FILE` or `SSL_CERT_DIR` chose the roots.
    pub fn roots_from_variables(&self) -> bool {
        self.cert_file.is_some() || !self.cert_dirs.is_empty()
    }
}

pub(crate) fn network_settings(env: &mut Env) -> NetworkSettings {
    let https = proxy(["https_proxy", "HTTPS_PROXY"], env);
    let http = proxy(["http_proxy", "HTTP_PROXY"], env);
    let no_proxy = env.first_set(["no_proxy", "NO_PROXY"]).map(|(_, value)| value);
    let cert_file = env.text("SSL_CERT_FILE").map(PathBuf::from);
    let cert_dirs = env
        .text("SSL_CERT_DIR")
        .map(|dirs| std::env::split_paths(&dirs).filter(|d| !d.as_os_str().is_empty()).collect())
        .unwrap_or_default();
    NetworkSettings { proxies: ProxySettings::new(https, http, no_proxy.as_deref()), cert_file, cert_dirs }
}

/// The proxy the first set variable of `names` gives (the names first, as every reader
/// takes them, so `documented_variables` finds them); a problem line names that variable
/// (a URL's credentials are never repeated).
fn proxy(names: [&'static str; 2], env: &mut Env) -> Option<Proxy> {
    let (name, value) = env.first_set(names)?;
    parse_proxy(&value).map_err(|problem| env.problem(SettingProblem::Proxy { variable: name, problem })).ok()
}
