//! `carbonc refresh`: the state brought up to date with what exists in AWS.

use std::process::ExitCode;

use carbonc_plan::Action;

use crate::plan::{PlanArgs, plan_with_hook};

/// `carbonc refresh FILE`: record what exists now in the state, and say what changed.
pub fn refresh(args: &PlanArgs) -> ExitCode {
    let args = PlanArgs {
        refresh: true,
        ..args.clone()
    };
    let planned = match plan_with_hook(&args, "refresh", true, None) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let Some(state) = planned.state.as_ref() else {
        println!("Nothing to refresh: there is no state.");
        return ExitCode::SUCCESS;
    };
    let changes = planned
        .plan
        .resource_changes
        .iter()
        .filter(|c| c.action != Action::NoOp && c.action != Action::Read)
        .count();
    println!(
        "Refreshed {} resource(s) in {}.",
        state.resources.len(),
        planned.backend.location()
    );
    if changes > 0 {
        println!(
            "{changes} resource(s) differ from the program; `carbonc plan {}` shows how.",
            args.file
        );
    }
    ExitCode::SUCCESS
}
