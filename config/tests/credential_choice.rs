//! Which credential reads Key Vault: the Azure SDKs' `DefaultAzureCredential` order, the
//! developer tools only when no hosting environment is in sight, and `AZURE_TOKEN_CREDENTIALS`
//! narrowing the choice.

use std::collections::HashMap;

use vaultgate_config::secrets_settings::{CredentialSource, DeveloperTool};
use vaultgate_config::{SecretSource, Settings};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const VAULT: &str = "https://myvault.vault.azure.net";

fn settings(vars: &[(&str, &str)]) -> Result<Settings, Vec<String>> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Settings::from_lookup(|name| map.get(name).cloned()).map_err(|e| e.problems)
}

fn credential(vars: &[(&str, &str)]) -> CredentialSource {
    let mut all = vec![("KEY_VAULT_URL", VAULT)];
    all.extend_from_slice(vars);
    match settings(&all).unwrap().secrets {
        SecretSource::KeyVault(key_vault) => key_vault.credential,
        other => panic!("a Key Vault source, got {other:?}"),
    }
}

/// A folder holding executables named `programs`, for `PATH`.
fn bin_dir(programs: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for program in programs {
        std::fs::write(dir.path().join(program), "#!/bin/sh\n").unwrap();
    }
    dir
}

fn developer(tools: &[DeveloperTool], tenant_id: Option<&str>) -> CredentialSource {
    CredentialSource::DeveloperCli { tools: tools.to_vec(), tenant_id: tenant_id.map(str::to_owned) }
}

const BOTH: &[DeveloperTool] = &[DeveloperTool::AzureCli, DeveloperTool::AzureDeveloperCli];

#[test]
fn a_laptop_with_az_or_azd_uses_them_in_the_sdks_order() {
    let both = bin_dir(&["az", "azd"]);
    let path = both.path().to_str().unwrap();
    assert_eq!(credential(&[("PATH", path)]), developer(BOTH, None));
    assert_eq!(credential(&[("PATH", path), ("AZURE_TENANT_ID", TENANT)]), developer(BOTH, Some(TENANT)));
    let azd_only = bin_dir(&["azd"]);
    let path = format!("/nonexistent:{}", azd_only.path().to_str().unwrap());
    assert_eq!(credential(&[("PATH", &path)]), developer(&[DeveloperTool::AzureDeveloperCli], None));
}

#[test]
fn without_the_tools_or_in_a_hosting_environment_managed_identity_stays() {
    let imds = CredentialSource::Imds { endpoint: "http://169.254.169.254".into(), client_id: None };
    assert_eq!(credential(&[("PATH", "/nonexistent")]), imds);
    let both = bin_dir(&["az", "azd"]);
    let path = both.path().to_str().unwrap();
    // A pod, a VM scale set behind Kubernetes: the tools on PATH are not the workload's identity.
    let pod = [("PATH", path), ("KUBERNETES_SERVICE_HOST", "10.0.0.1"), ("VAULTGATE_MODE", "local")];
    assert_eq!(credential(&pod), imds);
}

#[test]
fn deployed_credentials_come_first() {
    let both = bin_dir(&["az", "azd"]);
    let path = both.path().to_str().unwrap();
    let chosen = credential(&[
        ("PATH", path),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", "11111111-0000-0000-0000-000000000002"),
        ("AZURE_CLIENT_SECRET", "s3cret"),
    ]);
    assert!(matches!(chosen, CredentialSource::ClientSecret { .. }), "{chosen:?}");
}

#[test]
fn azure_token_credentials_narrows_the_chain() {
    let client_secret = [
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", "11111111-0000-0000-0000-000000000002"),
        ("AZURE_CLIENT_SECRET", "s3cret"),
    ];
    let with = |value: &'static str| {
        let mut vars = client_secret.to_vec();
        vars.push(("AZURE_TOKEN_CREDENTIALS", value));
        vars.push(("PATH", "/nonexistent"));
        credential(&vars)
    };
    // `dev` and a tool's name skip the deployed credentials, tools on PATH or not.
    assert_eq!(with("dev"), developer(BOTH, Some(TENANT)));
    assert_eq!(with("AzureCliCredential"), developer(&[DeveloperTool::AzureCli], Some(TENANT)));
    assert_eq!(with("azuredeveloperclicredential"), developer(&[DeveloperTool::AzureDeveloperCli], Some(TENANT)));
    assert!(matches!(with("prod"), CredentialSource::ClientSecret { .. }));
    assert!(matches!(with("EnvironmentCredential"), CredentialSource::ClientSecret { .. }));
    // ManagedIdentityCredential passes over the client secret.
    assert_eq!(
        with("ManagedIdentityCredential"),
        CredentialSource::Imds {
            endpoint: "http://169.254.169.254".into(),
            client_id: Some("11111111-0000-0000-0000-000000000002".into())
        }
    );
}

#[test]
fn prod_never_picks_a_developer_tool() {
    let both = bin_dir(&["az", "azd"]);
    let path = both.path().to_str().unwrap();
    let chosen = credential(&[("PATH", path), ("AZURE_TOKEN_CREDENTIALS", "prod")]);
    assert_eq!(chosen, CredentialSource::Imds { endpoint: "http://169.254.169.254".into(), client_id: None });
}

#[test]
fn a_named_credential_that_cannot_work_or_an_unknown_name_is_refused_at_start() {
    let problems = |value: &str| {
        settings(&[("KEY_VAULT_URL", VAULT), ("AZURE_TOKEN_CREDENTIALS", value), ("PATH", "/nonexistent")]).unwrap_err()
    };
    let unknown = problems("VisualStudioCodeCredential");
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert!(unknown[0].starts_with("AZURE_TOKEN_CREDENTIALS: \"VisualStudioCodeCredential\" is not one of prod, dev,"));
    let environment = problems("EnvironmentCredential");
    assert_eq!(
        environment,
        [
            "AZURE_TOKEN_CREDENTIALS: EnvironmentCredential needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET"
        ]
    );
    let workload = problems("WorkloadIdentityCredential");
    assert_eq!(
        workload,
        [
            "AZURE_TOKEN_CREDENTIALS: WorkloadIdentityCredential needs AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID"
        ]
    );
}
