//! Why Azure Arc's key file was not read: the challenge named no file, or one outside the
//! agent's token directory, or the file is not a small regular text file. The text names the
//! file, never its content.

use std::path::PathBuf;

use super::CredentialError;

#[derive(Debug, derive_more::Display)]
pub enum ArcKeyProblem {
    #[display("Azure Arc: ProgramData is not set")]
    NoProgramData,
    #[display("Azure Arc: the agent's key directory is known only on Linux and Windows")]
    UnknownKeyDirectory,
    #[display("Azure Arc: the challenge is not `Basic realm=<key file>`")]
    NoRealm,
    #[display("Azure Arc: the challenge names {realm:?}, not a .key file in {}; not read", directory.display())]
    OutsideKeyDirectory { realm: String, directory: PathBuf },
    #[display("Azure Arc: {}: {error}", path.display())]
    Unreadable { path: PathBuf, error: std::io::Error },
    #[display("Azure Arc: {} is not a regular file", _0.display())]
    NotRegularFile(PathBuf),
    #[display("Azure Arc: {} holds {size} bytes, more than a key's {limit}", path.display())]
    SizeOverLimit { path: PathBuf, size: u64, limit: u64 },
    /// What was read went past the limit, whatever size the file system gave.
    #[display("Azure Arc: {} holds more than a key's {limit} bytes", path.display())]
    ReadOverLimit { path: PathBuf, limit: u64 },
    #[display("Azure Arc: {} is not UTF-8 text", _0.display())]
    NotText(PathBuf),
}

impl From<ArcKeyProblem> for CredentialError {
    fn from(problem: ArcKeyProblem) -> Self {
        CredentialError::Misconfigured(problem.to_string())
    }
}
