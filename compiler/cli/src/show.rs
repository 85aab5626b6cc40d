//! `carbonc show PLANFILE`: render a saved plan, refusing one whose state has moved on.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use carbonc_state::LocalBackend;

use crate::report;

pub fn run(planfile: &Path, state: Option<PathBuf>, json: bool, no_color: bool) -> ExitCode {
    let text = match carbonc_cli::load::read(&planfile.to_string_lossy()) {
        Ok(t) => t,
        Err(why) => {
            report::error(format!("cannot read `{}`: {why}", planfile.display()));
            return ExitCode::from(1);
        }
    };
    let plan = match carbonc_plan::json::from_json(&text) {
        Ok(p) => p,
        Err(why) => {
            report::error(format!("{}: {why}", planfile.display()));
            return ExitCode::from(1);
        }
    };
    // The state the plan names (an absolute path), unless told otherwise.
    let path = state
        .or_else(|| plan.state.path.clone().map(PathBuf::from))
        .unwrap_or_else(|| crate::plan::default_state_path(&plan.root));
    let backend = LocalBackend::new(path);
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
