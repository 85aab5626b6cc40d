//! The state file format: versioned JSON, with an upgrade path and precise errors.
//!
//! Version history:
//! - 1: the first format (this one).
//!
//! A file with a newer version than this carbonc knows is refused, never rewritten. Older versions
//! are upgraded in memory by [`upgrade`], one version at a time; the file is rewritten in the new
//! format only by the next successful write.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::State;

pub const CURRENT_FORMAT_VERSION: u32 = 1;

#[derive(Debug)]
pub enum StateError {
    /// The file is not valid JSON, or not a valid state.
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// Written by a newer carbonc.
    TooNew { path: PathBuf, version: u32 },
    Io {
        path: PathBuf,
        action: &'static str,
        error: std::io::Error,
    },
    /// A companion file (the secret key) is not what it should be.
    Invalid { path: PathBuf, message: String },
    /// The write would replace a state that is not the one it was based on.
    Conflict { path: PathBuf, message: String },
    /// Encrypted, and it cannot be decrypted (no key, a wrong key, a damaged envelope).
    Crypt {
        path: PathBuf,
        error: crate::crypt::CryptError,
    },
    /// A remote store failed (S3 unreachable, access denied).
    Remote { path: PathBuf, message: String },
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::Parse {
                path,
                line,
                column,
                message,
            } => write!(
                f,
                "{}:{line}:{column}: the state file is damaged: {message}\n  carbonc did not change it. Restore it from {} \
                 or from version control, then run the command again.",
                path.display(),
                if path.to_string_lossy().starts_with("s3://") {
                    "the object's previous version (S3 bucket versioning)".to_string()
                } else {
                    format!("`{}` (the previous version)", backup_path(path).display())
                }
            ),
            StateError::TooNew { path, version } => write!(
                f,
                "{}: the state file has format version {version}, but this carbonc ({}) reads versions up to {CURRENT_FORMAT_VERSION}\n  \
                 Upgrade carbonc; this one will not touch the file.",
                path.display(),
                env!("CARGO_PKG_VERSION")
            ),
            StateError::Io {
                path,
                action,
                error,
            } => write!(f, "{}: cannot {action}: {error}", path.display()),
            StateError::Conflict { path, message }
            | StateError::Invalid { path, message }
            | StateError::Remote { path, message } => {
                write!(f, "{}: {message}", path.display())
            }
            StateError::Crypt { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for StateError {}

pub fn backup_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".backup");
    PathBuf::from(s)
}

fn parse_error(path: &Path, e: &serde_json::Error) -> StateError {
    let message = e.to_string();
    // serde_json appends " at line L column C"; the position is reported separately.
    let message = match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    StateError::Parse {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message,
    }
}

/// Parses a state file's text. `path` is for messages.
pub fn parse(path: &Path, text: &str) -> Result<State, StateError> {
    let raw: serde_json::Value = serde_json::from_str(text).map_err(|e| parse_error(path, &e))?;
    let version = raw
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| StateError::Parse {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: "missing `format_version`: this is not a carbonc state file".into(),
        })?;
    let version = u32::try_from(version).unwrap_or(u32::MAX);
    if version > CURRENT_FORMAT_VERSION {
        return Err(StateError::TooNew {
            path: path.to_path_buf(),
            version,
        });
    }
    if version == CURRENT_FORMAT_VERSION {
        // Parse the text itself (not the `Value`), so that errors carry line and column.
        let state: State = serde_json::from_str(text).map_err(|e| parse_error(path, &e))?;
        validate(path, &state)?;
        return Ok(state);
    }
    let upgraded = upgrade(raw, version).map_err(|message| StateError::Parse {
        path: path.to_path_buf(),
        line: 1,
        column: 1,
        message,
    })?;
    let state: State = serde_json::from_value(upgraded).map_err(|e| parse_error(path, &e))?;
    validate(path, &state)?;
    Ok(state)
}

/// Upgrades an older format to the current one, one version at a time.
pub fn upgrade(raw: serde_json::Value, from: u32) -> Result<serde_json::Value, String> {
    // Version 0 never shipped. A future format N + 1 adds a step here:
    // `if from == N { return upgrade(n_to_n_plus_1(raw)?, N + 1); }`
    let _ = &raw;
    Err(format!(
        "format version {from} is not a version carbonc ever wrote"
    ))
}

fn validate(path: &Path, state: &State) -> Result<(), StateError> {
    let mut seen = std::collections::BTreeSet::new();
    for r in &state.resources {
        if !seen.insert(&r.address) {
            return Err(StateError::Parse {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                message: format!("resource `{}` appears twice", r.address),
            });
        }
        if r.attributes.values().any(|v| !v.is_known()) {
            return Err(StateError::Parse {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                message: format!(
                    "resource `{}` has an attribute marked unknown, which only plans may hold",
                    r.address
                ),
            });
        }
    }
    if let Some((name, _)) = state.outputs.iter().find(|(_, v)| !v.is_known()) {
        return Err(StateError::Parse {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: format!("output `{name}` is marked unknown, which only plans may hold"),
        });
    }
    Ok(())
}

/// The state as written: pretty JSON with a trailing newline, stable field order.
pub fn to_text(state: &State) -> String {
    let mut s = serde_json::to_string_pretty(state).expect("a state always serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ResourceState, ResourceStatus, Val};

    fn sample() -> State {
        let mut s = State::new("5f0c6a9e-1111-4222-8333-444455556666".into());
        s.serial = 3;
        s.resources.push(ResourceState {
            address: "db_key[us-east-1]".into(),
            ty: "aws.kms.Key".into(),
            region: Some("us-east-1".into()),
            id: Some("arn:aws:kms:us-east-1:123456789012:key/abc".into()),
            status: ResourceStatus::Created,
            attributes: [("description".to_string(), Val::Str("k".into()))].into(),
            dependencies: vec![],
            token: None,
        });
        s
    }

    #[test]
    fn round_trips() {
        let s = sample();
        assert_eq!(parse(Path::new("s.json"), &to_text(&s)).unwrap(), s);
    }

    #[test]
    fn broken_files_name_the_position() {
        let text = to_text(&sample());
        let truncated = &text[..text.len() / 2];
        let e = parse(Path::new("dir/s.json"), truncated)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("dir/s.json:"), "{e}");
        assert!(
            e.contains("damaged") && e.contains("dir/s.json.backup"),
            "{e}"
        );
        let wrong = text.replace("\"serial\": 3", "\"serial\": \"three\"");
        let e = parse(Path::new("s.json"), &wrong).unwrap_err();
        let StateError::Parse { line, .. } = e else {
            panic!("{e}")
        };
        assert_eq!(line, 4);
    }

    #[test]
    fn versions() {
        let newer = to_text(&sample()).replace("\"format_version\": 1", "\"format_version\": 9");
        assert!(matches!(
            parse(Path::new("s"), &newer),
            Err(StateError::TooNew { version: 9, .. })
        ));
        let ancient = to_text(&sample()).replace("\"format_version\": 1", "\"format_version\": 0");
        assert!(
            parse(Path::new("s"), &ancient)
                .unwrap_err()
                .to_string()
                .contains("carbonc ever wrote")
        );
        assert!(
            parse(Path::new("s"), "{}")
                .unwrap_err()
                .to_string()
                .contains("not a carbonc state file")
        );
    }
}
