//! Settings from the environment: defaults, overrides and one line per problem.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use vaultgate_config::{AzureSettings, Mode, SecretSource, SettingProblem, Settings};

fn settings(vars: &[(&str, &str)]) -> Result<Settings, Vec<String>> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Settings::from_lookup(|name| map.get(name).cloned()).map_err(|e| e.lines())
}

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const APP: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

#[test]
fn local_mode_defaults() {
    let s = settings(&[]).unwrap();
    assert_eq!(s.mode, Mode::Local { dev_key_dir: PathBuf::from(".vaultgate") });
    assert_eq!(s.bind.to_string(), "127.0.0.1");
    assert_eq!(s.port, 7071);
    assert_eq!(s.token_leeway, Duration::from_secs(60));
    assert_eq!(s.secrets, SecretSource::Dir(PathBuf::from("demo-secrets")));
    assert_eq!(s.upstream_timeout, Duration::from_secs(10));
}

#[test]
fn functions_port_wins_over_port() {
    assert_eq!(settings(&[("PORT", "8080")]).unwrap().port, 8080);
    let functions = [("PORT", "8080"), ("FUNCTIONS_CUSTOMHANDLER_PORT", "9090"), ("VAULTGATE_MODE", "local")];
    assert_eq!(settings(&functions).unwrap().port, 9090);
}

#[test]
fn local_mode_refuses_a_public_bind() {
    let problems = settings(&[("BIND", "0.0.0.0")]).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("BIND: local mode"), "{problems:?}");
}

#[test]
fn leeway_is_capped_at_300_seconds() {
    assert_eq!(settings(&[("TOKEN_LEEWAY", "300")]).unwrap().token_leeway, Duration::from_secs(300));
    let problems = settings(&[("TOKEN_LEEWAY", "301")]).unwrap_err();
    assert!(problems[0].starts_with("TOKEN_LEEWAY:"), "{problems:?}");
}

#[test]
fn azure_mode_reads_tenant_app_and_vault() {
    let s = settings(&[
        ("TENANT_ID", TENANT),
        ("AD_SERVER_APP_ID", APP),
        ("KEY_VAULT_URL", "https://myvault.vault.azure.net/"),
    ])
    .unwrap();
    assert_eq!(
        s.mode,
        Mode::Azure(AzureSettings {
            tenant_id: TENANT.into(),
            app_id: APP.into(),
            authority_host: "https://login.microsoftonline.com".into(),
            audiences: None,
            issuer: None,
            jwks_url: None,
            allowed_tenants: vec![],
            jwks_refresh: Duration::from_secs(3600),
            jwks_min_refresh: Duration::from_secs(300),
            jwks_key_grace: Duration::from_secs(900),
        })
    );
    assert_eq!(s.bind.to_string(), "0.0.0.0");
    let SecretSource::KeyVault(key_vault) = s.secrets else { panic!("a Key Vault source") };
    assert_eq!(key_vault.url, "https://myvault.vault.azure.net");
}

#[test]
fn azure_mode_reports_every_problem_at_once() {
    let problems = settings(&[
        ("TENANT_ID", "contoso"),
        ("AUTHORITY_HOST", "http://login.example.com"),
        ("KEY_VAULT_URL", "http://myvault.vault.azure.net"),
        ("PORT", "http"),
    ])
    .unwrap_err();
    let names: Vec<&str> = problems.iter().map(|p| p.split(':').next().unwrap()).collect();
    assert_eq!(names, ["AUTHORITY_HOST", "TENANT_ID", "AD_SERVER_APP_ID", "PORT", "KEY_VAULT_URL"], "{problems:?}");
}

#[test]
fn http_upstreams_are_allowed_on_loopback_only() {
    let ok = settings(&[
        ("TENANT_ID", TENANT),
        ("AD_SERVER_APP_ID", APP),
        ("AUTHORITY_HOST", "http://127.0.0.1:9000"),
        ("SECRETS_DIR", "/tmp"),
    ]);
    assert!(ok.is_ok(), "{ok:?}");
    let ok = settings(&[
        ("TENANT_ID", TENANT),
        ("AD_SERVER_APP_ID", APP),
        ("AUTHORITY_HOST", "http://localhost:9000"),
        ("SECRETS_DIR", "/tmp"),
    ]);
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn refresh_intervals_are_bounded() {
    let problems = settings(&[
        ("TENANT_ID", TENANT),
        ("AD_SERVER_APP_ID", APP),
        ("SECRETS_DIR", "/tmp"),
        ("JWKS_REFRESH_SECS", "5"),
        ("JWKS_MIN_REFRESH_SECS", "0"),
        ("UPSTREAM_TIMEOUT_SECS", "x"),
    ])
    .unwrap_err();
    let names: Vec<&str> = problems.iter().map(|p| p.split(':').next().unwrap()).collect();
    assert_eq!(names, ["JWKS_REFRESH_SECS", "JWKS_MIN_REFRESH_SECS", "UPSTREAM_TIMEOUT_SECS"], "{problems:?}");
}

#[test]
fn allowed_tenants_must_be_guids() {
    let problems = settings(&[
        ("TENANT_ID", TENANT),
        ("AD_SERVER_APP_ID", APP),
        ("SECRETS_DIR", "/tmp"),
        ("ALLOWED_TENANTS", "common, 9188040d-6c67-4c5b-b112-36a304b66dad"),
    ])
    .unwrap_err();
    assert_eq!(problems, ["ALLOWED_TENANTS: each entry must be a tenant GUID, got \"common\""]);
}

#[test]
fn exposure_settings_parse_patterns_and_roles() {
    let s = settings(&[("EXPOSED_SECRETS", "db-*, api-key"), ("SECRET_ROLES", "db-*=DbReader,*=GetSecret")]).unwrap();
    assert_eq!(s.exposure.exposed, Some(vec!["db-*".to_owned(), "api-key".to_owned()]));
    assert_eq!(
        s.exposure.roles,
        vec![("db-*".to_owned(), "DbReader".to_owned()), ("*".to_owned(), "GetSecret".to_owned())]
    );
    let problems = settings(&[("EXPOSED_SECRETS", "../x"), ("SECRET_ROLES", "db-*")]).unwrap_err();
    assert_eq!(problems.len(), 2, "{problems:?}");
}

#[test]
fn cache_defaults() {
    let s = settings(&[]).unwrap();
    assert_eq!(s.secret_cache.ttl, Duration::from_secs(300));
    assert_eq!(s.secret_cache.max_stale, Duration::from_secs(3600));
    assert_eq!(s.secret_cache.negative_ttl, Duration::from_secs(30));
}

/// The identity endpoint's host is parsed: a name that merely starts like a loopback or
/// link-local address is a remote host, and plain HTTP to it is refused.
#[test]
fn identity_endpoints_are_parsed_not_prefix_matched() {
    for endpoint in ["http://localhost.attacker.example/msi/token", "http://127.attacker.example/msi/token"] {
        let problems = settings(&[
            ("TENANT_ID", TENANT),
            ("AD_SERVER_APP_ID", APP),
            ("KEY_VAULT_URL", "https://kv.vault.azure.net"),
            ("IDENTITY_ENDPOINT", endpoint),
            ("IDENTITY_HEADER", "h"),
        ])
        .unwrap_err();
        assert_eq!(problems.len(), 1, "{endpoint}: {problems:?}");
        assert!(problems[0].starts_with("IDENTITY_ENDPOINT: "), "{problems:?}");
    }
}

/// Settings that would fail open if read as unset are refused.
#[test]
fn a_blank_tenant_id_is_refused_rather_than_read_as_local_mode() {
    for blank in ["", "   "] {
        let problems = settings(&[("TENANT_ID", blank), ("AD_SERVER_APP_ID", APP)]).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("TENANT_ID: set but blank"), "{problems:?}");
    }
}

#[test]
fn a_blank_exposed_secrets_is_refused_rather_than_exposing_every_secret() {
    for blank in ["", " ", ",", " , ,"] {
        let problems = settings(&[("EXPOSED_SECRETS", blank)]).unwrap_err();
        assert_eq!(problems.len(), 1, "{blank:?}: {problems:?}");
        assert!(problems[0].starts_with("EXPOSED_SECRETS: set but lists no pattern"), "{problems:?}");
    }
}

#[test]
fn the_health_probe_interval_is_at_least_one_second() {
    assert_eq!(settings(&[("HEALTH_PROBE_INTERVAL_SECS", "1")]).unwrap().health_probe_interval, Duration::from_secs(1));
    let problems = settings(&[("HEALTH_PROBE_INTERVAL_SECS", "0")]).unwrap_err();
    assert_eq!(problems, ["HEALTH_PROBE_INTERVAL_SECS: must be whole seconds from 1 to 3600, got \"0\""]);
}

#[test]
fn key_vault_expiry_policy_and_additionally_allowed_tenants() {
    use vaultgate_config::secrets_settings::{AllowedTenants, ExpiryPolicy};
    let key_vault = |vars: &[(&str, &str)]| {
        let mut all =
            vec![("TENANT_ID", TENANT), ("AD_SERVER_APP_ID", APP), ("KEY_VAULT_URL", "https://kv.vault.azure.net")];
        all.extend_from_slice(vars);
        match settings(&all).map(|s| s.secrets) {
            Ok(SecretSource::KeyVault(key_vault)) => Ok(key_vault),
            Ok(other) => panic!("{other:?}"),
            Err(problems) => Err(problems),
        }
    };
    let defaults = key_vault(&[]).unwrap();
    assert_eq!(defaults.expiry, ExpiryPolicy::Serve);
    assert_eq!(defaults.additionally_allowed_tenants, AllowedTenants::Listed(vec![]));
    assert_eq!(key_vault(&[("SECRET_EXPIRY", "Enforce")]).unwrap().expiry, ExpiryPolicy::Enforce);
    assert_eq!(
        key_vault(&[("SECRET_EXPIRY", "lenient")]).unwrap_err(),
        [r#"SECRET_EXPIRY: must be serve or enforce, got "lenient""#]
    );
    assert_eq!(
        key_vault(&[("AZURE_ADDITIONALLY_ALLOWED_TENANTS", "*")]).unwrap().additionally_allowed_tenants,
        AllowedTenants::Any
    );
    assert_eq!(
        key_vault(&[("AZURE_ADDITIONALLY_ALLOWED_TENANTS", "0D6F0F0E-1C43-4A4B-9F8C-5B3C2A1D0E9F")])
            .unwrap()
            .additionally_allowed_tenants,
        AllowedTenants::Listed(vec!["0d6f0f0e-1c43-4a4b-9f8c-5b3c2a1d0e9f".into()])
    );
    assert_eq!(
        key_vault(&[("AZURE_ADDITIONALLY_ALLOWED_TENANTS", "contoso.com")]).unwrap_err(),
        [r#"AZURE_ADDITIONALLY_ALLOWED_TENANTS: each entry must be a tenant GUID, got "contoso.com""#]
    );
}

#[test]
fn public_url_is_an_absolute_http_url_without_user_query_or_fragment() {
    assert_eq!(settings(&[]).unwrap().public_url, None);
    for (value, expected) in [
        ("https://vaultgate.example.com", "https://vaultgate.example.com"),
        ("https://vaultgate.example.com/", "https://vaultgate.example.com"),
        ("https://gateway.example.com/vaultgate/", "https://gateway.example.com/vaultgate"),
        ("http://127.0.0.1:7071", "http://127.0.0.1:7071"),
    ] {
        assert_eq!(settings(&[("PUBLIC_URL", value)]).unwrap().public_url.as_deref(), Some(expected), "{value}");
    }
    for bad in [
        "vaultgate.example.com",
        "/vaultgate",
        "ftp://vaultgate.example.com",
        "https://user:pass@vaultgate.example.com",
        "https://vaultgate.example.com/?x=1",
        "https://vaultgate.example.com/#top",
    ] {
        let problems = settings(&[("PUBLIC_URL", bad)]).unwrap_err();
        assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
        assert!(problems[0].starts_with("PUBLIC_URL: must be vaultgate's own URL"), "{bad}: {problems:?}");
        assert!(!problems[0].contains("user:pass"), "a password is never shown: {problems:?}");
    }
}

#[test]
fn event_grid_role_and_refresh_ahead_have_defaults_and_are_checked() {
    let s = settings(&[]).unwrap();
    assert_eq!(s.event_grid_role, "AzureEventGridSecureWebhookSubscriber");
    assert!(s.secret_cache.refresh_ahead);
    let s = settings(&[("EVENT_GRID_ROLE", " Events.Deliver "), ("SECRET_REFRESH_AHEAD", "off")]).unwrap();
    assert_eq!(s.event_grid_role, "Events.Deliver");
    assert!(!s.secret_cache.refresh_ahead);
    let problems = settings(&[("EVENT_GRID_ROLE", "Event Grid"), ("SECRET_REFRESH_AHEAD", "maybe")]).unwrap_err();
    let names: Vec<&str> = problems.iter().map(|p| p.split(':').next().unwrap()).collect();
    assert_eq!(names, ["SECRET_REFRESH_AHEAD", "EVENT_GRID_ROLE"], "{problems:?}");
    assert_eq!(problems[1], "EVENT_GRID_ROLE: an app role value: no spaces, at most 250 characters");
}

#[test]
fn refresh_grace_has_a_default_and_is_bounded() {
    assert_eq!(settings(&[]).unwrap().secret_cache.refresh_grace, Duration::from_secs(10));
    let s = settings(&[("SECRET_REFRESH_GRACE_SECS", "0")]).unwrap();
    assert_eq!(s.secret_cache.refresh_grace, Duration::ZERO);
    let s = settings(&[("SECRET_REFRESH_GRACE_SECS", "3600")]).unwrap();
    assert_eq!(s.secret_cache.refresh_grace, Duration::from_secs(3600));
    for bad in ["3601", "-1", "ten"] {
        let problems = settings(&[("SECRET_REFRESH_GRACE_SECS", bad)]).unwrap_err();
        assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
        assert!(problems[0].starts_with("SECRET_REFRESH_GRACE_SECS:"), "{bad}: {problems:?}");
    }
}

#[test]
fn each_problem_is_a_typed_value_that_names_its_variable() {
    let vars = [("TOKEN_LEEWAY", "301"), ("BIND", "not-an-ip"), ("HTTPS_PROXY", "socks5://proxy.corp:1080")];
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let error = Settings::from_lookup(|name| map.get(name).cloned()).unwrap_err();
    let variables: Vec<&str> = error.problems.iter().map(SettingProblem::variable).collect();
    assert_eq!(variables, ["BIND", "TOKEN_LEEWAY", "HTTPS_PROXY"]);
    assert_eq!(
        error.problems[1],
        SettingProblem::OutOfRange {
            variable: "TOKEN_LEEWAY".into(),
            unit: "whole seconds",
            min: "0".into(),
            max: "300".into(),
            value: "301".into(),
        }
    );
    assert_eq!(error.lines()[1], "TOKEN_LEEWAY: must be whole seconds from 0 to 300, got \"301\"");
}
