//! The state lock: a lock file created exclusively (`O_CREAT | O_EXCL`), holding who took it, for
//! what, and when. Exactly one of several processes that race for it wins; the others see the
//! holder. The guard removes the file when dropped. A lock whose holder died without removing it
//! (killed, crashed) on this same machine is taken over: its process is no longer running, so no
//! one holds it; a lock from another machine is only ever removed by `force-unlock`.

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
                        let how = if path.to_string_lossy().contains("://") {
                            format!(
                                "`carbonc force-unlock {} FILE` (FILE: the root .carbon file)",
                                i.id
                            )
                        } else {
                            format!(
                                "`carbonc force-unlock {} --state {}`",
                                i.id,
                                state_path(path).display()
                            )
                        };
                        write!(
                            f,
                            "  Waited {:.1}s (--lock-timeout). If the holder is gone for good, run {how}.",
                            waited.as_secs_f64(),
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

/// How a remote lock is released (deleting the S3 lock object).
pub type Release = Box<dyn FnOnce() + Send>;

type Shared = std::sync::Arc<std::sync::Mutex<Option<Release>>>;

/// The remote locks this process holds, so an exit that skips destructors (a second Ctrl-C) can
/// still release them: see [`release_remote_locks`].
static HELD: std::sync::Mutex<Vec<Shared>> = std::sync::Mutex::new(Vec::new());

fn run_release(r: &Shared) {
    let f = r.lock().map(|mut g| g.take()).unwrap_or(None);
    if let Some(f) = f {
        f();
    }
}

/// Releases every remote lock this process holds; for exit paths that do not unwind.
pub fn release_remote_locks() {
    let held = HELD
        .lock()
        .map(|mut h| std::mem::take(&mut *h))
        .unwrap_or_default();
    for r in &held {
        run_release(r);
    }
}

/// Holds the lock until dropped.
pub struct LockGuard {
    path: PathBuf,
    pub info: LockInfo,
    /// The lock of a dead process that this one replaced, for the caller to mention.
    pub replaced: Option<LockInfo>,
    /// For a remote lock: what releases it (instead of removing the lock file).
    remote: Option<Shared>,
}

impl fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("path", &self.path)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl LockGuard {
    /// A lock held in a remote store; `release` runs once, when the guard is dropped.
    pub fn remote(location: impl Into<PathBuf>, info: LockInfo, release: Release) -> LockGuard {
        let shared: Shared = std::sync::Arc::new(std::sync::Mutex::new(Some(release)));
        if let Ok(mut h) = HELD.lock() {
            h.push(shared.clone());
        }
        LockGuard {
            path: location.into(),
            info,
            replaced: None,
            remote: Some(shared),
        }
    }
}

/// Who takes a lock now: a new id, the user and host, this process, the time.
pub fn new_info(operation: &str) -> LockInfo {
    let host = hostname();
    LockInfo {
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
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some(shared) = self.remote.take() {
            if let Ok(mut h) = HELD.lock() {
                h.retain(|x| !std::sync::Arc::ptr_eq(x, &shared));
            }
            run_release(&shared);
            return;
        }
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
    let info = new_info(operation);
    let host = info.host.clone();
    let mut replaced = None;
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
                    replaced,
                    remote: None,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if let Some(dead) = take_over_dead(path, &host) {
                    replaced = Some(dead);
                    continue;
                }
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
            // The folder went away: a released lock removes its empty `.carbon/` folder.
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && start.elapsed() < timeout + Duration::from_secs(1) =>
            {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    let _ = fs::create_dir_all(dir);
                }
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

/// Removes the lock at `path` when its holder is a process of this machine that is no longer
/// running, and returns its info. The lock is moved aside first and checked again, so a lock that
/// another process took in between is put back rather than removed.
fn take_over_dead(path: &Path, host: &str) -> Option<LockInfo> {
    let info = read_info(path)?;
    if info.host != host || process_alive(info.pid) != Some(false) {
        return None;
    }
    let aside = path.with_extension(format!("lock.dead-{}", std::process::id()));
    fs::rename(path, &aside).ok()?;
    let moved = fs::read_to_string(&aside)
        .ok()
        .and_then(|t| serde_json::from_str::<LockInfo>(&t).ok());
    if moved.as_ref().is_some_and(|m| m.id == info.id) {
        let _ = fs::remove_file(&aside);
        Some(info)
    } else {
        // Someone else's fresh lock: put it back (never over a newer one) and wait as usual.
        let _ = fs::hard_link(&aside, path);
        let _ = fs::remove_file(&aside);
        None
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

    /// A lock left by a process that is gone: taken over on this machine, never across machines.
    #[test]
    fn a_dead_holders_lock_is_taken_over_only_on_its_own_machine() {
        let path = temp("dead");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead_pid = child.id();
        child.wait().unwrap();
        let g = acquire(&path, "apply", Duration::ZERO).unwrap();
        let mut info = g.info.clone();
        std::mem::forget(g);
        info.pid = dead_pid;
        fs::write(&path, serde_json::to_string(&info).unwrap()).unwrap();
        let g =
            acquire(&path, "plan", Duration::ZERO).expect("the dead holder's lock is taken over");
        assert_eq!(
            g.replaced.as_ref().map(|i| i.id.as_str()),
            Some(info.id.as_str())
        );
        std::mem::forget(g);
        info.host = "another-machine".into();
        fs::write(&path, serde_json::to_string(&info).unwrap()).unwrap();
        assert!(matches!(
            acquire(&path, "plan", Duration::ZERO),
            Err(LockError::Held { .. })
        ));
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
