//! `carbonc-apply`: carrying out a plan.
//!
//! - [`Provider`]: the narrow trait a cloud provider implements, one Verb+Noun call per operation,
//!   each with its own request and response types (Terraform's `ApplyResourceChange` split up).
//! - [`execute`]: the executor. It walks the plan's DAG on tokio, starting every action whose
//!   dependencies are done, at most `parallelism` at a time; records an intent in state before every
//!   create and the result after every action (atomically, through a [`StateSink`]); a failed action
//!   stops only its dependents; a stop request (Ctrl-C) lets in-flight calls finish and leaves the
//!   rest undone, recorded as such.
//! - [`refresh`]: reads every recorded resource so the state says what exists now (drift becomes
//!   plan changes; a resource deleted outside carbonc leaves the state and is planned again).
//! - [`memory::MemoryProvider`]: an in-memory provider for engine tests (ordering, parallelism,
//!   failures, crash adoption). Nothing here talks to AWS.
//!
//! Architecture invariant: no AWS SDK and no file system here: the provider and the state sink are
//! the caller's (the CLI plugs in `carbonc-aws` and the local state backend).

mod executor;
pub mod memory;
mod progress;
mod provider;
mod refresh;

pub use executor::{Event, ExecOptions, Outcome, StateSink, adopt_intents, execute, token};
pub use progress::waiting;
pub use provider::{
    CreateRequest, DeleteRequest, FindRequest, Found, Provider, ProviderError, ReadRequest,
    Resolved, ResolvedAttrs, SecretString, UpdateRequest, address_tag,
};
pub use refresh::{Refreshed, refresh};
