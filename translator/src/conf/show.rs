//! `jail -e SEPARATOR` output (freebsd/freebsd-src usr.sbin/jail/jail.c
//! `show_jails`, `print_jail`, `print_param`, `quoted_print`).

use runj_grammar::{Block, Config, Item, ItemKind, Name, Op, Param, Span, Value};

use super::resolve::{Resolution, ResolvedJail};

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
    let params = jail.params.iter();
    let params = params.map(|p| (p.name.as_str(), p.values.iter().map(String::as_str)));
    write_line(&mut line, separator, params);
    line
}

impl Resolution<'_> {
    /// Appends [`show_line`]'s line for the jail to `out`.
    pub fn write_line(&self, out: &mut String, separator: &str) {
        write_line(out, separator, self.params());
    }
}

fn write_line<'p, V: Iterator<Item = &'p str>>(
    line: &mut String,
    separator: &str,
    params: impl Iterator<Item = (&'p str, V)>,
) {
    let mut first = true;
    for (name, values) in params.filter(|(name, _)| *name != "jid") {
        if !first {
            line.push_str(separator);
        }
        first = false;
        line.push_str(name);
        for (i, v) in values.enumerate() {
            line.push(if i == 0 { '=' } else { ',' });
            quoted_print(line, v);
        }
    }
    line.push('\n');
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
        Some(b'"')
    } else if double {
        Some(b'\'')
    } else if blank {
        Some(b'"')
    } else {
        None
    };
    // Only a `"` in a value quoted for its `'` needs escaping as the quote.
    let escape = backslash || (single && double);
    let Some(q) = quote else {
        return escape_into(out, value, None, escape);
    };
    out.push(char::from(q));
    escape_into(out, value, Some(q), escape);
    out.push(char::from(q));
}

/// Copies `value`, a backslash before every backslash and every `quote`
/// (`escape`: there are some).
fn escape_into(out: &mut String, value: &str, quote: Option<u8>, escape: bool) {
    if !escape {
        return out.push_str(value);
    }
    let mut rest = value;
    // Copied in runs between the characters to escape (all ASCII).
    while let Some(i) = rest.bytes().position(|b| b == b'\\' || Some(b) == quote) {
        out.push_str(&rest[..i]);
        out.push('\\');
        out.push(char::from(rest.as_bytes()[i]));
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
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
                            text: p.name.as_str().into(),
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
                        text: jail.name.as_str().into(),
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
