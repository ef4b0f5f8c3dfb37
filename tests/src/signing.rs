//! A development key with the signing powers tests need and the shipped binary does not
//! have: any claims, any header, any RSA padding (to forge what attackers send).

use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaEncoding};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use vaultgate::auth::dev_key::{DevKey, KEY_FILE, MintRequest};

pub struct TestKey {
    dev: DevKey,
    pair: KeyPair,
}

impl TestKey {
    /// The development key in `dir` (generated there first if missing), as the server loads it.
    pub fn load_or_create(dir: &Path) -> TestKey {
        vaultgate::crypto::install_providers();
        let dev = DevKey::load_or_create(dir).expect("a development key");
        let der = std::fs::read(dir.join(KEY_FILE)).expect("the development key file");
        let pair = KeyPair::from_pkcs8(&der).expect("an RSA PKCS#8 key");
        TestKey { dev, pair }
    }

    pub fn kid(&self) -> &str {
        self.dev.kid()
    }

    pub fn dev_key(&self) -> &DevKey {
        &self.dev
    }

    pub fn jwk_components(&self) -> (String, String) {
        self.dev.jwk_components()
    }

    pub fn public_key_der(&self) -> &[u8] {
        self.dev.public_key_der()
    }

    /// A token as `vaultgate token` mints it.
    pub fn mint(&self, request: &MintRequest) -> String {
        self.dev.mint(request)
    }

    /// `claims` signed with RS256 under this key's kid.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(&serde_json::json!({"typ": "JWT", "alg": "RS256", "kid": self.kid()}), claims)
    }

    /// `claims` signed with RS256 under any header.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let signed_part =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature = self.sign_raw(&RSA_PKCS1_SHA256, signed_part.as_bytes());
        format!("{signed_part}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// A raw RSA signature over `message` with any padding (PS256 forgeries).
    pub fn sign_raw(&self, padding: &'static dyn RsaEncoding, message: &[u8]) -> Vec<u8> {
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair.sign(padding, &SystemRandom::new(), message, &mut signature).expect("signing with a loaded RSA key");
        signature
    }
}
