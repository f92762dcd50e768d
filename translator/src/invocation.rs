//! How jail(8) runs one command string of `exec.*` or `command`
//! (freebsd/freebsd-src usr.sbin/jail/command.c `run_command`): through
//! `/bin/sh -c` when it holds a shell metacharacter, unless that is a
//! single `&` ending it, which starts the command in the background;
//! otherwise split on white space and executed directly.

#[cfg(test)]
use crate::plan::Command;
use crate::plan::{Commands, Process};

/// Characters that make jail(8) run a command through `/bin/sh -c`.
const SHELL_CHARS: &[u8] = b"!\"$&'()*;<>?[\\]`{|}~";

/// [`SHELL_CHARS`] as a table, for one look-up a byte.
const IS_SHELL_CHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < SHELL_CHARS.len() {
        table[SHELL_CHARS[i] as usize] = true;
        i += 1;
    }
    table
};

/// The white space strtok(3) splits on in `run_command`.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}' | '\u{b}' | '\r' | '\n')
}

/// The argv jail(8) passes to execvp(3), and whether it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Empty for a blank command, which jail(8) skips.
    pub argv: Vec<String>,
    /// Ended in `&`: started in its own session, not waited for.
    pub background: bool,
}

/// The invocation of one command string.
pub fn invocation(command: &str) -> Invocation {
    let first = command.bytes().position(|b| IS_SHELL_CHAR[usize::from(b)]);
    let background = first.is_some_and(|at| at + 1 == command.len() && command.ends_with('&'));
    if first.is_some() && !background {
        return Invocation {
            argv: vec!["/bin/sh".into(), "-c".into(), command.into()],
            background: false,
        };
    }
    let body = if background {
        &command[..command.len() - 1]
    } else {
        command
    };
    Invocation {
        argv: body
            .split(is_space)
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect(),
        background,
    }
}

/// The OCI process jail(8)'s `exec.start` and `command` amount to, run
/// from `/`: what a migrated bundle's process is, and what `runj create`
/// runs for a jail.conf plan.
pub fn derived_process(c: &Commands) -> Option<Process> {
    derived_args(c).map(|(args, _)| Process {
        args,
        cwd: "/".into(),
        ..Process::default()
    })
}

/// The argv of that process, and the lists it came from; `None` when they
/// hold no command. One command is its own argv; several become one
/// `/bin/sh -c` script that runs each as jail(8) would, in order, stopping
/// at the first that fails: a background one (`daemon &`) started and not
/// waited for, the last one `exec`ed so that it is the container process.
pub fn derived_args(c: &Commands) -> Option<(Vec<String>, Vec<&'static str>)> {
    let sources: Vec<&'static str> = [("exec.start", &c.start), ("command", &c.command)]
        .into_iter()
        .filter(|(_, l)| !l.is_empty())
        .map(|(n, _)| n)
        .collect();
    // Blank commands run nothing (jail(8) skips them); they stay in the
    // kept lists.
    let commands: Vec<Invocation> = c
        .start
        .iter()
        .chain(&c.command)
        .map(|c| c.invocation().clone())
        .filter(|i| !i.argv.is_empty())
        .collect();
    let args = match commands.as_slice() {
        [] => return None,
        [one] if !one.background => one.argv.clone(),
        many => vec!["/bin/sh".into(), "-c".into(), script(many)],
    };
    Some((args, sources))
}

/// A shell script running each command as jail(8) runs it.
fn script(commands: &[Invocation]) -> String {
    let last = commands.len() - 1;
    let lines: Vec<String> = commands
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let words =
                shlex::try_join(i.argv.iter().map(String::as_str)).expect("argv without NUL bytes");
            match (i.background, n == last) {
                (true, _) => format!("{words} &"),
                (false, true) => format!("exec {words}"),
                (false, false) => format!("{words} || exit"),
            }
        })
        .collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(command: &str) -> (Vec<String>, bool) {
        let i = invocation(command);
        (i.argv, i.background)
    }

    #[test]
    fn plain_commands_are_split_on_white_space() {
        assert_eq!(argv("/bin/sh /etc/rc").0, ["/bin/sh", "/etc/rc"]);
        assert_eq!(argv(" a  b\tc\u{b}d ").0, ["a", "b", "c", "d"]);
        assert_eq!(argv("   "), (vec![], false));
    }

    #[test]
    fn metacharacters_need_the_shell() {
        assert_eq!(argv("echo $HOME").0, ["/bin/sh", "-c", "echo $HOME"]);
        assert_eq!(argv("a & b").0, ["/bin/sh", "-c", "a & b"]);
        assert_eq!(argv("a; b &").0, ["/bin/sh", "-c", "a; b &"]);
        assert_eq!(argv("a && b &").0, ["/bin/sh", "-c", "a && b &"]);
    }

    fn commands(start: &[&str], command: &[&str]) -> Commands {
        Commands {
            start: start.iter().map(|s| Command::new(*s)).collect(),
            command: command.iter().map(|s| Command::new(*s)).collect(),
            ..Commands::default()
        }
    }

    /// Runs a derived process's argv with /bin/sh and returns its output.
    fn output(args: &[String]) -> String {
        let out = std::process::Command::new(&args[0])
            .args(&args[1..])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn several_commands_run_each_as_jail8_would() {
        let (args, sources) = derived_args(&commands(
            &["sleep 0 &", "echo 'a b'", " "],
            &["echo $0 done"],
        ))
        .unwrap();
        assert_eq!(sources, ["exec.start", "command"]);
        assert_eq!(args[..2], ["/bin/sh", "-c"]);
        assert_eq!(
            args[2],
            "sleep 0 &\n/bin/sh -c \"echo 'a b'\" || exit\nexec /bin/sh -c 'echo $0 done'"
        );
        assert_eq!(output(&args), "a b\n/bin/sh done\n");
    }

    #[test]
    fn the_first_failure_stops_the_rest() {
        let (args, _) = derived_args(&commands(&["false", "echo never"], &[])).unwrap();
        assert_eq!(output(&args), "");
        let (one, _) = derived_args(&commands(&["/bin/sh /etc/rc", ""], &[])).unwrap();
        assert_eq!(one, ["/bin/sh", "/etc/rc"]);
        assert_eq!(derived_args(&commands(&["  "], &[])), None);
    }

    #[test]
    fn a_trailing_ampersand_alone_runs_in_the_background() {
        assert_eq!(
            argv("daemon -f &"),
            (vec!["daemon".into(), "-f".into()], true)
        );
        assert_eq!(argv("daemon&"), (vec!["daemon".into()], true));
        assert_eq!(
            argv("daemon & "),
            (
                vec!["/bin/sh".into(), "-c".into(), "daemon & ".into()],
                false
            )
        );
    }
}
