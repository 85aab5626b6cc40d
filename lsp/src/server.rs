//! The server: its state, the snapshot every request runs on ([`Server::on_file`]), the
//! workspace scan, and the protocol's entry points, each handed to its handler in
//! [`crate::handlers`] (documents, navigation, editing, views). Diagnostics are published after
//! every change, for every open file.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use carbonc_sema::{RootDatabase, SourceFile};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use crate::convert;
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

    pub(crate) fn path(&self, uri: &Uri) -> Option<String> {
        self.state.paths.path(uri)
    }

    /// Waits until the workspace folders are loaded: references, rename and workspace symbols
    /// need every file, not only the open ones and their imports.
    pub(crate) async fn workspace_loaded(&self) {
        let mut rx = self.loaded.clone();
        let _ = rx.wait_for(|done| *done).await;
    }

    /// Runs `f` with the file at `uri` on a snapshot; `None` when the file is not known.
    pub(crate) async fn on_file<T: Send + 'static>(
        &self,
        uri: &Uri,
        f: impl Fn(&RootDatabase, SourceFile) -> Option<T> + Send + Sync + 'static,
    ) -> Result<Option<T>> {
        let Some(path) = self.path(uri) else {
            return Ok(None);
        };
        let f = Arc::new(f);
        let version = || {
            let open = self.state.documents();
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
    pub(crate) async fn load_config(&self, path: &str) {
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
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "carbon-lsp".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            capabilities: crate::capabilities::server_capabilities(),
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
        crate::handlers::documents::did_open(self, params).await
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        crate::handlers::documents::did_change(self, params).await
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        crate::handlers::documents::did_close(self, params).await
    }

    /// Files changed on disk (a checkout, another editor): those not open are read again, and
    /// deleted ones are forgotten.
    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        crate::handlers::documents::did_change_watched_files(self, params).await
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        crate::handlers::navigation::hover(self, params).await
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        crate::handlers::navigation::goto_definition(self, params).await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        crate::handlers::navigation::references(self, params).await
    }

    async fn document_highlight(
        &self,
        params: DocumentHighlightParams,
    ) -> Result<Option<Vec<DocumentHighlight>>> {
        crate::handlers::navigation::document_highlight(self, params).await
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        crate::handlers::navigation::prepare_rename(self, params).await
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        crate::handlers::navigation::rename(self, params).await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        crate::handlers::editing::completion(self, params).await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        crate::handlers::editing::code_action(self, params).await
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        crate::handlers::views::inlay_hint(self, params).await
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        crate::handlers::views::semantic_tokens_full(self, params).await
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        crate::handlers::views::document_symbol(self, params).await
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        crate::handlers::views::symbol(self, params).await
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        crate::handlers::views::folding_range(self, params).await
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        crate::handlers::editing::format(self, &params.text_document.uri, None).await
    }

    async fn range_formatting(
        &self,
        params: DocumentRangeFormattingParams,
    ) -> Result<Option<Vec<TextEdit>>> {
        crate::handlers::editing::format(self, &params.text_document.uri, Some(params.range)).await
    }
}
