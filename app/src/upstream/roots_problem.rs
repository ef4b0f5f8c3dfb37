//! Why the roots `SSL_CERT_FILE` or `SSL_CERT_DIR` name cannot be trusted: the operator meant
//! to trust something, so start-up stops rather than meeting it later as failed calls.

use std::path::PathBuf;

#[derive(Debug, derive_more::Display)]
pub enum RootsProblem {
    /// rustls-native-certs' words: what it could not open or parse, and where.
    #[display("SSL_CERT_FILE: {}: {error}", file.display())]
    FileUnreadable { file: PathBuf, error: rustls_native_certs::Error },
    #[display("SSL_CERT_FILE: {} holds no PEM certificate", _0.display())]
    FileWithoutCertificate(PathBuf),
    #[display("SSL_CERT_DIR: no readable PEM certificate in {}", listed(_0))]
    DirsWithoutCertificate(Vec<PathBuf>),
    /// `sources` names the variables and their files, as the roots' summary does.
    #[display("{sources}: no certificate rustls can use as a root")]
    NoUsableRoot { sources: String },
}

fn listed(dirs: &[PathBuf]) -> String {
    dirs.iter().map(|dir| dir.display().to_string()).collect::<Vec<_>>().join(", ")
}
