//! vaultgate's own TLS: the certificate and key files it serves HTTPS with, or local mode's
//! development certificate. Plain data; the app reads and watches the files.

use std::path::PathBuf;
use std::time::Duration;

use crate::defaults::DEFAULT_TLS_RELOAD_INTERVAL_SECS;
use crate::env::Env;
use crate::mode::Mode;
use crate::problem::SettingProblem;
use crate::settings::FUNCTIONS_PORT_VAR;

/// How vaultgate serves on `PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSettings {
    /// Plain HTTP, behind a platform's TLS.
    Off,
    /// HTTPS with the PEM pair `TLS_CERT_FILE` and `TLS_KEY_FILE` name, re-read when they change.
    Files(TlsFiles),
    /// `TLS=dev` (local mode only): HTTPS with the development certificate `vaultgate dev-cert`
    /// issues into `dir`, created at start when missing.
    Development { dir: PathBuf, reload_interval: Duration },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, the server's certificate first.
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// `TLS_RELOAD_INTERVAL_SECS`: how often the files are compared with what is served.
    pub reload_interval: Duration,
}

impl TlsSettings {
    pub fn is_on(&self) -> bool {
        !matches!(self, TlsSettings::Off)
    }
}

/// `TLS` as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Requested {
    Unset,
    Off,
    Development,
}

/// Fails closed: half a pair, `TLS=dev` outside local mode, and `TLS` contradicting the files
/// are problems, never plain HTTP.
pub(crate) fn tls_settings(env: &mut Env, mode: &Mode) -> TlsSettings {
    let settings = read(env, mode);
    // The Functions host forwards requests to its custom handler in plain HTTP.
    if settings.is_on() && env.text(FUNCTIONS_PORT_VAR).is_some() {
        env.problem(SettingProblem::TlsBehindFunctionsHost);
    }
    settings
}

fn read(env: &mut Env, mode: &Mode) -> TlsSettings {
    let requested = env.one_of("TLS", &[("off", Requested::Off), ("dev", Requested::Development)], Requested::Unset);
    let cert_file = env.text("TLS_CERT_FILE").map(PathBuf::from);
    let key_file = env.text("TLS_KEY_FILE").map(PathBuf::from);
    let reload_interval = env.seconds("TLS_RELOAD_INTERVAL_SECS", DEFAULT_TLS_RELOAD_INTERVAL_SECS, 1..=3_600);
    let files_named = cert_file.is_some() || key_file.is_some();
    match (requested, cert_file, key_file) {
        (Requested::Development, ..) if files_named => {
            env.problem(SettingProblem::TlsDevWithFiles);
            TlsSettings::Off
        }
        (Requested::Development, ..) => match mode {
            Mode::Local { dev_key_dir } => TlsSettings::Development { dir: dev_key_dir.clone(), reload_interval },
            Mode::Azure(_) => {
                env.problem(SettingProblem::TlsDevOutsideLocalMode);
                TlsSettings::Off
            }
        },
        (Requested::Off, ..) if files_named => {
            env.problem(SettingProblem::TlsOffWithFiles);
            TlsSettings::Off
        }
        (_, Some(cert_file), Some(key_file)) => TlsSettings::Files(TlsFiles { cert_file, key_file, reload_interval }),
        (_, Some(_), None) => {
            env.problem(SettingProblem::TlsHalfPair { set: "TLS_CERT_FILE", missing: "TLS_KEY_FILE" });
            TlsSettings::Off
        }
        (_, None, Some(_)) => {
            env.problem(SettingProblem::TlsHalfPair { set: "TLS_KEY_FILE", missing: "TLS_CERT_FILE" });
            TlsSettings::Off
        }
        (_, None, None) => TlsSettings::Off,
    }
}
