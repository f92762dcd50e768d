//! Emitting: a [`JailPlan`] as a jail.conf block (`runj plan --format conf`).
//!
//! The order is fixed and readable: identity, kernel parameters in plan
//! order, network, mounts, exec options, commands, ordering, and last the
//! parameters runj does not know. Reading the output back with
//! `runj conf eval` gives the same parameters.
//!
//! The OCI process becomes `command`: its argv is shell-quoted (so jail(8),
//! which runs any string with shell metacharacters through `/bin/sh -c`,
//! executes exactly that argv), prefixed with `cd` and
//! `exec /usr/bin/env -i` for a working directory and environment. What
//! jail.conf cannot say (a numeric user, rlimits, a terminal, hooks) is
//! written as a comment and reported as a warning.

use runj_grammar::{
    Block, Comment, Config, Item, ItemKind, Name, Op, Param, Span, Value as AstValue,
};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::fstab::render_line;
use crate::plan::{JailPlan, Process, Value};

/// A tree [`to_jailconf`] made, printed: a plan holds text, and the
/// printer adds only ASCII to it, so the jail.conf is text too.
pub fn print_conf(config: &Config) -> String {
    String::from_utf8(runj_grammar::print(config)).expect("a plan's jail.conf is text")
}

/// The plan as a jail.conf tree; `header` lines become leading comments.
pub fn to_jailconf(plan: &JailPlan, header: &[String]) -> (Config, Diagnostics) {
    let mut e = Emitter {
        items: Vec::new(),
        diagnostics: Diagnostics::default(),
    };
    e.identity(plan);
    for (name, value) in &plan.parameters {
        e.kernel(name, value);
    }
    e.network(plan);
    e.mounts(plan);
    e.exec(plan);
    // The process runs after the `command` list, as jail(8) would run one
    // more `command` value.
    let process_line = plan.process.as_ref().and_then(|p| e.process(p));
    let (add_rules, remove_rules) = e.rctl(plan);
    for (stage, list) in plan.commands.stages() {
        let mut lines = crate::plan::texts(list);
        match (stage, &process_line) {
            ("command", Some(line)) => lines.push(line.clone()),
            ("exec.prestart", _) => lines = add_rules.iter().cloned().chain(lines).collect(),
            ("exec.poststop", _) => lines.extend(remove_rules.iter().cloned()),
            _ => {}
        }
        if let Some(bridge) = &plan.network.bridge {
            lines = bridge.around_stage(stage, lines);
        }
        e.list(stage, &lines);
    }
    e.list("depend", &plan.depend);
    e.list("zfs.dataset", &plan.zfs_datasets);
    if !plan.hooks.is_empty() {
        e.unexpressed(
            "hooks",
            "OCI hooks are run by the runj executor; jail.conf has no equivalent",
        );
    }
    for (name, values) in &plan.extra {
        e.param(name, values.clone());
    }
    let mut items: Vec<Item> = header.iter().map(|h| comment(&format!("# {h}"))).collect();
    items.push(item(ItemKind::Block(Block {
        name: name(&plan.name),
        items: e.items,
    })));
    (Config { items }, e.diagnostics)
}

struct Emitter {
    items: Vec<Item>,
    diagnostics: Diagnostics,
}

fn item(kind: ItemKind) -> Item {
    Item {
        kind,
        span: Span::default(),
        blank_before: false,
    }
}

fn comment(text: &str) -> Item {
    item(ItemKind::Comment(Comment {
        text: text.into(),
        trailing: false,
    }))
}

fn name(text: &str) -> Name {
    Name {
        text: text.into(),
        span: Span::default(),
    }
}

pub use crate::catalog::negated_name;

impl Emitter {
    fn param(&mut self, param: &str, values: Vec<String>) {
        let op = if values.is_empty() {
            Op::Bare
        } else {
            Op::Assign
        };
        let values = values.iter().map(AstValue::text).collect();
        self.items.push(item(ItemKind::Param(Param {
            name: name(param),
            is_variable: false,
            op,
            values,
        })));
    }

    fn flag(&mut self, param: &str, on: bool) {
        if on {
            self.param(param, Vec::new());
        }
    }

    fn scalar(&mut self, param: &str, value: Option<String>) {
        if let Some(v) = value {
            self.param(param, vec![v]);
        }
    }

    fn list(&mut self, param: &str, values: &[String]) {
        if !values.is_empty() {
            self.param(param, values.to_vec());
        }
    }

    fn unexpressed(&mut self, subject: &str, message: &str) {
        self.items.push(comment(&format!("# {subject}: {message}")));
        self.diagnostics.push(Diagnostic::warning(subject, message));
    }

    /// The rctl(8) rules: a comment listing them, and the `rctl -a` /
    /// `rctl -r` commands that add them before the jail is made and remove
    /// them after it is gone (rules name the jail, so they may exist before
    /// it: kern_rctl.c `prison_racct_find`).
    fn rctl(&mut self, plan: &JailPlan) -> (Vec<String>, Vec<String>) {
        if plan.rctl.is_empty() {
            return (Vec::new(), Vec::new());
        }
        // The comments name no jail: a name may hold a newline, which
        // would end a comment.
        self.items.push(comment(
            "# rctl(8) rules of the jail, added by exec.prestart and removed by exec.poststop:",
        ));
        let mut add = Vec::new();
        let mut remove = Vec::new();
        for rule in &plan.rctl {
            match rule.for_jail(&plan.name) {
                Ok(full) => {
                    self.items.push(comment(&format!("#   {rule}")));
                    let quoted = shlex::try_quote(&full).expect("rules hold no NUL");
                    add.push(format!("/usr/bin/rctl -a {quoted}"));
                    remove.push(format!("/usr/bin/rctl -r {quoted}"));
                }
                Err(_) => self.unexpressed(
                    "rctl",
                    &format!(
                        "{rule}: the jail's name cannot be an rctl subject (it has ':' or ',')"
                    ),
                ),
            }
        }
        (add, remove)
    }

    fn identity(&mut self, plan: &JailPlan) {
        if let Some(jid) = plan.jid
            && plan.name != jid.to_string()
        {
            self.param("jid", vec![jid.to_string()]);
        }
    }

    fn kernel(&mut self, param: &str, value: &Value) {
        match value {
            Value::Bool(true) => self.param(param, Vec::new()),
            Value::Bool(false) => self.param(&negated_name(param), Vec::new()),
            other => self.param(param, vec![other.to_string()]),
        }
    }

    fn network(&mut self, plan: &JailPlan) {
        let n = &plan.network;
        self.list(
            "ip4.addr",
            &n.ip4.iter().map(ToString::to_string).collect::<Vec<_>>(),
        );
        self.list(
            "ip6.addr",
            &n.ip6.iter().map(ToString::to_string).collect::<Vec<_>>(),
        );
        self.scalar("interface", n.interface.clone());
        let mut vnet = n.vnet_interfaces.clone();
        if let Some(bridge) = &n.bridge {
            if !bridge.is_allocated() {
                self.unexpressed(
                    "network.bridge",
                    "the epair unit and the addresses not given are taken when the container is created; shown are a first container's",
                );
            }
            vnet.push(bridge.jail_interface());
        }
        self.list("vnet.interface", &vnet);
    }

    fn mounts(&mut self, plan: &JailPlan) {
        let m = &plan.mounts;
        if !m.entries.is_empty() {
            let root = plan.path().unwrap_or("").trim_end_matches('/');
            let lines = m
                .entries
                .iter()
                .map(|e| {
                    let target = if e.destination == "/" {
                        root.to_string()
                    } else {
                        format!("{root}{}", e.destination)
                    };
                    render_line(&e.source, &target, &e.fstype, &e.options)
                })
                .collect();
            self.param("mount", lines);
        }
        self.list("mount.fstab", &m.fstab_files);
        self.flag("mount.devfs", m.devfs);
        self.flag("mount.fdescfs", m.fdescfs);
        self.flag("mount.procfs", m.procfs);
    }

    fn exec(&mut self, plan: &JailPlan) {
        let x = &plan.exec;
        self.flag("exec.clean", x.clean);
        self.scalar("exec.jail_user", x.jail_user.clone());
        self.flag("exec.system_jail_user", x.system_jail_user);
        self.scalar("exec.system_user", x.system_user.clone());
        self.scalar("exec.timeout", x.timeout.map(|t| t.to_string()));
        self.scalar("exec.consolelog", x.consolelog.clone());
        self.scalar("exec.fib", x.fib.map(|t| t.to_string()));
        self.scalar("stop.timeout", x.stop_timeout.map(|t| t.to_string()));
        self.flag("ip_hostname", x.ip_hostname);
        self.flag("allow.dying", x.allow_dying);
    }

    /// Notes what jail.conf cannot say about the process, and returns its
    /// command line.
    fn process(&mut self, p: &Process) -> Option<String> {
        let line = command_line(p)
            .map_err(|message| {
                self.items.push(comment(&format!("# process: {message}")));
                self.diagnostics
                    .push(Diagnostic::error("process.args", message));
            })
            .ok();
        if p.user.uid != 0 || p.user.gid != 0 || !p.user.additional_gids.is_empty() {
            let message = format!(
                "runs as uid {} gid {} (additional gids {:?}); jail.conf names users instead",
                p.user.uid, p.user.gid, p.user.additional_gids
            );
            self.unexpressed("process.user", &message);
        }
        if !p.rlimits.is_empty() {
            let kinds: Vec<&str> = p.rlimits.iter().map(|r| r.kind.as_str()).collect();
            self.unexpressed(
                "process.rlimits",
                &format!("{} are set by the runj executor", kinds.join(", ")),
            );
        }
        if p.terminal {
            self.unexpressed(
                "process.terminal",
                "the process gets a terminal from the runj executor",
            );
        }
        if let Some(umask) = p.umask {
            self.unexpressed(
                "process.user.umask",
                &format!("{umask:04o} is set by the runj executor"),
            );
        }
        line
    }
}

/// The process as one shell command line that runs exactly its argv.
pub fn command_line(p: &Process) -> Result<String, String> {
    let quote = |words: &[String]| {
        shlex::try_join(words.iter().map(String::as_str))
            .map_err(|e| format!("cannot quote {words:?}: {e}"))
    };
    let first = p.args.first().ok_or("the process has no arguments")?;
    let mut line = String::new();
    if p.cwd != "/" && !p.cwd.is_empty() {
        line.push_str(&format!(
            "cd {} && exec ",
            quote(std::slice::from_ref(&p.cwd))?
        ));
    }
    if !p.env.is_empty() {
        if first.contains('=') {
            return Err(format!(
                "argument 0 \"{first}\" contains '=', which env(1) would read as a variable"
            ));
        }
        line.push_str(&format!("/usr/bin/env -i {} ", quote(&p.env)?));
    }
    line.push_str(&quote(&p.args)?);
    Ok(line)
}
