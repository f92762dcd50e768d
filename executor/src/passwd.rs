//! Accounts for jail(8)'s commands: a user's ids, home, shell and groups.
//!
//! A user of the jail is read from the jail's own `/etc/passwd` and
//! `/etc/group`, parsed by runj before it enters the jail, never looked up
//! through the C library inside the jail's root: glibc's NSS would load
//! the jail's shared libraries into a root process (runc parses the
//! container's files itself for the same reason, opencontainers/runc
//! libcontainer/user). That is the Linux emulation's way. On FreeBSD runj
//! keeps jail(8)'s: the lookup happens after jail_attach(2), in the jail,
//! as usr.sbin/jail/command.c `run_command` does it (FreeBSD's libc is the
//! host's, already loaded; docs/security.md notes the difference).

#[cfg(target_os = "linux")]
use std::path::Path;
use std::path::PathBuf;

/// Who to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    Name(String),
    Uid(u32),
}

impl std::fmt::Display for Who {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Who::Name(n) => f.write_str(n),
            Who::Uid(u) => write!(f, "uid {u}"),
        }
    }
}

/// A user as a command runs as it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
    pub shell: PathBuf,
    /// The supplementary groups: the primary one and every group listing
    /// the user, as initgroups(3) sets them.
    pub groups: Vec<u32>,
}

/// The largest passwd or group file read.
#[cfg(target_os = "linux")]
const MAX_FILE: u64 = 8 << 20;

/// The account of `who` from the texts of a passwd(5) and a group(5)
/// file; `None` if the user is not there.
pub fn parse(passwd: &str, group: &str, who: &Who) -> Option<Account> {
    let fields = passwd
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| f.len() >= 7)
        .find(|f| match who {
            Who::Name(n) => f[0] == n,
            Who::Uid(u) => f[2].parse() == Ok(*u),
        })?;
    let (uid, gid) = (fields[2].parse().ok()?, fields[3].parse().ok()?);
    let name = fields[0].to_string();
    let mut groups = vec![gid];
    for g in group.lines().map(|l| l.split(':').collect::<Vec<_>>()) {
        let (Some(id), Some(members)) = (g.get(2).and_then(|i| i.parse().ok()), g.get(3)) else {
            continue;
        };
        if members.split(',').any(|m| m == name) && !groups.contains(&id) {
            groups.push(id);
        }
    }
    Some(Account {
        name,
        uid,
        gid,
        home: PathBuf::from(fields[5]),
        shell: PathBuf::from(if fields[6].is_empty() {
            "/bin/sh"
        } else {
            fields[6]
        }),
        groups,
    })
}

/// The account of `who` in the jail rooted at `root`, read from its own
/// files, none of whose path components below the root may be a
/// symbolic link.
#[cfg(target_os = "linux")]
pub fn in_jail(root: &Path, who: &Who) -> Result<Account, String> {
    let passwd = read_beneath(root, "/etc/passwd")?;
    let group = read_beneath(root, "/etc/group").unwrap_or_default();
    parse(&passwd, &group, who)
        .ok_or_else(|| format!("{who}: no such user in {}/etc/passwd", root.display()))
}

#[cfg(target_os = "linux")]
fn read_beneath(root: &Path, inside: &str) -> Result<String, String> {
    use crate::linux::secure::{Create, open_beneath, proc_path};
    use std::io::Read;
    let fd = open_beneath(root, inside, Create::Nothing).map_err(|e| e.to_string())?;
    let file = std::fs::File::open(proc_path(&fd)).map_err(|e| format!("{inside}: {e}"))?;
    if !file
        .metadata()
        .map_err(|e| format!("{inside}: {e}"))?
        .is_file()
    {
        return Err(format!("{inside}: not a regular file"));
    }
    let mut text = String::new();
    file.take(MAX_FILE)
        .read_to_string(&mut text)
        .map_err(|e| format!("{inside}: {e}"))?;
    Ok(text)
}

/// The account of `who` as the C library of the calling process sees it
/// (the host's, or on FreeBSD, after jail_attach(2), the jail's).
pub fn from_system(who: &Who) -> Result<Account, String> {
    use nix::unistd::{Uid, User, getgrouplist};
    let user = match who {
        Who::Name(n) => User::from_name(n),
        Who::Uid(u) => User::from_uid(Uid::from_raw(*u)),
    }
    .map_err(|e| format!("look up {who}: {}", e.desc()))?
    .ok_or_else(|| format!("{who}: no such user"))?;
    let name = std::ffi::CString::new(user.name.as_bytes()).map_err(|_| "user name with NUL")?;
    let groups = getgrouplist(&name, user.gid)
        .map_err(|e| format!("groups of {}: {}", user.name, e.desc()))?;
    Ok(Account {
        name: user.name,
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
        home: user.dir,
        shell: user.shell,
        groups: groups.iter().map(|g| g.as_raw()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const PASSWD: &str = "# comment\nroot:x:0:0:root:/root:/bin/sh\nwww:*:80:80:World Wide Web Owner:/nonexistent:\nbad:x:y:1::/:/bin/sh\n";
    const GROUP: &str = "wheel:*:0:root\nwww:*:80:\nstaff:*:20:root,www\noperator:*:5:root\n";

    #[test]
    fn users_by_name_and_uid() {
        let www = parse(PASSWD, GROUP, &Who::Name("www".into())).unwrap();
        assert_eq!((www.uid, www.gid), (80, 80));
        assert_eq!(www.home, Path::new("/nonexistent"));
        assert_eq!(www.shell, Path::new("/bin/sh"), "an empty shell is sh");
        assert_eq!(www.groups, [80, 20]);
        let root = parse(PASSWD, GROUP, &Who::Uid(0)).unwrap();
        assert_eq!(root.name, "root");
        assert_eq!(root.groups, [0, 20, 5]);
        assert_eq!(parse(PASSWD, GROUP, &Who::Name("bad".into())), None);
        assert_eq!(parse(PASSWD, GROUP, &Who::Name("nobody".into())), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_jail_s_files_are_read_beneath_its_root_only() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        std::fs::write(root.path().join("etc/passwd"), PASSWD).unwrap();
        std::fs::write(root.path().join("etc/group"), GROUP).unwrap();
        assert_eq!(
            in_jail(root.path(), &Who::Name("www".into()))
                .unwrap()
                .groups,
            [80, 20]
        );
        std::fs::remove_file(root.path().join("etc/passwd")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.path().join("etc/passwd")).unwrap();
        let err = in_jail(root.path(), &Who::Name("root".into())).unwrap_err();
        assert!(err.contains("symbolic link"), "{err}");
    }
}
