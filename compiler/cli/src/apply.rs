//! `carbonc apply FILE` and `carbonc destroy FILE`: plan, confirm, and carry the plan out against
//! AWS through the executor, recording state after every action.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use carbonc_apply::{Event, ExecOptions, Outcome, SecretString, StateSink, adopt_intents, execute};
use carbonc_aws::AwsProvider;
use carbonc_drive::{Resolver, resolve_outputs};
use carbonc_plan::{Action, Plan, ResourceChange};
use carbonc_state::{State, StateBackend, Val, new_lineage};

use crate::plan::{PlanArgs, Planned, plan_with_hook};
use crate::progress::Progress;
use crate::report;

/// The default parallelism: a multi-region footprint spreads its calls over regions and services,
/// and most of an apply is spent waiting for resources (EKS, Aurora) rather than calling APIs, so
/// Terraform's 10 leaves independent regions idle. 32 keeps every region's critical path moving
/// while staying under per-service API rate limits (throttling is retried with backoff anyway).
/// Measured (`cargo run --release -p carbonc-bench -- executor`): with the executor's
/// longest-chain-first order, the three-region footprint finishes within 1% of its critical path
/// at 10 or 32; at eight regions 10 takes 1.7x the critical path and 32 stays within 1%.
pub const DEFAULT_PARALLELISM: usize = 32;

struct FileSink<'a> {
    backend: &'a dyn StateBackend,
}

impl StateSink for FileSink<'_> {
    fn save(&mut self, state: &State) -> Result<(), String> {
        self.backend.write(state).map_err(|e| e.to_string())
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

fn confirm(what: &str, auto_approve: bool) -> bool {
    if auto_approve {
        return true;
    }
    if !std::io::stdin().is_terminal() {
        report::error(format!(
            "{what} needs confirmation: run it in a terminal, or pass `--auto-approve`"
        ));
        return false;
    }
    print!("\nDo you want to {what}? Only `yes` will be accepted: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    line.trim() == "yes"
}

/// Runs `plan` with the AWS provider, printing progress; returns the final state and outcome.
fn run(planned: &mut Planned, plan: &Plan, parallelism: usize) -> (State, Outcome) {
    let provider = planned.provider.clone();
    let rt = runtime();
    let opts = ExecOptions {
        parallelism: parallelism.max(1),
        ..ExecOptions::default()
    };
    let stop = opts.stop.clone();
    // Ctrl-C: stop starting work, let in-flight calls finish, record everything.
    rt.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nInterrupted: finishing the calls in flight, starting nothing new (Ctrl-C again to kill; state is saved after every action)");
            stop.store(true, Ordering::SeqCst);
        }
        // A second Ctrl-C: leave now. As safe as a crash: every finished action is recorded, and
        // the creates under way are intents the next run looks up.
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nKilled: the next `carbonc apply` picks up what was under way");
            carbonc_state::release_remote_locks();
            std::process::exit(130);
        }
    });
    let identity = rt.block_on(provider.preflight());
    if let (Ok(arn), Some(_)) = (&identity, provider.role_arn()) {
        println!("Acting as {arn} (provider_role_arn)");
    }
    if let Err(e) = identity {
        eprintln!("error: cannot reach AWS: {e}");
        return (
            planned
                .state
                .clone()
                .unwrap_or_else(|| State::new(new_lineage())),
            Outcome {
                failed: vec![("(credentials)".into(), e.to_string())],
                ..Outcome::default()
            },
        );
    }
    let state = planned
        .state
        .clone()
        .unwrap_or_else(|| State::new(new_lineage()));
    let mut sink = FileSink {
        backend: planned.backend.as_ref(),
    };
    let key = planned.key.clone();
    let acting = plan
        .resource_changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| c.address.as_str());
    let mut resolver = Resolver::new(&planned.db, planned.root, &state, &key, acting);
    let mut resolve =
        |c: &ResourceChange, s: &State| -> Result<carbonc_apply::ResolvedAttrs, String> {
            let resolved = resolver.resolve(s, &c.address)?;
            Ok((
                resolved.attrs,
                resolved
                    .secrets
                    .into_iter()
                    .map(|(k, v)| (k, SecretString::new(v)))
                    .collect(),
            ))
        };
    let total = plan
        .resource_changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .count();
    let mut progress = Progress::new(total);
    let mut on_event = |e: &Event| progress.event(e);
    let done = rt.block_on(execute(
        plan,
        state,
        provider,
        &mut sink,
        &mut resolve,
        &opts,
        &mut on_event,
    ));
    progress.finish();
    done
}

fn summary(outcome: &Outcome, plan: &Plan, what: &str) -> ExitCode {
    let count = |a: Action| {
        outcome
            .done
            .iter()
            .filter(|d| {
                plan.resource_changes
                    .iter()
                    .any(|c| &c.address == *d && c.action == a)
            })
            .count()
    };
    let replaced = count(Action::Replace);
    if outcome.ok() {
        println!(
            "\n{what} complete! Resources: {} added, {} changed, {} destroyed.",
            count(Action::Create) + replaced,
            count(Action::Update),
            count(Action::Delete) + replaced
        );
        return ExitCode::SUCCESS;
    }
    eprintln!("\n{what} stopped with {} failure(s):", outcome.failed.len());
    for (address, error) in &outcome.failed {
        eprintln!("  ✗ {address}: {error}");
    }
    for (address, because) in &outcome.skipped {
        eprintln!("  - {address}: not attempted ({because})");
    }
    if !outcome.not_started.is_empty() {
        eprintln!(
            "  Left undone (interrupted): {}",
            outcome.not_started.join(", ")
        );
    }
    eprintln!("The state records everything that succeeded; run the command again to continue.");
    ExitCode::from(1)
}

fn print_outputs(outputs: &BTreeMap<String, Val>) {
    if outputs.is_empty() {
        return;
    }
    println!("\nOutputs:\n");
    let width = outputs.keys().map(String::len).max().unwrap_or(0);
    for (k, v) in outputs {
        println!("{k:<width$} = {}", show(v));
    }
}

fn show(v: &Val) -> String {
    match v {
        Val::Sensitive(_) => "(sensitive value)".into(),
        Val::Unknown => "(unknown)".into(),
        v => v.to_json().to_string(),
    }
}

/// Adopts, before planning, what a crashed apply created but did not record.
fn adopt_hook(
    state: &mut State,
    backend: &dyn StateBackend,
    provider: &Arc<AwsProvider>,
) -> Result<(), String> {
    if !state
        .resources
        .iter()
        .any(|r| r.status == carbonc_state::ResourceStatus::Intent)
    {
        return Ok(());
    }
    let (adopted, dropped) = runtime()
        .block_on(adopt_intents(
            state,
            provider.as_ref(),
            std::time::Duration::from_secs(2),
        ))
        .map_err(|e| e.to_string())?;
    for a in &adopted {
        println!("{a}: adopted (created by an interrupted apply)");
    }
    for d in &dropped {
        println!("{d}: not found (an interrupted create); it will be created");
    }
    state.serial += 1;
    backend.write(state).map_err(|e| e.to_string())
}

/// Reads every resource recorded in `state` from AWS (see [`carbonc_apply::refresh`]), with
/// Terraform's `ADDRESS: Refreshing state... [id=ID]` lines on stderr. A resource deleted outside
/// carbonc leaves the state; one changed outside carbonc gets the attributes AWS reports, so the
/// plan shows the change back. `persist` records the refreshed state.
pub fn refresh_state(
    state: &mut State,
    backend: &dyn StateBackend,
    provider: &Arc<AwsProvider>,
    persist: bool,
) -> Result<(), String> {
    let recorded: Vec<(String, String)> = state
        .resources
        .iter()
        .filter(|r| r.status == carbonc_state::ResourceStatus::Created)
        .filter_map(|r| Some((r.address.clone(), r.id.clone()?)))
        .collect();
    if recorded.is_empty() {
        return Ok(());
    }
    let rt = runtime();
    rt.block_on(provider.preflight()).map_err(|e| {
        format!("cannot reach AWS to refresh the state: {e}\n  (`--refresh=false` plans from the state as recorded)")
    })?;
    for (address, id) in &recorded {
        eprintln!("{address}: Refreshing state... [id={id}]");
    }
    let report = rt.block_on(carbonc_apply::refresh(
        state,
        provider.clone(),
        &ExecOptions::default(),
        &mut |e| {
            if let Event::Retrying {
                address,
                attempt,
                error,
            } = e
            {
                eprintln!("{address}: retrying (attempt {attempt}): {error}");
            }
        },
    ));
    for address in &report.gone {
        eprintln!("{address}: deleted outside carbonc; it is no longer in the state");
    }
    for (address, what) in &report.unsupported {
        eprintln!("warning: {address}: not refreshed ({what}); planned from the state as recorded");
    }
    if !report.failed.is_empty() {
        let list = report
            .failed
            .iter()
            .map(|(a, e)| format!("  {a}: {e}"))
            .collect::<Vec<_>>()
            .join("\n");
        return Err(format!(
            "cannot refresh {} resource(s); nothing was changed:\n{list}",
            report.failed.len()
        ));
    }
    if persist && !(report.drifted.is_empty() && report.gone.is_empty()) {
        state.serial += 1;
        backend.write(state).map_err(|e| e.to_string())?;
    }
    Ok(())
}

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

pub fn apply(args: &PlanArgs, auto_approve: bool, parallelism: usize) -> ExitCode {
    match saved_plan(&args.file) {
        Some(Ok(saved)) => return apply_saved(args, &args.file, saved, parallelism),
        Some(Err(why)) => {
            report::error(why);
            return ExitCode::from(1);
        }
        None => {}
    }
    let mut hook = adopt_hook;
    let mut planned = match plan_with_hook(args, "apply", true, Some(&mut hook)) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let plan = planned.plan.clone();
    print!(
        "{}",
        carbonc_plan::render::render(&plan, std::io::stdout().is_terminal())
    );
    if !plan.has_changes() {
        let outputs = planned
            .state
            .as_ref()
            .map(|s| s.outputs.clone())
            .unwrap_or_default();
        print_outputs(&outputs);
        return ExitCode::SUCCESS;
    }
    if !confirm("perform these actions", auto_approve) {
        println!("Apply cancelled.");
        return ExitCode::from(1);
    }
    carry_out(&mut planned, &plan, parallelism)
}

/// A saved plan (`carbonc plan --out FILE`) named where a program was expected: `None` for a
/// `.carbon` file or anything else that is not a plan.
fn saved_plan(path: &str) -> Option<Result<Plan, String>> {
    if path.ends_with(".carbon") {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(64)]).into_owned();
    if !head.trim_start().starts_with('{') {
        return None;
    }
    Some(crate::backend::read_saved_plan(path))
}

/// `carbonc apply PLANFILE`: exactly the saved plan, with no question asked (it was reviewed),
/// refused when the state, the program or the variables differ from when it was made.
fn apply_saved(args: &PlanArgs, planfile: &str, saved: Plan, parallelism: usize) -> ExitCode {
    let fail = |m: String| {
        report::error(m);
        ExitCode::from(1)
    };
    let program = PlanArgs {
        file: saved.root.clone(),
        // The state the plan was made against: a local file by its path; S3 through the root's
        // carbon.toml.
        state: args.state.clone().or_else(|| {
            saved
                .state
                .path
                .clone()
                .filter(|p| !p.starts_with("s3://"))
                .map(std::path::PathBuf::from)
        }),
        refresh: false,
        ..args.clone()
    };
    if !std::path::Path::new(&program.file).exists() {
        return fail(format!(
            "{planfile}: the plan was made for `{}`, which is not here; apply it from the directory it was made in",
            program.file
        ));
    }
    let mut planned = match plan_with_hook(&program, "apply", true, None) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if let Err(stale) = saved.check_fresh(planned.state.as_ref()) {
        return fail(format!("{planfile}: {stale}"));
    }
    if planned.plan.sources_digest != saved.sources_digest {
        return fail(format!(
            "{planfile}: `{}` (or a file it imports) changed since this plan was made; run `carbonc plan` again",
            program.file
        ));
    }
    if planned.plan.variables_digest != saved.variables_digest {
        return fail(format!(
            "{planfile}: the parameters differ from the plan's; pass the same `--var`, `--var-file` and `CARBON_VAR_` values (secrets included)"
        ));
    }
    print!(
        "{}",
        carbonc_plan::render::render(&saved, std::io::stdout().is_terminal())
    );
    if !saved.has_changes() {
        return ExitCode::SUCCESS;
    }
    carry_out(&mut planned, &saved, parallelism)
}

/// Runs `plan`, records the outputs, prints the summary.
fn carry_out(planned: &mut Planned, plan: &Plan, parallelism: usize) -> ExitCode {
    let started = Instant::now();
    let (mut state, outcome) = run(planned, plan, parallelism);
    let outputs = resolve_outputs(&mut planned.db, planned.root, &state, &planned.key);
    state.outputs = outputs
        .iter()
        .filter(|(_, v)| v.is_known())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    state.serial += 1;
    if let Err(e) = planned.backend.write(&state) {
        report::error(e);
        return ExitCode::from(1);
    }
    let code = summary(&outcome, plan, "Apply");
    print_outputs(&state.outputs);
    eprintln!("({:.1}s)", started.elapsed().as_secs_f64());
    code
}

pub fn destroy(args: &PlanArgs, auto_approve: bool, parallelism: usize) -> ExitCode {
    let mut hook = adopt_hook;
    let mut planned = match plan_with_hook(args, "destroy", true, Some(&mut hook)) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let Some(state) = planned.state.clone() else {
        println!("Nothing to destroy: there is no state.");
        return ExitCode::SUCCESS;
    };
    // Every resource in state, deleted dependents first (the executor orders deletions).
    let mut plan = planned.plan.clone();
    plan.resource_changes = state
        .resources
        .iter()
        .filter(|r| r.status == carbonc_state::ResourceStatus::Created)
        .filter(|r| {
            !carbonc_sema::catalog(&planned.db)
                .resources
                .get(&r.ty)
                .is_some_and(|s| s.lookup)
        })
        .map(|r| ResourceChange {
            address: r.address.clone(),
            ty: r.ty.clone(),
            region: r.region.clone(),
            action: Action::Delete,
            replace_order: None,
            replace_reasons: vec![],
            before: Some(r.attributes.clone()),
            after: None,
            depends_on: r.dependencies.clone(),
        })
        .collect();
    plan.summary = carbonc_plan::Summary {
        destroy: plan.resource_changes.len(),
        ..Default::default()
    };
    plan.output_changes.clear();
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
                carbonc_diagnostics::Label::new(&i.file, i.span, "declared here"),
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

/// `carbonc state list|show ADDRESS|rm ADDRESS|mv FROM TO`.
pub fn state_cmd(args: &PlanArgs, op: &str, address: Option<&str>, to: Option<&str>) -> ExitCode {
    let fail = |m: String| {
        report::error(m);
        ExitCode::from(1)
    };
    let backend = match crate::backend::open(&args.file, args.state.as_deref()) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let _lock = if matches!(op, "rm" | "mv") {
        match backend.lock(&format!("state {op}"), args.lock_timeout) {
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
    match (op, address) {
        ("list", _) => {
            for r in &state.resources {
                let status = if r.status == carbonc_state::ResourceStatus::Intent {
                    "  (intent: an interrupted create)"
                } else {
                    ""
                };
                println!("{}{status}", r.address);
            }
        }
        ("show", Some(a)) => {
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
        ("rm", Some(a)) => {
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
        ("mv", Some(a)) => {
            let Some(to) = to else {
                return fail("`state mv` takes FROM and TO".into());
            };
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
        _ => return fail(format!("`state {op}` needs an ADDRESS")),
    }
    ExitCode::SUCCESS
}
