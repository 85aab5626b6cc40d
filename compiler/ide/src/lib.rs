//! `carbonc-ide`: what the editor asks, answered as plain data. Hover, go to definition, find
//! references, rename, completion, code actions, inlay hints, semantic tokens, symbols, folding and
//! formatting, each a function of the salsa database, a file and a byte offset.
//!
//! Architecture invariant: no protocol types, no IO, no threads. Positions are byte offsets
//! ([`Span`]), files are the database's paths. The language server (`lsp/`) converts at its edge,
//! so these answers are the same whichever editor asks.

mod actions;
mod completion;
mod format;
mod hover;
mod nav;
mod outline;
mod scope;

use carbonc_diagnostics::Diagnostic;
use carbonc_sema::syntax::Span;
use carbonc_sema::{Db, Program, SourceFile, check_program, evaluate_program, program_files};

pub use actions::{Action, Edit, code_actions};
pub use completion::{Completion, CompletionKind, completions};
pub use format::{FormatError, format_edits};
pub use hover::{Hover, hover};
pub use nav::{Highlight, definition, document_highlight, prepare_rename, references, rename};
pub use outline::{
    Fold, Hint, HintKind, SemanticToken, Symbol, SymbolKind, TOKEN_MODIFIERS, TOKEN_TYPES,
    document_symbols, folding_ranges, inlay_hints, semantic_tokens, workspace_symbols,
};

/// A place in a file of the database.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub file: String,
    pub span: Span,
}

/// The files the user wrote (everything but the embedded standard library).
pub fn user_files(db: &dyn Db) -> Vec<SourceFile> {
    db.workspace()
        .files(db)
        .iter()
        .filter(|(p, _)| !p.starts_with("std/"))
        .map(|(_, f)| *f)
        .collect()
}

/// The programs `file` belongs to: the user files that no other user file imports and that
/// import `file` (directly or not), or `file` itself when nothing imports it. `carbonc check
/// ROOT` reports exactly what these roots report.
pub fn roots_of(db: &dyn Db, file: SourceFile) -> Vec<SourceFile> {
    let users = user_files(db);
    let imported: std::collections::BTreeSet<String> = users
        .iter()
        .flat_map(|f| carbonc_sema::imported_paths(db, *f))
        .collect();
    let mut roots: Vec<SourceFile> = users
        .into_iter()
        .filter(|f| !imported.contains(f.path(db).as_str()))
        .filter(|r| program_files(db, *r).contains(&file))
        .collect();
    if roots.is_empty() {
        roots.push(file);
    }
    roots
}

/// The diagnostics of `file`, as `carbonc check` on each of its roots reports them.
pub fn diagnostics(db: &dyn Db, file: SourceFile) -> Vec<Diagnostic> {
    let path = file.path(db);
    let mut out: Vec<Diagnostic> = Vec::new();
    for root in roots_of(db, file) {
        for d in check_program(db, root) {
            if &d.primary.file == path && !out.contains(d) {
                out.push(d.clone());
            }
        }
    }
    out
}

/// The diagnostics of `file` alone: syntax, names and types (no placement or domain rules, which
/// need the whole program evaluated). Cheap after an edit: one file is parsed and checked.
pub fn file_level(db: &dyn Db, file: SourceFile) -> Vec<Diagnostic> {
    let mut out = carbonc_sema::check_file(db, file).clone();
    out.sort_by(|a, b| (a.primary.span, a.code).cmp(&(b.primary.span, b.code)));
    out
}

/// Diagnostics computed on `old`, moved to where their text is in `new` (the same text with one
/// region replaced): those before the edit stay, those after it shift, those touching it are
/// dropped. Labels in other files are kept as they are.
pub fn carry_over(old: &str, new: &str, diags: &[Diagnostic], file: &str) -> Vec<Diagnostic> {
    let prefix = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = old.as_bytes()[prefix..]
        .iter()
        .rev()
        .zip(new.as_bytes()[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (edit_start, old_edit_end) = (prefix as u32, (old.len() - suffix) as u32);
    let delta = new.len() as i64 - old.len() as i64;
    let map = |s: Span| -> Option<Span> {
        if s.end < edit_start || (s.end == edit_start && s.start < s.end) {
            Some(s)
        } else if s.start > old_edit_end {
            Some(Span::new(
                (s.start as i64 + delta) as usize,
                (s.end as i64 + delta) as usize,
            ))
        } else {
            None
        }
    };
    diags
        .iter()
        .filter_map(|d| {
            let mut d = d.clone();
            if d.primary.file == file {
                d.primary.span = map(d.primary.span)?;
            }
            d.secondary.retain_mut(|l| {
                if l.file != file {
                    return true;
                }
                match map(l.span) {
                    Some(s) => {
                        l.span = s;
                        true
                    }
                    None => false,
                }
            });
            Some(d)
        })
        .collect()
}

/// The evaluated program of `file`'s first root: where its resources are placed.
pub(crate) fn program_of(db: &dyn Db, file: SourceFile) -> &Program {
    evaluate_program(db, roots_of(db, file)[0])
}

/// Whether `name` can name a declaration: an identifier that is not a keyword.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !carbonc_sema::syntax::lexer::KEYWORDS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use carbonc_diagnostics::Label;

    #[test]
    fn carried_diagnostics_follow_the_text() {
        let old = "aaa bbb ccc";
        let new = "aaa bXXbb ccc";
        let d = |s: usize, e: usize| {
            Diagnostic::error("E0301", "t", Label::new("f", Span::new(s, e), "l"))
        };
        let moved = carry_over(old, new, &[d(0, 3), d(4, 7), d(8, 11)], "f");
        let spans: Vec<(u32, u32)> = moved
            .iter()
            .map(|d| (d.primary.span.start, d.primary.span.end))
            .collect();
        // Before the edit: kept; on it: dropped; after it: shifted by two.
        assert_eq!(spans, vec![(0, 3), (10, 13)]);
        assert_eq!(&new[10..13], "ccc");
    }
}
