//! Managed identity on Azure Arc-enabled servers (`IDENTITY_ENDPOINT` and `IMDS_ENDPOINT`,
//! no `IDENTITY_HEADER`): the agent's identity endpoint first answers 401 naming a key
//! file that only root (or the agent's group) can read; the caller proves itself by sending
//! the file's content back. The file is read only from the agent's token directory, with the
//! `.key` extension and at most 4096 bytes, as MSAL and the Azure SDKs check: the endpoint
//! must not be able to make vaultgate read and send any other file. The key is wiped when dropped.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use zeroize::Zeroizing;

use vaultgate_config::SettingProblem;
use vaultgate_config::secrets_settings::{CredentialSettings, CredentialSource};

use super::azure_arc_key_problem::ArcKeyProblem;
use super::{AccessToken, CredentialError, TenantRule, TokenRequest, answer, retry, user_assigned};
use crate::upstream::{self, url_for_logs};

pub const CHOSEN_BECAUSE: &str = "IDENTITY_ENDPOINT and IMDS_ENDPOINT are set, IDENTITY_HEADER is not (Azure Arc)";

/// `IDENTITY_ENDPOINT` and `IMDS_ENDPOINT` (App Service, asked before, has `IDENTITY_HEADER`).
/// Its identity is set in the server's configuration, not at runtime.
pub fn chosen(settings: &CredentialSettings, problems: &mut Vec<SettingProblem>) -> Option<CredentialSource> {
    let (Some(endpoint), Some(_)) = (&settings.identity_endpoint, &settings.arc_imds_endpoint) else {
        return None;
    };
    user_assigned::not_taken(settings, "Azure Arc", problems);
    Some(CredentialSource::AzureArc { endpoint: endpoint.clone() })
}

/// Its endpoint takes no tenant.
pub const TENANT_RULE: TenantRule<'static> = TenantRule::Ignored;

/// api-version of MSAL and of Microsoft's Arc documentation.
const API_VERSION: &str = "2020-06-01";
/// The largest key file read.
const MAX_KEY_BYTES: u64 = 4096;

/// Where the agent writes its key files.
fn key_directory() -> Result<PathBuf, ArcKeyProblem> {
    if cfg!(target_os = "linux") {
        Ok(PathBuf::from("/var/opt/azcmagent/tokens"))
    } else if cfg!(windows) {
        let data = std::env::var_os("ProgramData").ok_or(ArcKeyProblem::NoProgramData)?;
        Ok(Path::new(&data).join("AzureConnectedMachineAgent").join("Tokens"))
    } else {
        Err(ArcKeyProblem::UnknownKeyDirectory)
    }
}

pub async fn fetch(endpoint: &str, request: &TokenRequest, timeout: Duration) -> Result<AccessToken, CredentialError> {
    let query = [("api-version", API_VERSION), ("resource", request.resource())];
    let challenge = || {
        Ok(upstream::client().get(endpoint).query(&query).map_err(misconfigured)?.insert_header(("Metadata", "true")))
    };
    let answer = retry::OTHER_MANAGED_IDENTITY.send(challenge, None, timeout).await?;
    if answer.status != 401 {
        let detail = format!(
            "{}: answered {} where Azure Arc's agent challenges with 401{}",
            url_for_logs(endpoint),
            answer.status,
            answer::describe_error(&answer.body)
        );
        return Err(CredentialError::from_status(answer.status, detail));
    }
    let header = answer.headers.get("WWW-Authenticate").and_then(|value| value.to_str().ok()).ok_or_else(|| {
        CredentialError::Unusable(format!("{}: the 401 has no WWW-Authenticate header", url_for_logs(endpoint)))
    })?;
    let key = key_directory().and_then(|directory| key_path(header, &directory)).and_then(|path| read_key(&path))?;
    let authorization = Zeroizing::new(format!("Basic {}", key.as_str()));
    let proven = || {
        Ok(upstream::client()
            .get(endpoint)
            .query(&query)
            .map_err(misconfigured)?
            .insert_header(("Metadata", "true"))
            .insert_header(("Authorization", authorization.as_str())))
    };
    let answer = retry::OTHER_MANAGED_IDENTITY.send(proven, None, timeout).await?;
    answer::read(&answer, endpoint)
}

fn misconfigured(e: impl std::fmt::Display) -> CredentialError {
    CredentialError::Misconfigured(format!("IDENTITY_ENDPOINT: {e}"))
}

/// The key file a `Basic realm=<path>` challenge names, if it is a `.key` file directly in
/// `directory`.
fn key_path(header: &str, directory: &Path) -> Result<PathBuf, ArcKeyProblem> {
    let realm = header.split_once("Basic realm=").map(|(_, realm)| realm.trim()).ok_or(ArcKeyProblem::NoRealm)?;
    let path = PathBuf::from(realm);
    let in_directory = path.parent() == Some(directory);
    let is_key = path.extension().is_some_and(|ext| ext == "key");
    if !in_directory || !is_key {
        return Err(ArcKeyProblem::OutsideKeyDirectory { realm: realm.to_owned(), directory: directory.to_owned() });
    }
    Ok(path)
}

/// Opens the file once and judges what was opened: a regular file, of at most the limit by its
/// size and by what is read through the same handle (a size may be wrong, as procfs's 0, or
/// grow), so nothing can be swapped in or added between the check and the read.
fn read_key(path: &Path) -> Result<Zeroizing<String>, ArcKeyProblem> {
    let failed = |error| ArcKeyProblem::Unreadable { path: path.to_owned(), error };
    let file = std::fs::File::open(path).map_err(failed)?;
    let metadata = file.metadata().map_err(failed)?;
    if !metadata.is_file() {
        return Err(ArcKeyProblem::NotRegularFile(path.to_owned()));
    }
    let size = metadata.len();
    if size > MAX_KEY_BYTES {
        return Err(ArcKeyProblem::SizeOverLimit { path: path.to_owned(), size, limit: MAX_KEY_BYTES });
    }
    // Room for one byte past the limit: the read never reallocates, leaving no unwiped copy.
    let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_KEY_BYTES as usize + 1));
    file.take(MAX_KEY_BYTES + 1).read_to_end(&mut bytes).map_err(failed)?;
    if bytes.len() as u64 > MAX_KEY_BYTES {
        return Err(ArcKeyProblem::ReadOverLimit { path: path.to_owned(), limit: MAX_KEY_BYTES });
    }
    let key = std::str::from_utf8(&bytes).map_err(|_| ArcKeyProblem::NotText(path.to_owned()))?;
    Ok(Zeroizing::new(key.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_key_file_directly_in_the_agents_directory_is_read() {
        let dir = Path::new("/var/opt/azcmagent/tokens");
        let named = |header: &str| key_path(header, dir);
        assert_eq!(named("Basic realm=/var/opt/azcmagent/tokens/3c1ac7ba.key").unwrap(), dir.join("3c1ac7ba.key"));
        for header in [
            "Basic realm=/etc/shadow",
            "Basic realm=/var/opt/azcmagent/tokens/notes.txt",
            "Basic realm=/var/opt/azcmagent/tokens/../secrets/x.key",
            "Basic realm=/var/opt/azcmagent/tokens/sub/x.key",
            "Basic realm=tokens/x.key",
            "Bearer authorization_uri=x",
        ] {
            assert!(named(header).is_err(), "{header}");
        }
    }

    #[test]
    fn a_key_file_larger_than_4096_bytes_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("a.key");
        std::fs::write(&small, "k".repeat(4096)).unwrap();
        assert_eq!(read_key(&small).unwrap().len(), 4096);
        let large = dir.path().join("b.key");
        std::fs::write(&large, "k".repeat(4097)).unwrap();
        assert!(read_key(&large).unwrap_err().to_string().contains("4097 bytes"));
    }

    #[test]
    fn the_key_read_is_wiped_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.key");
        std::fs::write(&path, "9c2a7e4f").unwrap();
        let key: zeroize::Zeroizing<String> = read_key(&path).unwrap();
        assert_eq!(key.as_str(), "9c2a7e4f");
    }

    /// procfs files say 0 bytes and hold more: only what is read counts.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_key_file_is_read_no_further_than_the_limit_whatever_its_size_says() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("maps.key");
        std::os::unix::fs::symlink("/proc/self/smaps", &path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "the file system does not tell its size");
        assert_eq!(
            read_key(&path).unwrap_err().to_string(),
            format!("Azure Arc: {} holds more than a key's 4096 bytes", path.display())
        );
    }

    #[test]
    fn only_a_regular_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("folder.key");
        std::fs::create_dir(&path).unwrap();
        assert_eq!(
            read_key(&path).unwrap_err().to_string(),
            format!("Azure Arc: {} is not a regular file", path.display())
        );
    }
}
