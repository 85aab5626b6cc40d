//! Printing diagnostics, the same way for every subcommand.

use std::io::{IsTerminal, Write};

use carbonc_diagnostics::{Diagnostic, render_github, render_human, render_json};
use carbonc_sema::RootDatabase;

use crate::MessageFormat;

/// Prints diagnostics (human: stderr; json and github: stdout) and returns the number of errors.
pub fn diagnostics(db: &RootDatabase, diags: &[Diagnostic], format: MessageFormat) -> usize {
    let source = |p: &str| db.file(p).map(|f| f.text(db).as_str());
    let out = match format {
        MessageFormat::Human => render_human(diags, &source, std::io::stderr().is_terminal()),
        MessageFormat::Json => render_json(diags, &source),
        MessageFormat::Github => render_github(diags, &source),
    };
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
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
    errors
}

/// A one-line (or few-line) error that is not about a place in the source.
pub fn error(msg: impl std::fmt::Display) {
    eprintln!("error: {msg}");
}
