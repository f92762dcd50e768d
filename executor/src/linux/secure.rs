//! Paths inside a jail's root, resolved without following symbolic links
//! and without leaving the root: openat2(2) with `RESOLVE_BENEATH` and
//! `RESOLVE_NO_SYMLINKS`, one component at a time so that missing
//! directories can be created on the way. jail(8) refuses mount points
//! with a symbolic link below the jail's path (usr.sbin/jail/command.c
//! `check_path`); runj refuses them too, rather than resolving them inside
//! the root as runc does.

use std::os::fd::OwnedFd;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat2};
use nix::sys::stat::{Mode, mkdirat};

use crate::error::{Error, Result};
use crate::host::inside_components;

/// What to create when the path is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    Nothing,
    /// Directories all the way.
    Directory,
    /// Directories, then an empty file (a mount point for a file).
    File,
}

/// An `O_PATH` descriptor of `inside` (absolute, inside the jail) under
/// `root`.
pub fn open_beneath(root: &Path, inside: &str, create: Create) -> Result<OwnedFd> {
    let refuse = |why: String| Error::Plan(format!("{inside}: {why}"));
    let components = inside_components(inside)?;
    let mut dir = open(None, root, OFlag::O_DIRECTORY)
        .map_err(|e| Error::os(format!("open the jail's root {}", root.display()), e))?;
    for (n, name) in components.iter().enumerate() {
        let last = n + 1 == components.len();
        // Without O_DIRECTORY, so that a link is opened and seen as one.
        let flags = OFlag::empty();
        dir = match open(Some(&dir), Path::new(name), flags).and_then(refuse_link) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) if create != Create::Nothing => {
                make(&dir, name, last && create == Create::File)
                    .map_err(|e| Error::os(format!("{inside}: create {name}"), e))?;
                open(Some(&dir), Path::new(name), flags)
                    .map_err(|e| Error::os(format!("{inside}: open {name}"), e))?
            }
            Err(Errno::ELOOP) => {
                return Err(refuse(format!(
                    "\"{name}\" is a symbolic link; runj follows none below the jail's root"
                )));
            }
            Err(Errno::EXDEV) => return Err(refuse("the path leaves the jail's root".into())),
            Err(e) => return Err(Error::os(format!("{inside}: open {name}"), e)),
        };
    }
    Ok(dir)
}

/// With `O_PATH | O_NOFOLLOW` a final symbolic link is opened itself
/// (openat2(2)); it is refused like the others.
fn refuse_link(fd: OwnedFd) -> nix::Result<OwnedFd> {
    let stat = nix::sys::stat::fstat(&fd)?;
    if stat.st_mode & libc::S_IFMT == libc::S_IFLNK {
        Err(Errno::ELOOP)
    } else {
        Ok(fd)
    }
}

fn open(dir: Option<&OwnedFd>, path: &Path, extra: OFlag) -> nix::Result<OwnedFd> {
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW | extra)
        .resolve(
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_MAGICLINKS,
        );
    match dir {
        Some(dir) => openat2(dir, path, how),
        None => openat2(
            nix::fcntl::AT_FDCWD,
            path,
            how.resolve(ResolveFlag::empty()),
        ),
    }
}

fn make(dir: &OwnedFd, name: &str, file: bool) -> nix::Result<()> {
    if file {
        let how = OpenHow::new()
            .flags(
                OFlag::O_CREAT
                    | OFlag::O_EXCL
                    | OFlag::O_WRONLY
                    | OFlag::O_CLOEXEC
                    | OFlag::O_NOFOLLOW,
            )
            .mode(Mode::from_bits_truncate(0o644))
            .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS);
        openat2(dir, name, how).map(drop)
    } else {
        mkdirat(dir, name, Mode::from_bits_truncate(0o755))
    }
}

/// The path through which the kernel reaches an open descriptor; mount(2)
/// on it acts on exactly the file resolved, whatever the path's parts
/// become later.
pub fn proc_path(fd: &OwnedFd) -> String {
    use std::os::fd::AsRawFd;
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn missing_directories_and_files_are_created_inside() {
        let root = tempfile::tempdir().unwrap();
        open_beneath(root.path(), "/a/b/c", Create::Directory).unwrap();
        assert!(root.path().join("a/b/c").is_dir());
        open_beneath(root.path(), "/etc/resolv.conf", Create::File).unwrap();
        assert!(root.path().join("etc/resolv.conf").is_file());
        let err = open_beneath(root.path(), "/nope", Create::Nothing).unwrap_err();
        assert!(err.to_string().starts_with("/nope: open nope: "), "{err}");
    }

    #[test]
    fn symbolic_links_are_refused_wherever_they_point() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        symlink(outside.path(), root.path().join("escape")).unwrap();
        std::fs::create_dir(root.path().join("real")).unwrap();
        symlink("/real", root.path().join("inside")).unwrap();
        for path in ["/escape", "/escape/x", "/inside/x"] {
            let err = open_beneath(root.path(), path, Create::Directory)
                .map(|fd| format!("{path}: opened {fd:?}"))
                .unwrap_err();
            assert!(
                err.to_string().contains("is a symbolic link"),
                "{path}: {err}"
            );
        }
        assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
    }

    #[test]
    fn dot_dot_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let err = open_beneath(root.path(), "/a/../../etc", Create::Directory).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/a/../../etc: \"..\" is not allowed in a path inside the jail"
        );
        assert!(!root.path().join("a").exists());
    }
}
