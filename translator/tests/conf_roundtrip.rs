//! A plan printed as jail.conf (`runj plan --format conf`) reads back, through
//! the loader, the resolver and lowering, as the same plan — but for what
//! jail.conf cannot hold: the OCI process becomes a `command` string, which
//! split as /bin/sh would gives back its argv; hooks and annotations are not
//! printed. Strings are hostile: quotes, `$`, `\`, newlines, `;`, `#`.

use proptest::prelude::*;
use runj_translator::conf::resolve;
use runj_translator::emit::{command_line, to_jailconf};
use runj_translator::lower;
use runj_translator::plan::{Address, JailPlan, Mount, Process, Value};

/// Characters that need quoting or escaping somewhere.
const HOSTILE: &str = "[a-zA-Z0-9 \"'$\\\\\n\t;#{}=,*&|()<>~`!?/.-]";

fn hostile(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("{HOSTILE}{{1,{max}}}")).unwrap()
}

/// A path component: hostile, but neither `.` nor `..` nor containing `/`.
fn component() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Z0-9 \"'$\\\\\n\t;#{}=,*&|()~`!?-]{1,8}").unwrap()
}

fn absolute_path() -> impl Strategy<Value = String> {
    prop::collection::vec(component(), 1..4).prop_map(|parts| format!("/{}", parts.join("/")))
}

/// A jail name: no `.` (which makes a child), no `*` (a wildcard), not
/// read as a number (a jail id) by strtol(3), which skips leading blanks and
/// takes a sign.
fn jail_name() -> impl Strategy<Value = String> {
    proptest::string::string_regex(
        "[a-zA-Z_\"'$\\\\;#{}=,&|][a-zA-Z0-9_ \"'$\\\\\n;#{}=,&|-]{0,10}",
    )
    .unwrap()
}

fn address(v4: bool) -> impl Strategy<Value = Address> {
    let interface = prop::option::of(proptest::string::string_regex("[a-z]{2,4}[0-9]").unwrap());
    let addr = if v4 {
        any::<std::net::Ipv4Addr>()
            .prop_map(std::net::IpAddr::V4)
            .boxed()
    } else {
        any::<std::net::Ipv6Addr>()
            .prop_map(std::net::IpAddr::V6)
            .boxed()
    };
    let max: u8 = if v4 { 32 } else { 128 };
    (interface, addr, prop::option::of(0..=max)).prop_map(|(interface, addr, prefix)| Address {
        interface,
        addr,
        mask: prefix.map(runj_translator::plan::Mask::Prefix),
        extra: None,
    })
}

fn mount() -> impl Strategy<Value = Mount> {
    let options = prop::collection::vec(
        proptest::string::string_regex("[a-z][a-z0-9=]{0,6}").unwrap(),
        0..3,
    );
    (
        proptest::string::string_regex("[a-z]{2,8}").unwrap(),
        hostile(12),
        absolute_path(),
        options,
    )
        .prop_map(|(fstype, source, destination, options)| Mount {
            fstype,
            source,
            destination,
            options,
        })
}

fn process() -> impl Strategy<Value = Process> {
    let first = proptest::string::string_regex("[a-zA-Z0-9 \"'$\\\\\n;#/|&*-]{1,10}").unwrap();
    let env = prop::collection::vec(
        (
            proptest::string::string_regex("[A-Z_][A-Z0-9_]{0,6}").unwrap(),
            hostile(10),
        )
            .prop_map(|(k, v)| format!("{k}={v}")),
        0..3,
    );
    let cwd = prop_oneof![Just("/".to_string()), absolute_path()];
    (first, prop::collection::vec(hostile(10), 0..4), env, cwd).prop_map(
        |(first, rest, env, cwd)| Process {
            args: std::iter::once(first).chain(rest).collect(),
            env,
            cwd,
            ..Process::default()
        },
    )
}

/// An rctl rule the kernel takes.
fn rule() -> impl Strategy<Value = runj_translator::rctl::Rule> {
    let resource = prop::sample::select(vec!["memoryuse", "maxproc", "openfiles", "pcpu"]);
    let action = prop::sample::select(vec!["deny", "log", "sigterm"]);
    (
        resource,
        action,
        0u64..1 << 40,
        prop::option::of(Just("/process")),
    )
        .prop_map(|(resource, action, amount, per)| {
            let per = per.filter(|_| resource != "pcpu").unwrap_or_default();
            format!("{resource}:{action}={amount}{per}")
                .parse()
                .unwrap()
        })
}

prop_compose! {
    fn plan()(
        name in jail_name(),
        path in absolute_path(),
        hostname in hostile(20),
        raw_sockets in any::<bool>(),
        securelevel in -1i64..4,
        vnet in prop::sample::select(vec!["new", "inherit"]),
        ip4 in prop::collection::vec(address(true), 0..3),
        ip6 in prop::collection::vec(address(false), 0..3),
        mounts in prop::collection::vec(mount(), 0..3),
        devfs in any::<bool>(),
        start in prop::collection::vec(hostile(16), 0..3),
        stop in prop::collection::vec(hostile(16), 0..2),
        jail_user in prop::option::of(hostile(8)),
        depend in prop::collection::vec(jail_name(), 0..2),
        process in prop::option::of(process()),
        rctl in prop::collection::vec(rule(), 0..3),
    ) -> JailPlan {
        // A name with `:` or `,` cannot be an rctl subject (a warning).
        let rctl = if name.contains([':', ',']) { Vec::new() } else { rctl };
        let mut plan = JailPlan { name, rctl: rctl.into_iter().collect(), ..JailPlan::default() };
        plan.parameters.insert("path".into(), Value::Text(path));
        plan.parameters.insert("host.hostname".into(), Value::Text(hostname));
        plan.parameters.insert("allow.raw_sockets".into(), Value::Bool(raw_sockets));
        plan.parameters.insert("securelevel".into(), Value::Int(securelevel));
        if ip4.is_empty() && ip6.is_empty() {
            plan.parameters.insert("vnet".into(), Value::Mode(runj_translator::plan::Mode::parse(vnet).unwrap()));
        }
        plan.network.ip4 = ip4;
        plan.network.ip6 = ip6;
        plan.mounts.entries = mounts;
        plan.mounts.devfs = devfs;
        plan.commands.start = start.into_iter().map(Into::into).collect();
        plan.commands.stop = stop.into_iter().map(Into::into).collect();
        plan.exec.jail_user = jail_user;
        plan.depend = depend;
        plan.process = process;
        plan
    }
}

/// The plan jail.conf can hold: its process as a `command` string, its
/// rctl rules as the `rctl -a`/`rctl -r` commands around the jail, and
/// mounts without options as `rw` (an fstab line has an options field).
fn expressible(plan: &JailPlan) -> JailPlan {
    let mut expected = plan.clone();
    let rctl = |flag: &str| -> Vec<runj_translator::plan::Command> {
        plan.rctl
            .iter()
            .map(|r| {
                let full = r.for_jail(&plan.name).unwrap();
                format!("/usr/bin/rctl {flag} {}", shlex::try_quote(&full).unwrap()).into()
            })
            .collect()
    };
    let c = &mut expected.commands;
    c.prestart.splice(0..0, rctl("-a"));
    c.poststop.extend(rctl("-r"));
    expected.rctl = Default::default();
    for m in &mut expected.mounts.entries {
        if m.options.is_empty() {
            m.options.push("rw".into());
        }
    }
    if let Some(p) = expected.process.take() {
        expected
            .commands
            .command
            .push(command_line(&p).unwrap().into());
    }
    expected
}

/// What /bin/sh runs for a process's command line.
fn shell_words(p: &Process) -> Vec<String> {
    let mut words = Vec::new();
    if p.cwd != "/" {
        words.extend(["cd".to_string(), p.cwd.clone(), "&&".into(), "exec".into()]);
    }
    if !p.env.is_empty() {
        words.extend(["/usr/bin/env".to_string(), "-i".into()]);
        words.extend(p.env.iter().cloned());
    }
    words.extend(p.args.iter().cloned());
    words
}

fn read_back(text: &str) -> JailPlan {
    let loaded = runj_grammar::load_text(
        "plan.conf",
        text.into(),
        false,
        runj_grammar::Parallelism::One,
    )
    .unwrap_or_else(|e| panic!("{}\n{text}", e.jail_messages().join("\n")));
    let jails = resolve(&loaded, runj_grammar::Parallelism::One);
    assert_eq!(jails.len(), 1, "{text}");
    let lowered = lower(&jails[0]);
    lowered
        .plan
        .unwrap_or_else(|| panic!("{:?}\n{text}", lowered.diagnostics))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn conf_reads_back_as_the_plan(plan in plan()) {
        let (config, diagnostics) = to_jailconf(&plan, &["a header".into()]);
        prop_assert!(!diagnostics.has_errors(), "{diagnostics:?}");
        let text = runj_translator::emit::print_conf(&config);
        prop_assert_eq!(read_back(&text).comparable(), expressible(&plan).comparable(), "{}", text);
    }

    #[test]
    fn rctl_commands_name_the_jail_whatever_its_name(plan in plan()) {
        let (config, _) = to_jailconf(&plan, &[]);
        let back = read_back(&runj_translator::emit::print_conf(&config));
        for (rule, (add, remove)) in plan.rctl.iter().zip(back.commands.prestart.iter().zip(&back.commands.poststop)) {
            let full = format!("jail:{}:{rule}", plan.name);
            prop_assert_eq!(shlex::split(add.text()), Some(vec!["/usr/bin/rctl".into(), "-a".into(), full.clone()]));
            prop_assert_eq!(shlex::split(remove.text()), Some(vec!["/usr/bin/rctl".into(), "-r".into(), full]));
        }
    }

    #[test]
    fn command_lines_split_back_to_argv(p in process()) {
        let line = command_line(&p).unwrap();
        prop_assert_eq!(shlex::split(&line), Some(shell_words(&p)), "{}", line);
    }
}
