//! OCI hooks (runtime-spec `config.md` "POSIX-platform Hooks"): each runs
//! with the container's state as JSON on its standard input, `args` as its
//! argv and `env` as its environment, and is killed after `timeout`
//! seconds.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::time::Duration;

use nix::fcntl::OFlag;
use nix::unistd::{Pid, dup2_stdin, pipe2, setpgid};
use runj_translator::plan::Hook;

use crate::child::{Ended, Exec, spawn, wait};
use crate::error::{Context, Error, Result};
use crate::host::Attach;
use crate::state::State;

/// Runs the hooks of one stage in order; the first failure stops them.
/// `attach` runs them in the jail (`startContainer`).
pub fn run(stage: &str, hooks: &[Hook], state: &State, attach: Option<&dyn Attach>) -> Result<()> {
    let input = serde_json::to_vec(state).expect("state serializes");
    for hook in hooks {
        run_one(stage, hook, &input, attach)?;
    }
    Ok(())
}

fn run_one(stage: &str, hook: &Hook, input: &[u8], attach: Option<&dyn Attach>) -> Result<()> {
    let what = format!("{stage} hook {}", hook.path);
    let mut argv = hook.args.clone();
    if argv.is_empty() {
        argv.push(hook.path.clone());
    }
    let mut exec = Exec::new(&argv, &hook.env)?;
    exec.program = Some(
        std::ffi::CString::new(hook.path.as_bytes())
            .map_err(|_| Error::Plan(format!("{what}: path with a NUL byte")))?,
    );
    let (read, write) = pipe2(OFlag::O_CLOEXEC).context(|| "create a pipe".into())?;
    let (pid, _) = spawn(&what, |_| {
        // Its own process group, which the timeout kills whole.
        setpgid(Pid::from_raw(0), Pid::from_raw(0))
            .map_err(|e| format!("setpgid: {}", e.desc()))?;
        dup2_stdin(&read).map_err(|e| format!("dup2: {}", e.desc()))?;
        if let Some(attach) = attach {
            attach.attach().map_err(|e| format!("join the jail: {e}"))?;
        }
        Ok(exec.clone())
    })?;
    drop(read);
    feed(write, input);
    let timeout = hook.timeout.map(|s| Duration::from_secs(s.into()));
    match wait(pid, timeout)? {
        Ended::Exited(0) => Ok(()),
        ended => Err(Error::Command {
            stage: format!("{stage} hook"),
            command: hook.path.clone(),
            status: ended.to_string(),
        }),
    }
}

/// Writes the state; a hook that does not read it is not an error.
fn feed(pipe: OwnedFd, input: &[u8]) {
    let mut file = std::fs::File::from(pipe);
    let _ = file.write_all(input);
}
