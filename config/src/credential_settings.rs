//! How vaultgate gets its own Key Vault token: the credential picked from the standard Azure
//! variables in the Azure SDKs' order, narrowed by `AZURE_TOKEN_CREDENTIALS`.

use crate::defaults::DEFAULT_IMDS_ENDPOINT;
use crate::env::Env;
use crate::mode::HOSTING_VARIABLES;
use crate::problem::SettingProblem;
use crate::redacted::Redacted;
use crate::url::UrlRule;

/// How vaultgate gets its own Key Vault token, picked from the standard Azure variables in
/// the Azure SDKs' order.
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

/// The user-assigned identity named by the variables, if any; more than one is an error.
fn user_assigned(env: &mut Env, client_id: Option<String>) -> Option<UserAssigned> {
    let object_id = env.text("MANAGED_IDENTITY_OBJECT_ID");
    let resource_id = env.text("MANAGED_IDENTITY_RESOURCE_ID");
    if let Some(id) = &object_id
        && !crate::env::is_guid(id)
    {
        env.problem(SettingProblem::Malformed {
            variable: "MANAGED_IDENTITY_OBJECT_ID",
            expected: "the identity's object (principal) id, a GUID",
            value: id.clone(),
        });
    }
    if let Some(id) = &resource_id
        && !is_identity_resource_id(id)
    {
        env.problem(SettingProblem::Malformed {
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
        env.problem(SettingProblem::SeveralUserAssigned);
    }
    named.into_iter().next()
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

/// `AZURE_TOKEN_CREDENTIALS`, as the Azure SDKs read it (case-insensitive): `prod` keeps the
/// deployed credentials (environment, workload identity, managed identity), `dev` the
/// developer tools, a credential's name that one alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Narrowed {
    All,
    Prod,
    Dev,
    Environment,
    WorkloadIdentity,
    ManagedIdentity,
    Tool(DeveloperTool),
}

const NARROWING: &[(&str, Narrowed)] = &[
    ("prod", Narrowed::Prod),
    ("dev", Narrowed::Dev),
    ("EnvironmentCredential", Narrowed::Environment),
    ("WorkloadIdentityCredential", Narrowed::WorkloadIdentity),
    ("ManagedIdentityCredential", Narrowed::ManagedIdentity),
    ("AzureCliCredential", Narrowed::Tool(DeveloperTool::AzureCli)),
    ("AzureDeveloperCliCredential", Narrowed::Tool(DeveloperTool::AzureDeveloperCli)),
];

fn narrowed(env: &mut Env) -> Narrowed {
    let Some(value) = env.text("AZURE_TOKEN_CREDENTIALS") else { return Narrowed::All };
    if let Some((_, narrowed)) = NARROWING.iter().find(|(name, _)| name.eq_ignore_ascii_case(&value)) {
        return *narrowed;
    }
    let accepted = NARROWING.iter().map(|(name, _)| *name).collect();
    env.problem(SettingProblem::UnknownCredential { value, accepted });
    Narrowed::All
}

/// The credential, in the Azure SDKs' `DefaultAzureCredential` order: environment (client
/// secret), workload identity, managed identity, then the developer tools. Managed identity
/// cannot be detected on a VM (IMDS has no variable), so the developer tools are chosen only
/// when no hosting environment is in sight and `az` or `azd` is on `PATH`; otherwise IMDS.
pub(crate) fn credential_source(env: &mut Env, authority_host: &str) -> CredentialSource {
    // Every identity endpoint is checked, whichever credential wins below.
    let identity_endpoint = env.url("IDENTITY_ENDPOINT", UrlRule::IdentityEndpoint);
    let imds_override = env.url("AZURE_POD_IDENTITY_AUTHORITY_HOST", UrlRule::Imds);
    let msi_endpoint = env.url("MSI_ENDPOINT", UrlRule::IdentityEndpoint);
    let arc_imds_endpoint = env.url("IMDS_ENDPOINT", UrlRule::Imds);
    let narrowed = narrowed(env);
    let client_id = env.text("AZURE_CLIENT_ID");
    let tenant_id = env.text("AZURE_TENANT_ID");
    let authority_host = authority_host.to_owned();
    let wants = |kind: Narrowed| narrowed == kind || (narrowed == Narrowed::All || narrowed == Narrowed::Prod);
    let developer =
        |tools: Vec<DeveloperTool>, tenant_id: Option<String>| CredentialSource::DeveloperCli { tools, tenant_id };
    match narrowed {
        Narrowed::Dev => return developer(vec![DeveloperTool::AzureCli, DeveloperTool::AzureDeveloperCli], tenant_id),
        Narrowed::Tool(tool) => return developer(vec![tool], tenant_id),
        _ => {}
    }
    let secret = env.text("AZURE_CLIENT_SECRET");
    if wants(Narrowed::Environment)
        && let (Some(client_id), Some(tenant_id), Some(secret)) = (&client_id, &tenant_id, secret)
    {
        return CredentialSource::ClientSecret {
            authority_host,
            tenant_id: tenant_id.clone(),
            client_id: client_id.clone(),
            secret: Redacted(secret),
        };
    }
    // The SDKs' EnvironmentCredential: a client secret first, then a client certificate.
    if wants(Narrowed::Environment)
        && let Some(path) = env.text("AZURE_CLIENT_CERTIFICATE_PATH")
    {
        match (&client_id, &tenant_id) {
            (Some(client_id), Some(tenant_id)) => {
                // Whether the file wants it is known only once it is read (PEM or PKCS#12).
                let password = env.verbatim("AZURE_CLIENT_CERTIFICATE_PASSWORD").map(Redacted);
                let send_chain = env.one_of(
                    "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
                    &[("true", true), ("1", true), ("false", false), ("0", false)],
                    false,
                );
                let (client_id, tenant_id) = (client_id.clone(), tenant_id.clone());
                return CredentialSource::ClientCertificate {
                    authority_host,
                    tenant_id,
                    client_id,
                    path,
                    password,
                    send_chain,
                };
            }
            _ => env.problem(SettingProblem::CertificateWithoutClient),
        }
    }
    if narrowed == Narrowed::Environment {
        env.problem(SettingProblem::EnvironmentCredentialIncomplete);
        return CredentialSource::Imds { endpoint: DEFAULT_IMDS_ENDPOINT.into(), identity: None };
    }
    if wants(Narrowed::WorkloadIdentity) {
        match (env.text("AZURE_FEDERATED_TOKEN_FILE"), &client_id, tenant_id.clone()) {
            (Some(token_file), Some(client_id), Some(tenant_id)) => {
                let client_id = client_id.clone();
                return CredentialSource::WorkloadIdentity { authority_host, tenant_id, client_id, token_file };
            }
            (Some(_), _, _) => env.problem(SettingProblem::FederatedTokenWithoutClient),
            (None, _, _) => {}
        }
    }
    if narrowed == Narrowed::WorkloadIdentity {
        env.problem(SettingProblem::WorkloadIdentityIncomplete);
        return CredentialSource::Imds { endpoint: DEFAULT_IMDS_ENDPOINT.into(), identity: None };
    }
    let identity = user_assigned(env, client_id);
    if let (Some(endpoint), Some(header)) = (identity_endpoint.clone(), env.text("IDENTITY_HEADER")) {
        // Service Fabric sets the same two variables as App Service, plus its server's thumbprint
        // (the SDKs' order: the thumbprint decides).
        if let Some(thumbprint) = env.text("IDENTITY_SERVER_THUMBPRINT") {
            no_user_assigned(env, &identity, "Service Fabric");
            return service_fabric(env, endpoint, Redacted(header), &thumbprint);
        }
        return CredentialSource::AppServiceManagedIdentity { endpoint, header: Redacted(header), identity };
    }
    if let (Some(endpoint), Some(_)) = (identity_endpoint, arc_imds_endpoint) {
        no_user_assigned(env, &identity, "Azure Arc");
        return CredentialSource::AzureArc { endpoint };
    }
    if let Some(endpoint) = msi_endpoint {
        return match env.text("MSI_SECRET") {
            Some(secret) => azure_ml(env, endpoint, Redacted(secret), identity),
            None => {
                no_user_assigned(env, &identity, "Cloud Shell");
                CredentialSource::CloudShell { endpoint }
            }
        };
    }
    let endpoint = imds_override.unwrap_or_else(|| DEFAULT_IMDS_ENDPOINT.into());
    if narrowed == Narrowed::All && !hosting_in_sight(env) {
        let tools = developer_tools_on_path(env);
        if !tools.is_empty() {
            return developer(tools, tenant_id);
        }
    }
    CredentialSource::Imds { endpoint, identity }
}

fn service_fabric(env: &mut Env, endpoint: String, header: Redacted, thumbprint: &str) -> CredentialSource {
    // Windows shows thumbprints with spaces or colons between the bytes.
    let digits: String =
        thumbprint.chars().filter(|c| !matches!(c, ' ' | ':')).collect::<String>().to_ascii_lowercase();
    if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        env.problem(SettingProblem::NotAThumbprint);
    }
    CredentialSource::ServiceFabric { endpoint, header, thumbprint: digits }
}

/// As the SDKs: these sources take no user-assigned identity at runtime (Service Fabric and
/// Azure Arc set it in the resource's configuration; Cloud Shell is the signed-in user).
fn no_user_assigned(env: &mut Env, identity: &Option<UserAssigned>, source: &'static str) {
    if identity.is_some() {
        env.problem(SettingProblem::UserAssignedNotTaken { source });
    }
}

/// Azure ML names the compute's identity in `DEFAULT_IDENTITY_CLIENT_ID`, and its endpoint
/// always wants a `clientid` (MSAL sends it every time).
fn azure_ml(env: &mut Env, endpoint: String, secret: Redacted, identity: Option<UserAssigned>) -> CredentialSource {
    let client_id = match identity {
        Some(UserAssigned::ClientId(id)) => Some(id),
        Some(_) => {
            env.problem(SettingProblem::AzureMlByClientIdOnly);
            None
        }
        None => None,
    };
    let client_id = client_id.or_else(|| env.text("DEFAULT_IDENTITY_CLIENT_ID")).unwrap_or_else(|| {
        env.problem(SettingProblem::AzureMlClientIdMissing);
        String::new()
    });
    CredentialSource::AzureMl { endpoint, secret, client_id }
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
