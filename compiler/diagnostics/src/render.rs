//! Renderers: ariadne for people, JSON for tools, GitHub Actions annotations for CI.

use std::collections::HashMap;

use ariadne::{Color, Config, IndexType, Report, ReportKind};
use serde_json::json;

use crate::{Diagnostic, Severity};

/// Line starts of one source text, for 1-based line/column positions.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// 1-based line and 1-based column (in characters) of a byte offset.
    pub fn line_col(&self, text: &str, offset: u32) -> (usize, usize) {
        let offset = (offset as usize).min(text.len());
        let line = self.starts.partition_point(|s| *s <= offset) - 1;
        let start = self.starts[line];
        let col = text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }
}

/// Renders diagnostics as a terminal would show them. `source` returns a file's text by name.
pub fn render_human<'a>(
    diags: &[Diagnostic],
    source: &dyn Fn(&str) -> Option<&'a str>,
    color: bool,
) -> String {
    let mut out = Vec::new();
    // Every file's text is split into lines once for all the diagnostics: once per diagnostic made
    // printing N diagnostics of one file O(N x file size), quadratic in a program's size.
    let mut lens: HashMap<String, usize> = HashMap::new();
    let mut files: Vec<(String, String)> = Vec::new();
    for d in diags {
        for f in std::iter::once(&d.primary.file).chain(d.secondary.iter().map(|l| &l.file)) {
            if !lens.contains_key(f) {
                let text = source(f).unwrap_or("").to_string();
                lens.insert(f.clone(), text.len());
                files.push((f.clone(), text));
            }
        }
    }
    let mut cache = ariadne::sources(files);
    for d in diags {
        let kind = match d.severity {
            Severity::Error => ReportKind::Error,
            Severity::Warning => ReportKind::Warning,
        };
        let clamp = |file: &str, span: crate::Span| {
            let len = lens.get(file).copied().unwrap_or(0);
            (span.start as usize).min(len)..(span.end as usize).min(len)
        };
        let primary_color = if d.severity == Severity::Error {
            Color::Red
        } else {
            Color::Yellow
        };
        let mut report = Report::build(
            kind,
            (
                d.primary.file.clone(),
                clamp(&d.primary.file, d.primary.span),
            ),
        )
        .with_config(
            Config::default()
                .with_index_type(IndexType::Byte)
                .with_color(color),
        )
        .with_code(d.code)
        .with_message(&d.title)
        .with_label(
            ariadne::Label::new((
                d.primary.file.clone(),
                clamp(&d.primary.file, d.primary.span),
            ))
            .with_message(&d.primary.message)
            .with_color(primary_color)
            .with_order(0),
        );
        for (i, l) in d.secondary.iter().enumerate() {
            report = report.with_label(
                ariadne::Label::new((l.file.clone(), clamp(&l.file, l.span)))
                    .with_message(&l.message)
                    .with_color(Color::Blue)
                    .with_order(i as i32 + 1),
            );
        }
        if let Some(n) = &d.note {
            report = report.with_note(n);
        }
        if let Some(h) = &d.help {
            report = report.with_help(h);
        }
        for f in &d.fixes {
            report = report.with_help(&f.title);
        }
        let _ = report.finish().write(&mut cache, &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn position<'a>(
    source: &dyn Fn(&str) -> Option<&'a str>,
    indexes: &mut HashMap<String, LineIndex>,
    file: &str,
    span: crate::Span,
) -> serde_json::Value {
    let text = source(file).unwrap_or("");
    // One index per file for all the diagnostics (building it is linear in the file's size).
    let idx = indexes
        .entry(file.to_string())
        .or_insert_with(|| LineIndex::new(text));
    let (line, column) = idx.line_col(text, span.start);
    let (end_line, end_column) = idx.line_col(text, span.end);
    json!({ "file": file, "line": line, "column": column, "end_line": end_line, "end_column": end_column,
            "byte_start": span.start, "byte_end": span.end })
}

/// One JSON object per line per diagnostic (the `--message-format json` format, see `docs/diagnostics.md`).
pub fn render_json<'a>(diags: &[Diagnostic], source: &dyn Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::new();
    let mut indexes = HashMap::new();
    for d in diags {
        let mut labels = vec![{
            let mut v = position(source, &mut indexes, &d.primary.file, d.primary.span);
            v["message"] = json!(d.primary.message);
            v["primary"] = json!(true);
            v
        }];
        for l in &d.secondary {
            let mut v = position(source, &mut indexes, &l.file, l.span);
            v["message"] = json!(l.message);
            v["primary"] = json!(false);
            labels.push(v);
        }
        let mut obj = position(source, &mut indexes, &d.primary.file, d.primary.span);
        obj["code"] = json!(d.code);
        obj["severity"] = json!(match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        });
        obj["message"] = json!(d.title);
        obj["labels"] = json!(labels);
        obj["note"] = json!(d.note);
        obj["help"] = json!(d.help);
        let fixes: Vec<serde_json::Value> = d
            .fixes
            .iter()
            .map(|f| {
                let edits: Vec<serde_json::Value> = f
                    .edits
                    .iter()
                    .map(|e| {
                        let mut v = position(source, &mut indexes, &e.file, e.span);
                        v["text"] = json!(e.text);
                        v
                    })
                    .collect();
                json!({ "title": f.title, "applicability": f.applicability.as_str(), "edits": edits })
            })
            .collect();
        obj["fixes"] = json!(fixes);
        out.push_str(&obj.to_string());
        out.push('\n');
    }
    out
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_prop(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`.
pub fn render_github<'a>(diags: &[Diagnostic], source: &dyn Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::new();
    let mut indexes = HashMap::new();
    for d in diags {
        let p = position(source, &mut indexes, &d.primary.file, d.primary.span);
        let cmd = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut msg = format!("{}: {}", d.primary.message, d.title);
        for l in &d.secondary {
            let lp = position(source, &mut indexes, &l.file, l.span);
            msg.push_str(&format!("\n{}:{}: {}", l.file, lp["line"], l.message));
        }
        for h in d.help.iter().chain(d.fixes.iter().map(|f| &f.title)) {
            msg.push_str(&format!("\nhelp: {h}"));
        }
        out.push_str(&format!(
            "::{cmd} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            escape_prop(&d.primary.file),
            p["line"],
            p["column"],
            p["end_line"],
            p["end_column"],
            escape_prop(&format!("{} {}", d.code, d.title)),
            escape_data(&msg)
        ));
    }
    out
}
