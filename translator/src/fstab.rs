//! fstab(5) lines as jail(8)'s `mount` parameter takes them:
//! `DEVICE MOUNTPOINT TYPE [OPTIONS [DUMP [PASS]]]`, fields separated by
//! blanks, the first two `strunvis`-decoded (`\040` is a space).

use std::fmt::Write as _;

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FstabLine {
    pub device: String,
    pub mountpoint: String,
    pub fstype: String,
    pub options: Vec<String>,
    /// The dump and pass fields, which mount(8) ignores.
    pub dump_pass: Vec<String>,
}

/// Parses a line; jail(8) requires at least three fields.
pub fn parse_line(line: &str) -> Result<FstabLine, String> {
    let fields: Vec<&str> = line.split([' ', '\t']).filter(|f| !f.is_empty()).collect();
    if fields.len() < 3 {
        return Err(format!(
            "mount line \"{line}\" has {} fields; at least 3 are needed",
            fields.len()
        ));
    }
    let options = match fields.get(3) {
        Some(o) => o
            .split(',')
            .filter(|o| !o.is_empty())
            .map(str::to_string)
            .collect(),
        None => Vec::new(),
    };
    Ok(FstabLine {
        device: unvis(fields[0]),
        mountpoint: unvis(fields[1]),
        fstype: fields[2].to_string(),
        options,
        dump_pass: fields[4..].iter().map(|s| s.to_string()).collect(),
    })
}

/// Renders a line; blanks and backslashes in the first two fields are
/// `vis`-encoded so that the line parses back to the same fields.
pub fn render_line(device: &str, mountpoint: &str, fstype: &str, options: &[String]) -> String {
    let options = if options.is_empty() {
        "rw".to_string()
    } else {
        options.join(",")
    };
    format!("{} {} {fstype} {options}", vis(device), vis(mountpoint))
}

/// Decodes `\ooo` octal escapes and `\\` (the part of strunvis(3) that
/// fstab files use, and the escapes of Linux's `/proc/self/mountinfo`).
pub fn unvis(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                let v = d.iter().fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
                out.push((v & 0xff) as u8);
                i += 4;
            }
            (b'\\', None) if bytes.get(i + 1) == Some(&b'\\') => {
                out.push(b'\\');
                i += 2;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn vis(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    for c in field.chars() {
        match c {
            ' ' | '\t' | '\n' | '\\' | '#' => {
                let _ = write!(out, "\\{:03o}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields() {
        let l = parse_line("/usr/ports /jails/www/usr/ports nullfs ro,noatime 0 0").unwrap();
        assert_eq!(l.device, "/usr/ports");
        assert_eq!(l.mountpoint, "/jails/www/usr/ports");
        assert_eq!(l.fstype, "nullfs");
        assert_eq!(l.options, ["ro", "noatime"]);
        assert_eq!(l.dump_pass, ["0", "0"]);
    }

    #[test]
    fn needs_three_fields() {
        assert!(parse_line("/a /b").is_err());
    }

    #[test]
    fn vis_round_trip() {
        let line = render_line("/my dir", "/jails/a/b\\c", "nullfs", &["ro".to_string()]);
        assert_eq!(line, "/my\\040dir /jails/a/b\\134c nullfs ro");
        let l = parse_line(&line).unwrap();
        assert_eq!(
            (l.device.as_str(), l.mountpoint.as_str()),
            ("/my dir", "/jails/a/b\\c")
        );
    }
}
