//! A private key file on disk: written only as a new file, never through a symbolic link, in a
//! folder only its owner may enter; read only when it is a regular file of this user that
//! nobody else may read or change.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// Creates `dir` (and any missing parent) for the owner alone. An existing folder is left as
/// it is: the key file's own checks are what protect the key.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes `bytes` to a file that must not exist yet (not even as a dangling link), readable
/// by its owner only.
pub fn write_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Reads a private key file, refusing a symbolic link, anything but a regular file, a file of
/// another user, and one that group or others may access. The checks look at the file opened,
/// so it cannot be swapped between check and read. The bytes are wiped when dropped.
pub fn read_private(path: &Path) -> io::Result<Zeroizing<Vec<u8>>> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    let mut file = options.open(path).map_err(|e| explain_open_error(path, e))?;
    let metadata = file.metadata()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid(2) has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        check_private(
            path,
            &FileFacts { regular: metadata.is_file(), mode: metadata.mode(), owner: metadata.uid() },
            me,
        )
        .map_err(|problem| io::Error::new(io::ErrorKind::PermissionDenied, problem))?;
    }
    // Room for the whole file, so no smaller copy is left behind, unwiped, by a reallocation.
    let mut bytes = Zeroizing::new(Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0)));
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn explain_open_error(path: &Path, error: io::Error) -> io::Error {
    #[cfg(unix)]
    if error.raw_os_error() == Some(libc::ELOOP) {
        return io::Error::new(io::ErrorKind::InvalidInput, PrivateKeyFileProblem::SymbolicLink(path.to_owned()));
    }
    let _ = path;
    error
}

/// What `check_private` looks at.
struct FileFacts {
    regular: bool,
    mode: u32,
    owner: u32,
}

fn check_private(path: &Path, file: &FileFacts, me: u32) -> Result<(), PrivateKeyFileProblem> {
    let path = path.to_owned();
    if !file.regular {
        return Err(PrivateKeyFileProblem::NotRegularFile(path));
    }
    if file.owner != me {
        return Err(PrivateKeyFileProblem::OwnedByOther { path, owner: file.owner, me });
    }
    if file.mode & 0o077 != 0 {
        return Err(PrivateKeyFileProblem::OpenToOthers { path, mode: file.mode & 0o777 });
    }
    Ok(())
}

/// Why a private key file is not read; the text tells what to do about it.
#[derive(Debug, PartialEq, Eq, derive_more::Display, derive_more::Error)]
pub enum PrivateKeyFileProblem {
    #[display("{} is a symbolic link; a private key must be a file of its own", _0.display())]
    SymbolicLink(#[error(not(source))] PathBuf),
    #[display("{} is not a regular file", _0.display())]
    NotRegularFile(#[error(not(source))] PathBuf),
    #[display(
        "{} is owned by uid {owner}, not by this user (uid {me}): whoever owns it can mint tokens; delete it to \
         generate a new one",
        path.display()
    )]
    OwnedByOther { path: PathBuf, owner: u32, me: u32 },
    #[display(
        "{0} is open to group or others (mode {mode:o}), who could read it and mint tokens or replace it; run \
         `chmod 600 {0}` or delete it to generate a new one",
        path.display()
    )]
    OpenToOthers { path: PathBuf, mode: u32 },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(regular: bool, mode: u32, owner: u32) -> Result<(), PrivateKeyFileProblem> {
        check_private(Path::new("/k"), &FileFacts { regular, mode, owner }, 1000)
    }

    #[test]
    fn only_an_owner_only_regular_file_of_this_user_passes() {
        assert_eq!(check(true, 0o100600, 1000), Ok(()));
        assert_eq!(check(true, 0o100400, 1000), Ok(()));
        for loose in [0o100640, 0o100604, 0o100620, 0o100602, 0o100610, 0o100666] {
            let refused = check(true, loose, 1000).unwrap_err().to_string();
            assert!(refused.contains("group or others") && refused.contains("chmod 600 /k"), "{loose:o}: {refused}");
        }
        let foreign = check(true, 0o100600, 0).unwrap_err().to_string();
        assert!(foreign.contains("owned by uid 0, not by this user (uid 1000)"), "{foreign}");
        assert!(check(false, 0o040700, 1000).unwrap_err().to_string().contains("not a regular file"));
    }

    #[cfg(unix)]
    #[test]
    fn a_new_file_is_never_written_over_or_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        write_new_private(&path, b"one").unwrap();
        assert_eq!(write_new_private(&path, b"two").unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        let target = dir.path().join("target");
        std::os::unix::fs::symlink(&target, dir.path().join("link")).unwrap();
        assert!(write_new_private(&dir.path().join("link"), b"three").is_err());
        assert!(!target.exists());
        assert_eq!(read_private(&path).unwrap().as_slice(), b"one");
    }

    #[cfg(unix)]
    #[test]
    fn the_key_read_is_wiped_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        write_new_private(&path, b"private key").unwrap();
        let read: zeroize::Zeroizing<Vec<u8>> = read_private(&path).unwrap();
        assert_eq!(read.as_slice(), b"private key");
    }
}
