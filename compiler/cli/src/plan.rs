//! `carbonc plan FILE`: check the program, read the state, and show what apply would do.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use carbonc_apply::{Event, ExecOptions};
use carbonc_aws::AwsProvider;
use carbonc_cli::load::load_program;
use carbonc_drive::{PlanRequest, make_plan};
use carbonc_plan::Plan;
use carbonc_sema::RootDatabase;
use carbonc_state::{LockGuard, State, StateBackend};
use clap::Args;

use crate::{MessageFormat, report};

/// Options shared by every command that plans (`plan`, `graph`).
#[derive(Args, Clone)]
pub struct PlanArgs {
    /// The root `.carbon` file.
    pub file: String,
    /// The state file [default: `.carbon/<name>.state.json` beside FILE].
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Set a parameter of the root file: `--var name=value` (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read parameters from a file of `name = value` lines (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<String>,
    /// How long to wait for the state lock, e.g. `0s`, `30s`, `5m`.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub lock_timeout: Duration,
    /// Read every resource in the state from AWS first, so that changes made outside carbonc show up.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
    #[arg(long, value_enum, default_value = "human")]
    pub message_format: MessageFormat,
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s.split_at(
        s.find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(s.len()),
    );
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration such as `30s` or `5m`"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("`{s}`: the unit is one of ms, s, m, h")),
    };
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("`{s}` is not a duration carbonc can wait"))
}

/// What a planning command has once the plan is made; the lock is held until it is dropped.
pub struct Planned {
    pub plan: Plan,
    pub db: RootDatabase,
    pub root: carbonc_sema::SourceFile,
    pub backend: Arc<dyn StateBackend>,
    /// The state the plan was made against (after adopting intents, for `apply`).
    pub state: Option<carbonc_state::State>,
    pub key: carbonc_state::SecretKey,
    /// The AWS provider, acting as the program's `provider_role_arn` when it has one.
    pub provider: Arc<AwsProvider>,
    /// Held until the command ends.
    pub _lock: LockGuard,
}

/// A step that may change the state before planning (`apply` adopts what a crash left behind).
pub type BeforePlan<'a> = &'a mut dyn FnMut(
    &mut carbonc_state::State,
    &dyn StateBackend,
    &Arc<AwsProvider>,
) -> Result<(), String>;

/// Loads, locks, reads the state and plans. On failure, everything has been reported and the exit
/// code is returned.
/// `keep_key`: create the secret key file if there is none (a saved plan must be checkable later);
/// otherwise a plan without a key file uses a throwaway key and writes nothing.
pub fn plan_with(args: &PlanArgs, operation: &str, keep_key: bool) -> Result<Planned, ExitCode> {
    plan_with_hook(args, operation, keep_key, None)
}

pub fn plan_with_hook(
    args: &PlanArgs,
    operation: &str,
    keep_key: bool,
    before: Option<BeforePlan<'_>>,
) -> Result<Planned, ExitCode> {
    let fail = |msg: String| {
        report::error(msg);
        ExitCode::from(1)
    };
    let vars = crate::vars::collect(&args.var_files, &args.vars).map_err(fail)?;
    let mut db = RootDatabase::default();
    let root = load_program(&mut db, &args.file)
        .map_err(|why| fail(format!("cannot read `{}`: {why}", args.file)))?;
    db.set_vars(vars);
    db.set_config(carbonc_cli::load::config(&args.file).map_err(fail)?);
    let program = carbonc_sema::evaluate_program(&db, root);
    let provider = AwsProvider::new(program.provider_role_arn.clone());
    provider.set_local_charts(crate::charts::local_charts(program));
    let backend = crate::backend::open(&args.file, args.state.as_deref()).map_err(fail)?;
    for w in backend.warnings() {
        eprintln!("warning: {w}");
    }
    let lock = backend
        .lock(operation, args.lock_timeout)
        .map_err(|e| fail(e.to_string()))?;
    if let Some(dead) = &lock.replaced {
        eprintln!(
            "note: took over the state lock left by `carbonc {}` (pid {}, since {}), which is no longer running",
            dead.operation, dead.pid, dead.created
        );
    }
    let mut state = backend.read().map_err(|e| fail(e.to_string()))?;
    if let (Some(hook), Some(s)) = (before, state.as_mut()) {
        hook(s, backend.as_ref(), &provider).map_err(fail)?;
    }
    // Read what exists now (drift becomes plan changes). `plan` keeps the refreshed state in
    // memory, as Terraform does; the commands that change things record it. `graph` does not read.
    if args.refresh
        && operation != "graph"
        && let Some(s) = state.as_mut()
    {
        refresh_state(s, backend.as_ref(), &provider, operation != "plan").map_err(fail)?;
    }
    let key = match backend
        .existing_secret_key()
        .map_err(|e| fail(e.to_string()))?
    {
        Some(k) => k,
        None if keep_key => backend.secret_key().map_err(|e| fail(e.to_string()))?,
        None => carbonc_state::SecretKey::generate(),
    };
    match make_plan(
        &mut db,
        PlanRequest {
            root,
            state: state.as_ref(),
            key: &key,
        },
    ) {
        Ok(mut plan) => {
            let location = backend.location();
            plan.state.path = Some(if location.starts_with("s3://") {
                location
            } else {
                std::path::absolute(&location)
                    .map_or(location, |p| p.to_string_lossy().into_owned())
            });
            Ok(Planned {
                plan,
                db,
                root,
                backend,
                state,
                key,
                provider,
                _lock: lock,
            })
        }
        Err(diags) => {
            report::diagnostics(&db, &diags, args.message_format);
            Err(ExitCode::from(1))
        }
    }
}

pub fn run(
    args: &PlanArgs,
    json: bool,
    out: Option<&Path>,
    detailed_exitcode: bool,
    no_color: bool,
) -> ExitCode {
    let planned = match plan_with(args, "plan", out.is_some()) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let plan = &planned.plan;
    // Save first: a plan that cannot be saved is an error before anything is shown.
    if let Some(path) = out
        && let Err(e) = planned
            .backend
            .codec()
            .encode_labelled(
                carbonc_plan::json::to_json(plan).as_bytes(),
                &[("root", plan.root.as_str())],
            )
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|bytes| std::fs::write(path, bytes))
    {
        report::error(format!("{}: cannot save the plan: {e}", path.display()));
        return ExitCode::from(1);
    }
    let text = if json {
        carbonc_plan::json::to_json(plan)
    } else {
        carbonc_plan::render::render(plan, !no_color && std::io::stdout().is_terminal())
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    if let Some(path) = out
        && !json
    {
        let _ = writeln!(
            stdout,
            "\nSaved the plan to {}; `carbonc show {}` shows it again.",
            path.display(),
            path.display()
        );
    }
    if detailed_exitcode && plan.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// The runtime of the AWS calls of one command.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
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
