//! Which credential reads Key Vault: the Azure SDKs' `DefaultAzureCredential` order, the
//! developer tools only when no hosting environment is in sight, and `AZURE_TOKEN_CREDENTIALS`
//! narrowing the choice.

use std::collections::HashMap;

use vaultgate_config::secrets_settings::{CredentialSource, DeveloperTool, Redacted, UserAssigned};
use vaultgate_config::{SecretSource, Settings};

use super::{choose, settings_problems};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const VAULT: &str = "https://myvault.vault.azure.net";

fn settings(vars: &[(&str, &str)]) -> Result<Settings, Vec<String>> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Settings::from_lookup_checked(|name| map.get(name).cloned(), settings_problems).map_err(|e| e.lines())
}

fn credential(vars: &[(&str, &str)]) -> CredentialSource {
    let mut all = vec![("KEY_VAULT_URL", VAULT)];
    all.extend_from_slice(vars);
    match settings(&all).unwrap().secrets {
        SecretSource::KeyVault(key_vault) => choose(&key_vault.credential).unwrap(),
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
    let imds = CredentialSource::Imds { endpoint: "http://169.254.169.254".into(), identity: None };
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
            identity: Some(UserAssigned::ClientId("11111111-0000-0000-0000-000000000002".into()))
        }
    );
}

#[test]
fn prod_never_picks_a_developer_tool() {
    let both = bin_dir(&["az", "azd"]);
    let path = both.path().to_str().unwrap();
    let chosen = credential(&[("PATH", path), ("AZURE_TOKEN_CREDENTIALS", "prod")]);
    assert_eq!(chosen, CredentialSource::Imds { endpoint: "http://169.254.169.254".into(), identity: None });
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
            "AZURE_TOKEN_CREDENTIALS: EnvironmentCredential needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH"
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

/// The sources that share `IDENTITY_ENDPOINT` and `MSI_ENDPOINT`, told apart as the SDKs do.
#[test]
fn service_fabric_azure_arc_cloud_shell_and_azure_ml_are_told_apart() {
    // An identity endpoint is a hosting environment: local mode only when asked for.
    let credential = |vars: &[(&str, &str)]| {
        let mut all = vec![("VAULTGATE_MODE", "local")];
        all.extend_from_slice(vars);
        credential(&all)
    };
    let endpoint = ("IDENTITY_ENDPOINT", "https://localhost:2377/metadata/identity/oauth2/token");
    let thumbprint = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01";
    let fabric = credential(&[endpoint, ("IDENTITY_HEADER", "h"), ("IDENTITY_SERVER_THUMBPRINT", thumbprint)]);
    assert!(
        matches!(&fabric, CredentialSource::ServiceFabric { thumbprint, .. } if thumbprint == "abcdef0123456789abcdef0123456789abcdef01"),
        "{fabric:?}"
    );
    let arc = [
        ("IDENTITY_ENDPOINT", "http://localhost:40342/metadata/identity/oauth2/token"),
        ("IMDS_ENDPOINT", "http://localhost:40342"),
    ];
    assert!(matches!(credential(&arc), CredentialSource::AzureArc { .. }));
    let shell = [("MSI_ENDPOINT", "http://localhost:50342/oauth2/token")];
    assert!(matches!(credential(&shell), CredentialSource::CloudShell { .. }));
    let ml =
        [("MSI_ENDPOINT", "http://127.0.0.1:46808/"), ("MSI_SECRET", "s"), ("DEFAULT_IDENTITY_CLIENT_ID", "compute")];
    assert!(matches!(credential(&ml), CredentialSource::AzureMl { ref client_id, .. } if client_id == "compute"));

    let problems = |vars: &[(&str, &str)]| {
        let mut all = vec![("KEY_VAULT_URL", VAULT)];
        all.extend_from_slice(vars);
        settings(&all).err().unwrap_or_default().join("\n")
    };
    let bad = problems(&[endpoint, ("IDENTITY_HEADER", "h"), ("IDENTITY_SERVER_THUMBPRINT", "not-a-thumbprint")]);
    assert!(bad.contains("IDENTITY_SERVER_THUMBPRINT: must be the SHA-1 thumbprint"), "{bad}");
    let user_assigned = problems(&[arc[0], arc[1], ("AZURE_CLIENT_ID", "x")]);
    assert!(user_assigned.contains("Azure Arc managed identity takes no user-assigned identity"), "{user_assigned}");
    let ml_without_id = problems(&[ml[0], ml[1]]);
    assert!(ml_without_id.contains("set DEFAULT_IDENTITY_CLIENT_ID or AZURE_CLIENT_ID"), "{ml_without_id}");
}

#[test]
fn a_user_assigned_identity_is_named_by_one_of_client_object_or_resource_id() {
    let object_id = "2f2b8b3c-0000-4000-8000-0000000000aa";
    let resource_id = "/subscriptions/9b5b8b3c-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/vaultgate";
    assert_eq!(
        credential(&[("MANAGED_IDENTITY_OBJECT_ID", object_id), ("PATH", "/nonexistent")]),
        CredentialSource::Imds {
            endpoint: "http://169.254.169.254".into(),
            identity: Some(UserAssigned::ObjectId(object_id.into()))
        }
    );
    assert_eq!(
        credential(&[("MANAGED_IDENTITY_RESOURCE_ID", resource_id), ("PATH", "/nonexistent")]),
        CredentialSource::Imds {
            endpoint: "http://169.254.169.254".into(),
            identity: Some(UserAssigned::ResourceId(resource_id.into()))
        }
    );
    let problems = |vars: &[(&str, &str)]| {
        let mut all = vec![("KEY_VAULT_URL", VAULT)];
        all.extend_from_slice(vars);
        settings(&all).err().unwrap_or_default().join("\n")
    };
    let both = problems(&[("MANAGED_IDENTITY_OBJECT_ID", object_id), ("AZURE_CLIENT_ID", "c")]);
    assert!(both.contains("name the user-assigned identity with one of them only"), "{both}");
    let bad = problems(&[("MANAGED_IDENTITY_OBJECT_ID", "me"), ("MANAGED_IDENTITY_RESOURCE_ID", "/subscriptions/x")]);
    assert!(bad.contains("MANAGED_IDENTITY_OBJECT_ID: must be the identity's object (principal) id"), "{bad}");
    assert!(bad.contains("MANAGED_IDENTITY_RESOURCE_ID: must be /subscriptions/"), "{bad}");
}

/// EnvironmentCredential: a client secret first, then a client certificate (PEM or PKCS#12).
#[test]
fn a_client_certificate_is_the_environment_credential_without_a_secret() {
    let certificate = [
        ("AZURE_CLIENT_ID", "11111111-0000-0000-0000-000000000002"),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_CERTIFICATE_PATH", "/etc/vaultgate/client.pem"),
    ];
    let chosen = credential(&certificate);
    assert!(
        matches!(&chosen, CredentialSource::ClientCertificate { path, send_chain: false, .. } if path == "/etc/vaultgate/client.pem"),
        "{chosen:?}"
    );
    let mut narrowed = certificate.to_vec();
    narrowed.push(("AZURE_TOKEN_CREDENTIALS", "EnvironmentCredential"));
    narrowed.push(("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "true"));
    assert!(matches!(credential(&narrowed), CredentialSource::ClientCertificate { send_chain: true, .. }));
    let mut with_secret = certificate.to_vec();
    with_secret.push(("AZURE_CLIENT_SECRET", "s"));
    assert!(matches!(credential(&with_secret), CredentialSource::ClientSecret { .. }));

    let password = |chosen: CredentialSource| match chosen {
        CredentialSource::ClientCertificate { password, .. } => password.map(|p| p.0),
        other => panic!("a client certificate, got {other:?}"),
    };
    assert_eq!(password(credential(&certificate)), None, "no password unless one is set");
}

/// `AZURE_CLIENT_CERTIFICATE_PASSWORD` opens a PKCS#12 file: taken as it is (a password's
/// spaces are its own), empty meaning none, and never printed.
#[test]
fn the_certificate_password_is_kept_verbatim_and_never_printed() {
    let with_password = |value: &'static str| {
        credential(&[
            ("AZURE_CLIENT_ID", "11111111-0000-0000-0000-000000000002"),
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_CLIENT_CERTIFICATE_PATH", "/etc/vaultgate/client.pfx"),
            ("AZURE_CLIENT_CERTIFICATE_PASSWORD", value),
        ])
    };
    let password = |chosen: &CredentialSource| match chosen {
        CredentialSource::ClientCertificate { password, .. } => password.as_ref().map(|p| p.0.clone()),
        other => panic!("a client certificate, got {other:?}"),
    };
    let chosen = with_password(" pfx-Pa55 word ");
    assert_eq!(password(&chosen).as_deref(), Some(" pfx-Pa55 word "));
    assert!(!format!("{chosen:?}").contains("Pa55"), "{chosen:?}");
    assert!(!chosen.describe().contains("Pa55"), "{}", chosen.describe());
    assert_eq!(password(&with_password("")), None, "empty is no password");
}

const APP: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

#[test]
fn azure_mode_without_credential_variables_reads_the_vault_through_imds() {
    let s = settings(&[
        ("TENANT_ID", TENANT),
        ("AD_SERVER_APP_ID", APP),
        ("KEY_VAULT_URL", "https://myvault.vault.azure.net/"),
    ])
    .unwrap();
    let SecretSource::KeyVault(key_vault) = s.secrets else { panic!("a Key Vault source") };
    assert_eq!(
        choose(&key_vault.credential).unwrap(),
        CredentialSource::Imds { endpoint: "http://169.254.169.254".into(), identity: None }
    );
}

fn credential_in_azure_mode(vars: &[(&str, &str)]) -> CredentialSource {
    let mut all =
        vec![("TENANT_ID", TENANT), ("AD_SERVER_APP_ID", APP), ("KEY_VAULT_URL", "https://kv.vault.azure.net")];
    all.extend_from_slice(vars);
    match settings(&all).unwrap().secrets {
        SecretSource::KeyVault(key_vault) => choose(&key_vault.credential).unwrap(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn credentials_are_picked_in_the_azure_sdks_order() {
    let secret = [("AZURE_CLIENT_ID", "c"), ("AZURE_TENANT_ID", "t"), ("AZURE_CLIENT_SECRET", "s")];
    let workload = [("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token")];
    let app_service = [("IDENTITY_ENDPOINT", "http://localhost:42356/msi/token"), ("IDENTITY_HEADER", "h")];
    let everything: Vec<_> = secret.iter().chain(&workload).chain(&app_service).copied().collect();
    assert!(
        matches!(credential_in_azure_mode(&everything), CredentialSource::ClientSecret { ref secret, .. } if *secret == Redacted("s".into()))
    );
    let workload_and_more: Vec<_> = [("AZURE_CLIENT_ID", "c"), ("AZURE_TENANT_ID", "t")]
        .iter()
        .chain(&workload)
        .chain(&app_service)
        .copied()
        .collect();
    assert!(matches!(credential_in_azure_mode(&workload_and_more), CredentialSource::WorkloadIdentity { .. }));
    let mut with_client: Vec<_> = app_service.to_vec();
    with_client.push(("AZURE_CLIENT_ID", "user-assigned"));
    assert_eq!(
        credential_in_azure_mode(&with_client),
        CredentialSource::AppServiceManagedIdentity {
            endpoint: "http://localhost:42356/msi/token".into(),
            header: Redacted("h".into()),
            identity: Some(UserAssigned::ClientId("user-assigned".into()))
        }
    );
    assert_eq!(
        credential_in_azure_mode(&[("AZURE_CLIENT_ID", "vm-identity")]),
        CredentialSource::Imds {
            endpoint: "http://169.254.169.254".into(),
            identity: Some(UserAssigned::ClientId("vm-identity".into()))
        }
    );
}

#[test]
fn secrets_never_show_in_debug_output() {
    let source = credential_in_azure_mode(&[
        ("AZURE_CLIENT_ID", "c"),
        ("AZURE_TENANT_ID", "t"),
        ("AZURE_CLIENT_SECRET", "hunter2"),
    ]);
    assert!(!format!("{source:?}").contains("hunter2"));
}

/// The binary reads its settings with `settings_problems`: a credential that cannot work is
/// one more line among the other settings' problems, all reported at once.
#[test]
fn a_credential_that_cannot_work_is_reported_with_every_other_setting_problem() {
    let problems = settings(&[
        ("KEY_VAULT_URL", VAULT),
        ("PORT", "http"),
        ("AZURE_TOKEN_CREDENTIALS", "WorkloadIdentityCredential"),
        ("PATH", "/nonexistent"),
    ])
    .unwrap_err();
    let names: Vec<&str> = problems.iter().map(|p| p.split(':').next().unwrap()).collect();
    assert_eq!(names, ["PORT", "AZURE_TOKEN_CREDENTIALS"], "{problems:?}");
}
