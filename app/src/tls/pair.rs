//! A certificate chain and its private key, read from their PEM files and checked as a pair:
//! the key must sign for the certificate, and the certificate must be valid now.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use zeroize::Zeroizing;

use super::error::TlsPairError;
use super::facts::{CertificateFacts, rfc3339};

/// A pair ready to serve.
#[derive(Debug, Clone)]
pub struct CertifiedPair {
    pub key: Arc<CertifiedKey>,
    pub facts: CertificateFacts,
}

/// Both files' bytes as read together; the key's are wiped when dropped.
pub struct PairFiles {
    pub cert_pem: Vec<u8>,
    pub key_pem: Zeroizing<Vec<u8>>,
}

impl PairFiles {
    pub fn read(cert_path: &Path, key_path: &Path) -> Result<PairFiles, TlsPairError> {
        let unreadable = |path: &Path| {
            let path = path.to_owned();
            move |source| TlsPairError::Unreadable { path, source }
        };
        let cert_pem = std::fs::read(cert_path).map_err(unreadable(cert_path))?;
        let key_pem = Zeroizing::new(std::fs::read(key_path).map_err(unreadable(key_path))?);
        Ok(PairFiles { cert_pem, key_pem })
    }

    /// A digest of both files, to notice a change without keeping the key's bytes.
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        context.update(&(self.cert_pem.len() as u64).to_be_bytes());
        context.update(&self.cert_pem);
        context.update(&self.key_pem);
        let mut fingerprint = [0u8; 32];
        fingerprint.copy_from_slice(context.finish().as_ref());
        fingerprint
    }

    /// Checks the pair as of `now` (Unix seconds); the paths name the files in errors.
    pub fn certify(&self, cert_path: &Path, key_path: &Path, now: i64) -> Result<CertifiedPair, TlsPairError> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&self.cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|_| TlsPairError::NoCertificate { path: cert_path.to_owned() })?;
        let Some(leaf) = chain.first() else {
            return Err(TlsPairError::NoCertificate { path: cert_path.to_owned() });
        };
        let facts = CertificateFacts::of(leaf)
            .ok_or_else(|| TlsPairError::UnreadableCertificate { path: cert_path.to_owned() })?;
        if facts.not_after < now {
            return Err(TlsPairError::Expired { path: cert_path.to_owned(), not_after: rfc3339(facts.not_after) });
        }
        if facts.not_before > now {
            return Err(TlsPairError::NotYetValid {
                path: cert_path.to_owned(),
                not_before: rfc3339(facts.not_before),
            });
        }
        let key = PrivateKeyDer::from_pem_slice(&self.key_pem)
            .map_err(|_| TlsPairError::NoPrivateKey { path: key_path.to_owned() })?;
        let signing_key = provider()
            .key_provider
            .load_private_key(key)
            .map_err(|reason| TlsPairError::UnusableKey { path: key_path.to_owned(), reason })?;
        let certified = CertifiedKey::new(chain, signing_key);
        // Every key aws-lc-rs loads knows its public half, so "unknown" is a mismatch too.
        if certified.keys_match().is_err() {
            return Err(TlsPairError::KeyMismatch { key_path: key_path.to_owned(), cert_path: cert_path.to_owned() });
        }
        Ok(CertifiedPair { key: Arc::new(certified), facts })
    }
}

/// Reads and checks the pair the two files hold now.
pub fn load(cert_path: &Path, key_path: &Path) -> Result<CertifiedPair, TlsPairError> {
    PairFiles::read(cert_path, key_path)?.certify(cert_path, key_path, crate::clock::unix_now())
}

/// The process's one provider (aws-lc-rs), as every other TLS use here.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use rcgen::{CertificateParams, KeyPair};
    use zeroize::Zeroizing;

    use super::*;

    fn files(certificate: &rcgen::Certificate, key: &KeyPair) -> PairFiles {
        PairFiles {
            cert_pem: certificate.pem().into_bytes(),
            key_pem: Zeroizing::new(key.serialize_pem().into_bytes()),
        }
    }

    #[test]
    fn rsa_and_ecdsa_keys_are_served_and_a_key_of_another_pair_is_refused() {
        let (cert, key_path) = (Path::new("/tls/tls.crt"), Path::new("/tls/tls.key"));
        let now = crate::clock::unix_now();
        let rsa = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let ecdsa = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let rsa_certificate = params.self_signed(&rsa).unwrap();
        let ecdsa_certificate = params.self_signed(&ecdsa).unwrap();
        assert!(files(&rsa_certificate, &rsa).certify(cert, key_path, now).is_ok());
        assert!(files(&ecdsa_certificate, &ecdsa).certify(cert, key_path, now).is_ok());
        let crossed = files(&rsa_certificate, &ecdsa).certify(cert, key_path, now).unwrap_err();
        assert_eq!(crossed.to_string(), "/tls/tls.key: the private key does not match the certificate in /tls/tls.crt");
    }

    #[test]
    fn a_pair_is_served_only_within_its_validity() {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let certificate = params.self_signed(&key).unwrap();
        let files = files(&certificate, &key);
        let facts = CertificateFacts::of(certificate.der()).unwrap();
        let (cert, key) = (Path::new("/tls/tls.crt"), Path::new("/tls/tls.key"));

        assert!(files.certify(cert, key, facts.not_before).is_ok());
        assert!(files.certify(cert, key, facts.not_after).is_ok());
        let early = files.certify(cert, key, facts.not_before - 1).unwrap_err().to_string();
        assert_eq!(early, format!("/tls/tls.crt: the certificate is valid only from {}", rfc3339(facts.not_before)));
        let late = files.certify(cert, key, facts.not_after + 1).unwrap_err().to_string();
        assert_eq!(late, format!("/tls/tls.crt: the certificate expired at {}", rfc3339(facts.not_after)));
    }
}
