//! What a protected handler requires of its caller. `#[protected(...)]` writes one
//! `Requirement` type per handler; `Authorized<R>` checks it.

use crate::AppError;
use vaultgate_config::ErrorCode;

use actix_web::{HttpRequest, web};

use super::{Authorized, Claims};

/// Roles and scopes a caller may hold to pass. A caller passes when it holds any of
/// `any_roles`, every one of `all_roles` (when that list is not empty), or any of `any_scopes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub any_roles: &'static [&'static str],
    pub all_roles: &'static [&'static str],
    pub any_scopes: &'static [&'static str],
    /// `role_from = "SETTING"`: the role is that setting's value. Until `ConfiguredRoles`
    /// puts it in `any_roles`, no role passes (an unresolved rule fails closed).
    pub role_from: Option<&'static str>,
}

impl Rule {
    pub fn allows(&self, claims: &Claims) -> bool {
        self.any_roles.iter().any(|role| claims.has_role(role))
            || (!self.all_roles.is_empty() && self.all_roles.iter().all(|role| claims.has_role(role)))
            || self.any_scopes.iter().any(|scope| claims.has_scope(scope))
    }

    /// Checks `claims` for a request to `path`: 403 `MissingRoles` or `MissingRequiredRole`.
    pub fn check(&self, claims: &Claims, path: &str) -> Result<(), AppError> {
        if claims.roles.is_none() && claims.scopes.is_none() {
            return Err(AppError::new(ErrorCode::MissingRole).with_required_scope(self.describe()));
        }
        if !self.allows(claims) {
            return Err(AppError::new(ErrorCode::MissingPathRole)
                .with_debug(format!("Missing required role for accessing path {path}"))
                .with_required_scope(self.describe()));
        }
        Ok(())
    }

    /// The roles and scopes that would pass, space-separated (the challenge's `scope`).
    pub fn describe(&self) -> String {
        let mut all: Vec<&str> = Vec::new();
        all.extend(self.any_roles);
        all.extend(self.all_roles);
        all.extend(self.any_scopes);
        all.join(" ")
    }
}

/// The roles named by settings (`#[protected(role_from = "SETTING")]`), read once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredRoles {
    event_grid: &'static [&'static str],
}

impl ConfiguredRoles {
    pub fn new(settings: &vaultgate_config::Settings) -> Self {
        ConfiguredRoles::with_event_grid_role(&settings.event_grid_role)
    }

    /// `EVENT_GRID_ROLE` as given.
    pub fn with_event_grid_role(role: &str) -> Self {
        ConfiguredRoles { event_grid: interned(role) }
    }

    /// `rule` with its configured role in `any_roles`; `None` for a setting this server does
    /// not know (start-up refuses such a route, and a request to it is refused).
    pub fn resolve(&self, rule: &Rule) -> Option<Rule> {
        let Some(setting) = rule.role_from else { return Some(*rule) };
        let roles = match setting {
            "EVENT_GRID_ROLE" => self.event_grid,
            _ => return None,
        };
        Some(Rule { any_roles: roles, role_from: None, ..*rule })
    }
}

/// `Rule` holds `'static` lists; a configured role is kept once per distinct value for the
/// process (a handful of bytes, however many servers a test process starts).
fn interned(role: &str) -> &'static [&'static str] {
    static SEEN: std::sync::Mutex<Vec<&'static [&'static str]>> = std::sync::Mutex::new(Vec::new());
    let mut seen = crate::sync::lock(&SEEN);
    if let Some(known) = seen.iter().find(|known| known[0] == role).copied() {
        return known;
    }
    let name: &'static str = Box::leak(role.to_owned().into_boxed_str());
    let list: &'static [&'static str] = Box::leak(Box::new([name]));
    seen.push(list);
    list
}

/// A handler's requirement, as a type (written by `#[protected]`).
pub trait Requirement: 'static {
    const RULE: Rule;
}

/// The requirement of a handler written by `#[protected]`, read from its signature: such a
/// handler takes `Authorized<R>`, the request and the payload. A handler without the
/// attribute does not have that signature, so naming it here does not compile.
pub const fn rule_of<F, R, Fut>(_handler: &F) -> Rule
where
    F: Fn(Authorized<R>, HttpRequest, web::Payload) -> Fut,
    R: Requirement,
{
    R::RULE
}
