//! `FILE:LINE:COL: message` with the source line and a caret underneath.
//!
//! Written here rather than with a reporting crate because the layout is the
//! compiler-style one line per error that editors and CI logs parse, which
//! codespan-reporting and miette only produce with their own headers.

use std::fmt::Write as _;

use crate::ast::Span;

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = 1 + before.matches('\n').count();
    (line, 1 + before[line_start..].chars().count())
}

/// Renders one diagnostic for `span` in the file called `path`. Tabs in
/// the quoted line are shown as four spaces so that the caret lines up.
pub fn render(path: &str, text: &str, span: Span, message: &str) -> String {
    let (line, col) = line_col(text, span.start);
    let at = span.start.min(text.len());
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let shown = |s: &str| s.replace('\t', "    ");
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
        let text = "a {\n  path = /a\n}\n";
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
        let out = render("j.conf", "a {\n\tx = ;\n}\n", Span::new(9, 10), "m");
        assert_eq!(out, "j.conf:2:6: m\n2 |     x = ;\n  |         ^\n");
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(line_col("é = x;", 5), (1, 5));
    }
}
