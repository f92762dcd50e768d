//! containerd's `Update` and `Stats` for the container: the runtime's
//! `update --resources FILE ID` and `events --stats ID` (runc's command
//! lines, as containerd's runc shim runs them), translated to and from
//! what the task API carries.
//!
//! `Update` carries the runtime-spec's `LinuxResources`, which `ctr task
//! update` and the CRI encode as JSON in an `Any`
//! (`types.containerd.io/opencontainers/runtime-spec/1/LinuxResources`);
//! its bytes go to the runtime as they are. `Stats` answers with cgroups
//! v1 `Metrics` (`io.containerd.cgroups.v1.Metrics`, which `ctr task
//! metrics` and the CRI read) holding what the runtime's stats event says:
//! CPU time, memory use and limit, processes and their limit.

use containerd_shim::protos::cgroups::metrics::{
    CPUStat, CPUUsage, MemoryEntry, MemoryStat, Metrics, PidsStat,
};
use containerd_shim::protos::protobuf::Message;
use containerd_shim::protos::protobuf::well_known_types::any::Any;
use serde_json::Value as Json;

use crate::error::{Error, IoContext, Result};

/// The type containerd's typeurl gives `specs.LinuxResources`.
const LINUX_RESOURCES: &str = "opencontainers/runtime-spec/1/LinuxResources";
/// The type of the metrics `Stats` returns.
const METRICS_V1: &str = "io.containerd.cgroups.v1.Metrics";

/// The resources of an update as a file for `runtime update --resources`.
pub fn resources_file(any: &Any) -> Result<tempfile::NamedTempFile> {
    if !any.type_url.ends_with(LINUX_RESOURCES) {
        return Err(Error::InvalidArgument(format!(
            "update resources of type {:?}; runj takes {LINUX_RESOURCES}",
            any.type_url
        )));
    }
    let mut file = tempfile::NamedTempFile::new()
        .context(|| "create a file for the update's resources".into())?;
    std::io::Write::write_all(&mut file, &any.value)
        .context(|| "write the update's resources".into())?;
    Ok(file)
}

/// The metrics of a runtime's `events --stats` output (runc's
/// `{"type":"stats","id":…,"data":{…}}`).
pub fn metrics(event: &str) -> Result<Any> {
    let event: Json = serde_json::from_str(event).map_err(|e| {
        Error::io(
            format!("read the runtime's stats {event:?}"),
            std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        )
    })?;
    let data = &event["data"];
    let number = |path: &[&str]| {
        path.iter()
            .try_fold(data, |v, key| v.get(*key))
            .and_then(Json::as_u64)
            .unwrap_or(0)
    };
    let mut metrics = Metrics::new();
    metrics.cpu = Some(CPUStat {
        usage: Some(CPUUsage {
            total: number(&["cpu", "usage", "total"]),
            kernel: number(&["cpu", "usage", "kernel"]),
            user: number(&["cpu", "usage", "user"]),
            ..CPUUsage::new()
        })
        .into(),
        ..CPUStat::new()
    })
    .into();
    metrics.memory = Some(MemoryStat {
        usage: Some(MemoryEntry {
            usage: number(&["memory", "usage", "usage"]),
            limit: number(&["memory", "usage", "limit"]),
            max: number(&["memory", "usage", "max"]),
            failcnt: number(&["memory", "usage", "failcnt"]),
            ..MemoryEntry::new()
        })
        .into(),
        ..MemoryStat::new()
    })
    .into();
    metrics.pids = Some(PidsStat {
        current: number(&["pids", "current"]),
        limit: number(&["pids", "limit"]),
        ..PidsStat::new()
    })
    .into();
    let value = metrics
        .write_to_bytes()
        .map_err(|e| Error::io("encode the metrics", std::io::Error::other(e)))?;
    Ok(Any {
        type_url: METRICS_V1.into(),
        value,
        ..Any::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stats_event_becomes_v1_metrics() {
        let any = metrics(
            r#"{"type":"stats","id":"c","data":{"cpu":{"usage":{"total":5,"user":3,"kernel":2}},"memory":{"usage":{"usage":1024,"limit":4096,"max":2048,"failcnt":1}},"pids":{"current":2,"limit":8}}}"#,
        )
        .unwrap();
        assert_eq!(any.type_url, "io.containerd.cgroups.v1.Metrics");
        let back = Metrics::parse_from_bytes(&any.value).unwrap();
        assert_eq!(back.cpu.usage.total, 5);
        assert_eq!(back.cpu.usage.user, 3);
        assert_eq!(back.cpu.usage.kernel, 2);
        assert_eq!(back.memory.usage.usage, 1024);
        assert_eq!(back.memory.usage.limit, 4096);
        assert_eq!(back.memory.usage.max, 2048);
        assert_eq!(back.memory.usage.failcnt, 1);
        assert_eq!((back.pids.current, back.pids.limit), (2, 8));
        assert!(metrics("not json").is_err());
    }

    #[test]
    fn only_linux_resources_are_taken() {
        let any = Any {
            type_url: "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources".into(),
            value: br#"{"memory":{"limit":1}}"#.to_vec(),
            ..Any::new()
        };
        let file = resources_file(&any).unwrap();
        assert_eq!(
            std::fs::read_to_string(file.path()).unwrap(),
            r#"{"memory":{"limit":1}}"#
        );
        let other = Any {
            type_url: "types.containerd.io/opencontainers/runtime-spec/1/WindowsResources".into(),
            ..Any::new()
        };
        assert!(resources_file(&other).is_err());
    }
}
