//! What a mount is known by wherever its mount point goes: its mount id.
//! A mount point renamed (or replaced by a link) after the mount was made
//! must not strand the mount (CVE-2021-30465's class): undoing a mount
//! finds it by id in /proc/self/mountinfo, opens its current mount point
//! without following links, checks that the id is still the one there,
//! and unmounts through the descriptor.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, umount2};

use super::secure::proc_path;
use crate::error::{Error, Result};

/// The id of the mount the file `fd` is on (`mnt_id` of its fdinfo).
pub fn mount_id(fd: &OwnedFd) -> Result<u64> {
    let info = format!("/proc/self/fdinfo/{}", fd.as_raw_fd());
    let text = std::fs::read_to_string(&info).map_err(|e| Error::os(format!("read {info}"), e))?;
    text.lines()
        .find_map(|l| l.strip_prefix("mnt_id:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| Error::Plan(format!("{info}: no mnt_id")))
}

/// Where the mount `id` is mounted now, if it still is.
fn mount_point_of(id: u64) -> Result<Option<PathBuf>> {
    let text = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| Error::os("read /proc/self/mountinfo", e))?;
    Ok(text.lines().find_map(|line| {
        let mut fields = line.split(' ');
        let this: u64 = fields.next()?.parse().ok()?;
        let point = fields.nth(3)?;
        (this == id).then(|| PathBuf::from(runj_translator::fstab::unvis(point)))
    }))
}

/// Unmounts the mount `id` (with what is mounted below it) wherever it
/// is now; `false` when it is mounted nowhere any more.
pub fn unmount_by_id(id: u64) -> Result<bool> {
    // A mount point that moves between the lookup and the open is looked
    // up again; a few rounds outlast any but a deliberate loop.
    for _ in 0..100 {
        let Some(point) = mount_point_of(id)? else {
            return Ok(false);
        };
        let Ok(fd) = open_no_links(&point) else {
            continue;
        };
        if mount_id(&fd)? != id {
            continue;
        }
        umount2(proc_path(&fd).as_str(), MntFlags::MNT_DETACH)
            .map_err(|e| Error::os(format!("umount {}", point.display()), e))?;
        return Ok(true);
    }
    Err(Error::Plan(format!(
        "mount {id}: its mount point keeps moving; not unmounted"
    )))
}

/// An `O_PATH` descriptor of an absolute path, no component of which may
/// be a symbolic link.
fn open_no_links(path: &Path) -> nix::Result<OwnedFd> {
    use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat2};
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
        .resolve(ResolveFlag::RESOLVE_NO_SYMLINKS | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    openat2(nix::fcntl::AT_FDCWD, path, how)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(runj_translator::fstab::unvis(r"/a\040b/\134c"), r"/a b/\c");
    }

    #[test]
    fn the_root_s_mount_is_found_by_its_id() {
        let root = open_no_links(Path::new("/")).unwrap();
        let id = mount_id(&root).unwrap();
        assert_eq!(mount_point_of(id).unwrap(), Some(PathBuf::from("/")));
        assert_eq!(mount_point_of(u64::MAX).unwrap(), None);
    }
}
