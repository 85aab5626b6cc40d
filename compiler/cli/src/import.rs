//! `carbonc import`: an existing AWS resource recorded at an address of the program.

use std::collections::BTreeMap;
use std::process::ExitCode;

use carbonc_plan::Action;
use carbonc_state::{State, Val, new_lineage};

use crate::plan::{PlanArgs, plan_with_hook, runtime};
use crate::report;

/// `carbonc import ADDRESS ID FILE`: reads the resource with that id from AWS and records it at
/// ADDRESS, which the program must declare and the state must not have yet. The next plan shows
/// how it differs from the program.
pub fn import(args: &PlanArgs, address: &str, id: &str) -> ExitCode {
    let fail = |m: String| {
        report::error(m);
        ExitCode::from(1)
    };
    let planned = match plan_with_hook(args, "import", true, None) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let Some(change) = planned
        .plan
        .resource_changes
        .iter()
        .find(|c| c.address == address)
    else {
        let mut known: Vec<&str> = planned
            .plan
            .resource_changes
            .iter()
            .map(|c| c.address.as_str())
            .collect();
        known.truncate(8);
        return fail(format!(
            "{}: the program declares no resource `{address}` (some it does declare: {})",
            args.file,
            known.join(", ")
        ));
    };
    if change.action == Action::Read {
        return fail(format!(
            "`{address}` is a lookup; it is read on every apply, not imported"
        ));
    }
    if change.action != Action::Create {
        return fail(format!(
            "`{address}` is already in the state ({}); `carbonc state rm {address} {}` first to import another",
            planned.backend.location(),
            args.file
        ));
    }
    let mut attrs: BTreeMap<String, Val> = change
        .after
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, v)| v.is_known())
        .collect();
    attrs.insert("id".into(), Val::Str(id.to_string()));
    let provider = planned.provider.clone();
    let rt = runtime();
    if let Err(e) = rt.block_on(provider.preflight()) {
        return fail(format!("cannot reach AWS: {e}"));
    }
    let req = carbonc_apply::ReadRequest {
        address: address.to_string(),
        ty: change.ty.clone(),
        region: change.region.clone(),
        id: id.to_string(),
        attrs,
    };
    let found = match rt.block_on(carbonc_apply::Provider::read(provider.as_ref(), req)) {
        Ok(Some(f)) => f,
        Ok(None) => {
            return fail(format!(
                "no {} with id `{id}` in {}",
                change.ty,
                change.region.as_deref().unwrap_or("AWS (global)")
            ));
        }
        Err(e) => {
            return fail(format!(
                "cannot read {} `{id}` in {}: {e}",
                change.ty,
                change.region.as_deref().unwrap_or("AWS (global)")
            ));
        }
    };
    let mut state = planned
        .state
        .clone()
        .unwrap_or_else(|| State::new(new_lineage()));
    state.resources.retain(|r| r.address != address);
    state.resources.push(carbonc_state::ResourceState {
        address: address.to_string(),
        ty: change.ty.clone(),
        region: change.region.clone(),
        id: Some(found.id.clone()),
        status: carbonc_state::ResourceStatus::Created,
        attributes: found.attrs,
        dependencies: change.depends_on.clone(),
        token: None,
    });
    state.serial += 1;
    if let Err(e) = planned.backend.write(&state) {
        return fail(e.to_string());
    }
    println!(
        "{address}: Import complete [id={}]\n\nImported 1 resource into {}. `carbonc plan {}` shows how it differs from the program.",
        found.id,
        planned.backend.location(),
        args.file
    );
    ExitCode::SUCCESS
}
