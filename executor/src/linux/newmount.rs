//! Mounts made with Linux's new mount API (fsopen(2), fsmount(2),
//! open_tree(2), move_mount(2)): a mount is made detached, known by its
//! descriptor (and so its id, [`super::identity`]) before it is attached,
//! then attached to a mount point held open: no path is resolved after the
//! mount point was opened beneath the jail's root, so no rename can
//! redirect the mount or hide it from its undo.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::mount::MsFlags;

use crate::error::{Error, Result};

// linux/mount.h
const FSOPEN_CLOEXEC: libc::c_uint = 0x1;
const FSCONFIG_SET_FLAG: libc::c_uint = 0;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const FSMOUNT_CLOEXEC: libc::c_uint = 0x1;
const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;
const MOUNT_ATTR_NODEV: u64 = 0x4;
const MOUNT_ATTR_NOEXEC: u64 = 0x8;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
const OPEN_TREE_CLONE: libc::c_uint = 1;

/// `struct mount_attr` of mount_setattr(2).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

fn c(text: &str) -> Result<CString> {
    CString::new(text)
        .map_err(|_| Error::Plan(format!("\"{}\" contains a NUL byte", text.escape_debug())))
}

/// A raw system call's descriptor, or the error.
fn owned(what: &str, fd: libc::c_long) -> Result<OwnedFd> {
    if fd < 0 {
        return Err(Error::os(what.to_string(), std::io::Error::last_os_error()));
    }
    // SAFETY: a descriptor the kernel just returned, owned from here on.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

fn check(what: &str, result: libc::c_long) -> Result<()> {
    if result < 0 {
        return Err(Error::os(what.to_string(), std::io::Error::last_os_error()));
    }
    Ok(())
}

/// MsFlags as mount attributes.
fn attributes(flags: MsFlags) -> u64 {
    [
        (MsFlags::MS_RDONLY, MOUNT_ATTR_RDONLY),
        (MsFlags::MS_NOSUID, MOUNT_ATTR_NOSUID),
        (MsFlags::MS_NODEV, MOUNT_ATTR_NODEV),
        (MsFlags::MS_NOEXEC, MOUNT_ATTR_NOEXEC),
    ]
    .iter()
    .filter(|(f, _)| flags.contains(*f))
    .fold(0, |all, (_, a)| all | a)
}

/// A new, detached filesystem of `fstype` from `source` with `data`
/// (comma-separated `key` or `key=value`).
pub fn filesystem(fstype: &str, source: &str, data: &str, flags: MsFlags) -> Result<OwnedFd> {
    let what = format!("mount {fstype}");
    let name = c(fstype)?;
    // SAFETY: fsopen(2) with a NUL-terminated name.
    let fs = owned(&what, unsafe {
        libc::syscall(libc::SYS_fsopen, name.as_ptr(), FSOPEN_CLOEXEC)
    })?;
    let set = |key: &str, value: Option<&str>| -> Result<()> {
        let key = c(key)?;
        let value = value.map(c).transpose()?;
        let (cmd, ptr) = match &value {
            Some(v) => (FSCONFIG_SET_STRING, v.as_ptr()),
            None => (FSCONFIG_SET_FLAG, std::ptr::null()),
        };
        // SAFETY: fsconfig(2) with NUL-terminated strings (or none).
        check(
            &format!("{what}: option {}", key.to_string_lossy()),
            unsafe {
                libc::syscall(
                    libc::SYS_fsconfig,
                    fs.as_raw_fd(),
                    cmd,
                    key.as_ptr(),
                    ptr,
                    0,
                )
            },
        )
    };
    set("source", Some(source))?;
    for option in data.split(',').filter(|o| !o.is_empty()) {
        let (key, value) = option
            .split_once('=')
            .map_or((option, None), |(k, v)| (k, Some(v)));
        set(key, value)?;
    }
    // SAFETY: fsconfig(2) with no key or value.
    check(&what, unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_char>(),
            0,
        )
    })?;
    // SAFETY: fsmount(2) on the configured context.
    owned(&what, unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            fs.as_raw_fd(),
            FSMOUNT_CLOEXEC,
            attributes(flags),
        )
    })
}

/// A detached copy of the mount at `source` (not of those below it, as
/// nullfs), with `flags` applied.
pub fn bind_of(source: &Path, flags: MsFlags) -> Result<OwnedFd> {
    let path = c(&source.to_string_lossy())?;
    clone_tree(
        libc::AT_FDCWD,
        &path,
        0,
        flags,
        &format!("bind {}", source.display()),
    )
}

/// The same of a source already open (beneath the jail's root).
pub fn bind_of_fd(source: &OwnedFd, flags: MsFlags, what: &str) -> Result<OwnedFd> {
    let empty = c("")?;
    clone_tree(
        source.as_raw_fd(),
        &empty,
        libc::AT_EMPTY_PATH as libc::c_uint,
        flags,
        what,
    )
}

fn clone_tree(
    dir: libc::c_int,
    path: &CString,
    extra: libc::c_uint,
    flags: MsFlags,
    what: &str,
) -> Result<OwnedFd> {
    let what = what.to_string();
    // SAFETY: open_tree(2) with a NUL-terminated path.
    let tree = owned(&what, unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            dir,
            path.as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint | extra,
        )
    })?;
    let set = attributes(flags);
    if set != 0 {
        let attr = MountAttr {
            attr_set: set,
            attr_clr: 0,
            propagation: 0,
            userns_fd: 0,
        };
        let empty = c("")?;
        // SAFETY: mount_setattr(2) on our descriptor with a valid struct.
        check(&what, unsafe {
            libc::syscall(
                libc::SYS_mount_setattr,
                tree.as_raw_fd(),
                empty.as_ptr(),
                libc::AT_EMPTY_PATH,
                &attr as *const MountAttr,
                std::mem::size_of::<MountAttr>(),
            )
        })?;
    }
    Ok(tree)
}

/// Attaches the detached mount `mount` on the mount point `at` (an open
/// descriptor).
pub fn attach(mount: &OwnedFd, at: &OwnedFd, what: &str) -> Result<()> {
    let empty = c("")?;
    // SAFETY: move_mount(2) between two descriptors of ours.
    check(what, unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mount.as_raw_fd(),
            empty.as_ptr(),
            at.as_raw_fd(),
            empty.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    })
}
