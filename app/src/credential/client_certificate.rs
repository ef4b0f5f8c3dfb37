//! A client certificate as Entra ID takes it: a JWT client assertion signed with the
//! certificate's RSA key (RS256), naming the certificate by its SHA-256 (`x5t#S256`) and SHA-1
//! (`x5t`) thumbprints as MSAL does, and optionally carrying it (`x5c`, for subject name/issuer
//! authentication). The file is PEM, key and certificate together; PKCS#12 is not read (no
//! pure-Rust PKCS#12 crate is available to the project).

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;

/// How long an assertion is good for (MSAL: 10 minutes).
const ASSERTION_LIFETIME_SECS: u64 = 600;

pub struct ClientCertificate {
    key: KeyPair,
    /// The leaf first, then any chain the file holds.
    chain: Vec<Vec<u8>>,
}

impl ClientCertificate {
    /// Reads a PEM file holding one private key (PKCS#8 or PKCS#1, RSA) and its certificate.
    /// Errors name the file, never its content.
    pub fn load(path: &str) -> Result<ClientCertificate, String> {
        let pem = std::fs::read(path).map_err(|e| format!("AZURE_CLIENT_CERTIFICATE_PATH {path}: {e}"))?;
        let chain: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(&pem)
            .map(|c| c.map(|c| c.to_vec()))
            .collect::<Result<_, _>>()
            .map_err(|_| format!("AZURE_CLIENT_CERTIFICATE_PATH {path}: not a readable PEM file"))?;
        if chain.is_empty() {
            return Err(format!(
                "AZURE_CLIENT_CERTIFICATE_PATH {path}: holds no PEM certificate (PKCS#12 is not read)"
            ));
        }
        let key = match PrivateKeyDer::from_pem_slice(&pem) {
            Ok(PrivateKeyDer::Pkcs8(key)) => KeyPair::from_pkcs8(key.secret_pkcs8_der()),
            Ok(PrivateKeyDer::Pkcs1(key)) => KeyPair::from_der(key.secret_pkcs1_der()),
            Ok(_) => return Err(format!("AZURE_CLIENT_CERTIFICATE_PATH {path}: the private key is not RSA")),
            Err(_) => {
                return Err(format!(
                    "AZURE_CLIENT_CERTIFICATE_PATH {path}: holds no unencrypted PEM private key (PRIVATE KEY or RSA PRIVATE KEY)"
                ));
            }
        }
        .map_err(|_| format!("AZURE_CLIENT_CERTIFICATE_PATH {path}: the private key is not a usable RSA key"))?;
        Ok(ClientCertificate { key, chain })
    }

    /// A signed assertion for `client_id` towards the token endpoint `audience`.
    pub fn assertion(&self, client_id: &str, audience: &str, send_chain: bool) -> Result<String, String> {
        let leaf = &self.chain[0];
        let mut header = json!({
            "alg": "RS256",
            "typ": "JWT",
            "x5t#S256": URL_SAFE_NO_PAD.encode(digest(&SHA256, leaf)),
            "x5t": URL_SAFE_NO_PAD.encode(digest(&SHA1_FOR_LEGACY_USE_ONLY, leaf)),
        });
        if send_chain {
            header["x5c"] = self.chain.iter().map(|der| STANDARD.encode(der)).collect::<Vec<_>>().into();
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|e| e.to_string())?.as_secs();
        let random = SystemRandom::new();
        let mut jti = [0u8; 16];
        random.fill(&mut jti).map_err(|_| "no randomness for the assertion's jti".to_owned())?;
        let claims = json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": jti.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "iat": now,
            "nbf": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        let signed =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &random, signed.as_bytes(), &mut signature)
            .map_err(|_| "signing the client assertion failed".to_owned())?;
        Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}
