//! A client certificate as Entra ID takes it: a JWT client assertion signed with the
//! certificate's RSA key (RS256), naming the certificate by its SHA-256 (`x5t#S256`) and SHA-1
//! (`x5t`) thumbprints as MSAL does, and optionally carrying it (`x5c`, for subject name/issuer
//! authentication). The file is PEM (key and certificate together, unencrypted) or PKCS#12,
//! told apart by content as the SDKs do, whatever its name.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;
use zeroize::Zeroizing;

use super::certificate_file_error::CertificateFileProblem;
use super::{CredentialError, pkcs12_file};

/// How long an assertion is good for (MSAL: 10 minutes).
const ASSERTION_LIFETIME_SECS: u64 = 600;

pub struct ClientCertificate {
    key: KeyPair,
    /// The leaf (the certificate of `key`) first, then the rest of the chain the file holds.
    chain: Vec<Vec<u8>>,
}

impl ClientCertificate {
    /// Reads a PEM or PKCS#12 file holding one RSA private key and its certificate, `password`
    /// opening a PKCS#12 one. Errors name the file, never its content or the password.
    pub fn load(path: &str, password: Option<&str>) -> Result<ClientCertificate, CredentialError> {
        Ok(Self::load_file(path, password).map_err(|problem| problem.of(path))?)
    }

    fn load_file(path: &str, password: Option<&str>) -> Result<ClientCertificate, CertificateFileProblem> {
        let bytes = read_file(path)?;
        if memchr::memmem::find(&bytes, b"-----BEGIN ").is_some() {
            if password.is_some() {
                return Err(CertificateFileProblem::PasswordForPem);
            }
            return load_pem(&bytes);
        }
        // A PKCS#12 file is DER: one SEQUENCE.
        if bytes.first() != Some(&0x30) {
            return Err(CertificateFileProblem::NeitherPemNorPkcs12);
        }
        let contents = pkcs12_file::open(&bytes, password)?;
        let mut usable_key = false;
        for key in &contents.keys {
            let Ok(key) = KeyPair::from_pkcs8(key) else { continue };
            usable_key = true;
            if let Some(chain) = leaf_first(&key, &contents.certificates) {
                return Ok(ClientCertificate { key, chain });
            }
        }
        Err(if contents.keys.is_empty() || usable_key {
            CertificateFileProblem::Pkcs12NoKeyWithCertificate
        } else {
            CertificateFileProblem::KeyNotUsableRsa
        })
    }

    /// A signed assertion for `client_id` towards the token endpoint `audience`.
    pub fn assertion(&self, client_id: &str, audience: &str, send_chain: bool) -> Result<String, CredentialError> {
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
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| CredentialError::Misconfigured("the system clock is before 1970".to_owned()))?
            .as_secs();
        let random = SystemRandom::new();
        let mut jti = [0u8; 16];
        random
            .fill(&mut jti)
            .map_err(|_| CredentialError::Unavailable("no randomness for the assertion's jti".to_owned()))?;
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
            .map_err(|_| CredentialError::Misconfigured("signing the client assertion failed".to_owned()))?;
        Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// The file's bytes, wiped when dropped: a PEM file holds the private key in clear.
fn read_file(path: &str) -> Result<Zeroizing<Vec<u8>>, CertificateFileProblem> {
    std::fs::read(path).map(Zeroizing::new).map_err(CertificateFileProblem::Unreadable)
}

/// Warns when group or others may read the file: they could sign in as the application. Not
/// refused, as Kubernetes mounts secrets 0644 unless a volume's `defaultMode` says otherwise.
pub fn warn_if_readable_by_others(path: &str) {
    #[cfg(unix)]
    if let Ok(metadata) = std::fs::metadata(path) {
        let mode = std::os::unix::fs::MetadataExt::mode(&metadata);
        if readable_by_others(mode) {
            // The target operators know this warning by.
            log::warn!(
                target: "vaultgate::credential::client_certificate",
                "AZURE_CLIENT_CERTIFICATE_PATH {path}: readable by group or others (mode {:o}), who could sign in as \
                 the application with it; used anyway (Kubernetes mounts secrets 0644 by default): chmod 600 it, or \
                 give the secret volume defaultMode 0400",
                mode & 0o777
            );
        }
    }
}

#[cfg(unix)]
fn readable_by_others(mode: u32) -> bool {
    mode & 0o044 != 0
}

fn load_pem(pem: &[u8]) -> Result<ClientCertificate, CertificateFileProblem> {
    let certificates: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(pem)
        .map(|c| c.map(|c| c.to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|_| CertificateFileProblem::UnreadablePem)?;
    if certificates.is_empty() {
        return Err(CertificateFileProblem::NoPemCertificate);
    }
    let key = match &*pem_private_key(pem)? {
        PrivateKeyDer::Pkcs8(key) => KeyPair::from_pkcs8(key.secret_pkcs8_der()),
        PrivateKeyDer::Pkcs1(key) => KeyPair::from_der(key.secret_pkcs1_der()),
        _ => return Err(CertificateFileProblem::KeyNotRsa),
    }
    .map_err(|_| CertificateFileProblem::KeyNotUsableRsa)?;
    let chain = leaf_first(&key, &certificates).ok_or(CertificateFileProblem::NoCertificateForKey)?;
    Ok(ClientCertificate { key, chain })
}

/// The PEM file's private key (DER), wiped when dropped.
fn pem_private_key(pem: &[u8]) -> Result<Zeroizing<PrivateKeyDer<'static>>, CertificateFileProblem> {
    PrivateKeyDer::from_pem_slice(pem).map(Zeroizing::new).map_err(|_| CertificateFileProblem::NoPemPrivateKey)
}

/// The certificate of `key` (the one carrying its public key) first, then the others in file
/// order without repeats; `None` when no certificate is the key's. Entra ID knows the
/// application by the leaf's thumbprint, so the leaf must be the key's, not merely the first.
fn leaf_first(key: &KeyPair, certificates: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    let public_key = key.public_key().as_ref();
    let carries_key = |der: &Vec<u8>| {
        x509_parser::parse_x509_certificate(der)
            .is_ok_and(|(_, certificate)| certificate.public_key().subject_public_key.data.as_ref() == public_key)
    };
    let leaf = certificates.iter().find(|der| carries_key(der))?;
    let mut chain = vec![leaf.clone()];
    for der in certificates {
        if !chain.contains(der) {
            chain.push(der.clone());
        }
    }
    Some(chain)
}

#[cfg(test)]
mod tests {
    use zeroize::Zeroizing;

    use super::*;

    #[test]
    fn the_file_and_its_private_key_are_wiped_when_dropped() {
        let pair = KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pkcs8 = aws_lc_rs::encoding::AsDer::as_der(&pair).unwrap();
        let pem =
            format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", STANDARD.encode(pkcs8.as_ref()));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("client.pem");
        std::fs::write(&path, &pem).unwrap();
        let path = path.to_str().unwrap();
        let bytes: Zeroizing<Vec<u8>> = read_file(path).unwrap();
        assert_eq!(bytes.as_slice(), pem.as_bytes());
        let key: Zeroizing<PrivateKeyDer<'static>> = pem_private_key(&bytes).unwrap();
        assert_eq!(key.secret_der(), pkcs8.as_ref());
    }

    #[cfg(unix)]
    #[test]
    fn a_file_group_or_others_may_read_is_open_to_others() {
        for mode in [0o100644, 0o100640, 0o100604, 0o100444] {
            assert!(readable_by_others(mode), "{mode:o}");
        }
        for mode in [0o100600, 0o100400, 0o100622, 0o100611] {
            assert!(!readable_by_others(mode), "{mode:o}");
        }
    }
}
