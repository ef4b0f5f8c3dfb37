//! `EnvironmentCredential` with a client certificate: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and
//! `AZURE_CLIENT_CERTIFICATE_PATH` (no `AZURE_CLIENT_SECRET`); the certificate's signed
//! assertion (`certificate_assertion.rs`) is sent to the Entra token endpoint (retried as it
//! is: 429 and 5xx). The file is checked at start and re-read at every token request.

use std::time::Duration;

use vaultgate_config::SettingProblem;
use vaultgate_config::secrets_settings::{CredentialSettings, CredentialSource, TokenCredentials};

use super::certificate_assertion::{ClientCertificate, warn_if_readable_by_others};
use super::{AccessToken, CredentialError, TenantRule, TokenRequest, token_endpoint};

pub const CHOSEN_BECAUSE: &str = "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_CERTIFICATE_PATH are set, \
                                  AZURE_CLIENT_SECRET is not (EnvironmentCredential)";

/// `EnvironmentCredential` without a client secret: a certificate path needs the client and
/// tenant too, or start-up stops.
pub fn chosen(settings: &CredentialSettings, problems: &mut Vec<SettingProblem>) -> Option<CredentialSource> {
    if !settings.token_credentials.keeps(TokenCredentials::Environment) {
        return None;
    }
    let path = settings.certificate_path.as_ref()?;
    let (Some(client_id), Some(tenant_id)) = (&settings.client_id, &settings.tenant_id) else {
        problems.push(SettingProblem::CertificateWithoutClient);
        return None;
    };
    problems.extend(settings.send_certificate_chain.problems.iter().cloned());
    Some(CredentialSource::ClientCertificate {
        authority_host: settings.authority_host.clone(),
        tenant_id: tenant_id.clone(),
        client_id: client_id.clone(),
        path: path.clone(),
        password: settings.certificate_password.clone(),
        send_chain: settings.send_certificate_chain.value,
    })
}

/// Bound to its tenant: another one is asked only when allowed.
pub fn tenant_rule(tenant_id: &str) -> TenantRule<'_> {
    TenantRule::Own(tenant_id)
}

/// A file that cannot be read or holds no usable key stops start-up, rather than failing
/// every read afterwards.
pub fn check_at_start(path: &str, password: Option<&str>) -> Result<(), CredentialError> {
    ClientCertificate::load(path, password)?;
    warn_if_readable_by_others(path);
    Ok(())
}

pub struct Client<'a> {
    pub authority_host: &'a str,
    pub tenant_id: &'a str,
    pub client_id: &'a str,
    pub path: &'a str,
    pub password: Option<&'a str>,
    pub send_chain: bool,
}

pub async fn fetch(
    client: Client<'_>,
    request: &TokenRequest,
    timeout: Duration,
) -> Result<AccessToken, CredentialError> {
    // Re-read every time, as the federated token file: certificates are rotated in place.
    let certificate = ClientCertificate::load(client.path, client.password)?;
    let tenant = token_endpoint::tenant(request, client.tenant_id);
    let audience = token_endpoint::url(client.authority_host, tenant);
    let assertion = certificate.assertion(client.client_id, &audience, client.send_chain)?;
    let proof = token_endpoint::Proof::Assertion(&assertion);
    token_endpoint::fetch(client.authority_host, tenant, client.client_id, proof, &request.scope, timeout).await
}
