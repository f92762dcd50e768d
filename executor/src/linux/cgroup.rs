//! A cgroup per emulated jail: what racct(9) accounts and rctl(8) limits
//! on FreeBSD. Every process that joins the jail joins its cgroup first
//! ([`Cgroup::joiners`]); the jail's rules are written as the controllers'
//! limits, all at once and in an order the kernel accepts
//! ([`Cgroup::apply`]):
//!
//! | rule | cgroup v2 | cgroup v1 |
//! |---|---|---|
//! | `memoryuse:deny=N` | `memory.max` | `memory.limit_in_bytes` |
//! | `swapuse:deny=N` | `memory.swap.max` | `memory.memsw.limit_in_bytes` (memory plus swap) |
//! | `maxproc:deny=N` | `pids.max` | `pids.max` |
//! | `pcpu:deny=P` | `cpu.max` `P·1000 100000` | `cpu.cfs_quota_us` over `cpu.cfs_period_us` 100000 |
//!
//! `pids.max` counts threads as well as processes, so it is a little
//! stricter than `maxproc`. A rule beyond these is reported as not
//! enforced by the emulation. Where a limit is hit differs too: FreeBSD
//! denies the allocation, Linux's memory controller reclaims and then
//! kills (the OOM killer) within the cgroup.
//!
//! The v2 hierarchy is used where its controllers are enabled; otherwise
//! the v1 `memory`, `pids`, `cpu` and `cpuacct` hierarchies, wherever
//! /proc/self/mountinfo says they are mounted.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use runj_translator::rctl::{Rule, Rules};

use crate::error::{Context, Error, Result};
use crate::usage::{Cpu, CpuUsage, Memory, MemoryUsage, Pids, Usage};

/// The parent of every jail's cgroup, in each hierarchy.
const PARENT: &str = "runj";
/// The CFS period a `pcpu` limit is written over, in µs (runc's default).
const PERIOD_US: u64 = 100_000;
/// The v1 controllers a jail's cgroup is made in.
const V1_CONTROLLERS: &[&str] = &["memory", "pids", "cpu", "cpuacct"];
/// What the emulation enforces of a rule: `(resource, action)`, per jail.
const ENFORCED: &[&str] = &["memoryuse", "swapuse", "maxproc", "pcpu"];

/// One jail's cgroup: a directory per hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgroup {
    v2: bool,
    /// (controller, directory); one entry named `""` in v2.
    dirs: Vec<(&'static str, PathBuf)>,
}

impl Cgroup {
    /// The cgroup `leaf` of this system's hierarchy, or why there is none.
    pub fn find(leaf: &str) -> Result<Cgroup> {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
            .context(|| "read /proc/self/mountinfo".into())?;
        let (v2, mounts) = hierarchy(&mountinfo).ok_or_else(|| {
            Error::Unsupported(
                "no cgroup hierarchy with the memory, pids and cpu controllers is mounted".into(),
            )
        })?;
        Ok(Cgroup {
            v2,
            dirs: mounts
                .into_iter()
                .map(|(c, m)| (c, m.join(PARENT).join(leaf)))
                .collect(),
        })
    }

    /// Makes the directories (and, in v2, enables the controllers for
    /// them in their parents).
    pub fn create(&self) -> Result<()> {
        for (_, dir) in &self.dirs {
            let parent = dir.parent().expect("a cgroup has a parent");
            if self.v2 {
                let root = parent.parent().expect("runj's cgroup has a parent");
                enable_controllers(root)?;
                mkdir(parent)?;
                enable_controllers(parent)?;
            } else {
                mkdir(parent)?;
            }
            mkdir(dir)?;
        }
        Ok(())
    }

    /// Removes the directories; their processes are gone. A process that
    /// has just died may still be counted for a moment, so an `EBUSY` is
    /// retried for a second.
    pub fn remove(&self) -> Result<()> {
        for (_, dir) in &self.dirs {
            let deadline = Instant::now() + Duration::from_secs(1);
            loop {
                match std::fs::remove_dir(dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                    Err(e)
                        if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline =>
                    {
                        std::thread::sleep(Duration::from_millis(10))
                    }
                    Err(e) => return Err(Error::os(format!("remove {}", dir.display()), e)),
                }
            }
        }
        Ok(())
    }

    /// The processes in the cgroup (those of every hierarchy).
    pub fn processes(&self) -> Vec<i32> {
        let mut all: Vec<i32> = self
            .dirs
            .iter()
            .filter_map(|(_, dir)| std::fs::read_to_string(dir.join("cgroup.procs")).ok())
            .flat_map(|text| {
                text.lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect::<Vec<i32>>()
            })
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The `cgroup.procs` files a joining process writes `0` to (itself),
    /// opened before it forks.
    pub fn joiners(&self) -> Result<Vec<File>> {
        self.dirs
            .iter()
            .map(|(_, dir)| {
                let procs = dir.join("cgroup.procs");
                File::options()
                    .write(true)
                    .open(&procs)
                    .context(|| format!("open {}", procs.display()))
            })
            .collect()
    }

    /// Writes the limits `rules` ask for (no rule: no limit); returns the
    /// rules not enforced.
    pub fn apply(&self, rules: &Rules) -> Result<Vec<Rule>> {
        let deny = |resource| rules.denied(resource);
        let memory = deny("memoryuse");
        let swap = deny("swapuse");
        let quota = deny("pcpu").map(|p| p * PERIOD_US / 100);
        if self.v2 {
            let max = |v: Option<u64>| v.map_or("max".to_string(), |n| n.to_string());
            self.write("memory", "memory.max", &max(memory))?;
            self.write("memory", "memory.swap.max", &max(swap))?;
            self.write("pids", "pids.max", &max(deny("maxproc")))?;
            self.write("cpu", "cpu.max", &format!("{} {PERIOD_US}", max(quota)))?;
        } else {
            let limit = |v: Option<u64>| v.map_or("-1".to_string(), |n| n.to_string());
            // memsw must never be below the memory limit: lift it first.
            let memsw = self.has("memory", "memory.memsw.limit_in_bytes");
            if memsw {
                self.write("memory", "memory.memsw.limit_in_bytes", "-1")?;
            }
            self.write("memory", "memory.limit_in_bytes", &limit(memory))?;
            match (swap, memory, memsw) {
                (None, _, _) => {}
                (Some(s), Some(m), true) => self.write(
                    "memory",
                    "memory.memsw.limit_in_bytes",
                    &(m + s).to_string(),
                )?,
                (Some(_), None, _) => {
                    return Err(Error::Unsupported(
                        "swapuse: cgroup v1 limits memory plus swap, which needs a memoryuse limit too"
                            .into(),
                    ));
                }
                (Some(_), Some(_), false) => {
                    return Err(Error::Unsupported(
                        "swapuse: the kernel does not account swap (swapaccount=1)".into(),
                    ));
                }
            }
            let pids = deny("maxproc").map_or("max".to_string(), |n| n.to_string());
            self.write("pids", "pids.max", &pids)?;
            self.write("cpu", "cpu.cfs_period_us", &PERIOD_US.to_string())?;
            self.write("cpu", "cpu.cfs_quota_us", &limit(quota))?;
        }
        Ok(rules
            .iter()
            .filter(|r| {
                !(ENFORCED.contains(&r.resource()) && r.action() == "deny" && r.per() == "jail")
            })
            .cloned()
            .collect())
    }

    /// What the jail's processes use now.
    pub fn usage(&self) -> Result<Usage> {
        let number = |c, f| self.read(c, f).map(|t| parse_limit(&t).unwrap_or(0));
        let limit = |c, f| self.read(c, f).map(|t| parse_limit(&t));
        let nonzero = |v: u64| (v > 0).then_some(v);
        if self.v2 {
            let stat = self.read("cpu", "cpu.stat")?;
            let field = |name: &str| keyed(&stat, name).map(|us| us * 1000);
            let events = self.read("memory", "memory.events").unwrap_or_default();
            return Ok(Usage {
                cpu: Cpu {
                    usage: CpuUsage {
                        total: field("usage_usec").unwrap_or(0),
                        user: field("user_usec"),
                        kernel: field("system_usec"),
                    },
                },
                memory: Memory {
                    usage: MemoryUsage {
                        usage: number("memory", "memory.current")?,
                        max: self
                            .read("memory", "memory.peak")
                            .ok()
                            .and_then(|t| parse_limit(&t)),
                        limit: limit("memory", "memory.max")?,
                        failcnt: keyed(&events, "max"),
                    },
                },
                pids: Pids {
                    current: number("pids", "pids.current")?,
                    limit: limit("pids", "pids.max")?,
                },
            });
        }
        let ns = |file| {
            self.read("cpuacct", file)
                .ok()
                .and_then(|t| t.trim().parse().ok())
        };
        Ok(Usage {
            cpu: Cpu {
                usage: CpuUsage {
                    total: number("cpuacct", "cpuacct.usage")?,
                    user: ns("cpuacct.usage_user"),
                    kernel: ns("cpuacct.usage_sys"),
                },
            },
            memory: Memory {
                usage: MemoryUsage {
                    usage: number("memory", "memory.usage_in_bytes")?,
                    max: Some(number("memory", "memory.max_usage_in_bytes")?),
                    // An unlimited v1 limit reads as a huge page-rounded
                    // number.
                    limit: limit("memory", "memory.limit_in_bytes")?
                        .filter(|l| *l < i64::MAX as u64 / 2),
                    failcnt: nonzero(number("memory", "memory.failcnt")?).or(Some(0)),
                },
            },
            pids: Pids {
                current: number("pids", "pids.current")?,
                limit: limit("pids", "pids.max")?,
            },
        })
    }

    fn dir(&self, controller: &str) -> &Path {
        let found = self.dirs.iter().find(|(c, _)| self.v2 || *c == controller);
        &found.expect("the cgroup has every controller it uses").1
    }

    fn has(&self, controller: &str, file: &str) -> bool {
        self.dir(controller).join(file).exists()
    }

    fn write(&self, controller: &str, file: &str, value: &str) -> Result<()> {
        let path = self.dir(controller).join(file);
        std::fs::write(&path, value).context(|| format!("write {value} to {}", path.display()))
    }

    fn read(&self, controller: &str, file: &str) -> Result<String> {
        let path = self.dir(controller).join(file);
        std::fs::read_to_string(&path).context(|| format!("read {}", path.display()))
    }
}

/// The hierarchy to use: v2 (`true`) with its mount, or v1 with each
/// controller's mount.
fn hierarchy(mountinfo: &str) -> Option<(bool, Vec<(&'static str, PathBuf)>)> {
    let mounts: Vec<(&str, &str, &str)> = mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let point = left.split(' ').nth(4)?;
            let mut right = right.split(' ');
            let fstype = right.next()?;
            let options = right.nth(1)?;
            Some((point, fstype, options))
        })
        .collect();
    let v1: Vec<(&'static str, PathBuf)> = V1_CONTROLLERS
        .iter()
        .filter_map(|c| {
            mounts
                .iter()
                .find(|(_, fstype, options)| {
                    *fstype == "cgroup" && options.split(',').any(|o| o == *c)
                })
                .map(|(point, ..)| (*c, PathBuf::from(unescape(point))))
        })
        .collect();
    if v1.len() == V1_CONTROLLERS.len() {
        return Some((false, v1));
    }
    mounts
        .iter()
        .filter(|(_, fstype, _)| *fstype == "cgroup2")
        .map(|(point, ..)| PathBuf::from(unescape(point)))
        .find(|point| {
            let controllers =
                std::fs::read_to_string(point.join("cgroup.controllers")).unwrap_or_default();
            ["memory", "pids", "cpu"]
                .iter()
                .all(|c| controllers.split_whitespace().any(|have| have == *c))
        })
        .map(|point| (true, vec![("", point)]))
}

/// mountinfo's octal escapes of a path (`\040` for a space).
fn unescape(field: &str) -> String {
    runj_translator::fstab::unvis(field)
}

fn mkdir(dir: &Path) -> Result<()> {
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            Err(Error::os(format!("create {}", dir.display()), e))
        }
        _ => Ok(()),
    }
}

/// v2: lets the children of `dir` have the controllers a jail uses.
fn enable_controllers(dir: &Path) -> Result<()> {
    let control = dir.join("cgroup.subtree_control");
    std::fs::write(&control, "+memory +pids +cpu")
        .context(|| format!("enable controllers in {}", control.display()))
}

/// A limit file's value: a number, or `None` for `max`.
fn parse_limit(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

/// The number after `key ` in a flat-keyed file (`cpu.stat`).
fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_controllers_are_found_where_mounted() {
        let mountinfo = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
            32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n\
            35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
            39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n\
            41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
        let (v2, mounts) = hierarchy(mountinfo).unwrap();
        assert!(!v2);
        let shown: Vec<(&str, String)> = mounts
            .iter()
            .map(|(c, p)| (*c, p.display().to_string()))
            .collect();
        assert_eq!(
            shown,
            [
                ("memory", "/sys/fs/cgroup/memory".to_string()),
                ("pids", "/sys/fs/cgroup/pids".to_string()),
                ("cpu", "/sys/fs/cgroup/cpu,cpuacct".to_string()),
                ("cpuacct", "/sys/fs/cgroup/cpu,cpuacct".to_string()),
            ]
        );
        assert_eq!(hierarchy("31 23 0:28 / /x rw - tmpfs tmpfs rw\n"), None);
    }

    /// A cgroup of plain files in a temporary directory: what is written
    /// where (the kernel's own checks are the lifecycle tests' business;
    /// this machine may not have the v2 controllers).
    fn fake(v2: bool) -> (tempfile::TempDir, Cgroup) {
        let dir = tempfile::tempdir().unwrap();
        let dirs = if v2 {
            vec![("", dir.path().to_path_buf())]
        } else {
            V1_CONTROLLERS
                .iter()
                .map(|c| (*c, dir.path().join(c)))
                .collect()
        };
        for (_, d) in &dirs {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(dir.path().join("memory/memory.memsw.limit_in_bytes"), "")
            .unwrap_or_default();
        (dir, Cgroup { v2, dirs })
    }

    fn rules(texts: &[&str]) -> Rules {
        texts.iter().map(|t| t.parse().unwrap()).collect()
    }

    fn read(dir: &Path, file: &str) -> String {
        std::fs::read_to_string(dir.join(file)).unwrap()
    }

    #[test]
    fn v2_limits_are_written_from_the_rules() {
        let (dir, cgroup) = fake(true);
        let unenforced = cgroup
            .apply(&rules(&[
                "memoryuse:deny=1g",
                "swapuse:deny=0",
                "maxproc:deny=8",
                "pcpu:deny=20",
                "openfiles:deny=9",
                "maxproc:log=5",
            ]))
            .unwrap();
        let d = dir.path();
        assert_eq!(read(d, "memory.max"), "1073741824");
        assert_eq!(read(d, "memory.swap.max"), "0");
        assert_eq!(read(d, "pids.max"), "8");
        assert_eq!(read(d, "cpu.max"), "20000 100000");
        let left: Vec<String> = unenforced.iter().map(ToString::to_string).collect();
        assert_eq!(left, ["openfiles:deny=9", "maxproc:log=5"]);
        cgroup.apply(&Rules::default()).unwrap();
        assert_eq!(read(d, "memory.max"), "max");
        assert_eq!(read(d, "memory.swap.max"), "max");
        assert_eq!(read(d, "pids.max"), "max");
        assert_eq!(read(d, "cpu.max"), "max 100000");
    }

    #[test]
    fn v1_limits_are_written_from_the_rules() {
        let (dir, cgroup) = fake(false);
        cgroup
            .apply(&rules(&[
                "memoryuse:deny=1m",
                "swapuse:deny=1m",
                "maxproc:deny=8",
                "pcpu:deny=150",
            ]))
            .unwrap();
        let d = dir.path();
        assert_eq!(read(d, "memory/memory.limit_in_bytes"), "1048576");
        assert_eq!(
            read(d, "memory/memory.memsw.limit_in_bytes"),
            "2097152",
            "memory plus swap"
        );
        assert_eq!(read(d, "pids/pids.max"), "8");
        assert_eq!(read(d, "cpu/cpu.cfs_period_us"), "100000");
        assert_eq!(read(d, "cpu/cpu.cfs_quota_us"), "150000");
        let error = cgroup.apply(&rules(&["swapuse:deny=1m"])).unwrap_err();
        assert!(
            error.to_string().contains("needs a memoryuse limit"),
            "{error}"
        );
        cgroup.apply(&Rules::default()).unwrap();
        assert_eq!(read(d, "memory/memory.limit_in_bytes"), "-1");
        assert_eq!(read(d, "memory/memory.memsw.limit_in_bytes"), "-1");
        assert_eq!(read(d, "pids/pids.max"), "max");
        assert_eq!(read(d, "cpu/cpu.cfs_quota_us"), "-1");
    }

    #[test]
    fn v2_usage_is_read_from_its_files() {
        let (dir, cgroup) = fake(true);
        let d = dir.path();
        for (file, text) in [
            (
                "cpu.stat",
                "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n",
            ),
            ("memory.current", "4096\n"),
            ("memory.peak", "8192\n"),
            ("memory.max", "max\n"),
            ("memory.events", "low 0\nhigh 0\nmax 3\noom 1\n"),
            ("pids.current", "2\n"),
            ("pids.max", "16\n"),
        ] {
            std::fs::write(d.join(file), text).unwrap();
        }
        let usage = cgroup.usage().unwrap();
        assert_eq!(
            (
                usage.cpu.usage.total,
                usage.cpu.usage.user,
                usage.cpu.usage.kernel
            ),
            (1_500_000, Some(1_000_000), Some(500_000))
        );
        let m = &usage.memory.usage;
        assert_eq!(
            (m.usage, m.max, m.limit, m.failcnt),
            (4096, Some(8192), None, Some(3))
        );
        assert_eq!((usage.pids.current, usage.pids.limit), (2, Some(16)));
    }

    #[test]
    fn flat_keyed_files() {
        let stat = "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n";
        assert_eq!(keyed(stat, "user_usec"), Some(1000));
        assert_eq!(keyed(stat, "nr_periods"), None);
        assert_eq!(parse_limit("max\n"), None);
        assert_eq!(parse_limit("42\n"), Some(42));
    }
}
