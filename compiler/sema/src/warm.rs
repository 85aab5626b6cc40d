//! A cold check on every core: the per-file queries a check reads are independent of each other
//! (a file's part reads another file's skeleton, not its values), so they can be computed side by
//! side on clones of the database before the check joins them. Whichever thread computes a query,
//! its result is the same; the check that follows finds them computed.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::db::{Db, RootDatabase, SourceFile};

/// How many threads to check on: `CARBONC_THREADS` when set to a number, otherwise as many as the
/// machine offers this process.
fn cores() -> usize {
    std::env::var("CARBONC_THREADS")
        .ok()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Runs `task` on each item, on up to `threads` clones of `db`, items taken in order from one
/// queue (put the longest first).
fn par_each<T: Sync>(
    db: &RootDatabase,
    threads: usize,
    items: &[T],
    task: impl Fn(&RootDatabase, &T) + Sync,
) {
    let threads = threads.min(items.len());
    if threads < 2 {
        items.iter().for_each(|it| task(db, it));
        return;
    }
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let db = db.clone();
            let (next, task) = (&next, &task);
            scope.spawn(move || {
                while let Some(it) = items.get(next.fetch_add(1, Ordering::Relaxed)) {
                    task(&db, it);
                }
            });
        }
    });
}

/// Computes, on every core, what a check of the program rooted at `root` reads: each file's
/// syntax, names and types; then, when they are free of errors (only then does the check
/// evaluate), each file's part of the evaluation and its references, and each family of domain
/// rules. Call it before [`crate::check_program`] on a database that has not checked `root` yet;
/// on one core it does nothing.
pub fn warm(db: &RootDatabase, root: SourceFile) {
    warm_on(db, root, cores());
}

/// [`warm`] on `threads` threads.
pub fn warm_on(db: &RootDatabase, root: SourceFile, threads: usize) {
    if threads < 2 {
        return;
    }
    let mut files: Vec<SourceFile> = db
        .workspace()
        .files(db)
        .iter()
        .filter(|(path, _)| !path.starts_with("std/"))
        .map(|(_, f)| *f)
        .collect();
    files.sort_by_key(|f| std::cmp::Reverse(f.text(db).len()));
    par_each(db, threads, &files, |db, f| {
        crate::check_file(db, *f);
    });
    if !crate::rules_ran(db, root) {
        return;
    }
    let mut parts = crate::program_files(db, root);
    parts.sort_by_key(|f| std::cmp::Reverse(f.text(db).len()));
    // The skeletons first (of the files other files can read: not the root's), so that no
    // file's part makes one while it holds its own evaluator.
    let imported: Vec<SourceFile> = parts.iter().copied().filter(|f| *f != root).collect();
    par_each(db, threads, &imported, |db, f| {
        crate::eval::warm_skeleton(db, root, *f);
    });
    par_each(db, threads, &parts, |db, f| {
        crate::graph::file_references(db, root, *f);
    });
    let families: Vec<u8> = (0..crate::rules::family_count()).collect();
    par_each(db, threads, &families, |db, family| {
        crate::rules::warm_family(db, root, *family);
    });
}
