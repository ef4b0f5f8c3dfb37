//! Key Vault's authentication challenge: `WWW-Authenticate: Bearer authorization="…",
//! resource="…"` (or `scope="…"`). It names the tenant and the scope to ask a token for;
//! the scope is trusted only when its domain is the vault's own.

use crate::credential::TokenRequest;

/// Reads a Bearer challenge into a token request, or `None` when it is not one, or names
/// a resource outside the vault's domain (a hostile or misrouted answer).
pub fn token_request(header: &str, vault_host: &str) -> Option<TokenRequest> {
    let params = header.trim().strip_prefix("Bearer")?.trim();
    let mut tenant = None;
    let mut scope = None;
    for (name, value) in parse_params(params) {
        match name.to_ascii_lowercase().as_str() {
            "authorization" | "authorization_uri" => {
                tenant = value.trim_end_matches('/').rsplit('/').next().filter(|t| !t.is_empty()).map(str::to_owned)
            }
            "scope" => scope = Some(value.to_owned()),
            "resource" if scope.is_none() => scope = Some(format!("{}/.default", value.trim_end_matches('/'))),
            _ => {}
        }
    }
    let scope = scope?;
    if !resource_matches_vault(&scope, vault_host) {
        log::warn!("Key Vault challenge names a resource outside the vault's domain; ignored");
        return None;
    }
    Some(TokenRequest { scope, tenant })
}

/// `name="value"` pairs separated by commas (values without quotes are accepted too).
fn parse_params(params: &str) -> Vec<(&str, &str)> {
    params
        .split(',')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            Some((name.trim(), value.trim().trim_matches('"')))
        })
        .collect()
}

/// The scope's host must be the vault's host or a parent domain of it at a label boundary
/// (`vault.azure.net` for `myvault.vault.azure.net`), as the Azure SDKs verify.
fn resource_matches_vault(scope: &str, vault_host: &str) -> bool {
    let Some(rest) = scope.strip_prefix("https://").or_else(|| scope.strip_prefix("http://")) else { return false };
    let host = rest.split(['/', ':']).next().unwrap_or_default().to_ascii_lowercase();
    let vault_host = vault_host.to_ascii_lowercase();
    !host.is_empty() && (vault_host == host || vault_host.ends_with(&format!(".{host}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIRE: &str = r#"Bearer authorization="https://login.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net""#;

    #[test]
    fn reads_the_wire_sample() {
        let request = token_request(WIRE, "myvault.vault.azure.net").unwrap();
        assert_eq!(request.scope, "https://vault.azure.net/.default");
        assert_eq!(request.tenant.as_deref(), Some("72f988bf-86f1-41af-91ab-2d7cd011db47"));
    }

    #[test]
    fn a_scope_parameter_is_taken_as_is() {
        let header = r#"Bearer authorization="https://login.microsoftonline.com/tenant-a/", scope="https://vault.azure.net/.default""#;
        let request = token_request(header, "kv.vault.azure.net").unwrap();
        assert_eq!(request.scope, "https://vault.azure.net/.default");
        assert_eq!(request.tenant.as_deref(), Some("tenant-a"));
    }

    #[test]
    fn resources_outside_the_vault_domain_are_refused() {
        for (resource, host) in [
            ("https://evil.example.com", "myvault.vault.azure.net"),
            ("https://azure.net.evil.com", "myvault.vault.azure.net"),
            ("https://ault.azure.net", "myvault.vault.azure.net"),
            ("https://vault.azure.net", "myvault.vault.azure.net.evil.com"),
        ] {
            let header = format!(r#"Bearer authorization="https://login.windows.net/t", resource="{resource}""#);
            assert!(token_request(&header, host).is_none(), "{resource} for {host}");
        }
        assert!(token_request("Basic realm=x", "myvault.vault.azure.net").is_none());
    }
}
