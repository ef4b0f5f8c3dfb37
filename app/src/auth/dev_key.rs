//! Local mode's development signing key: an RSA-2048 key generated on first use into a
//! git-ignored folder, then reused by the server and by `vaultgate token`.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::issuers::IssuerRule;
use super::signing_keys::{StaticKeys, VerifyingKey};
use super::{ClaimRules, Validator};

/// The issuer of development tokens; local mode trusts no other.
pub const LOCAL_ISSUER: &str = "https://vaultgate.localhost/dev";
/// The audience of development tokens; local mode accepts no other.
pub const LOCAL_AUDIENCE: &str = "api://vaultgate-local";
/// The key's file inside its folder (PKCS#8 DER, readable by its owner only).
pub const KEY_FILE: &str = "dev-signing-key.pk8";

pub struct DevKey {
    pair: KeyPair,
    kid: String,
}

impl DevKey {
    /// Loads the key from `dir`, generating it first if it is not there yet. Safe when the
    /// server and the token command start at once: the first key written wins.
    pub fn load_or_create(dir: &Path) -> io::Result<DevKey> {
        let path = dir.join(KEY_FILE);
        match fs::read(&path) {
            Ok(der) => return DevKey::from_pkcs8(&der, &path),
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            Err(_) => {}
        }
        fs::create_dir_all(dir)?;
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| io::Error::other("RSA key generation failed"))?;
        let der = pair.as_der().map_err(|_| io::Error::other("RSA key encoding failed"))?;
        let temporary = dir.join(format!("{KEY_FILE}.{}.tmp", std::process::id()));
        write_private(&temporary, der.as_ref())?;
        // A hard link never replaces an existing file: whoever links first wins.
        let linked = fs::hard_link(&temporary, &path);
        let _ = fs::remove_file(&temporary);
        match linked {
            Ok(()) => {
                log::info!("generated a development signing key in {}", path.display());
                DevKey::from_pkcs8(der.as_ref(), &path)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => DevKey::from_pkcs8(&fs::read(&path)?, &path),
            Err(e) => Err(e),
        }
    }

    fn from_pkcs8(der: &[u8], path: &Path) -> io::Result<DevKey> {
        let pair = KeyPair::from_pkcs8(der).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not an RSA PKCS#8 key ({e}); delete it to generate a new one", path.display()),
            )
        })?;
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, pair.public_key().as_ref());
        let kid = format!("vaultgate-dev-{}", &URL_SAFE_NO_PAD.encode(digest.as_ref())[..16]);
        Ok(DevKey { pair, kid })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key, for verification.
    pub fn verifying_key(&self) -> VerifyingKey {
        let public = self.pair.public_key();
        VerifyingKey::from_rsa_components(
            public.modulus().big_endian_without_leading_zero(),
            public.exponent().big_endian_without_leading_zero(),
        )
        .expect("a generated RSA-2048 key is a valid RS256 key")
    }

    /// The public key as a DER `RSAPublicKey` (PKCS#1).
    pub fn public_key_der(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// The public modulus and exponent, base64url, as a JWK carries them (`n`, `e`).
    pub fn jwk_components(&self) -> (String, String) {
        let public = self.pair.public_key();
        (
            URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        )
    }

    /// Signs `claims` as an RS256 JWT with this key's kid.
    pub(crate) fn sign(&self, claims: &serde_json::Value) -> String {
        self.sign_with_header(&serde_json::json!({"typ": "JWT", "alg": "RS256", "kid": self.kid}), claims)
    }

    /// Signs under any header (this crate's tests forge what attackers send with it).
    pub(crate) fn sign_with_header(&self, header: &serde_json::Value, claims: &serde_json::Value) -> String {
        let signed_part =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signed_part.as_bytes(), &mut signature)
            .expect("signing with a loaded RSA key");
        format!("{signed_part}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// A development access token shaped like an Entra v2 app token.
    pub fn mint(&self, request: &MintRequest) -> String {
        let now = crate::clock::unix_now();
        let mut claims = serde_json::json!({
            "aud": LOCAL_AUDIENCE,
            "iss": LOCAL_ISSUER,
            "iat": now,
            "nbf": now,
            "exp": now.saturating_add(request.ttl_secs as i64),
            "azp": "vaultgate-cli",
            "oid": "00000000-0000-0000-0000-00000000dev0",
            "sub": "00000000-0000-0000-0000-00000000dev0",
            "tid": "00000000-0000-0000-0000-000000000000",
            "ver": "2.0",
            "jti": unique_id(),
        });
        if !request.roles.is_empty() {
            claims["roles"] = serde_json::json!(request.roles);
        }
        if !request.scopes.is_empty() {
            claims["scp"] = serde_json::json!(request.scopes.join(" "));
        }
        self.sign(&claims)
    }
}

/// Local mode's validator: trusts `key` alone, with the fixed local issuer and audience.
pub fn local_validator(key: &DevKey, leeway: Duration, cache_capacity: usize) -> Validator {
    let keys = Arc::new(StaticKeys::new([(key.kid().to_owned(), key.verifying_key())]));
    let rules = ClaimRules {
        issuers: IssuerRule::Exact(vec![LOCAL_ISSUER.to_owned()]),
        audiences: vec![LOCAL_AUDIENCE.to_owned()],
        leeway,
    };
    Validator::new(keys, rules, cache_capacity)
}

/// What `vaultgate token` puts in a development token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintRequest {
    pub roles: Vec<String>,
    pub scopes: Vec<String>,
    pub ttl_secs: u64,
}

/// 128 random bits, base64url: a token id (`jti`) that makes every minted token distinct.
fn unique_id() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random source works");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Writes a file only its owner can read.
fn write_private(path: &PathBuf, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

