//! The state lock: a lock file created exclusively (`O_CREAT | O_EXCL`), holding who took it, for
//! what, and when. Exactly one of several processes that race for it wins; the others see the
//! holder. The guard removes the file when dropped.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub id: String,
    pub operation: String,
    /// `user@host`.
    pub who: String,
    pub host: String,
    pub pid: u32,
    /// RFC 3339, UTC.
    pub created: String,
    pub version: String,
}

#[derive(Debug)]
pub enum LockError {
    Held {
        path: PathBuf,
        info: Option<Box<LockInfo>>,
        waited: Duration,
    },
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    WrongId {
        path: PathBuf,
        wanted: String,
        info: Option<Box<LockInfo>>,
    },
    NotLocked {
        path: PathBuf,
    },
}

/// The state file a lock file guards (`x.state.json.lock` -> `x.state.json`).
fn state_path(lock: &Path) -> PathBuf {
    PathBuf::from(lock.to_string_lossy().trim_end_matches(".lock").to_string())
}

fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
}

fn process_alive(pid: u32) -> Option<bool> {
    if cfg!(target_os = "linux") {
        Some(Path::new(&format!("/proc/{pid}")).exists())
    } else {
        None
    }
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::Held { path, info, waited } => {
                writeln!(
                    f,
                    "the state is locked by another carbonc ({})",
                    path.display()
                )?;
                match info {
                    Some(i) => {
                        let alive = if i.host == hostname() {
                            match process_alive(i.pid) {
                                Some(true) => ", running",
                                Some(false) => ", no longer running",
                                None => "",
                            }
                        } else {
                            ""
                        };
                        writeln!(f, "  Lock ID:   {}", i.id)?;
                        writeln!(f, "  Holder:    {} (pid {}{alive})", i.who, i.pid)?;
                        writeln!(f, "  Operation: {}", i.operation)?;
                        writeln!(f, "  Since:     {}", i.created)?;
                        write!(
                            f,
                            "  Waited {:.1}s (--lock-timeout). If the holder is gone for good, run `carbonc force-unlock {} --state {}`.",
                            waited.as_secs_f64(),
                            i.id,
                            state_path(path).display()
                        )
                    }
                    None => write!(
                        f,
                        "  The lock file cannot be read; if no carbonc is running, remove {}.",
                        path.display()
                    ),
                }
            }
            LockError::Io { path, error } => {
                write!(f, "{}: cannot take the state lock: {error}", path.display())
            }
            LockError::WrongId { path, wanted, info } => write!(
                f,
                "{}: the lock has ID {}, not {wanted}; nothing was unlocked",
                path.display(),
                info.as_ref().map_or("(unreadable)", |i| i.id.as_str())
            ),
            LockError::NotLocked { path } => {
                write!(f, "{}: the state is not locked", path.display())
            }
        }
    }
}

impl std::error::Error for LockError {}

/// Holds the lock until dropped.
#[derive(Debug)]
pub struct LockGuard {
    path: PathBuf,
    pub info: LockInfo,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Only remove our own lock (it may have been force-unlocked and taken by someone else).
        if read_info(&self.path).is_some_and(|i| i.id == self.info.id) {
            let _ = fs::remove_file(&self.path);
            // Leave no empty `.carbon/` folder behind a command that wrote nothing else.
            if let Some(dir) = self.path.parent() {
                let _ = fs::remove_dir(dir);
            }
        }
    }
}

fn read_info(path: &Path) -> Option<LockInfo> {
    // The winner writes its info right after creating the file; give it a moment.
    for _ in 0..20 {
        if let Ok(text) = fs::read_to_string(path)
            && let Ok(info) = serde_json::from_str(&text)
        {
            return Some(info);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

pub(crate) fn acquire(
    path: &Path,
    operation: &str,
    timeout: Duration,
) -> Result<LockGuard, LockError> {
    let start = Instant::now();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|error| LockError::Io {
            path: path.to_path_buf(),
            error,
        })?;
    }
    let host = hostname();
    let info = LockInfo {
        id: crate::model::new_lineage(),
        operation: operation.to_string(),
        who: format!(
            "{}@{host}",
            std::env::var("USER").unwrap_or_else(|_| "unknown".into())
        ),
        host,
        pid: std::process::id(),
        created: crate::time::rfc3339(SystemTime::now()),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    loop {
        match OpenOptions::new().write(true).create_new(true).open(path) {
            Ok(mut f) => {
                let text = serde_json::to_string_pretty(&info).expect("lock info serialises");
                f.write_all(text.as_bytes())
                    .map_err(|error| LockError::Io {
                        path: path.to_path_buf(),
                        error,
                    })?;
                f.sync_all().map_err(|error| LockError::Io {
                    path: path.to_path_buf(),
                    error,
                })?;
                return Ok(LockGuard {
                    path: path.to_path_buf(),
                    info,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if start.elapsed() >= timeout {
                    return Err(LockError::Held {
                        path: path.to_path_buf(),
                        info: read_info(path).map(Box::new),
                        waited: start.elapsed(),
                    });
                }
                std::thread::sleep(
                    Duration::from_millis(100)
                        .min(timeout.saturating_sub(start.elapsed()))
                        .max(Duration::from_millis(1)),
                );
            }
            Err(error) => {
                return Err(LockError::Io {
                    path: path.to_path_buf(),
                    error,
                });
            }
        }
    }
}

pub(crate) fn force_unlock(path: &Path, id: &str) -> Result<LockInfo, LockError> {
    if !path.exists() {
        return Err(LockError::NotLocked {
            path: path.to_path_buf(),
        });
    }
    let info = read_info(path);
    match &info {
        Some(i) if i.id == id => {
            fs::remove_file(path).map_err(|error| LockError::Io {
                path: path.to_path_buf(),
                error,
            })?;
            Ok(i.clone())
        }
        _ => Err(LockError::WrongId {
            path: path.to_path_buf(),
            wanted: id.to_string(),
            info: info.map(Box::new),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("carbonc-lock-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d.join("s.state.json.lock")
    }

    #[test]
    fn exactly_one_of_many_racers_wins() {
        let path = temp("race");
        let n = 8;
        let barrier = Arc::new(Barrier::new(n));
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    acquire(&path, &format!("op{i}"), Duration::ZERO)
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let winners: Vec<&LockGuard> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1);
        for r in &results {
            if let Err(e) = r {
                let text = e.to_string();
                assert!(
                    text.contains(&winners[0].info.id) && text.contains(&winners[0].info.operation),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn timeout_waits_for_release_and_force_unlock_needs_the_id() {
        let path = temp("wait");
        let g = acquire(&path, "apply", Duration::ZERO).unwrap();
        let id = g.info.id.clone();
        let p2 = path.clone();
        let waiter = std::thread::spawn(move || {
            acquire(&p2, "plan", Duration::from_secs(10)).map(|g| g.info.operation.clone())
        });
        std::thread::sleep(Duration::from_millis(300));
        drop(g);
        assert_eq!(waiter.join().unwrap().unwrap(), "plan");
        assert!(!path.exists(), "the waiter's guard was dropped");
        let g = acquire(&path, "apply", Duration::ZERO).unwrap();
        assert!(matches!(
            force_unlock(&path, "nope"),
            Err(LockError::WrongId { .. })
        ));
        assert_eq!(force_unlock(&path, &g.info.id).unwrap().id, g.info.id);
        assert_ne!(g.info.id, id);
        assert!(matches!(
            force_unlock(&path, "x"),
            Err(LockError::NotLocked { .. })
        ));
    }
}
