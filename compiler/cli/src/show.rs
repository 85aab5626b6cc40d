//! `carbonc show PLANFILE`: render a saved plan, refusing one whose state has moved on.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::report;

pub fn run(planfile: &Path, state: Option<PathBuf>, json: bool, no_color: bool) -> ExitCode {
    let plan = match crate::backend::read_saved_plan(&planfile.to_string_lossy()) {
        Ok(p) => p,
        Err(why) => {
            report::error(why);
            return ExitCode::from(1);
        }
    };
    // The state the plan names (an absolute path or s3://...), unless told otherwise.
    let backend = match crate::backend::of_plan(&plan, state.as_deref()) {
        Ok(b) => b,
        Err(e) => {
            report::error(e);
            return ExitCode::from(1);
        }
    };
    let current = match backend.read() {
        Ok(s) => s,
        Err(e) => {
            report::error(e);
            return ExitCode::from(1);
        }
    };
    if let Err(stale) = plan.check_fresh(current.as_ref()) {
        report::error(format!("{}: {stale}", planfile.display()));
        return ExitCode::from(1);
    }
    let out = if json {
        carbonc_plan::json::to_json(&plan)
    } else {
        carbonc_plan::render::render(&plan, !no_color && std::io::stdout().is_terminal())
    };
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    ExitCode::SUCCESS
}
