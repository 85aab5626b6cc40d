//! Helpers shared by the cross-crate tests.

use carbonc_cli::load::load_program;
use carbonc_diagnostics::{Diagnostic, render_human};
use carbonc_sema::{RootDatabase, check_program};

/// The repository root (tests run with the package directory as working directory).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Checks `path` (relative to the repository root) and returns its diagnostics and their rendering.
pub fn check_path(path: &str) -> (Vec<Diagnostic>, String) {
    std::env::set_current_dir(repo_root()).expect("repository root exists");
    let mut db = RootDatabase::default();
    let root = load_program(&mut db, path).unwrap_or_else(|e| panic!("cannot load {path}: {e}"));
    let diags = check_program(&db, root).clone();
    let source = |p: &str| db.file(p).map(|f| f.text(&db).as_str());
    let rendered = render_human(&diags, &source, false);
    (diags, rendered)
}

/// Every `.carbon` file directly inside `dir` (relative to the repository root), sorted.
pub fn carbon_files(dir: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(repo_root().join(dir))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".carbon"))
                .map(|n| format!("{dir}/{n}"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}
