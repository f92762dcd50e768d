//! `jail -e SEPARATOR` output (freebsd/freebsd-src usr.sbin/jail/jail.c
//! `show_jails`, `print_jail`, `print_param`, `quoted_print`).

use runj_grammar::{Block, Config, Item, ItemKind, Name, Op, Param, Span, Value};

use super::resolve::ResolvedJail;

/// One line for the jail: its parameters but `jid`, joined by `separator`;
/// `name` alone for a parameter without values, else `name=v1,v2`.
pub fn show_line(jail: &ResolvedJail, separator: &str) -> String {
    // Room for the line when no value needs quotes.
    let size: usize = jail
        .params
        .iter()
        .map(|p| {
            separator.len() + p.name.len() + p.values.iter().map(|v| v.len() + 1).sum::<usize>()
        })
        .sum();
    let mut line = String::with_capacity(size + 1);
    let mut first = true;
    for p in jail.params.iter().filter(|p| p.name != "jid") {
        if !first {
            line.push_str(separator);
        }
        first = false;
        line.push_str(&p.name);
        if p.values.is_empty() {
            continue;
        }
        line.push('=');
        for (i, v) in p.values.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            quoted_print(&mut line, v);
        }
    }
    line.push('\n');
    line
}

/// jail(8)'s value quoting: `""` for empty; double quotes when the value has
/// a `'`, a space or a tab; single quotes when it has a `"`; every backslash
/// and the chosen quote character escaped with a backslash.
pub fn quoted_print(out: &mut String, value: &str) {
    // One pass over the bytes finds what the choice depends on.
    let (mut single, mut double, mut blank, mut backslash) = (false, false, false, false);
    for b in value.bytes() {
        match b {
            b'\'' => single = true,
            b'"' => double = true,
            b' ' | b'\t' => blank = true,
            b'\\' => backslash = true,
            _ => {}
        }
    }
    let quote = if value.is_empty() || single {
        Some('"')
    } else if double {
        Some('\'')
    } else if blank {
        Some('"')
    } else {
        None
    };
    let Some(q) = quote else {
        if backslash {
            escape_into(out, value, None);
        } else {
            out.push_str(value);
        }
        return;
    };
    out.push(q);
    escape_into(out, value, Some(q));
    out.push(q);
}

/// Copies `value`, a backslash before every backslash and every `quote`.
fn escape_into(out: &mut String, value: &str, quote: Option<char>) {
    for c in value.chars() {
        if c == '\\' || Some(c) == quote {
            out.push('\\');
        }
        out.push(c);
    }
}

/// The resolved jails as a jail.conf tree: one block per jail, values fully
/// substituted, the implicit `name` (or `jid`) left out. Reading it back
/// resolves to the same parameters.
pub fn to_config<'a>(jails: impl IntoIterator<Item = &'a ResolvedJail>) -> Config {
    let items = jails
        .into_iter()
        .map(|jail| {
            let params = jail
                .params
                .iter()
                .filter(|p| {
                    !(matches!(p.name.as_str(), "name" | "jid") && p.values == [jail.name.as_str()])
                })
                .map(|p| Item {
                    kind: ItemKind::Param(Param {
                        name: Name {
                            text: p.name.clone(),
                            span: Span::default(),
                        },
                        is_variable: false,
                        op: if p.values.is_empty() {
                            Op::Bare
                        } else {
                            Op::Assign
                        },
                        values: p.values.iter().map(Value::text).collect(),
                    }),
                    span: Span::default(),
                    blank_before: false,
                })
                .collect();
            Item {
                kind: ItemKind::Block(Block {
                    name: Name {
                        text: jail.name.clone(),
                        span: Span::default(),
                    },
                    items: params,
                }),
                span: Span::default(),
                blank_before: false,
            }
        })
        .collect();
    Config { items }
}

#[cfg(test)]
mod tests {
    use super::quoted_print;

    fn q(v: &str) -> String {
        let mut s = String::new();
        quoted_print(&mut s, v);
        s
    }

    #[test]
    fn quoting_rules() {
        assert_eq!(q(""), "\"\"");
        assert_eq!(q("plain"), "plain");
        assert_eq!(q("it's"), "\"it's\"");
        assert_eq!(q("say \"hi\""), "'say \"hi\"'");
        assert_eq!(q("both ' and \""), "\"both ' and \\\"\"");
        assert_eq!(q("a b"), "\"a b\"");
        assert_eq!(q("a\tb"), "\"a\tb\"");
        assert_eq!(q(r"c:\dir"), r"c:\\dir");
        assert_eq!(q("semi;colon,#$="), "semi;colon,#$=");
    }
}
