//! Which issuers and tenants a token may come from.

use std::sync::{Arc, RwLock};

use vaultgate_config::url::host_of;

use super::claims::RawClaims;
use super::refusal::TokenRefusal;

/// The Microsoft-account (consumer) tenant: never accepted unless configured by name.
pub const CONSUMER_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
/// Where `{tenantid}` stands in an issuer template (as in Entra's own JWKS and discovery).
pub const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// The v1 issuer of the cloud whose authority is `authority_host`: v1 tokens name the STS
/// host, `sts.chinacloudapi.cn` in Azure China and `sts.windows.net` in the global cloud and
/// Azure US Government (and for loopback test doubles).
pub fn v1_issuer_template(authority_host: &str) -> String {
    let host = host_of(authority_host).unwrap_or_default();
    let sts = if host.to_ascii_lowercase().ends_with(".chinacloudapi.cn") {
        "sts.chinacloudapi.cn"
    } else {
        "sts.windows.net"
    };
    format!("https://{sts}/{TENANT_PLACEHOLDER}/")
}

/// An issuer template learnt from discovery, shared by the key source (which writes it)
/// and the validator (which reads it).
#[derive(Clone)]
pub struct SharedIssuer(Arc<RwLock<Arc<str>>>);

impl SharedIssuer {
    pub fn new(template: &str) -> Self {
        SharedIssuer(Arc::new(RwLock::new(Arc::from(template))))
    }

    pub fn get(&self) -> Arc<str> {
        crate::sync::read(&self.0).clone()
    }

    pub fn set(&self, template: &str) {
        *crate::sync::write(&self.0) = Arc::from(template);
    }
}

pub enum IssuerRule {
    /// `iss` must equal one of these (local mode).
    Exact(Vec<String>),
    /// Entra ID's rules: the tenant, then the issuer form that matches the token version.
    Entra(EntraIssuers),
}

pub struct EntraIssuers {
    /// Lowercase GUID.
    pub tenant_id: String,
    /// Lowercase GUIDs of further tenants accepted (multi-tenant apps).
    pub allowed_tenants: Vec<String>,
    /// `ISSUER`: when set, `iss` must equal it instead of the v1/v2 forms.
    pub issuer_override: Option<String>,
    /// The v1 issuer with `{tenantid}` in place of the tenant (`v1_issuer_template`).
    pub v1_template: String,
    /// The v2 issuer with `{tenantid}` in place of the tenant, from discovery.
    pub v2_template: SharedIssuer,
}

impl IssuerRule {
    pub(crate) fn check(&self, raw: &RawClaims, iss: &str) -> Result<(), TokenRefusal> {
        match self {
            IssuerRule::Exact(accepted) if accepted.iter().any(|a| a == iss) => Ok(()),
            IssuerRule::Exact(_) => Err(TokenRefusal::InvalidIssuer),
            IssuerRule::Entra(entra) => entra.check(raw, iss),
        }
    }

    /// Binds signing keys to their issuer, as Microsoft.IdentityModel's AAD signing-key issuer
    /// validation does: a key published with an `issuer` signs only tokens whose `iss` names
    /// the token's tenant and equals that issuer (its `{tenantid}` filled with the token's
    /// `tid`) or the tenant's v2 issuer (a v1 token's `sts.windows.net` issuer never appears on
    /// a key). Keys without an issuer are unaffected.
    pub(crate) fn check_key_issuer(
        &self,
        key_issuer: Option<&str>,
        raw: &RawClaims,
        iss: &str,
    ) -> Result<(), TokenRefusal> {
        let Some(template) = key_issuer else { return Ok(()) };
        let tid = raw.tid.as_deref().unwrap_or_default();
        if !iss.to_ascii_lowercase().contains(&tid.to_ascii_lowercase()) {
            return Err(TokenRefusal::KeyIssuerMismatch);
        }
        let effective = template.replace(TENANT_PLACEHOLDER, tid);
        let v2_issuer = match self {
            IssuerRule::Entra(entra) => Some(entra.v2_template.get().replace(TENANT_PLACEHOLDER, tid)),
            IssuerRule::Exact(_) => None,
        };
        // Case apart: the host and the tenant GUID are case-insensitive, as in `check`.
        if effective.eq_ignore_ascii_case(iss) || v2_issuer.is_some_and(|v2| effective.eq_ignore_ascii_case(&v2)) {
            Ok(())
        } else {
            Err(TokenRefusal::KeyIssuerMismatch)
        }
    }
}

impl EntraIssuers {
    fn check(&self, raw: &RawClaims, iss: &str) -> Result<(), TokenRefusal> {
        let tid = raw.tid.as_deref().map(str::to_ascii_lowercase).ok_or(TokenRefusal::InvalidTenant)?;
        // The consumer tenant passes only when named, like any other tenant.
        let allowed = tid == self.tenant_id || self.allowed_tenants.contains(&tid);
        if !allowed {
            return Err(TokenRefusal::InvalidTenant);
        }
        if let Some(issuer) = &self.issuer_override {
            return if iss == issuer { Ok(()) } else { Err(TokenRefusal::InvalidIssuer) };
        }
        // `iss` must be the form its `ver` promises, for the token's own tenant.
        let expected = match raw.ver.as_deref() {
            Some("1.0") => self.v1_template.replace(TENANT_PLACEHOLDER, &tid),
            Some("2.0") => self.v2_template.get().replace(TENANT_PLACEHOLDER, &tid),
            _ => return Err(TokenRefusal::InvalidVersion),
        };
        if iss.eq_ignore_ascii_case(&expected) { Ok(()) } else { Err(TokenRefusal::InvalidIssuer) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    fn issuers(authority_host: &str) -> EntraIssuers {
        EntraIssuers {
            tenant_id: TENANT.into(),
            allowed_tenants: Vec::new(),
            issuer_override: None,
            v1_template: v1_issuer_template(authority_host),
            v2_template: SharedIssuer::new(&format!("{authority_host}/{TENANT_PLACEHOLDER}/v2.0")),
        }
    }

    fn v1_token(iss: &str) -> RawClaims {
        serde_json::from_value(serde_json::json!({"iss": iss, "tid": TENANT, "ver": "1.0"})).unwrap()
    }

    #[test]
    fn v1_tokens_carry_their_clouds_sts_host() {
        let china = issuers("https://login.chinacloudapi.cn");
        let china_v1 = format!("https://sts.chinacloudapi.cn/{TENANT}/");
        let global_v1 = format!("https://sts.windows.net/{TENANT}/");
        assert!(china.check(&v1_token(&china_v1), &china_v1).is_ok());
        assert!(china.check(&v1_token(&global_v1), &global_v1).is_err());
        // Global and US Government tokens both name sts.windows.net.
        for authority in ["https://login.microsoftonline.com", "https://login.microsoftonline.us"] {
            let rule = issuers(authority);
            assert!(rule.check(&v1_token(&global_v1), &global_v1).is_ok(), "{authority}");
            assert!(rule.check(&v1_token(&china_v1), &china_v1).is_err(), "{authority}");
        }
    }
}
