//! A container's state under the runtime root: `<root>/<id>/state.json`
//! (written atomically), the plan it was created from (`plan.json`, so
//! that `delete` can undo a creation without its bundle) and the exec fifo.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use runj_translator::JailPlan;
use serde::{Deserialize, Serialize};

use crate::error::{Context, Error, Result};

/// The runtime-spec version runj implements.
pub const OCI_VERSION: &str = "1.3.0";

/// A container's status (runtime-spec `runtime.md` "State").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Creating,
    Created,
    Running,
    Stopped,
}

/// The state of a container: the runtime-spec's fields, plus the jail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub oci_version: String,
    pub id: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    /// When the process started ([`crate::pid::start_time`]): a pid reused
    /// by another process is not taken for the container's (not part of
    /// the runtime-spec's state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_start: Option<u64>,
    pub bundle: PathBuf,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The jail's name (not part of the runtime-spec's state).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub jail: String,
}

/// Writes a file so that readers see the old or the new content, never a
/// part: a temporary file in the same directory, synced, then renamed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .context(|| format!("create a file in {}", dir.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .context(|| format!("write {}", path.display()))?;
    file.persist(path)
        .map_err(|e| Error::os(format!("rename into {}", path.display()), e.error))?;
    Ok(())
}

/// Container ids as runc accepts them: letters, digits, `_ + - .`, not
/// starting with a dot.
pub fn check_id(id: &str) -> Result<()> {
    let valid = !id.is_empty()
        && !id.starts_with('.')
        && id.len() <= 1024
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+-.".contains(c));
    if valid {
        Ok(())
    } else {
        Err(Error::Plan(format!(
            "invalid container id \"{id}\": letters, digits, '_', '+', '-' and '.' only, not starting with '.'"
        )))
    }
}

/// One container's directory under the runtime root.
#[derive(Debug, Clone)]
pub struct ContainerDir {
    pub path: PathBuf,
}

impl ContainerDir {
    /// The directory of `id` under `root`, which may not exist.
    pub fn at(root: &Path, id: &str) -> Result<Self> {
        check_id(id)?;
        Ok(ContainerDir {
            path: root.join(id),
        })
    }

    /// Claims the id: exactly one of concurrent claims succeeds.
    pub fn claim(&self) -> Result<()> {
        if let Some(root) = self.path.parent() {
            std::fs::create_dir_all(root).context(|| format!("create {}", root.display()))?;
        }
        match std::fs::create_dir(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::Plan(format!(
                "container \"{}\" already exists",
                self.id()
            ))),
            Err(e) => Err(Error::os(format!("create {}", self.path.display()), e)),
        }
    }

    pub fn id(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    pub fn fifo(&self) -> PathBuf {
        self.path.join("exec.fifo")
    }

    pub fn load(&self) -> Result<State> {
        let file = self.path.join("state.json");
        let bytes = read_own(&file).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound if !self.path.exists() => {
                Error::Plan(format!("container \"{}\" does not exist", self.id()))
            }
            _ => Error::os(format!("read {}", file.display()), e),
        })?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Plan(format!("{}: {e}", file.display())))
    }

    pub fn save(&self, state: &State) -> Result<()> {
        let json = serde_json::to_vec_pretty(state).expect("state serializes");
        write_atomically(&self.path.join("state.json"), &json)
    }

    pub fn load_plan(&self) -> Result<JailPlan> {
        let file = self.path.join("plan.json");
        let bytes = read_own(&file).context(|| format!("read {}", file.display()))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Plan(format!("{}: {e}", file.display())))
    }

    pub fn save_plan(&self, plan: &JailPlan) -> Result<()> {
        let json = serde_json::to_vec_pretty(plan).expect("a plan serializes");
        write_atomically(&self.path.join("plan.json"), &json)
    }

    /// Removes the directory and everything in it.
    pub fn remove(&self) -> Result<()> {
        match std::fs::remove_dir_all(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::os(format!("remove {}", self.path.display()), e))
            }
            _ => Ok(()),
        }
    }
}

/// The largest state or plan file read.
const MAX_STATE: u64 = 16 << 20;

/// A file runj wrote itself: a regular file, never a symbolic link
/// followed (`O_NOFOLLOW`), at most [`MAX_STATE`] bytes.
pub(crate) fn read_own(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) | Some(libc::EMLINK) => {
                std::io::Error::other("a symbolic link, which runj does not follow in its state")
            }
            _ => e,
        })?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_STATE).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The ids of the containers under `root`, sorted: every directory named
/// as an id, whether its state can be read or not.
pub fn ids(root: &Path) -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::os(format!("read {}", root.display()), e)),
    };
    let mut ids: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|id| check_id(id).is_ok())
        .collect();
    ids.sort();
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_runc() {
        for good in ["a", "web-1", "x_y.z+2"] {
            check_id(good).unwrap();
        }
        for bad in ["", ".hidden", "a/b", "a b", "..", "é"] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn one_claim_wins() {
        let root = tempfile::tempdir().unwrap();
        let dir = ContainerDir::at(root.path(), "c1").unwrap();
        dir.claim().unwrap();
        let err = dir.claim().unwrap_err();
        assert_eq!(err.to_string(), "container \"c1\" already exists");
    }

    #[test]
    fn state_round_trips_and_prints_runtime_spec_names() {
        let root = tempfile::tempdir().unwrap();
        let dir = ContainerDir::at(root.path(), "c1").unwrap();
        dir.claim().unwrap();
        let state = State {
            oci_version: OCI_VERSION.into(),
            id: "c1".into(),
            status: Status::Created,
            pid: Some(42),
            process_start: None,
            bundle: "/b".into(),
            annotations: BTreeMap::from([("k".into(), "v".into())]),
            jail: "c1".into(),
        };
        dir.save(&state).unwrap();
        assert_eq!(dir.load().unwrap(), state);
        let json: serde_json::Value = serde_json::to_value(&state).unwrap();
        assert_eq!(json["ociVersion"], "1.3.0");
        assert_eq!(json["status"], "created");
        assert_eq!(json["pid"], 42);
    }
}
