//! `carbon-lsp`: run by the editor, speaks the Language Server Protocol on stdin and stdout.

fn main() {
    if std::env::args().nth(1).is_some_and(|a| a == "--version") {
        println!("carbon-lsp {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("carbon-lsp: cannot start: {e}");
            std::process::exit(1);
        }
    };
    runtime.block_on(carbon_lsp::serve_stdio());
}
