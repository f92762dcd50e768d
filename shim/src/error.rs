//! The shim's errors, and the gRPC codes containerd sees them as.

use containerd_shim::protos::ttrpc;

/// What can go wrong serving a task request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such container or process, or the process has already finished.
    #[error("{0}")]
    NotFound(String),
    /// The container or process already exists.
    #[error("{0}")]
    AlreadyExists(String),
    /// The request does not fit the process's current state.
    #[error("{0}")]
    FailedPrecondition(String),
    /// The request itself is wrong.
    #[error("{0}")]
    InvalidArgument(String),
    /// The request needs something runj does not provide.
    #[error("{0}")]
    Unimplemented(String),
    /// A system call or file operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A command the shim ran (the runtime, or mount(8)) failed; `output`
    /// is what it printed.
    #[error("`{command}` failed with {status}{}", if output.is_empty() { String::new() } else { format!(": {output}") })]
    Command {
        command: String,
        status: String,
        output: String,
    },
    /// A helper of the `containerd-shim` crate failed.
    #[error("{context}: {source}")]
    Shim {
        context: String,
        #[source]
        source: containerd_shim::Error,
    },
}

/// The shim's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// An error of the `containerd-shim` crate with what was being done.
    pub fn shim(context: impl Into<String>, source: containerd_shim::Error) -> Self {
        Error::Shim {
            context: context.into(),
            source,
        }
    }

    /// Whether a failed runtime command says the process is gone, as runc and
    /// runj word it (containerd's Go shims test the same phrases).
    pub fn process_is_gone(&self) -> bool {
        const GONE: [&str; 4] = [
            "not running",
            "process already finished",
            "no such process",
            "container does not exist",
        ];
        match self {
            Error::Command { output, .. } => {
                let output = output.to_lowercase();
                GONE.iter().any(|phrase| output.contains(phrase))
            }
            _ => false,
        }
    }

    fn code(&self) -> ttrpc::Code {
        match self {
            Error::NotFound(_) => ttrpc::Code::NOT_FOUND,
            Error::AlreadyExists(_) => ttrpc::Code::ALREADY_EXISTS,
            Error::FailedPrecondition(_) => ttrpc::Code::FAILED_PRECONDITION,
            Error::InvalidArgument(_) => ttrpc::Code::INVALID_ARGUMENT,
            Error::Unimplemented(_) => ttrpc::Code::UNIMPLEMENTED,
            Error::Io { .. } | Error::Command { .. } | Error::Shim { .. } => ttrpc::Code::INTERNAL,
        }
    }
}

impl From<Error> for ttrpc::Error {
    fn from(error: Error) -> Self {
        ttrpc::Error::RpcStatus(ttrpc::get_status(error.code(), error.to_string()))
    }
}

/// Adds what was being done to an I/O error.
pub trait IoContext<T> {
    /// Maps the error to [`Error::Io`] with the context `context` returns.
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::io(context(), source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime_error(output: &str) -> Error {
        Error::Command {
            command: "runj kill c 15".into(),
            status: "exit status 1".into(),
            output: output.into(),
        }
    }

    #[test]
    fn gone_processes_are_recognised_in_runtime_output() {
        assert!(runtime_error("container not running").process_is_gone());
        assert!(runtime_error("kill: No such process").process_is_gone());
        assert!(!runtime_error("permission denied").process_is_gone());
        assert!(!Error::NotFound("x".into()).process_is_gone());
    }

    #[test]
    fn codes_reach_containerd() {
        let status = |e: Error| match ttrpc::Error::from(e) {
            ttrpc::Error::RpcStatus(status) => (status.code(), status.message().to_string()),
            other => panic!("not a status: {other:?}"),
        };
        assert_eq!(
            status(Error::NotFound("process already finished".into())),
            (ttrpc::Code::NOT_FOUND, "process already finished".into())
        );
        let (code, message) = status(runtime_error("boom"));
        assert_eq!(code, ttrpc::Code::INTERNAL);
        assert_eq!(message, "`runj kill c 15` failed with exit status 1: boom");
        assert_eq!(
            runtime_error("").to_string(),
            "`runj kill c 15` failed with exit status 1"
        );
    }
}
