//! Why a credential was chosen, in the terms of the variables that chose it: what
//! `vaultgate check` prints beside the credential.

use crate::credential_settings::CredentialSource;

impl CredentialSource {
    /// The variables (or their absence) that made the SDKs' order land on this credential.
    pub fn chosen_because(&self) -> &'static str {
        match self {
            CredentialSource::ClientSecret { .. } => {
                "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are set (EnvironmentCredential)"
            }
            CredentialSource::ClientCertificate { .. } => {
                "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_CERTIFICATE_PATH are set, AZURE_CLIENT_SECRET is not \
                 (EnvironmentCredential)"
            }
            CredentialSource::WorkloadIdentity { .. } => {
                "AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID are set (WorkloadIdentityCredential)"
            }
            CredentialSource::AppServiceManagedIdentity { .. } => {
                "IDENTITY_ENDPOINT and IDENTITY_HEADER are set (App Service, Functions, Container Apps)"
            }
            CredentialSource::ServiceFabric { .. } => {
                "IDENTITY_ENDPOINT, IDENTITY_HEADER and IDENTITY_SERVER_THUMBPRINT are set (Service Fabric)"
            }
            CredentialSource::AzureArc { .. } => {
                "IDENTITY_ENDPOINT and IMDS_ENDPOINT are set, IDENTITY_HEADER is not (Azure Arc)"
            }
            CredentialSource::CloudShell { .. } => "MSI_ENDPOINT is set, MSI_SECRET is not (Cloud Shell)",
            CredentialSource::AzureMl { .. } => "MSI_ENDPOINT and MSI_SECRET are set (Azure Machine Learning)",
            CredentialSource::Imds { .. } => {
                "no other credential's variables are set: the instance metadata service, as on a VM, a scale \
                 set or an AKS node (AZURE_TOKEN_CREDENTIALS=dev picks the developer tools instead)"
            }
            CredentialSource::DeveloperCli { .. } => {
                "a developer's own sign-in: AZURE_TOKEN_CREDENTIALS names it, or no credential variable and no \
                 hosting environment is in sight and the tool is on PATH"
            }
        }
    }
}
