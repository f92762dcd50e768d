//! The console socket: how a process's terminal reaches the shim.
//!
//! For a process with `terminal: true` the runtime allocates the pty and sends
//! its master over the Unix socket named by `--console-socket`, as an
//! `SCM_RIGHTS` message (runc's and runj's convention). The shim listens on a
//! socket in a private temporary directory, receives the master, and later
//! sets the window size on it.

use std::fs::File;
use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::time::Duration;

use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};
use tokio::io::Interest;
use tokio::net::UnixListener;

use crate::error::{Error, IoContext, Result};

/// How long the runtime may take to send the console once it has returned.
const RECEIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// A listening console socket; the directory goes when this is dropped.
pub struct ConsoleSocket {
    dir: tempfile::TempDir,
    listener: UnixListener,
}

impl ConsoleSocket {
    /// Listens on a fresh socket (in the temporary directory, whose paths are
    /// short enough for a socket address).
    pub fn new() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("runj-shim-")
            .tempdir()
            .context(|| "create a directory for the console socket".into())?;
        let path = dir.path().join("console.sock");
        let listener = UnixListener::bind(&path)
            .context(|| format!("listen on console socket {}", path.display()))?;
        Ok(ConsoleSocket { dir, listener })
    }

    /// The socket's path, for `--console-socket`.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("console.sock")
    }

    /// The pty master the runtime sent.
    pub async fn receive(self) -> Result<File> {
        tokio::time::timeout(RECEIVE_TIMEOUT, self.receive_now())
            .await
            .map_err(|_| {
                Error::io(
                    format!("receive the console on {}", self.path().display()),
                    std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("the runtime sent none within {RECEIVE_TIMEOUT:?}"),
                    ),
                )
            })?
    }

    async fn receive_now(&self) -> Result<File> {
        let path = self.path();
        let (stream, _) = self
            .listener
            .accept()
            .await
            .context(|| format!("accept on console socket {}", path.display()))?;
        let fd = stream
            .async_io(Interest::READABLE, || {
                receive_fd(stream.as_fd().as_raw_fd()).map_err(std::io::Error::from)
            })
            .await
            .context(|| format!("receive the console on {}", path.display()))?;
        Ok(File::from(fd))
    }
}

/// Receives one file descriptor sent with `SCM_RIGHTS` on `socket`.
fn receive_fd(socket: RawFd) -> nix::Result<OwnedFd> {
    // runc sends the console's name as the message's data.
    let mut name = [0u8; 4096];
    let mut iov = [IoSliceMut::new(&mut name)];
    let mut control = nix::cmsg_space!([RawFd; 1]);
    // Close-on-exec from the moment it arrives: no process the shim starts
    // inherits the terminal (CVE-2024-21626's class).
    let message = recvmsg::<()>(
        socket,
        &mut iov,
        Some(&mut control),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    let mut received = Vec::new();
    for cmsg in message.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            // SAFETY: SCM_RIGHTS installed these descriptors in this process
            // and nothing else owns them.
            received.extend(
                fds.into_iter()
                    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
            );
        }
    }
    match received.len() {
        1 => Ok(received.remove(0)),
        // A peer that closed without sending, or sent something else.
        _ => Err(nix::errno::Errno::EBADMSG),
    }
}

nix::ioctl_write_ptr_bad!(set_window_size, libc::TIOCSWINSZ, libc::winsize);

/// Sets the terminal size on a pty master.
pub fn resize(master: &impl AsFd, width: u32, height: u32) -> Result<()> {
    let size = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
    let winsize = libc::winsize {
        ws_row: size(height),
        ws_col: size(width),
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one `winsize`, which outlives the call.
    unsafe { set_window_size(master.as_fd().as_raw_fd(), &winsize) }
        .map(drop)
        .map_err(|e| Error::io("set the console size", e.into()))
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    use std::path::Path;

    use nix::sys::socket::{ControlMessage, sendmsg};

    use super::*;

    fn send_fd(path: &Path, fd: RawFd) {
        let stream = UnixStream::connect(path).unwrap();
        let data = [std::io::IoSlice::new(b"/dev/pts/9")];
        let fds = [fd];
        sendmsg::<()>(
            stream.as_raw_fd(),
            &data,
            &[ControlMessage::ScmRights(&fds)],
            MsgFlags::empty(),
            None,
        )
        .unwrap();
    }

    #[tokio::test]
    async fn a_descriptor_sent_over_the_socket_is_received() {
        let socket = ConsoleSocket::new().unwrap();
        let (mut reader, writer) = std::io::pipe().unwrap();
        let path = socket.path();
        // The sender closes its copy once sent, as a runtime does.
        let sender = std::thread::spawn(move || send_fd(&path, writer.as_raw_fd()));
        let mut received = socket.receive().await.unwrap();
        sender.join().unwrap();
        received.write_all(b"through").unwrap();
        drop(received);
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        assert_eq!(text, "through");
    }

    #[tokio::test]
    async fn a_peer_that_sends_no_descriptor_is_an_error() {
        let socket = ConsoleSocket::new().unwrap();
        let path = socket.path();
        let sender = std::thread::spawn(move || {
            UnixStream::connect(path).unwrap().write_all(b"x").unwrap();
        });
        let error = socket.receive().await.unwrap_err();
        sender.join().unwrap();
        assert!(error.to_string().contains("receive the console"), "{error}");
    }

    #[test]
    fn resizing_a_pty_master_sets_its_size() {
        let pty = nix::pty::openpty(None, None).unwrap();
        resize(&pty.master, 120, 40).unwrap();
        let mut size = libc::winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ writes one `winsize`.
        let rc = unsafe { libc::ioctl(pty.slave.as_raw_fd(), libc::TIOCGWINSZ, &mut size) };
        assert_eq!(rc, 0);
        assert_eq!((size.ws_col, size.ws_row), (120, 40));
        assert!(resize(&File::open("/dev/null").unwrap(), 1, 1).is_err());
    }
}
