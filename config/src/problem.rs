//! What can be wrong with the environment, one variant per cause. Each problem names its
//! variable (or the variables that clash) first; its text is the start-up line the operator
//! reads, so it must never hold a secret (a URL with credentials is not shown).

use std::net::IpAddr;

use crate::proxy::ProxyProblem;
use crate::url::UrlProblem;

/// One problem with one variable (or a clash between several).
#[derive(Debug, Clone, PartialEq, Eq, derive_more::Display)]
pub enum SettingProblem {
    /// A number outside its range, or no number.
    #[display("{variable}: must be {unit} from {min} to {max}, got {value:?}")]
    OutOfRange { variable: String, unit: &'static str, min: String, max: String, value: String },
    /// A word outside the variable's choices.
    #[display("{variable}: must be {expected}, got {value:?}")]
    NotAChoice { variable: String, expected: String, value: String },
    /// A value that breaks the variable's fixed form.
    #[display("{variable}: must be {expected}, got {value:?}")]
    Malformed { variable: &'static str, expected: &'static str, value: String },
    #[display("{variable}: each entry must be a tenant GUID, got {value:?}")]
    NotATenantGuid { variable: String, value: String },
    #[display("{_0}")]
    Url(UrlProblem),
    #[display("{variable}: {problem}")]
    Proxy { variable: &'static str, problem: ProxyProblem },

    #[display("TENANT_ID: set but blank; set the tenant GUID for Azure mode, or unset it for local mode")]
    BlankTenantId,
    #[display("VAULTGATE_MODE: local, but TENANT_ID is set; unset one of them")]
    LocalModeWithTenant,
    #[display("VAULTGATE_MODE: azure needs TENANT_ID (and AD_SERVER_APP_ID)")]
    AzureModeWithoutTenant,
    #[display(
        "TENANT_ID: unset, but a hosting environment is in sight ({}), where others may reach the port \
         and local mode would trust its development key instead of Entra ID; set TENANT_ID and \
         AD_SERVER_APP_ID for Azure mode (or VAULTGATE_MODE=local to override)",
        hosting.join(", ")
    )]
    LocalModeWhileHosted { hosting: Vec<&'static str> },
    #[display("AD_SERVER_APP_ID: required in Azure mode (the API's Application (client) ID)")]
    AppIdMissing,
    #[display("BIND: local mode (TENANT_ID unset) serves on loopback only, not on {ip}; set TENANT_ID for Azure mode")]
    PublicBindInLocalMode { ip: IpAddr },
    #[display("BIND: must be an IP address such as 127.0.0.1 or 0.0.0.0")]
    NotAnIpAddress,
    /// `shown` is the value quoted, or a note that it is not shown (it may hold a password).
    #[display(
        "PUBLIC_URL: must be vaultgate's own URL as callers reach it, such as https://vaultgate.example.com \
         (no user, query or fragment), got {shown}"
    )]
    NotAPublicUrl { shown: String },
    #[display("EVENT_GRID_ROLE: an app role value: no spaces, at most 250 characters")]
    NotAnAppRole,

    /// One file of the TLS pair without the other: serving plain HTTP instead would fail open.
    #[display("{set}: set without {missing}; HTTPS needs both the certificate and the key file")]
    TlsHalfPair { set: &'static str, missing: &'static str },
    #[display("TLS: dev serves the development certificate in local mode only; set TLS_CERT_FILE and TLS_KEY_FILE")]
    TlsDevOutsideLocalMode,
    #[display(
        "TLS: dev uses the development certificate, but TLS_CERT_FILE or TLS_KEY_FILE is set; unset one or the other"
    )]
    TlsDevWithFiles,
    #[display("TLS: off, but TLS_CERT_FILE or TLS_KEY_FILE is set; unset one or the other")]
    TlsOffWithFiles,
    #[display(
        "TLS: the Azure Functions host (FUNCTIONS_CUSTOMHANDLER_PORT) speaks plain HTTP to its custom handler and serves TLS itself; unset TLS, TLS_CERT_FILE and TLS_KEY_FILE"
    )]
    TlsBehindFunctionsHost,

    #[display("KEY_VAULT_URL: required in Azure mode (or SECRETS_DIR for a mounted folder of secrets)")]
    SecretSourceMissing,
    #[display(
        "EXPOSED_SECRETS: set but lists no pattern; list the patterns to expose, or unset it to expose every secret"
    )]
    NoExposedPattern,
    #[display("SECRET_ROLES: each entry must be pattern=Role, got {value:?}")]
    NotARolePair { value: String },
    #[display("{variable}: {pattern:?} is not a pattern of letters, digits, dashes, * and ?")]
    NotAPattern { variable: &'static str, pattern: String },

    #[display(
        "AZURE_TOKEN_CREDENTIALS: {value:?} is not one of {} (the Azure SDKs' values that vaultgate supports)",
        accepted.join(", ")
    )]
    UnknownCredential { value: String, accepted: Vec<&'static str> },
    #[display(
        "AZURE_TOKEN_CREDENTIALS: EnvironmentCredential needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH"
    )]
    EnvironmentCredentialIncomplete,
    #[display(
        "AZURE_TOKEN_CREDENTIALS: WorkloadIdentityCredential needs AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID"
    )]
    WorkloadIdentityIncomplete,
    #[display("AZURE_CLIENT_CERTIFICATE_PATH: a client certificate also needs AZURE_CLIENT_ID and AZURE_TENANT_ID")]
    CertificateWithoutClient,
    #[display("AZURE_FEDERATED_TOKEN_FILE: workload identity also needs AZURE_CLIENT_ID and AZURE_TENANT_ID")]
    FederatedTokenWithoutClient,
    #[display(
        "AZURE_CLIENT_ID, MANAGED_IDENTITY_OBJECT_ID, MANAGED_IDENTITY_RESOURCE_ID: name the user-assigned identity with one of them only"
    )]
    SeveralUserAssigned,
    #[display(
        "AZURE_CLIENT_ID, MANAGED_IDENTITY_OBJECT_ID, MANAGED_IDENTITY_RESOURCE_ID: {source} managed identity takes no user-assigned identity at runtime; unset them"
    )]
    UserAssignedNotTaken { source: &'static str },
    #[display(
        "IDENTITY_SERVER_THUMBPRINT: must be the SHA-1 thumbprint of the identity endpoint's certificate, 40 hexadecimal digits"
    )]
    NotAThumbprint,
    #[display(
        "MANAGED_IDENTITY_OBJECT_ID, MANAGED_IDENTITY_RESOURCE_ID: Azure Machine Learning names a user-assigned identity by client id only (AZURE_CLIENT_ID)"
    )]
    AzureMlByClientIdOnly,
    #[display(
        "MSI_ENDPOINT and MSI_SECRET (Azure Machine Learning): set DEFAULT_IDENTITY_CLIENT_ID or AZURE_CLIENT_ID to the identity's client id"
    )]
    AzureMlClientIdMissing,
}

impl SettingProblem {
    /// The variable the problem is about; for a clash, the variables in it.
    pub fn variable(&self) -> &str {
        use SettingProblem::*;
        match self {
            OutOfRange { variable, .. } | NotAChoice { variable, .. } | NotATenantGuid { variable, .. } => variable,
            Malformed { variable, .. } | Proxy { variable, .. } | NotAPattern { variable, .. } => variable,
            Url(problem) => problem.variable(),
            BlankTenantId | LocalModeWhileHosted { .. } => "TENANT_ID",
            LocalModeWithTenant | AzureModeWithoutTenant => "VAULTGATE_MODE",
            AppIdMissing => "AD_SERVER_APP_ID",
            PublicBindInLocalMode { .. } | NotAnIpAddress => "BIND",
            NotAPublicUrl { .. } => "PUBLIC_URL",
            NotAnAppRole => "EVENT_GRID_ROLE",
            TlsHalfPair { set, .. } => set,
            TlsDevOutsideLocalMode | TlsDevWithFiles | TlsOffWithFiles | TlsBehindFunctionsHost => "TLS",
            SecretSourceMissing => "KEY_VAULT_URL",
            NoExposedPattern => "EXPOSED_SECRETS",
            NotARolePair { .. } => "SECRET_ROLES",
            UnknownCredential { .. } | EnvironmentCredentialIncomplete | WorkloadIdentityIncomplete => {
                "AZURE_TOKEN_CREDENTIALS"
            }
            CertificateWithoutClient => "AZURE_CLIENT_CERTIFICATE_PATH",
            FederatedTokenWithoutClient => "AZURE_FEDERATED_TOKEN_FILE",
            SeveralUserAssigned | UserAssignedNotTaken { .. } => {
                "AZURE_CLIENT_ID, MANAGED_IDENTITY_OBJECT_ID, MANAGED_IDENTITY_RESOURCE_ID"
            }
            NotAThumbprint => "IDENTITY_SERVER_THUMBPRINT",
            AzureMlByClientIdOnly => "MANAGED_IDENTITY_OBJECT_ID, MANAGED_IDENTITY_RESOURCE_ID",
            AzureMlClientIdMissing => "DEFAULT_IDENTITY_CLIENT_ID, AZURE_CLIENT_ID",
        }
    }
}
