//! Publishing diagnostics: the quick run after an edit (the edited file's own diagnostics, the
//! last complete run's rule diagnostics carried along) and the complete run over every open
//! program, cancelled by the next edit.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use carbonc_ide as ide;
use carbonc_sema::RootDatabase;
use tower_lsp_server::ls_types::*;

use crate::convert::{self, LineIndex};
use crate::server::Shared;
use crate::state;

/// What the last complete diagnostics run published.
#[derive(Default)]
pub(crate) struct Published {
    /// The files it published for, to clear those that drop out.
    files: BTreeSet<String>,
    /// Per file: the text it saw and its program-level diagnostics (placement and domain rules),
    /// which the quick run after an edit carries over until the complete run replaces them.
    program_level:
        std::collections::HashMap<String, (String, Vec<carbonc_diagnostics::Diagnostic>)>,
    /// What was published for each file that is not open: unchanged, it is not sent again.
    sent: std::collections::HashMap<String, Vec<Diagnostic>>,
}

impl Shared {
    /// Recomputes and publishes the diagnostics of every open file and of every file in the same
    /// programs (the files that import them and those they import), unless another edit arrives
    /// first (then the run is cancelled and the next one publishes).
    pub(crate) fn publish_diagnostics(&self) {
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.publish_all(generation);
    }

    /// The quick run after an edit of `path`: that file's syntax, name and type diagnostics at
    /// once, with the last complete run's placement and rule diagnostics moved along with the
    /// edit. Published without a version; the complete run that follows publishes with one.
    pub(crate) async fn publish_quick(&self, path: String, generation: u64) {
        let carried = self
            .published
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .program_level
            .get(&path)
            .cloned();
        let paths = self.state.paths.clone();
        let result = self
            .state
            .read(move |db| {
                let f = db.file(&path)?;
                let text = f.text(db);
                let mut diags = ide::file_level(db, f);
                // With errors of its own, the program is not evaluated: no rule diagnostics.
                if !diags.iter().any(|d| d.is_error())
                    && let Some((old, stale)) = carried
                {
                    diags.extend(ide::carry_over(&old, text, &stale, &path));
                }
                let index = LineIndex::new(text);
                let text_of = |p: &str| db.file(p).map(|f| f.text(db).clone());
                let converted: Vec<Diagnostic> = diags
                    .iter()
                    .map(|d| convert::diagnostic(d, &index, &paths, &text_of))
                    .collect();
                Some((paths.uri(&path)?, converted))
            })
            .await;
        let Ok(Some((uri, diags))) = result else {
            return;
        };
        if self.generation.load(Ordering::SeqCst) == generation {
            self.client.publish_diagnostics(uri, diags, None).await;
        }
    }

    pub(crate) fn publish_all(&self, generation: u64) {
        let counter = self.generation.clone();
        let state = self.state.clone();
        let client = self.client.clone();
        let published = self.published.clone();
        tokio::spawn(async move {
            let open = state.open_paths();
            let versions: std::collections::HashMap<String, i32> = state
                .open
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|(p, d)| (p.clone(), d.version))
                .collect();
            let paths = state.paths.clone();
            let compute = move |db: &RootDatabase| {
                let mut files: BTreeSet<String> = BTreeSet::new();
                for path in &open {
                    let Some(f) = db.file(path) else { continue };
                    files.insert(path.clone());
                    for root in ide::roots_of(db, f) {
                        for g in carbonc_sema::program_files(db, root) {
                            let p = g.path(db);
                            if !p.starts_with("std/") {
                                files.insert(p.clone());
                            }
                        }
                    }
                }
                let mut out = Vec::new();
                for path in files {
                    let Some(f) = db.file(&path) else { continue };
                    let text = f.text(db);
                    let index = LineIndex::new(text);
                    let text_of = |p: &str| db.file(p).map(|f| f.text(db).clone());
                    let full = ide::diagnostics(db, f);
                    let diags: Vec<Diagnostic> = full
                        .iter()
                        .map(|d| convert::diagnostic(d, &index, &paths, &text_of))
                        .collect();
                    // Only an open file is edited, so only its rule diagnostics are carried.
                    let carried = open.contains(&path).then(|| {
                        let file_level = ide::file_level(db, f);
                        let program_level: Vec<carbonc_diagnostics::Diagnostic> = full
                            .into_iter()
                            .filter(|d| !file_level.contains(d))
                            .collect();
                        (text.clone(), program_level)
                    });
                    if let Some(uri) = paths.uri(&path) {
                        out.push((path, uri, diags, carried));
                    }
                }
                out
            };
            // A run cancelled by a write that is not an edit (the idle clean-up below) runs again;
            // one cancelled by an edit leaves the publishing to that edit's run.
            let all = loop {
                match state.read(compute.clone()).await {
                    Ok(all) => break all,
                    Err(state::Failed::Cancelled)
                        if counter.load(Ordering::SeqCst) == generation => {}
                    Err(_) => return,
                }
            };
            let (gone, publish) = {
                let mut published = published.lock().unwrap_or_else(|e| e.into_inner());
                if counter.load(Ordering::SeqCst) != generation {
                    return;
                }
                let now: BTreeSet<String> = all.iter().map(|(p, _, _, _)| p.clone()).collect();
                let gone: Vec<String> = published.files.difference(&now).cloned().collect();
                for path in &gone {
                    published.program_level.remove(path);
                    published.sent.remove(path);
                }
                let mut publish = Vec::new();
                for (path, uri, diags, carried) in all {
                    match carried {
                        Some(c) => published.program_level.insert(path.clone(), c),
                        None => published.program_level.remove(&path),
                    };
                    let version = versions.get(&path).copied();
                    if version.is_none() {
                        if published.sent.get(&path) == Some(&diags) {
                            continue;
                        }
                        published.sent.insert(path.clone(), diags.clone());
                    } else {
                        published.sent.remove(&path);
                    }
                    publish.push((version, uri, diags));
                }
                published.files = now;
                (gone, publish)
            };
            for path in gone {
                if let Some(uri) = state.paths.uri(&path) {
                    client.publish_diagnostics(uri, Vec::new(), None).await;
                }
            }
            // Open files first: they are what the user is looking at.
            let (open_first, rest): (Vec<_>, Vec<_>) =
                publish.into_iter().partition(|(v, _, _)| v.is_some());
            for (version, uri, diags) in open_first.into_iter().chain(rest) {
                if counter.load(Ordering::SeqCst) != generation {
                    return;
                }
                client.publish_diagnostics(uri, diags, version).await;
            }
            // Idle now: free what this run replaced, so the next edit does not pay for it. The
            // check is made holding the database, so it never cancels a newer edit's run.
            let _ = tokio::task::spawn_blocking(move || {
                state.write(|db| {
                    if counter.load(Ordering::SeqCst) == generation {
                        db.collect_garbage();
                    }
                })
            })
            .await;
        });
    }
}
