//! A cold check on every core: the per-file queries a check reads are independent of each other
//! (a file's part reads another file's skeleton, not its values), so they can be computed side by
//! side on clones of the database before the check joins them. Whichever thread computes a query,
//! its result is the same; the check that follows finds them computed.

use std::sync::Barrier;
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

/// Computes, on every core, what a check of the program rooted at `root` reads: each file's
/// syntax, names and types; then, when they are free of errors (only then does the check
/// evaluate), each imported file's skeleton, each file's part of the evaluation and its
/// references, and each family of domain rules. Call it before [`crate::check_program`] on a
/// database that has not checked `root` yet. It does nothing on one core, or when one file holds
/// most of the program (one thread would do nearly all the work).
pub fn warm(db: &RootDatabase, root: SourceFile) {
    let files = user_files(db);
    let total: usize = files.iter().map(|f| f.text(db).len()).sum();
    let largest = files.first().map_or(0, |f| f.text(db).len());
    if largest * 2 <= total {
        warm_on(db, root, cores());
    }
}

/// The workspace's files outside the standard library, largest first.
fn user_files(db: &RootDatabase) -> Vec<SourceFile> {
    let mut files: Vec<SourceFile> = db
        .workspace()
        .files(db)
        .iter()
        .filter(|(path, _)| !path.starts_with("std/"))
        .map(|(_, f)| *f)
        .collect();
    files.sort_by_key(|f| std::cmp::Reverse(f.text(db).len()));
    files
}

/// [`warm`] on `threads` threads, however the program is divided into files: the calling thread
/// and `threads - 1` others, the same ones for every phase (each thread allocates from its own
/// arena: fewer threads, less memory).
pub fn warm_on(db: &RootDatabase, root: SourceFile, threads: usize) {
    let files = user_files(db);
    let threads = threads.min(files.len());
    if threads < 2 {
        return;
    }
    let work = Work {
        files,
        next: Default::default(),
        phase_done: Barrier::new(threads),
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            let db = db.clone();
            let work = &work;
            scope.spawn(move || work.run(&db, root));
        }
        work.run(db, root);
    });
}

/// A task of the last phase.
enum Last {
    Policies,
    Cycles,
    Family(u8),
}

/// The phases of [`warm_on`], shared by its threads: each takes the next item of a phase until
/// there is none, then waits for the others before the next phase.
struct Work {
    /// The program's user files, largest first.
    files: Vec<SourceFile>,
    /// The next item of each phase.
    next: [AtomicUsize; 5],
    phase_done: Barrier,
}

impl Work {
    fn run(&self, db: &RootDatabase, root: SourceFile) {
        // Parsing first: a file's check reads its imports' interfaces, which wait for their
        // parses, so checks started beside parses would wait on each other.
        self.each(0, &self.files, |f| {
            crate::parse_file(db, *f);
        });
        self.phase_done.wait();
        self.each(1, &self.files, |f| {
            crate::check_file(db, *f);
        });
        self.phase_done.wait();
        // Every thread comes to the same answer, so all of them go on or none.
        if !crate::rules_ran(db, root) {
            return;
        }
        let program = crate::program_files(db, root);
        let parts: Vec<SourceFile> = self
            .files
            .iter()
            .copied()
            .filter(|f| program.contains(f))
            .collect();
        // The skeletons first (of the files other files can read: not the root's), so that no
        // file's part makes one while it holds its own evaluator.
        let imported: Vec<SourceFile> = parts.iter().copied().filter(|f| *f != root).collect();
        self.each(2, &imported, |f| crate::eval::warm_skeleton(db, root, *f));
        self.phase_done.wait();
        self.each(3, &parts, |f| {
            crate::graph::file_references(db, root, *f);
        });
        self.phase_done.wait();
        // The policies first (the longest: they read the whole program), then the dependency
        // cycles and the rule families.
        let mut last = vec![Last::Policies, Last::Cycles];
        last.extend((0..crate::rules::family_count()).map(Last::Family));
        self.each(4, &last, |task| match task {
            Last::Policies => crate::rules::warm_policies(db, root),
            Last::Cycles => {
                crate::graph::dependency_cycles(db, root);
            }
            Last::Family(family) => crate::rules::warm_family(db, root, *family),
        });
    }

    /// Runs `task` on the items of `phase` that no other thread took. A task that panics (a bug)
    /// is left for the check to run again on its own thread, where it panics as it would have
    /// without warming; the other threads must still reach every barrier.
    fn each<T>(&self, phase: usize, items: &[T], task: impl Fn(&T)) {
        while let Some(it) = items.get(self.next[phase].fetch_add(1, Ordering::Relaxed)) {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| task(it)));
        }
    }
}
