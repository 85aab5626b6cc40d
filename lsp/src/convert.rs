//! The protocol's edge: byte offsets to UTF-16 positions and back, paths to URIs and back,
//! `carbonc-ide` answers to protocol values. Nothing else in the server does arithmetic on
//! positions.

use std::path::{Path, PathBuf};

use carbonc_diagnostics::{Diagnostic, Severity};
use carbonc_ide as ide;
use carbonc_sema::Db;
use carbonc_sema::syntax::Span;
use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::ls_types::{
    CompletionItemKind, DocumentSymbol, Location, Range, SymbolKind, TextEdit, Uri, WorkspaceEdit,
};

/// Line starts of a text, for converting offsets.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    pub fn position(&self, offset: u32) -> lsp::Position {
        let offset = (offset as usize).min(self.text.len());
        let line = self.starts.partition_point(|s| *s <= offset) - 1;
        let start = self.starts[line];
        let mut end = offset;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let character: usize = self.text[start..end].chars().map(char::len_utf16).sum();
        lsp::Position::new(line as u32, character as u32)
    }

    /// The byte offset of a position; positions past a line's end or the text's end are clamped.
    pub fn offset(&self, pos: lsp::Position) -> u32 {
        let Some(&start) = self.starts.get(pos.line as usize) else {
            return self.text.len() as u32;
        };
        let end = self
            .starts
            .get(pos.line as usize + 1)
            .map_or(self.text.len(), |e| e - 1);
        let mut units = 0u32;
        for (i, c) in self.text[start..end].char_indices() {
            if units >= pos.character {
                return (start + i) as u32;
            }
            units += c.len_utf16() as u32;
        }
        end as u32
    }

    pub fn range(&self, span: Span) -> lsp::Range {
        lsp::Range::new(self.position(span.start), self.position(span.end))
    }

    pub fn span(&self, range: lsp::Range) -> Span {
        let (a, b) = (self.offset(range.start), self.offset(range.end));
        Span::new(a as usize, b.max(a) as usize)
    }
}

/// How database paths map to files on disk: user files are absolute paths; the embedded
/// standard library (`std/...`) is written read-only under `std_dir` so editors can open it.
#[derive(Clone, Debug)]
pub struct Paths {
    pub std_dir: PathBuf,
}

impl Paths {
    pub fn uri(&self, path: &str) -> Option<lsp::Uri> {
        let on_disk = match path.strip_prefix("std/") {
            Some(rest) => self.std_dir.join(rest),
            None => PathBuf::from(path),
        };
        lsp::Uri::from_file_path(on_disk)
    }

    pub fn path(&self, uri: &lsp::Uri) -> Option<String> {
        let p = uri.to_file_path()?;
        if let Ok(rest) = p.strip_prefix(&self.std_dir) {
            return Some(format!("std/{}", rest.to_string_lossy()));
        }
        Some(normalize(&p))
    }
}

/// One spelling per file: absolute, without `.` and `..`.
pub fn normalize(p: &Path) -> String {
    carbonc_sema::resolve_import_path("", &p.to_string_lossy())
}

/// A carbonc diagnostic as the protocol carries it: the title, then the primary label, note and
/// help as `carbonc check` prints them; secondary labels become related information.
pub fn diagnostic(
    d: &Diagnostic,
    index: &LineIndex<'_>,
    paths: &Paths,
    text_of: &dyn Fn(&str) -> Option<String>,
) -> lsp::Diagnostic {
    let mut message = d.title.clone();
    if !d.primary.message.is_empty() {
        message.push_str(&format!("\n{}", d.primary.message));
    }
    if let Some(n) = &d.note {
        message.push_str(&format!("\nnote: {n}"));
    }
    for h in d.help.iter().chain(d.fixes.iter().map(|f| &f.title)) {
        message.push_str(&format!("\nhelp: {h}"));
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .filter_map(|l| {
            let uri = paths.uri(&l.file)?;
            let range = if l.file == d.primary.file {
                index.range(l.span)
            } else {
                let text = text_of(&l.file)?;
                LineIndex::new(&text).range(l.span)
            };
            Some(lsp::DiagnosticRelatedInformation {
                location: lsp::Location { uri, range },
                message: l.message.clone(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range: index.range(d.primary.span),
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.to_string())),
        code_description: None,
        source: Some("carbonc".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

// ---- `carbonc-ide` answers to protocol values ----------------------------------------------------

pub(crate) fn range_of(db: &dyn Db, path: &str, span: Span) -> Option<Range> {
    let f = db.workspace().files(db).get(path).copied()?;
    Some(LineIndex::new(f.text(db)).range(span))
}

pub(crate) fn location(db: &dyn Db, paths: &Paths, loc: &ide::Location) -> Option<Location> {
    Some(Location {
        uri: paths.uri(&loc.file)?,
        range: range_of(db, &loc.file, loc.span)?,
    })
}

pub(crate) fn workspace_edit(
    db: &dyn Db,
    paths: &Paths,
    edits: impl IntoIterator<Item = (String, Span, String)>,
) -> WorkspaceEdit {
    let mut changes: std::collections::HashMap<Uri, Vec<TextEdit>> = Default::default();
    for (file, span, text) in edits {
        let (Some(uri), Some(range)) = (paths.uri(&file), range_of(db, &file, span)) else {
            continue;
        };
        changes.entry(uri).or_default().push(TextEdit {
            range,
            new_text: text,
        });
    }
    WorkspaceEdit {
        changes: Some(changes),
        ..Default::default()
    }
}

pub(crate) fn symbol_kind(k: ide::SymbolKind) -> SymbolKind {
    use ide::SymbolKind as K;
    match k {
        K::Region => SymbolKind::NAMESPACE,
        K::Param => SymbolKind::CONSTANT,
        K::Let => SymbolKind::VARIABLE,
        K::Resource => SymbolKind::OBJECT,
        K::Instance => SymbolKind::MODULE,
        K::Output => SymbolKind::PROPERTY,
        K::Module => SymbolKind::MODULE,
        K::Loop => SymbolKind::ARRAY,
        K::Function => SymbolKind::FUNCTION,
        K::Enum => SymbolKind::ENUM,
        K::Variant => SymbolKind::ENUM_MEMBER,
        K::Record => SymbolKind::STRUCT,
        K::Field => SymbolKind::FIELD,
        K::Import => SymbolKind::PACKAGE,
        K::ResourceType => SymbolKind::CLASS,
    }
}

#[allow(deprecated)]
pub(crate) fn document_symbol(s: ide::Symbol, index: &LineIndex<'_>) -> DocumentSymbol {
    DocumentSymbol {
        name: s.name,
        detail: s.detail,
        kind: symbol_kind(s.kind),
        tags: None,
        deprecated: None,
        range: index.range(s.span),
        selection_range: index.range(s.name_span),
        children: Some(
            s.children
                .into_iter()
                .map(|c| document_symbol(c, index))
                .collect(),
        ),
    }
}

pub(crate) fn completion_kind(k: ide::CompletionKind) -> CompletionItemKind {
    use ide::CompletionKind as K;
    match k {
        K::Keyword => CompletionItemKind::KEYWORD,
        K::Field => CompletionItemKind::FIELD,
        K::Variant => CompletionItemKind::ENUM_MEMBER,
        K::Region => CompletionItemKind::CONSTANT,
        K::Resource => CompletionItemKind::REFERENCE,
        K::Variable => CompletionItemKind::VARIABLE,
        K::Module => CompletionItemKind::MODULE,
        K::Function => CompletionItemKind::FUNCTION,
        K::Type => CompletionItemKind::CLASS,
        K::Value => CompletionItemKind::VALUE,
    }
}

/// A fix's title as a quick fix shows it: `did you mean …` becomes `Did you mean …`.
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let text = "a\né🙂b\n";
        let ix = LineIndex::new(text);
        let b = text.find('b').unwrap() as u32;
        assert_eq!(ix.position(b), lsp::Position::new(1, 3));
        assert_eq!(ix.offset(lsp::Position::new(1, 3)), b);
        // Past the end of a line: its end. Past the last line: the text's end.
        assert_eq!(ix.offset(lsp::Position::new(0, 99)), 1);
        assert_eq!(ix.offset(lsp::Position::new(9, 0)), text.len() as u32);
        // Inside a multi-byte character: a boundary.
        assert!(text.is_char_boundary(ix.offset(lsp::Position::new(1, 2)) as usize));
    }
}
