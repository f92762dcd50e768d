//! Writing files so that readers see the old or the new content, never a
//! part: a temporary file in the same directory, synced, then renamed.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result};

/// Replaces (or creates) `path` with `contents`, keeping its permissions.
pub fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(contents.as_ref())?;
    if let Ok(meta) = std::fs::metadata(path) {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}
