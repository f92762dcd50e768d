//! `jail -e SEPARATOR` output (freebsd/freebsd-src usr.sbin/jail/jail.c
//! `show_jails`, `print_jail`, `print_param`, `quoted_print`), byte for
//! byte: names and values are printed as the bytes they are.

use runj_grammar::{Block, Config, Item, ItemKind, Name, Op, Param, Span, Text, Value};

use super::resolve::{Resolution, ResolvedJail};

/// One line for the jail: its parameters but `jid`, joined by `separator`;
/// `name` alone for a parameter without values, else `name=v1,v2`.
pub fn show_line(jail: &ResolvedJail, separator: &str) -> String {
    let mut line = Vec::new();
    let params = jail.params.iter();
    let params = params.map(|p| (p.name.as_bytes(), p.values.iter().map(String::as_bytes)));
    write_line(&mut line, separator.as_bytes(), params);
    String::from_utf8(line).expect("quoting text keeps it text")
}

impl Resolution<'_> {
    /// Appends the jail's line ([`show_line`]) to `out`.
    pub fn write_line(&self, out: &mut Vec<u8>, separator: &[u8]) {
        write_line(out, separator, self.params());
    }
}

fn write_line<'p, V: Iterator<Item = &'p [u8]>>(
    line: &mut Vec<u8>,
    separator: &[u8],
    params: impl Iterator<Item = (&'p [u8], V)>,
) {
    let mut first = true;
    for (name, values) in params.filter(|(name, _)| *name != b"jid") {
        if !first {
            line.extend_from_slice(separator);
        }
        first = false;
        line.extend_from_slice(name);
        for (i, v) in values.enumerate() {
            line.push(if i == 0 { b'=' } else { b',' });
            quoted_print(line, v);
        }
    }
    line.push(b'\n');
}

/// jail(8)'s value quoting: `""` for empty; double quotes when the value has
/// a `'`, a space or a tab; single quotes when it has a `"`; every backslash
/// and the chosen quote character escaped with a backslash. Other bytes are
/// copied as they are.
pub fn quoted_print(out: &mut Vec<u8>, value: &[u8]) {
    // One pass over the bytes, a table look-up each, finds what the choice
    // depends on.
    let seen = value
        .iter()
        .fold(0, |seen, &b| seen | CLASS[usize::from(b)]);
    let (single, double) = (seen & SINGLE != 0, seen & DOUBLE != 0);
    let (blank, backslash) = (seen & BLANK != 0, seen & BACKSLASH != 0);
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
    out.push(q);
    escape_into(out, value, Some(q), escape);
    out.push(q);
}

const SINGLE: u8 = 1;
const DOUBLE: u8 = 2;
const BLANK: u8 = 4;
const BACKSLASH: u8 = 8;

/// What each byte is to [`quoted_print`].
const CLASS: [u8; 256] = {
    let mut class = [0; 256];
    class[b'\'' as usize] = SINGLE;
    class[b'"' as usize] = DOUBLE;
    class[b' ' as usize] = BLANK;
    class[b'\t' as usize] = BLANK;
    class[b'\\' as usize] = BACKSLASH;
    class
};

/// Copies `value`, a backslash before every backslash and every `quote`
/// (`escape`: there are some).
fn escape_into(out: &mut Vec<u8>, value: &[u8], quote: Option<u8>, escape: bool) {
    if !escape {
        return out.extend_from_slice(value);
    }
    let mut rest = value;
    // Copied in runs between the bytes to escape.
    while let Some(i) = rest.iter().position(|&b| b == b'\\' || Some(b) == quote) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(&[b'\\', rest[i]]);
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
}

/// The resolved jails as a jail.conf tree: one block per jail, values fully
/// substituted, the implicit `name` (or `jid`) left out. Reading it back
/// resolves to the same parameters.
pub fn to_config<'a, 'r: 'a>(jails: impl IntoIterator<Item = &'a Resolution<'r>>) -> Config {
    let item = |kind| Item {
        kind,
        span: Span::default(),
        blank_before: false,
    };
    let name = |text: &[u8]| Name {
        text: Text::from(text),
        span: Span::default(),
    };
    let items = jails
        .into_iter()
        .map(|jail| {
            let implicit = |name: &[u8], values: &[&[u8]]| {
                matches!(name, b"name" | b"jid") && values == [jail.name()]
            };
            let params = jail
                .params()
                .map(|(p, values)| (p, values.collect::<Vec<_>>()))
                .filter(|(p, values)| !implicit(p, values))
                .map(|(p, values)| {
                    item(ItemKind::Param(Param {
                        name: name(p),
                        is_variable: false,
                        op: if values.is_empty() {
                            Op::Bare
                        } else {
                            Op::Assign
                        },
                        values: values.into_iter().map(Value::text).collect(),
                    }))
                })
                .collect();
            item(ItemKind::Block(Block {
                name: name(jail.name()),
                items: params,
            }))
        })
        .collect();
    Config { items }
}

#[cfg(test)]
mod tests {
    use super::quoted_print;

    fn q(v: &[u8]) -> Vec<u8> {
        let mut s = Vec::new();
        quoted_print(&mut s, v);
        s
    }

    #[test]
    fn quoting_rules() {
        assert_eq!(q(b""), b"\"\"");
        assert_eq!(q(b"plain"), b"plain");
        assert_eq!(q(b"it's"), b"\"it's\"");
        assert_eq!(q(b"say \"hi\""), b"'say \"hi\"'");
        assert_eq!(q(b"both ' and \""), b"\"both ' and \\\"\"");
        assert_eq!(q(b"a b"), b"\"a b\"");
        assert_eq!(q(b"a\tb"), b"\"a\tb\"");
        assert_eq!(q(br"c:\dir"), br"c:\\dir");
        assert_eq!(q(b"semi;colon,#$="), b"semi;colon,#$=");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_copied() {
        assert_eq!(q(b"caf\xe9"), b"caf\xe9");
        assert_eq!(q(b"Gef\xe4ngnis f\xfcr"), b"\"Gef\xe4ngnis f\xfcr\"");
        assert_eq!(q(b"\xff\\"), b"\xff\\\\");
    }
}
