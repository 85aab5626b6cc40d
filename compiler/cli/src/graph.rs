//! `carbonc graph FILE`: the plan DAG as DOT, or rendered by Graphviz (`dot`) as SVG or PNG.

use std::io::Write;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use clap::ValueEnum;

use crate::plan::{PlanArgs, plan_with};
use crate::report;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Svg,
    Png,
}

pub fn run(args: &PlanArgs, format: GraphFormat, out: Option<&Path>) -> ExitCode {
    let planned = match plan_with(args, "graph", false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let dot = carbonc_plan::dot::to_dot(&planned.plan);
    let bytes = match format {
        GraphFormat::Dot => dot.into_bytes(),
        GraphFormat::Svg | GraphFormat::Png => {
            let flag = if format == GraphFormat::Svg {
                "-Tsvg"
            } else {
                "-Tpng"
            };
            let child = Command::new("dot")
                .arg(flag)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn();
            let mut child = match child {
                Ok(c) => c,
                Err(_) => {
                    report::error(
                        "Graphviz is not installed (`dot` was not found); install it (`apt-get install graphviz`, \
                         `brew install graphviz`) or use `--format dot`",
                    );
                    return ExitCode::from(1);
                }
            };
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(dot.as_bytes());
            }
            match child.wait_with_output() {
                Ok(o) if o.status.success() => o.stdout,
                Ok(o) => {
                    report::error(format!(
                        "Graphviz failed: {}",
                        String::from_utf8_lossy(&o.stderr).trim()
                    ));
                    return ExitCode::from(1);
                }
                Err(e) => {
                    report::error(format!("Graphviz failed: {e}"));
                    return ExitCode::from(1);
                }
            }
        }
    };
    match out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &bytes) {
                report::error(format!("{}: cannot write: {e}", path.display()));
                return ExitCode::from(1);
            }
        }
        None => {
            let _ = std::io::stdout().lock().write_all(&bytes);
        }
    }
    ExitCode::SUCCESS
}
