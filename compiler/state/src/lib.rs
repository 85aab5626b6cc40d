//! `carbonc-state`: what carbonc knows about the resources it manages.
//!
//! - [`State`]: the versioned model (format version, lineage, serial, resources with their type,
//!   placement, provider id, last-known attributes and dependencies, outputs).
//! - [`format`]: reading (with an upgrade path for older format versions and errors that name the
//!   file and the JSON position) and writing.
//! - [`LocalBackend`]: the state file on disk, replaced atomically with a backup of the previous
//!   version, guarded by an exclusive lock file.
//! - [`StateBackend`]: where state lives (the local file here; S3 in `carbonc-aws`), and
//!   [`crypt`]: client-side encryption (AES-256-GCM under a KMS data key or a passphrase).
//! - [`SecretKey`]: the key of the keyed hashes that stand for secret values, so that state and plan
//!   files never hold a secret in plain text but a changed secret is still detected.
//!
//! Architecture invariant: this crate knows nothing about the language, salsa or AWS. It is the
//! engine's edge to the file system; the planner that uses it stays pure.

mod backend;
pub mod crypt;
pub mod format;
mod local;
mod lock;
mod model;
mod secret;
mod time;

pub use backend::StateBackend;
pub use crypt::{Codec, CryptError, DataKeys};
pub use format::{CURRENT_FORMAT_VERSION, StateError};
pub use local::LocalBackend;
pub use lock::{LockError, LockGuard, LockInfo, Release, new_info, release_remote_locks};
pub use model::{
    ResourceState, ResourceStatus, State, Val, deposed_address, deposed_base, new_lineage,
};
pub use secret::SecretKey;
pub use time::rfc3339;
