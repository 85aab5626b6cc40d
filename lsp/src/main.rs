//! `carbon-lsp`: run by the editor, speaks the Language Server Protocol on stdin and stdout.

// Freeing the results an edit replaces is on the path of every keystroke; mimalloc frees the
// many small allocations of an evaluated program several times faster than the system allocator.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
