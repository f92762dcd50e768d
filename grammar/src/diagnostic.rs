//! `FILE:LINE:COL: message` with the source line and a caret underneath.
//!
//! Written here rather than with a reporting crate because the layout is the
//! compiler-style one line per error that editors and CI logs parse, which
//! codespan-reporting and miette only produce with their own headers.

use std::fmt::Write as _;

use crate::ast::Span;
use crate::text::escaped;

/// 1-based line and column of byte `offset` in `text`. Columns count
/// characters, and each byte that is not UTF-8 as one.
pub fn line_col(text: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = 1 + memchr::memchr_iter(b'\n', before).count();
    let col: usize = before[line_start..]
        .utf8_chunks()
        .map(|c| c.valid().chars().count() + c.invalid().len())
        .sum();
    (line, 1 + col)
}

/// Renders one diagnostic for `span` in the file called `path`. Tabs in
/// the quoted line are shown as four spaces so that the caret lines up, and
/// bytes that are not UTF-8 as `\xHH`.
pub fn render(path: &str, text: &[u8], span: Span, message: &str) -> String {
    let (line, col) = line_col(text, span.start);
    let at = span.start.min(text.len());
    let start = text[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i);
    let shown = |s: &[u8]| escaped(s).replace('\t', "    ");
    let indent = shown(&text[start..at.min(end)]).chars().count();
    let width = shown(&text[at.min(end)..span.end.clamp(at, end)])
        .chars()
        .count()
        .max(1);
    let gutter = line.to_string().len();
    let mut out = format!("{path}:{line}:{col}: {message}\n");
    let _ = writeln!(out, "{line} | {}", shown(&text[start..end]));
    let _ = writeln!(
        out,
        "{:gutter$} | {}{}",
        "",
        " ".repeat(indent),
        "^".repeat(width)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_at_the_span() {
        let text = b"a {\n  path = /a\n}\n";
        let out = render(
            "j.conf",
            text,
            Span::new(16, 17),
            "syntax error: unexpected `}`",
        );
        assert_eq!(
            out,
            "j.conf:3:1: syntax error: unexpected `}`\n3 | }\n  | ^\n"
        );
    }

    #[test]
    fn tabs_are_expanded_in_the_quoted_line() {
        let out = render("j.conf", b"a {\n\tx = ;\n}\n", Span::new(9, 10), "m");
        assert_eq!(out, "j.conf:2:6: m\n2 |     x = ;\n  |         ^\n");
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(line_col("é = x;".as_bytes(), 5), (1, 5));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_shown_escaped() {
        let text = b"# Gef\xe4ngnis\nx = \xe4;\n";
        let out = render("j.conf", text, Span::new(16, 17), "m");
        assert_eq!(out, "j.conf:2:5: m\n2 | x = \\xe4;\n  |     ^^^^\n");
    }
}
