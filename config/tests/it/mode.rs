//! Modes fail closed: local mode (trusting a development key) only when no hosting
//! environment is in sight, or when `VAULTGATE_MODE=local` says so out loud.

use std::collections::HashMap;

use vaultgate_config::{Mode, Settings};

fn settings(vars: &[(&str, &str)]) -> Result<Settings, Vec<String>> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Settings::from_lookup(|name| map.get(name).cloned()).map_err(|e| e.lines())
}

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const APP: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

/// What each hosting platform sets (values as the platforms write them).
const HOSTING: &[(&str, &str)] = &[
    ("FUNCTIONS_CUSTOMHANDLER_PORT", "36925"),
    ("WEBSITE_SITE_NAME", "contoso-vaultgate"),
    ("WEBSITE_INSTANCE_ID", "3a7d5a3b6f0e4f1c9d0e2b7a8c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d"),
    ("CONTAINER_APP_NAME", "vaultgate"),
    ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
    ("IDENTITY_ENDPOINT", "http://localhost:42356/msi/token"),
    ("MSI_ENDPOINT", "http://localhost:50342/oauth2/token"),
];

#[test]
fn local_mode_says_why() {
    let s = settings(&[]).unwrap();
    assert!(matches!(s.mode, Mode::Local { .. }));
    assert_eq!(s.mode_reason.to_string(), "TENANT_ID unset, no hosting environment in sight");
    assert_eq!(s.mode_reason.warning(), None);
}

#[test]
fn azure_mode_says_why() {
    let s = settings(&[("TENANT_ID", TENANT), ("AD_SERVER_APP_ID", APP), ("SECRETS_DIR", "/tmp")]).unwrap();
    assert!(matches!(s.mode, Mode::Azure(_)));
    assert_eq!(s.mode_reason.to_string(), "TENANT_ID is set");
}

#[test]
fn any_hosting_environment_refuses_local_mode_naming_the_variable() {
    for (name, value) in HOSTING {
        let problems = settings(&[(name, value)]).unwrap_err();
        assert_eq!(problems.len(), 1, "{name}: {problems:?}");
        let problem = &problems[0];
        assert!(problem.starts_with("TENANT_ID: "), "{problem}");
        assert!(problem.contains(name), "{problem}");
        assert!(problem.contains("set TENANT_ID and AD_SERVER_APP_ID"), "{problem}");
    }
}

#[test]
fn a_hosting_environment_with_a_tenant_is_azure_mode() {
    let s = settings(&[
        ("TENANT_ID", TENANT),
        ("AD_SERVER_APP_ID", APP),
        ("SECRETS_DIR", "/tmp"),
        ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
    ])
    .unwrap();
    assert!(matches!(s.mode, Mode::Azure(_)));
}

#[test]
fn vaultgate_mode_local_overrides_a_hosting_environment_loudly() {
    let s = settings(&[
        ("VAULTGATE_MODE", "local"),
        ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
        ("MSI_ENDPOINT", "http://localhost:50342/oauth2/token"),
    ])
    .unwrap();
    assert!(matches!(s.mode, Mode::Local { .. }));
    assert_eq!(
        s.mode_reason.to_string(),
        "VAULTGATE_MODE=local, overriding the hosting environment (KUBERNETES_SERVICE_HOST, MSI_ENDPOINT)"
    );
    let warning = s.mode_reason.warning().expect("a warning");
    assert!(warning.contains("KUBERNETES_SERVICE_HOST, MSI_ENDPOINT"), "{warning}");
}

#[test]
fn vaultgate_mode_local_without_a_hosting_environment_is_quiet() {
    let s = settings(&[("VAULTGATE_MODE", "Local")]).unwrap();
    assert!(matches!(s.mode, Mode::Local { .. }));
    assert_eq!(s.mode_reason.to_string(), "VAULTGATE_MODE=local");
    assert_eq!(s.mode_reason.warning(), None);
}

#[test]
fn vaultgate_mode_local_never_silences_a_tenant() {
    let problems =
        settings(&[("VAULTGATE_MODE", "local"), ("TENANT_ID", TENANT), ("AD_SERVER_APP_ID", APP)]).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("VAULTGATE_MODE: local, but TENANT_ID is set"), "{problems:?}");
}

#[test]
fn vaultgate_mode_azure_needs_a_tenant() {
    let problems = settings(&[("VAULTGATE_MODE", "azure")]).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("VAULTGATE_MODE: azure needs TENANT_ID"), "{problems:?}");

    let s = settings(&[
        ("VAULTGATE_MODE", "azure"),
        ("TENANT_ID", TENANT),
        ("AD_SERVER_APP_ID", APP),
        ("SECRETS_DIR", "/tmp"),
    ])
    .unwrap();
    assert!(matches!(s.mode, Mode::Azure(_)));
    assert_eq!(s.mode_reason.to_string(), "VAULTGATE_MODE=azure, TENANT_ID is set");
}

#[test]
fn vaultgate_mode_takes_local_or_azure_only() {
    let problems = settings(&[("VAULTGATE_MODE", "dev")]).unwrap_err();
    assert_eq!(problems, ["VAULTGATE_MODE: must be local or azure, got \"dev\""]);
}
