//! `carbonc`: the command-line interface. This is the one crate that touches real files; it loads
//! them into the salsa database of `carbonc-sema` and renders what the queries return.

mod check;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

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

#[derive(Subcommand)]
enum Command {
    /// Parse and type-check programs and report every diagnostic.
    #[command(visible_alias = "validate")]
    Check {
        /// Root `.carbon` files; each is checked with everything it imports.
        #[arg(required = true)]
        files: Vec<String>,
        #[arg(long, value_enum, default_value = "human")]
        message_format: MessageFormat,
    },
}

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error: {info}");
        eprintln!("note: this is a bug in carbonc; please report it with the input that caused it");
    }));
    let cli = Cli::parse();
    match cli.command {
        Command::Check {
            files,
            message_format,
        } => check::run(&files, message_format),
    }
}
