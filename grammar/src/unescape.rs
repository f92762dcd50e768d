//! Backslash escapes, decoded exactly as jail(8)'s `text2lval()` does
//! (freebsd/freebsd-src usr.sbin/jail/jaillex.l).

/// Decodes the escapes in `bytes` and cuts the result at the first NUL byte,
/// since jail(8) keeps every lexical piece as a C string.
///
/// `\a \b \f \n \r \t \v` are control characters, `\ooo` is up to three
/// octal digits (taken modulo 256), `\xH` or `\xHH` is a hex byte, a
/// backslash-newline disappears, and any other `\c` is `c`.
pub fn unescape(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        // A lone trailing backslash reads the string's terminating NUL.
        let Some(&e) = bytes.get(i) else {
            out.push(0);
            break;
        };
        i += 1;
        match e {
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match bytes.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let mut v = 0u32;
                for _ in 0..2 {
                    match bytes.get(i).and_then(|d| (*d as char).to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            i += 1;
                        }
                        None => break,
                    }
                }
                out.push(v as u8);
            }
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'\n' => {}
            other => out.push(other),
        }
    }
    if let Some(nul) = out.iter().position(|&b| b == 0) {
        out.truncate(nul);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unescape;

    fn s(raw: &str) -> String {
        String::from_utf8(unescape(raw.as_bytes())).unwrap()
    }

    #[test]
    fn control_characters() {
        assert_eq!(s(r"\a\b\f\n\r\t\v"), "\x07\x08\x0c\n\r\t\x0b");
    }

    #[test]
    fn octal_takes_up_to_three_digits_modulo_256() {
        assert_eq!(s(r"\101\1012"), "AA2");
        assert_eq!(s(r"\7"), "\x07");
        assert_eq!(unescape(br"\777"), [0xff]);
        assert_eq!(unescape(br"caf\351"), b"caf\xe9");
        assert_eq!(s(r"\501x"), "Ax"); // 0o501 = 321 = 256 + 65
    }

    #[test]
    fn any_byte_may_be_escaped() {
        assert_eq!(unescape(b"\\\xe4x"), b"\xe4x");
        assert_eq!(unescape(b"\xe4\\\xfc"), b"\xe4\xfc");
    }

    #[test]
    fn hex_takes_up_to_two_digits() {
        assert_eq!(s(r"\x41\x4a\x4"), "AJ\x04");
        assert_eq!(s(r"\x414"), "A4");
    }

    #[test]
    fn backslash_newline_is_removed() {
        assert_eq!(s("con\\\ntinued"), "continued");
    }

    #[test]
    fn other_escapes_are_the_character() {
        assert_eq!(s(r#"\"\'\\\$\;\#\q"#), r#""'\$;#q"#);
    }

    #[test]
    fn nul_cuts_the_piece() {
        assert_eq!(s(r"ab\0cd"), "ab");
        assert_eq!(s(r"ab\xzz"), "ab");
        assert_eq!(s("ab\\"), "ab");
    }

    #[test]
    fn reference_example() {
        // jailconf-reference.md §1: "tab\there\x41\101\qq\<newline>continued"
        assert_eq!(
            s("tab\\there\\x41\\101\\qq\\\ncontinued"),
            "tab\thereAAqqcontinued"
        );
    }
}
