//! Upstream URLs are parsed, never prefix-matched: a Key Vault URL must name a vault on a
//! Key Vault domain, and no token or identity header goes over plain HTTP beyond the
//! machine (or, for identity endpoints, its link).

use std::collections::HashMap;

use vaultgate_config::{SecretSource, Settings};

fn settings(vars: &[(&str, &str)]) -> Result<Settings, Vec<String>> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Settings::from_lookup(|name| map.get(name).cloned()).map_err(|e| e.lines())
}

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const APP: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

/// Azure mode reading `url`, plus `extra`.
fn with_vault(url: &str, extra: &[(&str, &str)]) -> Result<Settings, Vec<String>> {
    let mut vars = vec![("TENANT_ID", TENANT), ("AD_SERVER_APP_ID", APP), ("KEY_VAULT_URL", url)];
    vars.extend_from_slice(extra);
    settings(&vars)
}

fn vault_url(url: &str) -> Result<String, Vec<String>> {
    match with_vault(url, &[])?.secrets {
        SecretSource::KeyVault(key_vault) => Ok(key_vault.url),
        other => panic!("{other:?}"),
    }
}

#[test]
fn key_vault_urls_on_every_key_vault_domain_are_accepted() {
    for (url, expected) in [
        ("https://myvault.vault.azure.net", "https://myvault.vault.azure.net"),
        ("https://myvault.vault.azure.net/", "https://myvault.vault.azure.net"),
        ("https://My-Vault-01.Vault.Azure.NET/", "https://My-Vault-01.Vault.Azure.NET"),
        ("https://myvault.vault.azure.net:443", "https://myvault.vault.azure.net:443"),
        ("https://kv.vault.azure.cn", "https://kv.vault.azure.cn"),
        ("https://kv.vault.usgovcloudapi.net", "https://kv.vault.usgovcloudapi.net"),
        ("https://hsm.managedhsm.azure.net", "https://hsm.managedhsm.azure.net"),
        ("https://hsm.managedhsm.azure.cn", "https://hsm.managedhsm.azure.cn"),
        ("https://hsm.managedhsm.usgovcloudapi.net", "https://hsm.managedhsm.usgovcloudapi.net"),
        ("http://127.0.0.1:8200", "http://127.0.0.1:8200"),
        ("http://localhost:8200/", "http://localhost:8200"),
        ("http://[::1]:8200", "http://[::1]:8200"),
    ] {
        assert_eq!(vault_url(url).as_deref(), Ok(expected), "{url}");
    }
}

#[test]
fn key_vault_urls_off_a_key_vault_domain_are_refused() {
    for url in [
        "https://myvault.vault.azure.net.attacker.example",
        "https://attacker.example",
        "https://myvaultvault.azure.net",
        "https://vault.azure.net",
        "https://a.b.vault.azure.net",
        "https://-vault.vault.azure.net",
        "https://my_vault.vault.azure.net",
        "https://myvault.vault.azure.net.",
        "https://myvault.vault.microsoftazure.de",
        "https://myvault.vault.azure.net:8443",
        "https://myvault.vault.azure.net/secrets",
        "https://myvault.vault.azure.net/?api-version=1",
        "http://myvault.vault.azure.net",
        "http://10.0.0.5:8200",
        "ftp://myvault.vault.azure.net",
        "myvault.vault.azure.net",
    ] {
        let problems = vault_url(url).unwrap_err();
        assert_eq!(problems.len(), 1, "{url}: {problems:?}");
        assert!(problems[0].starts_with("KEY_VAULT_URL: "), "{url}: {problems:?}");
    }
}

#[test]
fn the_key_vault_problem_names_the_domains() {
    let problems = vault_url("https://attacker.example").unwrap_err();
    assert_eq!(
        problems,
        ["KEY_VAULT_URL: must be https://<name>.<Key Vault domain> (vault.azure.net, vault.azure.cn, \
             vault.usgovcloudapi.net, managedhsm.azure.net, managedhsm.azure.cn, managedhsm.usgovcloudapi.net; \
             http:// only for loopback hosts), got \"https://attacker.example\""]
    );
}

/// Every variable that names an upstream, as the URL rule reads it.
const URL_VARIABLES: &[&str] = &[
    "AUTHORITY_HOST",
    "AZURE_AUTHORITY_HOST",
    "JWT_URL",
    "KEY_VAULT_URL",
    "IDENTITY_ENDPOINT",
    "MSI_ENDPOINT",
    "IMDS_ENDPOINT",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
];

/// Azure mode with a Key Vault and a managed identity, `name` set to `value`.
fn with(name: &str, value: &str) -> Result<Settings, Vec<String>> {
    let mut vars = vec![
        ("TENANT_ID", TENANT),
        ("AD_SERVER_APP_ID", APP),
        ("KEY_VAULT_URL", "https://kv.vault.azure.net"),
        ("IDENTITY_ENDPOINT", "http://localhost:42356/msi/token"),
        ("IDENTITY_HEADER", "h"),
    ];
    vars.retain(|(n, _)| *n != name);
    vars.push((name, value));
    settings(&vars)
}

#[test]
fn user_information_in_any_url_is_refused_and_never_echoed() {
    for name in URL_VARIABLES {
        for value in ["https://user:hunter2@kv.vault.azure.net", "http://user:hunter2@127.0.0.1:9000/x"] {
            let problems = with(name, value).unwrap_err();
            assert_eq!(problems.len(), 1, "{name}={value}: {problems:?}");
            assert!(problems[0].starts_with(&format!("{name}: ")), "{problems:?}");
            assert!(problems[0].contains("user@host"), "{problems:?}");
            assert!(!problems[0].contains("hunter2"), "{problems:?}");
        }
    }
}

#[test]
fn plain_http_is_accepted_on_loopback_and_where_azure_serves_identities() {
    for (name, value) in [
        ("IDENTITY_ENDPOINT", "http://localhost:42356/msi/token"), // Container Apps
        ("IDENTITY_ENDPOINT", "http://127.0.0.1:41741/msi/token"), // App Service (Windows)
        ("IDENTITY_ENDPOINT", "http://169.254.255.2:8081/msi/token"), // App Service and Functions on Linux
        ("IDENTITY_ENDPOINT", "https://10.0.0.4:2377/metadata/identity/oauth2/token"), // Service Fabric
        ("MSI_ENDPOINT", "http://localhost:50342/oauth2/token"),   // Cloud Shell
        ("IMDS_ENDPOINT", "http://localhost:40342"),               // Azure Arc
        ("IMDS_ENDPOINT", "http://169.254.169.254"),
        ("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://169.254.169.254/"),
        ("AZURE_AUTHORITY_HOST", "http://127.0.0.1:9000"),
        ("JWT_URL", "http://[::1]:9000/keys"),
    ] {
        assert!(with(name, value).is_ok(), "{name}={value}: {:?}", with(name, value));
    }
}

#[test]
fn plain_http_anywhere_else_is_refused() {
    for (name, value) in [
        ("IDENTITY_ENDPOINT", "http://10.0.0.4:8081/msi/token"),
        ("IDENTITY_ENDPOINT", "http://169.254.attacker.example/msi/token"),
        ("MSI_ENDPOINT", "http://metadata.example/oauth2/token"),
        ("IMDS_ENDPOINT", "http://169.254.1.1"),
        ("IMDS_ENDPOINT", "http://169.254.169.254.attacker.example"),
        ("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://10.0.0.1:2579"),
        ("AZURE_AUTHORITY_HOST", "http://169.254.169.254"),
        ("AUTHORITY_HOST", "http://localhost.attacker.example"),
        ("JWT_URL", "http://login.microsoftonline.com/common/discovery/v2.0/keys"),
        ("IMDS_ENDPOINT", "not a url"),
        ("MSI_ENDPOINT", "ftp://localhost/token"),
    ] {
        let problems = with(name, value).unwrap_err();
        assert_eq!(problems.len(), 1, "{name}={value}: {problems:?}");
        assert!(problems[0].starts_with(&format!("{name}: ")), "{name}={value}: {problems:?}");
    }
}

#[test]
fn endpoints_are_checked_whichever_credential_is_chosen() {
    // A client secret wins the credential order, yet a bad identity variable still stops start-up.
    let secret = [("AZURE_CLIENT_ID", "c"), ("AZURE_TENANT_ID", TENANT), ("AZURE_CLIENT_SECRET", "s")];
    for (name, value) in [
        ("MSI_ENDPOINT", "http://metadata.example/oauth2/token"),
        ("IMDS_ENDPOINT", "http://10.0.0.1"),
        ("IDENTITY_ENDPOINT", "http://10.0.0.1/msi/token"),
    ] {
        let mut vars =
            vec![("TENANT_ID", TENANT), ("AD_SERVER_APP_ID", APP), ("KEY_VAULT_URL", "https://kv.vault.azure.net")];
        vars.extend_from_slice(&secret);
        vars.push((name, value));
        let problems = settings(&vars).unwrap_err();
        assert_eq!(problems.len(), 1, "{name}: {problems:?}");
        assert!(problems[0].starts_with(&format!("{name}: ")), "{problems:?}");
    }
}

#[test]
fn azure_authority_host_is_checked_even_when_authority_host_wins() {
    let mut vars = vec![
        ("TENANT_ID", TENANT),
        ("AD_SERVER_APP_ID", APP),
        ("SECRETS_DIR", "/tmp"),
        ("AUTHORITY_HOST", "https://login.microsoftonline.us"),
        ("AZURE_AUTHORITY_HOST", "http://login.example"),
    ];
    let problems = settings(&vars).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("AZURE_AUTHORITY_HOST: "), "{problems:?}");
    vars.pop();
    assert!(settings(&vars).is_ok());
}
