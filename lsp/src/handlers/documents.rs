//! The documents the editor has open, and the files that change on disk: each change sets the
//! file's text and publishes diagnostics again.

use std::sync::atomic::Ordering;

use tower_lsp_server::ls_types::*;

use crate::server::Server;
use crate::state;

pub(crate) async fn did_open(server: &Server, params: DidOpenTextDocumentParams) {
    let Some(path) = server.path(&params.text_document.uri) else {
        return;
    };
    server.state.documents().insert(
        path.clone(),
        state::Document {
            version: params.text_document.version,
        },
    );
    if !path.starts_with("std/") {
        server.state.set_text(&path, params.text_document.text);
        server.load_config(&path).await;
    }
    server.publish_diagnostics();
}

pub(crate) async fn did_change(server: &Server, params: DidChangeTextDocumentParams) {
    let Some(path) = server.path(&params.text_document.uri) else {
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
        let mut open = server.state.documents();
        let doc = open
            .entry(path.clone())
            .or_insert(state::Document { version: 0 });
        if params.text_document.version < doc.version {
            return;
        }
        doc.version = params.text_document.version;
    }
    let generation = server.generation.fetch_add(1, Ordering::SeqCst) + 1;
    server.state.set_text(&path, change.text);
    server.publish_all(generation);
}

pub(crate) async fn did_close(server: &Server, params: DidCloseTextDocumentParams) {
    let uri = params.text_document.uri;
    let Some(path) = server.path(&uri) else {
        return;
    };
    server.state.documents().remove(&path);
    // Unsaved changes are gone: the file is what is on disk again.
    if !path.starts_with("std/")
        && let Ok(text) = state::read(&path)
    {
        server.state.set_text(&path, text);
    }
    server
        .client
        .publish_diagnostics(uri, Vec::new(), None)
        .await;
    server.publish_diagnostics();
}

/// Files changed on disk (a checkout, another editor): those not open are read again, and
/// deleted ones are forgotten.
pub(crate) async fn did_change_watched_files(server: &Server, params: DidChangeWatchedFilesParams) {
    let mut changed = false;
    for event in params.changes {
        let Some(path) = server.path(&event.uri) else {
            continue;
        };
        if path.starts_with("std/") || server.state.is_open(&path) || !path.ends_with(".carbon") {
            continue;
        }
        if event.typ == FileChangeType::DELETED {
            server.state.write(|db| db.remove_file(&path));
            changed = true;
        } else if let Ok(text) = state::read(&path) {
            server.state.set_text(&path, text);
            changed = true;
        }
    }
    if changed {
        server.publish_diagnostics();
    }
}
