//! `carbonc check FILE...`

use std::process::ExitCode;

use carbonc_cli::load::load_program;
use carbonc_diagnostics::Diagnostic;
use carbonc_sema::{RootDatabase, check_program};

use crate::{MessageFormat, report};

pub fn run(files: &[String], format: MessageFormat) -> ExitCode {
    let mut db = RootDatabase::default();
    let mut failed = false;
    let mut all: Vec<Diagnostic> = Vec::new();
    for path in files {
        match load_program(&mut db, path) {
            Ok(root) => match carbonc_cli::load::config(path) {
                Ok(levels) => {
                    db.set_severities(levels);
                    all.extend(check_program(&db, root).iter().cloned());
                }
                Err(why) => {
                    report::error(why);
                    failed = true;
                }
            },
            Err(why) => {
                report::error(format!("cannot read `{path}`: {why}"));
                failed = true;
            }
        }
    }
    all.dedup();
    let errors = report::diagnostics(&db, &all, format);
    if failed || errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
