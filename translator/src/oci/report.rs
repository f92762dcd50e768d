//! Collecting what a bundle's translation finds, with the policy for fields
//! runj cannot honour.

use crate::diagnostic::{Diagnostic, Diagnostics};

/// The diagnostics of one translation.
#[derive(Debug, Default)]
pub(super) struct Report {
    pub(super) diagnostics: Diagnostics,
    allow_unsupported: bool,
}

impl Report {
    pub(super) fn new(allow_unsupported: bool) -> Self {
        Report {
            diagnostics: Diagnostics::default(),
            allow_unsupported,
        }
    }

    pub(super) fn error(&mut self, subject: impl Into<String>, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::error(subject, message));
    }

    pub(super) fn warning(&mut self, subject: impl Into<String>, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::warning(subject, message));
    }

    pub(super) fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// A field runj cannot honour on a jail: an error, or, when unsupported
    /// fields are allowed, a warning that it is dropped. The runtime-spec
    /// requires an error for unsupported values (config.md "Valid values").
    pub(super) fn unsupported(&mut self, subject: impl Into<String>, reason: &str) {
        if self.allow_unsupported {
            self.warning(
                subject,
                format!(
                    "{reason}; runj cannot honour it: dropped, as unsupported fields are allowed"
                ),
            );
        } else {
            self.error(subject, format!("{reason}; runj cannot honour it"));
        }
    }

    /// The outcome of a setter: its warning, if any, or its error.
    pub(super) fn outcome(&mut self, subject: &str, result: Result<Option<String>, String>) {
        match result {
            Ok(None) => {}
            Ok(Some(warning)) => self.warning(subject, warning),
            Err(message) => self.error(subject, message),
        }
    }
}
