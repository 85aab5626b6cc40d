//! Where state lives: [`StateBackend`], implemented by the local file ([`crate::LocalBackend`]) and
//! by the S3 backend of `carbonc-aws` (the only crate that speaks to AWS). The CLI holds a
//! `dyn StateBackend` and does not care which.

use std::time::Duration;

use crate::crypt::Codec;
use crate::format::StateError;
use crate::lock::{LockError, LockGuard, LockInfo};
use crate::model::State;
use crate::secret::SecretKey;

pub trait StateBackend: Send + Sync {
    /// `.carbon/global.state.json` or `s3://bucket/key`, for messages and saved plans.
    fn location(&self) -> String;
    /// The current state, or `None` when there is none yet.
    fn read(&self) -> Result<Option<State>, StateError>;
    /// The stored bytes as they are (encrypted or not), for re-encryption; a read like `read` (a
    /// later `write` is conditional on it).
    fn read_raw(&self) -> Result<Option<Vec<u8>>, StateError>;
    /// Replaces the state. Refused when the stored state is of another lineage or a newer serial,
    /// or (remote) when it changed since this process read it.
    fn write(&self, state: &State) -> Result<(), StateError>;
    /// Takes the exclusive lock, waiting up to `timeout` for another holder to release it.
    fn lock(&self, operation: &str, timeout: Duration) -> Result<LockGuard, LockError>;
    /// Removes the lock with this id, whoever holds it; returns what it said.
    fn force_unlock(&self, id: &str) -> Result<LockInfo, LockError>;
    /// The key of secret hashes, if there is one.
    fn existing_secret_key(&self) -> Result<Option<SecretKey>, StateError>;
    /// The key of secret hashes, created on first use.
    fn secret_key(&self) -> Result<SecretKey, StateError>;
    /// Stores `key` as the key of secret hashes (when moving a state between backends, so its
    /// hashes stay valid). Refused when a different key is already there.
    fn import_secret_key(&self, key: &SecretKey) -> Result<(), StateError>;
    /// Writes `key` as the key of secret hashes whatever is there (re-encrypting it: `rekey`).
    fn replace_secret_key(&self, key: &SecretKey) -> Result<(), StateError>;
    /// How the state is encrypted.
    fn codec(&self) -> &Codec;
    /// Warnings about the store's setup (an S3 bucket without versioning).
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }
}
