//! Opening a file beneath a folder with no window between deciding where a name leads and
//! opening it: whatever is swapped in meanwhile (a link to `/etc`, a folder replaced by a
//! link), nothing outside the folder is ever opened.
//!
//! On Linux 5.6 and later, `openat2(2)` with `RESOLVE_BENEATH` makes the kernel resolve the
//! name, links included, and refuse any step that would leave the folder: links that stay
//! inside (relative ones, as the Secrets Store CSI driver writes) keep working. Elsewhere, and
//! on older kernels, the name is resolved, checked, opened with `O_NOFOLLOW`, and the opened
//! file compared with the checked one.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// What a name in the folder led to.
#[derive(Debug)]
pub enum Opened {
    File(File),
    /// A link that leaves the folder: never opened.
    Outside,
}

/// How files are opened, picked once per folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `openat2` with `RESOLVE_BENEATH`: the kernel keeps every step inside the folder.
    Beneath,
    /// Resolve, check, open with `O_NOFOLLOW`, compare device and inode.
    NoFollowAndCompare,
}

/// Flags for a secret file: read only, never block on a FIFO, never become a terminal.
const OPEN_FLAGS: i32 = libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOCTTY;

impl Method {
    /// The strongest method this system offers for `root`.
    pub fn for_folder(root: &Path) -> Method {
        #[cfg(target_os = "linux")]
        if linux::works(root) {
            return Method::Beneath;
        }
        let _ = root;
        Method::NoFollowAndCompare
    }

    /// Opens `name` (one path component) beneath `root` (a canonical folder path).
    pub fn open(self, root: &Path, name: &str) -> io::Result<Opened> {
        match self {
            #[cfg(target_os = "linux")]
            Method::Beneath => linux::open(root, name),
            _ => no_follow_and_compare(root, name),
        }
    }
}

/// The portable method: the race it leaves (an intermediate folder inside `root` replaced
/// by a link between the check and the open) needs write access to the folder itself.
fn no_follow_and_compare(root: &Path, name: &str) -> io::Result<Opened> {
    let target = fs::canonicalize(root.join(name))?;
    if !target.starts_with(root) {
        return Ok(Opened::Outside);
    }
    let checked = fs::symlink_metadata(&target)?;
    let file = OpenOptions::new().read(true).custom_flags(OPEN_FLAGS | libc::O_NOFOLLOW).open(&target)?;
    let opened = file.metadata()?;
    if (opened.dev(), opened.ino()) != (checked.dev(), checked.ino()) {
        return Err(io::Error::other("the file was replaced while it was opened"));
    }
    Ok(Opened::File(file))
}

#[cfg(target_os = "linux")]
mod linux {
    use std::ffi::CString;
    use std::fs::{self, File};
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    use super::{OPEN_FLAGS, Opened};

    /// Whether `openat2` is available here (Linux 5.6+, and not filtered by a seccomp profile).
    pub fn works(root: &Path) -> bool {
        File::open(root).and_then(|dir| openat2(&dir, Path::new("."), libc::RESOLVE_BENEATH)).is_ok()
    }

    pub fn open(root: &Path, name: &str) -> io::Result<Opened> {
        let dir = File::open(root)?;
        match openat2(&dir, Path::new(name), libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS) {
            Ok(file) => Ok(Opened::File(file)),
            // An absolute link, or one through `..`: find where it leads; if that is inside,
            // open exactly that path with no link allowed anywhere on it, so a swap in the
            // meantime makes the open fail instead of leading elsewhere.
            Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
                let target = fs::canonicalize(root.join(name))?;
                let Ok(inside) = target.strip_prefix(root) else { return Ok(Opened::Outside) };
                let strict = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS;
                openat2(&dir, inside, strict).map(Opened::File)
            }
            Err(e) => Err(e),
        }
    }

    /// The kernel's `struct open_how` (linux/openat2.h); libc's is not constructible.
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }

    fn openat2(dir: &File, path: &Path, resolve: u64) -> io::Result<File> {
        let path = CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
        let how = OpenHow { flags: OPEN_FLAGS as u64, mode: 0, resolve };
        // SAFETY: `dir` is an open descriptor, `path` a NUL-terminated string and `how` has
        // the kernel's `open_how` layout, its size passed along; all outlive the call.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                path.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel just returned this descriptor to us; nothing else owns it.
        Ok(unsafe { File::from_raw_fd(fd as i32) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn methods(root: &Path) -> Vec<Method> {
        let mut methods = vec![Method::NoFollowAndCompare];
        if Method::for_folder(root) == Method::Beneath {
            methods.push(Method::Beneath);
        }
        methods
    }

    fn read(method: Method, root: &Path, name: &str) -> Option<String> {
        match method.open(root, name).unwrap() {
            Opened::File(file) => Some(io::read_to_string(file).unwrap()),
            Opened::Outside => None,
        }
    }

    #[test]
    fn links_that_stay_inside_are_followed_and_links_that_leave_are_not() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("stolen"), "outside").unwrap();
        let folder = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(folder.path()).unwrap();
        // The CSI driver's layout: name -> ..data/name, ..data -> ..<timestamp>/ (relative links).
        fs::create_dir(root.join("..2024_01_01")).unwrap();
        fs::write(root.join("..2024_01_01/csi"), "inside").unwrap();
        std::os::unix::fs::symlink("..2024_01_01", root.join("..data")).unwrap();
        std::os::unix::fs::symlink("..data/csi", root.join("csi")).unwrap();
        std::os::unix::fs::symlink(root.join("csi"), root.join("absolute-inside")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("stolen"), root.join("absolute-outside")).unwrap();
        std::os::unix::fs::symlink("../stolen", root.join("dotdot")).unwrap();
        for method in methods(&root) {
            assert_eq!(read(method, &root, "csi").as_deref(), Some("inside"), "{method:?}");
            assert_eq!(read(method, &root, "absolute-inside").as_deref(), Some("inside"), "{method:?}");
            assert_eq!(read(method, &root, "absolute-outside"), None, "{method:?}");
            assert!(!matches!(method.open(&root, "dotdot"), Ok(Opened::File(_))), "{method:?}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_uses_openat2() {
        let folder = tempfile::tempdir().unwrap();
        assert_eq!(Method::for_folder(folder.path()), Method::Beneath, "this kernel has openat2 (5.6+)");
    }
}
