//! The task service containerd calls (task API v3): each request mapped onto
//! the shim's one [`Container`].
//!
//! Not provided: Pause, Resume and Checkpoint (the crate's default answer,
//! "not supported").

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use containerd_shim::asynchronous::ExitSignal;
use containerd_shim::asynchronous::io::Stdio;
use containerd_shim::protos::api::{
    CloseIORequest, ConnectRequest, ConnectResponse, CreateTaskRequest, CreateTaskResponse,
    DeleteRequest, DeleteResponse, Empty, ExecProcessRequest, KillRequest, PidsRequest,
    PidsResponse, ProcessInfo, ResizePtyRequest, ShutdownRequest, StartRequest, StartResponse,
    StateRequest, StateResponse, StatsRequest, StatsResponse, UpdateTaskRequest, WaitRequest,
    WaitResponse,
};
use containerd_shim::protos::shim_async::Task;
use containerd_shim::protos::ttrpc::r#async::TtrpcContext;
use containerd_shim::{TtrpcResult, protos::ttrpc};

use crate::container::{Container, Context};
use crate::error::{Error, Result};
use crate::events::Events;
use crate::reaper::Reaper;
use crate::resources;
use crate::runtime::Runtime;

/// Serves the task requests for one container.
pub struct TaskService {
    namespace: String,
    reaper: Reaper,
    events: Events,
    exit: Arc<ExitSignal>,
    container: Mutex<Option<Arc<Container>>>,
}

impl TaskService {
    /// A service with no container yet; `exit` ends the shim.
    pub fn new(namespace: &str, reaper: Reaper, events: Events, exit: Arc<ExitSignal>) -> Self {
        TaskService {
            namespace: namespace.to_string(),
            reaper,
            events,
            exit,
            container: Mutex::new(None),
        }
    }

    fn slot(&self) -> MutexGuard<'_, Option<Arc<Container>>> {
        self.container
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn container(&self, id: &str) -> Result<Arc<Container>> {
        self.slot()
            .as_ref()
            .filter(|c| c.id == id)
            .map(Arc::clone)
            .ok_or_else(|| Error::NotFound(format!("container {id} not found")))
    }

    async fn create(&self, request: &CreateTaskRequest) -> Result<u32> {
        if let Some(existing) = self.slot().as_ref() {
            return Err(Error::AlreadyExists(format!(
                "this shim already serves container {}",
                existing.id
            )));
        }
        let context = Context {
            runtime: Runtime::from_env(&self.namespace)?,
            reaper: self.reaper.clone(),
            events: self.events.clone(),
        };
        let container = Container::create(request, context).await?;
        let pid = container.init.pid();
        *self.slot() = Some(container);
        Ok(pid)
    }

    async fn delete(&self, request: &DeleteRequest) -> Result<DeleteResponse> {
        let container = self.container(&request.id)?;
        let (pid, exited) = container.delete(&request.exec_id).await?;
        if request.exec_id.is_empty() {
            *self.slot() = None;
        }
        let mut response = DeleteResponse {
            pid,
            ..Default::default()
        };
        if let Some(exited) = exited {
            response.exit_status = exited.code;
            response.exited_at = Some(exited.at).into();
        }
        Ok(response)
    }
}

/// The answer to a request, as ttrpc wants it.
fn reply<T>(result: Result<T>) -> TtrpcResult<T> {
    result.map_err(|e| {
        log::debug!("request failed: {e}");
        ttrpc::Error::from(e)
    })
}

#[async_trait]
impl Task for TaskService {
    async fn create(
        &self,
        _ctx: &TtrpcContext,
        request: CreateTaskRequest,
    ) -> TtrpcResult<CreateTaskResponse> {
        let pid = reply(TaskService::create(self, &request).await)?;
        Ok(CreateTaskResponse {
            pid,
            ..Default::default()
        })
    }

    async fn start(
        &self,
        _ctx: &TtrpcContext,
        request: StartRequest,
    ) -> TtrpcResult<StartResponse> {
        let started = async {
            let container = self.container(&request.id)?;
            if request.exec_id.is_empty() {
                container.start().await
            } else {
                container.start_exec(&request.exec_id).await
            }
        };
        let pid = reply(started.await)?;
        Ok(StartResponse {
            pid,
            ..Default::default()
        })
    }

    async fn state(
        &self,
        _ctx: &TtrpcContext,
        request: StateRequest,
    ) -> TtrpcResult<StateResponse> {
        let state = self.container(&request.id).and_then(|container| {
            let process = container.process(&request.exec_id)?;
            Ok(process.state(&container.id, &container.bundle))
        });
        reply(state)
    }

    async fn wait(&self, _ctx: &TtrpcContext, request: WaitRequest) -> TtrpcResult<WaitResponse> {
        let process = reply(
            self.container(&request.id)
                .and_then(|container| container.process(&request.exec_id)),
        )?;
        let exited = process.wait().await;
        Ok(WaitResponse {
            exit_status: exited.code,
            exited_at: Some(exited.at).into(),
            ..Default::default()
        })
    }

    async fn kill(&self, _ctx: &TtrpcContext, request: KillRequest) -> TtrpcResult<Empty> {
        let killed = async {
            let container = self.container(&request.id)?;
            container
                .kill(&request.exec_id, request.signal, request.all)
                .await
        };
        reply(killed.await)?;
        Ok(Empty::default())
    }

    async fn delete(
        &self,
        _ctx: &TtrpcContext,
        request: DeleteRequest,
    ) -> TtrpcResult<DeleteResponse> {
        reply(TaskService::delete(self, &request).await)
    }

    async fn pids(&self, _ctx: &TtrpcContext, request: PidsRequest) -> TtrpcResult<PidsResponse> {
        let container = reply(self.container(&request.id))?;
        let processes = container
            .pids()
            .into_iter()
            .map(|pid| ProcessInfo {
                pid,
                ..Default::default()
            })
            .collect();
        Ok(PidsResponse {
            processes,
            ..Default::default()
        })
    }

    async fn exec(&self, _ctx: &TtrpcContext, request: ExecProcessRequest) -> TtrpcResult<Empty> {
        let added = async {
            let container = self.container(&request.id)?;
            let stdio = Stdio::new(
                &request.stdin,
                &request.stdout,
                &request.stderr,
                request.terminal,
            );
            let spec = request
                .spec
                .as_ref()
                .map(|any| any.value.clone())
                .unwrap_or_default();
            container.add_exec(&request.exec_id, stdio, spec).await
        };
        reply(added.await)?;
        Ok(Empty::default())
    }

    async fn resize_pty(
        &self,
        _ctx: &TtrpcContext,
        request: ResizePtyRequest,
    ) -> TtrpcResult<Empty> {
        let resized = self
            .container(&request.id)
            .and_then(|container| container.process(&request.exec_id))
            .and_then(|process| process.resize(request.width, request.height));
        reply(resized)?;
        Ok(Empty::default())
    }

    async fn close_io(&self, _ctx: &TtrpcContext, request: CloseIORequest) -> TtrpcResult<Empty> {
        let closed = self
            .container(&request.id)
            .and_then(|container| container.process(&request.exec_id))
            .and_then(|process| {
                // CloseIO only ever concerns stdin.
                if request.stdin {
                    process.close_stdin()
                } else {
                    Ok(())
                }
            });
        reply(closed)?;
        Ok(Empty::default())
    }

    async fn stats(
        &self,
        _ctx: &TtrpcContext,
        request: StatsRequest,
    ) -> TtrpcResult<StatsResponse> {
        let stats = async {
            let event = self.container(&request.id)?.stats().await?;
            resources::metrics(&event)
        };
        Ok(StatsResponse {
            stats: Some(reply(stats.await)?).into(),
            ..Default::default()
        })
    }

    async fn update(&self, _ctx: &TtrpcContext, request: UpdateTaskRequest) -> TtrpcResult<Empty> {
        let updated = async {
            let container = self.container(&request.id)?;
            let any = request
                .resources
                .as_ref()
                .ok_or_else(|| Error::InvalidArgument("the update has no resources".into()))?;
            let file = resources::resources_file(any)?;
            container.update(file.path()).await
        };
        reply(updated.await)?;
        Ok(Empty::default())
    }

    async fn connect(
        &self,
        _ctx: &TtrpcContext,
        request: ConnectRequest,
    ) -> TtrpcResult<ConnectResponse> {
        let task_pid = self
            .container(&request.id)
            .map(|container| container.init.pid())
            .unwrap_or_default();
        Ok(ConnectResponse {
            shim_pid: std::process::id(),
            task_pid,
            version: env!("CARGO_PKG_VERSION").to_string(),
            ..Default::default()
        })
    }

    /// Ends the shim once its container is deleted; until then, like
    /// containerd's own shims, it keeps serving whatever `now` says.
    async fn shutdown(&self, _ctx: &TtrpcContext, _request: ShutdownRequest) -> TtrpcResult<Empty> {
        if self.slot().is_none() {
            self.exit.signal();
        }
        Ok(Empty::default())
    }
}
