//! The `freebsd` backend: jails on the FreeBSD kernel, made as jail(8)
//! makes them (freebsd/freebsd-src usr.sbin/jail).
//!
//! Real system calls (`sys`, compiled on FreeBSD only), on argument lists
//! built as libjail and mount(8) build them ([`encode`], compiled and
//! tested everywhere):
//! - jail_set(2) with `JAIL_CREATE` or `JAIL_UPDATE`, and jail_get(2) by
//!   name (lib/libjail/jail.c `jailparam_set`, `jailparam_get`); the
//!   parameters the catalog does not type are typed from the kernel's
//!   `security.jail.param` sysctls, as libjail's `jailparam_type` does;
//! - jail_remove(2); jail_attach(2) then chdir("/") to join a jail;
//! - nmount(2), as `mount -t TYPE -o OPTIONS SOURCE PATH` calls it
//!   (sbin/mount/mount_fs.c, sbin/mount_nullfs/mount_nullfs.c), and
//!   unmount(2) once statfs(2) shows a mount of the expected type there
//!   (usr.sbin/jail/command.c `check_path`);
//! - kill(2), and the `kern.proc.proc` sysctl for the processes whose
//!   `ki_jid` is the jail's (usr.sbin/jail/command.c `term_procs`).
//!
//! Through `/sbin/ifconfig`, run as jail(8) runs it (usr.sbin/jail/command.c
//! `run_command`): address aliases (`ifconfig IF inet ADDR … alias`,
//! `-alias` to remove) and vnet interfaces (`ifconfig IF vnet JID`,
//! `-vnet` to return).
//!
//! Mount points are resolved below the jail's path one component at a
//! time, a symbolic link there being refused, as jail(8)'s `check_path`
//! refuses it; missing ones are created, as the Linux backend creates
//! them. As with jail(8), the check and the mount are separate calls.

//! Why not the `jail` crate (fubarnetes/libjail-rs): it builds the jail_set
//! argument lists inside calls that compile only on FreeBSD, so the bytes
//! could not be tested on other systems, it has no nmount(2), and its
//! parameter types are its own rather than the catalog's. What it would
//! save is the few `libc` calls in `sys`.

pub mod encode;
#[cfg(target_os = "freebsd")]
pub mod sys;

#[cfg(target_os = "freebsd")]
use {
    crate::child::run_program,
    crate::error::{Context, Error, Result},
    crate::host::{
        Alias, Attach, Command, Host, JailRef, Jid, MountPoint, inside_components, jail_rule,
        jail_rule_filter, kill, run_placed, wire_by_command,
    },
    crate::journal::{Identity, Journal},
    crate::params::Param,
    crate::trace,
    crate::usage::Usage,
    encode::Operation,
    nix::errno::Errno,
    nix::fcntl::{AtFlags, OFlag, open, openat},
    nix::sys::stat::{Mode, SFlag, fstatat, mkdirat},
    runj_translator::bridge::Action,
    runj_translator::plan::ExecOptions,
    runj_translator::rctl::Rule,
    std::os::unix::fs::MetadataExt,
    std::path::{Path, PathBuf},
};

/// The FreeBSD system. The kernel keeps the jails; `registry` keeps the
/// journal of the mounts made ([`crate::journal`]).
#[derive(Debug)]
pub struct FreeBsdHost {
    #[cfg_attr(not(target_os = "freebsd"), allow(dead_code))]
    registry: std::path::PathBuf,
}

impl FreeBsdHost {
    /// A host whose mount journal is kept under `registry`.
    pub fn new(registry: impl Into<std::path::PathBuf>) -> Self {
        FreeBsdHost {
            registry: registry.into(),
        }
    }
}

/// What to make of a missing mount point.
#[cfg(target_os = "freebsd")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Make {
    Nothing,
    Directory,
    /// Directories, then an empty file (a nullfs mount of a file).
    File,
}

#[cfg(target_os = "freebsd")]
impl FreeBsdHost {
    /// As mount(8): on a directory (sbin/mount/getmntopts.c `checkpath`),
    /// except that nullfs mounts the source's real path on a mount point of
    /// the same kind, file or directory (sbin/mount_nullfs/mount_nullfs.c).
    /// Returns the new filesystem's fsid.
    fn nmount(m: &MountPoint) -> Result<[i32; 2]> {
        let (source, make) = if m.fstype == "nullfs" {
            let source = std::fs::canonicalize(&m.source)
                .context(|| format!("nullfs source {}", m.source))?;
            let kind = std::fs::metadata(&source)
                .context(|| format!("nullfs source {}", source.display()))?
                .file_type();
            let make = match (kind.is_dir(), kind.is_file()) {
                (true, _) => Make::Directory,
                (_, true) => Make::File,
                _ => {
                    return Err(Error::Plan(format!(
                        "nullfs source {}: must be either a file or directory",
                        source.display()
                    )));
                }
            };
            (source, make)
        } else {
            (PathBuf::from(&m.source), Make::Directory)
        };
        let fspath = Self::mount_point(m, make)?;
        let covered =
            std::fs::metadata(&fspath).context(|| format!("stat {}", fspath.display()))?;
        if covered.is_dir() != (make == Make::Directory) {
            let why = match make {
                Make::File => format!("must be same type as {} (file)", source.display()),
                _ => "not a directory".to_string(),
            };
            return Err(Error::Plan(format!("{}: {why}", fspath.display())));
        }
        let mut request = encode::nmount(&m.fstype, &fspath, &source, &m.options)?;
        sys::nmount(&mut request, &m.to_string())?;
        // nmount(2) takes a path: had a component been swapped since the
        // mount point was checked, the mount is elsewhere. The checked place
        // must now hold a mount of this type, or the creation fails (and is
        // unwound).
        let made = sys::mounted(&fspath)?;
        if made.on != fspath || made.fstype != m.fstype {
            return Err(Error::Plan(format!(
                "mount on {}: the mount point changed during the mount ({} of {} is there)",
                fspath.display(),
                made.on.display(),
                made.fstype
            )));
        }
        Ok(made.fsid)
    }

    /// As jail(8): only a mount of the expected type, at exactly the mount
    /// point (usr.sbin/jail/command.c `check_path`); no mount there at all
    /// is `EINVAL`, what unmount(2) says of it.
    fn unmount_at(m: &MountPoint) -> Result<()> {
        let path = Self::mount_point(m, Make::Nothing)?;
        let mounted = sys::mounted(&path)?;
        let identity = |p: &Path| {
            std::fs::metadata(p)
                .map(|meta| (meta.dev(), meta.ino()))
                .context(|| format!("stat {}", p.display()))
        };
        if identity(&path)? != identity(&mounted.on)? {
            return Err(Error::os(
                format!("umount {}: not a mount point", path.display()),
                std::io::Error::from_raw_os_error(libc::EINVAL),
            ));
        }
        if mounted.fstype != m.fstype {
            return Err(Error::Plan(format!(
                "umount {}: not a {} mount but {}",
                path.display(),
                m.fstype,
                mounted.fstype
            )));
        }
        sys::unmount(&path)
    }

    /// Runs `/sbin/ifconfig ARGS`.
    /// ifconfig(8) with the argv jail(8) runs it with.
    fn ifconfig(argv: Vec<String>) -> Result<()> {
        run_program("ifconfig", &argv, || Ok(()))
    }

    /// The host path of a mount point, none of whose components below the
    /// jail's root is a symbolic link; what is missing is made as `make`
    /// says.
    fn mount_point(m: &MountPoint, make: Make) -> Result<PathBuf> {
        let components = inside_components(&m.destination)?;
        let search = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let mut dir = open(&m.root, search, Mode::empty())
            .map_err(|e| Error::os(format!("open the jail's root {}", m.root.display()), e))?;
        let mut at = m.root.clone();
        for (n, name) in components.iter().enumerate() {
            at.push(name);
            let last = n + 1 == components.len();
            match fstatat(&dir, *name, AtFlags::AT_SYMLINK_NOFOLLOW) {
                Ok(stat)
                    if SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT
                        == SFlag::S_IFLNK =>
                {
                    return Err(Error::Plan(format!(
                        "{}: {} is a symbolic link",
                        m.destination,
                        at.display()
                    )));
                }
                Ok(_) => {}
                Err(Errno::ENOENT) if make != Make::Nothing => {
                    let made = if last && make == Make::File {
                        let create = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY;
                        openat(
                            &dir,
                            *name,
                            create | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                            Mode::from_bits_truncate(0o644),
                        )
                        .map(drop)
                    } else {
                        mkdirat(&dir, *name, Mode::from_bits_truncate(0o755))
                    };
                    made.map_err(|e| Error::os(format!("create {}", at.display()), e))?;
                }
                Err(e) => return Err(Error::os(at.display().to_string(), e)),
            }
            if !last {
                // O_NOFOLLOW: a link put there since the check is refused.
                dir = openat(&dir, *name, search | OFlag::O_NOFOLLOW, Mode::empty())
                    .map_err(|e| Error::os(format!("open {}", at.display()), e))?;
            }
        }
        Ok(at)
    }
}

/// Joins a jail: jail_attach(2), which changes the root, then chdir("/").
#[cfg(target_os = "freebsd")]
struct Attacher {
    jid: Jid,
}

#[cfg(target_os = "freebsd")]
impl Attach for Attacher {
    fn attach(&self) -> std::io::Result<()> {
        sys::jail_attach(self.jid)?;
        nix::unistd::chdir("/")?;
        Ok(())
    }
}

#[cfg(target_os = "freebsd")]
impl Host for FreeBsdHost {
    fn run(&mut self, command: &Command<'_>) -> Result<()> {
        run_placed(self, command)
    }

    fn add_alias(&mut self, alias: &Alias) -> Result<()> {
        Self::ifconfig(alias.ifconfig_argv(true))
    }

    fn remove_alias(&mut self, alias: &Alias) -> Result<()> {
        Self::ifconfig(alias.ifconfig_argv(false))
    }

    /// Journaled ([`crate::journal`]) with its fsid, so that undoing it
    /// finds it wherever its mount point has gone, also after a crash.
    fn mount(&mut self, m: &MountPoint) -> Result<()> {
        let _lock = crate::journal::lock(&self.registry)?;
        Journal::in_registry(&self.registry)
            .mount(m, || Self::nmount(m).map(|fsid| Some(Identity::Fsid(fsid))))
    }

    /// By its fsid when it got one, else as jail(8) does.
    fn unmount(&mut self, m: &MountPoint) -> Result<()> {
        let _lock = crate::journal::lock(&self.registry)?;
        Journal::in_registry(&self.registry).unmount(m, |id| match id {
            Some(Identity::Fsid(fsid)) => sys::unmount_fsid(fsid),
            _ => Self::unmount_at(m),
        })
    }

    fn create(&mut self, params: &[Param]) -> Result<Jid> {
        let mut request = encode::jail_set(Operation::Create, params, sys::param_type)?;
        sys::jail_set(&mut request)
    }

    fn update(&mut self, jid: Jid, params: &[Param]) -> Result<()> {
        let mut request = encode::jail_set(Operation::Update(jid), params, sys::param_type)?;
        sys::jail_set(&mut request).map(drop)
    }

    fn find(&mut self, name: &str) -> Result<Option<Jid>> {
        sys::jail_find(&mut encode::jail_get(name)?)
    }

    fn remove(&mut self, jid: Jid) -> Result<()> {
        sys::jail_remove(jid)
    }

    fn move_interface(&mut self, interface: &str, jail: &JailRef) -> Result<()> {
        Self::ifconfig(trace::vnet_argv(interface, true, &jail.designation))
    }

    fn return_interface(&mut self, interface: &str, jail: &JailRef) -> Result<()> {
        Self::ifconfig(trace::vnet_argv(interface, false, &jail.designation))
    }

    /// The command jail.conf shows for it, run as jail(8) runs it:
    /// ifconfig(8) and route(8) on the host, or in the jail. The bridge
    /// is made under the registry's lock, so that concurrent creates do
    /// not both find it missing.
    fn wire(&mut self, action: &Action, jail: &JailRef, options: &ExecOptions) -> Result<()> {
        let _lock = match action {
            Action::Bridge { .. } => Some(crate::journal::lock(&self.registry)?),
            _ => None,
        };
        wire_by_command(self, action, jail, options)
    }

    fn has_interface(&mut self, name: &str) -> bool {
        crate::host::interface_exists(name)
    }

    fn processes(&mut self, jid: Jid) -> Result<Vec<i32>> {
        sys::jail_processes(jid)
    }

    fn signal(&mut self, pid: i32, signal: i32) -> Result<()> {
        kill(pid, signal)
    }

    fn attacher(&mut self, jid: Jid) -> Result<Box<dyn Attach>> {
        Ok(Box::new(Attacher { jid }))
    }

    fn check_limits(&mut self) -> Result<()> {
        sys::racct_enabled()
    }

    fn add_rule(&mut self, jail: &JailRef, rule: &Rule) -> Result<()> {
        sys::rctl_add(&jail_rule(jail, rule)?)
    }

    fn remove_rule(&mut self, jail: &JailRef, rule: &Rule) -> Result<()> {
        sys::rctl_remove(&jail_rule_filter(jail, rule)?)
    }

    fn usage(&mut self, jail: &JailRef) -> Result<Usage> {
        let filter = format!("jail:{}:", jail.name);
        sys::rctl_usage(&filter).map(|text| Usage::from_racct(&text))
    }
}
