//! The server's state: one salsa database, the open documents, and how a request gets a snapshot.
//!
//! Requests run on a snapshot (a clone of the database sharing its storage) in a blocking thread.
//! An edit writes the database, which cancels every snapshot still computing; such a request is
//! answered with `ContentModified` so the editor asks again. A panic in a handler is caught,
//! logged, and answered with an internal error: the server keeps running.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use carbonc_sema::{RootDatabase, SourceFile};
use tower_lsp_server::jsonrpc;

use crate::convert::Paths;

pub struct Document {
    pub version: i32,
}

pub struct State {
    pub db: Mutex<RootDatabase>,
    pub open: Mutex<BTreeMap<String, Document>>,
    pub paths: Paths,
}

/// Why a request produced no answer.
pub enum Failed {
    /// An edit arrived while it ran.
    Cancelled,
    /// The handler panicked; the message is logged.
    Panicked(String),
}

impl From<Failed> for jsonrpc::Error {
    fn from(f: Failed) -> jsonrpc::Error {
        match f {
            Failed::Cancelled => jsonrpc::Error {
                code: jsonrpc::ErrorCode::ServerError(-32801),
                message: "content modified".into(),
                data: None,
            },
            Failed::Panicked(m) => jsonrpc::Error {
                code: jsonrpc::ErrorCode::InternalError,
                message: format!("internal error: {m}").into(),
                data: None,
            },
        }
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a handler panicked".into())
}

impl State {
    pub fn new(std_dir: PathBuf) -> State {
        State {
            db: Mutex::new(RootDatabase::default()),
            open: Mutex::new(BTreeMap::new()),
            paths: Paths { std_dir },
        }
    }

    pub fn snapshot(&self) -> RootDatabase {
        self.db.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Runs `f` on a snapshot in a blocking thread, catching cancellation and panics.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&RootDatabase) -> T + Send + 'static,
    ) -> Result<T, Failed> {
        let snap = self.snapshot();
        let joined = tokio::task::spawn_blocking(move || {
            std::panic::catch_unwind(AssertUnwindSafe(|| {
                salsa::Cancelled::catch(AssertUnwindSafe(|| f(&snap)))
            }))
        })
        .await;
        match joined {
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err(_cancelled))) => Err(Failed::Cancelled),
            Ok(Err(p)) => Err(Failed::Panicked(panic_message(&*p))),
            Err(e) => Err(Failed::Panicked(e.to_string())),
        }
    }

    /// Writes the database (an edit). Snapshots still computing are cancelled first.
    pub fn write<T>(&self, f: impl FnOnce(&mut RootDatabase) -> T) -> T {
        let mut db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut db)
    }

    /// Sets `path`'s text and brings in the files it imports that are not loaded yet.
    pub fn set_text(&self, path: &str, text: String) {
        self.write(|db| {
            let f = db.set_file(path, text);
            load_imports(db, f);
        });
    }

    /// The open documents, locked (a handler that panicked while holding them poisons nothing:
    /// the map is taken as it is).
    pub fn documents(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Document>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_open(&self, path: &str) -> bool {
        self.documents().contains_key(path)
    }

    pub fn open_paths(&self) -> Vec<String> {
        self.documents().keys().cloned().collect()
    }

    pub fn file(&self, db: &RootDatabase, path: &str) -> Option<SourceFile> {
        db.file(path)
    }
}

/// Loads every file `root` imports, directly or not, from disk; an unreadable one is recorded so
/// the checker reports it at the import.
/// Brings in the files `root` imports that are not loaded yet (`carbonc_sema::load_imports`, the
/// walk the CLI uses, reading from disk).
pub fn load_imports(db: &mut RootDatabase, root: SourceFile) {
    carbonc_sema::load_imports(db, root, read);
}

pub fn read(path: &str) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "is not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// How much of a workspace folder the server walks: an editor opened on a home directory or `/`
/// must not make it read the whole disk.
pub struct ScanBudget {
    pub files: usize,
    pub entries: usize,
    pub depth: usize,
}

impl Default for ScanBudget {
    fn default() -> ScanBudget {
        ScanBudget {
            files: 5_000,
            entries: 100_000,
            depth: 12,
        }
    }
}

/// The `.carbon` files under `dir`, skipping hidden, dependency and build folders, within `budget`.
pub fn scan(dir: &Path, budget: &mut ScanBudget, out: &mut Vec<PathBuf>) {
    if budget.depth == 0 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if out.len() >= budget.files || budget.entries == 0 {
            return;
        }
        budget.entries -= 1;
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // `symlink_metadata`: a link to a directory is not followed (no cycles).
        let is_dir = std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir());
        if is_dir {
            if !name.starts_with('.') && !matches!(name, "node_modules" | "target") {
                budget.depth -= 1;
                scan(&p, budget, out);
                budget.depth += 1;
            }
        } else if name.ends_with(".carbon") {
            out.push(p);
        }
    }
}

/// Writes the embedded standard library under `dir`, read-only, so that go to definition can
/// open it. Files already there with the same text are left alone.
pub fn write_stdlib(dir: &Path) -> std::io::Result<()> {
    for (path, text) in carbonc_stdlib::FILES
        .iter()
        .chain(carbonc_stdlib::GENERATED)
    {
        let target = dir.join(path);
        if std::fs::read_to_string(&target).is_ok_and(|t| t == *text) {
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if target.exists() {
            let mut perms = std::fs::metadata(&target)?.permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            std::fs::set_permissions(&target, perms)?;
        }
        std::fs::write(&target, text)?;
        let mut perms = std::fs::metadata(&target)?.permissions();
        perms.set_readonly(true);
        std::fs::set_permissions(&target, perms)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn state() -> State {
        State::new(std::env::temp_dir().join("carbon-lsp-state-test"))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_handler_is_caught_and_the_server_still_answers() {
        let s = state();
        s.set_text("/w/a.carbon", "let x = 1\n".into());
        let r: Result<(), Failed> = s.read(|_| panic!("boom in a handler")).await;
        assert!(matches!(r, Err(Failed::Panicked(m)) if m.contains("boom in a handler")));
        let after = s.read(|db| db.file("/w/a.carbon").is_some()).await;
        assert!(matches!(after, Ok(true)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_edit_cancels_a_request_still_running() {
        let s = Arc::new(state());
        s.set_text("/w/a.carbon", "let x = 1\n".into());
        let (started, wait) = std::sync::mpsc::channel();
        let reader = s.clone();
        let running = tokio::spawn(async move {
            reader
                .read(move |db| {
                    let f = db.file("/w/a.carbon").expect("loaded");
                    let _ = started.send(());
                    // A request that would never end, but asks the database as it goes.
                    loop {
                        carbonc_sema::check_program(db, f);
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                })
                .await
        });
        tokio::task::spawn_blocking(move || wait.recv().expect("the request started"))
            .await
            .unwrap();
        s.set_text("/w/a.carbon", "let x = 2\n".into());
        let r: Result<(), Failed> = running.await.unwrap();
        assert!(matches!(r, Err(Failed::Cancelled)));
    }
}
