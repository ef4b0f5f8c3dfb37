//! Secrets from a folder, one file per secret (the way the Kubernetes Secrets Store CSI
//! driver mounts Key Vault secrets). Nothing outside the folder is ever read: files are opened
//! beneath it (`beneath`). Names are case-insensitive, as in Key Vault: a secret is the one
//! file whose name matches in any casing, and it answers with that file's name.

mod beneath;

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::future::LocalBoxFuture;

use self::beneath::{Method, Opened};
use super::catalog::{ListError, SecretItem};
use super::name::is_valid;
use super::{
    Secret, SecretAttributes, SecretName, SecretProperties, SecretStore, SecretValue, SecretVersion, StoreError,
};

/// Key Vault's own limit on a secret value is 25 KiB; larger files are not secrets.
const MAX_SECRET_BYTES: u64 = 25 * 1024;

pub struct DirStore {
    folder: Arc<Folder>,
}

struct Folder {
    /// Canonical (absolute, symlinks resolved), so containment checks are exact.
    root: PathBuf,
    method: Method,
}

impl DirStore {
    /// Opens the folder; two files whose names differ only in case are an error (Key Vault
    /// could not hold both, and which one a caller gets must not depend on the request).
    pub fn open(root: &Path) -> io::Result<DirStore> {
        let root = fs::canonicalize(root)
            .map_err(|e| io::Error::new(e.kind(), format!("SECRETS_DIR {}: {e}", root.display())))?;
        if !root.is_dir() {
            return Err(io::Error::other(format!("SECRETS_DIR {}: not a folder", root.display())));
        }
        let names = secret_names(&root)
            .map_err(|e| io::Error::new(e.kind(), format!("SECRETS_DIR {}: {e}", root.display())))?;
        if let Some(clash) = case_clashes(&names).first() {
            return Err(io::Error::other(format!(
                "SECRETS_DIR {}: {} differ only in case; secret names are case-insensitive, keep one of them",
                root.display(),
                clash.join(" and ")
            )));
        }
        let method = Method::for_folder(&root);
        if method != Method::Beneath {
            log::warn!(
                "openat2 is not available: files in {} are opened with O_NOFOLLOW and checked after opening",
                root.display()
            );
        }
        Ok(DirStore { folder: Arc::new(Folder { root, method }) })
    }

    pub fn root(&self) -> &Path {
        &self.folder.root
    }
}

impl SecretStore for DirStore {
    fn get<'a>(
        &'a self,
        name: &'a SecretName,
        version: Option<&'a SecretVersion>,
    ) -> LocalBoxFuture<'a, Result<Arc<Secret>, StoreError>> {
        let folder = self.folder.clone();
        let name = name.clone();
        let version = version.cloned();
        Box::pin(async move {
            // File reads block: keep them off the async workers.
            actix_web::web::block(move || folder.read(&name, version.as_ref()))
                .await
                .map_err(|e| StoreError::unavailable(format!("blocking read failed: {e}")))?
                .map(Arc::new)
        })
    }

    fn list(&self) -> LocalBoxFuture<'_, Result<Vec<SecretItem>, ListError>> {
        let folder = self.folder.clone();
        Box::pin(async move {
            actix_web::web::block(move || folder.list())
                .await
                .map_err(|e| StoreError::unavailable(format!("blocking list failed: {e}")))?
        })
    }

    fn versions<'a>(&'a self, name: &'a SecretName) -> LocalBoxFuture<'a, Result<Vec<SecretItem>, ListError>> {
        let folder = self.folder.clone();
        let name = name.clone();
        Box::pin(async move {
            actix_web::web::block(move || folder.versions(&name))
                .await
                .map_err(|e| StoreError::unavailable(format!("blocking read failed: {e}")))?
        })
    }

    fn probe(&self) -> LocalBoxFuture<'_, Result<(), StoreError>> {
        let root = self.root();
        let result =
            fs::read_dir(root).map(|_| ()).map_err(|e| StoreError::unavailable(format!("{}: {e}", root.display())));
        Box::pin(std::future::ready(result))
    }

    fn kind(&self) -> &'static str {
        "directory"
    }
}

impl Folder {
    fn read(&self, name: &SecretName, version: Option<&SecretVersion>) -> Result<Secret, StoreError> {
        let stored = self.stored_name(name)?;
        let file = match self.method.open(&self.root, &stored) {
            Ok(Opened::File(file)) => file,
            Ok(Opened::Outside) => {
                log::warn!("secret {stored} links outside SECRETS_DIR; refused");
                return Err(StoreError::NotFound);
            }
            Err(e) => return Err(io_error(&stored, e)),
        };
        let metadata = file.metadata().map_err(|e| io_error(&stored, e))?;
        if !metadata.is_file() {
            return Err(StoreError::NotFound);
        }
        let mut bytes = Vec::new();
        file.take(MAX_SECRET_BYTES + 1).read_to_end(&mut bytes).map_err(|e| io_error(&stored, e))?;
        if bytes.len() as u64 > MAX_SECRET_BYTES {
            return Err(StoreError::unusable(format!("{stored}: larger than {MAX_SECRET_BYTES} bytes")));
        }
        let current = content_version(&bytes);
        if version.is_some_and(|v| v.as_str() != current) {
            return Err(StoreError::NotFound);
        }
        let value = String::from_utf8(bytes).map_err(|_| StoreError::unusable(format!("{stored}: not UTF-8 text")))?;
        Ok(Secret {
            name: stored,
            value: SecretValue::new(value),
            version: current,
            content_type: None,
            expires_at: None,
            validity: None,
            properties: SecretProperties { attributes: file_attributes(&metadata), ..SecretProperties::default() },
        })
    }

    /// A file's one version: the current one, as a read answers it.
    fn versions(&self, name: &SecretName) -> Result<Vec<SecretItem>, ListError> {
        let secret = self.read(name, None)?;
        Ok(vec![SecretItem {
            name: secret.name,
            version: Some(secret.version),
            content_type: None,
            properties: secret.properties,
        }])
    }

    /// The files a read would serve, with their times: each opened as a read opens it, so a
    /// link leading outside the folder or a sub-folder is not listed.
    fn list(&self) -> Result<Vec<SecretItem>, ListError> {
        let names = secret_names(&self.root).map_err(|e| match e.kind() {
            io::ErrorKind::PermissionDenied => ListError::Forbidden(format!("SECRETS_DIR: {e}")),
            _ => ListError::Failed(StoreError::unavailable(format!("SECRETS_DIR: {e}"))),
        })?;
        let mut items = Vec::new();
        for name in names {
            let Ok(Opened::File(file)) = self.method.open(&self.root, &name) else { continue };
            let Ok(metadata) = file.metadata() else { continue };
            if !metadata.is_file() {
                continue;
            }
            let properties = SecretProperties { attributes: file_attributes(&metadata), ..SecretProperties::default() };
            items.push(SecretItem { name, properties, ..SecretItem::default() });
        }
        Ok(items)
    }

    /// The name of the one file that names this secret, in any casing.
    fn stored_name(&self, name: &SecretName) -> Result<String, StoreError> {
        let names = secret_names(&self.root).map_err(|e| io_error(name.as_str(), e))?;
        let mut matching = names.into_iter().filter(|stored| name.names(stored));
        match (matching.next(), matching.next()) {
            (None, _) => Err(StoreError::NotFound),
            (Some(stored), None) => Ok(stored),
            // Added since start-up (where it is refused): answering either would be a guess.
            (Some(one), Some(other)) => {
                Err(StoreError::unusable(format!("{one} and {other} differ only in case; keep one of them")))
            }
        }
    }
}

/// What a file tells of a secret: enabled, its times; deleting it cannot be undone.
fn file_attributes(metadata: &fs::Metadata) -> SecretAttributes {
    let seconds = |time: io::Result<std::time::SystemTime>| {
        time.ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_secs() as i64)
    };
    let updated = seconds(metadata.modified());
    SecretAttributes {
        enabled: Some(true),
        created: seconds(metadata.created()).or(updated),
        updated,
        recovery_level: Some("Purgeable".to_owned()),
        ..SecretAttributes::default()
    }
}

/// The folder's entries whose names are secret names (the CSI driver's `..data` and other
/// dot entries are not).
fn secret_names(root: &Path) -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(root)? {
        if let Some(name) = entry?.file_name().to_str().filter(|name| is_valid(name)) {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

/// Groups of names that differ only in case, each sorted.
fn case_clashes(names: &[String]) -> Vec<Vec<String>> {
    let mut by_key: HashMap<String, Vec<String>> = HashMap::new();
    for name in names {
        by_key.entry(name.to_ascii_lowercase()).or_default().push(name.clone());
    }
    let mut clashes: Vec<Vec<String>> = by_key.into_values().filter(|group| group.len() > 1).collect();
    clashes.iter_mut().for_each(|group| group.sort());
    clashes.sort();
    clashes
}

/// A failed file operation: gone is not found, forbidden is refused, the rest is transient.
fn io_error(name: &str, error: io::Error) -> StoreError {
    match error.kind() {
        io::ErrorKind::NotFound => StoreError::NotFound,
        io::ErrorKind::PermissionDenied => StoreError::refused(format!("{name}: {error}")),
        _ => StoreError::unavailable(format!("{name}: {error}")),
    }
}

/// A folder has no versions, so a secret's version is derived from its content: the first
/// 128 bits of its SHA-256, in Key Vault's 32-hex-digit form. It changes when the file does.
fn content_version(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(files: &[(&str, &str)]) -> (tempfile::TempDir, DirStore) {
        let dir = tempfile::tempdir().unwrap();
        for (name, value) in files {
            fs::write(dir.path().join(name), value).unwrap();
        }
        let store = DirStore::open(dir.path()).unwrap();
        (dir, store)
    }

    fn name(n: &str) -> SecretName {
        SecretName::parse(n).unwrap()
    }

    #[test]
    fn reads_a_secret_with_a_content_version() {
        let (_dir, store) = store_with(&[("demo", "hello")]);
        let secret = store.folder.read(&name("demo"), None).unwrap();
        assert_eq!(secret.value.expose(), "hello");
        assert_eq!(secret.version.len(), 32);
        let again = store.folder.read(&name("demo"), Some(&SecretVersion::parse(&secret.version).unwrap()));
        assert_eq!(again.unwrap().value.expose(), "hello");
        let other = SecretVersion::parse(&"0".repeat(32)).unwrap();
        assert_eq!(store.folder.read(&name("demo"), Some(&other)), Err(StoreError::NotFound));
    }

    #[test]
    fn missing_and_folder_entries_are_not_found() {
        let (dir, store) = store_with(&[]);
        fs::create_dir(dir.path().join("sub")).unwrap();
        assert_eq!(store.folder.read(&name("nope"), None), Err(StoreError::NotFound));
        assert_eq!(store.folder.read(&name("sub"), None), Err(StoreError::NotFound));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_may_not_leave_the_folder() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("stolen"), "nope").unwrap();
        let (dir, store) = store_with(&[("inner", "ok")]);
        std::os::unix::fs::symlink(outside.path().join("stolen"), dir.path().join("escape")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("inner"), dir.path().join("alias")).unwrap();
        assert_eq!(store.folder.read(&name("escape"), None), Err(StoreError::NotFound));
        assert_eq!(store.folder.read(&name("alias"), None).unwrap().value.expose(), "ok");
    }

    fn read(store: &DirStore, n: &str) -> Result<Secret, StoreError> {
        store.folder.read(&name(n), None)
    }

    /// The race the folder store must not lose: `target` flips between a regular file and a
    /// link to a file outside the folder, while it is read. No read may return the outside file.
    #[cfg(unix)]
    #[test]
    fn a_file_swapped_for_an_outside_link_mid_read_never_leaks() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("stolen"), "outside-content").unwrap();
        let (dir, store) = store_with(&[("target", "inside-content")]);
        let stop = Arc::new(AtomicBool::new(false));
        let swapper = {
            let (root, outside, stop) = (dir.path().to_owned(), outside.path().join("stolen"), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = fs::remove_file(root.join(".link"));
                    std::os::unix::fs::symlink(&outside, root.join(".link")).unwrap();
                    fs::rename(root.join(".link"), root.join("target")).unwrap();
                    fs::write(root.join(".file"), "inside-content").unwrap();
                    fs::rename(root.join(".file"), root.join("target")).unwrap();
                }
            })
        };
        let started = std::time::Instant::now();
        let mut inside = 0;
        while started.elapsed() < std::time::Duration::from_secs(3) {
            // Caught mid-swap, a read may be refused (not found, the file changed under the
            // open); what it must never do is answer with the outside file.
            if let Ok(secret) = read(&store, "target") {
                assert_eq!(secret.value.expose(), "inside-content", "a read left the folder");
                inside += 1;
            }
        }
        stop.store(true, Ordering::Relaxed);
        swapper.join().unwrap();
        assert!(inside > 0, "the regular file was read at least once");
    }

    #[cfg(unix)]
    #[test]
    fn lists_the_files_a_read_would_serve() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("stolen"), "nope").unwrap();
        let (dir, store) = store_with(&[("demo", "a"), ("Db-Password", "b"), (".hidden", "c"), ("not_a_name", "d")]);
        fs::create_dir(dir.path().join("sub")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("stolen"), dir.path().join("escape")).unwrap();
        let mut names: Vec<String> = store.folder.list().unwrap().into_iter().map(|item| item.name).collect();
        names.sort();
        assert_eq!(names, ["Db-Password", "demo"]);
        let item = store.folder.list().unwrap().into_iter().find(|item| item.name == "demo").unwrap();
        assert_eq!(item.properties.attributes.enabled, Some(true));
        assert!(item.properties.attributes.updated.is_some_and(|t| t > 1_600_000_000), "{item:?}");
    }

    #[test]
    fn secret_values_never_show_in_debug_output() {
        let (_dir, store) = store_with(&[("demo", "hunter2")]);
        let secret = store.folder.read(&name("demo"), None).unwrap();
        assert!(!format!("{secret:?}").contains("hunter2"));
    }
}
