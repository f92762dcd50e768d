//! `hooks` → the plan's hooks (runtime-spec config.md "POSIX-platform
//! Hooks"). The deprecated `prestart` hooks run at the same point of
//! `create` as `createRuntime` hooks and in the same (runtime) namespace,
//! before them; they are kept as the first `createRuntime` hooks, with a
//! warning.

use oci_spec::runtime::{Hook as OciHook, Hooks as OciHooks};

use super::report::Report;
use crate::plan::{Hook, Hooks};

/// The plan's hooks; invalid ones are reported and left out.
pub(super) fn translate(h: &OciHooks, report: &mut Report) -> Hooks {
    let mut stage = |name: &str, hooks: &Option<Vec<OciHook>>| -> Vec<Hook> {
        let hooks = hooks.as_deref().unwrap_or_default();
        hooks
            .iter()
            .enumerate()
            .filter_map(|(i, hook)| translate_one(hook, &format!("hooks.{name}[{i}]"), report))
            .collect()
    };
    #[allow(deprecated)]
    let prestart = stage("prestart", h.prestart());
    let mut hooks = Hooks {
        create_runtime: stage("createRuntime", h.create_runtime()),
        create_container: stage("createContainer", h.create_container()),
        start_container: stage("startContainer", h.start_container()),
        poststart: stage("poststart", h.poststart()),
        poststop: stage("poststop", h.poststop()),
    };
    if !prestart.is_empty() {
        report.warning(
            "hooks.prestart",
            "deprecated; run as the first createRuntime hooks, at the same point of create and in the same namespace",
        );
        hooks.create_runtime.splice(0..0, prestart);
    }
    hooks
}

fn translate_one(hook: &OciHook, at: &str, report: &mut Report) -> Option<Hook> {
    let path = hook.path().to_string_lossy().into_owned();
    let mut ok = true;
    if !path.starts_with('/') {
        report.error(
            format!("{at}.path"),
            format!("\"{path}\" is not an absolute path"),
        );
        ok = false;
    }
    let timeout = match hook.timeout() {
        None => None,
        Some(t) if t > 0 && t <= i64::from(u32::MAX) => Some(t as u32),
        Some(t) => {
            report.error(
                format!("{at}.timeout"),
                format!("{t} is not a number of seconds above zero"),
            );
            ok = false;
            None
        }
    };
    ok.then(|| Hook {
        path,
        args: hook.args().clone().unwrap_or_default(),
        env: hook.env().clone().unwrap_or_default(),
        timeout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn translated(hooks: serde_json::Value) -> (Hooks, Vec<String>) {
        let h: OciHooks = serde_json::from_value(hooks).unwrap();
        let mut report = Report::new(false);
        let out = translate(&h, &mut report);
        (out, report.diagnostics.messages())
    }

    #[test]
    fn every_stage_and_prestart_first() {
        let hook = |p: &str| json!([{ "path": p, "args": [p, "x"], "env": ["A=1"], "timeout": 5 }]);
        let (h, shown) = translated(json!({
            "prestart": hook("/pre"),
            "createRuntime": hook("/cr"),
            "createContainer": hook("/cc"),
            "startContainer": hook("/sc"),
            "poststart": hook("/ps"),
            "poststop": hook("/pt"),
        }));
        let paths = |l: &[Hook]| l.iter().map(|h| h.path.clone()).collect::<Vec<_>>();
        assert_eq!(paths(&h.create_runtime), ["/pre", "/cr"]);
        assert_eq!(paths(&h.create_container), ["/cc"]);
        assert_eq!(paths(&h.start_container), ["/sc"]);
        assert_eq!(paths(&h.poststart), ["/ps"]);
        assert_eq!(paths(&h.poststop), ["/pt"]);
        assert_eq!(h.poststop[0].args, ["/pt", "x"]);
        assert_eq!(h.poststop[0].env, ["A=1"]);
        assert_eq!(h.poststop[0].timeout, Some(5));
        assert_eq!(shown.len(), 1);
        assert!(shown[0].starts_with("warning: hooks.prestart: deprecated"));
    }

    #[test]
    fn errors() {
        let (h, shown) =
            translated(json!({ "poststop": [{ "path": "rel" }, { "path": "/x", "timeout": 0 }] }));
        assert!(h.is_empty());
        assert_eq!(
            shown,
            [
                "error: hooks.poststop[0].path: \"rel\" is not an absolute path",
                "error: hooks.poststop[1].timeout: 0 is not a number of seconds above zero",
            ]
        );
    }
}
