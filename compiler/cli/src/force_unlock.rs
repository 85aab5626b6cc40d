//! `carbonc force-unlock ID [FILE]`: remove a lock left by a carbonc that is gone (in the backend
//! FILE's carbon.toml names, or the local state file `--state PATH`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use carbonc_state::{LocalBackend, StateBackend};

use crate::report;

pub fn run(id: &str, file: Option<&str>, state: Option<PathBuf>) -> ExitCode {
    let backend = match (state, file) {
        (Some(p), _) => Ok(Arc::new(LocalBackend::new(p)) as Arc<dyn StateBackend>),
        (None, Some(f)) => crate::backend::open(f, None),
        (None, None) => {
            report::error(
                "name the root file or the state: `carbonc force-unlock ID FILE` or `--state PATH`",
            );
            return ExitCode::from(2);
        }
    };
    let backend = match backend {
        Ok(b) => b,
        Err(e) => {
            report::error(e);
            return ExitCode::from(1);
        }
    };
    match backend.force_unlock(id) {
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
