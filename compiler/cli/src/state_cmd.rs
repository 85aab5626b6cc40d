//! `carbonc state list|show|rm|mv`: reading and editing the state's records.

use std::process::ExitCode;

use crate::output::show;
use crate::plan::PlanArgs;
use crate::report;

/// What `carbonc state` is asked to do.
pub enum StateOp<'a> {
    List,
    Show(&'a str),
    Rm(&'a str),
    Mv { from: &'a str, to: &'a str },
}

impl StateOp<'_> {
    fn name(&self) -> &'static str {
        match self {
            StateOp::List => "list",
            StateOp::Show(_) => "show",
            StateOp::Rm(_) => "rm",
            StateOp::Mv { .. } => "mv",
        }
    }
}

/// `carbonc state list|show ADDRESS|rm ADDRESS|mv FROM TO`.
pub fn state_cmd(args: &PlanArgs, op: StateOp<'_>) -> ExitCode {
    let fail = |m: String| {
        report::error(m);
        ExitCode::from(1)
    };
    let backend = match crate::backend::open(&args.file, args.state.as_deref()) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let _lock = if matches!(op, StateOp::Rm(_) | StateOp::Mv { .. }) {
        match backend.lock(&format!("state {}", op.name()), args.lock_timeout) {
            Ok(l) => Some(l),
            Err(e) => return fail(e.to_string()),
        }
    } else {
        None
    };
    let mut state = match backend.read() {
        Ok(Some(s)) => s,
        Ok(None) => return fail(format!("{}: there is no state", backend.location())),
        Err(e) => return fail(e.to_string()),
    };
    match op {
        StateOp::List => {
            for r in &state.resources {
                let status = if r.status == carbonc_state::ResourceStatus::Intent {
                    "  (intent: an interrupted create)"
                } else {
                    ""
                };
                println!("{}{status}", r.address);
            }
        }
        StateOp::Show(a) => {
            let Some(r) = state.resource(a) else {
                return fail(format!("no resource `{a}` in the state"));
            };
            println!("# {}\nresource {} {} {{", r.address, r.ty, r.address);
            println!(
                "    (region) = {}",
                r.region.clone().unwrap_or_else(|| "global".into())
            );
            println!("    (id)     = {}", r.id.clone().unwrap_or_default());
            let width = r.attributes.keys().map(String::len).max().unwrap_or(0);
            for (k, v) in &r.attributes {
                println!("    {k:<width$} = {}", show(v));
            }
            println!("}}");
        }
        StateOp::Rm(a) => {
            let before = state.resources.len();
            state.resources.retain(|r| r.address != a);
            if state.resources.len() == before {
                return fail(format!("no resource `{a}` in the state"));
            }
            state.serial += 1;
            if let Err(e) = backend.write(&state) {
                return fail(e.to_string());
            }
            println!("Removed `{a}` from the state (the resource itself is untouched).");
        }
        StateOp::Mv { from: a, to } => {
            if state.resource(to).is_some() {
                return fail(format!("`{to}` is already in the state"));
            }
            let Some(r) = state.resources.iter_mut().find(|r| r.address == a) else {
                return fail(format!("no resource `{a}` in the state"));
            };
            r.address = to.to_string();
            for r in &mut state.resources {
                for d in &mut r.dependencies {
                    if d == a {
                        *d = to.to_string();
                    }
                }
            }
            state.serial += 1;
            if let Err(e) = backend.write(&state) {
                return fail(e.to_string());
            }
            println!("Moved `{a}` to `{to}`.");
        }
    }
    ExitCode::SUCCESS
}
