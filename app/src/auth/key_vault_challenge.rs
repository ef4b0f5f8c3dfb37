//! The `WWW-Authenticate` challenge of a 401 on the Key Vault-compatible routes, as Key Vault
//! sends it: the official clients send their first request without a token, then ask their
//! credential for `<resource>/.default` in the tenant `authorization` names.

use actix_web::http::header::HeaderValue;
use vaultgate_config::{Mode, Settings};

use super::dev_key::{LOCAL_AUDIENCE, LOCAL_ISSUER};

/// `Bearer authorization="<AUTHORITY_HOST>/<TENANT_ID>", resource="<resource>"`: the resource is
/// the first `https://` entry of `AUDIENCES` (an Application ID URI on a domain the tenant
/// verified, which the clients' resource check can accept), else `api://<AD_SERVER_APP_ID>`.
/// In local mode: the local issuer and audience.
pub fn key_vault_challenge(settings: &Settings) -> HeaderValue {
    let (authority, resource) = match &settings.mode {
        Mode::Local { .. } => (LOCAL_ISSUER.to_owned(), LOCAL_AUDIENCE.to_owned()),
        Mode::Azure(azure) => {
            let https = azure.audiences.iter().flatten().find(|audience| is_plain_https(audience));
            let resource = https.cloned().unwrap_or_else(|| format!("api://{}", azure.app_id));
            (format!("{}/{}", azure.authority_host, azure.tenant_id), resource)
        }
    };
    HeaderValue::from_str(&format!(r#"Bearer authorization="{authority}", resource="{resource}""#))
        .expect("settings hold no characters a header refuses")
}

/// An `https://` URL with nothing a quoted header parameter would have to escape.
fn is_plain_https(audience: &str) -> bool {
    audience.starts_with("https://") && audience.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge(vars: &[(&str, &str)]) -> String {
        let lookup = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
        let settings = Settings::from_lookup(lookup).expect("valid settings");
        key_vault_challenge(&settings).to_str().unwrap().to_owned()
    }

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const APP: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

    #[test]
    fn names_the_tenant_and_the_first_https_audience() {
        let azure = [("TENANT_ID", TENANT), ("AD_SERVER_APP_ID", APP), ("KEY_VAULT_URL", "https://v.vault.azure.net")];
        assert_eq!(
            challenge(&azure),
            format!(r#"Bearer authorization="https://login.microsoftonline.com/{TENANT}", resource="api://{APP}""#)
        );
        let audiences = [&azure[..], &[("AUDIENCES", "api://x,https://contoso.com/vaultgate,https://other")]].concat();
        assert_eq!(
            challenge(&audiences),
            format!(
                r#"Bearer authorization="https://login.microsoftonline.com/{TENANT}", resource="https://contoso.com/vaultgate""#
            )
        );
    }

    #[test]
    fn local_mode_names_the_local_issuer() {
        assert_eq!(
            challenge(&[]),
            r#"Bearer authorization="https://vaultgate.localhost/dev", resource="api://vaultgate-local""#
        );
    }
}
