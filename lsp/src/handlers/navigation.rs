//! Hover, go to definition, references, highlights and rename.

use carbonc_ide as ide;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::convert::{LineIndex, location, workspace_edit};
use crate::server::Server;

pub(crate) async fn hover(server: &Server, params: HoverParams) -> Result<Option<Hover>> {
    let p = params.text_document_position_params;
    server
        .on_file(&p.text_document.uri, move |db, f| {
            let index = LineIndex::new(f.text(db));
            let h = ide::hover(db, f, index.offset(p.position))?;
            Some(Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: h.markdown,
                }),
                range: Some(index.range(h.span)),
            })
        })
        .await
}

pub(crate) async fn goto_definition(
    server: &Server,
    params: GotoDefinitionParams,
) -> Result<Option<GotoDefinitionResponse>> {
    let p = params.text_document_position_params;
    let paths = server.state.paths.clone();
    server
        .on_file(&p.text_document.uri, move |db, f| {
            let offset = LineIndex::new(f.text(db)).offset(p.position);
            let locs: Vec<Location> = ide::definition(db, f, offset)
                .iter()
                .filter_map(|l| location(db, &paths, l))
                .collect();
            (!locs.is_empty()).then_some(GotoDefinitionResponse::Array(locs))
        })
        .await
}

pub(crate) async fn references(
    server: &Server,
    params: ReferenceParams,
) -> Result<Option<Vec<Location>>> {
    server.workspace_loaded().await;
    let p = params.text_document_position;
    let include = params.context.include_declaration;
    let paths = server.state.paths.clone();
    server
        .on_file(&p.text_document.uri, move |db, f| {
            let offset = LineIndex::new(f.text(db)).offset(p.position);
            Some(
                ide::references(db, f, offset, include)
                    .iter()
                    .filter_map(|l| location(db, &paths, l))
                    .collect(),
            )
        })
        .await
}

pub(crate) async fn document_highlight(
    server: &Server,
    params: DocumentHighlightParams,
) -> Result<Option<Vec<DocumentHighlight>>> {
    let p = params.text_document_position_params;
    server
        .on_file(&p.text_document.uri, move |db, f| {
            let index = LineIndex::new(f.text(db));
            Some(
                ide::document_highlight(db, f, index.offset(p.position))
                    .into_iter()
                    .map(|h| DocumentHighlight {
                        range: index.range(h.span),
                        kind: Some(if h.write {
                            DocumentHighlightKind::WRITE
                        } else {
                            DocumentHighlightKind::READ
                        }),
                    })
                    .collect(),
            )
        })
        .await
}

pub(crate) async fn prepare_rename(
    server: &Server,
    params: TextDocumentPositionParams,
) -> Result<Option<PrepareRenameResponse>> {
    let answer = server
        .on_file(&params.text_document.uri, move |db, f| {
            let index = LineIndex::new(f.text(db));
            Some(
                ide::prepare_rename(db, f, index.offset(params.position))
                    .map(|(span, text)| (index.range(span), text)),
            )
        })
        .await?;
    match answer {
        Some(Ok((range, placeholder))) => Ok(Some(PrepareRenameResponse::RangeWithPlaceholder {
            range,
            placeholder,
        })),
        Some(Err(why)) => Err(tower_lsp_server::jsonrpc::Error::invalid_params(why)),
        None => Ok(None),
    }
}

pub(crate) async fn rename(server: &Server, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
    server.workspace_loaded().await;
    let p = params.text_document_position;
    let new_name = params.new_name;
    let paths = server.state.paths.clone();
    let answer = server
        .on_file(&p.text_document.uri, move |db, f| {
            let offset = LineIndex::new(f.text(db)).offset(p.position);
            Some(
                ide::rename(db, f, offset, &new_name)
                    .map(|edits| workspace_edit(db, &paths, edits)),
            )
        })
        .await?;
    match answer {
        Some(Ok(edit)) => Ok(Some(edit)),
        Some(Err(why)) => Err(tower_lsp_server::jsonrpc::Error::invalid_params(why)),
        None => Ok(None),
    }
}
