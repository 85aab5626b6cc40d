//! Inlay hints, semantic tokens, symbols and folding ranges.

use carbonc_ide as ide;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::convert::{self, LineIndex, location, symbol_kind};
use crate::server::Server;

pub(crate) async fn inlay_hint(
    server: &Server,
    params: InlayHintParams,
) -> Result<Option<Vec<InlayHint>>> {
    let range = params.range;
    server
        .on_file(&params.text_document.uri, move |db, f| {
            let index = LineIndex::new(f.text(db));
            Some(
                ide::inlay_hints(db, f, index.span(range))
                    .into_iter()
                    .map(|h| InlayHint {
                        position: index.position(h.offset),
                        label: InlayHintLabel::String(h.label),
                        kind: Some(match h.kind {
                            ide::HintKind::Type => InlayHintKind::TYPE,
                            ide::HintKind::Region => InlayHintKind::PARAMETER,
                        }),
                        text_edits: None,
                        tooltip: None,
                        padding_left: Some(h.kind == ide::HintKind::Region),
                        padding_right: None,
                        data: None,
                    })
                    .collect(),
            )
        })
        .await
}

pub(crate) async fn semantic_tokens_full(
    server: &Server,
    params: SemanticTokensParams,
) -> Result<Option<SemanticTokensResult>> {
    server
        .on_file(&params.text_document.uri, move |db, f| {
            let text = f.text(db);
            let index = LineIndex::new(text);
            let mut data = Vec::new();
            let (mut line, mut col) = (0u32, 0u32);
            for t in ide::semantic_tokens(db, f) {
                let (a, b) = (index.position(t.span.start), index.position(t.span.end));
                // Tokens are single-line in the protocol.
                if a.line != b.line || b.character <= a.character {
                    continue;
                }
                let delta_line = a.line - line;
                let delta_start = if delta_line == 0 {
                    a.character - col
                } else {
                    a.character
                };
                data.push(SemanticToken {
                    delta_line,
                    delta_start,
                    length: b.character - a.character,
                    token_type: t.ty,
                    token_modifiers_bitset: t.modifiers,
                });
                line = a.line;
                col = a.character;
            }
            Some(SemanticTokensResult::Tokens(SemanticTokens {
                result_id: None,
                data,
            }))
        })
        .await
}

pub(crate) async fn document_symbol(
    server: &Server,
    params: DocumentSymbolParams,
) -> Result<Option<DocumentSymbolResponse>> {
    server
        .on_file(&params.text_document.uri, move |db, f| {
            let index = LineIndex::new(f.text(db));
            Some(DocumentSymbolResponse::Nested(
                ide::document_symbols(db, f)
                    .into_iter()
                    .map(|s| convert::document_symbol(s, &index))
                    .collect(),
            ))
        })
        .await
}

pub(crate) async fn symbol(
    server: &Server,
    params: WorkspaceSymbolParams,
) -> Result<Option<WorkspaceSymbolResponse>> {
    server.workspace_loaded().await;
    let paths = server.state.paths.clone();
    let answer = server
        .state
        .read(move |db| {
            #[allow(deprecated)]
            let symbols: Vec<SymbolInformation> = ide::workspace_symbols(db, &params.query, 500)
                .into_iter()
                .filter_map(|s| {
                    Some(SymbolInformation {
                        location: location(
                            db,
                            &paths,
                            &ide::Location {
                                file: s.file.clone(),
                                span: s.name_span,
                            },
                        )?,
                        name: s.name,
                        kind: symbol_kind(s.kind),
                        tags: None,
                        deprecated: None,
                        container_name: s.detail,
                    })
                })
                .collect();
            symbols
        })
        .await
        .map_err(tower_lsp_server::jsonrpc::Error::from)?;
    Ok(Some(WorkspaceSymbolResponse::Flat(answer)))
}

pub(crate) async fn folding_range(
    server: &Server,
    params: FoldingRangeParams,
) -> Result<Option<Vec<FoldingRange>>> {
    server
        .on_file(&params.text_document.uri, move |db, f| {
            let index = LineIndex::new(f.text(db));
            Some(
                ide::folding_ranges(db, f)
                    .into_iter()
                    .map(|r| {
                        let range = index.range(r.span);
                        FoldingRange {
                            start_line: range.start.line,
                            start_character: None,
                            end_line: range.end.line,
                            end_character: None,
                            kind: Some(if r.comment {
                                FoldingRangeKind::Comment
                            } else {
                                FoldingRangeKind::Region
                            }),
                            collapsed_text: None,
                        }
                    })
                    .filter(|r| r.end_line > r.start_line)
                    .collect(),
            )
        })
        .await
}
