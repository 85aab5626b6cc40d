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
use carbonc_sema::{Db, Program, SourceFile, evaluate_program, program_files};

pub use actions::{Action, code_actions, with_fixes};
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
    let mut roots: Vec<SourceFile> = carbonc_sema::workspace_roots(db, db.workspace())
        .iter()
        .copied()
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
    let of = |root| carbonc_sema::diagnostics_by_file(db, root).get(path);
    let roots = roots_of(db, file);
    if let [root] = roots[..] {
        return of(root).cloned().unwrap_or_default();
    }
    let mut out: Vec<Diagnostic> = Vec::new();
    for root in roots {
        for d in of(root).into_iter().flatten() {
            if !out.contains(d) {
                out.push(d.clone());
            }
        }
    }
    out
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
