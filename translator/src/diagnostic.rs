//! Problems found while building a plan, tied to a parameter or JSON path.

use std::fmt;

use crate::conf::Origin;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The plan cannot be built.
    Error,
    /// The plan was built; something was kept verbatim or cannot take effect.
    Warning,
}

/// One problem with where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The jail parameter, or the JSON path in a bundle (`mounts[2].destination`).
    pub subject: String,
    pub message: String,
    /// The jail.conf statement, when the source was jail.conf.
    pub origin: Option<Origin>,
}

impl Diagnostic {
    pub fn error(subject: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            subject: subject.into(),
            message: message.into(),
            origin: None,
        }
    }

    pub fn warning(subject: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(subject, message)
        }
    }

    pub fn at(mut self, origin: Option<Origin>) -> Self {
        self.origin = origin;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{level}: {}: {}", self.subject, self.message)
    }
}

/// Diagnostics gathered while building one plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| !d.is_error())
    }

    /// Each diagnostic as it is printed, in order.
    pub fn messages(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }
}
