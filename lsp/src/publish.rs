//! Publishing diagnostics: after every edit, the complete set (syntax, names, types, placement,
//! domain rules) of every file of every open program, exactly what `carbonc check` reports,
//! cancelled by the next edit. The re-check is incremental (only the edited file's part of the
//! program and the rules it touched run again), so there is no quicker partial run before it.

use std::collections::{BTreeMap, BTreeSet};
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

    pub(crate) fn publish_all(&self, generation: u64) {
        let counter = self.generation.clone();
        let state = self.state.clone();
        let client = self.client.clone();
        let published = self.published.clone();
        tokio::spawn(async move {
            let open = state.open_paths();
            let versions: std::collections::HashMap<String, i32> = state
                .documents()
                .iter()
                .map(|(p, d)| (p.clone(), d.version))
                .collect();
            let paths = state.paths.clone();
            let compute = move |db: &RootDatabase| {
                // The programs of the open files, and each of their files once: a file in
                // several programs gets the union of what each reports.
                let mut roots = Vec::new();
                for path in &open {
                    let Some(f) = db.file(path) else { continue };
                    for root in ide::roots_of(db, f) {
                        if !roots.contains(&root) {
                            roots.push(root);
                        }
                    }
                }
                let mut per_file: BTreeMap<String, Vec<carbonc_diagnostics::Diagnostic>> =
                    BTreeMap::new();
                for root in roots {
                    let by_file = carbonc_sema::diagnostics_by_file(db, root);
                    for g in carbonc_sema::program_files(db, root) {
                        let path = g.path(db);
                        if path.starts_with("std/") {
                            continue;
                        }
                        let theirs = by_file.get(path).map_or(&[][..], Vec::as_slice);
                        match per_file.get_mut(path) {
                            None => {
                                per_file.insert(path.clone(), theirs.to_vec());
                            }
                            Some(ours) => {
                                for d in theirs {
                                    if !ours.contains(d) {
                                        ours.push(d.clone());
                                    }
                                }
                            }
                        }
                    }
                }
                let mut out = Vec::new();
                for (path, full) in per_file {
                    let Some(f) = db.file(&path) else { continue };
                    // Most files of a program have nothing to report: no line index for those.
                    let diags: Vec<Diagnostic> = if full.is_empty() {
                        Vec::new()
                    } else {
                        let index = LineIndex::new(f.text(db));
                        let text_of = |p: &str| db.file(p).map(|f| f.text(db).clone());
                        full.iter()
                            .map(|d| convert::diagnostic(d, &index, &paths, &text_of))
                            .collect()
                    };
                    if let Some(uri) = paths.uri(&path) {
                        out.push((path, uri, diags));
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
                let now: BTreeSet<String> = all.iter().map(|(p, _, _)| p.clone()).collect();
                let gone: Vec<String> = published.files.difference(&now).cloned().collect();
                for path in &gone {
                    published.sent.remove(path);
                }
                let mut publish = Vec::new();
                for (path, uri, diags) in all {
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
