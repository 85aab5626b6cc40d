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
            // `generated/` is embedded apart (`GENERATED`): it is read one namespace at a time.
            if p.file_name()
                .is_some_and(|n| n != "src" && n != "target" && n != "generated")
            {
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
    // The generated schemas, one file per namespace, in namespace order.
    let mut generated = Vec::new();
    collect(&root.join("generated"), &root, &mut generated);
    src.push_str("pub const GENERATED: &[(&str, &str)] = &[\n");
    for rel in &generated {
        src.push_str(&format!(
            "    ({rel:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{rel}\"))),\n"
        ));
    }
    src.push_str("];\n");
    // Their resource type names (for completion before a namespace is read), and every name
    // they declare, qualified and sorted (a program reads a namespace when it names one).
    let mut types = Vec::new();
    let mut names = Vec::new();
    for rel in &generated {
        let text = std::fs::read_to_string(root.join(rel)).expect("a generated schema");
        let stem = rel
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .trim_end_matches(".carbon");
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("resource_type ") {
                let name = rest.split(' ').next().unwrap_or_default().to_string();
                types.push(name.clone());
                names.push(name);
            } else if let Some(rest) = line
                .strip_prefix("record ")
                .or_else(|| line.strip_prefix("enum "))
            {
                let name = rest.split(' ').next().unwrap_or_default();
                names.push(format!("aws.{stem}.{name}"));
            }
        }
    }
    names.sort();
    // As one text each, a name a line, and the offsets of the lines: no relocation per name when
    // the binary loads, and a search touches one contiguous block.
    let types_text: String = types.iter().map(|t| format!("{t}\n")).collect();
    let names_text: String = names.iter().map(|t| format!("{t}\n")).collect();
    let mut starts = Vec::new();
    let mut at = 0u32;
    for n in &names {
        starts.push(at);
        at += n.len() as u32 + 1;
    }
    src.push_str(&format!(
        "pub const GENERATED_TYPES: &str = {types_text:?};\n"
    ));
    src.push_str(&format!(
        "pub(crate) const GENERATED_NAMES: &str = {names_text:?};\n"
    ));
    src.push_str(&format!(
        "pub(crate) static GENERATED_NAME_STARTS: [u32; {}] = {starts:?};\n",
        starts.len()
    ));
    // New files in the folders appear when a listed folder changes.
    println!("cargo:rerun-if-changed=generated/unavailable.txt");
    for dir in ["aws", ".", "generated/aws"] {
        println!("cargo:rerun-if-changed={dir}");
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("files.rs");
    std::fs::write(out, src).expect("OUT_DIR is writable");
}
