//! `carbonc check FILE...`

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use carbonc_diagnostics::{Diagnostic, render_github, render_human, render_json};
use carbonc_sema::{RootDatabase, check_program};

use crate::MessageFormat;
use carbonc_cli::load::load_program;

pub fn run(files: &[String], format: MessageFormat) -> ExitCode {
    let mut db = RootDatabase::default();
    let mut failed = false;
    let mut all: Vec<Diagnostic> = Vec::new();
    for path in files {
        match load_program(&mut db, path) {
            Ok(root) => all.extend(check_program(&db, root).iter().cloned()),
            Err(why) => {
                eprintln!("error: cannot read `{path}`: {why}");
                failed = true;
            }
        }
    }
    all.dedup();
    let source = |p: &str| db.file(p).map(|f| f.text(&db).as_str());
    let out = match format {
        MessageFormat::Human => render_human(&all, &source, std::io::stderr().is_terminal()),
        MessageFormat::Json => render_json(&all, &source),
        MessageFormat::Github => render_github(&all, &source),
    };
    let errors = all.iter().filter(|d| d.is_error()).count();
    let warnings = all.len() - errors;
    if format == MessageFormat::Human {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(out.as_bytes());
        if errors + warnings > 0 {
            let _ = writeln!(
                err,
                "{}: {errors} error(s), {warnings} warning(s)",
                if errors > 0 { "error" } else { "warning" }
            );
        }
    } else {
        let _ = std::io::stdout().lock().write_all(out.as_bytes());
    }
    if failed || errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
