//! Why a client certificate file (`AZURE_CLIENT_CERTIFICATE_PATH`, PEM or PKCS#12) is unusable.
//! The text names the file and the cause, never its content or the password.

/// The file and what is wrong with it.
#[derive(Debug, derive_more::Display)]
#[display("AZURE_CLIENT_CERTIFICATE_PATH {path}: {problem}")]
pub struct CertificateFileError {
    pub path: String,
    pub problem: CertificateFileProblem,
}

#[derive(Debug, derive_more::Display)]
pub enum CertificateFileProblem {
    #[display("{_0}")]
    Unreadable(std::io::Error),
    #[display(
        "a PEM file, but AZURE_CLIENT_CERTIFICATE_PASSWORD is set; vaultgate reads PEM keys unencrypted only \
         (encrypted PEM keys are not supported): decrypt the key (openssl pkey) or use a PKCS#12 file, or unset the \
         password"
    )]
    PasswordForPem,
    #[display("neither a PEM nor a PKCS#12 (DER) file")]
    NeitherPemNorPkcs12,
    #[display("not a readable PEM file")]
    UnreadablePem,
    #[display("holds no PEM certificate")]
    NoPemCertificate,
    #[display("holds no unencrypted PEM private key (PRIVATE KEY or RSA PRIVATE KEY)")]
    NoPemPrivateKey,
    #[display("the private key is not RSA")]
    KeyNotRsa,
    #[display("the private key is not a usable RSA key")]
    KeyNotUsableRsa,
    #[display("no certificate in the file goes with the private key")]
    NoCertificateForKey,
    #[display("the PKCS#12 file holds no private key with its certificate")]
    Pkcs12NoKeyWithCertificate,
    #[display(
        "the PKCS#12 file has no MAC, so nothing proves it was not altered; export it with one (openssl pkcs12 \
         -export without -nomac)"
    )]
    Pkcs12WithoutMac,
    #[display(
        "the PKCS#12 file does not open with AZURE_CLIENT_CERTIFICATE_PASSWORD (wrong password, or the file needs one)"
    )]
    Pkcs12WrongPassword,
    /// The reader's words, which name the scheme, never the password.
    #[display("the PKCS#12 file's encryption is not supported ({_0})")]
    Pkcs12UnsupportedEncryption(p12_keystore::error::Error),
    /// der/x509 errors say what and where in the file, never the password.
    #[display("not a readable PKCS#12 file ({_0})")]
    Pkcs12Unreadable(p12_keystore::error::Error),
}

impl CertificateFileProblem {
    pub fn of(self, path: &str) -> CertificateFileError {
        CertificateFileError { path: path.to_owned(), problem: self }
    }
}

impl From<CertificateFileError> for super::CredentialError {
    fn from(error: CertificateFileError) -> Self {
        super::CredentialError::Misconfigured(error.to_string())
    }
}
