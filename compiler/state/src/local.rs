//! The local backend: one JSON file, replaced atomically.
//!
//! A write goes to a temporary file in the same folder, is flushed to disk, and is renamed over the
//! state (an atomic replace on POSIX file systems); the folder is then flushed so the rename itself
//! survives a crash. The previous state is first copied to `<state>.backup` the same way. A write
//! refuses to replace a file it cannot read, or one of another lineage or a newer serial: a damaged
//! or foreign state is never overwritten.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::backend::StateBackend;
use crate::crypt::Codec;
use crate::format::{self, StateError, backup_path};
use crate::lock::{self, LockError, LockGuard};
use crate::model::State;
use crate::secret::SecretKey;

#[derive(Clone, Debug)]
pub struct LocalBackend {
    pub path: PathBuf,
    /// How the file is encrypted (plain by default).
    pub codec: Codec,
}

fn io<'p>(path: &'p Path, action: &'static str) -> impl FnOnce(std::io::Error) -> StateError + 'p {
    move |error| StateError::Io {
        path: path.to_path_buf(),
        action,
        error,
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Writes `bytes` to `path` through a temporary file, fsync and rename, then fsyncs the folder.
fn replace_atomically(path: &Path, bytes: &[u8], mode: u32) -> Result<(), StateError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io(dir, "create the state folder"))?;
    let tmp = sibling(path, &format!(".tmp-{}", std::process::id()));
    {
        let mut opts = OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, mode);
        let mut f = opts
            .open(&tmp)
            .map_err(io(&tmp, "create a temporary file"))?;
        f.write_all(bytes).map_err(io(&tmp, "write"))?;
        f.sync_all().map_err(io(&tmp, "flush to disk"))?;
    }
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        StateError::Io {
            path: path.to_path_buf(),
            action: "replace",
            error: e,
        }
    })?;
    if let Ok(d) = File::open(dir) {
        d.sync_all().map_err(io(dir, "flush the folder"))?;
    }
    Ok(())
}

impl LocalBackend {
    pub fn new(path: impl Into<PathBuf>) -> LocalBackend {
        LocalBackend {
            path: path.into(),
            codec: Codec::Plain,
        }
    }

    /// The same file, encrypted with `codec` (read either way).
    pub fn with_codec(self, codec: Codec) -> LocalBackend {
        LocalBackend { codec, ..self }
    }

    /// The plain text of the state file's bytes (decrypted when it is an envelope).
    fn text(&self, bytes: &[u8]) -> Result<String, StateError> {
        let plain = self
            .codec
            .decode(bytes)
            .map_err(|error| StateError::Crypt {
                path: self.path.clone(),
                error,
            })?;
        String::from_utf8(plain).map_err(|e| StateError::Parse {
            path: self.path.clone(),
            line: 1,
            column: 1,
            message: format!(
                "not UTF-8 (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        })
    }

    pub fn lock_path(&self) -> PathBuf {
        sibling(&self.path, ".lock")
    }

    pub fn backup_path(&self) -> PathBuf {
        backup_path(&self.path)
    }

    pub fn key_path(&self) -> PathBuf {
        sibling(&self.path, ".key")
    }

    /// The current state, or `None` when there is none yet.
    pub fn read(&self) -> Result<Option<State>, StateError> {
        match fs::read(&self.path) {
            Ok(bytes) => format::parse(&self.path, &self.text(&bytes)?).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError::Io {
                path: self.path.clone(),
                action: "read",
                error: e,
            }),
        }
    }

    /// Replaces the state with `state`, keeping the previous one as the backup. `state.serial` must
    /// be greater than the stored serial, and the lineage the same.
    pub fn write(&self, state: &State) -> Result<(), StateError> {
        let previous = fs::read(&self.path);
        match &previous {
            Ok(bytes) => {
                let old = format::parse(&self.path, &self.text(bytes)?)?;
                if old.lineage != state.lineage {
                    return Err(StateError::Conflict {
                        path: self.path.clone(),
                        message: format!(
                            "refusing to replace a state of lineage {} with one of lineage {}",
                            old.lineage, state.lineage
                        ),
                    });
                }
                if state.serial <= old.serial {
                    return Err(StateError::Conflict {
                        path: self.path.clone(),
                        message: format!(
                            "the state moved on while this command ran (serial {} on disk, writing serial {}); nothing was written",
                            old.serial, state.serial
                        ),
                    });
                }
                replace_atomically(&self.backup_path(), bytes, 0o600)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(_) => {
                let e = previous.expect_err("matched Err");
                return Err(StateError::Io {
                    path: self.path.clone(),
                    action: "read",
                    error: e,
                });
            }
        }
        let bytes = self
            .codec
            .encode(format::to_text(state).as_bytes())
            .map_err(|error| StateError::Crypt {
                path: self.path.clone(),
                error,
            })?;
        replace_atomically(&self.path, &bytes, 0o600)
    }

    /// Takes the exclusive lock, waiting up to `timeout` for another holder to release it.
    pub fn lock(&self, operation: &str, timeout: Duration) -> Result<LockGuard, LockError> {
        lock::acquire(&self.lock_path(), operation, timeout)
    }

    /// Removes the lock with this id, whoever holds it; returns what it said.
    pub fn force_unlock(&self, id: &str) -> Result<crate::LockInfo, LockError> {
        lock::force_unlock(&self.lock_path(), id)
    }

    /// Writes the key of secret hashes, encrypted like the state (plain for a plain state).
    fn write_key(&self, key: &SecretKey) -> Result<(), StateError> {
        let bytes = self
            .codec
            .encode(format!("{}\n", key.to_hex()).as_bytes())
            .map_err(|error| StateError::Crypt {
                path: self.key_path(),
                error,
            })?;
        replace_atomically(&self.key_path(), &bytes, 0o600)
    }

    /// The key of secret hashes, if there is one.
    pub fn existing_secret_key(&self) -> Result<Option<SecretKey>, StateError> {
        let path = self.key_path();
        match fs::read(&path) {
            Ok(bytes) => self
                .codec
                .decode(&bytes)
                .map_err(|error| StateError::Crypt {
                    path: path.clone(),
                    error,
                })
                .and_then(|plain| {
                    SecretKey::from_hex(&String::from_utf8_lossy(&plain))
                        .map(Some)
                        .ok_or_else(|| StateError::Invalid {
                            path: path.clone(),
                            message: "the secret key file does not hold 64 hex digits; restore it from a backup \
                                      (without it, every secret in the state shows as changed once)"
                                .into(),
                        })
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError::Io {
                path,
                action: "read",
                error: e,
            }),
        }
    }

    /// The key of secret hashes, created (mode 0600) on first use.
    pub fn secret_key(&self) -> Result<SecretKey, StateError> {
        if let Some(k) = self.existing_secret_key()? {
            return Ok(k);
        }
        let key = SecretKey::generate();
        self.write_key(&key)?;
        Ok(key)
    }
}

impl StateBackend for LocalBackend {
    fn location(&self) -> String {
        self.path.display().to_string()
    }
    fn read(&self) -> Result<Option<State>, StateError> {
        LocalBackend::read(self)
    }
    fn read_raw(&self) -> Result<Option<Vec<u8>>, StateError> {
        match fs::read(&self.path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError::Io {
                path: self.path.clone(),
                action: "read",
                error: e,
            }),
        }
    }
    fn write(&self, state: &State) -> Result<(), StateError> {
        LocalBackend::write(self, state)
    }
    fn lock(&self, operation: &str, timeout: Duration) -> Result<LockGuard, LockError> {
        LocalBackend::lock(self, operation, timeout)
    }
    fn force_unlock(&self, id: &str) -> Result<crate::LockInfo, LockError> {
        LocalBackend::force_unlock(self, id)
    }
    fn existing_secret_key(&self) -> Result<Option<SecretKey>, StateError> {
        LocalBackend::existing_secret_key(self)
    }
    fn secret_key(&self) -> Result<SecretKey, StateError> {
        LocalBackend::secret_key(self)
    }
    fn replace_secret_key(&self, key: &SecretKey) -> Result<(), StateError> {
        self.write_key(key)
    }
    fn import_secret_key(&self, key: &SecretKey) -> Result<(), StateError> {
        match self.existing_secret_key()? {
            Some(k) if k.to_hex() == key.to_hex() => Ok(()),
            Some(_) => Err(StateError::Conflict {
                path: self.key_path(),
                message: "a different key of secret hashes is already here; nothing was written"
                    .into(),
            }),
            None => self.write_key(key),
        }
    }
    fn codec(&self) -> &Codec {
        &self.codec
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::new_lineage;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("carbonc-state-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d.join("s.state.json")
    }

    #[test]
    fn an_encrypted_state_has_an_encrypted_key_file_and_a_plain_one_still_reads() {
        let path = temp("crypt");
        let plain = LocalBackend::new(&path);
        let old = plain.secret_key().unwrap();
        let sealed = LocalBackend::new(&path).with_codec(Codec::passphrase("p"));
        // A plain key file (from before encryption) is read, and kept when re-encrypted.
        assert_eq!(
            sealed.existing_secret_key().unwrap().map(|k| k.to_hex()),
            Some(old.to_hex())
        );
        sealed.replace_secret_key(&old).unwrap();
        let bytes = fs::read(plain.key_path()).unwrap();
        assert!(crate::crypt::is_encrypted(&bytes));
        assert!(!String::from_utf8_lossy(&bytes).contains(&old.to_hex()));
        assert_eq!(sealed.secret_key().unwrap().to_hex(), old.to_hex());
        assert!(matches!(
            LocalBackend::new(&path)
                .with_codec(Codec::passphrase("wrong"))
                .existing_secret_key(),
            Err(StateError::Crypt { .. })
        ));
    }

    #[test]
    fn write_read_backup() {
        let b = LocalBackend::new(temp("rw"));
        assert_eq!(b.read().unwrap(), None);
        let mut s = State::new(new_lineage());
        s.serial = 1;
        b.write(&s).unwrap();
        assert_eq!(b.read().unwrap().as_ref(), Some(&s));
        assert!(!b.backup_path().exists());
        let mut s2 = s.clone();
        s2.serial = 2;
        b.write(&s2).unwrap();
        assert_eq!(b.read().unwrap().as_ref(), Some(&s2));
        let backup = format::parse(
            &b.backup_path(),
            &fs::read_to_string(b.backup_path()).unwrap(),
        )
        .unwrap();
        assert_eq!(backup, s);
        // A stale write (same serial) and a foreign lineage are refused.
        assert!(matches!(b.write(&s2), Err(StateError::Conflict { .. })));
        let mut other = State::new(new_lineage());
        other.serial = 9;
        assert!(matches!(b.write(&other), Err(StateError::Conflict { .. })));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&b.path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }

    #[test]
    fn damaged_state_is_never_overwritten() {
        let b = LocalBackend::new(temp("damaged"));
        fs::create_dir_all(b.path.parent().unwrap()).unwrap();
        fs::write(&b.path, "{\"format_version\": 1, \"lineage\": ").unwrap();
        let e = b.read().unwrap_err().to_string();
        assert!(
            e.contains("s.state.json:1:") && e.contains("damaged"),
            "{e}"
        );
        let mut s = State::new(new_lineage());
        s.serial = 1;
        assert!(b.write(&s).is_err());
        assert_eq!(
            fs::read_to_string(&b.path).unwrap(),
            "{\"format_version\": 1, \"lineage\": "
        );
    }

    #[test]
    fn secret_key_is_created_once() {
        let b = LocalBackend::new(temp("key"));
        let k1 = b.secret_key().unwrap();
        let k2 = b.secret_key().unwrap();
        assert_eq!(k1.to_hex(), k2.to_hex());
    }
}
