//! A jail's resource usage, as `runj events --stats` prints it: the shape
//! of runc's `events --stats` (opencontainers/runc types/events.go `Event`
//! and `Stats`: `cpu.usage`, `memory.usage`, `pids`), so that tools that
//! read runc's output read runj's.

use serde::Serialize;

/// What a backend measures of a jail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub cpu: Cpu,
    pub memory: Memory,
    pub pids: Pids,
}

/// CPU time used, in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Cpu {
    pub usage: CpuUsage,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CpuUsage {
    pub total: u64,
    /// In user mode, where the backend tells them apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Memory {
    pub usage: MemoryUsage,
}

/// Bytes of memory in use, the most used, the limit (absent when none),
/// and how often the limit was hit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MemoryUsage {
    pub usage: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failcnt: Option<u64>,
}

/// Processes in the jail, and their limit (absent when none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pids {
    pub current: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

impl Usage {
    /// FreeBSD's rctl_get_racct(2) answer (`cputime=3,…,memoryuse=1024,
    /// maxproc=2,…`; kern_rctl.c `rctl_racct_to_sbuf`): CPU time comes in
    /// seconds, memory as the resident set.
    pub fn from_racct(text: &str) -> Usage {
        let value = |name: &str| {
            text.split(',')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| *k == name)
                .and_then(|(_, v)| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Usage {
            cpu: Cpu {
                usage: CpuUsage {
                    total: value("cputime").saturating_mul(1_000_000_000),
                    ..CpuUsage::default()
                },
            },
            memory: Memory {
                usage: MemoryUsage {
                    usage: value("memoryuse"),
                    ..MemoryUsage::default()
                },
            },
            pids: Pids {
                current: value("maxproc"),
                limit: None,
            },
        }
    }

    /// runc's event: `{"type":"stats","id":ID,"data":{…}}`.
    pub fn event(&self, id: &str) -> serde_json::Value {
        serde_json::json!({ "type": "stats", "id": id, "data": self })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn racct_answers_are_read_by_name() {
        let usage = Usage::from_racct(
            "cputime=7,datasize=4096,stacksize=0,coredumpsize=0,memoryuse=2097152,memorylocked=0,maxproc=3,openfiles=20,vmemoryuse=1,pcpu=1",
        );
        assert_eq!(usage.cpu.usage.total, 7_000_000_000);
        assert_eq!(usage.memory.usage.usage, 2097152);
        assert_eq!(usage.pids.current, 3);
        assert_eq!(
            usage.event("c1").to_string(),
            r#"{"type":"stats","id":"c1","data":{"cpu":{"usage":{"total":7000000000}},"memory":{"usage":{"usage":2097152}},"pids":{"current":3}}}"#
        );
    }
}
