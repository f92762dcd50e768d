//! The container's root filesystem: containerd's snapshot mounts, mounted at
//! `<bundle>/rootfs` before `create` and unmounted after `delete`.
//!
//! On Linux the `containerd-shim` crate's helpers mount (through `mount(2)`,
//! compacting long overlay option lists) and unmount recursively. Elsewhere
//! the crate's helpers do nothing, so the shim runs `mount(8)` as containerd
//! itself does on FreeBSD (`mount -t nullfs …` for the native snapshotter)
//! and unmounts each layer with `unmount(2)`.

use std::path::{Path, PathBuf};

use containerd_shim::protos::api::Mount;

use crate::error::{Error, Result};
use crate::reaper::Reaper;

/// The directory name containerd's bundles give the root filesystem.
pub const ROOTFS: &str = "rootfs";

/// A mounted root filesystem.
#[derive(Debug)]
pub struct Rootfs {
    path: PathBuf,
    /// How many mounts were stacked on `path`.
    layers: usize,
}

impl Rootfs {
    /// Mounts `mounts` in order at `<bundle>/rootfs`; `None` when there are
    /// none (the bundle brings its own root). A failure unmounts what was
    /// mounted.
    pub async fn mount(bundle: &Path, mounts: &[Mount], reaper: &Reaper) -> Result<Option<Self>> {
        if mounts.is_empty() {
            return Ok(None);
        }
        let path = bundle.join(ROOTFS);
        containerd_shim::asynchronous::util::mkdir(&path, 0o711)
            .await
            .map_err(|e| Error::shim(format!("create {}", path.display()), e))?;
        let mut rootfs = Rootfs { path, layers: 0 };
        for mount in mounts {
            if let Err(e) = mount_one(mount, &rootfs.path, reaper).await {
                if let Err(undo) = rootfs.unmount().await {
                    log::error!("{undo}");
                }
                return Err(e);
            }
            rootfs.layers += 1;
        }
        Ok(Some(rootfs))
    }

    /// Whatever is mounted at `path`, for a clean-up that does not know.
    pub fn at(path: &Path) -> Self {
        Rootfs {
            path: path.to_path_buf(),
            layers: usize::MAX,
        }
    }

    /// Unmounts everything at and below the root filesystem.
    pub async fn unmount(&self) -> Result<()> {
        unmount_all(&self.path, self.layers).await
    }
}

/// What a mount request says, for messages.
fn describe(mount: &Mount, target: &Path) -> String {
    format!(
        "mount {} {} on {} ({})",
        mount.type_,
        mount.source,
        target.display(),
        mount.options.join(",")
    )
}

#[cfg(target_os = "linux")]
async fn mount_one(mount: &Mount, target: &Path, _reaper: &Reaper) -> Result<()> {
    containerd_shim::asynchronous::util::mount_rootfs(mount, target)
        .await
        .map_err(|e| Error::shim(describe(mount, target), e))
}

#[cfg(target_os = "linux")]
async fn unmount_all(path: &Path, _layers: usize) -> Result<()> {
    let target = path
        .to_str()
        .ok_or_else(|| Error::InvalidArgument(format!("{} is not UTF-8", path.display())))?
        .to_string();
    containerd_shim::asynchronous::util::asyncify(move || {
        containerd_shim::mount::umount_recursive(Some(&target), libc::MNT_DETACH)
    })
    .await
    .map_err(|e| Error::shim(format!("unmount {}", path.display()), e))
}

#[cfg(not(target_os = "linux"))]
async fn mount_one(mount: &Mount, target: &Path, reaper: &Reaper) -> Result<()> {
    let mut command = std::process::Command::new("mount");
    if !mount.type_.is_empty() {
        command.args(["-t", &mount.type_]);
    }
    if !mount.options.is_empty() {
        command.args(["-o", &mount.options.join(",")]);
    }
    // mount(8) wants a source; containerd's FreeBSD code says "null".
    let source = if mount.source.is_empty() {
        "null"
    } else {
        &mount.source
    };
    command.arg(source).arg(target);
    log::debug!("{}", describe(mount, target));
    crate::runtime::run_captured(reaper, &mut command).await
}

#[cfg(not(target_os = "linux"))]
async fn unmount_all(path: &Path, layers: usize) -> Result<()> {
    use nix::mount::{MntFlags, unmount};
    for _ in 0..layers {
        match unmount(path, MntFlags::empty()) {
            Ok(()) => {}
            // Not a mount point (any more): nothing left to unmount.
            Err(nix::errno::Errno::EINVAL) => break,
            Err(e) => return Err(Error::io(format!("unmount {}", path.display()), e.into())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_are_described_with_their_options() {
        let mount = Mount {
            type_: "overlay".into(),
            source: "overlay".into(),
            options: vec!["lowerdir=/l".into(), "upperdir=/u".into()],
            ..Default::default()
        };
        assert_eq!(
            describe(&mount, Path::new("/b/rootfs")),
            "mount overlay overlay on /b/rootfs (lowerdir=/l,upperdir=/u)"
        );
    }

    #[tokio::test]
    async fn no_mounts_means_no_rootfs() {
        let reaper = Reaper::start().await.unwrap();
        let bundle = tempfile::tempdir().unwrap();
        assert!(
            Rootfs::mount(bundle.path(), &[], &reaper)
                .await
                .unwrap()
                .is_none()
        );
        assert!(!bundle.path().join(ROOTFS).exists());
    }
}
