//! The executor's one error type.

use std::io;

/// What went wrong, with what was being done.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call or file operation failed.
    #[error("{context}: {source}")]
    Os {
        context: String,
        #[source]
        source: io::Error,
    },
    /// The kernel refused a jail or mount call; `message` is its `errmsg`.
    #[error("{context}: {message}")]
    Refused { context: String, message: String },
    /// A command ran but failed.
    #[error("{stage}: {command}: {status}")]
    Command {
        stage: String,
        command: String,
        status: String,
    },
    /// The plan cannot be executed as it is.
    #[error("{0}")]
    Plan(String),
    /// The backend cannot do this.
    #[error("{0}")]
    Unsupported(String),
    /// A failure injected by the recording backend.
    #[error("injected failure at call {0}")]
    Injected(usize),
}

impl Error {
    /// An I/O error with what was being done.
    pub fn os(context: impl Into<String>, source: impl Into<io::Error>) -> Self {
        Error::Os {
            context: context.into(),
            source: source.into(),
        }
    }

    /// True when the error says the thing is already gone (no such jail,
    /// not mounted): what a forced tear-down may pass over.
    pub fn is_gone(&self) -> bool {
        match self {
            Error::Os { source, .. } => matches!(
                source.raw_os_error(),
                Some(libc::ENOENT | libc::EINVAL | libc::ESRCH)
            ),
            _ => false,
        }
    }
}

/// The executor's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds context to I/O results.
pub trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<io::Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::os(what(), e))
    }
}
