//! vaultgate's own TLS settings: both files or neither, `TLS=dev` in local mode only, and no
//! reading that would quietly serve plain HTTP.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use vaultgate_config::{Settings, TlsFiles, TlsSettings};

fn settings(vars: &[(&str, &str)]) -> Result<Settings, Vec<String>> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Settings::from_lookup(|name| map.get(name).cloned()).map_err(|e| e.lines())
}

const AZURE: [(&str, &str); 3] = [
    ("TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
    ("AD_SERVER_APP_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
    ("SECRETS_DIR", "/mnt/secrets"),
];

#[test]
fn plain_http_unless_asked() {
    assert_eq!(settings(&[]).unwrap().tls, TlsSettings::Off);
    assert_eq!(settings(&[("TLS", "off")]).unwrap().tls, TlsSettings::Off);
}

#[test]
fn both_files_serve_https_re_read_every_few_seconds() {
    let s = settings(&[("TLS_CERT_FILE", "/tls/tls.crt"), ("TLS_KEY_FILE", "/tls/tls.key")]).unwrap();
    assert_eq!(
        s.tls,
        TlsSettings::Files(TlsFiles {
            cert_file: PathBuf::from("/tls/tls.crt"),
            key_file: PathBuf::from("/tls/tls.key"),
            reload_interval: Duration::from_secs(5),
        })
    );
    let s = settings(&[
        ("TLS_CERT_FILE", "/tls/tls.crt"),
        ("TLS_KEY_FILE", "/tls/tls.key"),
        ("TLS_RELOAD_INTERVAL_SECS", "1"),
    ])
    .unwrap();
    assert!(
        matches!(s.tls, TlsSettings::Files(TlsFiles { reload_interval, .. }) if reload_interval == Duration::from_secs(1))
    );
}

#[test]
fn one_file_of_the_pair_is_refused_naming_the_other() {
    assert_eq!(
        settings(&[("TLS_CERT_FILE", "/tls/tls.crt")]).unwrap_err(),
        ["TLS_CERT_FILE: set without TLS_KEY_FILE; HTTPS needs both the certificate and the key file"]
    );
    assert_eq!(
        settings(&[("TLS_KEY_FILE", "/tls/tls.key")]).unwrap_err(),
        ["TLS_KEY_FILE: set without TLS_CERT_FILE; HTTPS needs both the certificate and the key file"]
    );
}

#[test]
fn development_tls_lives_beside_the_development_key_in_local_mode_only() {
    let s = settings(&[("TLS", "dev"), ("DEV_KEY_DIR", "/home/me/.vaultgate")]).unwrap();
    assert_eq!(
        s.tls,
        TlsSettings::Development { dir: PathBuf::from("/home/me/.vaultgate"), reload_interval: Duration::from_secs(5) }
    );
    let mut azure = AZURE.to_vec();
    azure.push(("TLS", "dev"));
    let problems = settings(&azure).unwrap_err();
    assert_eq!(
        problems,
        ["TLS: dev serves the development certificate in local mode only; set TLS_CERT_FILE and TLS_KEY_FILE"]
    );
}

#[test]
fn tls_contradicting_the_files_is_refused() {
    let files = [("TLS_CERT_FILE", "/tls/tls.crt"), ("TLS_KEY_FILE", "/tls/tls.key")];
    for (tls, expected) in [
        ("off", "TLS: off, but TLS_CERT_FILE or TLS_KEY_FILE is set; unset one or the other"),
        (
            "dev",
            "TLS: dev uses the development certificate, but TLS_CERT_FILE or TLS_KEY_FILE is set; unset one or the other",
        ),
    ] {
        let mut vars = files.to_vec();
        vars.push(("TLS", tls));
        assert_eq!(settings(&vars).unwrap_err(), [expected], "TLS={tls}");
    }
    assert_eq!(settings(&[("TLS", "on")]).unwrap_err(), [r#"TLS: must be off or dev, got "on""#]);
}

#[test]
fn tls_behind_the_functions_host_is_refused() {
    let mut vars = AZURE.to_vec();
    vars.extend([
        ("FUNCTIONS_CUSTOMHANDLER_PORT", "7071"),
        ("TLS_CERT_FILE", "/tls/tls.crt"),
        ("TLS_KEY_FILE", "/tls/tls.key"),
    ]);
    assert_eq!(
        settings(&vars).unwrap_err(),
        [
            "TLS: the Azure Functions host (FUNCTIONS_CUSTOMHANDLER_PORT) speaks plain HTTP to its custom handler and serves TLS itself; unset TLS, TLS_CERT_FILE and TLS_KEY_FILE"
        ]
    );
}
