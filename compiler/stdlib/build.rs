//! Embeds every `.carbon` file under the repository's `stdlib/` folder. Listing the folder here
//! (instead of naming files in `lib.rs`) means a new stdlib file needs no code change, and the
//! `rerun-if-changed` lines make Cargo rebuild when any of them is edited.

use std::path::{Path, PathBuf};

fn collect(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, root, out);
        } else if p.extension().is_some_and(|e| e == "carbon") {
            let rel = p
                .strip_prefix(root)
                .expect("under stdlib/")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, p));
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest
        .join("../../stdlib")
        .canonicalize()
        .expect("the stdlib/ folder exists");
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    println!("cargo:rerun-if-changed={}", root.display());
    let mut src = String::from("pub const FILES: &[(&str, &str)] = &[\n");
    for (rel, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        src.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    src.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("files.rs");
    std::fs::write(out, src).expect("OUT_DIR is writable");
}
