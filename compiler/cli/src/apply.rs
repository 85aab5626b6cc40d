//! `carbonc apply FILE` and `carbonc destroy FILE`: plan, confirm, and carry the plan out against
//! AWS through the executor, recording state after every action.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use carbonc_apply::{Event, ExecOptions, Outcome, SecretString, StateSink, adopt_intents, execute};
use carbonc_aws::AwsProvider;
use carbonc_drive::{Resolver, resolve_outputs};
use carbonc_plan::{Action, Plan, ResourceChange};
use carbonc_state::{State, StateBackend, new_lineage};

use crate::output::print_outputs;
use crate::plan::{PlanArgs, Planned, plan_with_hook, runtime};
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

pub(crate) fn confirm(what: &str, auto_approve: bool) -> bool {
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
pub(crate) fn run(planned: &mut Planned, plan: &Plan, parallelism: usize) -> (State, Outcome) {
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

pub(crate) fn summary(outcome: &Outcome, plan: &Plan, what: &str) -> ExitCode {
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

/// Adopts, before planning, what a crashed apply created but did not record.
pub(crate) fn adopt_hook(
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
    if let Err(why) = refuse_unimplemented(&plan).and_then(|()| charts_found(&planned, &plan)) {
        report::error(why);
        return ExitCode::from(1);
    }
    if !confirm("perform these actions", auto_approve) {
        println!("Apply cancelled.");
        return ExitCode::from(1);
    }
    carry_out(&mut planned, &plan, parallelism)
}

/// Refuses, before anything is changed, a plan that changes resources no provider applies, or Helm
/// releases and ClickHouse clusters (installed with Helm) when `helm` cannot be run.
pub(crate) fn refuse_unimplemented(plan: &Plan) -> Result<(), String> {
    let changed = || {
        plan.resource_changes
            .iter()
            .filter(|c| c.action != Action::NoOp)
    };
    let mut pending: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for c in changed().filter(|c| !carbonc_aws::implements(&c.ty)) {
        pending.entry(&c.ty).or_default().push(&c.address);
    }
    if !pending.is_empty() {
        return Err(format!(
            "carbonc cannot create, change or delete these resources: {}; nothing was changed\nhelp: keep them out of the program you apply (docs/aws.md lists what the provider applies; the types generated from CloudFormation's schemas, in stdlib/generated, are checked and planned but not applied yet)",
            listed(&pending),
        ));
    }
    let mut releases: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for c in changed().filter(|c| carbonc_aws::runs_helm(&c.ty)) {
        releases.entry(&c.ty).or_default().push(&c.address);
    }
    if releases.is_empty() {
        return Ok(());
    }
    carbonc_aws::helm_version().map(|_| ()).map_err(|why| {
        format!(
            "the plan installs, upgrades or uninstalls Helm releases ({}), but {why}; nothing was changed\nhelp: install Helm 3.8 or later (https://helm.sh/docs/intro/install/), or set CARBONC_HELM to its path",
            listed(&releases),
        )
    })
}

/// Refuses, before anything is changed, a plan that installs or upgrades a Helm release whose
/// chart is neither a local chart directory nor named in a `repository`.
fn charts_found(planned: &Planned, plan: &Plan) -> Result<(), String> {
    let program = carbonc_sema::evaluate_program(&planned.db, planned.root);
    let local = crate::charts::local_charts(program);
    let mut missing = Vec::new();
    for c in plan.resource_changes.iter().filter(|c| {
        c.ty == carbonc_aws::HELM_RELEASE
            && matches!(c.action, Action::Create | Action::Update | Action::Replace)
    }) {
        let Some(r) = program.instance(&c.address) else {
            continue;
        };
        let has_repository = r
            .get("repository")
            .is_some_and(|v| !matches!(v.reveal(), carbonc_sema::Value::None));
        if has_repository || local.contains_key(&c.address) {
            continue;
        }
        let chart = r
            .get("chart")
            .and_then(|v| v.reveal().as_str().map(str::to_string))
            .unwrap_or_default();
        missing.push(format!(
            "`{}` ({}): no chart at `{chart}` (no {})",
            c.address,
            r.file,
            std::path::Path::new(&*r.file)
                .parent()
                .unwrap_or(std::path::Path::new("."))
                .join(&chart)
                .join("Chart.yaml")
                .display()
        ));
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "Helm releases without a chart: {}; nothing was changed\nhelp: a local chart's path is relative to the file that declares the release; a chart from a repository needs `repository`",
        missing.join("; ")
    ))
}

/// `TYPE (`ADDRESS` and N more)` per type.
fn listed(by_type: &std::collections::BTreeMap<&str, Vec<&str>>) -> String {
    by_type
        .iter()
        .map(|(ty, addrs)| {
            let more = match addrs.len() {
                1 => String::new(),
                n => format!(" and {} more", n - 1),
            };
            format!("{ty} (`{}`{more})", addrs[0])
        })
        .collect::<Vec<_>>()
        .join(", ")
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
    if let Err(why) = refuse_unimplemented(&saved).and_then(|()| charts_found(&planned, &saved)) {
        return fail(why);
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
