//! How a caller authenticates, as OpenAPI security schemes for the configured mode, and what
//! each protected operation requires, from its `#[protected]` rule.
//!
//! Local mode has one scheme: a bearer token from `vaultgate token`. Azure mode adds Entra ID's
//! OAuth2 flows: client credentials for applications (scope `api://<app id>/.default`, the
//! token carries the app roles) and authorization code with PKCE for a person on the docs page.

use utoipa::openapi::security::{
    AuthorizationCode, ClientCredentials, Flow, Http, HttpAuthScheme, OAuth2, Scopes, SecurityRequirement,
    SecurityScheme,
};
use vaultgate_config::AzureSettings;
use vaultgate_config::{Mode, Settings};

use crate::auth::Rule;
use crate::auth::dev_key::{LOCAL_AUDIENCE, LOCAL_ISSUER};

pub const BEARER: &str = "bearerToken";
pub const CLIENT_CREDENTIALS: &str = "entraClientCredentials";
pub const AUTHORIZATION_CODE: &str = "entraAuthorizationCode";

/// The vendor extension that states a protected operation's rule exactly.
pub const ROLES_EXTENSION: &str = "x-vaultgate-roles";

/// What the security schemes are built from.
pub struct Security<'a> {
    entra: Option<&'a AzureSettings>,
}

impl<'a> Security<'a> {
    pub fn new(settings: &'a Settings) -> Self {
        match &settings.mode {
            Mode::Local { .. } => Security { entra: None },
            Mode::Azure(azure) => Security { entra: Some(azure) },
        }
    }

    /// `api://<app id>/<name>`: a scope of this API as Entra ID names it.
    fn scope(&self, name: &str) -> Option<String> {
        self.entra.map(|azure| format!("api://{}/{name}", azure.app_id))
    }

    /// The scope an application asks for with client credentials (its roles come with it).
    pub fn default_scope(&self) -> Option<String> {
        self.scope(".default")
    }

    /// The security schemes, by name. `scopes` are the delegated scopes the served rules name.
    pub fn schemes(&self, scopes: &[&str]) -> Vec<(&'static str, SecurityScheme)> {
        let Some(azure) = self.entra else {
            return vec![(
                BEARER,
                bearer(LOCAL_BEARER.replace("{issuer}", LOCAL_ISSUER).replace("{audience}", LOCAL_AUDIENCE)),
            )];
        };
        let endpoint = |name: &str| format!("{}/{}/oauth2/v2.0/{name}", azure.authority_host, azure.tenant_id);
        let default_scope = self.default_scope().unwrap_or_default();
        let audiences = azure
            .audiences
            .clone()
            .unwrap_or_else(|| vec![azure.app_id.clone(), format!("api://{}", azure.app_id)])
            .iter()
            .map(|audience| format!("`{audience}`"))
            .collect::<Vec<_>>()
            .join(" or ");
        let client_credentials = OAuth2::with_description(
            [Flow::ClientCredentials(ClientCredentials::new(
                endpoint("token"),
                Scopes::one(default_scope.as_str(), "the app roles granted to the calling application"),
            ))],
            "For applications: Entra ID's client-credentials flow. The token carries the app roles \
             granted to the application (API permissions > Application permissions, with admin consent).",
        );
        let mut delegated =
            vec![(default_scope.clone(), "the delegated permissions and app roles of the signed-in user".to_owned())];
        delegated.extend(
            scopes.iter().filter_map(|name| self.scope(name)).map(|scope| (scope, "a delegated scope".to_owned())),
        );
        let authorization_code = OAuth2::with_description(
            [Flow::AuthorizationCode(AuthorizationCode::new(
                endpoint("authorize"),
                endpoint("token"),
                Scopes::from_iter(delegated),
            ))],
            "For a person on the docs page: Entra ID's authorization-code flow with PKCE (no client \
             secret). The client must be registered as a single-page application with the docs page's \
             `oauth2-redirect.html` as redirect URI; the person needs the app role assigned.",
        );
        let description = ENTRA_BEARER.replace("{tenant}", &azure.tenant_id).replace("{audiences}", &audiences);
        vec![
            (CLIENT_CREDENTIALS, SecurityScheme::OAuth2(client_credentials)),
            (AUTHORIZATION_CODE, SecurityScheme::OAuth2(authorization_code)),
            (BEARER, bearer(description)),
        ]
    }

    /// The alternatives that satisfy `rule`: any one requirement object passes.
    pub fn requirements(&self, rule: &Rule) -> Vec<SecurityRequirement> {
        let mut alternatives = Vec::new();
        let has_roles = !rule.any_roles.is_empty() || !rule.all_roles.is_empty();
        if let Some(default_scope) = self.default_scope().filter(|_| has_roles) {
            alternatives.push(SecurityRequirement::new(CLIENT_CREDENTIALS, [default_scope.clone()]));
            alternatives.push(SecurityRequirement::new(AUTHORIZATION_CODE, [default_scope]));
        }
        for scope in rule.any_scopes.iter().filter_map(|name| self.scope(name)) {
            alternatives.push(SecurityRequirement::new(AUTHORIZATION_CODE, [scope]));
        }
        // For the bearer scheme the values are the role or scope the token must hold (OpenAPI
        // 3.1 lets a non-OAuth2 requirement list roles).
        for role in rule.any_roles {
            alternatives.push(SecurityRequirement::new(BEARER, [*role]));
        }
        if !rule.all_roles.is_empty() {
            alternatives.push(SecurityRequirement::new(BEARER, rule.all_roles.iter().copied()));
        }
        for scope in rule.any_scopes {
            alternatives.push(SecurityRequirement::new(BEARER, [*scope]));
        }
        alternatives
    }
}

/// `x-vaultgate-roles`: a caller passes with any of `roles`, all of `allRoles` (when not
/// empty), or any of `scopes` (delegated, in `scp`).
pub fn roles_extension(rule: &Rule) -> serde_json::Value {
    serde_json::json!({ "roles": rule.any_roles, "allRoles": rule.all_roles, "scopes": rule.any_scopes })
}

/// The rule in words, for the operation's description.
pub fn describe(rule: &Rule) -> String {
    let list = |names: &[&str]| names.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ");
    let mut ways = Vec::new();
    match rule.any_roles {
        [] => {}
        [role] => ways.push(format!("the app role {}", list(&[role]))),
        roles => ways.push(format!("one of the app roles {}", list(roles))),
    }
    if !rule.all_roles.is_empty() {
        ways.push(format!("all of the app roles {}", list(rule.all_roles)));
    }
    match rule.any_scopes {
        [] => {}
        [scope] => ways.push(format!("the delegated scope {}", list(&[scope]))),
        scopes => ways.push(format!("one of the delegated scopes {}", list(scopes))),
    }
    format!("**Requires** a token with {}.", ways.join(", or "))
}

fn bearer(description: String) -> SecurityScheme {
    let mut http = Http::new(HttpAuthScheme::Bearer);
    http.bearer_format = Some("JWT".into());
    http.description = Some(description);
    SecurityScheme::Http(http)
}

const LOCAL_BEARER: &str = "Local mode: a development token, RS256, signed by the key vaultgate keeps in \
`DEV_KEY_DIR`, with issuer `{issuer}` and audience `{audience}`. Get one with \
`vaultgate token --role GetSecret` (from a checkout: `cargo run -q -- token --role GetSecret`; \
`--scope S` for a delegated scope) and paste it here. In an operation's requirement the values \
name the role (`roles` claim) or scope (`scp` claim) the token must hold.";

const ENTRA_BEARER: &str = "An Entra ID access token for this API, pasted as it is: tenant `{tenant}`, \
audience {audiences}, RS256, v1 or v2. In an operation's requirement the values name the app role \
(`roles` claim) or delegated scope (`scp` claim) the token must hold.";
