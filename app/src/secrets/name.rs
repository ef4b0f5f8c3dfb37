//! Secret names and versions, checked before any store is touched.

use std::hash::{Hash, Hasher};

use crate::AppError;
use vaultgate_config::ErrorCode;

/// A Key Vault secret name: 1 to 127 ASCII letters, digits and dashes. It can never hold
/// a path separator or a dot, so it is safe as a file name too.
///
/// Key Vault names are case-insensitive, and so is this type: `DB-Password` equals
/// `db-password` and hashes alike, so every map keyed by names (the cache, single flights,
/// negative entries, miss budgets) holds one entry per secret. It keeps the casing it was
/// given, for the store's request; answers carry the name as the store holds it.
#[derive(Debug, Clone, derive_more::Display)]
pub struct SecretName(String);

impl SecretName {
    pub fn parse(name: &str) -> Result<SecretName, AppError> {
        if is_valid(name) { Ok(SecretName(name.to_owned())) } else { Err(ErrorCode::InvalidSecretName.into()) }
    }

    /// The name as the caller wrote it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `stored` (a file name, a name from Key Vault) names this secret.
    pub fn names(&self, stored: &str) -> bool {
        self.0.eq_ignore_ascii_case(stored)
    }
}

/// Whether `name` follows Key Vault's rule for secret names.
pub fn is_valid(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl PartialEq for SecretName {
    fn eq(&self, other: &Self) -> bool {
        self.names(&other.0)
    }
}

impl Eq for SecretName {}

impl Hash for SecretName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for byte in self.0.bytes() {
            state.write_u8(byte.to_ascii_lowercase());
        }
        state.write_u8(0xff);
    }
}

/// A Key Vault secret version: 32 hexadecimal characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, derive_more::Display)]
pub struct SecretVersion(String);

impl SecretVersion {
    pub fn parse(version: &str) -> Result<SecretVersion, AppError> {
        let valid = version.len() == 32 && version.bytes().all(|b| b.is_ascii_hexdigit());
        if valid {
            Ok(SecretVersion(version.to_ascii_lowercase()))
        } else {
            Err(ErrorCode::InvalidSecretVersion.into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_key_vault_rules() {
        for good in ["demo", "db-password", "A1", &"a".repeat(127)] {
            assert!(SecretName::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "..", "a/b", "a.b", "a_b", "é", "a b", &"a".repeat(128), "%2e%2e"] {
            assert_eq!(SecretName::parse(bad).unwrap_err().code(), ErrorCode::InvalidSecretName, "{bad}");
        }
    }

    #[test]
    fn names_differing_only_in_case_are_one_name() {
        use std::collections::HashSet;
        let names: HashSet<SecretName> =
            ["db-password", "DB-Password", "DB-PASSWORD"].iter().map(|n| SecretName::parse(n).unwrap()).collect();
        assert_eq!(names.len(), 1);
        assert_ne!(SecretName::parse("db-password").unwrap(), SecretName::parse("db-passwords").unwrap());
        assert_eq!(SecretName::parse("DB-Password").unwrap().as_str(), "DB-Password", "the casing given is kept");
    }

    #[test]
    fn versions_are_32_hex_characters() {
        assert!(SecretVersion::parse("41cce6796d81438f9dad0d96bf85d50d").is_ok());
        assert!(SecretVersion::parse("41CCE6796D81438F9DAD0D96BF85D50D").is_ok());
        for bad in ["", "latest", "41cce6796d81438f9dad0d96bf85d50", "41cce6796d81438f9dad0d96bf85d50g"] {
            assert_eq!(SecretVersion::parse(bad).unwrap_err().code(), ErrorCode::InvalidSecretVersion, "{bad}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    #[test]
    fn secret_names_follow_key_vaults_rule(name in "\\PC{0,130}") {
        let model = (1..=127).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        proptest::prop_assert_eq!(SecretName::parse(&name).is_ok(), model);
    }
    }
}
