//! `carbonc force-unlock ID [FILE]`: remove a lock left by a carbonc that is gone.

use std::path::PathBuf;
use std::process::ExitCode;

use carbonc_state::LocalBackend;

use crate::report;

pub fn run(id: &str, file: Option<&str>, state: Option<PathBuf>) -> ExitCode {
    let path = match (state, file) {
        (Some(p), _) => p,
        (None, Some(f)) => crate::plan::default_state_path(f),
        (None, None) => {
            report::error(
                "name the root file or the state: `carbonc force-unlock ID FILE` or `--state PATH`",
            );
            return ExitCode::from(2);
        }
    };
    match LocalBackend::new(path).force_unlock(id) {
        Ok(info) => {
            println!(
                "Removed lock {} held by {} (pid {}) for `{}` since {}.",
                info.id, info.who, info.pid, info.operation, info.created
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            report::error(e);
            ExitCode::from(1)
        }
    }
}
