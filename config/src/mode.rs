//! Which tokens are trusted: local mode (a development key) or Azure mode (Entra ID).

use std::path::PathBuf;
use std::time::Duration;

use crate::defaults::{
    DEFAULT_AUTHORITY_HOST, DEFAULT_DEV_KEY_DIR, DEFAULT_JWKS_KEY_GRACE_SECS, DEFAULT_JWKS_MIN_REFRESH_SECS,
    DEFAULT_JWKS_REFRESH_SECS,
};
use crate::env::{Env, is_guid};
use crate::problem::SettingProblem;
use crate::url::UrlRule;

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
    /// `JWKS_KEY_GRACE_SECS`: a key missing from a newer set stays trusted this long (0: off).
    pub jwks_key_grace: Duration,
}

/// Variables a hosting platform sets. With any of them in sight, local mode is refused
/// unless `VAULTGATE_MODE=local` asks for it: the Functions host forwards public traffic to
/// the loopback port, and a pod's loopback is shared with its sidecars, so "loopback only"
/// protects nothing there.
pub const HOSTING_VARIABLES: &[&str] = &[
    "FUNCTIONS_CUSTOMHANDLER_PORT", // Azure Functions custom handler
    "WEBSITE_SITE_NAME",            // App Service, Functions
    "WEBSITE_INSTANCE_ID",          // App Service, Functions
    "CONTAINER_APP_NAME",           // Container Apps
    "KUBERNETES_SERVICE_HOST",      // any Kubernetes pod (AKS)
    "IDENTITY_ENDPOINT",            // a managed identity (App Service, Container Apps, Arc)
    "MSI_ENDPOINT",                 // a managed identity (older App Service, Cloud Shell, Azure ML)
];

/// Why the mode is what it is: printed by `vaultgate check` and at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeReason {
    text: String,
    /// Hosting variables that `VAULTGATE_MODE=local` overrode.
    overridden: Vec<&'static str>,
}

impl ModeReason {
    fn new(text: impl Into<String>) -> Self {
        ModeReason { text: text.into(), overridden: Vec::new() }
    }

    /// The start-up warning when `VAULTGATE_MODE=local` overrides a hosting environment.
    pub fn warning(&self) -> Option<String> {
        (!self.overridden.is_empty()).then(|| {
            format!(
                "VAULTGATE_MODE=local overrides the hosting environment ({}): tokens signed by the development \
                 key are trusted instead of Entra ID's, on a port others may reach; set TENANT_ID and \
                 AD_SERVER_APP_ID for Azure mode",
                self.overridden.join(", ")
            )
        })
    }
}

impl std::fmt::Display for ModeReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// `VAULTGATE_MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Requested {
    /// Unset: decided by `TENANT_ID` and the hosting environment.
    Auto,
    Local,
    Azure,
}

/// `AUTHORITY_HOST`, else the Azure SDKs' `AZURE_AUTHORITY_HOST`, without a trailing slash
/// (both are checked when both are set). Azure mode validates tokens against it and the
/// client credentials ask it for tokens.
pub(crate) fn authority_host(env: &mut Env) -> String {
    let ours = env.url("AUTHORITY_HOST", UrlRule::Upstream);
    let sdks = env.url("AZURE_AUTHORITY_HOST", UrlRule::Upstream);
    ours.or(sdks).unwrap_or_else(|| DEFAULT_AUTHORITY_HOST.into())
}

/// The mode, failing closed: Azure mode when `TENANT_ID` is set; local mode only when no
/// hosting environment is in sight or `VAULTGATE_MODE=local` overrides it; anything
/// ambiguous is a problem.
pub(crate) fn mode(env: &mut Env, authority_host: &str) -> (Mode, ModeReason) {
    let blank_tenant = env.is_blank("TENANT_ID");
    if blank_tenant {
        // Read as unset, it would turn Azure mode's token checks into local mode's.
        env.problem(SettingProblem::BlankTenantId);
    }
    let requested =
        env.one_of("VAULTGATE_MODE", &[("local", Requested::Local), ("azure", Requested::Azure)], Requested::Auto);
    let hosting: Vec<&'static str> =
        HOSTING_VARIABLES.iter().copied().filter(|name| env.text(name).is_some()).collect();
    let reason = match (requested, env.text("TENANT_ID")) {
        (Requested::Local, Some(_)) => {
            env.problem(SettingProblem::LocalModeWithTenant);
            ModeReason::new("VAULTGATE_MODE=local")
        }
        (Requested::Local, None) if hosting.is_empty() => ModeReason::new("VAULTGATE_MODE=local"),
        (Requested::Local, None) => ModeReason {
            text: format!("VAULTGATE_MODE=local, overriding the hosting environment ({})", hosting.join(", ")),
            overridden: hosting,
        },
        (Requested::Azure, None) => {
            env.problem(SettingProblem::AzureModeWithoutTenant);
            ModeReason::new("VAULTGATE_MODE=azure")
        }
        (Requested::Azure, Some(tenant_id)) => {
            let azure = azure_settings(env, tenant_id, authority_host);
            return (Mode::Azure(azure), ModeReason::new("VAULTGATE_MODE=azure, TENANT_ID is set"));
        }
        (Requested::Auto, Some(tenant_id)) => {
            let azure = azure_settings(env, tenant_id, authority_host);
            return (Mode::Azure(azure), ModeReason::new("TENANT_ID is set"));
        }
        (Requested::Auto, None) if hosting.is_empty() || blank_tenant => {
            ModeReason::new("TENANT_ID unset, no hosting environment in sight")
        }
        (Requested::Auto, None) => {
            env.problem(SettingProblem::LocalModeWhileHosted { hosting });
            ModeReason::new("TENANT_ID unset, in a hosting environment")
        }
    };
    let dev_key_dir = PathBuf::from(env.text("DEV_KEY_DIR").unwrap_or_else(|| DEFAULT_DEV_KEY_DIR.into()));
    (Mode::Local { dev_key_dir }, reason)
}

fn azure_settings(env: &mut Env, tenant_id: String, authority_host: &str) -> AzureSettings {
    if !is_guid(&tenant_id) {
        env.problem(SettingProblem::Malformed {
            variable: "TENANT_ID",
            expected: "a GUID (the Directory (tenant) ID)",
            value: tenant_id.clone(),
        });
    }
    let app_id = env.text("AD_SERVER_APP_ID").unwrap_or_else(|| {
        env.problem(SettingProblem::AppIdMissing);
        String::new()
    });
    let jwks_url = env.url("JWT_URL", UrlRule::Upstream);
    let allowed_tenants = env.guids("ALLOWED_TENANTS");
    AzureSettings {
        jwks_refresh: env.seconds("JWKS_REFRESH_SECS", DEFAULT_JWKS_REFRESH_SECS, 60..=86_400),
        jwks_min_refresh: env.seconds("JWKS_MIN_REFRESH_SECS", DEFAULT_JWKS_MIN_REFRESH_SECS, 1..=3_600),
        jwks_key_grace: env.seconds("JWKS_KEY_GRACE_SECS", DEFAULT_JWKS_KEY_GRACE_SECS, 0..=86_400),
        tenant_id: tenant_id.to_ascii_lowercase(),
        app_id,
        authority_host: authority_host.to_owned(),
        audiences: env.list("AUDIENCES"),
        issuer: env.text("ISSUER"),
        jwks_url,
        allowed_tenants,
    }
}
