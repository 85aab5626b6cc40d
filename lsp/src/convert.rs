//! The protocol's edge: byte offsets to UTF-16 positions and back, paths to URIs and back,
//! `carbonc-ide` answers to protocol values. Nothing else in the server does arithmetic on
//! positions.

use std::path::{Path, PathBuf};

use carbonc_diagnostics::{Diagnostic, Severity};
use carbonc_sema::syntax::Span;
use tower_lsp_server::ls_types as lsp;

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
    if let Some(h) = &d.help {
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
