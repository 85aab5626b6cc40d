//! `carbon-lsp`: the carbon language server. Thin by design: the protocol, scheduling and
//! conversion live here; every answer comes from `carbonc-ide` over the compiler's own salsa
//! database, so the editor shows exactly what `carbonc check` reports.

mod capabilities;
pub mod convert;
mod handlers;
mod publish;
mod server;
pub mod state;

use std::path::PathBuf;

use tower_lsp_server::{LspService, Server};

/// Where the read-only copy of the standard library goes: `$XDG_CACHE_HOME/carbon-lsp/<version>/std`
/// (or `~/.cache/...`, or the temporary directory).
pub fn std_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("carbon-lsp")
        .join(env!("CARGO_PKG_VERSION"))
        .join("std")
}

/// Serves the protocol on standard input and output until the client exits.
pub async fn serve_stdio() {
    let dir = std_dir();
    if let Err(e) = state::write_stdlib(&dir) {
        eprintln!(
            "carbon-lsp: cannot write the standard library to {}: {e}; go to definition into it will not open",
            dir.display()
        );
    }
    let (service, socket) = LspService::new(|client| server::Server::new(client, dir));
    Server::new(tokio::io::stdin(), tokio::io::stdout(), socket)
        .serve(service)
        .await;
}
