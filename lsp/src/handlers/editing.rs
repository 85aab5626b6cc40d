//! Completion, quick fixes and formatting.

use carbonc_ide as ide;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::convert::{self, LineIndex, completion_kind, workspace_edit};
use crate::server::Server;

pub(crate) async fn completion(
    server: &Server,
    params: CompletionParams,
) -> Result<Option<CompletionResponse>> {
    let p = params.text_document_position;
    server
        .on_file(&p.text_document.uri, move |db, f| {
            let index = LineIndex::new(f.text(db));
            let items: Vec<CompletionItem> = ide::completions(db, f, index.offset(p.position))
                .into_iter()
                .map(|c| CompletionItem {
                    label: c.label,
                    kind: Some(completion_kind(c.kind)),
                    detail: c.detail,
                    documentation: c.doc.map(|d| {
                        Documentation::MarkupContent(MarkupContent {
                            kind: MarkupKind::Markdown,
                            value: d,
                        })
                    }),
                    sort_text: Some(format!("{}", c.rank)),
                    text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                        range: index.range(c.replace),
                        new_text: c.insert,
                    })),
                    ..Default::default()
                })
                .collect();
            Some(CompletionResponse::Array(items))
        })
        .await
}

pub(crate) async fn code_action(
    server: &Server,
    params: CodeActionParams,
) -> Result<Option<CodeActionResponse>> {
    let paths = server.state.paths.clone();
    let range = params.range;
    server
        .on_file(&params.text_document.uri, move |db, f| {
            let text = f.text(db);
            let index = LineIndex::new(text);
            let text_of = |p: &str| db.file(p).map(|f| f.text(db).clone());
            let actions = ide::code_actions(db, f, index.span(range))
                .into_iter()
                .map(|a| {
                    let edit = workspace_edit(
                        db,
                        &paths,
                        a.fix.edits.into_iter().map(|e| (e.file, e.span, e.text)),
                    );
                    CodeActionOrCommand::CodeAction(CodeAction {
                        title: convert::capitalise(&a.fix.title),
                        kind: Some(CodeActionKind::QUICKFIX),
                        diagnostics: Some(vec![convert::diagnostic(
                            &a.fixes, &index, &paths, &text_of,
                        )]),
                        edit: Some(edit),
                        is_preferred: Some(a.preferred),
                        ..Default::default()
                    })
                })
                .collect();
            Some(actions)
        })
        .await
}

/// Formatting of the whole document, or of `range`.
pub(crate) async fn format(
    server: &Server,
    uri: &Uri,
    range: Option<Range>,
) -> Result<Option<Vec<TextEdit>>> {
    let answer = server
        .on_file(uri, move |db, f| {
            let text = f.text(db);
            let index = LineIndex::new(text);
            Some(
                ide::format_edits(text, range.map(|r| index.span(r))).map(|edits| {
                    edits
                        .into_iter()
                        .map(|(span, new_text)| TextEdit {
                            range: index.range(span),
                            new_text,
                        })
                        .collect::<Vec<_>>()
                }),
            )
        })
        .await?;
    match answer {
        Some(Ok(edits)) => Ok(Some(edits)),
        Some(Err(e)) => {
            // A file that does not parse is left as it is; say why.
            server
                .client
                .show_message(
                    MessageType::WARNING,
                    format!(
                        "carbon: not formatted: line {}, column {}: {}",
                        e.line, e.column, e.message
                    ),
                )
                .await;
            Ok(None)
        }
        None => Ok(None),
    }
}
