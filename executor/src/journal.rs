//! The journal of the mounts a backend has made (`<registry>/mounts.json`),
//! so that undoing a mount — rollback, `delete`, `delete --force` after a
//! crash — finds it by its identity (Linux's mount id, FreeBSD's fsid)
//! wherever its mount point has gone since (docs/security.md). A mount is
//! journaled before it is made and again with its identity once made; the
//! caller holds the registry's lock around each use.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::host::MountPoint;

/// What the system knows a mount by.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Identity {
    /// Linux: the mount id (`/proc/self/mountinfo`).
    MountId(u64),
    /// FreeBSD: the filesystem id (`f_fsid`), for unmount(2) `MNT_BYFSID`.
    Fsid([i32; 2]),
}

/// One journaled mount: where it was asked for, and its identity once made.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Entry {
    root: PathBuf,
    destination: String,
    fstype: String,
    id: Option<Identity>,
}

impl Entry {
    fn of(m: &MountPoint) -> Self {
        Entry {
            root: m.root.clone(),
            destination: m.destination.clone(),
            fstype: m.fstype.clone(),
            id: None,
        }
    }

    fn same_place(&self, m: &MountPoint) -> bool {
        (&self.root, self.destination.as_str(), self.fstype.as_str())
            == (&m.root, m.destination.as_str(), m.fstype.as_str())
    }
}

/// Locks a backend's registry (`<registry>/.lock`) for the caller's use
/// of it: its jails and its mount journal.
pub fn lock(registry: &Path) -> Result<nix::fcntl::Flock<std::fs::File>> {
    use nix::fcntl::{Flock, FlockArg};
    std::fs::create_dir_all(registry)
        .map_err(|e| Error::os(format!("create {}", registry.display()), e))?;
    let path = registry.join(".lock");
    let file = std::fs::File::create(&path)
        .map_err(|e| Error::os(format!("open {}", path.display()), e))?;
    Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| Error::os(format!("lock {}", path.display()), e))
}

/// The journal file of a registry.
#[derive(Debug, Clone)]
pub struct Journal {
    file: PathBuf,
}

impl Journal {
    pub fn in_registry(registry: &Path) -> Self {
        Journal {
            file: registry.join("mounts.json"),
        }
    }

    fn load(&self) -> Result<Vec<Entry>> {
        match std::fs::read(&self.file) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Error::Plan(format!("{}: {e}", self.file.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(Error::os(format!("read {}", self.file.display()), e)),
        }
    }

    /// Writes the journal; an empty one leaves no file.
    fn save(&self, entries: &[Entry]) -> Result<()> {
        if entries.is_empty() {
            return match std::fs::remove_file(&self.file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(Error::os(format!("remove {}", self.file.display()), e))
                }
                _ => Ok(()),
            };
        }
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::os(format!("create {}", dir.display()), e))?;
        }
        let json = serde_json::to_vec_pretty(entries).expect("a journal serializes");
        crate::state::write_atomically(&self.file, &json)
    }

    /// Mounts `m` with `make`, journaled before and after: a crash between
    /// leaves an entry without identity, undone by path.
    pub fn mount(
        &self,
        m: &MountPoint,
        make: impl FnOnce() -> Result<Option<Identity>>,
    ) -> Result<()> {
        let mut entries = self.load()?;
        entries.push(Entry::of(m));
        self.save(&entries)?;
        match make() {
            Ok(id) => {
                entries.last_mut().expect("just pushed").id = id;
                self.save(&entries)
            }
            Err(e) => {
                entries.pop();
                let _ = self.save(&entries);
                Err(e)
            }
        }
    }

    /// Undoes the last journaled mount of `m` with `undo` (given its
    /// identity, if it got one); the entry goes once the mount is gone.
    pub fn unmount(
        &self,
        m: &MountPoint,
        undo: impl FnOnce(Option<Identity>) -> Result<()>,
    ) -> Result<()> {
        let mut entries = self.load()?;
        let at = entries.iter().rposition(|e| e.same_place(m));
        let result = undo(at.and_then(|i| entries[i].id));
        if let Some(i) = at
            && (result.is_ok() || result.as_ref().is_err_and(Error::is_gone))
        {
            entries.remove(i);
            self.save(&entries)?;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::MountForm;

    fn point(destination: &str) -> MountPoint {
        MountPoint {
            root: "/j".into(),
            fstype: "tmpfs".into(),
            source: "tmpfs".into(),
            destination: destination.into(),
            options: Vec::new(),
            form: MountForm::Fstab,
        }
    }

    #[test]
    fn a_mount_is_undone_by_the_identity_it_was_made_with() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::in_registry(dir.path());
        journal
            .mount(&point("/a"), || Ok(Some(Identity::MountId(7))))
            .unwrap();
        journal
            .mount(&point("/b"), || Ok(Some(Identity::Fsid([1, -2]))))
            .unwrap();
        let failed = journal.mount(&point("/c"), || Err(Error::Plan("no".into())));
        assert!(failed.is_err());
        let mut seen = None;
        journal
            .unmount(&point("/b"), |id| {
                seen = id;
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, Some(Identity::Fsid([1, -2])));
        journal
            .unmount(&point("/c"), |id| {
                assert_eq!(id, None, "a failed mount is not journaled");
                Ok(())
            })
            .unwrap();
        journal
            .unmount(&point("/a"), |id| {
                assert_eq!(id, Some(Identity::MountId(7)));
                Ok(())
            })
            .unwrap();
        assert!(
            !dir.path().join("mounts.json").exists(),
            "an empty journal leaves no file"
        );
    }

    #[test]
    fn a_crash_between_the_mount_and_its_identity_leaves_an_entry_undone_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::in_registry(dir.path());
        let crashed =
            std::panic::catch_unwind(|| journal.mount(&point("/a"), || panic!("killed")).unwrap());
        assert!(crashed.is_err());
        let mut seen = Some(Identity::MountId(0));
        journal
            .unmount(&point("/a"), |id| {
                seen = id;
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, None);
        assert!(!dir.path().join("mounts.json").exists());
    }
}
