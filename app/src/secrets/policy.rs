//! Which secrets are served, and to whom: `EXPOSED_SECRETS` patterns (others answer 404
//! without touching the store) and `SECRET_ROLES` (a role required on top of the route's).

use crate::AppError;
use vaultgate_config::ErrorCode;
use vaultgate_config::secrets_settings::ExposureSettings;

use super::SecretName;
use crate::auth::Claims;

#[derive(Debug, Clone, Default)]
pub struct ExposurePolicy {
    exposed: Option<Vec<String>>,
    roles: Vec<(String, String)>,
}

impl ExposurePolicy {
    pub fn new(settings: &ExposureSettings) -> Self {
        ExposurePolicy { exposed: settings.exposed.clone(), roles: settings.roles.clone() }
    }

    /// Checks `name` for `claims`: 404 when not exposed, 403 without the mapped role.
    pub fn check(&self, name: &SecretName, claims: &Claims, path: &str) -> Result<(), AppError> {
        if let Some(exposed) = &self.exposed
            && !exposed.iter().any(|pattern| glob_matches(pattern, name.as_str()))
        {
            return Err(ErrorCode::SecretNotFound.into());
        }
        // The first pattern that matches decides; a name no pattern matches needs nothing more.
        if let Some((_, role)) = self.roles.iter().find(|(pattern, _)| glob_matches(pattern, name.as_str()))
            && !claims.has_role(role)
        {
            return Err(AppError::new(ErrorCode::MissingPathRole)
                .with_debug(format!("Missing required role for accessing path {path}"))
                .with_required_scope(role.clone()));
        }
        Ok(())
    }
}

/// `*` matches any run of characters, `?` any one; everything else matches itself
/// (ASCII case-insensitively, as Key Vault names are).
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let (pattern, text) = (pattern.as_bytes(), text.as_bytes());
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p].eq_ignore_ascii_case(&text[t])) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|b| *b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        for (pattern, text, matches) in [
            ("*", "anything", true),
            ("db-*", "db-password", true),
            ("db-*", "db-", true),
            ("db-*", "xdb-password", false),
            ("*-key", "api-key", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("DB-*", "db-password", true),
            ("demo", "demo", true),
            ("demo", "demo2", false),
            ("*a*b*", "xxaxxbxx", true),
            ("*a*b", "xxaxxbxxc", false),
        ] {
            assert_eq!(glob_matches(pattern, text), matches, "{pattern} ~ {text}");
        }
    }
}
