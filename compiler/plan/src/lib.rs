//! `carbonc-plan`: the plan model, the planner and the plan's renderings. It knows nothing of the
//! language: the compiler side (lowering a program, the plan loop) is `carbonc-drive`, so that the
//! apply engine and the AWS provider, which need the plan model, do not link the compiler.
//!
//! - [`Desired`]: one resource as the configuration wants it, in engine values.
//! - [`diff`]: the planner, a pure function `(desired, state) -> changes`, in Terraform's
//!   vocabulary (no-op, create, update, replace, delete, read).
//! - [`render`], [`json`], [`dot`]: the plan for people, for tools, and as a picture.
//! - [`Plan`] is a value: saved with `--out`, bound to the state's lineage and serial.
//!
//! Architecture invariant: no IO, and no dependency on the compiler (`cargo tree -p carbonc-plan`
//! lists neither salsa nor chumsky). Files, locks and AWS are the caller's business; this crate
//! takes a state value and returns a plan value.

pub mod diff;
pub mod dot;
pub mod json;
mod model;
pub mod render;

pub use diff::plan_changes;
pub use model::{
    Action, Desired, OutputChange, PLAN_FORMAT_VERSION, Plan, RegionRef, ReplaceOrder,
    ResourceChange, StaleError, StateRef, Summary,
};
