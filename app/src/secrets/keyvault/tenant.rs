//! The tenant a Key Vault challenge names, checked before any token is asked for it (as the
//! Azure SDKs check it): a GUID, and the credential's own tenant unless listed in
//! `AZURE_ADDITIONALLY_ALLOWED_TENANTS`. Managed identities have no tenant of their own to
//! compare: their endpoints take no tenant, and the SDKs ignore the challenge's for them. A
//! developer tool without `AZURE_TENANT_ID` is asked in the challenge's tenant.

use vaultgate_config::secrets_settings::{AllowedTenants, CredentialSource, is_tenant_guid};

use crate::credential::{TenantRule, tenant_rule};
use crate::secrets::StoreError;

/// The tenant to ask the token in, or why none may be asked.
pub fn checked(
    challenge: Option<String>,
    credential: &CredentialSource,
    allowed: &AllowedTenants,
) -> Result<Option<String>, StoreError> {
    let Some(tenant) = challenge else { return Ok(None) };
    // Only a GUID goes on into a token endpoint's URL.
    if !is_tenant_guid(&tenant) {
        log::warn!("Key Vault's challenge names a tenant that is not a GUID; no token asked");
        return Err(StoreError::refused("Key Vault's challenge names a tenant that is not a GUID"));
    }
    let own = match tenant_rule(credential) {
        TenantRule::Own(own) => own,
        TenantRule::AsAsked => return Ok(Some(tenant.to_ascii_lowercase())),
        TenantRule::Ignored => return Ok(None),
    };
    if own.eq_ignore_ascii_case(&tenant) || allowed.allows(&tenant) {
        return Ok(Some(tenant.to_ascii_lowercase()));
    }
    log::warn!(
        "Key Vault's challenge names tenant {tenant}, not the credential's tenant {own}; no token asked \
         (list it in AZURE_ADDITIONALLY_ALLOWED_TENANTS if the vault lives there)"
    );
    Err(StoreError::refused(format!("Key Vault's challenge names tenant {tenant}, not the credential's {own}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vaultgate_config::secrets_settings::Redacted;

    const OWN: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const OTHER: &str = "0d6f0f0e-1c43-4a4b-9f8c-5b3c2a1d0e9f";

    fn client_secret() -> CredentialSource {
        CredentialSource::ClientSecret {
            authority_host: "https://login.microsoftonline.com".into(),
            tenant_id: OWN.into(),
            client_id: "c".into(),
            secret: Redacted("s".into()),
        }
    }

    fn none() -> AllowedTenants {
        AllowedTenants::Listed(Vec::new())
    }

    #[test]
    fn the_credentials_own_tenant_or_a_listed_one() {
        assert_eq!(checked(Some(OWN.to_uppercase()), &client_secret(), &none()), Ok(Some(OWN.into())));
        assert!(checked(Some(OTHER.into()), &client_secret(), &none()).is_err());
        assert_eq!(checked(Some(OTHER.into()), &client_secret(), &AllowedTenants::Any), Ok(Some(OTHER.into())));
        let listed = AllowedTenants::Listed(vec![OTHER.into()]);
        assert_eq!(checked(Some(OTHER.into()), &client_secret(), &listed), Ok(Some(OTHER.into())));
        assert_eq!(checked(None, &client_secret(), &none()), Ok(None));
    }

    #[test]
    fn never_anything_but_a_guid() {
        for tenant in ["common", "../evil", "contoso.onmicrosoft.com", ""] {
            assert!(checked(Some(tenant.into()), &client_secret(), &AllowedTenants::Any).is_err(), "{tenant}");
        }
    }

    #[test]
    fn managed_identity_ignores_the_challenges_tenant() {
        let identity = CredentialSource::Imds { endpoint: "http://169.254.169.254".into(), identity: None };
        assert_eq!(checked(Some(OTHER.into()), &identity, &none()), Ok(None));
        assert!(checked(Some("../evil".into()), &identity, &AllowedTenants::Any).is_err());
    }

    #[test]
    fn a_developer_tool_is_held_to_azure_tenant_id_when_set_else_asked_in_the_challenges() {
        use vaultgate_config::secrets_settings::DeveloperTool;
        let pinned =
            CredentialSource::DeveloperCli { tools: vec![DeveloperTool::AzureCli], tenant_id: Some(OWN.into()) };
        assert!(checked(Some(OTHER.into()), &pinned, &none()).is_err());
        assert_eq!(checked(Some(OWN.into()), &pinned, &none()).unwrap().as_deref(), Some(OWN));
        let signed_in = CredentialSource::DeveloperCli { tools: vec![DeveloperTool::AzureCli], tenant_id: None };
        assert_eq!(checked(Some(OTHER.into()), &signed_in, &none()).unwrap().as_deref(), Some(OTHER));
        assert!(checked(Some("not-a-guid".into()), &signed_in, &none()).is_err());
    }
}
