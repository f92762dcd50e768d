//! The FreeBSD system calls the backend makes, as thin safe wrappers over
//! the `libc` crate: jail_set(2), jail_get(2), jail_remove(2),
//! jail_attach(2), nmount(2), unmount(2), statfs(2), setfib(2), rctl(2),
//! and
//! sysctl(3) for the process list (`kern.proc.proc`) and for the types of
//! jail parameters (`security.jail.param.*`). The iovec arrays come from
//! [`super::encode`]; a kernel message left in `errmsg` becomes
//! [`Error::Refused`].

use std::ffi::{CString, OsStr, c_char, c_int, c_uint};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::encode::{KernelType, Request};
use crate::error::{Context, Error, Result};
use crate::host::Jid;
use runj_translator::catalog::without_no;

unsafe extern "C" {
    /// setfib(2), which the `libc` crate does not declare
    /// (freebsd/freebsd-src sys/sys/socket.h).
    fn setfib(fib: c_int) -> c_int;
    /// rctl(2) (sys/sys/rctl.h), which the `libc` crate does not declare.
    fn rctl_add_rule(
        inbuf: *const c_char,
        inlen: usize,
        outbuf: *mut c_char,
        outlen: usize,
    ) -> c_int;
    fn rctl_remove_rule(
        inbuf: *const c_char,
        inlen: usize,
        outbuf: *mut c_char,
        outlen: usize,
    ) -> c_int;
    fn rctl_get_racct(
        inbuf: *const c_char,
        inlen: usize,
        outbuf: *mut c_char,
        outlen: usize,
    ) -> c_int;
}

/// `kern.racct.enable`: whether the kernel accounts resources, which rctl
/// needs; the same check and advice as rctl(8)'s `enosys()`
/// (usr.bin/rctl/rctl.c).
pub fn racct_enabled() -> Result<()> {
    let name = c"kern.racct.enable";
    let mut value: c_int = 0;
    let mut len = size_of::<c_int>();
    // SAFETY: `value` has room for the int the sysctl holds; `len` says so.
    let result = unsafe {
        libc::sysctlbyname(
            name.as_ptr(),
            (&raw mut value).cast(),
            &mut len,
            std::ptr::null(),
            0,
        )
    };
    let refused = |message: &str| Error::Refused {
        context: "resource limits".into(),
        message: message.into(),
    };
    match (result, value) {
        (0, 0) => Err(refused(
            "RACCT/RCTL is present but disabled: set kern.racct.enable=1 in /boot/loader.conf and reboot",
        )),
        (0, _) => Ok(()),
        _ if io::Error::last_os_error().raw_os_error() == Some(libc::ENOENT) => Err(refused(
            "the kernel has no RACCT/RCTL support (options RACCT and RCTL); see rctl(8)",
        )),
        _ => Err(io::Error::last_os_error()).context(|| "sysctl kern.racct.enable".into()),
    }
}

/// rctl_add_rule(2) of a whole rule (`jail:NAME:memoryuse:deny=1024`).
pub fn rctl_add(rule: &str) -> Result<()> {
    rctl_call(rctl_add_rule, rule, &mut []).context(|| format!("rctl_add_rule {rule}"))
}

/// rctl_remove_rule(2) of the rules a filter matches.
pub fn rctl_remove(filter: &str) -> Result<()> {
    rctl_call(rctl_remove_rule, filter, &mut []).context(|| format!("rctl_remove_rule {filter}"))
}

/// rctl_get_racct(2): a subject's usage as `resource=amount,…`.
pub fn rctl_usage(filter: &str) -> Result<String> {
    let mut out = vec![0u8; 4096];
    loop {
        match rctl_call(rctl_get_racct, filter, &mut out) {
            Err(e) if e.raw_os_error() == Some(libc::ERANGE) => out.resize(out.len() * 4, 0),
            Err(e) => return Err(e).context(|| format!("rctl_get_racct {filter}")),
            Ok(()) => {
                let end = out.iter().position(|b| *b == 0).unwrap_or(out.len());
                return Ok(String::from_utf8_lossy(&out[..end]).into_owned());
            }
        }
    }
}

type RctlCall = unsafe extern "C" fn(*const c_char, usize, *mut c_char, usize) -> c_int;

/// One rctl(2) call: the input with its NUL counted, as rctl(8) passes it.
fn rctl_call(f: RctlCall, input: &str, out: &mut [u8]) -> io::Result<()> {
    let c_input = CString::new(input).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let len = input.len() + 1;
    let (out_ptr, out_len) = match out.is_empty() {
        true => (std::ptr::null_mut(), 0),
        false => (out.as_mut_ptr().cast(), out.len()),
    };
    // SAFETY: the input is NUL-terminated and `len` long; the output
    // buffer, if any, has `out_len` bytes; both outlive the call.
    checked(unsafe { f(c_input.as_ptr(), len, out_ptr, out_len) })
}

/// The shape of jail_set(2), jail_get(2) and nmount(2).
type IovecCall = unsafe extern "C" fn(*mut libc::iovec, c_uint, c_int) -> c_int;

/// A failed call: errno, and the message the kernel left in `errmsg`.
struct Failure {
    errno: io::Error,
    message: Option<String>,
}

impl Failure {
    /// The kernel's message if it left one, else errno, with `context`.
    fn into_error(self, context: &str) -> Error {
        match self.message {
            Some(message) => Error::Refused {
                context: context.to_string(),
                message,
            },
            None => Error::os(context, self.errno),
        }
    }
}

/// Makes the call on the request's buffers.
fn call(f: IovecCall, request: &mut Request) -> Result<c_int, Failure> {
    let flags = request.flags;
    let mut iov: Vec<libc::iovec> = request
        .parts_mut()
        .iter_mut()
        .map(|part| match part {
            Some(buffer) => libc::iovec {
                iov_base: buffer.as_mut_ptr().cast(),
                iov_len: buffer.len(),
            },
            None => libc::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            },
        })
        .collect();
    let count = c_uint::try_from(iov.len()).expect("a request has few iovecs");
    // SAFETY: every iovec points into a buffer of `request`, which lives,
    // unmoved, until the call returns; the kernel writes only into the
    // errmsg buffer, within its length.
    let result = unsafe { f(iov.as_mut_ptr(), count, flags) };
    if result >= 0 {
        return Ok(result);
    }
    let errno = io::Error::last_os_error();
    Err(Failure {
        errno,
        message: request.errmsg(),
    })
}

/// jail_set(2): the jail's id.
pub fn jail_set(request: &mut Request) -> Result<Jid> {
    call(libc::jail_set, request).map_err(|f| f.into_error("jail_set"))
}

/// jail_get(2) of a request naming a jail: its id, or `None` when there is
/// no such jail (`ENOENT`).
pub fn jail_find(request: &mut Request) -> Result<Option<Jid>> {
    match call(libc::jail_get, request) {
        Ok(jid) => Ok(Some(jid)),
        Err(f) if f.errno.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(f) => Err(f.into_error("jail_get")),
    }
}

/// nmount(2); `context` names the mount in errors.
pub fn nmount(request: &mut Request, context: &str) -> Result<()> {
    call(libc::nmount, request)
        .map(drop)
        .map_err(|f| f.into_error(context))
}

/// jail_remove(2): kills the jail's processes and removes it.
pub fn jail_remove(jid: Jid) -> Result<()> {
    // SAFETY: jail_remove(2) takes a plain int.
    checked(unsafe { libc::jail_remove(jid) }).context(|| format!("jail_remove {jid}"))
}

/// jail_attach(2): the calling process joins the jail.
pub fn jail_attach(jid: Jid) -> io::Result<()> {
    // SAFETY: jail_attach(2) takes a plain int.
    checked(unsafe { libc::jail_attach(jid) })
}

/// setfib(2): the routing table of the calling process.
pub fn set_fib(fib: u32) -> io::Result<()> {
    let fib = c_int::try_from(fib).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: setfib(2) takes a plain int.
    checked(unsafe { setfib(fib) })
}

/// unmount(2) with no flags, as umount(8) without `-f`.
pub fn unmount(path: &Path) -> Result<()> {
    let what = || format!("umount {}", path.display());
    let c_path = c_path(path).context(what)?;
    // SAFETY: `c_path` is a NUL-terminated path that outlives the call.
    checked(unsafe { libc::unmount(c_path.as_ptr(), 0) }).context(what)
}

/// The filesystem a path is on, from statfs(2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mounted {
    /// Its type (`f_fstypename`).
    pub fstype: String,
    /// Where it is mounted (`f_mntonname`).
    pub on: PathBuf,
    /// Its id (`f_fsid`), which unmount(2) takes with `MNT_BYFSID`.
    pub fsid: [i32; 2],
}

/// unmount(2) of the filesystem `fsid` (`MNT_BYFSID`), wherever it is
/// mounted now.
pub fn unmount_fsid(fsid: [i32; 2]) -> Result<()> {
    let name = format!("FSID:{}:{}", fsid[0], fsid[1]);
    let c_name = std::ffi::CString::new(name.clone()).expect("digits have no NUL");
    // SAFETY: a NUL-terminated name that outlives the call.
    checked(unsafe { libc::unmount(c_name.as_ptr(), libc::MNT_BYFSID) })
        .context(|| format!("umount {name}"))
}

/// statfs(2) of `path`.
pub fn mounted(path: &Path) -> Result<Mounted> {
    let what = || format!("statfs {}", path.display());
    let c_path = c_path(path).context(what)?;
    let mut stat = std::mem::MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: statfs(2) fills the struct when it succeeds; it is read only
    // then.
    checked(unsafe { libc::statfs(c_path.as_ptr(), stat.as_mut_ptr()) }).context(what)?;
    // SAFETY: statfs(2) succeeded.
    let stat = unsafe { stat.assume_init() };
    // SAFETY: an fsid_t is two ints (sys/mount.h); libc keeps its fields
    // private.
    let fsid: [i32; 2] = unsafe { std::ptr::read_unaligned((&raw const stat.f_fsid).cast()) };
    Ok(Mounted {
        fstype: String::from_utf8_lossy(&c_chars(&stat.f_fstypename)).into_owned(),
        on: PathBuf::from(OsStr::from_bytes(&c_chars(&stat.f_mntonname))),
        fsid,
    })
}

/// The processes whose jail is `jid` (`ki_jid`), from the
/// `kern.proc.proc` sysctl, as usr.sbin/jail/command.c `term_procs` finds
/// them.
pub fn jail_processes(jid: Jid) -> Result<Vec<i32>> {
    let list = read(&[libc::CTL_KERN, libc::KERN_PROC, libc::KERN_PROC_PROC])
        .context(|| "sysctl kern.proc.proc".into())?;
    let size = size_of::<libc::kinfo_proc>();
    let mut pids = Vec::new();
    let mut rest = list.as_slice();
    while !rest.is_empty() {
        if rest.len() < size {
            return Err(short_record(rest.len()));
        }
        // SAFETY: `rest` holds at least one kinfo_proc, plain data for
        // which any bytes are a value; read_unaligned copes with the
        // buffer's alignment.
        let proc: libc::kinfo_proc = unsafe { std::ptr::read_unaligned(rest.as_ptr().cast()) };
        let step = usize::try_from(proc.ki_structsize).unwrap_or(0);
        if step < size {
            return Err(short_record(step));
        }
        if proc.ki_jid == jid {
            pids.push(proc.ki_pid);
        }
        rest = rest.get(step..).ok_or_else(|| short_record(rest.len()))?;
    }
    Ok(pids)
}

/// How many threads this process has (`ki_numthreads` of the
/// `kern.proc.pid` sysctl).
pub fn own_threads() -> Result<usize> {
    let pid = std::process::id() as libc::c_int;
    let record = read(&[libc::CTL_KERN, libc::KERN_PROC, libc::KERN_PROC_PID, pid])
        .context(|| "sysctl kern.proc.pid".into())?;
    if record.len() < size_of::<libc::kinfo_proc>() {
        return Err(short_record(record.len()));
    }
    // SAFETY: as in `jail_processes`: one whole kinfo_proc of plain data.
    let proc: libc::kinfo_proc = unsafe { std::ptr::read_unaligned(record.as_ptr().cast()) };
    Ok(usize::try_from(proc.ki_numthreads).unwrap_or(0))
}

/// When process `pid` started (`ki_start`, microseconds since the epoch),
/// if it exists and is not a zombie.
pub fn process_start(pid: i32) -> Option<u64> {
    let record = read(&[libc::CTL_KERN, libc::KERN_PROC, libc::KERN_PROC_PID, pid]).ok()?;
    if record.len() < size_of::<libc::kinfo_proc>() {
        return None;
    }
    // SAFETY: as in `jail_processes`: one whole kinfo_proc of plain data.
    let proc: libc::kinfo_proc = unsafe { std::ptr::read_unaligned(record.as_ptr().cast()) };
    if proc.ki_stat == libc::SZOMB {
        return None;
    }
    let start = proc.ki_start;
    Some(u64::try_from(start.tv_sec).ok()? * 1_000_000 + u64::try_from(start.tv_usec).ok()?)
}

/// A process record too short to read.
fn short_record(len: usize) -> Error {
    Error::Unsupported(format!(
        "sysctl kern.proc.proc: a {len}-byte record is shorter than the {}-byte kinfo_proc runj reads",
        size_of::<libc::kinfo_proc>()
    ))
}

/// The kernel's type for a jail parameter, looked up as libjail's
/// `jailparam_type` does (freebsd/freebsd-src lib/libjail/jail.c): the
/// `security.jail.param.NAME` sysctl, else, for a `no` name, the boolean
/// it negates. A parameter the kernel does not describe cannot be typed,
/// so it is refused.
pub fn param_type(name: &str) -> Result<KernelType> {
    if let Some(ty) = described(name)? {
        return Ok(ty);
    }
    if let Some(positive) = without_no(name)
        && let Some(KernelType::Bool { .. }) = described(&positive)?
    {
        return Ok(KernelType::Bool { negated: true });
    }
    Err(Error::Unsupported(format!(
        "{name}: unknown parameter: the kernel describes no security.jail.param.{name}, so its type cannot be known"
    )))
}

/// The type `security.jail.param.NAME` describes, if there is one.
fn described(name: &str) -> Result<Option<KernelType>> {
    let sysctl = format!("security.jail.param.{name}");
    let Some(mib) = mib(&sysctl)? else {
        return Ok(None);
    };
    // The format of an oid: {0, 4, oid…} gives its kind then its format
    // (freebsd/freebsd-src sys/kern/kern_sysctl.c `sysctl_sysctl_oidfmt`).
    let oidfmt: Vec<c_int> = [0, 4].iter().chain(&mib).copied().collect();
    let description = read(&oidfmt).context(|| format!("sysctl oidfmt {sysctl}"))?;
    let malformed = || Error::Unsupported(format!("{sysctl}: malformed description"));
    let (kind, format) = description.split_at_checked(4).ok_or_else(malformed)?;
    let kind = u32::from_ne_bytes(kind.try_into().map_err(|_| malformed())?);
    let format = String::from_utf8_lossy(c_text(format)).into_owned();
    // A string parameter's sysctl holds its maximum length, in decimal
    // (sys/kern/kern_jail.c `sysctl_jail_param`).
    let string_max = || {
        let value = read(&mib).context(|| format!("sysctl {sysctl}"))?;
        let text = String::from_utf8_lossy(c_text(&value)).into_owned();
        text.trim().parse().map_err(|_| malformed())
    };
    KernelType::described(name, kind, &format, string_max).map(Some)
}

/// A sysctl's MIB by name; `None` when there is no such sysctl.
fn mib(name: &str) -> Result<Option<Vec<c_int>>> {
    let c_name =
        CString::new(name).map_err(|_| Error::Plan(format!("{name:?}: contains a NUL byte")))?;
    let mut mib = vec![0 as c_int; libc::CTL_MAXNAME as usize];
    let mut len = mib.len();
    // SAFETY: `mib` has room for `len` ints; the name is NUL-terminated.
    let result = unsafe { libc::sysctlnametomib(c_name.as_ptr(), mib.as_mut_ptr(), &mut len) };
    match checked(result) {
        Ok(()) => {
            mib.truncate(len);
            Ok(Some(mib))
        }
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(Error::os(format!("sysctl {name}"), e)),
    }
}

/// A sysctl's value, in a buffer sized by a first call and grown while the
/// value grows (`ENOMEM`).
fn read(mib: &[c_int]) -> io::Result<Vec<u8>> {
    let count = c_uint::try_from(mib.len()).expect("a MIB is short");
    loop {
        let mut len = 0;
        // SAFETY: a NULL buffer asks for the value's size only.
        checked(unsafe {
            libc::sysctl(
                mib.as_ptr(),
                count,
                std::ptr::null_mut(),
                &mut len,
                std::ptr::null(),
                0,
            )
        })?;
        len += len / 4;
        let mut buffer = vec![0u8; len];
        // SAFETY: `buffer` has room for `len` bytes, which sysctl(3)
        // updates to what it wrote.
        let result = unsafe {
            libc::sysctl(
                mib.as_ptr(),
                count,
                buffer.as_mut_ptr().cast(),
                &mut len,
                std::ptr::null(),
                0,
            )
        };
        match checked(result) {
            Ok(()) => {
                buffer.truncate(len);
                return Ok(buffer);
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOMEM) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// A C return value: negative is errno.
fn checked(result: c_int) -> io::Result<()> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// The bytes of a C string in a buffer, up to its NUL.
fn c_text(bytes: &[u8]) -> &[u8] {
    bytes.split(|b| *b == 0).next().unwrap_or_default()
}

/// The bytes of a C string in a fixed `char` array, up to its NUL.
fn c_chars(chars: &[c_char]) -> Vec<u8> {
    chars
        .iter()
        .map(|c| *c as u8)
        .take_while(|b| *b != 0)
        .collect()
}
