//! FreeBSD filesystems as Linux mounts, for the emulation: nullfs is a
//! (non-recursive, as nullfs shows no submounts) bind mount, tmpfs is
//! tmpfs, procfs and linprocfs are proc, linsysfs is sysfs, and devfs is a
//! minimal /dev (a tmpfs with the host's null, zero, full, random, urandom
//! and tty bound in, and the fd links), close to devfs ruleset 4
//! (`devfsrules_jail`). Every mount point is resolved inside the jail's
//! root by [`super::secure`], and the mount made through the resolved
//! descriptor.

use std::os::fd::OwnedFd;
use std::path::Path;

use std::os::unix::fs::OpenOptionsExt;

use nix::fcntl::OFlag;
use nix::mount::{MntFlags, MsFlags, umount2};
use nix::sys::stat::Mode;

use super::newmount;
use super::secure::{Create, open_beneath, proc_path};
use crate::error::{Error, Result};
use crate::host::MountPoint;

/// The host devices a minimal /dev holds.
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];
/// The links of fdescfs-less /dev, as on Linux.
const LINKS: &[(&str, &str)] = &[
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
];

/// Mounts one filesystem; returns the new mount's id
/// ([`super::identity`]), `None` when nothing was mounted.
pub fn mount_point(m: &MountPoint) -> Result<Option<u64>> {
    let (flags, data) = options(m)?;
    let made = match m.fstype.as_str() {
        "nullfs" => bind(m, flags)?,
        "tmpfs" => fresh(m, "tmpfs", flags, &data)?,
        "procfs" | "linprocfs" => fresh(m, "proc", flags, &data)?,
        "linsysfs" => fresh(m, "sysfs", flags, &data)?,
        "devfs" => devfs(m, flags)?,
        // The emulated devfs's /dev/fd is the link to the process's
        // descriptors that fdescfs shows on FreeBSD.
        "fdescfs" if fdescfs_provided(m) => return Ok(None),
        other => {
            return Err(Error::Unsupported(format!(
                "mount of {}: the Linux backend has no emulation of {other}",
                m.destination
            )));
        }
    };
    super::identity::mount_id(&made).map(Some)
}

/// Whether `m` is fdescfs on `/dev/fd` of an emulated devfs, whose link
/// is there already.
fn fdescfs_provided(m: &MountPoint) -> bool {
    m.destination.trim_end_matches('/') == "/dev/fd"
        && std::fs::symlink_metadata(m.root.join("dev/fd")).is_ok_and(|meta| meta.is_symlink())
        && std::fs::read_link(m.root.join("dev/fd"))
            .is_ok_and(|to| to == Path::new("/proc/self/fd"))
}

/// Unmounts (lazily, with everything mounted below it).
pub fn unmount_point(m: &MountPoint) -> Result<()> {
    if m.fstype == "fdescfs" {
        // Nothing was mounted ([`fdescfs_provided`]); the devfs goes with it.
        return Ok(());
    }
    let fd = open_beneath(&m.root, &m.destination, Create::Nothing)?;
    umount2(proc_path(&fd).as_str(), MntFlags::MNT_DETACH)
        .map_err(|e| Error::os(format!("umount {}", m.target().display()), e))
}

/// Flags and filesystem data from fstab-style options.
fn options(m: &MountPoint) -> Result<(MsFlags, String)> {
    let mut flags = MsFlags::empty();
    let mut data = Vec::new();
    for option in &m.options {
        let (key, value) = option
            .split_once('=')
            .map_or((option.as_str(), None), |(k, v)| (k, Some(v)));
        match (key, m.fstype.as_str()) {
            ("ro" | "rdonly", _) => flags |= MsFlags::MS_RDONLY,
            ("rw", _) => flags.remove(MsFlags::MS_RDONLY),
            ("nosuid", _) => flags |= MsFlags::MS_NOSUID,
            ("noexec", _) => flags |= MsFlags::MS_NOEXEC,
            ("nodev", _) => flags |= MsFlags::MS_NODEV,
            ("ruleset", "devfs") => {}
            ("size" | "mode" | "uid" | "gid", "tmpfs") if value.is_some() => {
                data.push(option.clone())
            }
            ("inodes", "tmpfs") => data.push(format!("nr_inodes={}", value.unwrap_or_default())),
            _ => {
                return Err(Error::Unsupported(format!(
                    "mount of {}: option \"{option}\" of {} is not emulated on Linux",
                    m.destination, m.fstype
                )));
            }
        }
    }
    Ok((flags, data.join(",")))
}

/// A bind mount (nullfs) of the source on the mount point, made detached
/// and attached to the mount point opened beneath the root
/// ([`super::newmount`]); returns the new mount's descriptor.
fn bind(m: &MountPoint, flags: MsFlags) -> Result<OwnedFd> {
    let source = Path::new(&m.source);
    let meta = std::fs::metadata(source)
        .map_err(|e| Error::os(format!("nullfs source {}", m.source), e))?;
    let create = if meta.is_dir() {
        Create::Directory
    } else {
        Create::File
    };
    let at = open_beneath(&m.root, &m.destination, create)?;
    // A source inside the jail's root is the jail's: reached beneath the
    // root without following its links (an image's link must not lend the
    // jail a host directory).
    let made = match source.strip_prefix(&m.root) {
        Ok(inside) => {
            let inside = format!("/{}", inside.display());
            let fd = open_beneath(&m.root, &inside, Create::Nothing)?;
            newmount::bind_of_fd(&fd, flags, &m.to_string())?
        }
        Err(_) => newmount::bind_of(source, flags)?,
    };
    newmount::attach(&made, &at, &m.to_string())?;
    Ok(made)
}

/// A new filesystem on the mount point, made detached and attached to the
/// mount point opened beneath the root; returns the new mount's descriptor.
fn fresh(m: &MountPoint, fstype: &str, flags: MsFlags, data: &str) -> Result<OwnedFd> {
    let at = open_beneath(&m.root, &m.destination, Create::Directory)?;
    let made = newmount::filesystem(fstype, &m.source, data, flags)?;
    newmount::attach(&made, &at, &m.to_string())?;
    Ok(made)
}

/// A pseudo-terminal from the devpts instance at `<root>/dev/pts`, if the
/// jail has one: `None` when it has none. The multiplexer is opened
/// beneath the root without following links, the terminal through
/// TIOCGPTPEER (no path at all).
pub fn jail_pty(root: &Path) -> Option<std::io::Result<(OwnedFd, OwnedFd)>> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let ptmx = open_beneath(root, "/dev/pts/ptmx", Create::Nothing).ok()?;
    let open = || -> std::io::Result<(OwnedFd, OwnedFd)> {
        let master = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
            .open(proc_path(&ptmx))?;
        let unlock: libc::c_int = 0;
        // SAFETY: TIOCSPTLCK reads an int; TIOCGPTPEER returns a new
        // descriptor of the terminal, or -1.
        if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK as _, &unlock) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
        let slave = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER as _, flags) };
        if slave < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a descriptor just returned to us, owned from here on.
        Ok((OwnedFd::from(master), unsafe {
            OwnedFd::from_raw_fd(slave)
        }))
    };
    Some(open())
}

fn devfs(m: &MountPoint, flags: MsFlags) -> Result<OwnedFd> {
    let dev = fresh(
        m,
        "tmpfs",
        flags | MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        "mode=755",
    )?;
    let populate = || -> Result<()> {
        let what = |name: &str| format!("{}/{name}", m.target().display());
        for name in DEVICES {
            let node = nix::fcntl::openat(
                &dev,
                *name,
                OFlag::O_CREAT
                    | OFlag::O_EXCL
                    | OFlag::O_WRONLY
                    | OFlag::O_CLOEXEC
                    | OFlag::O_NOFOLLOW,
                Mode::from_bits_truncate(0o644),
            )
            .map_err(|e| Error::os(format!("create {}", what(name)), e))?;
            let device = newmount::bind_of(Path::new(&format!("/dev/{name}")), MsFlags::empty())?;
            newmount::attach(&device, &node, &what(name))?;
        }
        for (name, to) in LINKS {
            nix::unistd::symlinkat(*to, &dev, *name)
                .map_err(|e| Error::os(format!("create {}", what(name)), e))?;
        }
        // The jail's own ptys, as ruleset 4 shows a FreeBSD jail `pts/*`:
        // a devpts instance, its multiplexer at /dev/ptmx; /dev/shm as
        // Linux programs expect it.
        nix::sys::stat::mkdirat(&dev, "pts", Mode::from_bits_truncate(0o755))
            .map_err(|e| Error::os(format!("create {}", what("pts")), e))?;
        let pts_dir = nix::fcntl::openat(
            &dev,
            "pts",
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::os(format!("open {}", what("pts")), e))?;
        let pts = newmount::filesystem(
            "devpts",
            "devpts",
            "ptmxmode=0666,mode=0620,gid=5",
            MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        )?;
        newmount::attach(&pts, &pts_dir, &what("pts"))?;
        nix::unistd::symlinkat("pts/ptmx", &dev, "ptmx")
            .map_err(|e| Error::os(format!("create {}", what("ptmx")), e))?;
        nix::sys::stat::mkdirat(&dev, "shm", Mode::from_bits_truncate(0o1777))
            .map_err(|e| Error::os(format!("create {}", what("shm")), e))?;
        nix::sys::stat::fchmodat(
            &dev,
            "shm",
            Mode::from_bits_truncate(0o1777),
            nix::sys::stat::FchmodatFlags::NoFollowSymlink,
        )
        .map_err(|e| Error::os(format!("chmod {}", what("shm")), e))?;
        Ok(())
    };
    populate().inspect_err(|_| {
        let _ = umount2(proc_path(&dev).as_str(), MntFlags::MNT_DETACH);
    })?;
    Ok(dev)
}
