//! Upstream URLs are parsed, never prefix-matched: a Key Vault URL must name a vault on a
//! Key Vault domain, and no token or identity header goes over plain HTTP beyond the
//! machine (or, for identity endpoints, its link).

use std::collections::HashMap;

use vaultgate_config::{SecretSource, Settings};

fn settings(vars: &[(&str, &str)]) -> Result<Settings, Vec<String>> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Settings::from_lookup(|name| map.get(name).cloned()).map_err(|e| e.problems)
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
