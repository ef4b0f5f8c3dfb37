//! Why a certificate and key pair cannot be served: each names the file to fix, and none
//! holds key material.

use std::path::PathBuf;

#[derive(Debug, derive_more::Display, derive_more::Error)]
pub enum TlsPairError {
    #[display("{}: cannot be read: {source}", path.display())]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[display("{}: holds no PEM certificate", path.display())]
    NoCertificate { path: PathBuf },
    #[display("{}: the first certificate is not a readable X.509 certificate", path.display())]
    UnreadableCertificate { path: PathBuf },
    #[display("{}: holds no unencrypted PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)", path.display())]
    NoPrivateKey { path: PathBuf },
    #[display("{}: the private key cannot sign: {reason}", path.display())]
    UnusableKey {
        path: PathBuf,
        #[error(not(source))]
        reason: rustls::Error,
    },
    #[display("{}: the private key does not match the certificate in {}", key_path.display(), cert_path.display())]
    KeyMismatch { key_path: PathBuf, cert_path: PathBuf },
    #[display("{}: the certificate expired at {not_after}", path.display())]
    Expired { path: PathBuf, not_after: String },
    #[display("{}: the certificate is valid only from {not_before}", path.display())]
    NotYetValid { path: PathBuf, not_before: String },
}
