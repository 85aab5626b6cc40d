//! `carbonc`: the command-line interface. This is the one crate that touches real files; it loads
//! them into the salsa database of `carbonc-sema` and renders what the queries return.

mod apply;
mod backend;
mod charts;
mod check;
mod destroy;
mod fmt;
mod force_unlock;
mod graph;
mod import;
mod output;
mod plan;
mod progress;
mod reach;
mod refresh;
mod render;
mod report;
mod show;
mod simulate;
mod state_cmd;
mod state_move;
mod vars;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::state_cmd::StateOp;

#[derive(Parser)]
#[command(
    name = "carbonc",
    version,
    about = "A typed language and compiler for multi-region AWS"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum MessageFormat {
    /// Rendered for people, coloured when stdout is a terminal.
    Human,
    /// One JSON object per diagnostic per line.
    Json,
    /// GitHub Actions workflow commands (`::error file=...`).
    Github,
}

/// `carbonc state ...`: each takes the root file last, like every other command.
#[derive(Subcommand)]
enum StateCommand {
    /// Every resource address in the state.
    List {
        #[command(flatten)]
        args: plan::PlanArgs,
    },
    /// One resource's recorded attributes (secrets stay hidden).
    Show {
        /// The resource address, e.g. `vpc[us-east-1]`.
        address: String,
        #[command(flatten)]
        args: plan::PlanArgs,
    },
    /// Forget a resource: carbonc stops managing it; the resource itself is untouched.
    Rm {
        address: String,
        #[command(flatten)]
        args: plan::PlanArgs,
    },
    /// Rename a resource in the state (after renaming it in the program), so it is not replaced.
    Mv {
        from: String,
        to: String,
        #[command(flatten)]
        args: plan::PlanArgs,
    },
    /// Print the state, decrypted, as JSON.
    Pull {
        #[command(flatten)]
        args: plan::PlanArgs,
    },
    /// Write a state file into the backend (same lineage and a newer serial, or no state yet).
    Push {
        /// The state file to push (plain, or encrypted as configured).
        source: PathBuf,
        #[command(flatten)]
        args: plan::PlanArgs,
    },
    /// Copy the state between the local file and the S3 backend of carbon.toml, lineage and
    /// serial kept.
    Migrate {
        /// Where to: `s3` (from the local file) or `local` (from S3).
        #[arg(long)]
        to: String,
        #[command(flatten)]
        args: plan::PlanArgs,
    },
    /// Re-encrypt the state as carbon.toml's [backend] says now (a new data key, KMS key or
    /// passphrase; `CARBONC_STATE_PASSPHRASE_OLD` reads a passphrase-encrypted state).
    Rekey {
        #[command(flatten)]
        args: plan::PlanArgs,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Rewrite `.carbon` files (or every one under a folder) in the canonical layout.
    Fmt {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Change nothing; list the files that are not formatted and exit 1 if there are any.
        #[arg(long)]
        check: bool,
    },
    /// Parse and type-check programs and report every diagnostic.
    #[command(visible_alias = "validate")]
    Check {
        /// Root `.carbon` files; each is checked with everything it imports.
        #[arg(required = true)]
        files: Vec<String>,
        #[arg(long, value_enum, default_value = "human")]
        message_format: MessageFormat,
        /// Carry out the fixes that are certain (shown as `help:`), in place, then check again.
        /// Files with a syntax error are left alone; a fix that brings a new error is undone.
        #[arg(long)]
        fix: bool,
    },
    /// Show what `apply` would do: creates, updates, replacements and deletions, region by region.
    Plan {
        #[command(flatten)]
        args: plan::PlanArgs,
        /// Print the plan as JSON (the format of `docs/plan-json.md`).
        #[arg(long)]
        json: bool,
        /// Save the plan, bound to the current state, for `carbonc apply FILE` or `carbonc show FILE`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Exit 0 when there is nothing to do, 2 when there are changes, 1 on errors.
        #[arg(long)]
        detailed_exitcode: bool,
        /// No colours, even on a terminal.
        #[arg(long)]
        no_color: bool,
    },
    /// Plan, confirm, and make the changes in AWS, recording state after every action. FILE may
    /// also be a plan saved by `carbonc plan --out`: then exactly that plan is applied, without a
    /// question, if the state, the program and the parameters are still those it was made from.
    Apply {
        #[command(flatten)]
        args: plan::PlanArgs,
        /// Do not ask for confirmation.
        #[arg(long)]
        auto_approve: bool,
        /// How many actions run at once.
        #[arg(long, default_value_t = apply::DEFAULT_PARALLELISM)]
        parallelism: usize,
    },
    /// Destroy every resource in the state, dependents first.
    Destroy {
        #[command(flatten)]
        args: plan::PlanArgs,
        #[arg(long)]
        auto_approve: bool,
        #[arg(long, default_value_t = apply::DEFAULT_PARALLELISM)]
        parallelism: usize,
    },
    /// Bring an existing AWS resource under carbonc: record it in the state at ADDRESS.
    Import {
        /// The address in the program, e.g. `vpc[us-east-1]`.
        address: String,
        /// The resource's AWS id: a VPC id, a KMS key id, an IAM role name, a secret ARN, ...
        id: String,
        #[command(flatten)]
        args: plan::PlanArgs,
    },
    /// Read every resource in the state from AWS and record what exists now.
    Refresh {
        #[command(flatten)]
        args: plan::PlanArgs,
    },
    /// Print the outputs recorded by the last apply.
    Output {
        #[command(flatten)]
        args: plan::PlanArgs,
        /// One output only (printed raw, for scripts).
        name: Option<String>,
        /// All outputs as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Inspect or edit the state: `list`, `show`, `rm`, `mv`.
    #[command(subcommand)]
    State(StateCommand),
    /// Show a saved plan (refused when the state has moved on since it was made).
    Show {
        planfile: PathBuf,
        /// The state the plan was made for [default: from the plan's root file].
        #[arg(long)]
        state: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        no_color: bool,
    },
    /// Draw the plan as a graph: DOT, or SVG/PNG through Graphviz.
    Graph {
        #[command(flatten)]
        args: plan::PlanArgs,
        #[arg(long, value_enum, default_value = "dot")]
        format: graph::GraphFormat,
        /// Write to a file instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// What happens to users when regions fail: every single-region failure as a matrix, or one
    /// scenario in detail with `--fail`.
    Simulate {
        #[command(flatten)]
        args: simulate::SimulateArgs,
    },
    /// Write the manifests of the program's Kubernetes network policies, one JSON file per
    /// object under `DIR/REGION/CLUSTER/NAMESPACE/`.
    Render {
        /// The root `.carbon` file.
        file: String,
        /// The directory to write to.
        #[arg(long, short = 'o', value_name = "DIR")]
        out: PathBuf,
        #[arg(long, value_enum, default_value = "human")]
        message_format: MessageFormat,
    },
    /// Remove the state lock with this ID, left behind by a carbonc that is gone.
    ForceUnlock {
        id: String,
        /// The root file whose state is locked.
        file: Option<String>,
        #[arg(long)]
        state: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error: {info}");
        eprintln!("note: this is a bug in carbonc; please report it with the input that caused it");
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                // With `--detailed-exitcode`, 2 means "changes": a usage error must not look like one.
                _ if std::env::args().any(|a| a == "--detailed-exitcode") => ExitCode::from(1),
                _ => ExitCode::from(2),
            };
        }
    };
    match cli.command {
        Command::Fmt { paths, check } => fmt::run(&paths, check),
        Command::Check {
            files,
            message_format,
            fix,
        } => check::run(&files, message_format, fix),
        Command::Plan {
            args,
            json,
            out,
            detailed_exitcode,
            no_color,
        } => plan::run(&args, json, out.as_deref(), detailed_exitcode, no_color),
        Command::Apply {
            args,
            auto_approve,
            parallelism,
        } => apply::apply(&args, auto_approve, parallelism),
        Command::Destroy {
            args,
            auto_approve,
            parallelism,
        } => destroy::destroy(&args, auto_approve, parallelism),
        Command::Refresh { args } => refresh::refresh(&args),
        Command::Import { address, id, args } => import::import(&args, &address, &id),
        Command::Output { args, name, json } => output::output(&args, name.as_deref(), json),
        Command::State(StateCommand::List { args }) => state_cmd::state_cmd(&args, StateOp::List),
        Command::State(StateCommand::Show { address, args }) => {
            state_cmd::state_cmd(&args, StateOp::Show(&address))
        }
        Command::State(StateCommand::Rm { address, args }) => {
            state_cmd::state_cmd(&args, StateOp::Rm(&address))
        }
        Command::State(StateCommand::Mv { from, to, args }) => state_cmd::state_cmd(
            &args,
            StateOp::Mv {
                from: &from,
                to: &to,
            },
        ),
        Command::State(StateCommand::Pull { args }) => state_move::pull(&args),
        Command::State(StateCommand::Push { source, args }) => state_move::push(&source, &args),
        Command::State(StateCommand::Migrate { to, args }) => state_move::migrate(&to, &args),
        Command::State(StateCommand::Rekey { args }) => state_move::rekey(&args),
        Command::Show {
            planfile,
            state,
            json,
            no_color,
        } => show::run(&planfile, state, json, no_color),
        Command::Graph { args, format, out } => graph::run(&args, format, out.as_deref()),
        Command::Simulate { args } => simulate::run(&args),
        Command::Render {
            file,
            out,
            message_format,
        } => render::run(&file, &out, message_format),
        Command::ForceUnlock { id, file, state } => force_unlock::run(&id, file.as_deref(), state),
    }
}
