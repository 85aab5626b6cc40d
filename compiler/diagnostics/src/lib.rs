//! `carbonc-diagnostics`: the one diagnostic model of carbonc, the registry of stable error codes,
//! and the renderers (ariadne for terminals, JSON and GitHub annotations for CI).
//!
//! Architecture invariant: this crate knows nothing about salsa, the file system, LSP or AWS. The
//! language server converts [`Diagnostic`] to its protocol at its own edge.

mod codes;
mod render;

pub use codes::{CODES, CodeInfo, lookup as code_info};
pub use render::{LineIndex, render_github, render_human, render_json};

pub use carbonc_syntax::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// A place in a file with a short sentence about it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Label {
    /// The file as shown to the user (the path given on the command line, or `std/...`).
    pub file: String,
    pub span: Span,
    pub message: String,
}

impl Label {
    pub fn new(file: impl Into<String>, span: Span, message: impl Into<String>) -> Label {
        Label {
            file: file.into(),
            span,
            message: message.into(),
        }
    }
}

/// `{ code, severity, title, primary label, secondary labels, note, help }`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// A stable code such as `E0301`, documented in `docs/diagnostics.md`.
    pub code: &'static str,
    pub severity: Severity,
    /// Sentence case, no trailing period.
    pub title: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub note: Option<String>,
    /// An imperative sentence that says how to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, title: impl Into<String>, primary: Label) -> Diagnostic {
        debug_assert!(codes::lookup(code).is_some(), "undocumented code {code}");
        Diagnostic {
            code,
            severity: Severity::Error,
            title: title.into(),
            primary,
            secondary: Vec::new(),
            note: None,
            help: None,
        }
    }

    pub fn with_label(mut self, label: Label) -> Diagnostic {
        self.secondary.push(label);
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.note = Some(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}
