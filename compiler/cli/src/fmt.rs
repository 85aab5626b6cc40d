//! `carbonc fmt [--check] PATH...`: rewrite `.carbon` files in the canonical layout
//! (`carbonc_syntax::format`), or with `--check` list the ones that are not in it. A folder means
//! every `.carbon` file under it. A file with syntax errors is left alone and named, with the first
//! error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::report;

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            let hidden = e
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if !hidden && (e.is_dir() || e.extension().is_some_and(|x| x == "carbon")) {
                collect(&e, out)?;
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

pub fn run(paths: &[PathBuf], check: bool) -> ExitCode {
    let mut files = Vec::new();
    for p in paths {
        if let Err(e) = collect(p, &mut files) {
            report::error(format!("{}: {e}", p.display()));
            return ExitCode::from(1);
        }
    }
    let (mut unformatted, mut failed) = (0, 0);
    for f in &files {
        let src = match std::fs::read_to_string(f) {
            Ok(s) => s,
            Err(e) => {
                report::error(format!("{}: cannot read: {e}", f.display()));
                failed += 1;
                continue;
            }
        };
        let formatted = match carbonc_syntax::format::format(&src) {
            Ok(t) => t,
            Err(e) => {
                report::error(format!(
                    "{}:{}:{}: not formatted: {} (fix the syntax error first; `carbonc check {}` shows it)",
                    f.display(),
                    e.line,
                    e.column,
                    e.message,
                    f.display()
                ));
                failed += 1;
                continue;
            }
        };
        if formatted == src {
            continue;
        }
        unformatted += 1;
        if check {
            println!("{}", f.display());
        } else if let Err(e) = std::fs::write(f, formatted) {
            report::error(format!("{}: cannot write: {e}", f.display()));
            failed += 1;
        } else {
            println!("formatted {}", f.display());
        }
    }
    if check && unformatted > 0 {
        eprintln!("{unformatted} file(s) not formatted; `carbonc fmt` rewrites them");
        return ExitCode::from(1);
    }
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
