//! `carbonc-plan`: from a checked program and a state to a plan, and the plan's renderings.
//!
//! - [`lower`]: the evaluated program becomes [`Desired`] resources: attributes as engine values
//!   ([`carbonc_state::Val`], secrets as keyed hashes), computed attributes, dependencies.
//! - [`diff`]: the planner, a pure function `(desired, state, schemas) -> changes`, in Terraform's
//!   vocabulary (no-op, create, update, replace, delete, read).
//! - [`drive`]: the loop that feeds the state's computed values back into the program until the
//!   plan is stable, so that values known in state are not shown as "known after apply".
//! - [`render`], [`json`], [`dot`]: the plan for people, for tools, and as a picture.
//! - [`Plan`] is a value: saved with `--out`, bound to the state's lineage and serial.
//!
//! Architecture invariant: no IO. Files, locks and AWS are the caller's business; this crate takes
//! a state value and returns a plan value.

pub mod diff;
pub mod dot;
pub mod drive;
pub mod json;
pub mod lower;
mod model;
pub mod render;

pub use diff::plan_changes;
pub use drive::{
    PlanError, PlanRequest, ResolvedInstance, make_plan, resolve_instance, resolve_outputs,
};
pub use lower::Desired;
pub use model::{
    Action, OutputChange, PLAN_FORMAT_VERSION, Plan, RegionRef, ReplaceOrder, ResourceChange,
    StaleError, StateRef, Summary,
};
