//! How jail(8) runs one command string of `exec.*` or `command`
//! (freebsd/freebsd-src usr.sbin/jail/command.c `run_command`): through
//! `/bin/sh -c` when it holds a shell metacharacter, unless that is a
//! single `&` ending it, which starts the command in the background;
//! otherwise split on white space and executed directly.

/// Characters that make jail(8) run a command through `/bin/sh -c`.
pub const SHELL_CHARS: &[char] = &[
    '!', '"', '$', '&', '\'', '(', ')', '*', ';', '<', '>', '?', '[', '\\', ']', '`', '{', '|',
    '}', '~',
];

/// The white space strtok(3) splits on in `run_command`.
const SPACE: &[char] = &[' ', '\t', '\u{c}', '\u{b}', '\r', '\n'];

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
    let first = command.find(SHELL_CHARS);
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
            .split(SPACE)
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect(),
        background,
    }
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
