//! Secret names and versions, checked before any store is touched.

use vaultgate_config::{AppError, ErrorCode};

/// A Key Vault secret name: 1 to 127 ASCII letters, digits and dashes. It can never hold
/// a path separator or a dot, so it is safe as a file name too.
#[derive(Debug, Clone, PartialEq, Eq, Hash, derive_more::Display)]
pub struct SecretName(String);

impl SecretName {
    pub fn parse(name: &str) -> Result<SecretName, AppError> {
        let valid = (1..=127).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if valid { Ok(SecretName(name.to_owned())) } else { Err(ErrorCode::InvalidSecretName.into()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
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
    fn versions_are_32_hex_characters() {
        assert!(SecretVersion::parse("41cce6796d81438f9dad0d96bf85d50d").is_ok());
        assert!(SecretVersion::parse("41CCE6796D81438F9DAD0D96BF85D50D").is_ok());
        for bad in ["", "latest", "41cce6796d81438f9dad0d96bf85d50", "41cce6796d81438f9dad0d96bf85d50g"] {
            assert_eq!(SecretVersion::parse(bad).unwrap_err().code(), ErrorCode::InvalidSecretVersion, "{bad}");
        }
    }
}
