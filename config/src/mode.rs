//! Which tokens are trusted: local mode (a development key) or Azure mode (Entra ID).

use std::path::PathBuf;
use std::time::Duration;

use crate::defaults::{
    DEFAULT_AUTHORITY_HOST, DEFAULT_DEV_KEY_DIR, DEFAULT_JWKS_MIN_REFRESH_SECS, DEFAULT_JWKS_REFRESH_SECS,
};
use crate::env::{Env, is_guid};
use crate::url::PlainHttp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// No Azure: a development key signs and verifies tokens, secrets come from a folder.
    Local { dev_key_dir: PathBuf },
    /// Microsoft Entra ID tokens.
    Azure(AzureSettings),
}

/// Entra ID settings (Azure mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureSettings {
    pub tenant_id: String,
    pub app_id: String,
    /// Without a trailing slash.
    pub authority_host: String,
    /// `AUDIENCES`; `None` means `<app id>` and `api://<app id>`.
    pub audiences: Option<Vec<String>>,
    /// `ISSUER`; `None` means the discovered v2 issuer plus the v1 form.
    pub issuer: Option<String>,
    /// `JWT_URL`; `None` means the discovered `jwks_uri`.
    pub jwks_url: Option<String>,
    /// `ALLOWED_TENANTS`: extra tenants whose tokens are accepted (multi-tenant apps).
    pub allowed_tenants: Vec<String>,
    /// `JWKS_REFRESH_SECS`: how often signing keys are refreshed in the background.
    pub jwks_refresh: Duration,
    /// `JWKS_MIN_REFRESH_SECS`: at most one refresh per this interval for unknown `kid`s.
    pub jwks_min_refresh: Duration,
}

/// `AUTHORITY_HOST`, else the Azure SDKs' `AZURE_AUTHORITY_HOST`, without a trailing slash.
/// Azure mode validates tokens against it and the client credentials ask it for tokens.
pub(crate) fn authority_host(env: &mut Env) -> String {
    env.url("AUTHORITY_HOST", PlainHttp::Loopback)
        .or_else(|| env.url("AZURE_AUTHORITY_HOST", PlainHttp::Loopback))
        .unwrap_or_else(|| DEFAULT_AUTHORITY_HOST.into())
}

/// Azure mode when `TENANT_ID` is set, local mode otherwise.
pub(crate) fn mode(env: &mut Env, authority_host: &str) -> Mode {
    if env.is_blank("TENANT_ID") {
        // Read as unset, it would turn Azure mode's token checks into local mode's.
        env.problem("TENANT_ID: set but blank; set the tenant GUID for Azure mode, or unset it for local mode");
    }
    match env.text("TENANT_ID") {
        None => Mode::Local {
            dev_key_dir: PathBuf::from(env.text("DEV_KEY_DIR").unwrap_or_else(|| DEFAULT_DEV_KEY_DIR.into())),
        },
        Some(tenant_id) => Mode::Azure(azure_settings(env, tenant_id, authority_host)),
    }
}

fn azure_settings(env: &mut Env, tenant_id: String, authority_host: &str) -> AzureSettings {
    if !is_guid(&tenant_id) {
        env.problem(format!("TENANT_ID: must be a GUID (the Directory (tenant) ID), got {tenant_id:?}"));
    }
    let app_id = env.text("AD_SERVER_APP_ID").unwrap_or_else(|| {
        env.problem("AD_SERVER_APP_ID: required in Azure mode (the API's Application (client) ID)");
        String::new()
    });
    let jwks_url = env.url("JWT_URL", PlainHttp::Loopback);
    let allowed_tenants = env.guids("ALLOWED_TENANTS");
    AzureSettings {
        jwks_refresh: env.seconds("JWKS_REFRESH_SECS", DEFAULT_JWKS_REFRESH_SECS, 60..=86_400),
        jwks_min_refresh: env.seconds("JWKS_MIN_REFRESH_SECS", DEFAULT_JWKS_MIN_REFRESH_SECS, 1..=3_600),
        tenant_id: tenant_id.to_ascii_lowercase(),
        app_id,
        authority_host: authority_host.to_owned(),
        audiences: env.list("AUDIENCES"),
        issuer: env.text("ISSUER"),
        jwks_url,
        allowed_tenants,
    }
}
