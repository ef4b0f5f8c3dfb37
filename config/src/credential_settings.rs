//! How vaultgate gets its own Key Vault token: the standard Azure variables, read and checked
//! one by one (`CredentialSettings`), and the credential they choose (`CredentialSource`).
//! Which one they choose, in the Azure SDKs' order, is the rule of each credential's module in
//! the app (`app/src/credential/chain.rs` asks them in turn).

use crate::defaults::DEFAULT_IMDS_ENDPOINT;
use crate::env::Env;
use crate::mode::HOSTING_VARIABLES;
use crate::problem::SettingProblem;
use crate::redacted::Redacted;
use crate::url::UrlRule;

/// The credential the variables chose (in the app, by the Azure SDKs' order), with what it
/// needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` + `AZURE_CLIENT_SECRET`.
    ClientSecret { authority_host: String, tenant_id: String, client_id: String, secret: Redacted },
    /// `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` + `AZURE_CLIENT_CERTIFICATE_PATH`: a PEM or PKCS#12
    /// file with the private key (RSA) and its certificate, read at every token request (so a
    /// rotated file is picked up); `password` is `AZURE_CLIENT_CERTIFICATE_PASSWORD` (opens a
    /// PKCS#12 file; empty or unset is none); `send_chain` is `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`
    /// (subject name/issuer authentication: the assertion carries the chain in `x5c`).
    ClientCertificate {
        authority_host: String,
        tenant_id: String,
        client_id: String,
        path: String,
        password: Option<Redacted>,
        send_chain: bool,
    },
    /// `AZURE_FEDERATED_TOKEN_FILE` + `AZURE_CLIENT_ID` + `AZURE_TENANT_ID` (AKS workload identity).
    WorkloadIdentity { authority_host: String, tenant_id: String, client_id: String, token_file: String },
    /// `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` (App Service, Functions, Container Apps).
    AppServiceManagedIdentity { endpoint: String, header: Redacted, identity: Option<UserAssigned> },
    /// `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` + `IDENTITY_SERVER_THUMBPRINT` (Service Fabric):
    /// an HTTPS endpoint whose self-signed certificate is trusted by its SHA-1 thumbprint alone
    /// (`thumbprint`: 40 lower-case hexadecimal digits).
    ServiceFabric { endpoint: String, header: Redacted, thumbprint: String },
    /// `IDENTITY_ENDPOINT` + `IMDS_ENDPOINT` (an Azure Arc-enabled server's agent, which proves
    /// the caller by a key file only root or the agent's group can read).
    AzureArc { endpoint: String },
    /// `MSI_ENDPOINT` without `MSI_SECRET` (Azure Cloud Shell).
    CloudShell { endpoint: String },
    /// `MSI_ENDPOINT` + `MSI_SECRET` (Azure Machine Learning compute). `client_id` is
    /// `AZURE_CLIENT_ID`, else the compute's `DEFAULT_IDENTITY_CLIENT_ID`.
    AzureMl { endpoint: String, secret: Redacted, client_id: String },
    /// The VM's instance metadata service; `AZURE_POD_IDENTITY_AUTHORITY_HOST` overrides its host.
    Imds { endpoint: String, identity: Option<UserAssigned> },
    /// A developer's own sign-in: the Azure CLI and/or the Azure Developer CLI, tried in this
    /// order (the SDKs' chain order). `tenant_id` is `AZURE_TENANT_ID`, passed when Key Vault's
    /// challenge names no tenant.
    DeveloperCli { tools: Vec<DeveloperTool>, tenant_id: Option<String> },
}

/// A command-line tool that hands out its signed-in user's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeveloperTool {
    /// `az account get-access-token`, after `az login`.
    AzureCli,
    /// `azd auth token`, after `azd auth login`.
    AzureDeveloperCli,
}

impl DeveloperTool {
    /// The program looked up on `PATH`.
    pub const fn program(self) -> &'static str {
        match self {
            DeveloperTool::AzureCli => "az",
            DeveloperTool::AzureDeveloperCli => "azd",
        }
    }

    /// What the user runs to sign in.
    pub const fn login_command(self) -> &'static str {
        match self {
            DeveloperTool::AzureCli => "az login",
            DeveloperTool::AzureDeveloperCli => "azd auth login",
        }
    }

    /// The SDKs' credential name (`AZURE_TOKEN_CREDENTIALS`).
    pub const fn credential_name(self) -> &'static str {
        match self {
            DeveloperTool::AzureCli => "AzureCliCredential",
            DeveloperTool::AzureDeveloperCli => "AzureDeveloperCliCredential",
        }
    }
}

impl CredentialSource {
    /// A name for logs (never a secret).
    pub fn describe(&self) -> String {
        match self {
            CredentialSource::ClientSecret { client_id, tenant_id, .. } => {
                format!("client secret (client {client_id}, tenant {tenant_id})")
            }
            CredentialSource::ClientCertificate { client_id, tenant_id, path, .. } => {
                format!("client certificate {path} (client {client_id}, tenant {tenant_id})")
            }
            CredentialSource::WorkloadIdentity { client_id, tenant_id, .. } => {
                format!("workload identity (client {client_id}, tenant {tenant_id})")
            }
            CredentialSource::AppServiceManagedIdentity { identity, .. } => {
                format!("managed identity via IDENTITY_ENDPOINT{}", described(identity))
            }
            CredentialSource::ServiceFabric { thumbprint, .. } => {
                format!("Service Fabric managed identity via IDENTITY_ENDPOINT (server thumbprint {thumbprint})")
            }
            CredentialSource::AzureArc { .. } => "Azure Arc managed identity via IDENTITY_ENDPOINT".to_owned(),
            CredentialSource::CloudShell { .. } => "Cloud Shell managed identity via MSI_ENDPOINT".to_owned(),
            CredentialSource::AzureMl { client_id, .. } => {
                format!("Azure Machine Learning managed identity via MSI_ENDPOINT (client {client_id})")
            }
            CredentialSource::Imds { identity, .. } => {
                format!("managed identity via IMDS{}", described(identity))
            }
            CredentialSource::DeveloperCli { tools, tenant_id } => {
                let programs: Vec<&str> = tools.iter().map(|tool| tool.program()).collect();
                let tenant = tenant_id.as_ref().map(|t| format!(", tenant {t}")).unwrap_or_default();
                format!("developer sign-in via {}{tenant}", programs.join(", then "))
            }
        }
    }

    /// Whether this is a person's own sign-in rather than a workload identity.
    pub fn is_developer(&self) -> bool {
        matches!(self, CredentialSource::DeveloperCli { .. })
    }
}

fn described(identity: &Option<UserAssigned>) -> String {
    match identity {
        Some(UserAssigned::ClientId(id)) => format!(" (user-assigned, client id {id})"),
        Some(UserAssigned::ObjectId(id)) => format!(" (user-assigned, object id {id})"),
        Some(UserAssigned::ResourceId(id)) => format!(" (user-assigned, resource id {id})"),
        None => String::new(),
    }
}

/// Which user-assigned identity the managed identity endpoint is asked for: `AZURE_CLIENT_ID`
/// (the SDKs' variable), or vaultgate's `MANAGED_IDENTITY_OBJECT_ID` (its principal id) or
/// `MANAGED_IDENTITY_RESOURCE_ID` (its ARM id); at most one. None: the system-assigned identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserAssigned {
    ClientId(String),
    ObjectId(String),
    ResourceId(String),
}

/// The credential variables as read. Values whose problems matter only to the credential that
/// uses them are `IfChosen`: read here, reported only when that credential is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSettings {
    /// `AUTHORITY_HOST`, where the Entra token endpoint is.
    pub authority_host: String,
    /// `AZURE_TOKEN_CREDENTIALS`.
    pub token_credentials: TokenCredentials,
    /// `AZURE_TENANT_ID`.
    pub tenant_id: Option<String>,
    /// `AZURE_CLIENT_ID`.
    pub client_id: Option<String>,
    /// `AZURE_CLIENT_SECRET`.
    pub client_secret: Option<Redacted>,
    /// `AZURE_CLIENT_CERTIFICATE_PATH`.
    pub certificate_path: Option<String>,
    /// `AZURE_CLIENT_CERTIFICATE_PASSWORD`, verbatim (a password's spaces are its own).
    pub certificate_password: Option<Redacted>,
    /// `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`.
    pub send_certificate_chain: IfChosen<bool>,
    /// `AZURE_FEDERATED_TOKEN_FILE`.
    pub federated_token_file: Option<String>,
    /// `IDENTITY_ENDPOINT`.
    pub identity_endpoint: Option<String>,
    /// `IDENTITY_HEADER`.
    pub identity_header: Option<Redacted>,
    /// `IDENTITY_SERVER_THUMBPRINT`, as 40 lower-case hexadecimal digits when it is one.
    pub identity_server_thumbprint: Option<IfChosen<String>>,
    /// `IMDS_ENDPOINT` (Azure Arc's agent).
    pub arc_imds_endpoint: Option<String>,
    /// `MSI_ENDPOINT`.
    pub msi_endpoint: Option<String>,
    /// `MSI_SECRET`.
    pub msi_secret: Option<Redacted>,
    /// `DEFAULT_IDENTITY_CLIENT_ID` (Azure Machine Learning's compute identity).
    pub default_identity_client_id: Option<String>,
    /// The instance metadata service: `AZURE_POD_IDENTITY_AUTHORITY_HOST`, else the default.
    pub imds_endpoint: String,
    /// The user-assigned identity `AZURE_CLIENT_ID`, `MANAGED_IDENTITY_OBJECT_ID` or
    /// `MANAGED_IDENTITY_RESOURCE_ID` names, for a managed identity.
    pub user_assigned: IfChosen<Option<UserAssigned>>,
    /// Whether a variable of a hosting environment is set (a developer's tools are then not
    /// the workload's identity).
    pub hosting_in_sight: bool,
    /// The developer tools found on `PATH`, in the SDKs' order.
    pub developer_tools_on_path: Vec<DeveloperTool>,
}

/// A value read from the variables and the problems it has, which count only when the
/// credential that uses it is chosen (the Azure SDKs read it only then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfChosen<T> {
    pub value: T,
    pub problems: Vec<SettingProblem>,
}

/// `AZURE_TOKEN_CREDENTIALS`, as the Azure SDKs read it (case-insensitive): `prod` keeps the
/// deployed credentials (environment, workload identity, managed identity), `dev` the
/// developer tools, a credential's name that one alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCredentials {
    All,
    Prod,
    Dev,
    Environment,
    WorkloadIdentity,
    ManagedIdentity,
    Tool(DeveloperTool),
}

impl TokenCredentials {
    /// Whether the value keeps the deployed credential `kind` (`Environment`,
    /// `WorkloadIdentity` or `ManagedIdentity`).
    pub fn keeps(self, kind: TokenCredentials) -> bool {
        self == kind || self == TokenCredentials::All || self == TokenCredentials::Prod
    }
}

const NARROWING: &[(&str, TokenCredentials)] = &[
    ("prod", TokenCredentials::Prod),
    ("dev", TokenCredentials::Dev),
    ("EnvironmentCredential", TokenCredentials::Environment),
    ("WorkloadIdentityCredential", TokenCredentials::WorkloadIdentity),
    ("ManagedIdentityCredential", TokenCredentials::ManagedIdentity),
    ("AzureCliCredential", TokenCredentials::Tool(DeveloperTool::AzureCli)),
    ("AzureDeveloperCliCredential", TokenCredentials::Tool(DeveloperTool::AzureDeveloperCli)),
];

fn token_credentials(env: &mut Env) -> TokenCredentials {
    let Some(value) = env.text("AZURE_TOKEN_CREDENTIALS") else { return TokenCredentials::All };
    if let Some((_, narrowed)) = NARROWING.iter().find(|(name, _)| name.eq_ignore_ascii_case(&value)) {
        return *narrowed;
    }
    let accepted = NARROWING.iter().map(|(name, _)| *name).collect();
    env.problem(SettingProblem::UnknownCredential { value, accepted });
    TokenCredentials::All
}

/// Reads every credential variable. Every identity endpoint is checked, whichever credential
/// the app then chooses.
pub(crate) fn credential_settings(env: &mut Env, authority_host: &str) -> CredentialSettings {
    let identity_endpoint = env.url("IDENTITY_ENDPOINT", UrlRule::IdentityEndpoint);
    let imds_override = env.url("AZURE_POD_IDENTITY_AUTHORITY_HOST", UrlRule::Imds);
    let msi_endpoint = env.url("MSI_ENDPOINT", UrlRule::IdentityEndpoint);
    let arc_imds_endpoint = env.url("IMDS_ENDPOINT", UrlRule::Imds);
    let token_credentials = token_credentials(env);
    let client_id = env.text("AZURE_CLIENT_ID");
    CredentialSettings {
        authority_host: authority_host.to_owned(),
        token_credentials,
        tenant_id: env.text("AZURE_TENANT_ID"),
        user_assigned: user_assigned(env, client_id.clone()),
        client_id,
        client_secret: env.text("AZURE_CLIENT_SECRET").map(Redacted),
        certificate_path: env.text("AZURE_CLIENT_CERTIFICATE_PATH"),
        // Whether the file wants it is known only once it is read (PEM or PKCS#12).
        certificate_password: env.verbatim("AZURE_CLIENT_CERTIFICATE_PASSWORD").map(Redacted),
        send_certificate_chain: env.reported_apart(|env| {
            env.one_of(
                "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
                &[("true", true), ("1", true), ("false", false), ("0", false)],
                false,
            )
        }),
        federated_token_file: env.text("AZURE_FEDERATED_TOKEN_FILE"),
        identity_endpoint,
        identity_header: env.text("IDENTITY_HEADER").map(Redacted),
        identity_server_thumbprint: env.text("IDENTITY_SERVER_THUMBPRINT").map(|value| thumbprint(&value)),
        arc_imds_endpoint,
        msi_endpoint,
        msi_secret: env.text("MSI_SECRET").map(Redacted),
        default_identity_client_id: env.text("DEFAULT_IDENTITY_CLIENT_ID"),
        imds_endpoint: imds_override.unwrap_or_else(|| DEFAULT_IMDS_ENDPOINT.into()),
        hosting_in_sight: hosting_in_sight(env),
        developer_tools_on_path: developer_tools_on_path(env),
    }
}

/// Windows shows thumbprints with spaces or colons between the bytes.
fn thumbprint(value: &str) -> IfChosen<String> {
    let digits: String = value.chars().filter(|c| !matches!(c, ' ' | ':')).collect::<String>().to_ascii_lowercase();
    let problems = if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        vec![SettingProblem::NotAThumbprint]
    } else {
        Vec::new()
    };
    IfChosen { value: digits, problems }
}

/// The user-assigned identity named by the variables, if any; more than one is a problem.
fn user_assigned(env: &mut Env, client_id: Option<String>) -> IfChosen<Option<UserAssigned>> {
    let object_id = env.text("MANAGED_IDENTITY_OBJECT_ID");
    let resource_id = env.text("MANAGED_IDENTITY_RESOURCE_ID");
    let mut problems = Vec::new();
    if let Some(id) = &object_id
        && !crate::env::is_guid(id)
    {
        problems.push(SettingProblem::Malformed {
            variable: "MANAGED_IDENTITY_OBJECT_ID",
            expected: "the identity's object (principal) id, a GUID",
            value: id.clone(),
        });
    }
    if let Some(id) = &resource_id
        && !is_identity_resource_id(id)
    {
        problems.push(SettingProblem::Malformed {
            variable: "MANAGED_IDENTITY_RESOURCE_ID",
            expected: "/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>",
            value: id.clone(),
        });
    }
    let named: Vec<UserAssigned> = [
        client_id.map(UserAssigned::ClientId),
        object_id.map(UserAssigned::ObjectId),
        resource_id.map(UserAssigned::ResourceId),
    ]
    .into_iter()
    .flatten()
    .collect();
    if named.len() > 1 {
        problems.push(SettingProblem::SeveralUserAssigned);
    }
    IfChosen { value: named.into_iter().next(), problems }
}

/// An ARM id of a user-assigned identity (ids are case-insensitive).
fn is_identity_resource_id(id: &str) -> bool {
    let lower = id.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('/').collect();
    matches!(
        parts.as_slice(),
        ["", "subscriptions", subscription, "resourcegroups", group, "providers", "microsoft.managedidentity", "userassignedidentities", name]
            if crate::env::is_guid(subscription) && !group.is_empty() && !name.is_empty()
    )
}

fn hosting_in_sight(env: &Env) -> bool {
    HOSTING_VARIABLES.iter().any(|name| env.text(name).is_some())
}

/// The developer tools found on `PATH`, in the SDKs' order.
fn developer_tools_on_path(env: &Env) -> Vec<DeveloperTool> {
    let path = env.text("PATH").unwrap_or_default();
    [DeveloperTool::AzureCli, DeveloperTool::AzureDeveloperCli]
        .into_iter()
        .filter(|tool| std::env::split_paths(&path).any(|dir| dir.join(tool.program()).is_file()))
        .collect()
}
