//! What the server's end-to-end tests share: the repository and a server started on a folder.

use std::path::{Path, PathBuf};

use carbon_lsp_client::Client;

/// The repository root, read at run time (the shared target directory may hold a test binary
/// built from another checkout).
pub fn repo() -> PathBuf {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    Path::new(&manifest)
        .parent()
        .expect("lsp/ is in the repository")
        .to_path_buf()
}

/// `carbon-lsp` started and initialised on `dir`, its cache (the standard library's copy) in
/// `dir/.cache` so that nothing lands in the real home.
pub fn start(dir: &Path) -> Client {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_carbon-lsp"));
    let cache = dir.join(".cache");
    Client::start_with(&bin, dir, &[("XDG_CACHE_HOME", cache.to_str().unwrap())])
        .expect("the server starts")
}
