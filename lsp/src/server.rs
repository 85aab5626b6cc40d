//! The protocol handlers: each converts its parameters, asks `carbonc-ide` on a snapshot, and
//! converts the answer. Diagnostics are published after every change, for every open file.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use carbonc_ide as ide;
use carbonc_sema::{RootDatabase, SourceFile};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use crate::convert::{
    self, LineIndex, completion_kind, document_symbol, location, symbol_kind, workspace_edit,
};
use crate::publish::Published;
use crate::state::{self, State};

pub struct Server {
    shared: Shared,
    folders: std::sync::Mutex<Vec<std::path::PathBuf>>,
    /// Set once the workspace folders are loaded (by the background scan).
    loaded_tx: std::sync::Mutex<Option<tokio::sync::watch::Sender<bool>>>,
    loaded: tokio::sync::watch::Receiver<bool>,
}

/// What background work (diagnostics runs, the workspace scan) shares with the handlers.
#[derive(Clone)]
pub struct Shared {
    pub(crate) client: Client,
    pub(crate) state: Arc<State>,
    /// Bumped by every edit; a diagnostics run publishes only if no edit came after it.
    pub(crate) generation: Arc<AtomicU64>,
    pub(crate) published: Arc<std::sync::Mutex<Published>>,
}

impl std::ops::Deref for Server {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}

impl Server {
    pub fn new(client: Client, std_dir: std::path::PathBuf) -> Server {
        let (loaded_tx, loaded) = tokio::sync::watch::channel(false);
        Server {
            loaded_tx: std::sync::Mutex::new(Some(loaded_tx)),
            loaded,
            shared: Shared {
                client,
                state: Arc::new(State::new(std_dir)),
                generation: Arc::new(AtomicU64::new(0)),
                published: Arc::new(std::sync::Mutex::new(Published::default())),
            },
            folders: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn path(&self, uri: &Uri) -> Option<String> {
        self.state.paths.path(uri)
    }

    /// Waits until the workspace folders are loaded: references, rename and workspace symbols
    /// need every file, not only the open ones and their imports.
    async fn workspace_loaded(&self) {
        let mut rx = self.loaded.clone();
        let _ = rx.wait_for(|done| *done).await;
    }

    /// Runs `f` with the file at `uri` on a snapshot; `None` when the file is not known.
    async fn on_file<T: Send + 'static>(
        &self,
        uri: &Uri,
        f: impl Fn(&RootDatabase, SourceFile) -> Option<T> + Send + Sync + 'static,
    ) -> Result<Option<T>> {
        let Some(path) = self.path(uri) else {
            return Ok(None);
        };
        let f = Arc::new(f);
        let version = || {
            let open = self.state.open.lock().unwrap_or_else(|e| e.into_inner());
            open.get(&path).map(|d| d.version)
        };
        // A write cancels every request in flight. When it did not change this document (the
        // workspace loading in the background, an edit of another file, the configuration), the
        // question still stands: ask it again on the new snapshot rather than answer
        // `ContentModified`, which editors drop (a hover that shows nothing).
        let mut attempts = 0;
        let answer = loop {
            let before = version();
            let (f, path) = (f.clone(), path.clone());
            let answer = self
                .state
                .read(move |db| db.file(&path).and_then(|file| f(db, file)))
                .await;
            attempts += 1;
            match answer {
                Err(state::Failed::Cancelled) if attempts < 3 && version() == before => continue,
                answer => break answer,
            }
        };
        match answer {
            Ok(v) => Ok(v),
            Err(e) => {
                if let state::Failed::Panicked(m) = &e {
                    self.client
                        .log_message(
                            MessageType::ERROR,
                            format!("carbon-lsp: handler panicked: {m}"),
                        )
                        .await;
                }
                Err(e.into())
            }
        }
    }

    /// `carbon.toml` beside `path`, as `carbonc check` reads it beside the root file: its
    /// severity overrides apply to what the editor shows. A broken one is reported, not applied.
    async fn load_config(&self, path: &str) {
        let dir = std::path::Path::new(path)
            .parent()
            .unwrap_or(std::path::Path::new("/"));
        let toml = dir.join("carbon.toml");
        let Ok(text) = std::fs::read_to_string(&toml) else {
            return;
        };
        match carbonc_sema::config_from_toml(&text, &toml.display().to_string()) {
            Ok(config) => self.state.write(|db| db.set_config(config)),
            Err(e) => {
                self.client
                    .show_message(MessageType::WARNING, format!("carbon: {e}"))
                    .await
            }
        }
    }

    /// Loads the `.carbon` files of the workspace folders (for references, rename and workspace
    /// symbols across files) in the background: the server answers meanwhile, and a file the
    /// editor opened first keeps the editor's text.
    fn load_workspace(&self) {
        let folders = self
            .folders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let shared = self.shared.clone();
        let state = self.state.clone();
        let loaded = self
            .loaded_tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        tokio::spawn(async move {
            let read = tokio::task::spawn_blocking(move || {
                let mut budget = state::ScanBudget::default();
                let mut files = Vec::new();
                for dir in &folders {
                    state::scan(dir, &mut budget, &mut files);
                }
                files
                    .into_iter()
                    .filter_map(|p| {
                        let path = convert::normalize(&p);
                        state::read(&path).ok().map(|text| (path, text))
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .unwrap_or_default();
            state.write(|db| {
                for (path, text) in read {
                    if db.file(&path).is_none() {
                        let f = db.set_file(&path, text);
                        state::load_imports(db, f);
                    }
                }
            });
            if let Some(tx) = loaded {
                let _ = tx.send(true);
            }
            // The programs of the open files may have gained importers.
            shared.publish_diagnostics();
        });
    }
}

impl LanguageServer for Server {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let mut folders = Vec::new();
        for f in params.workspace_folders.unwrap_or_default() {
            if let Some(p) = f.uri.to_file_path() {
                folders.push(p.into_owned());
            }
        }
        #[allow(deprecated)]
        if folders.is_empty()
            && let Some(p) = params.root_uri.as_ref().and_then(|u| u.to_file_path())
        {
            folders.push(p.into_owned());
        }
        *self.folders.lock().unwrap_or_else(|e| e.into_inner()) = folders;
        let legend = SemanticTokensLegend {
            token_types: ide::TOKEN_TYPES
                .iter()
                .map(|t| SemanticTokenType::new(t))
                .collect(),
            token_modifiers: ide::TOKEN_MODIFIERS
                .iter()
                .map(|t| SemanticTokenModifier::new(t))
                .collect(),
        };
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "carbon-lsp".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Kind(
                    TextDocumentSyncKind::FULL,
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                document_highlight_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: Default::default(),
                })),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![".".into(), "@".into(), " ".into(), "=".into()]),
                    ..Default::default()
                }),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                        ..Default::default()
                    },
                )),
                inlay_hint_provider: Some(OneOf::Left(true)),
                semantic_tokens_provider: Some(
                    SemanticTokensServerCapabilities::SemanticTokensOptions(
                        SemanticTokensOptions {
                            legend,
                            full: Some(SemanticTokensFullOptions::Bool(true)),
                            range: None,
                            work_done_progress_options: Default::default(),
                        },
                    ),
                ),
                document_symbol_provider: Some(OneOf::Left(true)),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                document_formatting_provider: Some(OneOf::Left(true)),
                document_range_formatting_provider: Some(OneOf::Left(true)),
                ..Default::default()
            },
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        self.load_workspace();
        self.client
            .log_message(MessageType::INFO, "carbon-lsp ready")
            .await;
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let Some(path) = self.path(&params.text_document.uri) else {
            return;
        };
        self.state
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                path.clone(),
                state::Document {
                    version: params.text_document.version,
                },
            );
        if !path.starts_with("std/") {
            self.state.set_text(&path, params.text_document.text);
            self.load_config(&path).await;
        }
        self.publish_diagnostics();
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let Some(path) = self.path(&params.text_document.uri) else {
            return;
        };
        if path.starts_with("std/") {
            return;
        }
        // Full synchronisation: the last change holds the whole text. A stale version is dropped.
        let Some(change) = params.content_changes.into_iter().last() else {
            return;
        };
        {
            let mut open = self.state.open.lock().unwrap_or_else(|e| e.into_inner());
            let doc = open
                .entry(path.clone())
                .or_insert(state::Document { version: 0 });
            if params.text_document.version < doc.version {
                return;
            }
            doc.version = params.text_document.version;
        }
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.state.set_text(&path, change.text);
        self.publish_all(generation);
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        let Some(path) = self.path(&uri) else {
            return;
        };
        self.state
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&path);
        // Unsaved changes are gone: the file is what is on disk again.
        if !path.starts_with("std/")
            && let Ok(text) = state::read(&path)
        {
            self.state.set_text(&path, text);
        }
        self.client.publish_diagnostics(uri, Vec::new(), None).await;
        self.publish_diagnostics();
    }

    /// Files changed on disk (a checkout, another editor): those not open are read again, and
    /// deleted ones are forgotten.
    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let mut changed = false;
        for event in params.changes {
            let Some(path) = self.path(&event.uri) else {
                continue;
            };
            if path.starts_with("std/") || self.state.is_open(&path) || !path.ends_with(".carbon") {
                continue;
            }
            if event.typ == FileChangeType::DELETED {
                self.state.write(|db| db.remove_file(&path));
                changed = true;
            } else if let Ok(text) = state::read(&path) {
                self.state.set_text(&path, text);
                changed = true;
            }
        }
        if changed {
            self.publish_diagnostics();
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        self.on_file(&p.text_document.uri, move |db, f| {
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

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        let paths = self.state.paths.clone();
        self.on_file(&p.text_document.uri, move |db, f| {
            let offset = LineIndex::new(f.text(db)).offset(p.position);
            let locs: Vec<Location> = ide::definition(db, f, offset)
                .iter()
                .filter_map(|l| location(db, &paths, l))
                .collect();
            (!locs.is_empty()).then_some(GotoDefinitionResponse::Array(locs))
        })
        .await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        self.workspace_loaded().await;
        let p = params.text_document_position;
        let include = params.context.include_declaration;
        let paths = self.state.paths.clone();
        self.on_file(&p.text_document.uri, move |db, f| {
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

    async fn document_highlight(
        &self,
        params: DocumentHighlightParams,
    ) -> Result<Option<Vec<DocumentHighlight>>> {
        let p = params.text_document_position_params;
        self.on_file(&p.text_document.uri, move |db, f| {
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

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        let answer = self
            .on_file(&params.text_document.uri, move |db, f| {
                let index = LineIndex::new(f.text(db));
                Some(
                    ide::prepare_rename(db, f, index.offset(params.position))
                        .map(|(span, text)| (index.range(span), text)),
                )
            })
            .await?;
        match answer {
            Some(Ok((range, placeholder))) => {
                Ok(Some(PrepareRenameResponse::RangeWithPlaceholder {
                    range,
                    placeholder,
                }))
            }
            Some(Err(why)) => Err(tower_lsp_server::jsonrpc::Error::invalid_params(why)),
            None => Ok(None),
        }
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        self.workspace_loaded().await;
        let p = params.text_document_position;
        let new_name = params.new_name;
        let paths = self.state.paths.clone();
        let answer = self
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

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        self.on_file(&p.text_document.uri, move |db, f| {
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

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let paths = self.state.paths.clone();
        let range = params.range;
        self.on_file(&params.text_document.uri, move |db, f| {
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

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        let range = params.range;
        self.on_file(&params.text_document.uri, move |db, f| {
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

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        self.on_file(&params.text_document.uri, move |db, f| {
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

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        self.on_file(&params.text_document.uri, move |db, f| {
            let index = LineIndex::new(f.text(db));
            Some(DocumentSymbolResponse::Nested(
                ide::document_symbols(db, f)
                    .into_iter()
                    .map(|s| document_symbol(s, &index))
                    .collect(),
            ))
        })
        .await
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        self.workspace_loaded().await;
        let paths = self.state.paths.clone();
        let answer = self
            .state
            .read(move |db| {
                #[allow(deprecated)]
                let symbols: Vec<SymbolInformation> =
                    ide::workspace_symbols(db, &params.query, 500)
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

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        self.on_file(&params.text_document.uri, move |db, f| {
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

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.format(&params.text_document.uri, None).await
    }

    async fn range_formatting(
        &self,
        params: DocumentRangeFormattingParams,
    ) -> Result<Option<Vec<TextEdit>>> {
        self.format(&params.text_document.uri, Some(params.range))
            .await
    }
}

impl Server {
    async fn format(&self, uri: &Uri, range: Option<Range>) -> Result<Option<Vec<TextEdit>>> {
        let answer = self
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
                self.client
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
}
