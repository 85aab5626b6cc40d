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

/// One replacement in one file: the text between `span.start` and `span.end` becomes `text`
/// (an empty span inserts, an empty text deletes).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Edit {
    pub file: String,
    pub span: Span,
    pub text: String,
}

impl Edit {
    pub fn new(file: impl Into<String>, span: Span, text: impl Into<String>) -> Edit {
        Edit {
            file: file.into(),
            span,
            text: text.into(),
        }
    }
}

/// How sure a fix is of being what the user meant (rustc's levels, which `cargo fix` reads the
/// same way).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Applicability {
    /// Certainly right: `carbonc check --fix` applies it.
    MachineApplicable,
    /// Probably right, but the user's intent decides (for example which of two places is wrong):
    /// offered as help and as a quick fix, never applied unasked.
    MaybeIncorrect,
    /// Inserts placeholder values the user must fill in.
    HasPlaceholders,
}

impl Applicability {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::MachineApplicable => "machine-applicable",
            Applicability::MaybeIncorrect => "maybe-incorrect",
            Applicability::HasPlaceholders => "has-placeholders",
        }
    }
}

/// A help that is an edit: its sentence (shown as `help:` and as the quick fix's title) and the
/// replacements that carry it out.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<Edit>,
    pub applicability: Applicability,
}

impl Fix {
    /// A fix that replaces one span with `text`.
    pub fn replace(
        title: impl Into<String>,
        file: impl Into<String>,
        span: Span,
        text: impl Into<String>,
        applicability: Applicability,
    ) -> Fix {
        Fix {
            title: title.into(),
            edits: vec![Edit::new(file, span, text)],
            applicability,
        }
    }
}

/// `text` with `fixes` carried out (all edits of one file, the file named by `file`). Fixes are
/// taken in order; one with an edit that overlaps an edit already taken, or that falls outside
/// the text, is left out whole (the next round, after a re-check, can take it). Returns the new
/// text and how many fixes were carried out.
pub fn apply_fixes<'a>(
    text: &str,
    file: &str,
    fixes: impl IntoIterator<Item = &'a Fix>,
) -> (String, usize) {
    let mut taken: Vec<&Edit> = Vec::new();
    let mut count = 0;
    for fix in fixes {
        let edits: Vec<&Edit> = fix.edits.iter().filter(|e| e.file == file).collect();
        let fits = |e: &Edit| {
            (e.span.end as usize) <= text.len()
                && text.is_char_boundary(e.span.start as usize)
                && text.is_char_boundary(e.span.end as usize)
        };
        // Two edits meet when they share a byte, when one inserts inside the other's range, or
        // when both start at one place (which goes first would be a guess).
        let meets = |a: &Edit, b: &Edit| {
            a.span.start < b.span.end && b.span.start < a.span.end || a.span.start == b.span.start
        };
        let clash = edits.iter().enumerate().any(|(i, e)| {
            !fits(e) || taken.iter().any(|t| meets(t, e)) || edits[..i].iter().any(|o| meets(o, e))
        });
        if edits.is_empty() || edits.len() != fix.edits.len() || clash {
            continue;
        }
        taken.extend(edits);
        count += 1;
    }
    taken.sort_by_key(|e| e.span.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for e in taken {
        out.push_str(&text[at..e.span.start as usize]);
        out.push_str(&e.text);
        at = e.span.end as usize;
    }
    out.push_str(&text[at..]);
    (out, count)
}

/// `{ code, severity, title, primary label, secondary labels, note, help, fixes }`.
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
    /// Advice that is not an edit (an edit is a [`Fix`]).
    pub help: Option<String>,
    /// Edits that fix it, most likely first; each is also shown as a `help:` line.
    pub fixes: Vec<Fix>,
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
            fixes: Vec::new(),
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

    pub fn with_fix(mut self, fix: Fix) -> Diagnostic {
        self.fixes.push(fix);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(start: usize, end: usize, text: &str) -> Fix {
        Fix::replace(
            "t",
            "a.carbon",
            Span::new(start, end),
            text,
            Applicability::MachineApplicable,
        )
    }

    #[test]
    fn fixes_apply_in_any_order_and_overlaps_wait_for_the_next_round() {
        let text = "let a = kye\nlet b = vlaue\n";
        let fixes = [fix(20, 25, "value"), fix(8, 11, "key"), fix(9, 10, "x")];
        let (out, n) = apply_fixes(text, "a.carbon", &fixes);
        assert_eq!(out, "let a = key\nlet b = value\n");
        assert_eq!(n, 2);
        // A fix with an edit in another file is not carried out in part.
        let mut two = fix(0, 3, "var");
        two.edits.push(Edit::new("b.carbon", Span::new(0, 1), "x"));
        assert_eq!(apply_fixes(text, "a.carbon", [&two]), (text.to_string(), 0));
        // Out of range or inside a character: left out.
        assert_eq!(apply_fixes("é", "a.carbon", [&fix(1, 2, "e")]).1, 0);
        assert_eq!(apply_fixes("ab", "a.carbon", [&fix(1, 9, "e")]).1, 0);
        // Two insertions at one place clash; deleting around an insertion point clashes.
        assert_eq!(
            apply_fixes("ab", "a.carbon", [&fix(1, 1, "x"), &fix(1, 1, "y")]).1,
            1
        );
        assert_eq!(
            apply_fixes("abc", "a.carbon", [&fix(0, 3, ""), &fix(1, 1, "y")]).1,
            1
        );
        assert_eq!(
            apply_fixes("abc", "a.carbon", [&fix(0, 1, ""), &fix(1, 1, "y")]).1,
            2
        );
    }
}
