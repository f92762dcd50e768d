//! The shim binary's entry points for containerd: `start` (spawn the server),
//! the server itself, and `delete` (clean up after a server that is gone).

use std::io::ErrorKind;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use containerd_shim::asynchronous::util::write_str_to_file;
use containerd_shim::asynchronous::{ExitSignal, Shim, spawn};
use containerd_shim::protos::api::DeleteResponse;
use containerd_shim::publisher::RemotePublisher;
use containerd_shim::{Config, Flags, StartOpts};

use crate::error::{Error, IoContext, Result};
use crate::events::Events;
use crate::process::now;
use crate::reaper::Reaper;
use crate::rootfs::{ROOTFS, Rootfs};
use crate::runtime::{Command, Runtime};
use crate::task::TaskService;

/// The runtime name containerd knows the shim by (`ctr run --runtime …`).
pub const RUNTIME_ID: &str = "io.containerd.runj.v1";
/// Where in the bundle `start_shim` records the server's socket address;
/// the crate's server removes that socket when it exits.
const ADDRESS_FILE: &str = "address";
/// The status containerd records for a container whose shim is gone: SIGKILL.
const KILLED: u32 = 128 + 9;

/// One shim instance: one container.
pub struct Service {
    exit: Arc<ExitSignal>,
    namespace: String,
    id: String,
    bundle: String,
}

#[async_trait]
impl Shim for Service {
    type T = TaskService;

    async fn new(_runtime_id: &str, flags: &Flags, _config: &mut Config) -> Self {
        Service {
            exit: Arc::default(),
            namespace: flags.namespace.clone(),
            id: flags.id.clone(),
            bundle: flags.bundle.clone(),
        }
    }

    /// Spawns the server for this container and records its socket in the
    /// bundle, where the server finds it to remove it when it exits.
    async fn start_shim(&mut self, opts: StartOpts) -> containerd_shim::Result<String> {
        let grouping = opts.id.clone();
        let address = spawn(opts, &grouping, Vec::new()).await?;
        write_str_to_file(ADDRESS_FILE, &address).await?;
        Ok(address)
    }

    /// Cleans up after a server that is gone: `runtime delete --force`,
    /// then the rootfs is unmounted and the server's socket removed.
    async fn delete_shim(&mut self) -> containerd_shim::Result<DeleteResponse> {
        self.clean_up()
            .await
            .map_err(|e| containerd_shim::Error::Other(e.to_string()))?;
        Ok(DeleteResponse {
            exit_status: KILLED,
            exited_at: Some(now()).into(),
            ..Default::default()
        })
    }

    async fn wait(&mut self) {
        self.exit.wait().await;
    }

    async fn create_task_service(&self, publisher: RemotePublisher) -> TaskService {
        let reaper = Reaper::start()
            .await
            .expect("the exit monitor takes subscribers");
        let events = Events::new(publisher, &self.namespace);
        TaskService::new(&self.namespace, reaper, events, Arc::clone(&self.exit))
    }
}

impl Service {
    async fn clean_up(&self) -> Result<()> {
        // The bundle is the working directory too, but it may be gone.
        let bundle = if self.bundle.is_empty() {
            std::env::current_dir().map_err(|e| Error::io("find the bundle", e))?
        } else {
            PathBuf::from(&self.bundle)
        };
        let runtime = Runtime::from_env(&self.namespace)?;
        let reaper = Reaper::start().await?;
        let delete = Command::Delete {
            id: &self.id,
            force: true,
        };
        let deleted = match runtime.run(&reaper, &delete).await {
            Err(e) if e.process_is_gone() => Ok(()),
            result => result,
        };
        let unmounted = Rootfs::at(&bundle.join(ROOTFS)).unmount().await;
        deleted.and(unmounted).and(remove_socket(&bundle))
    }
}

/// Removes the socket `start_shim` recorded in `<bundle>/address`, which a
/// server killed outright had no chance to remove.
fn remove_socket(bundle: &Path) -> Result<()> {
    let record = bundle.join(ADDRESS_FILE);
    let address = match std::fs::read_to_string(&record) {
        Ok(address) => address,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(format!("read {}", record.display()), e)),
    };
    let socket = Path::new(address.trim().trim_start_matches("unix://"));
    let is_socket = std::fs::symlink_metadata(socket).is_ok_and(|m| m.file_type().is_socket());
    if is_socket {
        std::fs::remove_file(socket).context(|| format!("remove {}", socket.display()))?;
    }
    Ok(())
}
