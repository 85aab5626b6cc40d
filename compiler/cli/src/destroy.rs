//! `carbonc destroy`: every resource the state records, deleted dependents first.

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::apply::{adopt_hook, confirm, refuse_unimplemented, run, summary};
use crate::plan::{PlanArgs, plan_with_hook};
use crate::report;

/// `carbonc destroy FILE`.
pub fn destroy(args: &PlanArgs, auto_approve: bool, parallelism: usize) -> ExitCode {
    let mut hook = adopt_hook;
    let mut planned = match plan_with_hook(args, "destroy", true, Some(&mut hook)) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let Some(state) = planned.state.as_ref() else {
        println!("Nothing to destroy: there is no state.");
        return ExitCode::SUCCESS;
    };
    // Every resource in state, deleted dependents first (the executor orders deletions).
    let plan = carbonc_drive::destroy_plan(&planned.db, &planned.plan, state);
    // `prevent_destroy` protects against `destroy` as it does against a replacement.
    let destroyed: std::collections::BTreeSet<&str> = plan
        .resource_changes
        .iter()
        .map(|c| c.address.as_str())
        .collect();
    let program = carbonc_sema::evaluate_program(&planned.db, planned.root);
    let protected: Vec<carbonc_diagnostics::Diagnostic> = program
        .instances
        .iter()
        .filter(|i| i.prevent_destroy && destroyed.contains(i.address.as_str()))
        .map(|i| {
            carbonc_diagnostics::Diagnostic::error(
                "E0118",
                format!("`{}` would be destroyed, but it is marked `prevent_destroy`", i.address),
                carbonc_diagnostics::Label::new(&*i.file, i.span, "declared here"),
            )
            .with_help("remove `prevent_destroy` from its `lifecycle` to destroy it; nothing was destroyed")
        })
        .collect();
    if !protected.is_empty() {
        report::diagnostics(&planned.db, &protected, args.message_format);
        return ExitCode::from(1);
    }
    print!(
        "{}",
        carbonc_plan::render::render_destroy(&plan, std::io::stdout().is_terminal())
    );
    if plan.resource_changes.is_empty() {
        return ExitCode::SUCCESS;
    }
    if let Err(why) = refuse_unimplemented(&plan) {
        report::error(why);
        return ExitCode::from(1);
    }
    if !confirm("destroy all these resources", auto_approve) {
        println!("Destroy cancelled.");
        return ExitCode::from(1);
    }
    let (mut state, outcome) = run(&mut planned, &plan, parallelism);
    state.resources.retain(|r| {
        !carbonc_sema::catalog(&planned.db)
            .resources
            .get(&r.ty)
            .is_some_and(|s| s.lookup)
    });
    if outcome.ok() {
        state.outputs.clear();
    }
    state.serial += 1;
    if let Err(e) = planned.backend.write(&state) {
        report::error(e);
        return ExitCode::from(1);
    }
    summary(&outcome, &plan, "Destroy")
}
