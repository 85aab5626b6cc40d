//! Embeds every `.carbon` file of this folder. Listing the folder here (instead of naming files in
//! `lib.rs`) means a new stdlib file needs no code change. Paths stay relative to this package, so
//! Cargo tracks them correctly even when one build directory serves several checkouts.

use std::path::{Path, PathBuf};

fn collect(dir: &Path, root: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "src" && n != "target") {
                collect(&p, root, out);
            }
        } else if p.extension().is_some_and(|e| e == "carbon") {
            out.push(
                p.strip_prefix(root)
                    .expect("inside the package")
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    let mut src = String::from("pub const FILES: &[(&str, &str)] = &[\n");
    for rel in &files {
        println!("cargo:rerun-if-changed={rel}");
        src.push_str(&format!(
            "    ({rel:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{rel}\"))),\n"
        ));
    }
    src.push_str("];\n");
    // New files in the folders appear when a listed folder changes.
    for dir in ["aws", "."] {
        println!("cargo:rerun-if-changed={dir}");
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("files.rs");
    std::fs::write(out, src).expect("OUT_DIR is writable");
}
