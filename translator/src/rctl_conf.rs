//! `/etc/rctl.conf`: the rules FreeBSD adds at boot, read the way
//! libexec/rc/rc.d/rctl reads it (freebsd/freebsd-src): a line's first
//! word is a rule (`while read var comments`: leading blanks skipped, what
//! follows the first blank ignored), and lines whose word starts with `#`
//! and empty lines are skipped. Rules whose subject is a jail (`jail:` or
//! rctl(8)'s `j:`) are kept per jail name for `runj migrate --rctl`.

use indexmap::IndexMap;

use crate::rctl::{Rule, Rules};

/// The jails' rules of one rctl.conf.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RctlConf {
    /// Each jail's rules, by jail name, in file order.
    pub jails: IndexMap<String, Rules>,
    /// How many rules name another kind of subject (users, login classes,
    /// processes); they stay in rctl.conf.
    pub other_subjects: usize,
}

/// Reads an rctl.conf text; `file` names it in errors (`FILE:LINE: …`).
pub fn parse(file: &str, text: &str) -> Result<RctlConf, Vec<String>> {
    let mut conf = RctlConf::default();
    let mut errors = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let Some(word) = line.split_ascii_whitespace().next() else {
            continue;
        };
        if word.starts_with('#') {
            continue;
        }
        let mut fields = word.splitn(3, ':');
        let (subject, id, rest) = (fields.next(), fields.next(), fields.next());
        match (subject, id, rest) {
            (Some("jail" | "j"), Some(jail), Some(rule)) if !jail.is_empty() => {
                match rule.parse::<Rule>() {
                    Ok(rule) => {
                        conf.jails.entry(jail.to_string()).or_default().add(rule);
                    }
                    Err(e) => errors.push(format!("{file}:{}: {e}", n + 1)),
                }
            }
            (
                Some("user" | "u" | "loginclass" | "l" | "c" | "class" | "process" | "p"),
                Some(_),
                Some(_),
            ) => conf.other_subjects += 1,
            _ => errors.push(format!(
                "{file}:{}: \"{word}\" is not a rule (SUBJECT:ID:RESOURCE:ACTION=AMOUNT[/PER])",
                n + 1
            )),
        }
    }
    match errors.is_empty() {
        true => Ok(conf),
        false => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jail_rules_are_kept_per_jail() {
        let text = "# limits\n\
                    jail:www:memoryuse:deny=1G\n\
                    \tj:www:pcpu:deny=50   # half a CPU\n\
                    user:1001:maxproc:deny=100\n\
                    \n\
                    jail:db:openfiles:deny=4096/jail\n\
                    jail:www:memoryuse:deny=2G\n";
        let conf = parse("rctl.conf", text).unwrap();
        let shown: Vec<(String, Vec<String>)> = conf
            .jails
            .iter()
            .map(|(j, rules)| (j.clone(), rules.iter().map(ToString::to_string).collect()))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "www".to_string(),
                    vec![
                        "memoryuse:deny=2147483648".to_string(),
                        "pcpu:deny=50".to_string()
                    ]
                ),
                ("db".to_string(), vec!["openfiles:deny=4096".to_string()]),
            ]
        );
        assert_eq!(conf.other_subjects, 1);
    }

    #[test]
    fn errors_name_the_line() {
        let errors = parse(
            "rctl.conf",
            "jail:www:memoryuse:deny=1G\njail:www:memory:deny=1\nwww:x\n",
        )
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "rctl.conf:2: rctl rule \"memory:deny=1\": unknown resource \"memory\" (one of: cputime, datasize, stacksize, coredumpsize, memoryuse, memorylocked, maxproc, openfiles, vmemoryuse, pseudoterminals, swapuse, nthr, msgqqueued, msgqsize, nmsgq, nsem, nsemop, nshm, shmsize, wallclock, pcpu, readbps, writebps, readiops, writeiops)",
                "rctl.conf:3: \"www:x\" is not a rule (SUBJECT:ID:RESOURCE:ACTION=AMOUNT[/PER])",
            ]
        );
    }
}
