//! What a protected handler requires of its caller. `#[protected(...)]` writes one
//! `Requirement` type per handler (the events route writes its own, for the role
//! `EVENT_GRID_ROLE` names); `Authorized<R>` checks it.

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
    /// The role is `EVENT_GRID_ROLE`'s value, known only at start. Until `ConfiguredRoles`
    /// puts it in `any_roles`, no role passes (an unresolved rule fails closed).
    pub takes_event_grid_role: bool,
}

impl Rule {
    /// A rule of roles and scopes written in the code.
    pub const fn new(
        any_roles: &'static [&'static str],
        all_roles: &'static [&'static str],
        any_scopes: &'static [&'static str],
    ) -> Rule {
        Rule { any_roles, all_roles, any_scopes, takes_event_grid_role: false }
    }

    /// The role `EVENT_GRID_ROLE` names, whatever it is set to.
    pub const EVENT_GRID_ROLE: Rule = Rule { takes_event_grid_role: true, ..Rule::new(&[], &[], &[]) };

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

/// The roles named by settings (`Rule::EVENT_GRID_ROLE`), read once at start-up.
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

    /// `rule` with its configured role in `any_roles`.
    pub fn resolve(&self, rule: &Rule) -> Rule {
        if !rule.takes_event_grid_role {
            return *rule;
        }
        Rule { any_roles: self.event_grid, takes_event_grid_role: false, ..*rule }
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
