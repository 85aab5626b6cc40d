//! `carbonc-drive`: where the compiler meets the engine.
//!
//! - [`lower`]: the evaluated program becomes [`carbonc_plan::Desired`] resources: attributes as
//!   engine values ([`carbonc_state::Val`], secrets as keyed hashes), computed attributes,
//!   dependencies.
//! - [`drive`]: the loop that feeds the state's computed values back into the program until the
//!   plan is stable, so that values known in state are not shown as "known after apply"; and the
//!   resolution of one resource's values while applying.
//!
//! The plan model, the planner and the renderings live in `carbonc-plan`, which knows nothing of
//! the language, so that the apply engine and the AWS provider do not link the compiler.
//!
//! Architecture invariant: no IO. Files, locks and AWS are the caller's business.

pub mod drive;
pub mod lower;

pub use drive::{
    PlanError, PlanRequest, ResolvedInstance, Resolver, destroy_plan, make_plan, resolve_instance,
    resolve_outputs,
};
