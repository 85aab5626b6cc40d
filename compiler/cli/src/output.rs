//! `carbonc output`: the outputs recorded in the state.

use std::collections::BTreeMap;
use std::process::ExitCode;

use carbonc_state::Val;

use crate::plan::PlanArgs;
use crate::report;

/// `carbonc output [NAME] [--json]`.
pub fn output(args: &PlanArgs, name: Option<&str>, json: bool) -> ExitCode {
    let backend = match crate::backend::open(&args.file, args.state.as_deref()) {
        Ok(b) => b,
        Err(e) => {
            report::error(e);
            return ExitCode::from(1);
        }
    };
    let state = match backend.read() {
        Ok(Some(s)) => s,
        Ok(None) => {
            report::error(format!(
                "{}: there is no state yet; run `carbonc apply {}` first",
                backend.location(),
                args.file
            ));
            return ExitCode::from(1);
        }
        Err(e) => {
            report::error(e);
            return ExitCode::from(1);
        }
    };
    match name {
        Some(n) => match state.outputs.get(n) {
            Some(v) if json => println!("{}", v.to_json()),
            Some(Val::Str(s)) => println!("{s}"),
            Some(v) => println!("{}", show(v)),
            None => {
                report::error(format!(
                    "no output `{n}` in the state (outputs: {})",
                    state.outputs.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
                return ExitCode::from(1);
            }
        },
        None if json => {
            let m: serde_json::Map<String, serde_json::Value> = state
                .outputs
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect();
            println!("{}", serde_json::to_string_pretty(&m).expect("JSON"));
        }
        None => print_outputs(&state.outputs),
    }
    ExitCode::SUCCESS
}

pub(crate) fn print_outputs(outputs: &BTreeMap<String, Val>) {
    if outputs.is_empty() {
        return;
    }
    println!("\nOutputs:\n");
    let width = outputs.keys().map(String::len).max().unwrap_or(0);
    for (k, v) in outputs {
        println!("{k:<width$} = {}", show(v));
    }
}

pub(crate) fn show(v: &Val) -> String {
    match v {
        Val::Sensitive(_) => "(sensitive value)".into(),
        Val::Unknown => "(unknown)".into(),
        v => v.to_json().to_string(),
    }
}
