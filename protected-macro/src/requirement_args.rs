//! What a handler requires of its caller, as written in the attribute (checked, not yet expanded).

use syn::LitStr;

/// The checked requirement: lists are non-empty where present, values have no spaces.
#[derive(Default)]
pub struct RequirementArgs {
    pub any_roles: Vec<LitStr>,
    pub all_roles: Vec<LitStr>,
    pub any_scopes: Vec<LitStr>,
}
